"""Interfaces and routes of the machine netdiag runs on (its own network namespace)."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys

from netdiag.facts import HostNet, Interface, Outcome
from netdiag.parsers.routes import parse_ipv4_routes, parse_ipv6_routes, parse_netstat_routes
from netdiag.probes.runner import read_text, run_command

ROUTE_FILES = ("/proc/net/route", "/proc/net/ipv6_route")


def prefix_len(netmask: str) -> int:
    """255.255.255.0 -> 24, ffff:ffff:ffff:ffff:: -> 64."""
    return bin(int(ipaddress.ip_address(netmask))).count("1")


def _interfaces() -> list[Interface]:
    import psutil

    stats = psutil.net_if_stats()
    out = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        cidrs, mac = [], ""
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                addr = a.address.split("%")[0]
                full = 32 if a.family == socket.AF_INET else 128
                cidrs.append(f"{addr}/{prefix_len(a.netmask) if a.netmask else full}")
            elif a.family == psutil.AF_LINK:
                mac = a.address
        st = stats.get(name)
        out.append(Interface(name, tuple(cidrs), st.isup if st else None, mac))
    return out


NETSTAT = ["netstat", "-rn", "-f", "inet"]  # macOS and the BSDs, which have no /proc/net/route


def probe_hostnet(role: str = "client") -> HostNet:
    """This machine's interfaces (psutil) and routes (/proc/net/route, /proc/net/ipv6_route; on
    macOS the system's own table through `netstat -rn`)."""
    raw = {}
    routes = []
    for path, parse in zip(ROUTE_FILES, (parse_ipv4_routes, parse_ipv6_routes)):
        try:
            raw[path] = read_text(path)
        except OSError:
            continue
        routes.extend(parse(raw[path]))
    if not raw and sys.platform == "darwin":
        try:
            code, out, _ = run_command(NETSTAT)
            if code == 0:
                raw[" ".join(NETSTAT)] = out
                routes.extend(parse_netstat_routes(out))
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        interfaces = _interfaces()
    except Exception as e:  # psutil raises its own errors when /proc or /sys is odd
        return HostNet(Outcome.failed(f"cannot list interfaces: {e}"), role, socket.gethostname(),
                       routes=tuple(routes), raw=raw)
    outcome = Outcome(method="psutil, " + ", ".join(raw)) if raw else Outcome.unavailable(
        "no /proc/net/route here, and no netstat -rn: routes unknown", "psutil")
    return HostNet(outcome, role, socket.gethostname(), tuple(interfaces), tuple(routes), raw)


def local_addresses(net: HostNet) -> set[str]:
    return {cidr.split("/")[0] for i in net.interfaces for cidr in i.addresses}
