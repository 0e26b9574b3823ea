"""Running many reach attempts at once: from this machine, or from inside a container.

Each attempt has its own deadline. An attempt whose hop the facts already decide (a container
address that the client's routes send away from the Docker host) gets a short one: if nothing
answers by then, its result says it was cut short and why, and nothing is concluded from the
silence. An ICMP echo to the address the user tried can start before the facts are gathered
(`EarlyProbe`), so that its wait overlaps theirs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from netdiag.facts import CUT_SHORT, Container, Outcome, Reach
from netdiag.probes.runner import run_concurrently
from netdiag.vocab import HOST, Origin, ProbeKind, ReachResult

ATTEMPTS_TIMEOUT = 12.0  # seconds for all of them together; each probe has its own, shorter one
PROBE_TIMEOUT = 1.5  # seconds one attempt may wait for an answer (--timeout)
SETTLED_WAIT = 0.25  # seconds an attempt waits when the facts already decide its hop

Step = tuple[Container | None, ProbeKind, str, int | None]
Key = tuple[ProbeKind, str, int | None]


@dataclass(frozen=True)
class Deadline:
    seconds: float
    settled: str = ""  # why a short wait is enough: the facts that already decide this hop


class EarlyProbe:
    """An ICMP echo started before the facts are gathered, collected later within a deadline."""

    def __init__(self, address: str, timeout: float = PROBE_TIMEOUT):
        from netdiag.probes.reach import probe_icmp

        self.address = address
        self.started = time.monotonic()
        self._result: Reach | None = None
        self._done = threading.Event()

        def run() -> None:
            try:
                self._result = probe_icmp(address, timeout)
            except Exception as e:  # a probe's failure is a fact
                self._result = Reach(Outcome.failed(f"{type(e).__name__}: {e}"), ProbeKind.ICMP, address)
            self._done.set()

        threading.Thread(target=run, daemon=True).start()

    def wait(self, seconds: float) -> Reach | None:
        """Its result, or None when it has not finished within `seconds` more."""
        return self._result if self._done.wait(max(0.0, seconds)) else None


def _cut_short(kind: ProbeKind, address: str, port: int | None, d: Deadline, origin: Origin) -> Reach:
    return Reach(Outcome.unavailable(f"no answer and no router's error within {d.seconds:.2g}s; not waited for "
                                     f"longer, as {d.settled}", CUT_SHORT), kind, address, port, origin=origin)


def run_attempts(plan: list[Step], exec_api: Any = None, deadlines: dict[Key, Deadline] | None = None,
                 early: dict[str, EarlyProbe] | None = None) -> tuple[Reach, ...]:
    """Every distinct (source container or None for this machine, kind, address, port) probed
    concurrently, in the plan's order, each within its deadline. From a container only TCP is
    tried: netdiag's own probe in its namespace, or, given `exec_api` (a daemon elsewhere), the
    container's nc through docker exec. An attempt that breaks or outlives the timeout is a failed
    Reach; one silent at a settled deadline is unavailable, cut short, with the reason."""
    from netdiag.probes.inside import probe_from_container, probe_via_exec
    from netdiag.probes.reach import probe_icmp, probe_tcp

    deadlines = deadlines or {}
    early = early or {}
    started = time.monotonic()
    sources = {src.id: src for src, _, _, _ in plan if src is not None}
    unique = list(dict.fromkeys((src.id if src else "", kind, address, port) for src, kind, address, port
                                in plan if src is None or kind == ProbeKind.TCP))
    tasks = {}
    for i, (sid, kind, address, port) in enumerate(unique):
        src = sources.get(sid)
        d = deadlines.get((kind, address, port), Deadline(PROBE_TIMEOUT))
        if src is not None and exec_api is not None:
            tasks[str(i)] = (lambda s=src, a=address, p=port: probe_via_exec(exec_api, s, a, p))
        elif src is not None:
            tasks[str(i)] = (lambda s=src, a=address, p=port: probe_from_container(s, a, p))
        elif kind == ProbeKind.ICMP and address in early:
            continue  # collected below, once the TCP attempts have said whether it still matters
        elif kind == ProbeKind.ICMP:
            tasks[str(i)] = (lambda a=address, d=d: probe_icmp(a, d.seconds))
        else:
            tasks[str(i)] = (lambda a=address, p=port, d=d: probe_tcp(a, p, d.seconds))
    results: dict[str, Any] = run_concurrently(tasks, timeout=ATTEMPTS_TIMEOUT,
                                               on_error=lambda n, why: Outcome.failed(why))
    answered = {r.address for r in results.values() if isinstance(r, Reach) and r.result == ReachResult.ANSWERED}
    for i, (sid, kind, address, port) in enumerate(unique):
        if sid or kind != ProbeKind.ICMP or address not in early:
            continue
        d = deadlines.get((kind, address, port), Deadline(PROBE_TIMEOUT))
        if address in answered:  # the service itself answered there: the echo adds nothing worth a wait
            waited = time.monotonic() - early[address].started
            deadlines[(kind, address, port)] = Deadline(waited, f"the service at {address} answered")
            results[str(i)] = early[address].wait(0)
        else:
            results[str(i)] = early[address].wait(d.seconds - (time.monotonic() - started))
    out = []
    for i, (sid, kind, address, port) in enumerate(unique):
        r = results[str(i)]
        origin = Origin(sources[sid].name) if sid else HOST
        d = deadlines.get((kind, address, port), Deadline(PROBE_TIMEOUT))
        silent = r is None or (isinstance(r, Reach) and r.outcome.ok and r.result == ReachResult.TIMEOUT)
        if d.settled and silent and not sid:
            out.append(_cut_short(kind, address, port, d, origin))
        elif r is None:  # an early echo still unanswered at its deadline, with nothing that settles the hop
            out.append(Reach(Outcome(method="raw ICMP socket"), kind, address, port, ReachResult.TIMEOUT, origin=origin,
                             detail=f"no reply within {d.seconds:g}s"))
        else:
            out.append(r if isinstance(r, Reach) else Reach(r, kind, address, port, origin=origin))
    return tuple(out)
