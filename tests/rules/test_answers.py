"""Evidence beats inference, over the whole rule set: every example where a rule fires, replayed
with the attempt answered, must not leave a cause at a hop the answer went through. A rule the
answer contradicts shows up in `notes` (netdiag.reasoner.evidence): that too fails here, since the
rule should have seen the answer itself."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import AttemptSpec
from netdiag.facts import Outcome, Reach
from netdiag.reasoner.plan import attempt_target
from netdiag.vocab import Origin, ProbeKind, ReachResult
from netdiag.why import _context, _outbound, explain
from tests.rules.examples import load



def answered(snap, spec: AttemptSpec):
    """The snapshot with the attempt's own TCP connection (per port in question) answered."""
    from netdiag.reasoner.ports import ports_in_question

    if not spec.container:
        ctx = _outbound(snap, spec)
        targets = [(ctx.address, ctx.port)] if ctx.address and ctx.port else []
    else:
        base = _context(snap, spec, None)
        targets = []
        for p in ports_in_question(base, spec.port)[0]:
            t = attempt_target(dataclasses.replace(base, port=p))
            if t and t[1]:
                targets.append(t)
    keep = tuple(r for r in snap.reach if (r.address, r.port) not in targets)
    added = tuple(Reach(Outcome(method="connect()"), ProbeKind.TCP, a, p, ReachResult.ANSWERED, origin=spec.origin,
                        banner="HTTP/1.1 200 OK") for a, p in targets)
    return dataclasses.replace(snap, reach=keep + added), targets


def replayed(case):
    """(the case's snapshot with its attempt answered, the attempt) or None when the attempt has no
    TCP target to answer (no port, or no container running): nothing to replay then."""
    snap, kw, *_ = case.build()
    target = kw.get("target") or snap.containers[0]
    outbound = kw.get("outbound", False)
    spec = AttemptSpec("" if outbound else target.id, kw.get("port"), kw.get("to", ""),
                       Origin.parse(kw.get("origin", "host")))
    snap, targets = answered(snap, spec)
    return (snap, spec) if targets else None


FIRING = [c for c in load() if c.kind == "fires" and replayed(c) is not None]


@pytest.mark.parametrize("case", FIRING, ids=lambda c: c.id)
def test_an_answer_through_the_hop_leaves_no_cause_there(case):
    snap, spec = replayed(case)
    d = explain(snap, spec)
    contradicted = [n for n in d.notes if "was answered through the" in n]
    assert not contradicted, contradicted


def test_the_answer_overrules_a_firewall_rule_read_on_the_docker_host():
    """The helper read a DOCKER-USER rule that looks like it drops port 80, yet the laptop's own
    attempt was answered through the forwarding hop: no cause, the verdict is reachable, and the
    overruled finding is said in notes."""
    from netdiag.vocab import Verdict
    from tests.builders import b2d, chain, firewall, tcp

    fw = firewall(chains=tuple(c for c in firewall().chains if c.name != "DOCKER-USER")
                  + (chain("filter", "DOCKER-USER", "", "-p tcp -m tcp --dport 80 -j DROP", "-j RETURN"),))
    snap = dataclasses.replace(b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.ANSWERED),)), firewall=fw)
    d = explain(snap, AttemptSpec(snap.containers[0].id))
    assert d.verdict == Verdict.REACHABLE and not d.causes
    assert any(n.startswith('ND502 (firewall-blocks) would say "a DOCKER-USER rule drops the traffic to '
                            '192.168.59.103:32768", but the attempt to 192.168.59.103:32768 was answered through '
                            'the forwarding hop') for n in d.notes), d.notes
