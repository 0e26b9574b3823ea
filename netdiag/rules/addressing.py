"""Where the attempt goes: the wrong address, a container IP the client cannot route to, a
loopback-only binding, and Docker subnets that a VPN or LAN also claims."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator

from netdiag.context import Context, docker_major, hostport, is_loopback, where_daemon_runs
from netdiag.facts import CUT_SHORT, PortBinding, Snapshot
from netdiag.memo import per_snapshot
from netdiag.parsers.routes import route_for
from netdiag.rules import Found, rule
from netdiag.rules.ports import holders_of
from netdiag.subnets import Overlap, lan_parent, overlaps
from netdiag.vocab import (
    FORWARDS_TO_LOCALHOST,
    AddressKind,
    Direction,
    Fact,
    GatewayMode,
    Hop,
    HostRole,
    Location,
    ProbeKind,
    ReachResult,
)


def forwards_to_client(ctx: Context) -> bool:
    """Docker Desktop and its kind forward published ports to the client's own localhost."""
    return ctx.engine.location == Location.LOCAL or ctx.engine.vm_kind in FORWARDS_TO_LOCALHOST


def reach_evidence(ctx: Context, address: str, port: int | None) -> list[str]:
    out = []
    icmp = ctx.reach(address, None, ProbeKind.ICMP)
    if icmp is not None and icmp.outcome.ok:
        who = f" from {icmp.responder}" if icmp.responder and icmp.responder != address else ""
        out.append(f"ping {address}: {icmp.detail}{who}")
    elif icmp is not None and icmp.outcome.method == CUT_SHORT:
        out.append(f"ping {address}: {icmp.outcome.reason}")
    if port:
        tcp = ctx.reach(address, port)
        if tcp is not None and tcp.outcome.ok:
            who = f" from {tcp.responder}" if tcp.responder and tcp.responder != address else ""
            out.append(f"connect to {hostport(address, port)}: {tcp.result} ({tcp.detail}){who}")
        elif tcp is not None and tcp.outcome.method == CUT_SHORT:
            out.append(f"connect to {hostport(address, port)}: {tcp.outcome.reason}")
    return out


def working_addresses(ctx: Context) -> list[str]:
    """Where the port in question is published, as a client should use it."""
    out = []
    for b in ctx.published():
        if is_loopback(b.host_ip) and not forwards_to_client(ctx):
            continue
        addr = ctx.public_address(b)
        if ":" in addr and not b.host_ip:
            continue
        out.append(hostport(addr, b.host_port))
    return list(dict.fromkeys(out))


def _bound(b: PortBinding) -> str:
    return f"{b.container_port}/{b.protocol} is published on {hostport(b.host_ip or '0.0.0.0', b.host_port)}"


@rule("ND301", "wrong-address", Hop.CLIENT, direction=Direction.FROM_HOST, holds_when_answered=True)
def this_machine_is_not_the_docker_host(ctx: Context) -> Iterator[Found]:
    """0.0.0.0 or localhost is the client itself, while the port is published on the Docker host elsewhere.

    Detects: an attempt to 0.0.0.0, 127.0.0.1 or localhost from a client whose daemon runs in a
    VM or on another host.
    Why it breaks: those addresses mean "this machine" to the client; the port is published on
    the VM or the other host, so nothing answers here (or something else does).
    Evidence: where the daemon runs, the binding of the port, and what the attempt got back.
    Fix: the Docker host's address with the real host port, e.g. `192.168.59.103:32768`.
    Exceptions: Docker Desktop, colima and WSL2 forward published ports to the client's
    localhost, so localhost is right there; a daemon on this machine.
    """
    a = ctx.attempt
    if a.kind not in (AddressKind.UNSPECIFIED, AddressKind.LOOPBACK) or forwards_to_client(ctx):
        return
    what = "0.0.0.0" if a.kind == AddressKind.UNSPECIFIED else (a.name or a.address)
    evidence = [where_daemon_runs(ctx.engine), f"{what} on the client is the client itself, not the Docker host"]
    evidence += [f"{_bound(b)} of the Docker host" for b in ctx.published()]
    evidence += reach_evidence(ctx, a.address, a.port)
    fix = [f"use {w}" for w in working_addresses(ctx)] or [f"publish the port, then use {ctx.host_address}:<host port>"]
    yield Found(f"{a.to_text} is this machine, but the port is published on the Docker host "
                  f"({ctx.host_address})", evidence, fix)


