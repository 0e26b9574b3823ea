"""What an outbound rule reads: a container's attempt to reach an address that is not a container
(the Docker host, the LAN, the internet, a name), and the facts along that path. Pure.

The path out of a container: its own routes and resolver, its network and gateway, the Docker
host's forwarding and filter, its source NAT, its route out, and the destination. The same
attempt made from the Docker host's own namespace tells the part Docker plays from the part it
does not: a destination that refuses the host as well is down, whatever Docker does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netdiag.addr import is_ip
from netdiag.diagnosis import Attempt
from netdiag.facts import (
    Container,
    Engine,
    HostNet,
    KernelRoute,
    Lookup,
    Network,
    PathMtu,
    Reach,
    Route,
    Snapshot,
    SourceView,
)
from netdiag.memo import per_snapshot
from netdiag.parsers.resolv import EMBEDDED_DNS, in_hosts
from netdiag.parsers.routes import route_for
from netdiag.shared_namespace import left_behind, namespace_owner, owner_ref, recorded
from netdiag.vocab import HOST, DnsResult, Location, NetMode, ProbeKind, Protocol, ReachResult

HOST_GATEWAY_NAME = "host.docker.internal"


def resolved_address(snapshot: Snapshot, source: Container, name: str) -> str:
    """Where `name` leads from inside `source`: its /etc/hosts first, then the first resolver
    that answered with an address ("" when neither did)."""
    view = source_view(snapshot, source)
    if view is not None:
        found = in_hosts(view.hosts, name)
        if found:
            return found[0]
    for lk in lookups_of(snapshot, source, name):
        if lk.outcome.ok and not lk.upstream and lk.addresses:
            return lk.addresses[0]
    return ""


def source_view(snapshot: Snapshot, source: Container) -> SourceView | None:
    return _views(snapshot).get(source.id)


def lookups_of(snapshot: Snapshot, source: Container, name: str) -> list[Lookup]:
    return [lk for lk in snapshot.lookups if lk.origin.container == source.name and lk.name == name]


@per_snapshot
def _views(snapshot: Snapshot) -> dict[str, SourceView]:
    return {v.container_id: v for v in snapshot.source_views}


@dataclass(frozen=True)
class Outbound:
    """The context of an outbound rule: the source container, the attempt, and the snapshot."""

    snapshot: Snapshot
    source: Container
    attempt: Attempt
    protocol: Protocol = Protocol.TCP

    # the reasoner's generic parts (apply, inputs) speak of the container in question as `target`
    @property
    def target(self) -> Container:
        return self.source

    @property
    def port(self) -> int | None:
        return self.attempt.port

    @property
    def engine(self) -> Engine:
        return self.snapshot.engine

    @property
    def local(self) -> bool:
        return self.engine.location == Location.LOCAL

    @property
    def running(self) -> bool:
        return self.source.state.running and not self.source.state.paused

    @property
    def joined(self) -> Container:
        """The source as recorded: a joiner's own network mode (container:X), before its view of
        the owner's network replaced it (see Context.joined)."""
        return recorded(self.snapshot.containers, self.source)

    @property
    def namespace_owner(self) -> Container | None:
        """The container whose network namespace the source joined, as it is now (None: its own, or gone)."""
        return namespace_owner(self.snapshot.containers, self.joined)

    def left_behind(self) -> bool:
        """The source joined another container's namespace and runs in one that container no longer has."""
        return bool(owner_ref(self.joined)) and left_behind(self.joined, self.namespace_owner)

    @property
    def address(self) -> str:
        return self.attempt.address

    @property
    def name(self) -> str:
        """The name the container looked up, "" when the destination was an address."""
        return self.attempt.name

    @property
    def where(self) -> str:
        """The destination as the user wrote it, with the port: "web.lab.test:80", "198.51.100.53:53/udp"."""
        host = self.name or self.address
        host = f"[{host}]" if ":" in host else host
        udp = "/udp" if self.protocol == Protocol.UDP else ""
        return f"{host}:{self.port}{udp}" if self.port else host

    # --- the source container ------------------------------------------------------------------
    @property
    def view(self) -> SourceView | None:
        return source_view(self.snapshot, self.source)

    def networks(self) -> list[Network]:
        by_key = {n.name: n for n in self.snapshot.networks} | {n.id: n for n in self.snapshot.networks}
        return [by_key[ep.network] for ep in self.source.endpoints if ep.network in by_key]

    def ipv4(self) -> list[str]:
        return [ep.ipv4 for ep in self.source.endpoints if ep.ipv4]

    def source_route(self) -> Route | None:
        """The route the container's own table picks for the destination."""
        v = self.view
        if v is None or not v.outcome.ok or not is_ip(self.address):
            return None
        return route_for(v.routes, self.address)

    def leaving_network(self) -> Network | None:
        """The Docker network the packet leaves the container on: the one whose gateway the
        container's route uses, else the one with the default gateway, else the first."""
        nets = self.networks()
        r = self.source_route()
        if r is not None:
            for ep in self.source.endpoints:
                if r.gateway and ep.gateway == r.gateway or not r.gateway and r.device and self._on(ep.ipv4, r):
                    return next((n for n in nets if n.name == ep.network), None)
        return nets[0] if nets else None

    @staticmethod
    def _on(ip: str, r: Route) -> bool:
        try:
            return bool(ip) and ipaddress.ip_address(ip) in ipaddress.ip_network(r.destination, strict=False)
        except ValueError:
            return False

    def source_address(self, net: Network | None) -> str:
        for ep in self.source.endpoints:
            if net is not None and ep.network in (net.name, net.id) and ep.ipv4:
                return ep.ipv4
        return self.ipv4()[0] if self.ipv4() else ""

    # --- name resolution -----------------------------------------------------------------------
    def lookups(self, upstream: bool | None = None) -> list[Lookup]:
        found = lookups_of(self.snapshot, self.source, self.name) if self.name else []
        return [lk for lk in found if upstream is None or lk.upstream == upstream]

    def in_hosts_file(self) -> tuple[str, ...]:
        v = self.view
        return in_hosts(v.hosts, self.name) if v is not None and self.name else ()

    def upstreams(self) -> tuple[str, ...]:
        """Where Docker's embedded DNS forwards: what it noted in resolv.conf, else --dns."""
        v = self.view
        return (v.ext_servers if v is not None and v.ext_servers else ()) or self.source.dns

    def uses_embedded_dns(self) -> bool:
        v = self.view
        return v is not None and EMBEDDED_DNS in v.nameservers

    # --- the Docker host -------------------------------------------------------------------------
    @property
    def docker_host(self) -> HostNet | None:
        """The Docker host's interfaces and routes: the client's when the daemon is local."""
        if self.snapshot.docker_host is not None:
            return self.snapshot.docker_host
        return self.snapshot.client if self.local else None

    def kernel_route(self, on_host: bool) -> KernelRoute | None:
        """The kernel's own choice (RTM_GETROUTE): on the Docker host for the forwarded packet, or
        inside the container."""
        want = "" if on_host else self.source.name
        return next((k for k in self.snapshot.kernel_routes if k.address == self.address
                     and k.origin.container == want and k.outcome.ok), None)

    def out_device(self) -> str | None:
        """The device the Docker host sends the container's packets out of: the kernel's choice
        for the forwarded packet when it was asked, else the main table's route."""
        k = self.kernel_route(on_host=True)
        if k is not None and not k.error and k.device:
            return k.device
        r = self.host_route()
        return r.device if r is not None else None

    def host_route(self) -> Route | None:
        h = self.docker_host
        if h is None or not h.outcome.ok or not is_ip(self.address):
            return None
        return route_for(h.routes, self.address)

    def gateways(self) -> set[str]:
        return {ep.gateway for ep in self.source.endpoints if ep.gateway} | \
            {g for n in self.networks() for g in n.gateways}

    def host_addresses(self) -> set[str]:
        h = self.docker_host
        own = {a.split("/")[0] for i in h.interfaces for a in i.addresses} if h is not None and h.outcome.ok else set()
        return own | self.gateways()

    def to_docker_host(self) -> bool:
        """The destination is the Docker host itself: a gateway of the container's networks, or
        one of the host's own addresses (not loopback, which inside a container is the container)."""
        return bool(self.address) and not self.to_itself() and self.address in self.host_addresses()

    def to_itself(self) -> bool:
        """The destination is loopback: inside a container (not in the host's network) that is
        the container itself."""
        try:
            loopback = ipaddress.ip_address(self.address).is_loopback
        except ValueError:
            return False
        return loopback and self.source.mode != NetMode.HOST

    def leaves_docker(self) -> bool:
        """A bridged container's packets to the destination go beyond the Docker host: forwarded,
        source-NATed and routed out by it (not to the host itself, its own loopback or a Docker
        network; a container in the host's network sends as the host does)."""
        return self.source.mode == NetMode.BRIDGE and is_ip(self.address) and ":" not in self.address and \
            not self.to_itself() and not self.to_docker_host() and self.docker_network_of(self.address) is None

    def over_overlay(self) -> Network | None:
        """The source's overlay network whose subnet holds the destination: its packets go
        through the overlay (to a task on this node or, in VXLAN, on another), never through the
        Docker host's own routes, filter or NAT."""
        net = self.docker_network_of(self.address)
        if net is None or net.driver != "overlay" or all(n.id != net.id for n in self.networks()):
            return None
        return net

    def docker_network_of(self, address: str) -> Network | None:
        """The Docker network whose subnet holds `address`."""
        if not is_ip(address):
            return None
        ip = ipaddress.ip_address(address)
        for n in self.snapshot.networks:
            for s in n.subnets:
                try:
                    if ip in ipaddress.ip_network(s, strict=False):
                        return n
                except ValueError:
                    continue
        return None

    # --- the attempts ----------------------------------------------------------------------------
    @property
    def kind(self) -> ProbeKind:
        if not self.port:
            return ProbeKind.ICMP
        return ProbeKind.UDP if self.protocol == Protocol.UDP else ProbeKind.TCP

    def from_source(self) -> Reach | None:
        return _reach(self.snapshot).get((self.address, self.port, self.kind, self.source.name))

    def from_host(self) -> Reach | None:
        return _reach(self.snapshot).get((self.address, self.port, self.kind, HOST.container))

    def path_mtu(self) -> PathMtu | None:
        return next((m for m in self.snapshot.path_mtu if m.address == self.address
                     and m.origin.container == self.source.name), None)

    def answered(self) -> bool:
        return _answered(self.from_source())

    def host_answered(self) -> bool:
        return _answered(self.from_host())


