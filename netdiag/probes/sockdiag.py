"""Listening sockets of another network namespace through NETLINK_SOCK_DIAG, as `ss` reads them.

Reading /proc/<pid>/net/tcp makes the kernel walk its whole socket hash table, a few milliseconds
a file whatever the namespace holds; a sock_diag dump of listening sockets walks the listening
table only. The netlink socket is opened inside the container's namespace (netdiag.probes.netns), so no
other work ever runs there.
Read-only: a dump request changes nothing.
"""

from __future__ import annotations

import socket

from netdiag.facts import Socket
from netdiag.parsers import sockdiag
from netdiag.probes.netns import socket_in
from netdiag.vocab import Protocol

NETLINK_SOCK_DIAG = 4
TIMEOUT = 2.0


def listening(netns_path: str, udp: bool = False) -> tuple[list[Socket], dict[str, str]]:
    """(listening sockets, raw replies as hex) of the namespace at `netns_path` (/proc/PID/ns/net)."""
    sock = socket_in(netns_path, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    sock.settimeout(TIMEOUT)
    found: list[Socket] = []
    raw: dict[str, str] = {}
    queries = [(family, socket.IPPROTO_TCP, Protocol.TCP) for family in (socket.AF_INET, socket.AF_INET6)]
    if udp:
        queries += [(family, socket.IPPROTO_UDP, Protocol.UDP) for family in (socket.AF_INET, socket.AF_INET6)]
    try:
        for seq, (family, proto, name) in enumerate(queries, 1):
            sock.send(sockdiag.request(family, proto, seq))
            chunks = []
            while True:
                data = sock.recv(65536)
                chunks.append(data)
                socks, done = sockdiag.parse(data, name)
                found += socks
                if done or not data:
                    break
            raw[f"sock_diag {name}{'6' if family == socket.AF_INET6 else ''}"] = b"".join(chunks).hex()
    finally:
        sock.close()
    found.sort(key=lambda s: (s.protocol, s.port, s.family, s.address))
    return found, raw
