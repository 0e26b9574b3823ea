"""`netdiag check` and `netdiag doctor`: expectations and whole-engine sweeps over one snapshot.

Both take the facts once, probe every attempt at once, and run the same explain() as
why-unreachable, so a failing expectation carries the full diagnosis.
"""

from __future__ import annotations

import time

from netdiag.checkfile import Expectation
from netdiag.diagnosis import AttemptSpec
from netdiag.errors import NetdiagError
from netdiag.facts import Snapshot
from netdiag.results import DoctorReport, DoctorRow, Result
from netdiag.vocab import CheckStatus, ExpectationKind, Location, Verdict

PASS, FAIL, UNKNOWN = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.UNKNOWN


def _reach_spec(e: Expectation, snapshot: Snapshot) -> AttemptSpec:
    from netdiag.reasoner import parse_origin
    from netdiag.why import find

    return AttemptSpec(find(snapshot, e.params["container"]).id, e.params.get("port"), str(e.params.get("to") or ""),
                       parse_origin(str(e.params.get("from") or "host")))


def _outbound_spec(e: Expectation, snapshot: Snapshot) -> AttemptSpec:
    from netdiag.reasoner import parse_origin
    from netdiag.why import find

    origin = parse_origin(str(e.params["from"]))
    find(snapshot, origin.container)  # a source that does not exist fails the expectation
    return AttemptSpec("", e.params.get("port"), str(e.params["to"]), origin)


def observe_outbound_all(snapshot: Snapshot, specs: list[AttemptSpec], api) -> Snapshot:
    """The outbound observations of every spec, probed concurrently, merged into one snapshot."""
    import dataclasses

    from netdiag.observe_out import observe_outbound
    from netdiag.probes.runner import run_concurrently
    from netdiag.why import find_on_its_network

    local = snapshot.engine.location == Location.LOCAL
    bare = dataclasses.replace(snapshot, reach=(), source_views=(), lookups=(), path_mtu=(), kernel_routes=())
    tasks = {str(i): (lambda s=s: observe_outbound(bare, find_on_its_network(snapshot, s.origin.container), s.to,
                                                   s.port, api, local))
             for i, s in enumerate(specs)}
    found = run_concurrently(tasks, timeout=30)
    views = {v.container_id: v for v in snapshot.source_views}
    merged = {f: list(getattr(snapshot, f)) for f in ("reach", "lookups", "path_mtu", "kernel_routes")}
    for r in found.values():
        if isinstance(r, Snapshot):
            views.update({v.container_id: v for v in r.source_views})
            for f, items in merged.items():
                items += [x for x in getattr(r, f) if x not in items]
    return dataclasses.replace(snapshot, source_views=tuple(views.values()),
                               **{f: tuple(items) for f, items in merged.items()})


