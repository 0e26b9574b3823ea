"""From a container out: the attempt, the rules, the path and the verdict of an outbound diagnosis.

Pure, like the rest of the reasoner: the live command and `explain` on a bundle run it alike.
"""

from __future__ import annotations

from collections.abc import Callable

from netdiag import overlay
from netdiag.addr import is_ip
from netdiag.context import hostport
from netdiag.diagnosis import Attempt, Diagnosis, Finding, PathStep
from netdiag.errors import BadInput
from netdiag.facts import CUT_SHORT, Container, Snapshot
from netdiag.outbound import Outbound, lookup_text, resolved_address
from netdiag.parsers.routes import route_for
from netdiag.reasoner.apply import Skip, apply
from netdiag.reasoner.attempt import parse_to
from netdiag.reasoner.evidence import against_the_answer, passed_outbound_hops
from netdiag.reasoner.path import unchecked
from netdiag.rules import rules_for
from netdiag.subnets import docker_devices
from netdiag.untrusted import quote
from netdiag.vocab import OUTBOUND_PATH, AddressKind, Hop, HopStatus, NetMode, Origin, Protocol, ReachResult, Verdict

OK, FAIL, SKIP, UNKNOWN = HopStatus.OK, HopStatus.FAIL, HopStatus.SKIP, HopStatus.UNKNOWN
Seen = tuple[HopStatus, str]


def destination(text: str, port: int | None, what: str = "DESTINATION") -> tuple[str, int | None, Protocol]:
    """(address or name, port, protocol) of DESTINATION as written: ADDR, ADDR:PORT, [v6]:PORT,
    NAME[:PORT], each with `/udp` (or `/tcp`) after the port as Docker writes ports; --port fills
    a missing port and must agree with a given one."""
    protocol = Protocol.TCP
    head, slash, proto = text.rpartition("/")
    if slash and proto.lower() in ("tcp", "udp"):
        text, protocol = head, Protocol(proto.lower())
    host, given = parse_to(text, what)
    if given is not None and port is not None and given != port:
        raise BadInput("bad-argument", f"{what} {quote(text)} names port {given} and --port says {port}")
    port = given if given is not None else port
    if protocol == Protocol.UDP and port is None:
        raise BadInput("bad-argument", f"{what} {quote(text)}/udp: a UDP attempt needs a port (ADDR:PORT/udp)")
    return host, port, protocol


def outbound_attempt(snapshot: Snapshot, source: Container, origin: Origin, to: str, port: int | None) -> Attempt:
    """The attempt of `to` from `source`: a name is resolved as the container resolves it (from the
    lookups the snapshot recorded); "" as address when it did not resolve."""
    host, port, _ = destination(to, port)
    if is_ip(host):
        return Attempt(origin, to, host, "", port, AddressKind.OTHER)
    return Attempt(origin, to, resolved_address(snapshot, source, host), host, port, AddressKind.OTHER)


def diagnose_outbound(ctx: Outbound) -> Diagnosis:
    """Every outbound rule over the attempt; causes in path order; reachable only when the
    container's own attempt was answered and no rule fired."""
    rules = list(rules_for(outbound=True))
    found, skipped = apply(rules, ctx)
    notes: list[str] = []
    if ctx.answered():  # an answer through a hop overrules what the facts said of it
        found, notes = against_the_answer(found, passed_outbound_hops(ctx), ctx.where)
    order = {h: i for i, h in enumerate(OUTBOUND_PATH)}
    causes = sorted(found, key=lambda f: (order.get(f.hop, 99), f.rule))
    path = build_outbound_path(ctx, causes, skipped)
    r = ctx.from_source()
    unknown = [f"{h.hop}: {h.detail}" for h in path if h.status == UNKNOWN]
    if causes:
        verdict = Verdict.UNREACHABLE
    elif ctx.answered():
        verdict = Verdict.REACHABLE
    else:
        verdict = Verdict.UNKNOWN
        if not unknown:
            unknown.append("the attempt did not succeed and no rule explains why" if r is not None and r.outcome.ok
                           else "the attempt from the container could not be made")
    udp = "/udp" if ctx.protocol == Protocol.UDP else ""
    works = (hostport(ctx.address, ctx.port) + udp if ctx.port else ctx.address,) if ctx.answered() else ()
    if ctx.address and ":" in ctx.address and not any(e.ipv6 for e in ctx.source.endpoints):
        notes.append(f"{ctx.name or ctx.address} is reached at an IPv6 address ({ctx.address}), and "
                     f"{ctx.source.name} has no IPv6 address: only a network created with IPv6 "
                     "(docker network create --ipv6 ...) gives it one, or use an IPv4 address or name")
    host = ctx.from_host()
    if host is not None and host.outcome.ok and ctx.answered() != ctx.host_answered():
        notes.append(f"from the Docker host itself: {ctx.where} {host.result}")
    return Diagnosis(verdict, "", "", ctx.attempt, (ctx.port,) if ctx.port else (), tuple(causes), tuple(path),
                     works, tuple(notes), tuple(dict.fromkeys(unknown)) if verdict == Verdict.UNKNOWN else ())


