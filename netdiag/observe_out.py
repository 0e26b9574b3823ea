"""The live observations of an attempt out of a container: what it sees, how it resolves the
name, its attempt and the Docker host's, its kernel's route choices and, when small packets
pass, large ones. Locally through sockets in the container's namespace; with the daemon
elsewhere through the container's own tools (docker exec), or a helper container by consent.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses

from netdiag.addr import is_ip
from netdiag.diagnosis import Attempt
from netdiag.facts import CUT_SHORT, Container, Lookup, Outcome, Reach, Snapshot
from netdiag.outbound import Outbound
from netdiag.reasoner.outward import destination, outbound_attempt
from netdiag.vocab import HOST, AddressKind, Origin, ProbeKind, ReachResult


def observe_outbound(snapshot: Snapshot, source: Container, to: str, port: int | None, api, local: bool,
                     timeout: float | None = None, helper: str = "") -> Snapshot:
    """The snapshot with what the source container sees, the lookups of a name as it resolves it,
    the attempt from it and from the Docker host, and, when small packets pass, large ones.
    Locally through sockets in the container's namespace; with the daemon elsewhere through the
    container's own tools (docker exec), or a helper container from `helper` by consent."""
    from netdiag.overlay import nodes_to_probe
    from netdiag.parsers.resolv import EMBEDDED_DNS, in_hosts
    from netdiag.probes.attempts import PROBE_TIMEOUT
    from netdiag.probes.outward import probe_source_view

    timeout = PROBE_TIMEOUT if timeout is None else timeout
    host, port, protocol = destination(to, port)
    view = probe_source_view(api, source, local)
    origin = Origin(source.name)
    lookups: list[Lookup] = []
    # over an overlay, the gossip port of the nodes that run the named service is tried while the
    # name is looked up
    ahead = Outbound(dataclasses.replace(snapshot, source_views=(view,)), source,
                     Attempt(origin, to, "", host, port, AddressKind.OTHER), protocol)
    gossip = None
    if local and not is_ip(host) and nodes_to_probe(ahead):
        pool = concurrent.futures.ThreadPoolExecutor(1)
        gossip = pool.submit(_gossip_here, ahead, timeout)
        pool.shutdown(wait=False)
    if not is_ip(host) and not (view.outcome.ok and in_hosts(view.hosts, host)):
        servers = view.nameservers if view.outcome.ok else ()
        upstreams = (view.ext_servers or source.dns) if EMBEDDED_DNS in servers else ()
        asked = [(s, False) for s in servers or ("127.0.0.1",)] + [(s, True) for s in upstreams]
        if not view.outcome.ok:
            lookups = [Lookup(Outcome.unavailable(f"its resolv.conf was not read: {view.outcome.reason}"), host,
                              origin=origin)]
        else:
            lookups = _lookups(api, source, host, asked, local, helper, timeout)
    snapshot = dataclasses.replace(snapshot, source_views=(view,), lookups=tuple(lookups))
    ctx = Outbound(snapshot, source, outbound_attempt(snapshot, source, origin, to, port), protocol)
    if gossip is not None:
        snapshot = dataclasses.replace(snapshot, reach=tuple(snapshot.reach) + gossip.result())
        ctx = dataclasses.replace(ctx, snapshot=snapshot)
    if not ctx.address:
        return snapshot
    if local and is_ip(ctx.address) and ":" not in ctx.address and not ctx.to_itself() and ctx.over_overlay() is None:
        from netdiag.probes.outward import probe_kernel_route

        net = ctx.leaving_network()
        routes = (probe_kernel_route(ctx.address, source),
                  probe_kernel_route(ctx.address, None, ctx.source_address(net), net.bridge if net else ""))
        snapshot = dataclasses.replace(snapshot, kernel_routes=tuple(snapshot.kernel_routes) + routes)
        ctx = dataclasses.replace(ctx, snapshot=snapshot)
    attempts = _attempts_here(ctx, timeout) if local else _attempts_elsewhere(ctx, api, helper)
    snapshot = dataclasses.replace(snapshot, reach=tuple(snapshot.reach) + attempts)
    ctx = dataclasses.replace(ctx, snapshot=snapshot)
    if local and ctx.kind != ProbeKind.UDP and ctx.answered() and not ctx.to_docker_host() and \
            ctx.docker_network_of(ctx.address) is None:
        from netdiag.probes.outward import probe_path_mtu

        r = ctx.from_source()
        http = r is not None and r.banner.startswith("HTTP/")
        snapshot = dataclasses.replace(snapshot, path_mtu=(probe_path_mtu(source, view, ctx.address, port, http),))
    return snapshot


