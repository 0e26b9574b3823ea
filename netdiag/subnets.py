"""Docker networks against a machine's interfaces and routes: overlaps, and the way to a container IP.

Pure functions of the facts. A Docker subnet that a VPN or LAN also claims sends traffic the wrong
way; a container IP for which the client's best route is its default gateway leaves the machine
towards the ISP (the boot2docker case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netdiag.addr import interface_network, network
from netdiag.facts import Container, HostNet, KernelRoute, Network, Route
from netdiag.parsers.routes import route_for
from netdiag.vocab import HostRole


@dataclass(frozen=True)
class Overlap:
    """A Docker network's subnet that an interface or route of a machine also covers."""

    network: str
    subnet: str
    machine: str  # client | docker-host
    kind: str  # interface | route
    device: str
    prefix: str  # the interface address or route destination, as CIDR
    gateway: str = ""


@dataclass(frozen=True)
class RouteChoice:
    """The route a machine would use to reach a container address."""

    container: str
    network: str
    address: str
    machine: str
    destination: str = ""  # "" when no route matches at all
    gateway: str = ""
    device: str = ""
    via_default: bool = False


def docker_devices(networks: Iterable[Network]) -> set[str]:
    return {n.bridge for n in networks if n.bridge} | {"docker0", "docker_gwbridge"}


def _is_docker_device(dev: str, bridges: set[str]) -> bool:
    return dev in bridges or dev.startswith("veth")


LAN_DRIVERS = ("macvlan", "ipvlan")


def lan_parent(net: Network) -> tuple[str, ...]:
    """The host interfaces a macvlan or ipvlan network is a LAN of: its parent (`-o parent=`),
    and under a VLAN (eth0.10) the device it is on; () for other drivers."""
    parent = net.options.get("parent", "") if net.driver in LAN_DRIVERS else ""
    return (parent, parent.split(".", 1)[0]) if parent else ()


def overlaps(networks: tuple[Network, ...], host: HostNet, docker_host_address: str = "",
             in_container: bool = False) -> list[Overlap]:
    """Every (network subnet, interface or route) pair that overlaps on `host`.

    Docker's own bridges are not conflicts, nor is a route to a Docker subnet via the Docker host
    itself (`route add 172.17.0.0/16 via <VM>`), nor the default route; nor, `in_container`
    (netdiag runs inside a container of the daemon), the container's own interfaces, whose
    addresses are on Docker's networks by design; nor a route another route to the same prefix
    with a lower metric shadows. Nor any macvlan or ipvlan network: its containers are on a LAN
    of their own, past the host's IP stack, which the host's routes never steer (its parent's
    own subnet is that LAN by design).
    """
    bridges = docker_devices(networks)
    if in_container and host.role == HostRole.CLIENT:
        bridges = bridges | {i.name for i in host.interfaces}
    found = []
    for net in networks:
        if lan_parent(net):
            continue
        for subnet in net.subnets:
            try:
                sn = network(subnet)
            except ValueError:
                continue
            for iface in host.interfaces:
                if _is_docker_device(iface.name, bridges):
                    continue
                for cidr in iface.addresses:
                    other = interface_network(cidr)
                    if other.version == sn.version and other.prefixlen > 0 and other.overlaps(sn):
                        found.append(Overlap(net.name, subnet, host.role, "interface", iface.name, cidr))
            for r in host.routes:
                other = network(r.destination)
                if other.prefixlen == 0 or other.version != sn.version or not other.overlaps(sn):
                    continue
                if _is_docker_device(r.device, bridges):
                    continue
                if docker_host_address and r.gateway == docker_host_address:
                    continue
                if any(o.destination == r.destination and o.metric < r.metric for o in host.routes):
                    continue  # shadowed: a route to the same prefix with a lower metric carries the traffic
                if any(o.device == r.device and interface_network(o.prefix) == other
                       for o in found if o.network == net.name and o.kind == "interface"):
                    continue  # the connected route of an interface already listed
                found.append(Overlap(net.name, subnet, host.role, "route", r.device, r.destination, r.gateway))
    return found


def routes_to_containers(containers: tuple[Container, ...], host: HostNet,
                         kernel: tuple[KernelRoute, ...] = ()) -> list[RouteChoice]:
    """For each container address: the route `host` would send a packet to it by; the kernel's
    own choice (RTM_GETROUTE) where it was asked and a policy table, not main, answered."""
    chosen = {k.address: k for k in kernel if k.outcome.ok and not k.source and k.table not in ("", "main")}
    out = []
    for c in containers:
        for ep in c.endpoints:
            if not ep.ipv4:
                continue
            k = chosen.get(ep.ipv4)
            if k is not None:
                out.append(RouteChoice(c.name, ep.network, ep.ipv4, host.role, f"policy table {k.table}",
                                       k.gateway, k.device, False))
                continue
            r: Route | None = route_for(host.routes, ep.ipv4)
            if r is None:
                out.append(RouteChoice(c.name, ep.network, ep.ipv4, host.role))
            else:
                out.append(RouteChoice(c.name, ep.network, ep.ipv4, host.role, r.destination, r.gateway,
                                       r.device, network(r.destination).prefixlen == 0))
    return out
