"""`netdiag ping`: ICMP and TCP from this machine to an address or to a container's addresses."""

from __future__ import annotations

from netdiag.facts import Reach
from netdiag.views import PingReport
from netdiag.vocab import Location, NetMode


def _run(plan: list[tuple[str, str, int | None]]) -> tuple[Reach, ...]:
    from netdiag.probes.attempts import run_attempts

    return run_attempts([(None, kind, address, port) for kind, address, port in plan])


def ping(target: str, port: int | None, is_address: bool) -> PingReport:
    if is_address:
        plan = [("icmp", target, None)] + ([("tcp", target, port)] if port else [])
        return PingReport(target, _run(plan))
    from netdiag.context import daemon_place
    from netdiag.live import Live

    live = Live()
    c = live.on_its_network(target)
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
        elif live.engine.location == Location.LOCAL:
            plan.append(("tcp", bound, b.host_port))
        else:
            notes.append(f"{b.container_port}/tcp is bound to {bound} on the Docker host only: "
                         f"not reachable from this machine")
    if live.engine.location != Location.LOCAL:
        notes.append(f"{daemon_place(live.engine)}: container addresses live on a bridge there; "
                     f"published ports are at {host}")
    if c.mode == NetMode.HOST:
        notes.append(f"{c.name} uses the host's network: its ports are the Docker host's ({host})")
        if port:
            plan.append(("tcp", host, port))
    return PingReport(f"{c.name} ({c.id[:12]})", _run(plan), tuple(notes))
