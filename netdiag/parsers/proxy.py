"""docker-proxy command lines: the userland side of each published port."""

from __future__ import annotations

from netdiag.facts import ProxyProcess
from netdiag.vocab import Protocol


def parse_proxy_cmdline(pid: int, argv: list[str]) -> ProxyProcess | None:
    """`docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80`."""
    if not argv or not argv[0].endswith("docker-proxy"):
        return None
    opts = {}
    for i, word in enumerate(argv[1:], start=1):
        if word.startswith("-") and i + 1 < len(argv):
            opts[word.lstrip("-")] = argv[i + 1]
    try:
        return ProxyProcess(pid, Protocol(opts.get("proto", "tcp")), opts.get("host-ip", ""),
                            int(opts["host-port"]), opts.get("container-ip", ""),
                            int(opts["container-port"]))
    except (KeyError, ValueError):
        return None