def _lookups(api, source: Container, name: str, asked: list[tuple[str, bool]], local: bool, helper: str,
             timeout: float) -> list[Lookup]:
    """Each resolver (and upstream) asked for `name` from inside the container, all at once."""
    from netdiag.probes.outward import lookups_elsewhere, probe_lookup
    from netdiag.probes.runner import run_concurrently

    if not local:
        return lookups_elsewhere(api, source, name, asked, helper)
    tasks = {f"{i}": (lambda s=s, up=up: probe_lookup(source, s, name, up, timeout)) for i, (s, up) in enumerate(asked)}
    found = run_concurrently(tasks, timeout=timeout + 5, on_error=lambda n, why: Outcome.failed(why))
    return [r if isinstance(r, Lookup) else Lookup(r, name, s, origin=Origin(source.name), upstream=up)
            for (s, up), r in zip(asked, (found[str(i)] for i in range(len(asked))))]


def _attempts_here(ctx: Outbound, timeout: float) -> tuple[Reach, ...]:
    """From the container's namespace and from this machine (the Docker host) at once. When the
    facts already decide the Docker host's part, the container's silence is cut short."""
    from netdiag.probes.attempts import SETTLED_WAIT
    from netdiag.probes.outward import probe_from_host, probe_from_source
    from netdiag.probes.runner import run_concurrently
    from netdiag.reasoner.outward import settled_outbound

    address, port, kind, origin = ctx.address, ctx.port, ctx.kind, Origin(ctx.source.name)
    settled = settled_outbound(ctx)
    wait = min(timeout, SETTLED_WAIT) if settled else timeout
    tasks = {"source": lambda: probe_from_source(ctx.source, address, port, wait, kind)}
    # the same attempt from the Docker host, unless it has nothing to compare with: its loopback is
    # another one, and it is on no overlay network
    if not ctx.to_itself() and ctx.over_overlay() is None:
        tasks["host"] = lambda: probe_from_host(address, port, timeout, kind)
    tasks["gossip"] = lambda: _gossip_here(ctx, timeout)
    found = run_concurrently(tasks, timeout=timeout + 5, on_error=lambda n, why: Outcome.failed(why))
    mine = found["source"]
    if settled and isinstance(mine, Reach) and mine.outcome.ok and mine.result == ReachResult.TIMEOUT:
        mine = Reach(Outcome.unavailable(f"no answer within {wait:g}s; not waited for longer, as {settled}",
                                         CUT_SHORT), kind, address, port, origin=origin)
    out = [mine if isinstance(mine, Reach) else Reach(mine, kind, address, port, origin=origin)]
    if "host" in found:
        host = found["host"]
        out.append(host if isinstance(host, Reach) else Reach(host, kind, address, port, origin=HOST))
    gossip = found["gossip"]
    return tuple(out) + (gossip if isinstance(gossip, tuple) else ())


def _gossip_here(ctx: Outbound, timeout: float) -> tuple[Reach, ...]:
    """From this machine (a node of the swarm) to the gossip port of each other node the attempt
    goes to over an overlay (not tried yet), all at once: () off an overlay."""
    from netdiag.overlay import GOSSIP, GOSSIP_WAIT, nodes_to_probe
    from netdiag.probes.outward import probe_from_host
    from netdiag.probes.runner import run_concurrently

    tried = {r.address for r in ctx.snapshot.reach if r.port == GOSSIP and r.origin == HOST}
    nodes = [n for n in nodes_to_probe(ctx) if n not in tried]
    if not nodes:
        return ()
    wait = min(timeout, GOSSIP_WAIT)
    found = run_concurrently({n: (lambda n=n: probe_from_host(n, GOSSIP, wait, ProbeKind.TCP)) for n in nodes},
                             timeout=wait + 5, on_error=lambda n, why: Outcome.failed(why))
    return tuple(r if isinstance(r, Reach) else Reach(r, ProbeKind.TCP, n, GOSSIP, origin=HOST)
                 for n, r in found.items())


def _attempts_elsewhere(ctx: Outbound, api, helper: str) -> tuple[Reach, ...]:
    """With the daemon elsewhere: the container's nc (docker exec), or a helper's in its namespace
    and in the Docker host's (only with the helper: nothing else runs there)."""
    from netdiag.probes.inside import probe_via_exec
    from netdiag.probes.outward import attempt_elsewhere

    address, port, kind, origin = ctx.address, ctx.port, ctx.kind, Origin(ctx.source.name)
    if kind != ProbeKind.TCP:
        why = f"an {'echo' if not port else 'UDP attempt'} from inside the container needs the daemon on this " \
              "machine" + ("; give a port" if not port else "")
        return (Reach(Outcome.unavailable(why), kind, address, port, origin=origin),)
    if not helper:
        why = "the same attempt from the Docker host needs --helper IMAGE when the daemon is elsewhere"
        return probe_via_exec(api, ctx.source, address, port), Reach(Outcome.unavailable(why), kind, address, port)
    return (attempt_elsewhere(api, ctx.source, address, port, helper),
            attempt_elsewhere(api, ctx.source, address, port, helper, host=True))
