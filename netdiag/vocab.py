"""netdiag's closed vocabularies: every enumerated notion, one Enum each.

Facts, attempts, rules, the path and the renderers all speak these words. A value outside a
vocabulary is refused where data enters (a bundle, an API answer, a rule's registration), with
the field named, instead of being carried along as a free string that must agree across files.

Members are `str`s whose value is what the JSON carries, so they compare, format and serialise
as their value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Vocab(str, Enum):
    """A closed vocabulary whose members behave as their JSON value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# --- how a group of facts was obtained ---------------------------------------------------------

class OutcomeState(Vocab):
    COLLECTED = "collected"  # the values are the fact
    UNAVAILABLE = "unavailable"  # the probe could not run here; the reason says why
    FAILED = "failed"  # it ran and broke; the reason holds the error


# --- where the daemon lives --------------------------------------------------------------------

class Location(Vocab):
    UNKNOWN = ""  # the daemon did not say (an engine probe that failed)
    LOCAL = "local"  # dockerd runs on the machine netdiag runs on
    VM = "vm"  # in a VM on this machine (boot2docker, Docker Desktop, colima, WSL2)
    REMOTE = "remote"  # on another host (tcp://, ssh://)
    CONTAINER = "container"  # netdiag runs in a container of this daemon, its socket mounted in (CI jobs,
    # devcontainers): the daemon's host is reached at the container's gateway, its firewall is not visible


class VmKind(Vocab):
    NONE = ""
    BOOT2DOCKER = "boot2docker"
    DOCKER_DESKTOP = "docker-desktop"
    COLIMA = "colima"
    WSL2 = "wsl2"
    RANCHER_DESKTOP = "rancher-desktop"
    ORBSTACK = "orbstack"
    DOCKER_MACHINE = "docker-machine"
    LIMA = "lima"
    PODMAN_MACHINE = "podman-machine"


# VMs whose product routes container addresses to the client (OrbStack: 192.168.215.0/24 and the
# other Docker subnets reach the Mac directly, docs.orbstack.dev/docker/network)
ROUTES_CONTAINER_IPS = frozenset({VmKind.ORBSTACK})

# VMs whose product forwards published ports to the client's own localhost
FORWARDS_TO_LOCALHOST = frozenset({VmKind.DOCKER_DESKTOP, VmKind.COLIMA, VmKind.WSL2, VmKind.RANCHER_DESKTOP,
                                   VmKind.LIMA, VmKind.PODMAN_MACHINE,
                                   VmKind.ORBSTACK})


class EngineProduct(Vocab):
    """Which engine answers the Docker API: Docker's dockerd, or Podman's Docker-compatible service."""

    DOCKER = "docker"
    PODMAN = "podman"


class GatewayMode(Vocab):
    """How a bridge network's IPv4 gateway lets other machines in (Docker 27+, the network option
    com.docker.network.bridge.gateway_mode_ipv4)."""

    NAT = "nat"  # the default: published ports are DNATed from the host; only they are let in
    NAT_UNPROTECTED = "nat-unprotected"  # DNAT, but every container port is open to direct routing
    ROUTED = "routed"  # no NAT: published ports are opened on the container's own address
    ISOLATED = "isolated"  # no address on the host's bridge: the host does not reach the containers


GATEWAY_MODE_OPTION = "com.docker.network.bridge.gateway_mode_ipv4"


class HostRole(Vocab):
    CLIENT = "client"  # the machine netdiag runs on
    DOCKER_HOST = "docker-host"  # the machine dockerd runs on, when it is another one


# --- Docker objects ------------------------------------------------------------------------------

class Protocol(Vocab):
    TCP = "tcp"
    UDP = "udp"
    SCTP = "sctp"


class ContainerStatus(Vocab):
    UNKNOWN = ""
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"