@rule("ND307", "wrong-address", Hop.SOURCE_CONTAINER, direction=Direction.FROM_CONTAINER, holds_when_answered=True)
def loopback_inside_another_container(ctx: Context) -> Iterator[Found]:
    """127.0.0.1 or localhost inside a container is that container itself, not the one wanted.

    Detects: container to container, the attempt goes to a loopback address.
    Why it breaks: each container has its own network namespace and its own loopback; the
    target listens in its namespace, not in the source's.
    Evidence: the source container and the address it tried.
    Fix: the target's name on a shared user-defined network, or its address on a shared network;
    connect the two first when they share none.
    Exceptions: containers in one namespace (`--network container:NAME`, or pods) share loopback.
    """
    a = ctx.attempt
    if a.kind != AddressKind.LOOPBACK or ctx.source_container is None:
        return
    src, name = ctx.source_container.name, ctx.target.name
    target_nets = ctx.networks_of(ctx.target)
    shared = [n for n in ctx.networks_of(ctx.source_container) if n in target_nets]
    user_defined = [n for n in shared if n.name != "bridge"]
    address = {e.network: e.ipv4 for e in ctx.target.endpoints}
    fix = [f"{name}:{ctx.port} (by name on network {user_defined[0].name})"] if user_defined else []
    if shared:
        fix.append(f"{address[shared[0].name]}:{ctx.port} ({name}'s address on {shared[0].name})")
    else:
        net = target_nets[0].name if target_nets else "bridge"
        fix.append(f"connect them first: docker network connect {net} {src}, then use {name}:{ctx.port}")
    yield Found(f"{a.to_text} inside {src} is {src} itself, not {name}",
                  [f"the attempt goes to {a.to_text} from inside {src}: that is {src} itself, not {name}"], fix)


@rule("ND305", "wrong-address", Hop.HOST_BINDING, direction=Direction.FROM_HOST, holds_when_answered=True)
def not_where_it_is_published(ctx: Context) -> Iterator[Found]:
    """The host address or port tried is not where the container is published.

    Detects: an attempt to an address of the Docker host (or another host address) on a host port
    the container does not publish, or to an address its binding does not cover
    (`-p 192.168.1.5:8080:80` tried on another address).
    Why it breaks: a published port answers only on its host port, and only on the address it is
    bound to; another port may even belong to another container or process. A binding on the IPv6
    wildcard alone (`-p [::]:8080:80`, an IPv6-only network) answers IPv6 addresses only.
    Evidence: the container's bindings, who holds the port tried, and what the attempt got back.
    Fix: where the binding answers (for 0.0.0.0, the Docker host's IPv4 address: a wildcard is
    where to bind, not where to connect), or publish on every address (`-p 8080:80`).
    Exceptions: loopback-only bindings (published-on-loopback-only says so); a container with no
    binding at all (port-not-published says so).
    """
    # who holds the port tried is named when the port holders were read for another reason: they
    # are not planned for this rule (reading every process's sockets is the costliest probe)
    a = ctx.attempt
    if a.kind not in (AddressKind.DOCKER_HOST, AddressKind.OTHER, AddressKind.LOOPBACK) or a.port is None:
        return
    name = ctx.target.name
    bindings = [b for b in ctx.target.published if b.host_port == a.port]
    if not bindings:
        if not ctx.target.published or not ctx.target.state.running:
            return
        evidence = [f"{name} publishes nothing on host port {a.port}"] + [_bound(b) for b in ctx.target.published]
        evidence += [f"host port {a.port} is held by {w}" for w in holders_of(ctx, a.port)]
        evidence += reach_evidence(ctx, a.address, a.port)
        works = working_addresses(ctx) or [hostport(ctx.public_address(b), b.host_port) for b in ctx.target.published
                                           if ":" not in ctx.public_address(b)]
        yield Found(f"host port {a.port} does not lead to {name}", evidence,
                      [f"use {w}" for w in works])
        return
    wildcard = ("", "::") if ":" in a.address else ("", "0.0.0.0")  # [::] alone is IPv6's only
    covers = wildcard + (a.address,) + ((ctx.host_address,) if a.kind == AddressKind.DOCKER_HOST else ())
    if any(b.host_ip in covers for b in bindings) or all(is_loopback(b.host_ip) for b in bindings):
        return
    evidence = [f"{b.container_port}/{b.protocol} is bound to {hostport(b.host_ip, b.host_port)} only"
                for b in bindings]
    evidence.append(f"the attempt goes to {a.address}, which that binding does not cover"
                    + (" (0.0.0.0 is IPv4's wildcard: it covers no IPv6 address)"
                       if ":" in a.address and any(b.host_ip == "0.0.0.0" for b in bindings) else ""))
    evidence += reach_evidence(ctx, a.address, a.port)
    uses = [f"use {hostport(ctx.public_address(b), b.host_port)}" if ctx.public_address(b) else
            f"use the Docker host's IPv6 address: [<address>]:{b.host_port}  (the binding is IPv6's only)"
            for b in bindings]  # a wildcard is where to bind, not where to connect: the Docker host's address
    yield Found(f"{hostport(a.address, a.port)} is not where {name} is bound", evidence,
                  uses + [f"or publish on every address: docker run -p {a.port}:{bindings[0].container_port} ..."])