# hops whose rules can decide from the facts alone, before any attempt: the Docker host's part
SETTLING_HOPS = frozenset({Hop.SOURCE_CONTAINER, Hop.NETWORK, Hop.FORWARDING, Hop.SOURCE_NAT})


def settled_outbound(ctx: Outbound) -> str:
    """Why the facts alone already say the container's attempt cannot be answered ("" when they
    do not): a network without source NAT, forwarding off, a firewall rule that certainly drops
    it, no network. The live source then waits for the attempt only briefly: an answer would
    still prove the facts wrong; silence is cut short, never called a failure."""
    rules = [r for r in rules_for(outbound=True) if r.hop in SETTLING_HOPS]
    found, _ = apply(rules, ctx)
    return found[0].summary if found else ""


# --- the path -------------------------------------------------------------------------------------

def _source_container(ctx: Outbound) -> Seen:
    src = ctx.source
    if not ctx.running:
        return FAIL, f"{src.name} {src.state.status}"
    r = ctx.source_route()
    route = f"; route to {ctx.address}: {r.destination}" + (f" via {r.gateway}" if r.gateway else "") + \
        f" dev {r.device}" if r is not None else ""
    owner = ctx.namespace_owner
    mode = f"in {owner.name}'s network namespace (network mode {ctx.joined.network_mode[:22]})" if owner else \
        f"network mode {src.network_mode or 'default'}"
    return OK, f"{src.name}: {src.state.status}, {mode}{route}"


def _name_resolution(ctx: Outbound) -> Seen:
    if not ctx.name:
        return SKIP, "an address, no name to resolve"
    hosts = ctx.in_hosts_file()
    if hosts:
        return OK, f"{ctx.name} -> {hosts[0]} (the container's /etc/hosts)"
    answered = [lk for lk in ctx.lookups(upstream=False) if lk.outcome.ok and lk.addresses]
    if answered:
        return OK, lookup_text(answered[0])
    unseen = overlay.unseen_task_nodes(ctx)
    if unseen:
        c = unseen[0]
        return UNKNOWN, (f"{ctx.name} did not resolve: {c.label}, which runs its task, is not among the peers of "
                         f"{c.network.name} seen from this node; {_gossip_text(ctx, c.node)}; nothing here shows its "
                         "ports blocked: the overlay may still be syncing (a task that has just started)")
    return UNKNOWN, f"{ctx.name} did not resolve, and no rule says why"


def _network(ctx: Outbound) -> Seen:
    if ctx.source.mode == NetMode.HOST:
        return SKIP, "host network mode: the container uses the Docker host's own network"
    if ctx.source.mode == NetMode.USER_SPACE:
        return OK, f"network mode {ctx.source.network_mode}: a network stack in user space, no Docker network"
    net = ctx.leaving_network()
    if net is None:
        return OK, "no Docker network"
    gateway = next(iter(net.gateways), "") or next((ep.gateway for ep in ctx.source.endpoints
                                                    if ep.network in (net.name, net.id) and ep.gateway), "")
    return OK, f"leaves on {net.name} ({', '.join(net.subnets)}) as {ctx.source_address(net)}" + \
        (f", gateway {gateway}" if gateway else "")


