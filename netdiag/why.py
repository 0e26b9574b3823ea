"""why-unreachable and collect on a live engine, explain on a bundle: one path through the reasoner.

Live: gather the facts, try each attempt (reach probes), reason. Offline: the recorded facts and
reach observations of a bundle go through the very same `explain`.
"""

from __future__ import annotations

import dataclasses
import socket

from netdiag.context import Context
from netdiag.diagnosis import AttemptSpec, Diagnosis
from netdiag.errors import BadInput, NetdiagError
from netdiag.facts import Container, Snapshot
from netdiag.memo import per_snapshot
from netdiag.outbound import Outbound
from netdiag.reasoner import diagnose, parse_origin, ports_in_question, reach_plan, resolve_attempt
from netdiag.reasoner.outward import destination, diagnose_outbound, outbound_attempt
from netdiag.reasoner.plan import attempt_target, settled_by_routes
from netdiag.refs import Candidate, match
from netdiag.shared_namespace import namespace_owner, on_owners_network
from netdiag.vocab import Location, Origin


def _resolve(name: str) -> str:
    """A host name the user typed in --to, looked up as the client would."""
    try:
        return socket.getaddrinfo(name, None, family=socket.AF_INET, proto=socket.IPPROTO_TCP)[0][4][0]
    except OSError:
        return ""


def find(snapshot: Snapshot, ref: str) -> Container:
    by_id = _containers_by_id(snapshot)
    if ref in by_id:  # a full id, as specs recorded in bundles and made by doctor name them
        return by_id[ref]
    return by_id[match([Candidate(c.id, [c.name], c.labels) for c in snapshot.containers], ref)]


def find_on_its_network(snapshot: Snapshot, ref: str) -> Container:
    """The container `ref` names, as its traffic sees it: a joiner of another container's network
    namespace with that container's networks, addresses and published ports."""
    c = find(snapshot, ref)
    owner = namespace_owner(snapshot.containers, c)
    return on_owners_network(c, owner) if owner is not None else c


@per_snapshot
def _containers_by_id(snapshot: Snapshot) -> dict[str, Container]:
    return {c.id: c for c in snapshot.containers}


def _context(snapshot: Snapshot, spec: AttemptSpec, resolve) -> Context:
    """The target, the source container and the resolved attempt of a spec, port not chosen yet."""
    origin = parse_origin(spec.origin)
    target = find_on_its_network(snapshot, spec.container)
    source = find_on_its_network(snapshot, origin.container) if not origin.is_host else None
    if source is not None and source.id == target.id:
        raise BadInput("bad-argument", f"--from {origin} is the target itself")
    attempt = resolve_attempt(snapshot, target, origin, spec.to, resolve)
    return Context(snapshot, target, attempt, source_container=source)


def _outbound(snapshot: Snapshot, spec: AttemptSpec) -> Outbound:
    """The context of an attempt out of a container to a destination that is not a container."""
    origin = parse_origin(spec.origin)
    if origin.is_host:
        raise BadInput("bad-argument", "a destination that is not a container needs --from container:NAME")
    source = find_on_its_network(snapshot, origin.container)
    return Outbound(snapshot, source, outbound_attempt(snapshot, source, origin, spec.to, spec.port),
                    destination(spec.to, spec.port)[2])


def explain(snapshot: Snapshot, spec: AttemptSpec, resolve=None) -> Diagnosis:
    """The diagnosis of one attempt over recorded facts. Pure unless `resolve` looks names up.
    A spec without a container is an attempt out of its --from container to `spec.to`."""
    if not spec.container:
        return diagnose_outbound(_outbound(snapshot, spec))
    return diagnose(_context(snapshot, spec, resolve), spec.port)


def observe(snapshot: Snapshot, specs: list[AttemptSpec], resolve=_resolve, api=None, timeout: float | None = None,
            early=None, alternatives_when_needed: bool = False) -> Snapshot:
    """The snapshot with the reach observations every attempt needs, all probed at once, each
    within `timeout` seconds (or briefly, when the facts already decide its hop). `api` lets
    attempts from a container go through docker exec when the daemon is elsewhere; `early` holds
    probes started before the facts were gathered. With `alternatives_when_needed` (doctor over
    many containers), the other ways in are tried only for the attempts that were not answered."""
    if alternatives_when_needed:
        first = _observe(snapshot, specs, resolve, api, timeout, early, alternatives=False)
        failed = []
        for spec in specs:
            base = _context(first, spec, resolve)
            targets = [attempt_target(dataclasses.replace(base, port=p))
                       for p in ports_in_question(base, spec.port)[0]]
            if not all(t and base.answered(*t) for t in targets):
                failed.append(spec)
        return _observe(first, failed, resolve, api, timeout, None) if failed else first
    return _observe(snapshot, specs, resolve, api, timeout, early)


def _observe(snapshot: Snapshot, specs: list[AttemptSpec], resolve, api, timeout: float | None, early,
             alternatives: bool = True) -> Snapshot:
    from netdiag.probes.attempts import PROBE_TIMEOUT, SETTLED_WAIT, Deadline, run_attempts

    timeout = PROBE_TIMEOUT if timeout is None else timeout
    snapshot = _with_client_kernel_routes(snapshot, specs, resolve)
    known = {(r.kind, r.address, r.port, r.origin) for r in snapshot.reach}
    plan = []
    deadlines = {}
    for spec in specs:
        base = _context(snapshot, spec, resolve)
        steps = [s for s in reach_plan(base, ports_in_question(base, spec.port)[0], alternatives)
                 if (s[0], s[1], s[2], base.attempt.origin) not in known]
        plan += [(base.source_container, kind, address, port) for kind, address, port in steps]
        settled = settled_by_routes(base)
        for kind, address, port in steps:
            deadlines[(kind, address, port)] = Deadline(min(timeout, SETTLED_WAIT), settled[address]) \
                if address in settled else Deadline(timeout)
    exec_api = api if snapshot.engine.location != Location.LOCAL else None
    return dataclasses.replace(snapshot, reach=tuple(snapshot.reach) + run_attempts(plan, exec_api, deadlines, early))


