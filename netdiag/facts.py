"""The facts a diagnosis needs, as frozen dataclasses with a lossless JSON round trip.

Probes fill these records; rules and renderers only read them. Nothing here does I/O, so a
snapshot taken on a customer's host works the same offline.

Every group of facts that a probe gathers carries an `Outcome`: `collected` (the values are the
fact), `unavailable` (the probe could not run here, and `reason` says why) or `failed` (it ran and
broke, `reason` holds the error). An empty list under `unavailable` means "not known", never
"nothing there".
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from netdiag.vocab import (
    GATEWAY_MODE_OPTION,
    ContainerStatus,
    DnsResult,
    EngineProduct,
    GatewayMode,
    HostRole,
    Location,
    NetMode,
    Origin,
    OutcomeState,
    ProbeKind,
    Protocol,
    PublishMode,
    ReachResult,
    VmKind,
)

Decoder = Callable[[Any], Any]

SCHEMA_VERSION = 2  # 2: Reach.source became origin, Engine.source chosen_by; firewall rules are records


@dataclass(frozen=True)
class Outcome:
    """How a group of facts was obtained: collected, unavailable (why) or failed (the error)."""

    state: OutcomeState = OutcomeState.COLLECTED
    reason: str = ""
    method: str = ""

    @property
    def ok(self) -> bool:
        return self.state == OutcomeState.COLLECTED

    @classmethod
    def unavailable(cls, reason: str, method: str = "") -> Outcome:
        return cls(OutcomeState.UNAVAILABLE, reason, method)

    @classmethod
    def failed(cls, reason: str, method: str = "") -> Outcome:
        return cls(OutcomeState.FAILED, reason, method)


# --- where the daemon lives -------------------------------------------------------------------

@dataclass(frozen=True)
class Engine:
    """The Docker daemon: how the client reaches it and where it runs."""

    outcome: Outcome
    endpoint: str = ""  # unix:///var/run/docker.sock, tcp://192.168.59.103:2375, ssh://...
    chosen_by: str = ""  # what chose the endpoint: DOCKER_HOST, DOCKER_CONTEXT, docker context, default
    context: str = ""  # the docker context name, when one was used
    location: Location = Location.UNKNOWN
    vm_kind: VmKind = VmKind.NONE
    host_address: str = ""  # where the client reaches ports published on the daemon's host
    location_evidence: tuple[str, ...] = ()
    server_version: str = ""
    api_version: str = ""
    operating_system: str = ""
    kernel_version: str = ""
    daemon_name: str = ""
    iptables: bool | None = None  # None: not known
    userland_proxy: bool | None = None
    ipv6: bool | None = None
    security_options: tuple[str, ...] = ()
    firewall_backend: str = ""  # what `docker info` reports (API 1.49+): iptables, nftables; "" when it does not
    product: EngineProduct = EngineProduct.DOCKER  # Podman's service answers the same API
    ipv4_forwarding: bool | None = None  # docker info's IPv4Forwarding: the daemon host's ip_forward, read live
    swarm: str = ""  # docker info's Swarm.LocalNodeState: active, inactive...; "" when it does not say
    ipvs: bool | None = None  # the Docker host's kernel has IPVS (/proc/net/ip_vs); None: not known from here
    swarm_node_id: str = ""  # docker info's Swarm.NodeID: this daemon's node
    swarm_node_address: str = ""  # docker info's Swarm.NodeAddr: the address the other nodes reach it at

    # Podman's own info (host.security.rootless), which its Docker-compatible one omits; None: not read
    libpod_rootless: bool | None = None

    @property
    def rootless(self) -> bool:
        """Rootless Docker or Podman (docker info's SecurityOptions say name=rootless; Podman's own
        info says so): published ports are forwarded in user space (RootlessKit, rootlessport,
        pasta), not by the host's kernel."""
        return "name=rootless" in self.security_options or self.libpod_rootless is True

    @property
    def rootless_unknown(self) -> bool:
        """Podman whose own info was not read (a proxy passing Docker's API only): whether its
        published ports go through the host's firewall or a forwarder in user space is not known."""
        return self.product == EngineProduct.PODMAN and self.libpod_rootless is None and not self.rootless