@rule("ND306", "wrong-address", Hop.CLIENT, holds_when_answered=True)
def another_containers_address(ctx: Context) -> Iterator[Found]:
    """The address or name tried belongs to another container, or is a container name used from the host.

    Detects: the attempt goes to another container's IP; or, from the host, to a container's name.
    Why it breaks: another container's address leads to that container; a container name is
    answered by Docker's DNS inside user-defined networks only, not on the host.
    Evidence: whose address it is, or that the name is a container's.
    Fix: the target's own address or published port.
    Exceptions: a name /etc/hosts maps on the host; names from inside a shared user-defined network.
    """
    a = ctx.attempt
    name = ctx.target.name
    works = [f"use {w}" for w in working_addresses(ctx)]
    if a.kind == AddressKind.OTHER_CONTAINER_IP:
        owner = next((c.name for c in ctx.snapshot.containers if a.address in ctx.ipv4(c)), "?")
        yield Found(f"{a.address} belongs to another container, not {name}",
                      [f"{a.address} is the address of container {owner}, not {name}"],
                      [f"use {ip}:{ctx.port}" for ip in ctx.ipv4()] + works)
    elif a.kind == AddressKind.CONTAINER_NAME and not ctx.from_container:
        evidence = [f"{a.name} is a container name: Docker's DNS answers it inside user-defined networks only, "
                    "not on the host (unless /etc/hosts maps it)"] + [_bound(b) for b in ctx.published()]
        yield Found(f"{a.name} does not resolve on the host: it names a container", evidence,
                      works or [f"publish the port (-p {a.port or ctx.port}:{ctx.port}), then use "
                                f"{ctx.host_address}:{a.port or ctx.port}"])


@rule("ND302", "ip-not-routable", Hop.CLIENT, needs=((Fact.CLIENT_ROUTES, Fact.ROUTER_ANSWER),),
      direction=Direction.FROM_HOST)