def _answered(r: Reach | None) -> bool:
    """The service answered, or accepted a TCP connection and kept it (a silent protocol)."""
    if r is None or not r.outcome.ok:
        return False
    return r.result == ReachResult.ANSWERED or (r.kind == ProbeKind.TCP and r.result == ReachResult.SILENT)


@per_snapshot
def _reach(snapshot: Snapshot) -> dict[tuple[str, int | None, ProbeKind, str], Reach]:
    out: dict[tuple[str, int | None, ProbeKind, str], Reach] = {}
    for r in snapshot.reach:
        out.setdefault((r.address, r.port, r.kind, r.origin.container), r)
    return out


def lookup_text(lk: Lookup) -> str:
    """One lookup as evidence: "web.lab.test at 127.0.0.53: unreachable (nothing listens there)"."""
    who = lk.server or "no resolver"
    if not lk.outcome.ok:
        return f"{lk.name} at {who}: not asked ({lk.outcome.reason})"
    said = ", ".join(lk.addresses) if lk.result == DnsResult.ANSWERED else str(lk.result)
    return f"{lk.name} at {who}{' (upstream, asked directly)' if lk.upstream else ''}: {said}" + \
        (f" ({lk.detail})" if lk.detail and lk.result != DnsResult.ANSWERED else "")
