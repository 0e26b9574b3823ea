"""Listening sockets of another network namespace through NETLINK_SOCK_DIAG, as `ss` reads them.

Reading /proc/<pid>/net/tcp makes the kernel walk its whole socket hash table, a few milliseconds
a file whatever the namespace holds; a sock_diag dump of listening sockets walks the listening
table only. The netlink socket is opened inside the container's namespace by a short-lived
thread that enters it with setns(2) and leaves again (root only); the socket keeps that
namespace, and the thread ends, so no other work ever runs in the container's namespace.
Read-only: a dump request changes nothing.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from netdiag.facts import Socket
from netdiag.parsers import sockdiag
from netdiag.vocab import Protocol

CLONE_NEWNET = 0x40000000
NETLINK_SOCK_DIAG = 4
TIMEOUT = 2.0

_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _socket_in(netns_path: str) -> socket.socket:
    result: dict = {}

    def enter_and_open():
        own = target = -1
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(netns_path, os.O_RDONLY)
            _setns(target)
            try:
                result["sock"] = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
            finally:
                _setns(own)  # should this fail, the thread ends here anyway
        except OSError as e:
            result["error"] = e
        finally:
            for fd in (own, target):
                if fd >= 0:
                    os.close(fd)

    t = threading.Thread(target=enter_and_open, name="netdiag-setns")
    t.start()
    t.join(TIMEOUT)
    if "error" in result:
        raise result["error"]
    if "sock" not in result:
        raise OSError("could not open a netlink socket in the namespace")
    return result["sock"]


def listening(netns_path: str, udp: bool = False) -> tuple[list[Socket], dict[str, str]]:
    """(listening sockets, raw replies as hex) of the namespace at `netns_path` (/proc/PID/ns/net)."""
    sock = _socket_in(netns_path)
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