# the hops a packet to the container's own loopback never meets
BEYOND_THE_CONTAINER = frozenset({Hop.NETWORK, Hop.FORWARDING, Hop.SOURCE_NAT, Hop.ROUTE_OUT})


def _itself(ctx: Outbound) -> Seen:
    """The hops beyond the container, when the destination is its own loopback."""
    return SKIP, f"{ctx.address} is {ctx.source.name} itself: the packets never leave it"


ROOTLESS_OUT = ("a rootless engine: its user-space network stack (slirp4netns, pasta, RootlessKit) makes the "
                "connection from the Docker host itself: nothing is forwarded or rewritten by the host's rules")


def _forwarding(ctx: Outbound) -> Seen:
    if ctx.source.mode == NetMode.HOST:
        return SKIP, "host network mode: nothing is forwarded"
    if not ctx.address:
        return SKIP, "no address to go to"
    if ctx.to_docker_host():
        return SKIP, f"{ctx.address} is the Docker host itself: not forwarded"
    net = ctx.over_overlay()
    if net is not None:
        return SKIP, f"{ctx.address} is on the overlay {net.name}: not forwarded by the Docker host"
    if ctx.engine.rootless:
        return SKIP, ROOTLESS_OUT
    fw = ctx.snapshot.firewall
    if fw is None or not fw.outcome.ok:
        return OK, "not read" + (f": {fw.outcome.reason}" if fw is not None else "")
    fwd = fw.chain("filter", "FORWARD")
    return OK, f"ip_forward {'on' if fw.ip_forward else 'off'}" + (f", FORWARD policy {fwd.policy}" if fwd else "")


def _source_nat(ctx: Outbound) -> Seen:
    if not ctx.address:
        return SKIP, "no address to go to"
    if ctx.source.mode == NetMode.HOST:
        return SKIP, "host network mode: the container sends as the Docker host does"
    if ctx.engine.rootless:
        return SKIP, ROOTLESS_OUT
    if not ctx.leaves_docker():
        return SKIP, "the destination is the Docker host or on a Docker network: no source NAT on this path"
    fw = ctx.snapshot.firewall
    if fw is None or not fw.iptables_outcome.ok:
        return OK, "nat rules not read"
    return OK, "POSTROUTING rewrites the container's source address"


def _route_out(ctx: Outbound) -> Seen:
    if not is_ip(ctx.address):
        return SKIP, "no address to route"
    if ctx.to_docker_host():
        return SKIP, f"{ctx.address} is the Docker host itself"
    if ctx.over_overlay() is not None:
        return _over_overlay(ctx)
    m = ctx.path_mtu()
    size = f"; {max(m.answered)}-byte don't-fragment echoes pass" if m is not None and m.outcome.ok and m.answered \
        else ""
    k = ctx.kernel_route(on_host=True)
    if k is not None:
        packet = f"for {k.source} in on {k.in_interface}" if k.source else f"to {ctx.address}"
        if k.error:
            return OK, f"the Docker host's kernel has no route {packet}: {k.error}"
        inside = " (a Docker bridge)" if k.device in docker_devices(ctx.snapshot.networks) else ""
        table = f", table {k.table}" if k.table and k.table != "main" else ""
        return OK, (f"via {k.gateway} " if k.gateway else "") + f"dev {k.device}{inside}{table} (the kernel's " \
            f"choice {packet}){size}"
    h = ctx.docker_host
    if h is None or not h.outcome.ok:
        return OK, "the Docker host's routes were not read"
    r = route_for(h.routes, ctx.address)
    if r is None:
        return OK, f"the Docker host has no route to {ctx.address}"
    inside = " (a Docker bridge)" if r.device in docker_devices(ctx.snapshot.networks) else ""
    return OK, f"{r.destination}" + (f" via {r.gateway}" if r.gateway else "") + f" dev {r.device}{inside}{size}"


