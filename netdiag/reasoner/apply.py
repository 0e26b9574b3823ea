"""Running the rules over one context: which apply, which are skipped for want of an input, and
the findings of the rest with their rule's ID, code, hop and port attached.

This is the one place where a missing or failed input becomes an `unknown` hop: a rule whose
declared input could not be read does not run, and the skip names the input and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.context import Context, in_engines_cli
from netdiag.diagnosis import Finding
from netdiag.outbound import Outbound
from netdiag.rules import Rule
from netdiag.rules.inputs import missing
from netdiag.vocab import Hop


@dataclass(frozen=True)
class Skip:
    """A rule that could not decide: its hop, and what it lacked."""

    rule: str
    hop: Hop
    # (what, why) per missing input: ("the Docker host's firewall rules", "iptables-save needs root")
    lacking: tuple[tuple[str, str], ...]


def applicable(r: Rule, ctx: Context | Outbound) -> bool:
    outbound = isinstance(ctx, Outbound)
    return r.fn is not None and r.direction.covers(ctx.attempt.origin, outbound) and r.applies_to(ctx.target)


def apply(rules: list[Rule], ctx: Context | Outbound) -> tuple[list[Finding], list[Skip]]:
    """The findings of every applicable rule whose inputs are there, and a Skip for each other."""
    findings: list[Finding] = []
    skips: list[Skip] = []
    for r in rules:
        if not applicable(r, ctx):
            continue
        assert r.fn is not None and r.hop is not None
        lacking = tuple(m for m in (missing(ctx, need) for need in r.needs) if m is not None)
        if lacking:
            skips.append(Skip(r.id, r.hop, lacking))
            continue
        for f in r.fn(ctx):
            evidence = (in_engines_cli(e, ctx.engine) for e in f.evidence)
            fix = (in_engines_cli(x, ctx.engine) for x in f.fix)
            findings.append(Finding(r.code, r.id, r.hop, f.summary, tuple(dict.fromkeys(evidence)),
                                    tuple(dict.fromkeys(fix)), ctx.port if r.per_port else None))
    return findings, skips