def _with_client_kernel_routes(snapshot: Snapshot, specs: list[AttemptSpec], resolve) -> Snapshot:
    """The kernel's own route choice (RTM_GETROUTE) on this machine for the container addresses
    an attempt from it may go to, when the daemon is elsewhere: a policy rule (a VPN's table 52,
    wg-quick) can send them where the main table does not."""
    import sys

    from netdiag.probes.outward import probe_kernel_route

    if snapshot.engine.location == Location.LOCAL or not sys.platform.startswith("linux"):
        return snapshot
    asked = {k.address for k in snapshot.kernel_routes if k.origin.is_host and not k.source}
    addresses = []
    for spec in specs:
        if spec.container and spec.origin.is_host:
            base = _context(snapshot, spec, resolve)
            addresses += [ip for c in snapshot.containers for ip in base.ipv4(c) if ip not in asked]
    routes = tuple(probe_kernel_route(a) for a in dict.fromkeys(addresses))
    return dataclasses.replace(snapshot, kernel_routes=tuple(snapshot.kernel_routes) + routes) if routes else snapshot


def live_snapshot(refs: list[str], origin: Origin | str = "host", holders: bool | None = None,
                  helper: str = "", live=None) -> tuple[Snapshot, object]:
    """(the live facts, the API client): for these containers (all when none), sockets read for
    them and for the source container."""
    from netdiag.live import Live

    origin = parse_origin(origin)
    live = live or Live(helper=helper)
    named = [live.container(r) for r in refs]
    if not origin.is_host:
        named.append(live.container(origin.container))
    return live.snapshot(listen=named or None, holders=holders), live.api


def _early_ping(to: str, timeout: float | None):
    """The ICMP echo to the address the user tried, started now, so that its wait overlaps the
    gathering of the facts; None when --to names no remote address."""
    import ipaddress

    from netdiag.probes.attempts import PROBE_TIMEOUT, EarlyProbe
    from netdiag.reasoner import parse_to

    try:
        ip = ipaddress.ip_address(parse_to(to)[0])
    except (ValueError, NetdiagError):
        return None
    if ip.is_loopback or ip.is_unspecified:
        return None
    return EarlyProbe(str(ip), PROBE_TIMEOUT if timeout is None else timeout)


def why_unreachable(ref: str, port: int | None, to: str, origin: str, helper: str = "",
                    timeout: float | None = None) -> Diagnosis:
    from netdiag.live import Live

    source = parse_origin(origin)
    live = Live(helper=helper)
    if not source.is_host and not to and _names_no_container(live, ref):
        return why_outbound(live, ref, port, source, timeout)
    early = _early_ping(to, timeout) if to and source.is_host else None
    snapshot, api = live_snapshot([ref], source, helper=helper, live=live)
    spec = AttemptSpec(find(snapshot, ref).id, port, to or "", source)
    observed = observe(snapshot, [spec], api=api, timeout=timeout, early={early.address: early} if early else None)
    return explain(observed, spec, _resolve)


def collect(refs: list[str], port: int | None = None, to: str = "", origin: str = "host", helper: str = ""):
    """A Bundle: every fact, and the reach observations of each named container's attempt (every
    container's when none is named), for `explain` to replay offline. With no container named,
    `--from container:NAME --to DEST` records the attempt out of that container instead."""
    source = parse_origin(origin)
    from netdiag import __version__
    from netdiag.bundle import Bundle
    from netdiag.live import Live

    live = Live(helper=helper)
    if not refs and to and not source.is_host:  # the attempt out of that container to `to`
        from netdiag.observe_out import observe_outbound

        src = live.container(source.container)
        snapshot = live.snapshot(listen=[src], holders=True)
        snapshot = observe_outbound(snapshot, find_on_its_network(snapshot, src.id), to, port, live.api, live.local,
                                    helper=helper)
        return Bundle(snapshot, (AttemptSpec("", port, to, source),), __version__, snapshot.created)
    snapshot, api = live_snapshot(refs, source, holders=True, helper=helper, live=live)
    targets = [find(snapshot, r) for r in refs] or list(snapshot.containers)
    specs = [AttemptSpec(c.id, port, to or "", source) for c in targets]
    snapshot = observe(snapshot, [s for s, c in zip(specs, targets) if c.state.running], api=api)
    return Bundle(snapshot, tuple(specs), __version__, snapshot.created)


def _names_no_container(live, ref: str) -> bool:
    """REF matches no container on this node (an ambiguous prefix does match: that stays an error)."""
    try:
        live.container(ref)
    except BadInput as e:
        # a Swarm service with no task here is a name its tasks on other nodes answer to
        return e.code == "container-not-found" and e.message.startswith(("no container matches", "Swarm service"))
    return False


def why_outbound(live, to: str, port: int | None, origin: Origin, timeout: float | None = None) -> Diagnosis:
    """Why the --from container cannot reach `to`: an address, ADDR:PORT or NAME[:PORT]."""
    destination(to, port)  # bad input before anything more is probed
    source = live.container(origin.container)
    snapshot = live.snapshot(listen=[source], holders=True)
    from netdiag.observe_out import observe_outbound

    snapshot = observe_outbound(snapshot, find_on_its_network(snapshot, source.id), to, port, live.api, live.local,
                                timeout, live.helper)
    return explain(snapshot, AttemptSpec("", port, to, origin))
