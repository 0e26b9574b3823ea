"""Firewall layouts of engines this lab cannot run, recorded from their own sources (moby's
generated rule dumps, its code), fed through the same parser and rules as live facts: each
fixture under tests/data/moby/ names its source. The verdicts are the ones a live engine of that
version gives."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import AttemptSpec
from netdiag.parsers.iptables import parse_iptables_save
from netdiag.vocab import ReachResult, Verdict
from netdiag.why import explain
from tests.builders import BRIDGE, BRIDGE1, C1, MOBY, from_the_laptop, local, moby_firewall, tcp


@pytest.mark.parametrize("rules, version", [("docker-28.2-usernet-portmap.rules", "28.2.2"),
                                            ("docker-28.0-usernet-portmap.rules", "28.0.4")])
def test_direct_routing_to_the_container_is_dropped(rules, version):
    snap = from_the_laptop(rules, version, tcp("192.0.2.2", 80, ReachResult.TIMEOUT, detail="no answer in 2.0 s"))
    d = explain(snap, AttemptSpec(C1.id, None, "192.0.2.2:80"))
    assert d.verdict == Verdict.UNREACHABLE and [c.code for c in d.causes] == ["direct-routing-blocked"]
    c = d.causes[0]
    assert "the client's route to 192.0.2.2: 192.0.2.0/24 via 192.168.59.103 (the Docker host)" in c.evidence
    assert any(e.startswith("rule 1 of raw/PREROUTING on the Docker host: -A PREROUTING -d 192.0.2.2/32 ! -i bridge1")
               for e in c.evidence)
    assert c.fix[0] == "use 192.168.59.103:8080"
    assert any("trusted_host_interfaces" in f for f in c.fix) and any("gateway_mode_ipv4=routed" in f for f in c.fix)


def test_a_trusted_interface_lets_it_in_so_no_drop_is_claimed():
    """28.2's trusted_host_interfaces puts an ACCEPT for that interface first: which interface
    the laptop comes in by decides, and netdiag does not claim the DROP."""
    text = (MOBY / "docker-28.2-usernet-portmap.rules").read_text().replace(
        "-A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP",
        "-A PREROUTING -d 192.0.2.2/32 -i eth1 -j ACCEPT\n-A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP")
    snap = from_the_laptop("docker-28.2-usernet-portmap.rules", "28.2.2",
                           tcp("192.0.2.2", 80, ReachResult.TIMEOUT, detail="no answer"))
    snap = dataclasses.replace(snap, firewall=dataclasses.replace(snap.firewall,
                                                                  chains=tuple(parse_iptables_save(text))))
    d = explain(snap, AttemptSpec(C1.id, None, "192.0.2.2:80"))
    assert "direct-routing-blocked" not in [c.code for c in d.causes]


def test_an_answer_from_the_container_address_overrules_the_rule():
    snap = from_the_laptop("docker-28.2-usernet-portmap.rules", "28.2.2",
                           tcp("192.0.2.2", 80, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"))
    d = explain(snap, AttemptSpec(C1.id, None, "192.0.2.2:80"))
    assert d.verdict == Verdict.REACHABLE and not d.causes


def test_the_docker_host_itself_is_not_filtered():
    snap = local(C1, networks=(BRIDGE, BRIDGE1), fw=moby_firewall("docker-28.2-usernet-portmap.rules"),
                 reach=(tcp("192.0.2.2", 80, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"),))
    d = explain(snap, AttemptSpec(C1.id, None, "192.0.2.2:80"))
    assert d.verdict == Verdict.REACHABLE and not d.causes


@pytest.mark.parametrize("rules", ["docker-28.2-usernet-portmap.rules", "docker-28.0-usernet-portmap.rules"])
def test_the_published_port_through_dockers_28_chains_is_healthy(rules):
    """DOCKER-FORWARD, DOCKER-CT and DOCKER-BRIDGE replace the old FORWARD jumps: read as Docker's
    own, never as a flushed FORWARD chain."""
    snap = from_the_laptop(rules, "28.2.2", tcp("192.168.59.103", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200"))
    d = explain(snap, AttemptSpec(C1.id))
    assert d.verdict == Verdict.REACHABLE and not d.causes, d
    silent = from_the_laptop(rules, "28.2.2", tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"))
    assert "firewall-blocks" not in [c.code for c in explain(silent, AttemptSpec(C1.id)).causes]
