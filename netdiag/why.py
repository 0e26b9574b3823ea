"""`why-unreachable` on a live engine: gather the facts, try the attempt, reason, answer."""

from __future__ import annotations

import dataclasses
import socket

from netdiag.diagnosis import Diagnosis
from netdiag.errors import BadInput
from netdiag.facts import Outcome, Reach, Snapshot
from netdiag.probes.runner import run_concurrently
from netdiag.reasoner import diagnose, parse_origin, reach_plan, resolve_attempt


def _resolve(name: str) -> str:
    """A host name the user typed in --to, looked up as the client would."""
    try:
        return socket.getaddrinfo(name, None, family=socket.AF_INET, proto=socket.IPPROTO_TCP)[0][4][0]
    except OSError:
        return ""


def run_reach(plan, source=None) -> tuple[Reach, ...]:
    """Every planned attempt at once, from the host or from inside the source container."""
    from netdiag.probes.inside import probe_from_container
    from netdiag.probes.reach import probe_icmp, probe_tcp

    tasks = {}
    for i, (kind, address, port) in enumerate(plan):
        if source is not None:
            if kind == "tcp":
                tasks[str(i)] = (lambda a=address, p=port: probe_from_container(source, a, p))
        elif kind == "icmp":
            tasks[str(i)] = (lambda a=address: probe_icmp(a))
        else:
            tasks[str(i)] = (lambda a=address, p=port: probe_tcp(a, p))
    results = run_concurrently(tasks, timeout=12, on_error=lambda n, why: Outcome.failed(why))
    origin = f"container:{source.name}" if source is not None else "host"
    out = []
    for i, (kind, address, port) in enumerate(plan):
        r = results.get(str(i))
        if r is None:
            continue
        out.append(r if isinstance(r, Reach) else Reach(r, kind, address, port, source=origin))
    return tuple(out)


def why_unreachable(ref: str, port: int | None, to: str, origin: str) -> tuple[Diagnosis, Snapshot]:
    from netdiag.live import Live

    origin = parse_origin(origin)
    live = Live()
    target = live.container(ref)
    source = live.container(origin.split(":", 1)[1]) if origin != "host" else None
    if source is not None and source.id == target.id:
        raise BadInput("bad-argument", f"--from container:{source.name} is the target itself")
    watch = [target] + ([source] if source is not None else [])
    snapshot = live.snapshot(listen=watch)
    target = next(c for c in snapshot.containers if c.id == target.id)
    source = next((c for c in snapshot.containers if source is not None and c.id == source.id), None)
    attempt = resolve_attempt(snapshot, target, origin, to or "", _resolve)
    from netdiag.context import Context
    from netdiag.reasoner import ports_in_question

    base = Context(snapshot, target, attempt, None, source=source)
    ls = base.listeners()
    ports, _ = ports_in_question(snapshot, target, attempt, port, ls.outcome.ok,
                                 set(base.app_ports()) if ls.outcome.ok else set())
    plan = reach_plan(snapshot, target, attempt, ports, source)
    snapshot = dataclasses.replace(snapshot, reach=run_reach(plan, source))
    return diagnose(snapshot, target, attempt, port, source), snapshot
