"""Building the path: each hop's status and a line of what was seen there.

A hop fails where a rule found a cause; it is `unknown` where a rule could not decide for want of
an input (netdiag.reasoner.apply); otherwise it shows the facts of that hop. The last hop, the
process, is the attempt itself: it is ok only when the service answered.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

from netdiag.context import Context, hostport, socket_label, where_daemon_runs
from netdiag.diagnosis import Finding, PathStep
from netdiag.facts import CUT_SHORT
from netdiag.reasoner.apply import Skip
from netdiag.reasoner.plan import Target, attempt_target
from netdiag.vocab import AddressKind, Hop, HopStatus, NetMode, ReachResult, path_of

OK, FAIL, SKIP, UNKNOWN = HopStatus.OK, HopStatus.FAIL, HopStatus.SKIP, HopStatus.UNKNOWN
Seen = tuple[HopStatus, str]


def _client(ctx: Context, t: Target | None) -> Seen:
    client = ctx.snapshot.client
    if t is None:
        return SKIP, "no address to try for this port"
    if client is None or not client.outcome.ok:
        return OK, "the client's routes were not read" + (f": {client.outcome.reason}" if client else "")
    try:
        ip = ipaddress.ip_address(t[0])
        if ip.is_loopback or ip.is_unspecified:
            return OK, f"{t[0]} is the client itself"
    except ValueError:
        pass
    r, table = ctx.client_route(t[0])
    if r is None:
        return OK, f"no route to {t[0]}" + (f" (policy table {table})" if table else "")
    return OK, (f"route to {t[0]}: " + (f"policy table {table}" if table else r.destination)
                + (f" via {r.gateway}" if r.gateway else "") + f" dev {r.device}")


def _host_binding(ctx: Context, t: Target | None) -> Seen:
    if ctx.target.mode == NetMode.HOST:
        return SKIP, "host network mode: no binding, the app's port is the host's"
    if t is not None and t[0] in ctx.ipv4():
        return SKIP, f"direct to the container's address {t[0]}"
    bindings = ctx.published()
    if not bindings:
        return OK, f"{ctx.port}/tcp is not published"
    if t is not None and ":" in t[0]:  # an IPv6 attempt: the IPv6 binding published() leaves out beside 0.0.0.0
        bindings = [b for b in ctx.target.published if b.host_ip in ("::", t[0]) and b.host_port == t[1]] or bindings
    return OK, ", ".join(f"{b.container_port}/{b.protocol} on {hostport(b.host_ip or '0.0.0.0', b.host_port)}"
                         for b in bindings)


def _forwarding(ctx: Context, t: Target | None) -> Seen:
    if ctx.from_container:
        return SKIP, "bridged inside the Docker host"
    if ctx.only_on_lans():
        lan = ctx.lan_networks()[0]
        return SKIP, f"{lan.name} is a {lan.driver} network: the container's own address on the LAN of " \
                     f"{lan.options.get('parent')}, nothing forwarded by the Docker host"
    fw = ctx.snapshot.firewall
    taken = ctx.taken_on_the_host()
    if ctx.engine.rootless and (fw is None or not fw.outcome.ok or taken is None):
        return SKIP, "a rootless engine: published ports are forwarded in user space, not by the host's kernel"
    if fw is None or not fw.outcome.ok:
        return OK, "not read" + (f": {fw.outcome.reason}" if fw is not None else "")
    if taken is not None:
        ipv6 = ":" in taken.address
        tool = "ip6tables" if ipv6 else "iptables"
        read = fw.ip6tables_outcome.ok if ipv6 else fw.iptables_outcome.ok
        inp = next((c for c in (fw.chains6 if ipv6 else fw.chains) if c.table == "filter" and c.name == "INPUT"), None)
        state = (f"{tool} INPUT policy {inp.policy}" if inp else f"{tool}: no filter rules (INPUT accepts)") if read \
            else f"{tool} not read"
        return OK, f"{taken.who} takes it on the Docker host (nothing forwarded); {state}"
    if t is not None and ":" in t[0]:
        fwd6 = next((c for c in fw.chains6 if c.table == "filter" and c.name == "FORWARD"), None)
        if not fw.ip6tables_outcome.ok:
            filter6 = f"ip6tables not read: {fw.ip6tables_outcome.reason}"
        elif fwd6 is None and any(c.table.startswith("ip6 ") for c in fw.docker_nft_chains):
            filter6 = "Docker's nftables table ip6 docker-bridges (ip6tables has no rules)"
        elif fwd6 is None:  # ip6tables-save printed no filter table: nothing loaded, every policy ACCEPT
            filter6 = "ip6tables: no filter rules (FORWARD accepts)"
        else:
            filter6 = f"ip6tables FORWARD policy {fwd6.policy}"
        return OK, f"IPv6: net.ipv6.conf.all.forwarding {'on' if fw.ipv6_forward else 'off'}; {filter6}"
    fwd = fw.chain("filter", "FORWARD")
    return OK, (f"ip_forward {'on' if fw.ip_forward else 'off'}" + (f", FORWARD policy {fwd.policy}" if fwd else "")
                + ("" if fw.iptables_outcome.ok else f"; iptables: {fw.iptables_outcome.reason}"))


def _network(ctx: Context, t: Target | None) -> Seen:
    owner = ctx.namespace_owner
    if owner is not None:
        status, detail = _own_network(ctx, t)
        return status, f"in {owner.name}'s network namespace (network mode {ctx.joined.network_mode[:22]}): {detail}"
    return _own_network(ctx, t)


def _own_network(ctx: Context, t: Target | None) -> Seen:
    if not ctx.snapshot.networks_outcome.ok:
        return OK, f"networks not read: {ctx.snapshot.networks_outcome.reason}"
    if ctx.target.mode in (NetMode.HOST, NetMode.NONE):
        return OK, f"network mode {ctx.target.network_mode}"
    if ctx.target.mode == NetMode.USER_SPACE:
        return OK, (f"network mode {ctx.target.network_mode}: a network stack in user space, no address on the "
                    "host's bridges; published ports are carried into it by its port forwarder")
    addresses = ctx.ipv4() + ([e.ipv6 for e in ctx.target.endpoints if e.ipv6] if t is not None and ":" in t[0]
                              else [])
    return OK, ", ".join(f"{n.name} {', '.join(n.subnets)}" + (" (internal)" if n.internal else "")
                         for n in ctx.networks_of(ctx.target)) + "; " + (", ".join(addresses) or "no address yet")


def _container(ctx: Context, t: Target | None) -> Seen:
    st = ctx.target.state
    if ctx.running:
        return OK, f"{ctx.target.name} running" + (f" since {st.started_at}" if st.started_at else "")
    return FAIL, f"{ctx.target.name} {st.status}"


def _listener(ctx: Context, t: Target | None) -> Seen:
    ls = ctx.listeners()
    if not ls.outcome.ok:
        return OK, f"sockets not read: {ls.outcome.reason}"
    socks = ctx.sockets_on()
    return OK, ", ".join(socket_label(s) for s in socks) if socks else f"nothing listens on {ctx.port}/tcp"


def _process(ctx: Context, t: Target | None) -> Seen:
    """The attempt itself: answered, failed (with what came back), or not made."""
    r = ctx.reach(*t) if t else None
    if t is None or r is None:
        return UNKNOWN, "not tried"
    if not r.outcome.ok:
        return UNKNOWN, f"{hostport(*t)}: {r.outcome.reason}" if r.outcome.method == CUT_SHORT else \
            f"the attempt could not run: {r.outcome.reason}"
    if ctx.answered(*t):
        return OK, f"{hostport(*t)} {r.result}" + (f": {r.banner}" if r.banner else "")
    if r.result == ReachResult.SILENT and not ctx.listeners().outcome.ok:
        return UNKNOWN, f"{hostport(*t)} accepted the connection and sent nothing; the sockets behind it were not read"
    return FAIL, f"{hostport(*t)}: {r.result} ({r.detail})"


def _source_container(ctx: Context, t: Target | None) -> Seen:
    src = ctx.source_container
    assert src is not None
    return OK, f"{src.name}: {src.state.status}, on " + (", ".join(e.network for e in src.endpoints) or "no network")


def _shared_networks(ctx: Context) -> list[str]:
    assert ctx.source_container is not None
    theirs = {x.network for x in ctx.source_container.endpoints}
    return [e.network for e in ctx.target.endpoints if e.network in theirs]


def _shared_network(ctx: Context, t: Target | None) -> Seen:
    shared = _shared_networks(ctx)
    return (OK, "shared: " + ", ".join(shared)) if shared else (FAIL, "no shared network")


def _name_resolution(ctx: Context, t: Target | None) -> Seen:
    if ctx.attempt.kind != AddressKind.CONTAINER_NAME:
        return SKIP, "no name used"
    user = [n for n in _shared_networks(ctx) if n != "bridge"]
    if user:
        return OK, f"{ctx.attempt.name} resolves through Docker's DNS on {user[0]}"
    return FAIL, f"{ctx.attempt.name}: no Docker DNS on the default bridge"


def _boundary(ctx: Context, t: Target | None) -> Seen:
    return OK, where_daemon_runs(ctx.engine)


SEEN: dict[Hop, Callable[[Context, Target | None], Seen]] = {
    Hop.CLIENT: _client, Hop.BOUNDARY: _boundary, Hop.HOST_BINDING: _host_binding, Hop.FORWARDING: _forwarding,
    Hop.NETWORK: _network, Hop.CONTAINER: _container, Hop.LISTENER: _listener, Hop.PROCESS: _process,
    Hop.SOURCE_CONTAINER: _source_container, Hop.SHARED_NETWORK: _shared_network,
    Hop.NAME_RESOLUTION: _name_resolution,
}


def unchecked(skips: list[Skip]) -> str:
    """What a hop's skipped rules lacked, in one line: the rules not checked, the inputs, why."""
    what = list(dict.fromkeys(w for s in skips for w, _ in s.lacking))
    why = dict.fromkeys(y for s in skips for _, y in s.lacking)
    rules = ", ".join(dict.fromkeys(s.rule for s in skips))
    words = [w.split(" ") for w in what]
    shared = len(os.path.commonprefix(words)) if len(words) > 1 else 0  # "the Docker host's" said once
    what = [what[0]] + [" ".join(w[shared:]) for w in words[1:] if w[shared:]]
    return f"not checked ({rules}): {' and '.join(what)} not read: {'; '.join(why)}"


def build_path(ctx: Context, findings: list[Finding], skips: list[Skip], label: str) -> list[PathStep]:
    """Every hop of the attempt's path: fail where a finding is, unknown where a rule was skipped,
    else what was seen there."""
    t = attempt_target(ctx)
    out = []
    for hop in path_of(ctx.attempt.origin):
        failed = [f for f in findings if f.hop == hop]
        skipped = [s for s in skips if s.hop == hop]
        if failed:
            status, detail = FAIL, failed[0].summary
        elif skipped:
            status, detail = UNKNOWN, unchecked(skipped)
        else:
            status, detail = SEEN[hop](ctx, t)
        out.append(PathStep(f"{hop}{label}", status, detail))
    return out