def _over_overlay(ctx: Outbound) -> Seen:
    """The overlay's way to the destination: a service's virtual IP, a task on this node, or
    VXLAN to the node it is on, which an unanswered attempt leaves unknown when nothing on this
    side shows it blocked."""
    vip = overlay.vip_of(ctx)
    if vip is not None:
        return OK, f"the virtual IP of service {vip[1]} on the overlay {vip[0].name}, which IPVS in " \
            f"{ctx.source.name}'s namespace spreads over its tasks"
    c = overlay.crossing(ctx)
    net = ctx.over_overlay()
    if c is None or net is None:  # on this node, or an address the overlay does not list
        local = net is not None and any(ep.address == ctx.address for ep in net.overlay_endpoints)
        return OK, f"on the overlay {net.name if net is not None else ''}" + (", on this node" if local else "")
    way = f"in VXLAN ({overlay.VXLAN}/udp) on the overlay {c.network.name} to {c.label}"
    if ctx.answered():
        return OK, way
    fw = ctx.snapshot.firewall
    mine = "no rule of this node's iptables certainly drops the swarm's ports to or from it" \
        if fw is not None and fw.iptables_outcome.ok else "this node's firewall was not read"
    return UNKNOWN, f"{way}: {mine}; {_gossip_text(ctx, c.node)}; that node's firewall, and any between them, " \
        "cannot be read from here (netdiag firewall there shows it)"


def _gossip_text(ctx: Outbound, node: str) -> str:
    """What this machine's attempt at the node's gossip port got, or why there was none."""
    g = overlay.gossip_probe(ctx, node)
    if g is None:
        return f"its gossip port {overlay.GOSSIP}/tcp was not tried (only from a node of the swarm)"
    if not g.outcome.ok:
        return f"its gossip port {overlay.GOSSIP}/tcp could not be tried: {g.outcome.reason}"
    return f"this node's attempt at its gossip port {overlay.GOSSIP}/tcp: {g.result}"


def _destination(ctx: Outbound) -> Seen:
    r = ctx.from_source()
    where = ctx.where
    if not ctx.address:
        return SKIP, f"not tried: {ctx.name} has no address"
    if r is None:
        return UNKNOWN, "not tried"
    if not r.outcome.ok:
        return UNKNOWN, f"{where}: {r.outcome.reason}" if r.outcome.method == CUT_SHORT else \
            f"the attempt could not run: {r.outcome.reason}"
    if ctx.answered():
        return OK, f"{where} {r.result}" + (f": {r.banner}" if r.banner else "") + f" ({r.outcome.method})"
    who = f" from {r.responder}" if r.result == ReachResult.ICMP_UNREACHABLE and r.responder else ""
    return FAIL, f"{where}: {r.result}{who} ({r.detail})"


SEEN: dict[Hop, Callable[[Outbound], Seen]] = {
    Hop.SOURCE_CONTAINER: _source_container, Hop.NAME_RESOLUTION: _name_resolution, Hop.NETWORK: _network,
    Hop.FORWARDING: _forwarding, Hop.SOURCE_NAT: _source_nat, Hop.ROUTE_OUT: _route_out,
    Hop.DESTINATION: _destination,
}


def build_outbound_path(ctx: Outbound, findings: list[Finding], skips: list[Skip]) -> list[PathStep]:
    out = []
    for hop in OUTBOUND_PATH:
        failed = [f for f in findings if f.hop == hop]
        skipped = [s for s in skips if s.hop == hop]
        if failed:
            status, detail = FAIL, failed[0].summary
        elif hop in BEYOND_THE_CONTAINER and ctx.to_itself():
            status, detail = _itself(ctx)
        elif skipped and not (hop == Hop.DESTINATION and ctx.answered()):  # an answer settles the destination
            status, detail = UNKNOWN, unchecked(skipped)
        else:
            status, detail = SEEN[hop](ctx)
        out.append(PathStep(str(hop), status, detail))
    return out