def _static(e: Expectation, snapshot: Snapshot) -> Result:
    from netdiag.subnets import overlaps
    from netdiag.why import find

    if e.kind == ExpectationKind.NO_OVERLAP:
        found = []
        for host in (snapshot.client, snapshot.docker_host):
            if host is not None and host.outcome.ok:
                found += overlaps(snapshot.networks, host, snapshot.engine.host_address,
                                  snapshot.engine.location == Location.CONTAINER)
        if not found and (snapshot.client is None or not snapshot.client.outcome.ok):
            return Result(e, UNKNOWN, "the client's interfaces or routes could not be read")
        if not found:
            return Result(e, PASS, "no overlap")
        o = found[0]
        return Result(e, FAIL, f"network {o.network} ({o.subnet}) overlaps {o.kind} {o.prefix} dev {o.device} "
                               f"on the {o.machine}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else ""))
    c = find(snapshot, e.params["container"])
    if e.kind == ExpectationKind.ON_NETWORK:
        nets = [ep.network for ep in c.endpoints]
        ok = e.params["network"] in nets
        return Result(e, PASS if ok else FAIL, f"{c.name} is on: {', '.join(nets) or 'no network'}")
    address = str(e.params.get("address") or "0.0.0.0")
    same = {address} | ({"", "::"} if address in ("0.0.0.0", "::") else set())
    bound = [b for b in c.published if (b.host_ip or "") in same]
    if not bound:
        return Result(e, PASS, f"nothing of {c.name} is published on {address}")
    return Result(e, FAIL, f"{c.name} publishes " + ", ".join(
        f"{b.container_port}/{b.protocol} on {b.host_ip or '0.0.0.0'}:{b.host_port}" for b in bound))


def evaluate(expectations: list[Expectation]) -> list[Result]:
    """Every expectation against the live engine, once."""
    from netdiag.why import explain, live_snapshot, observe

    snapshot, api = live_snapshot([], holders=any(e.kind == ExpectationKind.REACHABLE_FROM for e in expectations))
    specs: dict[int, AttemptSpec] = {}
    results: dict[int, Result] = {}
    outward: list[AttemptSpec] = []
    for i, e in enumerate(expectations):
        try:
            if e.kind == ExpectationKind.REACHABLE:
                specs[i] = _reach_spec(e, snapshot)
            elif e.kind == ExpectationKind.REACHABLE_FROM:
                specs[i] = _outbound_spec(e, snapshot)
                outward.append(specs[i])
            else:
                results[i] = _static(e, snapshot)
        except NetdiagError as err:  # a container that does not exist (yet) fails its expectation
            results[i] = Result(e, FAIL, err.message)
    if outward:
        snapshot = observe_outbound_all(snapshot, outward, api)
    inward = [s for s in specs.values() if s.container]
    if inward:
        snapshot = observe(snapshot, inward, api=api)
    for i, spec in specs.items():
        try:
            d = explain(snapshot, spec)
        except NetdiagError as err:
            results[i] = Result(expectations[i], FAIL, err.message)
            continue
        status = {Verdict.REACHABLE: PASS, Verdict.UNREACHABLE: FAIL}.get(d.verdict, UNKNOWN)
        detail = ("reachable at " + ", ".join(d.works)) if status == PASS else (
            "; ".join(f"{c.code}: {c.summary}" for c in d.causes) or "; ".join(d.unknown_reasons))
        results[i] = Result(expectations[i], status, detail, d)
    return [results[i] for i in range(len(expectations))]


def wait_for(expectations: list[Expectation], seconds: float, say=None) -> list[Result]:
    """Retry with backoff until every expectation holds or `seconds` run out; the last results."""
    deadline = time.monotonic() + seconds
    delay = 0.5
    while True:
        results = evaluate(expectations)
        pending = [r for r in results if r.status != PASS]
        left = deadline - time.monotonic()
        if not pending or left <= 0:
            return results
        if say:
            for r in pending:
                say(f"waiting ({left:.0f}s left) for: {r.expectation.title} ({r.detail})")
        time.sleep(min(delay, max(0.0, left)))
        delay = min(delay * 1.6, 3.0)


def fleet_doctor(daemons: list[tuple[str, str]], outbound: str = "") -> DoctorReport:
    """doctor on several daemons at once (("-H", URL) or ("--context", NAME) each), one report
    whose rows name their daemon; a daemon that cannot be diagnosed is a row of its own."""
    import dataclasses

    import docker  # noqa: F401  (imported here, once: docker-py's package imported by threads at once breaks)

    from netdiag.live import Live
    from netdiag.probes.runner import run_concurrently
    from netdiag.results import DoctorRow

    def one(daemon: tuple[str, str]) -> DoctorReport | NetdiagError:
        try:
            return doctor(None, outbound, Live(chosen=daemon))
        except NetdiagError as e:  # this daemon's failure is its row, not the end of the run
            return e

    found = run_concurrently({str(i): (lambda d=d: one(d)) for i, d in enumerate(daemons)}, timeout=120,
                             on_error=lambda name, why: NetdiagError("daemon-unreachable", why))
    rows, out_rows, overlaps, broken = [], [], [], {}
    for i, (_, label) in enumerate(daemons):
        r = found.get(str(i))
        if isinstance(r, DoctorReport):
            rows += [dataclasses.replace(row, host=label) for row in r.rows]
            out_rows += [dataclasses.replace(row, host=label) for row in r.outbound]
            overlaps += [f"{label}: {o}" for o in r.overlaps]
            broken.update({f"{label}/{k}": d for k, d in r.diagnoses.items()})
        else:
            why = r.message if isinstance(r, NetdiagError) else "no answer"
            code = r.code if isinstance(r, NetdiagError) else "daemon-unreachable"
            rows.append(DoctorRow("", "", "", (), Verdict.UNKNOWN, (code,), why, label))
    return DoctorReport(tuple(rows), tuple(overlaps), broken, outbound, tuple(out_rows))


def doctor(progress=None, outbound: str = "", live=None) -> DoctorReport:
    """Every container on the engine through every rule, concurrently; networks against routes;
    with `outbound` (ADDR[:PORT] or NAME[:PORT]), every running container's attempt out to it."""
    from netdiag.subnets import overlaps
    from netdiag.why import explain, live_snapshot, observe

    snapshot, api = live_snapshot([], holders=True if outbound else None, live=live)
    specs = [AttemptSpec(c.id) for c in snapshot.containers]
    running = [s for s, c in zip(specs, snapshot.containers) if c.state.running]
    snapshot = observe(snapshot, running, api=api, alternatives_when_needed=True)
    rows, broken = [], {}
    for n, (spec, c) in enumerate(zip(specs, snapshot.containers), 1):
        d = explain(snapshot, spec)
        if progress:
            progress(n, len(specs))
        finished_job = not c.state.running and c.state.exit_code == 0 and not c.requested
        if not d.ports and (d.verdict == Verdict.UNKNOWN or finished_job):
            rows.append(DoctorRow(c.name, c.id, c.state.status, (), None, (), "nothing to check: no port"))
            continue
        rows.append(DoctorRow(c.name, c.id, c.state.status, d.ports, d.verdict, tuple(x.code for x in d.causes),
                              d.causes[0].summary if d.causes else "; ".join(d.unknown_reasons or d.works)))
        if d.verdict != Verdict.REACHABLE:
            broken[c.id] = d
    found = []
    for host in (snapshot.client, snapshot.docker_host):
        if host is not None and host.outcome.ok:
            found += [f"network {o.network} ({o.subnet}) overlaps {o.kind} {o.prefix} dev {o.device} on the {o.machine}"
                      for o in overlaps(snapshot.networks, host, snapshot.engine.host_address,
                                        snapshot.engine.location == Location.CONTAINER)]
    out_rows = []
    if outbound:
        from netdiag.vocab import Origin

        sources = [c for c in snapshot.containers if c.state.running]
        out_specs = [AttemptSpec("", None, outbound, Origin(c.name)) for c in sources]
        observed = observe_outbound_all(snapshot, out_specs, api)
        for spec, c in zip(out_specs, sources):
            d = explain(observed, spec)
            out_rows.append(DoctorRow(c.name, c.id, c.state.status, d.ports, d.verdict, tuple(x.code for x in d.causes),
                                      d.causes[0].summary if d.causes else "; ".join(d.unknown_reasons or d.works)))
            if d.verdict != Verdict.REACHABLE:
                broken[f"{c.id}->{outbound}"] = d
    return DoctorReport(tuple(sorted(rows, key=lambda r: r.container)), tuple(found), broken, outbound,
                        tuple(sorted(out_rows, key=lambda r: r.container)))
