"""ICMP and ICMPv6 packets as a raw socket receives them: building an echo request, and telling an
echo reply or an error about our echo apart from everything else the socket sees. Pure."""

from __future__ import annotations

import struct

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
ERRORS = {4: (3, 11, 12), 6: (1, 2, 3, 4)}  # unreachable, (too big), time exceeded, parameter problem


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def echo_request(family: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An echo request; the kernel fills in ICMPv6's checksum itself."""
    head = struct.pack("!BBHHH", ECHO_REQUEST[family], 0, 0, ident, seq)
    if family == 6:
        return head + payload
    return struct.pack("!BBHHH", ECHO_REQUEST[family], 0, checksum(head + payload), ident, seq) + payload


def _strip_ip(family: int, data: bytes) -> bytes:
    """ICMP as a raw IPv4 socket delivers it has the IP header in front; IPv6 raw sockets strip it."""
    if family == 4:
        if len(data) < 20:
            return b""
        return data[(data[0] & 0x0F) * 4:]
    return data


def match(family: int, data: bytes, ident: int, seq: int, destination: str) -> tuple[str, int, int] | None:
    """("reply"|"error", type, code) when the packet answers our echo (ident, seq) to `destination`,
    else None: an error counts only when the packet it quotes is our echo to that address."""
    icmp = _strip_ip(family, data)
    if len(icmp) < 8:
        return None
    icmp_type, code = icmp[0], icmp[1]
    if icmp_type == ECHO_REPLY[family]:
        got_ident, got_seq = struct.unpack_from("!HH", icmp, 4)
        return ("reply", icmp_type, code) if (got_ident, got_seq) == (ident, seq) else None
    if icmp_type not in ERRORS[family]:
        return None
    quoted = icmp[8:]
    if family == 4:
        if len(quoted) < 20:
            return None
        ihl = (quoted[0] & 0x0F) * 4
        proto, dst = quoted[9], ".".join(str(b) for b in quoted[16:20])
        inner = quoted[ihl:ihl + 8]
        ours = proto == 1 and dst == destination
    else:
        if len(quoted) < 40:
            return None
        import ipaddress

        proto, dst = quoted[6], str(ipaddress.IPv6Address(quoted[24:40]))
        inner = quoted[40:48]
        ours = proto == 58 and dst == str(ipaddress.IPv6Address(destination))
    if not ours or len(inner) < 8 or inner[0] != ECHO_REQUEST[family]:
        return None
    got_ident, got_seq = struct.unpack_from("!HH", inner, 4)
    return ("error", icmp_type, code) if (got_ident, got_seq) == (ident, seq) else None


def next_hop_mtu(family: int, data: bytes) -> int | None:
    """The MTU a "fragmentation needed" (IPv4 type 3 code 4) or "packet too big" (ICMPv6 type 2)
    error names, else None."""
    icmp = _strip_ip(family, data)
    if len(icmp) < 8:
        return None
    if family == 4 and icmp[0] == 3 and icmp[1] == 4:
        return int(struct.unpack_from("!H", icmp, 6)[0]) or None
    if family == 6 and icmp[0] == 2:
        return int(struct.unpack_from("!I", icmp, 4)[0]) or None
    return None
