"""Who holds ports on the Docker host: listening sockets with their processes, Docker's DNAT
rules and docker-proxy processes. Only when the daemon runs on this machine."""

from __future__ import annotations

import socket

from netdiag.facts import Chain, Outcome, PortHolders, ProxyProcess, Socket
from netdiag.parsers.iptables import docker_nat_rules
from netdiag.parsers.proxy import parse_proxy_cmdline
from netdiag.vocab import Protocol


def _listening_sockets() -> list[Socket]:
    import psutil

    names: dict[int, str] = {}
    out = []
    for c in psutil.net_connections(kind="inet"):
        is_tcp = c.type == socket.SOCK_STREAM
        if is_tcp and c.status != psutil.CONN_LISTEN:
            continue
        if not is_tcp and c.raddr:
            continue
        if not c.laddr:
            continue
        name = ""
        if c.pid:
            if c.pid not in names:
                try:
                    names[c.pid] = psutil.Process(c.pid).name()
                except psutil.Error:
                    names[c.pid] = ""
            name = names[c.pid]
        family = 6 if c.family == socket.AF_INET6 else 4
        out.append(Socket(Protocol.TCP if is_tcp else Protocol.UDP, family, c.laddr.ip, c.laddr.port,
                          pid=c.pid, process=name))
    out.sort(key=lambda s: (s.protocol, s.port, s.family, s.address))
    return out


def _proxies() -> list[ProxyProcess]:
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "name", "cmdline"]):
        if p.info.get("name") != "docker-proxy":
            continue
        proxy = parse_proxy_cmdline(p.info["pid"], p.info.get("cmdline") or [])
        if proxy:
            found.append(proxy)
    return sorted(found, key=lambda x: (x.host_port, x.protocol))


def probe_port_holders(local: bool, chains: tuple[Chain, ...], nat_outcome: Outcome) -> PortHolders:
    """Listening sockets of the Docker host (psutil), its DNAT rules and its docker-proxy processes."""
    if not local:
        return PortHolders(Outcome.unavailable(
            "the Docker daemon runs elsewhere: its sockets cannot be read from here"))
    import psutil

    try:
        sockets = _listening_sockets()
        outcome = Outcome(method="psutil")
    except psutil.AccessDenied:
        sockets = []
        outcome = Outcome.unavailable("listing sockets with their processes needs root", "psutil")
    return PortHolders(outcome, tuple(sockets), tuple(docker_nat_rules(list(chains))), nat_outcome,
                       tuple(_proxies()))
