"""Running many reach attempts at once: from this machine, or from inside a container."""

from __future__ import annotations

from netdiag.facts import Container, Outcome, Reach
from netdiag.probes.runner import run_concurrently
from netdiag.vocab import HOST, Origin, ProbeKind

ATTEMPTS_TIMEOUT = 12.0  # seconds for all of them together; each probe has its own, shorter one


def run_attempts(plan: list[tuple[Container | None, ProbeKind, str, int | None]],
                 exec_api=None) -> tuple[Reach, ...]:
    """Every distinct (source container or None for this machine, kind, address, port) probed
    concurrently, in the plan's order. From a container only TCP is tried: netdiag's own probe in
    its namespace, or, given `exec_api` (a daemon elsewhere), the container's nc through docker
    exec. An attempt that breaks or outlives the timeout is a failed Reach."""
    from netdiag.probes.inside import probe_from_container, probe_via_exec
    from netdiag.probes.reach import probe_icmp, probe_tcp

    sources = {src.id: src for src, _, _, _ in plan if src is not None}
    unique = list(dict.fromkeys((src.id if src else "", kind, address, port) for src, kind, address, port
                                in plan if src is None or kind == ProbeKind.TCP))
    tasks = {}
    for i, (sid, kind, address, port) in enumerate(unique):
        src = sources.get(sid)
        if src is not None and exec_api is not None:
            tasks[str(i)] = (lambda s=src, a=address, p=port: probe_via_exec(exec_api, s, a, p))
        elif src is not None:
            tasks[str(i)] = (lambda s=src, a=address, p=port: probe_from_container(s, a, p))
        elif kind == ProbeKind.ICMP:
            tasks[str(i)] = (lambda a=address: probe_icmp(a))
        else:
            tasks[str(i)] = (lambda a=address, p=port: probe_tcp(a, p))
    results = run_concurrently(tasks, timeout=ATTEMPTS_TIMEOUT, on_error=lambda n, why: Outcome.failed(why))
    out = []
    for i, (sid, kind, address, port) in enumerate(unique):
        r = results[str(i)]
        origin = Origin(sources[sid].name) if sid else HOST
        out.append(r if isinstance(r, Reach) else Reach(r, kind, address, port, origin=origin))
    return tuple(out)