class NetMode(Vocab):
    """What a container's HostConfig.NetworkMode means (Docker's own field is open text: it may
    name a user-defined network or another container)."""

    BRIDGE = "bridge"  # default, bridge, or a user-defined network
    HOST = "host"  # the host's network namespace: -p is ignored
    NONE = "none"  # loopback only
    CONTAINER = "container"  # another container's namespace (container:ID)
    USER_SPACE = "user-space"  # rootless Podman's own stack (slirp4netns, pasta): no bridge on the host

    @classmethod
    def of(cls, network_mode: str) -> NetMode:
        if network_mode in ("host", "none"):
            return cls(network_mode)
        if network_mode.startswith("container:"):
            return cls.CONTAINER
        if network_mode.split(":", 1)[0] in ("slirp4netns", "pasta"):
            return cls.USER_SPACE
        return cls.BRIDGE


# --- the facts rules read ---------------------------------------------------------------------

class Fact(Vocab):
    """A group of facts a probe gathers and a rule may need (see netdiag.rules.inputs)."""

    CLIENT_ROUTES = "client-routes"
    NETWORKS = "networks"
    LISTENERS = "listeners"
    FORWARDING = "forwarding"
    SWARM = "swarm"  # the engine's Swarm services and whether the Docker host's kernel has IPVS
    SWARM_SERVICES = "swarm-services"  # the engine's Swarm services and their tasks (a manager's view)
    DAEMON_FORWARDING = "daemon-forwarding"  # IPv4 forwarding as `docker info` reports it, wherever the daemon is
    FIREWALL_RULES = "firewall-rules"
    PORT_HOLDERS = "port-holders"
    ROUTER_ANSWER = "router-answer"
    SOURCE_VIEW = "source-view"  # what the source container sees: its routes, resolv.conf, /etc/hosts
    LOOKUP = "lookup"  # the name looked up the way the source container resolves it
    HOST_ATTEMPT = "host-attempt"  # the same outbound attempt made from the Docker host's own namespace
    KERNEL_ROUTE = "kernel-route"  # the Docker host kernel's route for a packet forwarded from the container
    PATH_MTU = "path-mtu"  # don't-fragment echoes and a bounded download, when small packets pass


# Swarm's labels on the containers of its tasks
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"
SWARM_TASK_LABEL = "com.docker.swarm.task.name"  # <service>.<slot>.<task id>


class PublishMode(Vocab):
    """How a Swarm service publishes a port."""

    INGRESS = "ingress"  # the routing mesh: every node's port, load-balanced by IPVS to the tasks
    HOST = "host"  # the node running a task binds the port itself, as -p does


# Compose's labels on the containers it makes: the project and the service
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


# --- attempts and what came back -----------------------------------------------------------------

class ProbeKind(Vocab):
    ICMP = "icmp"
    TCP = "tcp"
    UDP = "udp"  # a datagram (a DNS query to port 53): an answer, ICMP port unreachable, or silence


class DnsResult(Vocab):
    """What a resolver answered to one query."""

    NONE = ""  # the query could not be made (its outcome says why)
    ANSWERED = "answered"  # one or more addresses
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "no-address"  # the name exists, with no address (neither A nor, asked next, AAAA)
    REFUSED = "refused"  # the server refused the query
    SERVFAIL = "servfail"  # the server failed (an embedded DNS whose upstreams are silent says so)
    UNREACHABLE = "unreachable"  # nothing listens at the resolver's address (ICMP port unreachable)
    TIMEOUT = "timeout"
    ERROR = "error"


class ReachResult(Vocab):
    NONE = ""  # the attempt could not run (its outcome says why)
    ANSWERED = "answered"  # echo reply, or the service sent bytes
    REFUSED = "refused"  # TCP RST to the SYN
    RESET = "reset"  # reset while connecting
    CLOSED = "accepted-closed"  # accepted, then closed without a byte (docker-proxy with no backend)
    SILENT = "accepted-silent"  # accepted, no reply within the timeout
    TIMEOUT = "timeout"
    ICMP_UNREACHABLE = "icmp-unreachable"
    ERROR = "error"


@dataclass(frozen=True, order=True)
class Origin:
    """Where an attempt starts: the machine netdiag runs on, or inside a container (by name).

    Written `host` or `container:NAME`, on the command line, in bundles and in the JSON."""

    container: str = ""  # "" for the host

    @classmethod
    def parse(cls, text: str) -> Origin:
        if text == "host":
            return cls()
        if text.startswith("container:") and len(text) > len("container:"):
            return cls(text[len("container:"):])
        raise ValueError(f"{text!r}: expected host or container:NAME")

    @property
    def is_host(self) -> bool:
        return not self.container

    def __str__(self) -> str:
        return f"container:{self.container}" if self.container else "host"


