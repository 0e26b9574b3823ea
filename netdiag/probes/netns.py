"""Sockets that live in another network namespace, opened without running anything there.

A short-lived thread enters the namespace with setns(2), opens the socket and leaves again (root
only). The socket keeps the namespace it was made in, so its connects, queries and netlink dumps
see that namespace's addresses, routes and firewall, while netdiag itself, and every other
thread, never leaves its own. Nothing is started in the container and nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
TIMEOUT = 2.0

_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def socket_in(netns_path: str, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket made inside the network namespace at `netns_path` (/proc/PID/ns/net). OSError
    when the namespace cannot be entered (not root, the process gone)."""
    result: dict = {}

    def enter_and_open():
        own = target = -1
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(netns_path, os.O_RDONLY)
            _setns(target)
            try:
                result["sock"] = socket.socket(family, kind, proto)
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
        raise OSError("could not open a socket in the namespace")
    return result["sock"]


def opener(netns_path: str):
    """socket.socket's signature, opening in that namespace: for probes that take a socket maker."""
    return lambda family, kind, proto=0: socket_in(netns_path, family, kind, proto)
