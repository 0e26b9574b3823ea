"""NETLINK_SOCK_DIAG messages (what `ss` reads): requests for listening sockets, and their replies.

Pure: bytes in, Socket records out. The probe that sends them is netdiag.probes.sockdiag.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from netdiag.facts import Socket
from netdiag.parsers.procnet import EMBEDDED_DNS
from netdiag.vocab import Protocol

SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
TCP_LISTEN, TCP_CLOSE = 10, 7  # a bound, unconnected UDP socket is in TCP_CLOSE

NLMSGHDR = struct.Struct("=IHHII")
REQ_V2 = struct.Struct("=BBBBI")  # family, protocol, ext, pad, states; then the 48-byte sockid
DIAG_MSG = struct.Struct("=BBBB")  # family, state, timer, retrans; then sockid, then 5 u32
SOCKID_LEN = 48
NLATTR = struct.Struct("=HH")  # length (with this header), type; the value, padded to 4 bytes
INET_DIAG_SKV6ONLY = 11  # u8, sent for every AF_INET6 socket: IPV6_V6ONLY


def request(family: int, protocol: int, seq: int = 1) -> bytes:
    """A dump request for the listening sockets of one family and protocol."""
    state = TCP_LISTEN if protocol == socket.IPPROTO_TCP else TCP_CLOSE
    body = REQ_V2.pack(family, protocol, 0, 0, 1 << state) + bytes(SOCKID_LEN)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def parse(data: bytes, protocol: Protocol) -> tuple[list[Socket], bool]:
    """(sockets, done) from one or more reply datagrams; raises OSError on a netlink error."""
    out, pos, done = [], 0, False
    while pos + NLMSGHDR.size <= len(data):
        length, kind, _, _, _ = NLMSGHDR.unpack_from(data, pos)
        if length < NLMSGHDR.size:
            break
        body = data[pos + NLMSGHDR.size:pos + length]
        pos += (length + 3) & ~3
        if kind == NLMSG_DONE:
            done = True
            break
        if kind == NLMSG_ERROR:
            code = -struct.unpack_from("=i", body)[0]
            if code:
                raise OSError(code, "sock_diag")
            continue
        if kind != SOCK_DIAG_BY_FAMILY or len(body) < DIAG_MSG.size + SOCKID_LEN + 20:
            continue
        family = body[0]
        sport = struct.unpack_from(">H", body, 4)[0]
        raw_src = body[8:24]
        inode = struct.unpack_from("=I", body, DIAG_MSG.size + SOCKID_LEN + 16)[0]
        if family == socket.AF_INET:
            address, fam = str(ipaddress.IPv4Address(raw_src[:4])), 4
        else:
            ip6 = ipaddress.IPv6Address(raw_src)
            address, fam = (str(ip6.ipv4_mapped) if ip6.ipv4_mapped else str(ip6)), 6
        v6only = _v6only(body[DIAG_MSG.size + SOCKID_LEN + 20:]) if family == socket.AF_INET6 else None
        out.append(Socket(protocol, fam, address, sport, inode=inode,
                          note="Docker embedded DNS" if address == EMBEDDED_DNS else "", v6only=v6only))
    return out, done


def _v6only(attrs: bytes) -> bool | None:
    """IPV6_V6ONLY from the attributes after an AF_INET6 socket's record; None when absent."""
    pos = 0
    while pos + NLATTR.size <= len(attrs):
        length, kind = NLATTR.unpack_from(attrs, pos)
        if length < NLATTR.size:
            break
        if kind == INET_DIAG_SKV6ONLY and length >= NLATTR.size + 1:
            return bool(attrs[pos + NLATTR.size])
        pos += (length + 3) & ~3
    return None
