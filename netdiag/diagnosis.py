"""What `why-unreachable` answers: the attempt it explains, the causes, the path, the verdict.

The JSON form is the public contract (docs/contract.md): keep field names stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netdiag.vocab import HOST, AddressKind, Hop, HopStatus, Origin, Verdict


@dataclass(frozen=True)
class AttemptSpec:
    """An attempt as the user asked for it (or as a bundle recorded it), before it is resolved."""

    container: str
    port: int | None = None
    to: str = ""
    origin: Origin = HOST


@dataclass(frozen=True)
class Attempt:
    """The connection a user tried (or, without --to, the one they would normally make)."""

    origin: Origin = HOST
    to_text: str = ""  # what the user wrote after --to
    address: str = ""  # the address the attempt goes to ("" when a name did not resolve)
    name: str = ""  # the name used instead of an address (localhost, a container name)
    port: int | None = None  # the port on that address
    kind: AddressKind = AddressKind.DEFAULT


@dataclass(frozen=True)
class Finding:
    """One cause: what is wrong, the facts that prove it, and the fix with real values."""

    code: str
    rule: str
    hop: Hop
    summary: str
    evidence: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    port: int | None = None


@dataclass(frozen=True)
class PathStep:
    """One hop of the path as this diagnosis saw it."""

    hop: str  # the hop's name, with the port in question when several are checked: "listener (80/tcp)"
    status: HopStatus
    detail: str = ""


@dataclass(frozen=True)
class Diagnosis:
    verdict: Verdict
    container: str
    container_id: str
    attempt: Attempt
    ports: tuple[int, ...] = ()
    causes: tuple[Finding, ...] = ()
    path: tuple[PathStep, ...] = ()
    works: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unknown_reasons: tuple[str, ...] = ()
    tried: str = ""  # where the attempt went, as address:port, when no --to named it

    def to_contract(self) -> dict[str, Any]:
        """The JSON object of the public contract (docs/contract.md)."""
        a = self.attempt
        port = self.ports[0] if len(self.ports) == 1 else None
        out = {
            "verdict": self.verdict.value,
            "target": {"container": self.container or None, "id": self.container_id or None, "port": port,
                       "to": a.to_text or self.tried, "from": str(a.origin)},
            "causes": [{"code": f.code, "rule": f.rule, "port": f.port, "summary": f.summary,
                        "evidence": list(f.evidence), "fix": list(f.fix)} for f in self.causes],
            "path": [{"hop": h.hop, "status": h.status.value, "detail": h.detail} for h in self.path],
            "works": list(self.works),
            "notes": [f"unknown: {u}" for u in self.unknown_reasons] + list(self.notes),
        }
        return out
