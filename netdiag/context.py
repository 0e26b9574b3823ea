"""What a rule reads: the snapshot, the target, the attempt and the port in question. Pure."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple

from netdiag.diagnosis import Attempt
from netdiag.facts import (
    Container,
    Engine,
    Listeners,
    Network,
    Outcome,
    PortBinding,
    Reach,
    Route,
    ServicePort,
    Snapshot,
    Socket,
    SwarmService,
)
from netdiag.memo import per_snapshot
from netdiag.parsers.routes import route_for
from netdiag.shared_namespace import joiners, left_behind, namespace_owner, recorded
from netdiag.subnets import docker_devices, lan_parent
from netdiag.vocab import (
    ROUTES_CONTAINER_IPS,
    SWARM_SERVICE_LABEL,
    AddressKind,
    EngineProduct,
    GatewayMode,
    Location,
    NetMode,
    Origin,
    ProbeKind,
    Protocol,
    PublishMode,
    ReachResult,
)

WILDCARDS = ("", "0.0.0.0", "::")


def hostport(address: str, port: int | str | None) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def socket_label(s: Socket) -> str:
    """"httpd on [::]:80", or just "[::]:80" when the owning process is not known; "(IPv6 only)"
    after a socket with IPV6_V6ONLY."""
    where = hostport(s.address, s.port) + (" (IPv6 only)" if s.v6only else "")
    return f"{s.process} on {where}" if s.process else where


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def daemon_place(engine: Engine) -> str:
    """Where the daemon runs, as a person says it: "the Docker daemon runs in a VM (boot2docker) at ..."."""
    if engine.location == Location.LOCAL:
        return "the Docker daemon runs on this machine"
    if engine.location == Location.CONTAINER:
        return f"the Docker daemon runs on the host of the container netdiag runs in, reached at {engine.host_address}"
    place = f"in a VM ({engine.vm_kind})" if engine.vm_kind else "on another host"
    return f"the Docker daemon runs {place} at {engine.host_address}"


def docker_major(engine: Engine) -> int:
    """The engine's major version ("28.2.2" -> 28; 0 when it does not say)."""
    head = engine.server_version.split(".", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 4 else 0


# the docker commands whose Podman twin takes the same arguments
DOCKER_COMMAND = re.compile(r"\bdocker (?=(?:run|create|start|restart|stop|rm|exec|inspect|logs|port|network|ps|"
                            r"compose|pull|info|update)\b)")


def in_engines_cli(text: str, engine: Engine) -> str:
    """A command in a fix or evidence as the engine's own CLI writes it: `podman run ...` for
    Podman, whose commands take Docker's arguments; unchanged for Docker."""
    return DOCKER_COMMAND.sub("podman ", text) if engine.product == EngineProduct.PODMAN else text


def port_forwarder(engine: Engine) -> str:
    """What carries a published port to the container in user space, by engine: docker-proxy for
    rootful Docker; RootlessKit's forwarder for rootless Docker; rootlessport or pasta for
    rootless Podman."""
    if engine.rootless and engine.product == EngineProduct.PODMAN:
        return "Podman's port forwarder (rootlessport, or pasta)"
    if engine.rootless:
        return "RootlessKit's port forwarder"
    return "docker-proxy"


def where_daemon_runs(engine: Engine) -> str:
    """daemon_place, with the endpoint when the daemon is elsewhere."""
    if engine.location == Location.LOCAL:
        return daemon_place(engine)
    return f"{daemon_place(engine)} (endpoint {engine.endpoint})"


class TakenOnHost(NamedTuple):
    """Connections that end at a process on the Docker host itself, not forwarded to a container."""

    address: str  # where the attempt goes
    port: int  # the host port (or the app's own, in host network mode)
    who: str  # what takes them: docker-proxy, a rootless forwarder, the app itself
    why: str  # the sentence that says so, as evidence


@dataclass(frozen=True)
class Context:
    snapshot: Snapshot
    target: Container
    attempt: Attempt
    port: int | None = None  # the target's container port in question
    protocol: Protocol = Protocol.TCP
    source_container: Container | None = None  # where the attempt starts (--from container:NAME)

    # --- the engine and the client -------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        return self.snapshot.engine

    @property
    def local(self) -> bool:
        return self.engine.location == Location.LOCAL

    @property
    def host_address(self) -> str:
        return self.engine.host_address

    @property
    def reaches_container_ips(self) -> bool:
        """The client reaches the target's addresses directly: it is the Docker host, or a Mac whose
        OrbStack routes them to it; not on networks in isolated gateway mode, which give the host
        no address on their bridge; never with a rootless engine, whose networks live in its own
        network namespace (RootlessKit's, Podman's rootless one), out of the host's reach. A
        container only on macvlan or ipvlan networks has its address on a LAN: any machine of it
        goes there (the Docker host itself cannot: macvlan-host-isolation)."""
        if self.engine.rootless:
            return False
        nets = self.networks_of(self.target)
        if nets and all(n.gateway_mode == GatewayMode.ISOLATED for n in nets):
            return False
        return self.local or self.engine.vm_kind in ROUTES_CONTAINER_IPS or self.only_on_lans()

    def in_rootless_namespace(self, address: str) -> bool:
        """The address is a container's on a rootless engine: it lives in the engine's own network
        namespace, which the host's routes do not lead into (they would send it elsewhere)."""
        return self.engine.rootless and any(address in (e.ipv4, e.ipv6) for c in self.snapshot.containers
                                            for e in c.endpoints if address)

    def swarm_service(self) -> SwarmService | None:
        """The Swarm service whose task the target is, as its manager describes it."""
        name = self.target.labels.get(SWARM_SERVICE_LABEL, "")
        return next((s for s in self.snapshot.services if s.name == name), None) if name else None

    def service_port(self, mode: PublishMode | None = PublishMode.INGRESS) -> ServicePort | None:
        """The port in question as the target's Swarm service publishes it (in `mode`, or either)."""
        svc = self.swarm_service()
        return next((p for p in (svc.ports if svc is not None else ()) if p.target == self.port
                     and p.protocol == self.protocol and (mode is None or p.mode == mode)), None)

    def routed_network(self, container: Container | None = None) -> Network | None:
        """The container's network in routed gateway mode, if any: its ports are opened on the
        container's own address, with no host port."""
        return next((n for n in self.networks_of(container or self.target) if n.gateway_mode == GatewayMode.ROUTED),
                    None)

    def host_addresses(self) -> list[str]:
        """The Docker host's own IPv4 addresses, where other machines reach it (not loopback, not
        Docker's bridges), when its interfaces were read: this machine's when the daemon is local."""
        host = self.snapshot.client if self.local else self.snapshot.docker_host
        if host is None or not host.outcome.ok:
            return []
        bridges = docker_devices(self.snapshot.networks)
        return [a.split("/")[0] for i in host.interfaces if i.name not in bridges and not i.name.startswith("veth")
                for a in i.addresses if ":" not in a and not a.startswith("127.")]

    def lan_networks(self, container: Container | None = None) -> list[Network]:
        """The container's macvlan and ipvlan networks: each is a LAN of a host interface, where
        the container has its own address, reached with no -p (none applies there)."""
        return [n for n in self.networks_of(container or self.target) if lan_parent(n)]

    def only_on_lans(self) -> bool:
        """Every network of the target is a macvlan or ipvlan one."""
        nets = self.networks_of(self.target)
        return bool(nets) and len(self.lan_networks()) == len(nets)

    @property
    def from_container(self) -> bool:
        return self.source_container is not None

    # --- the target ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.target.state.running and not self.target.state.paused

    # --- a namespace shared with another container (--network container:X) ----------------------
    @property
    def joined(self) -> Container:
        """The target as recorded: a joiner's own network mode (container:X), before its view of
        the owner's network (shared_namespace.on_owners_network) replaced it."""
        return recorded(self.snapshot.containers, self.target)

    @property
    def namespace_owner(self) -> Container | None:
        """The container whose network namespace the target joined, as it is now; None when it
        has its own, or when that container is gone (`joined` then still names it)."""
        return namespace_owner(self.snapshot.containers, self.joined)

    @property
    def network_holder(self) -> Container:
        """The container whose network the target's is: the namespace's owner for a joiner, whose
        networks are the ones to connect, publish on or recreate."""
        return self.namespace_owner or self.target

    def joined_evidence(self) -> list[str]:
        """For a joiner, the line that says whose network it has; none otherwise."""
        owner = self.namespace_owner
        return [f"{self.target.name} runs in {owner.name}'s network namespace (network mode "
                f"{self.joined.network_mode[:22]})"] if owner is not None else []

    def left_behind_joiners(self, port: int | None = None) -> list[tuple[Container, Listeners]]:
        """The containers that joined the target's namespace and were left in an old one, with
        their sockets; for a port, only those that listen on it, or whose sockets were not read."""
        out = []
        for j in joiners(self.snapshot.containers, self.target):
            found = self.listeners(j)
            if left_behind(j, self.target) and (port is None or not found.outcome.ok or any(
                    s.port == port and s.protocol == self.protocol for s in found.sockets)):
                out.append((j, found))
        return out

    def listeners(self, container: Container | None = None) -> Listeners:
        cid = (container or self.target).id
        found = _listeners_by_container(self.snapshot).get(cid)
        return found if found is not None else Listeners(Outcome.unavailable("not collected"), cid)

    def sockets_on(self, port: int | None = None) -> list[Socket]:
        """The sockets that take the attempt on the port: not an IPv6-only one for IPv4, which is
        how Docker reaches a container (docker-proxy, DNAT) unless the attempt is over IPv6."""
        port = self.port if port is None else port
        return [s for s in self.listeners().sockets if s.port == port and s.protocol == self.protocol
                and self.takes_it(s)]

    def takes_it(self, s: Socket) -> bool:
        """Whether the socket accepts the attempt's address family."""
        return not s.v6only or ":" in self.attempt.address

    def app_ports(self) -> list[int]:
        """Ports the container's processes listen on, reachable from outside it (not loopback, not DNS)."""
        return sorted({s.port for s in self.listeners().sockets
                       if s.protocol == self.protocol and not s.loopback_only and not s.note and self.takes_it(s)})

    def network(self, name: str) -> Network | None:
        for n in self.snapshot.networks:
            if n.name == name or n.id == name:
                return n
        return None

    def networks_of(self, container: Container) -> list[Network]:
        return [n for n in (self.network(ep.network) for ep in container.endpoints) if n is not None]

    def published(self, port: int | None = None) -> list[PortBinding]:
        """The bindings of a container port; an IPv6 wildcard twin of an IPv4 one is left out."""
        port = self.port if port is None else port
        found = [b for b in self.target.published if b.container_port == port and b.protocol == self.protocol]
        v4_wild = {b.host_port for b in found if b.host_ip in ("", "0.0.0.0")}
        return [b for b in found if not (b.host_ip == "::" and b.host_port in v4_wild)]

    def requested(self, port: int | None = None) -> list[PortBinding]:
        port = self.port if port is None else port
        return [b for b in self.target.requested
                if b.container_port == port and b.protocol == self.protocol and b.host_port is not None]

    def exposed_ports(self) -> list[int]:
        out = []
        for spec in self.target.exposed:
            number, _, proto = spec.partition("/")
            if (proto or "tcp") == self.protocol and number.isdigit():
                out.append(int(number))
        return out

    def ipv4(self, container: Container | None = None) -> list[str]:
        return [ep.ipv4 for ep in (container or self.target).endpoints if ep.ipv4]

    def preferred_binding(self, port: int | None = None) -> PortBinding | None:
        """The binding a client elsewhere would use: a wildcard IPv4 one first."""
        bindings = self.published(port)
        for b in bindings:
            if b.host_ip in ("", "0.0.0.0"):
                return b
        for b in bindings:
            if b.host_ip not in WILDCARDS and not is_loopback(b.host_ip):
                return b
        return bindings[0] if bindings else None

    def public_address(self, binding: PortBinding) -> str:
        """Where a client reaches a binding: the daemon host's address, or the bound address; an
        IPv6 wildcard alone (`-p [::]:8080:80`, an IPv6-only network) at ::1 on the Docker host
        itself, which an IPv4 address would not reach; "" from elsewhere, where the Docker host's
        IPv6 address is not known."""
        if binding.host_ip == "::" and self.local and self.host_address == "127.0.0.1":
            return "::1"
        if binding.host_ip == "::" and ":" not in self.host_address:
            return ""  # the Docker host's IPv6 address is not known here
        if binding.host_ip in WILDCARDS:
            return self.host_address
        return binding.host_ip

    def ipv6_relayed(self) -> PortBinding | None:
        """The [::] binding whose IPv6 connections docker-proxy takes on the Docker host itself,
        for an attempt at one of the host's IPv6 addresses: the host's ip6tables was read and
        Docker rewrites no IPv6 traffic there (no DOCKER chain in ip6tables' nat table: dockerd
        runs without ip6tables, the default before Docker 27). Such connections pass the host's
        INPUT chain, never FORWARD, and need no IPv6 forwarding. None when that is not certain
        (Docker's nftables backend, rules not read)."""
        a, fw = self.attempt, self.snapshot.firewall
        if ":" not in a.address or not a.port or fw is None or not fw.ip6tables_outcome.ok \
                or self.engine.firewall_backend.startswith("nftables") or self.engine.rootless:
            return None
        if any(c.table == "nat" and c.name == "DOCKER" for c in fw.chains6) or \
                any(c.table.startswith("ip6 ") for c in fw.docker_nft_chains):
            return None
        return next((b for b in self.target.published if b.host_ip == "::" and b.host_port == a.port
                     and b.container_port == self.port and b.protocol == self.protocol), None)

    def taken_on_the_host(self) -> TakenOnHost | None:
        """(address, host port, who, why) when the attempt's connections end at a process on the
        Docker host itself, so they pass its INPUT chain and are never forwarded: the app of a
        container in host network mode; a forwarder in user space for every published port of a
        rootless engine (RootlessKit, rootlessport, pasta) or of a dockerd with iptables off
        (docker-proxy); IPv6 to a [::] binding that docker-proxy takes because dockerd rewrites no
        IPv6 traffic (ipv6_relayed)."""
        a = self.attempt
        if self.target.mode == NetMode.HOST and self.port and a.kind not in (AddressKind.CONTAINER_IP,
                                                                             AddressKind.OTHER_CONTAINER_IP):
            app_port = a.port or self.port
            who = f"{self.target.name}'s app (host network mode)"
            return TakenOnHost(a.address or self.host_address, app_port, who, (
                f"{self.target.name} uses the Docker host's own network: connections to {app_port} end at its app on "
                "the host itself, so they pass the host's INPUT chain; nothing is published or forwarded"))
        if self.engine.rootless or self.engine.iptables is False and self.engine.userland_proxy is not False:
            b = self.preferred_binding()
            address = a.address or (self.public_address(b) if b is not None else "")
            port = a.port or (b.host_port if b is not None else 0)
            if not address or not port or a.kind in (AddressKind.CONTAINER_IP, AddressKind.OTHER_CONTAINER_IP):
                return None
            who = port_forwarder(self.engine)
            why = "a rootless engine: published ports are forwarded in user space" if self.engine.rootless else \
                "dockerd runs with iptables off: nothing is rewritten or forwarded"
            return TakenOnHost(address, port, who, f"{who} takes the connections to {port} on the Docker host "
                                                   f"itself ({why}), so they pass its INPUT chain, not FORWARD")
        relayed = self.ipv6_relayed()
        if relayed is not None and a.port:
            return TakenOnHost(a.address, a.port, "docker-proxy", (
                f"docker-proxy takes IPv6 connections to [::]:{relayed.host_port} on the Docker host itself "
                "(ip6tables' nat table has no DOCKER chain: dockerd does not rewrite IPv6 traffic), so they pass "
                "INPUT, not FORWARD"))
        return None

    def client_route(self, address: str) -> tuple[Route | None, str]:
        """(the client's route to `address`, the policy table it came from or ""): the kernel's
        own choice (RTM_GETROUTE) when it was asked and a policy rule sent the address to another
        table than main (a VPN's table 52), else the main table's longest match."""
        client = self.snapshot.client
        main = route_for(client.routes, address) if client is not None and client.outcome.ok else None
        k = next((k for k in self.snapshot.kernel_routes if k.address == address and k.origin.is_host
                  and not k.source and k.outcome.ok), None)
        if k is None or k.table in ("", "main"):
            return main, ""
        if k.error or k.kind in ("unreachable", "blackhole", "prohibit"):
            return None, k.table
        return Route(f"{address}/32", k.gateway, k.device), k.table

    # --- observations -----------------------------------------------------------------------
    def reach(self, address: str, port: int | None = None, kind: ProbeKind = ProbeKind.TCP) -> Reach | None:
        return _reach_by_attempt(self.snapshot).get((address, port, kind, self.attempt.origin))

    def answered(self, address: str, port: int) -> bool:
        """The service itself answered: bytes came back, or the connection was held open by a
        socket that really listens (a silent protocol)."""
        r = self.reach(address, port)
        return bool(r and r.outcome.ok and (r.result == ReachResult.ANSWERED or
                                            (r.result == ReachResult.SILENT and bool(self.sockets_on()))))


@per_snapshot
def _listeners_by_container(snapshot: Snapshot) -> dict[str, Listeners]:
    out: dict[str, Listeners] = {}
    for ls in snapshot.listeners:
        out.setdefault(ls.container_id, ls)
    return out


@per_snapshot
def _reach_by_attempt(snapshot: Snapshot) -> dict[tuple[str, int | None, ProbeKind, Origin], Reach]:
    out: dict[tuple[str, int | None, ProbeKind, Origin], Reach] = {}
    for r in snapshot.reach:
        out.setdefault((r.address, r.port, r.kind, r.origin), r)
    return out