def ip_not_routable(ctx: Context) -> Iterator[Found]:
    """The container IP is on a bridge inside the Docker host (a VM or another machine): the client has no route to it.

    Detects: an attempt to the container's own IP from a client that is not the Docker host,
    whose route to that IP does not go through the Docker host.
    Why it breaks: Docker's bridge networks (172.17.0.0/16 by default) exist only inside the
    Docker host; the client sends such packets to its default gateway, whose router answers
    "Destination Net Unreachable" or drops them.
    Evidence: where the daemon runs, the network and subnet of the IP, the client's route to it,
    and who answered the ping (the router that sent the ICMP error).
    Fix: use the published port on the Docker host's address (`192.168.59.103:32768`); publish
    the port first if it is not; before Docker 28, a route to the subnet via the Docker host
    reaches published container ports too (Docker 28 and later drop such traffic, so that route
    is not offered there).
    Exceptions: the Docker host itself, a client with a route via the Docker host, and a Mac whose
    OrbStack routes container addresses to it. On a network in routed gateway mode the route via
    the Docker host is the way in, whatever Docker's version, and comes first in the fix.
    A rootless engine (Docker or Podman) keeps its networks in its own network namespace: no
    route leads there, from the host itself or elsewhere, so the address is not tried (the host's
    route would reach whatever else holds it) and the fix is the published port.
    """
    a = ctx.attempt
    if ctx.reaches_container_ips:
        return
    if a.kind == AddressKind.CONTAINER_IP:
        address, port = a.address, a.port or ctx.port
    elif a.kind == AddressKind.DEFAULT and ctx.routed_network() is not None and not ctx.published():
        net = ctx.routed_network()  # no host port: the way in is the container's own address
        address = next((ep.ipv4 for ep in ctx.target.endpoints if net is not None and ep.network == net.name), "")
        port = ctx.port
    else:
        return
    if not address or port and ctx.answered(address, port):
        return
    if ctx.in_rootless_namespace(address):
        yield _in_rootless_namespace(ctx, address, port)
        return
    client = ctx.snapshot.client
    routes_known = client is not None and client.outcome.ok
    route, table = ctx.client_route(address) if routes_known else (None, "")
    if route is not None and route.gateway and route.gateway == ctx.host_address:
        return
    icmp = ctx.reach(address, None, ProbeKind.ICMP)
    ep = next((e for e in ctx.target.endpoints if e.ipv4 == address), None)
    net = ctx.network(ep.network) if ep else None
    evidence = [where_daemon_runs(ctx.engine)]
    if net is not None:
        evidence.append(f"{address} is on network {net.name} ({', '.join(net.subnets)}"
                        f"{', bridge ' + net.bridge if net.bridge else ''}) inside the Docker host")
    if not routes_known:
        why = client.outcome.reason if client else "not collected"
        evidence.append(f"the client's routes could not be read: {why}")
    elif route is None:
        evidence.append(f"the client has no route to {address}")
    elif table:
        evidence.append(f"the client's route to {address}: via {route.gateway or 'on-link'} dev {route.device}, "
                        f"from policy table {table} (the kernel's own choice), not via the Docker host")
    elif route.gateway:
        evidence.append(f"the client's route to {address}: {route.destination} via {route.gateway} dev {route.device}"
                        + (" (its default gateway)" if route.destination in ("0.0.0.0/0", "::/0") else ""))
    else:
        evidence.append(f"the client's route to {address}: {route.destination} dev {route.device}, "
                        "not via the Docker host")
    evidence += reach_evidence(ctx, address, port)
    works = working_addresses(ctx)
    fix = [f"use {w}" for w in works]
    routed = net if net is not None and net.gateway_mode == GatewayMode.ROUTED else None
    if routed is not None and routed.subnets and ctx.host_address:
        fix.insert(0, f"route the subnet via the Docker host: ip route add {routed.subnets[0]} via {ctx.host_address}"
                      f"  ({routed.name} is in routed gateway mode: its containers are reached at their own addresses)")
    elif not works:
        fix.append(f"publish the port: docker run -p {ctx.port or 80}:{ctx.port or 80} ..., then use "
                   f"{ctx.host_address}:{ctx.port or 80}")
    if routed is not None:
        evidence.append(f"{routed.name} is in routed gateway mode: no host port, the client routes to the container")
    elif ctx.host_address and net is not None and net.subnets and docker_major(ctx.engine) < 28:
        fix.append(f"or route the subnet via the Docker host (reaches published container ports only): "
                   f"ip route add {net.subnets[0]} via {ctx.host_address}")
    elif ctx.host_address and net is not None and net.subnets:
        evidence.append(f"Docker {ctx.engine.server_version} drops traffic sent straight to container addresses "
                        "from other hosts: a route to the subnet is not enough since Docker 28")
    summary = f"{address} is on a bridge inside the Docker host ({ctx.host_address}): the client has no route to it"
    if icmp is not None and icmp.result == ReachResult.ICMP_UNREACHABLE and icmp.responder:
        summary += f" ({icmp.responder} answered {icmp.detail})"
    yield Found(summary, evidence, fix)


