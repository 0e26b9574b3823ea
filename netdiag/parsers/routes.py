"""/proc/net/route and /proc/net/ipv6_route: the routing table, and which route a packet takes."""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable

from netdiag.addr import address as parse_address
from netdiag.addr import network
from netdiag.facts import Route

RTF_UP = 0x1


def _ipv4_le(hex_addr: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(hex_addr, 16)))


def parse_ipv4_routes(text: str) -> list[Route]:
    """/proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ..."""
    routes = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            flags = int(parts[3], 16)
            if not flags & RTF_UP:
                continue
            dest = _ipv4_le(parts[1])
            gw = _ipv4_le(parts[2])
            mask = _ipv4_le(parts[7])
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
            net = ipaddress.IPv4Network(f"{dest}/{prefix}", strict=False)
            metric = int(parts[6])
        except ValueError:
            continue
        routes.append(Route(str(net), "" if gw == "0.0.0.0" else gw, parts[0], metric, 4))
    return routes


def parse_ipv6_routes(text: str) -> list[Route]:
    """/proc/net/ipv6_route: dest plen src splen nexthop metric refcnt use flags iface."""
    routes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10:
            continue
        try:
            dest = ipaddress.IPv6Address(bytes.fromhex(parts[0]))
            plen = int(parts[1], 16)
            gw = ipaddress.IPv6Address(bytes.fromhex(parts[4]))
            metric = int(parts[5], 16)
            flags = int(parts[8], 16)
        except ValueError:
            continue
        dev = parts[9]
        if not flags & RTF_UP or dev == "lo":
            continue
        net = ipaddress.IPv6Network(f"{dest}/{plen}", strict=False)
        routes.append(Route(str(net), "" if gw == ipaddress.IPv6Address(0) else str(gw), dev, metric, 6))
    return routes


def route_for(routes: Iterable[Route], address: str) -> Route | None:
    """The route a packet to `address` takes: longest prefix first, then the lowest metric."""
    ip = parse_address(address)
    best: Route | None = None
    best_key = None
    for r in routes:
        net = network(r.destination)
        if net.version != ip.version or ip not in net:
            continue
        key = (-net.prefixlen, r.metric)
        if best_key is None or key < best_key:
            best, best_key = r, key
    return best


def parse_netstat_routes(text: str) -> list[Route]:
    """`netstat -rn -f inet` on macOS and the BSDs: Destination Gateway Flags Netif [Expire].

    Destinations are abbreviated by their network's octets ("192.168.59" is 192.168.59.0/24,
    "127" is 127.0.0.0/8) unless they carry a /length; "default" is 0.0.0.0/0; a host route
    (flag H) is /32; a gateway "link#N" or a MAC address means on-link."""
    routes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0] in ("Destination", "Routing", "Internet:") or "U" not in parts[2]:
            continue
        dest, gateway, flags, device = parts[0], parts[1], parts[2], parts[3]
        try:
            if dest == "default":
                net = ipaddress.IPv4Network("0.0.0.0/0")
            else:
                head, slash, given = dest.partition("/")
                octets = head.split(".")
                bits = given if slash else str(32 if "H" in flags else 8 * len(octets))
                net = ipaddress.IPv4Network(f"{'.'.join(octets + ['0'] * (4 - len(octets)))}/{bits}", strict=False)
            gw = str(ipaddress.IPv4Address(gateway)) if gateway.count(".") == 3 else ""
        except ValueError:
            continue
        routes.append(Route(str(net), "" if "G" not in flags else gw, device, 0, 4))
    return routes
