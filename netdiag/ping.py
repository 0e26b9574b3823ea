"""`netdiag ping`: ICMP and TCP from this machine to an address or to a container's addresses."""

from __future__ import annotations

from netdiag.facts import LOCAL, Outcome, Reach
from netdiag.probes.reach import probe_icmp, probe_tcp
from netdiag.probes.runner import run_concurrently
from netdiag.reports import PingReport


def _run(plan: list[tuple[str, str, int | None]]) -> tuple[Reach, ...]:
    """Run every (kind, address, port) attempt at once; keep the plan's order."""
    tasks = {}
    for i, (kind, address, port) in enumerate(plan):
        if kind == "icmp":
            tasks[str(i)] = (lambda a=address: probe_icmp(a))
        else:
            tasks[str(i)] = (lambda a=address, p=port: probe_tcp(a, p))
    results = run_concurrently(tasks, timeout=10,
                               on_error=lambda name, why: Outcome.failed(why))
    out = []
    for i, (kind, address, port) in enumerate(plan):
        r = results[str(i)]
        out.append(r if isinstance(r, Reach) else Reach(r, kind, address, port))
    return tuple(out)


def ping(target: str, port: int | None, is_address: bool) -> PingReport:
    if is_address:
        plan = [("icmp", target, None)] + ([("tcp", target, port)] if port else [])
        return PingReport(target, _run(plan))
    from netdiag.live import Live

    live = Live()
    c = live.container(target)
    notes = []
    plan: list[tuple[str, str, int | None]] = []
    if not c.state.running:
        notes.append(f"{c.name} is {c.state.status}: nothing in it can answer")
    for ep in c.endpoints:
        if ep.ipv4:
            plan.append(("icmp", ep.ipv4, None))
            if port:
                plan.append(("tcp", ep.ipv4, port))
    host = live.engine.host_address
    for b in c.published:
        if port and b.container_port != port or b.protocol != "tcp":
            continue
        bound = b.host_ip or "0.0.0.0"
        if bound in ("0.0.0.0", "::"):
            plan.append(("tcp", host, b.host_port))
        elif live.engine.location == LOCAL:
            plan.append(("tcp", bound, b.host_port))
        else:
            notes.append(f"{b.container_port}/tcp is bound to {bound} on the Docker host only: "
                         f"not reachable from this machine")
    if live.engine.location != LOCAL:
        notes.append(f"the Docker daemon runs on another machine ({live.engine.vm_kind or live.engine.location}, "
                     f"{host}): container addresses live on a bridge there; published ports are at {host}")
    if c.network_mode == "host":
        notes.append(f"{c.name} uses the host's network: its ports are the Docker host's ({host})")
        if port:
            plan.append(("tcp", host, port))
    return PingReport(f"{c.name} ({c.id[:12]})", _run(list(dict.fromkeys(plan))), tuple(notes))