def _in_rootless_namespace(ctx: Context, address: str, port: int | None) -> Found:
    """A rootless engine's container address tried from outside the engine: its networks live in
    the engine's own network namespace, which no route of the host (or of any other machine)
    leads into; only its published ports, carried in by its port forwarder, reach the container.
    The address is not tried: the host's route would take it to whatever else holds it."""
    ep = next((e for e in ctx.target.endpoints if address in (e.ipv4, e.ipv6)), None)
    net = ctx.network(ep.network) if ep else None
    on = f" on network {net.name} ({', '.join(net.subnets)}{', bridge ' + net.bridge if net.bridge else ''})" \
        if net is not None else ""
    evidence = [f"the engine runs rootless ({where_daemon_runs(ctx.engine)}): its networks live in its own network "
                "namespace, not the host's", f"{address} is {ctx.target.name}'s address{on} in that namespace",
                f"not tried from here: the host's route to {address} leads out of the host, to whatever holds that "
                "address there"]
    works = working_addresses(ctx)
    fix = [f"use {w}" for w in works] or [
        f"publish the port: docker run -p {port or 80}:{port or 80} ..., then use {ctx.host_address}:{port or 80}"]
    return Found(f"{address} is in the rootless engine's own network namespace: no route from here leads to it",
                 evidence, fix)


@rule("ND303", "published-on-loopback-only", Hop.HOST_BINDING)
def published_on_loopback_only(ctx: Context) -> Iterator[Found]:
    """The port is published on the Docker host's loopback (127.0.0.1 or ::1) and the attempt comes from elsewhere.

    Detects: every binding of the port is to 127.0.0.1 or ::1 (`-p 127.0.0.1:8080:80`) while the
    client is another machine, a container, or uses a non-loopback address of the host.
    Why it breaks: a loopback binding accepts connections from the Docker host itself only.
    Evidence: the binding, and where the attempt comes from.
    Fix: publish on all addresses (`-p 8080:80`) or on the address clients use
    (`-p 192.168.1.5:8080:80`); or keep it private and tunnel: `ssh -L 8080:127.0.0.1:8080 host`.
    Exceptions: Docker Desktop, colima and WSL2 forward loopback bindings to the client's localhost;
    a container that goes to the target's own address or name, not through the Docker host's
    port (no binding is on that way).
    """
    bindings = ctx.published()
    if not bindings or not all(is_loopback(b.host_ip) for b in bindings):
        return
    a = ctx.attempt
    if ctx.from_container and a.kind not in (AddressKind.DOCKER_HOST, AddressKind.OTHER):
        return
    elsewhere = ctx.from_container or not forwards_to_client(ctx) or a.kind in (AddressKind.DOCKER_HOST,
                                                                               AddressKind.OTHER)
    if not elsewhere:
        return
    b = bindings[0]
    origin = f"container {ctx.source_container.name}" if ctx.source_container is not None else (
        f"{a.address}, a non-loopback address" if a.kind in (AddressKind.DOCKER_HOST, AddressKind.OTHER)
        else "a client on another machine")
    evidence = [f"{b.container_port}/{b.protocol} is published on {hostport(b.host_ip, b.host_port)} only",
                f"the attempt comes from {origin}"]
    if not ctx.from_container:
        evidence.insert(1, where_daemon_runs(ctx.engine))
    evidence += reach_evidence(ctx, a.address, a.port) if a.address else []
    yield Found(f"{ctx.target.name} publishes {b.container_port}/{b.protocol} on "
                  f"{b.host_ip} only: it answers on the Docker host itself, nowhere else", evidence,
                  [f"publish on all addresses: docker run -p {b.host_port}:{b.container_port} ...",
                   f"or keep it private and tunnel: ssh -L {b.host_port}:{hostport(b.host_ip, b.host_port)} "
                   f"<docker host>, then use 127.0.0.1:{b.host_port}"])


