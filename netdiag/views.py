"""What each inspection command (engine, port, ip, ping, listeners, subnets, firewall) shows: plain
records built from the facts, rendered as text (netdiag.render.text) or as JSON
(netdiag.render.jsondoc). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.context import hostport
from netdiag.facts import Container, Endpoint, HostNet, Listeners, Network, Outcome, PortBinding, PortHolders, Reach
from netdiag.subnets import Overlap, RouteChoice
from netdiag.vocab import ContainerStatus, Protocol


@dataclass(frozen=True)
class ContainerRef:
    """Which container a view is about."""

    id: str
    name: str
    status: ContainerStatus
    network_mode: str = ""

    @classmethod
    def of(cls, c: Container) -> ContainerRef:
        return cls(c.id, c.name, c.state.status, c.network_mode)


@dataclass(frozen=True)
class PortRow:
    """One published binding: where it is bound, who holds the host port, where NAT sends it."""

    container_port: int
    protocol: Protocol
    host_ip: str
    host_port: int | None
    held_by: str = ""  # "docker-proxy (pid 4125)"; "" when nothing does, or when the holders were not read
    nat: tuple[str, ...] = ()  # the DNAT destinations, "172.17.0.2:80"


@dataclass(frozen=True)
class PortView:
    container: ContainerRef
    port: int | None  # the container port asked about, None for all
    bindings: tuple[PortRow, ...] = ()
    requested_not_bound: tuple[PortBinding, ...] = ()  # -p asked for, not bound (the container did not start)
    exposed_not_published: tuple[str, ...] = ()  # "5000/tcp"
    holders: Outcome = Outcome()  # how the host's port holders were read
    nat: Outcome = Outcome()  # how the NAT rules were read


def port_view(c: Container, holders: PortHolders, port: int | None) -> PortView:
    rows = []
    for b in c.published:
        if port is not None and b.container_port != port:
            continue
        on = (b.host_ip or "0.0.0.0", "0.0.0.0", "::")
        who = next((s for s in holders.sockets
                    if s.port == b.host_port and s.protocol == b.protocol and s.address in on), None)
        held_by = "" if who is None else (f"{who.process or '?'} (pid {who.pid})" if who.pid else who.process or "?")
        nat = tuple(hostport(n.container_ip, n.container_port) for n in holders.nat
                    if n.host_port == b.host_port and n.protocol == b.protocol)
        rows.append(PortRow(b.container_port, b.protocol, b.host_ip, b.host_port, held_by, nat))
    published = {(b.container_port, b.protocol) for b in c.published}
    not_bound = tuple(b for b in c.requested if (b.container_port, b.protocol) not in published
                      and (port is None or b.container_port == port))
    exposed = tuple(p for p in c.exposed if port is None and _port_key(p) not in published)
    return PortView(ContainerRef.of(c), port, tuple(rows), not_bound, exposed, holders.outcome, holders.nat_outcome)


def _port_key(spec: str) -> tuple[int, str]:
    number, _, proto = spec.partition("/")
    return (int(number) if number.isdigit() else -1), proto or "tcp"


@dataclass(frozen=True)
class AddressView:
    container: ContainerRef
    endpoints: tuple[Endpoint, ...] = ()
    networks: tuple[Network, ...] = ()  # the networks of those endpoints


@dataclass(frozen=True)
class PingReport:
    target: str
    attempts: tuple[Reach, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListenerReport:
    container: str
    listeners: Listeners


@dataclass(frozen=True)
class SubnetReport:
    networks: tuple[Network, ...]
    client: HostNet
    docker_host: HostNet | None = None
    overlaps: tuple[Overlap, ...] = ()
    routes: tuple[RouteChoice, ...] = ()
