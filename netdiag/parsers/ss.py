"""`ss -ltnupH` (iproute2): listening sockets with the processes that hold them.

The Docker host's own `ss`, run by the consented host helper, names who holds a host port when
the daemon is elsewhere (psutil does the same job when it is this machine). Lines look like

    tcp LISTEN 0 4096 0.0.0.0:18080 0.0.0.0:* users:(("docker-proxy",pid=16909,fd=4))
    udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=512,fd=13))
    tcp LISTEN 0 511 [::]:80 [::]:* users:(("nginx",pid=901,fd=7),("nginx",pid=900,fd=7))

and a socket whose process cannot be read has no users:(...) column.
"""

from __future__ import annotations

import re

from netdiag.facts import Socket
from netdiag.vocab import Protocol

_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),')
_STATES = {"tcp": "LISTEN", "udp": "UNCONN"}


def _address(local: str) -> tuple[str, int, int] | None:
    """(address, port, family) of ss's local column: 0.0.0.0:80, [::]:80, *:80, 127.0.0.53%lo:53."""
    host, sep, port = local.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit():
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:"):]
    if host == "*":
        return "0.0.0.0", int(port), 4
    return host, int(port), 6 if ":" in host else 4


def parse_ss(text: str) -> list[Socket]:
    """Listening TCP and bound UDP sockets, one per holding process (the first, when several
    processes share one socket: forked workers of one server)."""
    out: list[Socket] = []
    for line in text.splitlines():
        parts = line.split(None, 6)
        if len(parts) < 6 or _STATES.get(parts[0]) != parts[1]:
            continue
        found = _address(parts[4])
        if found is None:
            continue
        address, port, family = found
        user = _USER.search(parts[6]) if len(parts) > 6 else None
        out.append(Socket(Protocol(parts[0]), family, address, port,
                          pid=int(user.group(2)) if user else None, process=user.group(1) if user else ""))
    out.sort(key=lambda s: (s.protocol, s.port, s.family, s.address))
    return out