@per_snapshot
def _overlaps_on(snapshot: Snapshot, role: HostRole) -> list[Overlap]:
    """Every Docker network's overlaps on the client or the Docker host, computed once per snapshot."""
    host = snapshot.client if role == HostRole.CLIENT else snapshot.docker_host
    return overlaps(snapshot.networks, host, snapshot.engine.host_address,
                    snapshot.engine.location == Location.CONTAINER) if host is not None else []


def free_ranges(ctx: Context, count: int = 2) -> list[str]:
    """Private ranges that no route, interface or Docker network of the snapshot uses."""
    used = []
    for host in (ctx.snapshot.client, ctx.snapshot.docker_host):
        if host is None:
            continue
        used += [ipaddress.ip_network(r.destination) for r in host.routes if r.family == 4
                 and ipaddress.ip_network(r.destination).prefixlen > 0]
        used += [ipaddress.ip_interface(a).network for i in host.interfaces for a in i.addresses if "." in a]
    used += [ipaddress.ip_network(s) for n in ctx.snapshot.networks for s in n.subnets if "." in s]
    out = []
    for base in ("10.200.0.0/16", "10.210.0.0/16", "10.220.0.0/16", "172.30.0.0/16", "192.168.200.0/22"):
        net = ipaddress.ip_network(base)
        if not any(net.overlaps(u) for u in used):
            out.append(base)
        if len(out) == count:
            break
    return out


@rule("ND304", "subnet-overlap", Hop.NETWORK, needs=(Fact.CLIENT_ROUTES, Fact.NETWORKS), holds_when_answered=True,
      direction=Direction.FROM_HOST)
def subnet_overlap(ctx: Context) -> Iterator[Found]:
    """A Docker network overlaps a route or interface (VPN, LAN), so traffic to the container goes the wrong way.

    Detects: an interface or route of the client (or of the Docker host, when it is this machine)
    that covers the container's address on one of its Docker networks.
    Why it breaks: the more specific route wins: packets for the container leave through the VPN
    or LAN interface instead of Docker's bridge, and replies from the container to that range
    never reach the VPN or LAN.
    Evidence: the Docker network and subnet, the overlapping interface or route, and the route
    the client picks for the container's address.
    Fix: move Docker to a free range: `daemon.json` with `bip` and `default-address-pools`
    (restart dockerd), or recreate a user-defined network with `--subnet` in a free range.
    Exceptions: Docker's own bridges, the default route, and a route to the subnet via the Docker
    host itself (the old boot2docker workaround); a rootless engine, whose networks live in its
    own network namespace where the host's routes do not apply; a macvlan or ipvlan network,
    whose containers are past the host's IP stack; an attempt from another container, which stays
    on the Docker network and never meets the host's routes. An answer does not rule it out:
    the machine of the VPN or LAN that holds the address may be the one answering.
    """
    if ctx.engine.rootless:
        return  # its networks are in its own namespace: the host's routes never carry traffic to them
    hosts = [h for h in (ctx.snapshot.client, ctx.snapshot.docker_host) if h is not None and h.outcome.ok]
    mine = {ep.network: ep for ep in ctx.target.endpoints if ep.ipv4}
    for host in hosts:
        for o in _overlaps_on(ctx.snapshot, host.role):
            if o.network not in mine:
                continue
            ip = ipaddress.ip_address(mine[o.network].ipv4)
            if ip not in ipaddress.ip_interface(o.prefix).network:
                continue
            route = route_for(host.routes, str(ip))
            claimed = f"{o.kind} {o.prefix} dev {o.device}" + (f" via {o.gateway}" if o.gateway else "")
            evidence = [f"network {o.network} ({o.subnet}) overlaps {claimed} on the {o.machine}",
                        f"{ctx.target.name} has {ip} on {o.network}, inside {o.prefix}"]
            if route is not None:
                evidence.append(f"the {o.machine}'s route to {ip}: {route.destination} dev {route.device}"
                                + (f" via {route.gateway}" if route.gateway else ""))
            free = free_ranges(ctx)
            fix = []
            if o.network == "bridge" and free:
                pools = json.dumps({"bip": str(next(ipaddress.ip_network(free[0]).hosts())) + "/24",
                                    "default-address-pools": [{"base": free[-1], "size": 24}]})
                fix.append(f"move Docker's default bridge: /etc/docker/daemon.json {pools}, then restart dockerd")
            elif free:
                sub = str(next(ipaddress.ip_network(free[0]).subnets(new_prefix=24)))
                fix.append(f"recreate the network in a free range: docker network create --subnet {sub} "
                           f"{o.network}-new; docker network connect {o.network}-new {ctx.target.name}")
                fix.append(f"and keep Docker out of the VPN's way: /etc/docker/daemon.json "
                           f"{json.dumps({'default-address-pools': [{'base': free[-1], 'size': 24}]})}")
            fix.append(f"or narrow the {o.device} route so it leaves {o.subnet} alone")
            yield Found(f"{o.device} on the {o.machine} claims {o.prefix}, inside Docker network "
                          f"{o.network} ({o.subnet}): traffic to {ip} goes to {o.device}", evidence, fix)
            return


