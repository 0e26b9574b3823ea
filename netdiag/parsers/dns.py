"""DNS messages: one A query, and what a resolver's reply says. Pure.

netdiag asks a container's resolver itself (from inside the container's namespace), so that a
name is resolved exactly as the container resolves it, never through the host's resolver. One A
query and its header, question and answer records are all it needs: a few lines of struct
rather than a DNS library in the start-up path.
"""

from __future__ import annotations

import socket
import struct

from netdiag.vocab import DnsResult

HEADER = struct.Struct("!HHHHHH")  # id, flags, questions, answers, authority, additional
TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
RCODES = {0: DnsResult.ANSWERED, 2: DnsResult.SERVFAIL, 3: DnsResult.NXDOMAIN, 5: DnsResult.REFUSED}


class Malformed(ValueError):
    """A reply that is not a DNS answer to our query."""


ROOT_NS = "."  # the root zone: asked for its name servers, the question every resolver answers


def query(name: str, ident: int, qtype: int = TYPE_A) -> bytes:
    """A query for `name` (A records unless `qtype` says otherwise: 2 for NS) with recursion
    desired. ValueError for a name DNS cannot carry."""
    labels = [] if name == ROOT_NS else name.rstrip(".").split(".")
    out = bytearray(HEADER.pack(ident, 0x0100, 1, 0, 0, 0))
    for label in labels:
        raw = label.encode("idna") if not label.isascii() else label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"{name!r} is not a DNS name")
        out += bytes([len(raw)]) + raw
    if len(out) > 255 + HEADER.size:
        raise ValueError(f"{name!r} is too long for DNS")
    return bytes(out + b"\x00" + struct.pack("!HH", qtype, CLASS_IN))


def _skip_name(data: bytes, offset: int) -> int:
    for _ in range(128):
        if offset >= len(data):
            raise Malformed("truncated name")
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:
            return offset + 2
        offset += 1 + length
    raise Malformed("name too long")


def parse_reply(data: bytes, ident: int, qtype: int = TYPE_A) -> tuple[DnsResult, tuple[str, ...]]:
    """(what the resolver said, the addresses it gave: IPv4 for an A query, IPv6 for AAAA).
    Malformed for a foreign or broken reply."""
    if len(data) < HEADER.size:
        raise Malformed("shorter than a DNS header")
    rid, flags, qd, an, _, _ = HEADER.unpack_from(data)
    if rid != ident or not flags & 0x8000:
        raise Malformed("not a reply to this query")
    rcode = flags & 0x000F
    result = RCODES.get(rcode, DnsResult.ERROR)
    offset = HEADER.size
    for _ in range(qd):
        offset = _skip_name(data, offset) + 4
    addresses = []
    for _ in range(an):
        offset = _skip_name(data, offset)
        if offset + 10 > len(data):
            raise Malformed("truncated answer")
        rtype, rclass, _, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        if qtype == TYPE_A and rtype == TYPE_A and rclass == CLASS_IN and length == 4 and offset + 4 <= len(data):
            addresses.append(socket.inet_ntoa(data[offset:offset + 4]))
        elif qtype == TYPE_AAAA and rtype == TYPE_AAAA and rclass == CLASS_IN and length == 16 \
                and offset + 16 <= len(data):
            addresses.append(socket.inet_ntop(socket.AF_INET6, data[offset:offset + 16]))
        offset += length
    if result == DnsResult.ANSWERED and not addresses:
        result = DnsResult.NODATA
    return result, tuple(addresses)