HOST = Origin()


class AddressKind(Vocab):
    """What the address an attempt goes to is, seen from where it starts."""

    DEFAULT = "default"  # no --to: the way a user would normally reach the port
    UNSPECIFIED = "unspecified"  # 0.0.0.0 or ::, which a client treats as itself
    LOOPBACK = "loopback"  # 127.0.0.0/8, ::1, localhost
    DOCKER_HOST = "docker-host"  # the address where the daemon's host is reached
    CONTAINER_IP = "container-ip"  # the target container's own address
    OTHER_CONTAINER_IP = "other-container-ip"
    CONTAINER_NAME = "container-name"  # a container name or alias (resolved by Docker's DNS)
    OTHER = "other"  # an address netdiag does not recognise


# --- the diagnosis -------------------------------------------------------------------------------

class Verdict(Vocab):
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


class HopStatus(Vocab):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"  # not on this path
    UNKNOWN = "unknown"  # its facts could not be read; the detail says why


class Hop(Vocab):
    """The hops of a path, each where a packet meets it."""

    CLIENT = "client"
    BOUNDARY = "boundary"
    HOST_BINDING = "host binding"
    FORWARDING = "forwarding"
    NETWORK = "network"
    CONTAINER = "container"
    LISTENER = "listener"
    PROCESS = "process"
    SOURCE_CONTAINER = "source container"
    SHARED_NETWORK = "shared network"
    NAME_RESOLUTION = "name resolution"
    SOURCE_NAT = "source nat"  # the Docker host rewrites the container's source address (MASQUERADE)
    ROUTE_OUT = "route out"  # the Docker host's route towards the destination
    DESTINATION = "destination"  # the address and port the container wants to reach


# the hops of each path, in the order a packet meets them
HOST_PATH = (Hop.CLIENT, Hop.BOUNDARY, Hop.HOST_BINDING, Hop.FORWARDING, Hop.NETWORK, Hop.CONTAINER, Hop.LISTENER,
             Hop.PROCESS)
CONTAINER_PATH = (Hop.SOURCE_CONTAINER, Hop.SHARED_NETWORK, Hop.NAME_RESOLUTION, Hop.FORWARDING, Hop.CONTAINER,
                  Hop.LISTENER, Hop.PROCESS)
# from a container out to an address that is not a container: the host, the LAN, the internet
OUTBOUND_PATH = (Hop.SOURCE_CONTAINER, Hop.NAME_RESOLUTION, Hop.NETWORK, Hop.FORWARDING, Hop.SOURCE_NAT,
                 Hop.ROUTE_OUT, Hop.DESTINATION)


def path_of(origin: Origin, outbound: bool = False) -> tuple[Hop, ...]:
    if outbound:
        return OUTBOUND_PATH
    return HOST_PATH if origin.is_host else CONTAINER_PATH


class Direction(Vocab):
    """Which attempts a rule is about: from the host (the client), from another container, or both."""

    FROM_HOST = "from-host"
    FROM_CONTAINER = "from-container"
    BOTH = "both"  # both of the above: attempts towards a container
    OUTBOUND = "outbound"  # from a container out to an address that is not a container

    def covers(self, origin: Origin, outbound: bool = False) -> bool:
        if outbound or self == Direction.OUTBOUND:
            return outbound and self == Direction.OUTBOUND
        return self == Direction.BOTH or (self == Direction.FROM_HOST) == origin.is_host


class ExpectationKind(Vocab):
    """What one entry of a netdiag.yml expects."""

    REACHABLE = "reachable"
    REACHABLE_FROM = "reachable-from"  # out of a container: the Docker host, the LAN, the internet, a name
    NOT_PUBLISHED = "not-published"
    NO_OVERLAP = "no-overlap"
    ON_NETWORK = "on-network"


class CheckStatus(Vocab):
    """How one expectation of `netdiag check` came out."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
