"""RTM_GETROUTE: asking the kernel which route it picks for an address, as `ip route get` does. Pure.

The answer takes everything into account that a routing table read from /proc does not: policy
rules (`ip rule`: a VPN's fwmark or source-based tables), the input interface and source address
of a forwarded packet, and routes that are not in the main table.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
RTA = struct.Struct("=HH")
RTM_NEWROUTE, RTM_GETROUTE, NLMSG_ERROR = 24, 26, 2
RTM_F_LOOKUP_TABLE = 0x1000  # report the table the lookup used (a policy rule's), as `ip route get` asks
NLM_F_REQUEST = 1
RTA_DST, RTA_SRC, RTA_IIF, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC, RTA_TABLE = 1, 2, 3, 4, 5, 7, 15
RT_TABLES = {254: "main", 255: "local", 253: "default"}
RTN_TYPES = {1: "unicast", 2: "local", 3: "broadcast", 6: "blackhole", 7: "unreachable", 8: "prohibit"}


def _attr(kind: int, value: bytes) -> bytes:
    length = RTA.size + len(value)
    return RTA.pack(length, kind) + value + b"\0" * (-length % 4)


def request(destination: str, seq: int, source: str = "", iif: int = 0) -> bytes:
    """An RTM_GETROUTE for an IPv4 destination; with `source` and `iif`, as a packet forwarded
    from that address arriving on that interface."""
    attrs = _attr(RTA_DST, socket.inet_aton(destination))
    if source:
        attrs += _attr(RTA_SRC, socket.inet_aton(source))
    if iif:
        attrs += _attr(RTA_IIF, struct.pack("=i", iif))
    body = RTMSG.pack(socket.AF_INET, 32, 32 if source else 0, 0, 0, 0, 0, 0, RTM_F_LOOKUP_TABLE) + attrs
    return NLMSG.pack(NLMSG.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, seq, 0) + body


def parse(data: bytes, seq: int) -> dict[str, object]:
    """The kernel's answer: {"gateway", "oif", "prefsrc", "table", "type"} or {"error": text}.
    ValueError for a reply that is not the answer to this request."""
    if len(data) < NLMSG.size:
        raise ValueError("short netlink reply")
    length, kind, _, got_seq, _ = NLMSG.unpack_from(data)
    if got_seq != seq:
        raise ValueError("a reply to another request")
    if kind == NLMSG_ERROR:
        code = -struct.unpack_from("=i", data, NLMSG.size)[0]
        return {"error": os.strerror(code) if code else "no error", "errno": errno.errorcode.get(code, str(code))}
    if kind != RTM_NEWROUTE or len(data) < NLMSG.size + RTMSG.size:
        raise ValueError(f"unexpected netlink message {kind}")
    _, _, _, _, table, _, _, rtype, _ = RTMSG.unpack_from(data, NLMSG.size)
    out: dict[str, object] = {"table": RT_TABLES.get(table, str(table)), "type": RTN_TYPES.get(rtype, str(rtype)),
                              "gateway": "", "oif": 0, "prefsrc": ""}
    offset = NLMSG.size + RTMSG.size
    end = min(length, len(data))
    while offset + RTA.size <= end:
        alen, akind = RTA.unpack_from(data, offset)
        if alen < RTA.size:
            break
        value = data[offset + RTA.size:offset + alen]
        if akind == RTA_GATEWAY and len(value) == 4:
            out["gateway"] = socket.inet_ntoa(value)
        elif akind == RTA_PREFSRC and len(value) == 4:
            out["prefsrc"] = socket.inet_ntoa(value)
        elif akind == RTA_OIF and len(value) == 4:
            out["oif"] = struct.unpack("=i", value)[0]
        elif akind == RTA_TABLE and len(value) == 4:
            table = struct.unpack("=I", value)[0]
            out["table"] = RT_TABLES.get(table, str(table))
        offset += (alen + 3) & ~3
    return out