@rule("ND308", "macvlan-host-isolation", Hop.NETWORK, needs=(Fact.NETWORKS, Fact.CLIENT_ROUTES),
      direction=Direction.FROM_HOST)
def macvlan_host_isolation(ctx: Context) -> Iterator[Found]:
    """The Docker host cannot reach its own container on a macvlan or ipvlan network.

    Detects: netdiag runs on the Docker host, the container's address is on a macvlan or ipvlan
    network whose parent is one of this machine's interfaces, the host's route to that address
    goes out of the parent itself, and the attempt got no answer.
    Why it breaks: the kernel passes no traffic between a parent interface and its macvlan (or
    ipvlan) children: packets from the host leave by the parent onto the wire and never come back
    to the child. Other machines of that LAN reach the container; the host alone does not.
    Evidence: the network, its driver and parent, the host's route to the address, and what the
    attempt got.
    Fix: give the host its own macvlan interface on the parent (a "shim": `ip link add
    macvlan-shim link PARENT type macvlan mode bridge`, an unused address of the LAN on it, and a
    route to the container through it); or reach the container from another machine of the LAN;
    or connect it to a bridge network as well, which the host reaches.
    Exceptions: an attempt that answered; a host whose route to the address does not go out of
    the parent (through a shim already, or another way).
    """
    if not ctx.local or ctx.port is None:
        return
    for net in ctx.lan_networks():
        ip = next((e.ipv4 for e in ctx.target.endpoints if e.network in (net.name, net.id) and e.ipv4), "")
        r = ctx.reach(ip, ctx.port) if ip else None
        if r is None or not r.outcome.ok or ctx.answered(ip, ctx.port):
            continue
        route, _ = ctx.client_route(ip)
        parents = lan_parent(net)
        if route is None or route.device not in parents:
            continue
        parent, shim = parents[0], f"{net.driver}-shim"
        kind = "macvlan mode bridge" if net.driver == "macvlan" else "ipvlan mode l2"
        subnet = next(iter(net.subnets), "the LAN")
        yield Found(f"this machine cannot reach {ctx.target.name} at {ip}: {net.name} is a {net.driver} network on "
                    f"its own interface {parent}, and the kernel passes nothing between a parent and its "
                    f"{net.driver} children",
                    [f"{net.name}: driver {net.driver}, parent {parent} (an interface of this machine)",
                     f"this machine's route to {ip}: {route.destination} dev {route.device}: out of the parent",
                     *reach_evidence(ctx, ip, ctx.port)],
                    [f"ip link add {shim} link {parent} type {kind}; ip addr add <an unused address of {subnet}>/32 "
                     f"dev {shim}; ip link set {shim} up; ip route add {ip}/32 dev {shim}  (this machine then "
                     f"reaches {ip} through its own {net.driver} interface)",
                     f"or from another machine of that LAN: {hostport(ip, ctx.port)}",
                     f"or connect it to a bridge network as well: docker network connect bridge {ctx.target.name} "
                     "(this machine reaches it at that address)"])