# --- interfaces and routes of a machine ---------------------------------------------------------


@dataclass(frozen=True)
class Interface:
    name: str
    addresses: tuple[str, ...] = ()  # CIDR, e.g. "192.168.59.3/24", "fe80::1/64"
    up: bool | None = None
    mac: str = ""


@dataclass(frozen=True)
class Route:
    destination: str  # CIDR: "0.0.0.0/0", "172.17.0.0/16"
    gateway: str = ""  # empty when on-link
    device: str = ""
    metric: int = 0
    family: int = 4


@dataclass(frozen=True)
class HostNet:
    """Interfaces and routes of one machine (the client, or the Docker host)."""

    outcome: Outcome
    role: HostRole = HostRole.CLIENT
    hostname: str = ""
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)  # source text, e.g. {"/proc/net/route": ...}


# --- Docker objects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlayEndpoint:
    """A task's or container's address on an overlay network, and the node it runs on, as this
    node's gossip knows it (docker network inspect --verbose)."""

    name: str
    address: str
    node_address: str  # the node's swarm address (its "Host IP")


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    driver: str = ""
    scope: str = ""
    internal: bool = False
    subnets: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    ipv6: bool = False
    bridge: str = ""  # the Linux bridge device on the Docker host (docker0, br-<id>)
    options: dict[str, str] = field(default_factory=dict)
    # a Swarm overlay, from this node: the nodes its gossip reaches (their addresses) and the
    # endpoints it knows on every node; () when not an overlay or not read
    peers: tuple[str, ...] = ()
    overlay_endpoints: tuple[OverlayEndpoint, ...] = ()
    vips: dict[str, str] = field(default_factory=dict)  # service name -> its virtual IP on this overlay

    @property
    def gateway_mode(self) -> GatewayMode | None:
        """The bridge's IPv4 gateway mode (nat when the option is absent); None for a value netdiag
        does not know, about which it then claims nothing mode-specific."""
        try:
            return GatewayMode(self.options.get(GATEWAY_MODE_OPTION) or "nat")
        except ValueError:
            return None


@dataclass(frozen=True)
class Endpoint:
    """A container's attachment to one network."""

    network: str
    network_id: str = ""
    ipv4: str = ""
    prefix_len: int = 0
    ipv6: str = ""
    gateway: str = ""
    mac: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortBinding:
    """A container port and, when published, where on the Docker host it is bound."""

    container_port: int
    protocol: Protocol = Protocol.TCP
    host_ip: str = ""  # "" when not published
    host_port: int | None = None  # None when not published


@dataclass(frozen=True)
class ContainerState:
    status: ContainerStatus = ContainerStatus.UNKNOWN
    running: bool = False
    paused: bool = False
    restarting: bool = False
    oom_killed: bool = False
    dead: bool = False
    exit_code: int = 0
    error: str = ""
    pid: int = 0
    started_at: str = ""
    finished_at: str = ""
    restart_count: int = 0


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    image: str = ""
    state: ContainerState = ContainerState()
    network_mode: str = ""  # Docker's own text: default, bridge, host, none, container:ID, a network name
    exposed: tuple[str, ...] = ()  # "5000/tcp": from the image's EXPOSE and --expose
    requested: tuple[PortBinding, ...] = ()  # -p as asked (HostConfig.PortBindings)
    published: tuple[PortBinding, ...] = ()  # what the engine bound (NetworkSettings.Ports)
    publish_all: bool = False
    endpoints: tuple[Endpoint, ...] = ()
    command: tuple[str, ...] = ()  # entrypoint and arguments, secrets masked
    labels: dict[str, str] = field(default_factory=dict)
    dns: tuple[str, ...] = ()  # --dns servers (HostConfig.Dns): where Docker's embedded DNS forwards
    extra_hosts: tuple[str, ...] = ()  # --add-host entries as given: "host.docker.internal:host-gateway"

    @property
    def mode(self) -> NetMode:
        return NetMode.of(self.network_mode)


