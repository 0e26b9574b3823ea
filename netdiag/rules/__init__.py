"""The rule catalog: one rule per failure, each a pure function of the facts.

A rule has a stable ID (retired, never reused), the cause code it reports, the hop of the path it
breaks, and a docstring with fixed sections: Detects, Why it breaks, Evidence, Fix, Exceptions.
`netdiag rules`, docs/rules.md and the JSON all come from that one text.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from netdiag.diagnosis import Finding

SECTIONS = ("Detects", "Why it breaks", "Evidence", "Fix", "Exceptions")

# the hops of the path, in the order a packet meets them
HOST_PATH = ("client", "boundary", "host binding", "forwarding", "network", "container", "listener", "process")
CONTAINER_PATH = ("source container", "shared network", "name resolution", "forwarding", "container", "listener",
                  "process")


@dataclass(frozen=True)
class Rule:
    id: str
    code: str
    hop: str
    fn: Callable | None  # None for error codes, which are raised before rules run
    per_port: bool = True

    @property
    def doc(self) -> str:
        return inspect.cleandoc((self.fn.__doc__ if self.fn else ERROR_DOCS[self.id]) or "")

    @property
    def title(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def sections(self) -> dict[str, str]:
        """The docstring's fixed sections, by name."""
        found: dict[str, str] = {}
        current = None
        for line in self.doc.splitlines()[1:]:
            m = re.match(r"^(%s):\s*(.*)$" % "|".join(re.escape(s) for s in SECTIONS), line)
            if m:
                current = m.group(1)
                found[current] = m.group(2).strip()
            elif current:
                found[current] = (found[current] + "\n" + line.strip()).strip()
        return found


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, code: str, hop: str, per_port: bool = True):
    """Register a rule function `fn(ctx) -> iterable of Finding`."""

    def register(fn):
        if rule_id in REGISTRY:
            raise ValueError(f"rule id {rule_id} is used twice")
        REGISTRY[rule_id] = Rule(rule_id, code, hop, fn, per_port)
        return fn

    return register


def finding(ctx, rule_id: str, summary: str, evidence: Iterable[str], fix: Iterable[str]) -> Finding:
    r = REGISTRY[rule_id]
    return Finding(r.code, r.id, r.hop, summary, tuple(dict.fromkeys(evidence)), tuple(dict.fromkeys(fix)),
                   ctx.port if r.per_port else None)


ERROR_DOCS = {
    "ND001": """No container matches the name or id given.

    Detects: the CONTAINER argument matches no container by name, full id or id prefix, or an id
    prefix matches several (the candidates are listed).
    Why it breaks: netdiag cannot diagnose a container it cannot find; often the container was
    removed (`docker run --rm`), or the command runs against another daemon than the user thinks.
    Evidence: the name given, and for an ambiguous prefix each matching id with its name.
    Fix: `docker ps -a` to see the names; use a longer id prefix; check DOCKER_HOST and the docker
    context (`netdiag engine`).
    Exceptions: reported as an error, exit code 2, before any rule runs.
    """,
    "ND002": """The Docker daemon cannot be reached.

    Detects: no answer at the endpoint the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the
    current context, or the local socket).
    Why it breaks: without the daemon there is nothing to inspect.
    Evidence: the endpoint, what chose it, and why the connection failed (no socket, permission
    denied, connection refused, timeout).
    Fix: start dockerd (`systemctl start docker`), add the user to the docker group, or point
    DOCKER_HOST / the context at the right daemon.
    Exceptions: reported as an error, exit code 3, before any rule runs.
    """,
}
REGISTRY["ND001"] = Rule("ND001", "container-not-found", "", None, False)
REGISTRY["ND002"] = Rule("ND002", "daemon-unreachable", "", None, False)


def load_rules() -> dict[str, Rule]:
    """Import every rule module, so that all rules are registered; the catalog by ID."""
    from netdiag.rules import (addressing, forwarding, links, listening, ports,  # noqa: F401
                               state)

    return dict(sorted(REGISTRY.items()))
