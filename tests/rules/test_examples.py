"""Every rule's examples: it fires where it must, with what the user sees; it stays quiet where it
must not; a rule lacking an input leaves its hop unknown. And every rule has such examples."""

from __future__ import annotations

import pytest

from netdiag.diagnosis import AttemptSpec
from netdiag.rules import load_rules
from netdiag.vocab import HopStatus, Origin, Verdict
from netdiag.why import explain
from tests.rules.examples import load

CASES = load()


def run(snap, to="", origin="host", port=None, target=None, outbound=False):
    """The diagnosis of the case's attempt: towards its target container (the snapshot's first by
    default), or, `outbound`, out of the --from container to `to`."""
    target = target or snap.containers[0]
    return explain(snap, AttemptSpec("" if outbound else target.id, port, to, Origin.parse(origin)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_example(case):
    snap, kw, *check = case.build()
    d = run(snap, **kw)
    mine = [c for c in d.causes if c.rule == case.rule]
    if case.kind == "fires":
        assert mine, f"{case.rule} did not fire: {[c.rule for c in d.causes]} {d.unknown_reasons}"
        assert d.verdict == Verdict.UNREACHABLE
        assert mine[0].code == load_rules()[case.rule].code
        assert all(mine[0].evidence) and all(mine[0].fix)
        for c in check:
            assert c(mine[0]), (mine[0].summary, mine[0].evidence, mine[0].fix)
    elif case.kind == "quiet":
        assert not mine, mine
        for c in check:
            assert c(d), d
    else:
        hop = load_rules()[case.rule].hop
        steps = [s for s in d.path if s.hop.split(" (")[0] == hop]
        assert not mine and steps and all(s.status == HopStatus.UNKNOWN and case.rule in s.detail for s in steps), \
            d.path
        for c in check:
            assert c(d), d


def test_every_rule_has_examples_of_both_kinds():
    have = {(c.rule, c.kind) for c in CASES}
    for rid, r in load_rules().items():
        if r.fn is None:
            continue
        assert (rid, "fires") in have, f"{rid} has no example where it fires"
        assert (rid, "quiet") in have, f"{rid} has no example where it stays quiet"
    assert len({c.id for c in CASES}) == len(CASES), "two examples share an id"


def test_every_declared_input_has_an_unknown_example():
    """Where a rule declares inputs, one example shows what it says without them."""
    have = {c.rule for c in CASES if c.kind == "unknown"}
    needy = {rid for rid, r in load_rules().items() if r.needs}
    assert needy <= have, f"no unknown-hop example for {sorted(needy - have)}"