# --- sockets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Socket:
    """A listening socket (TCP LISTEN, or a bound unconnected UDP socket)."""

    protocol: Protocol
    family: int  # 4 | 6
    address: str
    port: int
    inode: int = 0
    pid: int | None = None
    process: str = ""
    note: str = ""  # e.g. "Docker embedded DNS"
    # an IPv6 socket with IPV6_V6ONLY: it never accepts IPv4 (sock_diag says; None: not known)
    v6only: bool | None = None

    @property
    def loopback_only(self) -> bool:
        return self.address.startswith("127.") or self.address == "::1"

    @property
    def wildcard(self) -> bool:
        return self.address in ("0.0.0.0", "::")


@dataclass(frozen=True)
class Listeners:
    """The sockets listening inside one container's network namespace."""

    outcome: Outcome
    container_id: str = ""
    sockets: tuple[Socket, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NatRule:
    """A DNAT rule that forwards a host port to a container (Docker's nat/DOCKER chain)."""

    protocol: Protocol
    host_ip: str  # "" for any address
    host_port: int
    container_ip: str
    container_port: int
    in_interface: str = ""  # "!docker0" style, as written


@dataclass(frozen=True)
class ProxyProcess:
    """A docker-proxy process: the userland side of a published port."""

    pid: int
    protocol: Protocol
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int


@dataclass(frozen=True)
class PortHolders:
    """Who holds ports on the Docker host: listening sockets with their processes, NAT, proxies."""

    outcome: Outcome
    sockets: tuple[Socket, ...] = ()
    nat: tuple[NatRule, ...] = ()
    nat_outcome: Outcome = Outcome()
    proxies: tuple[ProxyProcess, ...] = ()


# --- firewall and forwarding ------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One match of a firewall rule: its value as written, and whether it is negated (`! -s ...`)."""

    value: str
    negated: bool = False


@dataclass(frozen=True)
class FirewallRule:
    """One rule of a chain, parsed into its match fields and target (netdiag.parsers.iptables).

    Ports are as written: "80", "8000:8080", or a multiport list "5432,6379". `other` holds the
    match options netdiag does not evaluate (`--dst-type LOCAL`, `--mark 0x1`): a rule with any
    of them may or may not match, and the firewall rules treat it so."""

    text: str  # as iptables-save writes it, without "-A CHAIN"
    target: str = ""  # ACCEPT, DROP, REJECT, RETURN, DNAT, a chain name; "" when the rule only counts
    protocol: Match | None = None
    source: Match | None = None
    destination: Match | None = None
    in_interface: Match | None = None
    out_interface: Match | None = None
    sports: Match | None = None
    dports: Match | None = None
    ctstate: Match | None = None  # conntrack --ctstate or state --state: "RELATED,ESTABLISHED"
    ctorigdst: Match | None = None
    ctorigdstport: Match | None = None
    target_options: dict[str, str] = field(default_factory=dict)  # {"--to-destination": "172.17.0.2:80"}
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chain:
    table: str  # iptables: filter, nat...; nftables: "<family> <table>" (inet filter, inet firewalld)
    name: str
    policy: str = ""  # ACCEPT/DROP for built-in and base chains, "" for user chains
    rules: tuple[FirewallRule, ...] = ()
    hook: str = ""  # nftables base chains: the hook they sit on (forward, input, prerouting...)
    priority: int = 0  # nftables base chains: their order on the hook


@dataclass(frozen=True)
class Firewall:
    outcome: Outcome
    ip_forward: bool | None = None
    ipv6_forward: bool | None = None
    interface_forwarding: dict[str, bool] = field(default_factory=dict)
    iptables_outcome: Outcome = Outcome()
    chains: tuple[Chain, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)
    # nftables tables other than iptables' own and Docker's (firewalld's, /etc/nftables.conf's):
    # their base chains see every packet too, and a drop there is final whatever iptables accepts
    nft_outcome: Outcome = Outcome.unavailable("not read")
    nft_chains: tuple[Chain, ...] = ()
    # Docker's own nftables tables (ip docker-bridges: its nftables firewall backend, Docker 29)
    docker_nft_chains: tuple[Chain, ...] = ()
    # ip6tables: what filters IPv6 traffic (published [::] ports, containers' IPv6 addresses)
    ip6tables_outcome: Outcome = Outcome.unavailable("not read")
    chains6: tuple[Chain, ...] = ()
    # which iptables the default iptables-save reads ("nf_tables" or "legacy"), and the other one
    # when its tables are in use too (iptables-legacy beside iptables-nft, or the reverse): the
    # kernel runs both, so a drop in either is final whichever holds Docker's rules
    iptables_variant: str = ""
    other_variant: str = ""
    other_outcome: Outcome = Outcome.unavailable("not read")
    other_chains: tuple[Chain, ...] = ()
    # net.bridge.bridge-nf-call-iptables: traffic between containers on one bridge passes iptables'
    # FORWARD too (br_netfilter, which Docker loads); False when br_netfilter is not loaded; None: not read
    bridge_nf_call_iptables: bool | None = None

    def chain(self, table: str, name: str) -> Chain | None:
        for c in self.chains:
            if c.table == table and c.name == name:
                return c
        return None


# --- reachability -----------------------------------------------------------------------------

CUT_SHORT = "cut short"  # the method of an attempt not waited for: the facts had already decided its hop


@dataclass(frozen=True)
class Reach:
    """One attempt from the client to an address (and port)."""

    outcome: Outcome
    kind: ProbeKind
    address: str
    port: int | None = None
    result: ReachResult = ReachResult.NONE
    responder: str = ""  # who answered: the host itself, or the router that sent ICMP
    icmp_type: int | None = None
    icmp_code: int | None = None
    detail: str = ""
    rtt_ms: float | None = None
    banner: str = ""  # the first line the service sent back
    origin: Origin = Origin()  # where the attempt started


# --- outbound: what the source container sees, and how a name resolved ----------------------


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceView:
    """What a container sees of the network from inside: its routes, its resolv.conf, its /etc/hosts."""

    outcome: Outcome
    container_id: str = ""
    routes: tuple[Route, ...] = ()
    nameservers: tuple[str, ...] = ()  # resolv.conf: 127.0.0.11 is Docker's embedded DNS
    search: tuple[str, ...] = ()
    ext_servers: tuple[str, ...] = ()  # the upstreams Docker wrote into resolv.conf ("# ExtServers: [...]")
    hosts: tuple[HostsEntry, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """One name asked of one resolver (or found in the hosts file), from inside a container."""

    outcome: Outcome
    name: str
    server: str = ""  # the resolver asked; "" when none could be (its resolv.conf unread)
    result: DnsResult = DnsResult.NONE
    addresses: tuple[str, ...] = ()
    detail: str = ""
    rtt_ms: float | None = None
    origin: Origin = Origin()  # the container it was asked from
    upstream: bool = False  # asked of an upstream directly, to tell it from the embedded DNS in front


@dataclass(frozen=True)
class KernelRoute:
    """The route the kernel picks for an address (RTM_GETROUTE, as `ip route get`): inside a
    container, or on the Docker host for a packet forwarded from a container (its source address
    and bridge given), policy rules and all."""

    outcome: Outcome
    address: str
    origin: Origin = Origin()  # container:NAME: asked in its namespace; host: on the Docker host
    source: str = ""  # the forwarded packet's source address, when asked on the Docker host
    in_interface: str = ""  # the bridge it arrives on
    device: str = ""
    gateway: str = ""
    prefsrc: str = ""
    table: str = ""  # main, or the policy table that answered
    kind: str = ""  # unicast, blackhole, unreachable, prohibit
    error: str = ""  # the kernel's refusal ("Network is unreachable"), "" when it chose a route


@dataclass(frozen=True)
class PathMtu:
    """How large a packet gets from inside a container to a destination that answers small ones:
    echoes sent with don't-fragment set, and one bounded download."""

    outcome: Outcome
    address: str
    origin: Origin = Origin()
    interface_mtu: int = 0  # the MTU of the container's interface towards the destination
    sizes: tuple[int, ...] = ()  # IP packet sizes sent with don't-fragment set
    answered: tuple[int, ...] = ()  # those that came back
    frag_needed_from: str = ""  # a router that said "fragmentation needed"; "" when none did
    frag_needed_mtu: int | None = None  # the next-hop MTU it named
    transfer_expected: int | None = None  # the Content-Length of GET /, when the service is HTTP
    transfer_received: int = 0  # body bytes that arrived
    transfer_detail: str = ""  # "" when no download was tried


# --- the whole picture ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePort:
    """A port a Swarm service publishes."""

    target: int
    published: int
    protocol: Protocol = Protocol.TCP
    mode: PublishMode = PublishMode.INGRESS


@dataclass(frozen=True)
class SwarmTask:
    """One task of a Swarm service (docker service ps), newest first in its service."""

    slot: int = 0
    node_id: str = ""
    state: str = ""  # running, failed, rejected, pending, shutdown...
    desired_state: str = ""
    error: str = ""  # the task's error: "task: non-zero exit (3)", "no suitable node ..."
    timestamp: str = ""


@dataclass(frozen=True)
class SwarmService:
    """A Swarm service as its manager describes it (docker service inspect)."""

    id: str
    name: str
    endpoint_mode: str = "vip"  # vip: one virtual address load-balanced by IPVS; dnsrr: the tasks' own
    ports: tuple[ServicePort, ...] = ()
    replicas: int | None = None  # desired, for a replicated service; None for a global one
    tasks: tuple[SwarmTask, ...] = ()
    networks: tuple[str, ...] = ()  # the IDs of the networks its tasks are attached to


@dataclass(frozen=True)
class SwarmNode:
    """A node of the swarm as its manager lists it (docker node ls)."""

    id: str
    hostname: str = ""
    address: str = ""  # where the other nodes reach it (Status.Addr)
    state: str = ""  # ready, down, unknown, disconnected
    availability: str = ""  # active, pause, drain
    manager: bool = False


@dataclass(frozen=True)
class Snapshot:
    engine: Engine
    client: HostNet | None = None
    docker_host: HostNet | None = None  # None when it is the client itself (local engine)
    networks: tuple[Network, ...] = ()
    networks_outcome: Outcome = Outcome()
    containers: tuple[Container, ...] = ()
    listeners: tuple[Listeners, ...] = ()
    port_holders: PortHolders | None = None
    firewall: Firewall | None = None
    reach: tuple[Reach, ...] = ()
    source_views: tuple[SourceView, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    path_mtu: tuple[PathMtu, ...] = ()
    kernel_routes: tuple[KernelRoute, ...] = ()
    services: tuple[SwarmService, ...] = ()  # when the engine is a Swarm manager
    nodes: tuple[SwarmNode, ...] = ()  # the manager's view of the swarm, read with its services
    services_outcome: Outcome = Outcome.unavailable("not read")
    schema: int = SCHEMA_VERSION
    netdiag_version: str = ""
    created: str = ""


# --- JSON -------------------------------------------------------------------------------------


def to_dict(obj: Any, omit: frozenset[str] = frozenset()) -> Any:
    """A dataclass (or a list of them) as plain JSON values; fields named in `omit` left out."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Origin):
        return str(obj)
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name), omit) for f in dataclasses.fields(obj) if f.name not in omit}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v, omit) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v, omit) for k, v in obj.items()}
    return obj


def to_json(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(to_dict(obj), indent=indent, sort_keys=False)


class SchemaError(ValueError):
    """The data does not fit the facts model (wrong type, missing field, a value outside its vocabulary)."""


E = typing.TypeVar("E", bound=enum.Enum)


def member(vocabulary: type[E], value: Any, field: str) -> E:
    """The member of a vocabulary that an API answer names, or a SchemaError naming the field."""
    try:
        return vocabulary(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in vocabulary)
        raise SchemaError(f"{field}: {_quote(value)} is not one of {allowed}") from None


def from_dict(cls: Any, data: Any, where: str = "") -> Any:
    """Build `cls` (a dataclass or a type hint) from plain JSON values; the inverse of to_dict.
    Errors name the path to the bad value, starting at `where` (by default the type's name)."""
    name = where or getattr(cls, "__name__", str(cls))
    try:
        return _decoder(cls)(data)
    except SchemaError as e:
        raise SchemaError(f"{name}{e}" if str(e).startswith((".", "[", ":")) else f"{name}: {e}") from None


def _quote(value: Any) -> str:
    """A value in an error line: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(where: str, message: str) -> NoReturn:
    raise SchemaError(f"{where}: {message}" if where else f": {message}")


@functools.cache
def _decoder(tp: Any) -> Decoder:
    """A function that checks and converts JSON values to `tp`, built once per type.

    Errors carry the path to the bad value (".containers[0].published[0].host_port: ..."), built
    only when there is an error, so decoding a large snapshot stays cheap."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        inner = [_decoder(a) for a in args]

        def union(value: Any) -> Any:
            if value is None and optional:
                return None
            errors = []
            for dec in inner:
                try:
                    return dec(value)
                except SchemaError as e:
                    errors.append(str(e))
            raise SchemaError(errors[0] if len(errors) == 1 else ": " + "; ".join(errors) if errors
                              else ": unexpected null")
        return union
    if origin is tuple:
        item = _decoder(typing.get_args(tp)[0])

        def tuple_of(value: Any) -> Any:
            if not isinstance(value, list):
                _fail("", f"expected a list, got {type(value).__name__}")
            out = []
            for i, v in enumerate(value):
                try:
                    out.append(item(v))
                except SchemaError as e:
                    raise SchemaError(f"[{i}]{e}") from None
            return tuple(out)
        return tuple_of
    if origin is dict:
        vt = _decoder(typing.get_args(tp)[1])

        def dict_of(value: Any) -> Any:
            if not isinstance(value, dict):
                _fail("", f"expected an object, got {type(value).__name__}")
            out = {}
            for k, v in value.items():
                try:
                    out[str(k)] = vt(v)
                except SchemaError as e:
                    raise SchemaError(f".{k}{e}") from None
            return out
        return dict_of
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        def member_of(value: Any) -> Any:
            return member(tp, value, "")
        return member_of
    if tp is Origin:
        def origin(value: Any) -> Any:
            if type(value) is not str:
                _fail("", f"expected a string, got {type(value).__name__}")
            try:
                return Origin.parse(value)
            except ValueError as e:
                _fail("", str(e))
        return origin
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [(f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                   hints[f.name]) for f in dataclasses.fields(tp)]
        decoders: list[Decoder] = []  # each field's, built on first use: records may refer to each other

        def record(value: Any) -> Any:
            if not isinstance(value, dict):
                _fail("", f"expected an object, got {type(value).__name__}")
            if not decoders:
                decoders.extend(_decoder(hint) for _, _, hint in fields)
            kwargs = {}
            for (name, required, _), decode in zip(fields, decoders):
                if name in value:
                    try:
                        kwargs[name] = decode(value[name])
                    except SchemaError as e:
                        raise SchemaError(f".{name}{e}") from None
                elif required:
                    _fail("", f"missing field {name!r}")
            return tp(**kwargs)  # type: ignore[operator]
        return record
    if tp is float:
        def number(value: Any) -> Any:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            _fail("", f"expected a number, got {type(value).__name__}")
        return number
    if tp in (int, str, bool):
        def scalar(value: Any) -> Any:
            if type(value) is not tp:
                _fail("", f"expected {tp.__name__}, got {type(value).__name__}")
            return value
        return scalar
    if tp is type(None):
        def null(value: Any) -> Any:
            if value is not None:
                _fail("", "expected null")
        return null
    raise SchemaError(f": cannot decode type {tp!r}")


def from_json(cls: Any, text: str) -> Any:
    return from_dict(cls, json.loads(text))
