"""What `check` and `doctor` report: a result per expectation, a row per container, and the exit
code they make. Plain records: the renderers read them, the orchestration (netdiag.check) fills them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from netdiag.checkfile import Expectation
from netdiag.diagnosis import Diagnosis
from netdiag.errors import EXIT_CANNOT_DIAGNOSE, EXIT_REACHABLE, EXIT_UNREACHABLE
from netdiag.vocab import CheckStatus, Verdict


@dataclass(frozen=True)
class Result:
    """How one expectation of a netdiag.yml came out."""

    expectation: Expectation
    status: CheckStatus
    detail: str
    diagnosis: Diagnosis | None = None


@dataclass(frozen=True)
class BundleRow:
    """explain over bundles: one recorded attempt of one bundle."""

    bundle: str
    container: str
    verdict: Verdict | None  # None when the bundle could not be explained: `error` says why
    causes: tuple[str, ...] = ()
    error: str = ""
    host: str = ""  # the daemon the bundle was collected from: its context name, else its endpoint


@dataclass(frozen=True)
class DoctorRow:
    container: str
    id: str
    state: str
    ports: tuple[int, ...] = ()
    verdict: Verdict | None = None  # None: nothing to check (no port)
    causes: tuple[str, ...] = ()
    detail: str = ""
    host: str = ""  # over several daemons: which one (the -H URL or context name)


@dataclass(frozen=True)
class DoctorReport:
    rows: tuple[DoctorRow, ...]
    overlaps: tuple[str, ...] = ()
    diagnoses: dict[str, Diagnosis] = field(default_factory=dict)  # container id -> diagnosis of the broken ones
    outbound_to: str = ""  # doctor --outbound DEST: the destination every running container tried
    outbound: tuple[DoctorRow, ...] = ()  # one row per running container: its attempt out to `outbound_to`


def exit_code(statuses: Iterable[CheckStatus | Verdict | None]) -> int:
    """1 when something fails, else 3 when something could not be checked, else 0."""
    found = set(statuses)
    if CheckStatus.FAIL in found or Verdict.UNREACHABLE in found:
        return EXIT_UNREACHABLE
    if CheckStatus.UNKNOWN in found or Verdict.UNKNOWN in found:
        return EXIT_CANNOT_DIAGNOSE
    return EXIT_REACHABLE
