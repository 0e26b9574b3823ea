"""The catalog's registration guards, the order of causes along the path, and the verdict's honesty,
on recorded-style snapshots. Each rule's own examples are in tests/rules/."""

from __future__ import annotations

import dataclasses

import pytest

import netdiag.rules as rules_module
from netdiag.diagnosis import AttemptSpec
from netdiag.facts import Listeners, Outcome, PortBinding
from netdiag.rules import REGISTRY, RuleError, contract_codes, load_rules, rule
from netdiag.vocab import Hop, Origin, ReachResult, Verdict
from netdiag.why import explain
from tests.builders import LAPTOP, WEB_ID, answered_locally, b2d, icmp, local, tcp, web


def run(snap, target=None, to="", origin="host", port=None):
    target = target or snap.containers[0]
    return explain(snap, AttemptSpec(target.id, port, to, Origin.parse(origin)))


def codes(d) -> list[str]:
    return [c.code for c in d.causes]


HEALTHY_LOCAL = dict(reach=answered_locally())


def test_every_contract_code_has_a_rule():
    """The contract's table (docs/contract.md) and the rules agree: no code without a rule, no rule
    outside the contract."""
    assert {r.code for r in load_rules().values()} == contract_codes()


def _doc(title="Detects a thing."):
    return f"""{title}

    Detects: x.
    Why it breaks: y.
    Evidence: z.
    Fix: w.
    Exceptions: none.
    """


def _register(rule_id="ND999", code="wrong-address", hop=Hop.CLIENT, doc=None, **kw):
    def fn(ctx):
        yield from ()
    fn.__doc__ = _doc() if doc is None else doc
    existing = REGISTRY.get(rule_id)
    try:
        return rule(rule_id, code, hop, **kw)(fn)
    finally:  # leave the catalog as it was, the real rule of a reused ID included
        if existing is None:
            REGISTRY.pop(rule_id, None)
        else:
            REGISTRY[rule_id] = existing


@pytest.mark.parametrize("kw, message", [
    (dict(hop="host-binding"), "hop 'host-binding' is not one of"),
    (dict(rule_id="ND12"), "rule id 'ND12' is not of the form ND123"),
    (dict(rule_id="nd999"), "is not of the form ND123"),
    (dict(rule_id="ND101"), "rule id ND101 is used twice"),
    (dict(code="port-closed"), "cause code 'port-closed' is not in the contract"),
    (dict(doc="A rule without its sections."), "its docstring lacks Detects, Why it breaks"),
    (dict(needs=("listeners",)), "input 'listeners' is not one of"),
])
def test_registration_refuses_a_rule_that_would_be_silently_wrong(kw, message):
    load_rules()
    with pytest.raises(RuleError, match=message):
        _register(**kw)


def test_a_retired_id_is_never_reused(monkeypatch):
    monkeypatch.setattr(rules_module, "RETIRED", frozenset({"ND999"}))
    with pytest.raises(RuleError, match="ND999 is retired"):
        _register()


def test_seed_telnet_case_orders_causes_along_the_path():
    snap = b2d(web(published=(PortBinding(80, "tcp", "0.0.0.0", 80), PortBinding(5000, "tcp", "0.0.0.0", 5000))),
               reach=(tcp("0.0.0.0", 5000, ReachResult.REFUSED),))
    d = run(snap, to="0.0.0.0:5000")
    assert codes(d) == ["wrong-address", "nothing-listening"]
    assert d.causes[0].fix == ("use 192.168.59.103:5000",)
    assert "docker run -p 5000:80 ..." in d.causes[1].fix[1]


def test_container_name_from_the_host_is_wrong_address():
    d = run(local(**HEALTHY_LOCAL), to="web:80")
    assert [(c.code, c.rule) for c in d.causes] == [("wrong-address", "ND306")]
    assert d.causes[0].fix == ("use 127.0.0.1:32768",)


def test_unread_networks_leave_the_network_hop_unknown():
    snap = dataclasses.replace(local(**HEALTHY_LOCAL), networks=(), networks_outcome=Outcome.failed("API error"))
    hops = {h.hop: h for h in run(snap).path}
    assert hops["network"].status == "unknown" and "API error" in hops["network"].detail


def test_seed_ip_case_has_real_values():
    snap = b2d(reach=(icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "65.113.32.217", icmp_type=3, icmp_code=0,
                           detail="Destination Net Unreachable"),))
    d = run(snap, to="172.17.0.29")
    (c,) = d.causes
    assert c.code == "ip-not-routable" and c.fix[0] == "use 192.168.59.103:32768"
    assert "ping 172.17.0.29: Destination Net Unreachable from 65.113.32.217" in c.evidence
    assert "the client's route to 172.17.0.29: 0.0.0.0/0 via 10.0.1.1 dev en0 (its default gateway)" in c.evidence


def test_reachable_needs_an_answer():
    assert run(local(**HEALTHY_LOCAL)).verdict == Verdict.REACHABLE
    silent = run(local())
    assert silent.verdict == Verdict.UNKNOWN and silent.unknown_reasons


def test_proxy_accepting_and_closing_is_not_reachable_when_sockets_are_unknown():
    snap = local(listeners=(Listeners(Outcome.unavailable("no permission to read /proc"), WEB_ID),),
                 reach=(tcp("127.0.0.1", 32768, ReachResult.CLOSED),))
    d = run(snap)
    assert d.verdict == Verdict.UNKNOWN
    assert any("listener" in u and "no permission" in u for u in d.unknown_reasons)
    assert any("docker-proxy answers even when nothing listens" in n for n in d.notes)


def test_contract_json_fields():
    d = run(b2d(reach=(icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "10.0.1.1", detail="Destination Net Unreachable"),)),
            to="172.17.0.29")
    j = d.to_contract()
    assert set(j) == {"verdict", "target", "causes", "path", "works", "notes"}
    assert set(j["target"]) == {"container", "id", "port", "to", "from"}
    assert set(j["causes"][0]) == {"code", "rule", "port", "summary", "evidence", "fix"}
    assert all(set(h) == {"hop", "status", "detail"} and h["status"] in ("ok", "fail", "skip", "unknown")
               for h in j["path"])
    assert j["target"]["to"] == "172.17.0.29" and j["target"]["port"] == 80


@pytest.mark.parametrize("to, message", [
    ("web:http", "'http' is not a port"),
    ("[::1", r"expected \[ADDRESS\]:PORT"),
    (":80", "no address"),
    ("db.internal:5432", "is no container's name, and a bundle cannot look names up"),
])
def test_bad_to_is_bad_input(to, message):
    from netdiag.errors import BadInput

    with pytest.raises(BadInput, match=message):
        run(local(), to=to)


def test_unread_client_routes_prove_nothing_about_routability():
    """Without the client's routes and without a router's answer, ip-not-routable does not guess."""
    blind = dataclasses.replace(LAPTOP, outcome=Outcome.failed("no /proc/net/route"), routes=())
    d = run(b2d(client=blind), to="172.17.0.29")
    assert "ip-not-routable" not in codes(d) and d.verdict == Verdict.UNKNOWN
    seen = run(b2d(client=blind, reach=(icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "10.0.1.1",
                                             detail="Destination Net Unreachable"),)), to="172.17.0.29")
    assert codes(seen) == ["ip-not-routable"]
    assert any(e.startswith("the client's routes could not be read") for e in seen.causes[0].evidence)
