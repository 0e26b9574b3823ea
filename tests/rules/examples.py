"""Rule examples, ShellCheck's verify/verifyNot in Python: each rule module has a cases module beside
it here (netdiag/rules/state.py -> tests/rules/cases_state.py) with, per branch of each rule, a
snapshot where the rule must fire and one where it must stay quiet, keyed by rule ID.

    @fires("ND101", "paused")
    def _():
        return local(web(state=...)), {}, lambda c: "docker unpause web" in c.fix

A case returns (snapshot, why-unreachable arguments[, check]): `check` gets the finding of that
rule (fires), or the diagnosis (quiet, unknown), and asserts on what the user sees. `@unknown`
cases show a rule that lacks a declared input: its hop must be `unknown`, naming the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Build = Callable[[], tuple]


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str  # fires | quiet | unknown
    name: str
    build: Build

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.kind}-{self.name}"


CASES: list[Case] = []


def _register(rule: str, kind: str, name: str) -> Callable[[Build], Build]:
    def add(fn: Build) -> Build:
        CASES.append(Case(rule, kind, name, fn))
        return fn
    return add


def fires(rule: str, name: str) -> Callable[[Build], Build]:
    return _register(rule, "fires", name)


def quiet(rule: str, name: str) -> Callable[[Build], Build]:
    return _register(rule, "quiet", name)


def unknown(rule: str, name: str) -> Callable[[Build], Build]:
    return _register(rule, "unknown", name)


def load() -> list[Case]:
    """Every case of every cases module."""
    from tests.rules import (  # noqa: F401
        cases_addressing,
        cases_forwarding,
        cases_links,
        cases_listening,
        cases_namespaces,
        cases_outbound,
        cases_ports,
        cases_state,
        cases_swarm,
    )

    return list(CASES)


def args(**kw: Any) -> dict[str, Any]:
    return kw
