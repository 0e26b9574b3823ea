"""What `why-unreachable` answers: the attempt it explains, the causes, the path, the verdict.

The JSON form is the public contract (docs/contract.md): keep field names stable.
"""

from __future__ import annotations

from dataclasses import dataclass

REACHABLE = "reachable"
UNREACHABLE = "unreachable"
UNKNOWN = "unknown"

OK, FAIL, SKIP, UNKNOWN_HOP = "ok", "fail", "skip", "unknown"

# address kinds of an attempt's destination
UNSPECIFIED = "unspecified"  # 0.0.0.0 or ::, which a client treats as itself
LOOPBACK = "loopback"  # 127.0.0.0/8, ::1, localhost
DOCKER_HOST = "docker-host"  # the address where the daemon's host is reached
CONTAINER_IP = "container-ip"  # the target container's own address
OTHER_CONTAINER_IP = "other-container-ip"
CONTAINER_NAME = "container-name"  # a container name or alias (resolved by Docker's DNS)
OTHER = "other"  # an address netdiag does not recognise
DEFAULT = "default"  # no --to: the way a user would normally reach the port


@dataclass(frozen=True)
class AttemptSpec:
    """An attempt as the user asked for it (or as a bundle recorded it), before it is resolved."""

    container: str
    port: int | None = None
    to: str = ""
    origin: str = "host"


@dataclass(frozen=True)
class Attempt:
    """The connection a user tried (or, without --to, the one they would normally make)."""

    origin: str = "host"  # host | container:NAME
    to_text: str = ""  # what the user wrote after --to
    address: str = ""  # the address the attempt goes to ("" when a name did not resolve)
    name: str = ""  # the name used instead of an address (localhost, a container name)
    port: int | None = None  # the port on that address
    kind: str = DEFAULT  # one of the address kinds above


@dataclass(frozen=True)
class Finding:
    """One cause: what is wrong, the facts that prove it, and the fix with real values."""

    code: str
    rule: str
    hop: str
    summary: str
    evidence: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    port: int | None = None


@dataclass(frozen=True)
class Hop:
    hop: str
    status: str  # ok | fail | skip | unknown
    detail: str = ""


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    container: str
    container_id: str
    attempt: Attempt
    ports: tuple[int, ...] = ()
    causes: tuple[Finding, ...] = ()
    path: tuple[Hop, ...] = ()
    works: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unknown_reasons: tuple[str, ...] = ()
    tried: str = ""  # where the attempt went, as address:port, when no --to named it

    def to_contract(self) -> dict:
        """The JSON object of the public contract (docs/contract.md)."""
        a = self.attempt
        port = self.ports[0] if len(self.ports) == 1 else None
        out = {
            "verdict": self.verdict,
            "target": {"container": self.container, "id": self.container_id, "port": port,
                       "to": a.to_text or self.tried, "from": a.origin},
            "causes": [{"code": f.code, "rule": f.rule, "port": f.port, "summary": f.summary,
                        "evidence": list(f.evidence), "fix": list(f.fix)} for f in self.causes],
            "path": [{"hop": h.hop, "status": h.status, "detail": h.detail} for h in self.path],
            "works": list(self.works),
            "notes": [f"unknown: {u}" for u in self.unknown_reasons] + list(self.notes),
        }
        return out
