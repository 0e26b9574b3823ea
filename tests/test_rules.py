"""Every rule beside a case where it must fire and one where it must not, on recorded-style
snapshots; the catalog's documentation; the verdict's honesty."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import REACHABLE, UNKNOWN, UNREACHABLE
from netdiag.facts import (ANSWERED, CLOSED, ICMP_UNREACHABLE, REFUSED, Chain, Container, ContainerState, Endpoint,
                           Interface, Listeners, Network, Outcome, PortBinding, Route, Socket)
from netdiag.diagnosis import AttemptSpec
from netdiag.why import explain
from netdiag.rules import SECTIONS, load_rules
from tests.builders import (BRIDGE, HOST, LAPTOP, WEB_ID, b2d, firewall, icmp, listening, local, tcp, web)

APP_NET = Network("n-app", "app", "bridge", "local", False, ("172.18.0.0/16",), ("172.18.0.1",),
                  bridge="br-0123456789ab")
OTHER_NET = Network("n-other", "other", "bridge", "local", False, ("172.19.0.0/16",), bridge="br-abcdefabcdef")
INTERNAL = Network("n-int", "backend", "bridge", "local", True, ("172.20.0.0/16",), bridge="br-111111111111")
CLIENT_ID = "c" * 64


def client(net: str, ip: str, name: str = "client") -> Container:
    return Container(CLIENT_ID, name, "busybox", ContainerState("running", True, pid=5151), "default",
                     endpoints=(Endpoint(net, f"n-{net}" if net != "bridge" else "n-bridge", ip, 16),))


def run(snap, target=None, to="", origin="host", port=None):
    target = target or snap.containers[0]
    return explain(snap, AttemptSpec(target.id, port, to, origin))


def codes(d) -> list[str]:
    return [c.code for c in d.causes]


HEALTHY_LOCAL = dict(reach=(tcp("127.0.0.1", 32768, ANSWERED, banner="HTTP/1.0 200 OK"),))
ON_APP = dict(endpoints=(Endpoint("app", "n-app", "172.18.0.5", 16, aliases=("web",)),), published=(),
              requested=())

# rule id -> ((snapshot, kwargs) where it must fire, (snapshot, kwargs) where it must not)
CASES = {
    "ND101": (lambda: (local(web(state=ContainerState("exited", exit_code=137, oom_killed=True))), {}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND102": (lambda: (local(web(network_mode="none", endpoints=(), published=())), {"port": 80}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND103": (lambda: (local(web(network_mode="host", endpoints=(), published=(),
                                 requested=(PortBinding(80, "tcp", "", 8080),))), {"to": "127.0.0.1:8080"}),
              lambda: (local(web(network_mode="host", endpoints=(), published=(),
                                 requested=(PortBinding(80, "tcp", "", 8080),)),
                             reach=(tcp("127.0.0.1", 80, ANSWERED),)), {"to": "127.0.0.1:80"})),
    "ND104": (lambda: (local(web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), published=()),
                             networks=(BRIDGE, INTERNAL)), {}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND201": (lambda: (local(web(state=ContainerState("created", error="driver failed programming external "
                                                      "connectivity: Bind for 0.0.0.0:8080 failed: port is already "
                                                      "allocated"), published=(),
                                 requested=(PortBinding(80, "tcp", "", 8080),)),
                             dataclasses.replace(web(), id="a" * 64, name="other",
                                                 published=(PortBinding(80, "tcp", "0.0.0.0", 8080),))), {}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND202": (lambda: (b2d(web(published=(), requested=(), exposed=("5000/tcp",)),
                           listeners=(listening(WEB_ID, Socket("tcp", 4, "0.0.0.0", 5000)),)), {}),
              lambda: (local(web(published=(), requested=(), exposed=("5000/tcp",)),
                             listeners=(listening(WEB_ID, Socket("tcp", 4, "0.0.0.0", 5000)),),
                             reach=(tcp("172.17.0.29", 5000, ANSWERED),)), {})),
    "ND301": (lambda: (b2d(web(published=(PortBinding(5000, "tcp", "0.0.0.0", 5000),)),
                           listeners=(listening(WEB_ID, Socket("tcp", 4, "0.0.0.0", 5000)),)),
                       {"to": "0.0.0.0:5000"}),
              lambda: (b2d(reach=(tcp("192.168.59.103", 32768, ANSWERED),)), {"to": "192.168.59.103:32768"})),
    "ND305": (lambda: (local(**HEALTHY_LOCAL), {"to": "127.0.0.1:8080"}),
              lambda: (local(**HEALTHY_LOCAL), {"to": "127.0.0.1:32768"})),
    "ND306": (lambda: (local(web(), client("bridge", "172.17.0.3")), {"to": "172.17.0.3:80"}),
              lambda: (local(web(), client("bridge", "172.17.0.3"), reach=(tcp("172.17.0.29", 80, ANSWERED),)),
                       {"to": "172.17.0.29:80"})),
    "ND307": (lambda: (local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET)),
                       {"origin": "container:client", "to": "localhost:80"}),
              lambda: (local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET),
                             reach=(tcp("172.18.0.5", 80, ANSWERED, source="container:client"),)),
                       {"origin": "container:client", "to": "web:80"})),
    "ND302": (lambda: (b2d(reach=(icmp("172.17.0.29", ICMP_UNREACHABLE, "65.113.32.217", icmp_type=3, icmp_code=0,
                                       detail="Destination Net Unreachable"),)), {"to": "172.17.0.29"}),
              lambda: (b2d(client=dataclasses.replace(LAPTOP, routes=LAPTOP.routes + (
                  Route("172.17.0.0/16", "192.168.59.103", "vboxnet0"),)),
                           reach=(tcp("172.17.0.29", 80, ANSWERED),)), {"to": "172.17.0.29:80"})),
    "ND303": (lambda: (b2d(web(published=(PortBinding(80, "tcp", "127.0.0.1", 8080),))), {}),
              lambda: (local(web(published=(PortBinding(80, "tcp", "127.0.0.1", 8080),)),
                             reach=(tcp("127.0.0.1", 8080, ANSWERED),)), {"to": "127.0.0.1:8080"})),
    "ND304": (lambda: (local(client=dataclasses.replace(HOST, interfaces=HOST.interfaces + (
        Interface("tun0", ("172.17.0.1/24",), False),), routes=HOST.routes + (Route("172.17.0.0/24", "", "tun0"),))),
                       {"to": "172.17.0.29:80"}),
              lambda: (local(reach=(tcp("172.17.0.29", 80, ANSWERED),)), {"to": "172.17.0.29:80"})),
    "ND401": (lambda: (local(web(published=(PortBinding(5000, "tcp", "0.0.0.0", 5000),))), {"port": 5000}),
              lambda: (local(**HEALTHY_LOCAL), {"port": 80})),
    "ND402": (lambda: (local(listeners=(listening(WEB_ID, Socket("tcp", 4, "127.0.0.1", 80)),)), {}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND501": (lambda: (local(fw=firewall(ip_forward=False), **HEALTHY_LOCAL), {}),
              lambda: (local(**HEALTHY_LOCAL), {})),
    "ND502": (lambda: (local(fw=firewall(chains=firewall().chains[:2] + (
        Chain("filter", "DOCKER-USER", "", ("-p tcp -m tcp --dport 80 -j DROP", "-j RETURN")),)), **HEALTHY_LOCAL), {}),
              lambda: (local(fw=firewall(chains=firewall().chains[:2] + (
                  Chain("filter", "DOCKER-USER", "", ("-p tcp -m tcp --dport 443 -j DROP", "-j RETURN")),)),
                  **HEALTHY_LOCAL), {})),
    "ND601": (lambda: (local(web(**ON_APP), client("other", "172.19.0.2"), networks=(BRIDGE, APP_NET, OTHER_NET)),
                       {"origin": "container:client", "to": "web:80"}),
              lambda: (local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET),
                             reach=(tcp("172.18.0.5", 80, ANSWERED, source="container:client"),)),
                       {"origin": "container:client", "to": "web:80"})),
    "ND602": (lambda: (local(web(), client("bridge", "172.17.0.3")), {"origin": "container:client", "to": "web:80"}),
              lambda: (local(web(), client("bridge", "172.17.0.3"),
                             reach=(tcp("172.17.0.29", 80, ANSWERED, source="container:client"),)),
                       {"origin": "container:client", "to": "172.17.0.29:80"})),
}


def test_every_rule_is_documented_and_has_cases():
    rules = load_rules()
    codes_seen = set()
    for rid, r in rules.items():
        sections = r.sections()
        missing = [s for s in SECTIONS if not sections.get(s)]
        assert not missing, f"{rid} lacks {missing}"
        assert r.title and (r.title, r.code) not in codes_seen, rid
        codes_seen.add((r.title, r.code))
        if r.fn is not None:
            assert rid in CASES, f"{rid} has no fire / no-fire case"


def test_every_contract_code_has_a_rule():
    contract = {"container-not-found", "daemon-unreachable", "container-not-running", "host-port-conflict",
                "port-not-published", "nothing-listening", "listening-on-loopback", "published-on-loopback-only",
                "wrong-address", "ip-not-routable", "host-network-mode", "no-network", "internal-network",
                "subnet-overlap", "ip-forwarding-disabled", "firewall-blocks", "different-networks",
                "no-dns-on-default-bridge"}
    assert {r.code for r in load_rules().values()} == contract


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id):
    snap, kw = CASES[rule_id][0]()
    d = run(snap, **kw)
    code = load_rules()[rule_id].code
    assert code in codes(d), d
    assert d.verdict == UNREACHABLE


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_quiet(rule_id):
    snap, kw = CASES[rule_id][1]()
    d = run(snap, **kw)
    assert load_rules()[rule_id].code not in codes(d), d.causes


def test_seed_telnet_case_orders_causes_along_the_path():
    snap = b2d(web(published=(PortBinding(80, "tcp", "0.0.0.0", 80), PortBinding(5000, "tcp", "0.0.0.0", 5000))),
               reach=(tcp("0.0.0.0", 5000, REFUSED),))
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
    snap = b2d(reach=(icmp("172.17.0.29", ICMP_UNREACHABLE, "65.113.32.217", icmp_type=3, icmp_code=0,
                           detail="Destination Net Unreachable"),))
    d = run(snap, to="172.17.0.29")
    (c,) = d.causes
    assert c.code == "ip-not-routable" and c.fix[0] == "use 192.168.59.103:32768"
    assert "ping 172.17.0.29: Destination Net Unreachable from 65.113.32.217" in c.evidence
    assert "the client's route to 172.17.0.29: 0.0.0.0/0 via 10.0.1.1 dev en0 (its default gateway)" in c.evidence


def test_reachable_needs_an_answer():
    assert run(local(**HEALTHY_LOCAL)).verdict == REACHABLE
    silent = run(local())
    assert silent.verdict == UNKNOWN and silent.unknown_reasons


def test_proxy_accepting_and_closing_is_not_reachable_when_sockets_are_unknown():
    snap = local(listeners=(Listeners(Outcome.unavailable("no permission to read /proc"), WEB_ID),),
                 reach=(tcp("127.0.0.1", 32768, CLOSED),))
    d = run(snap)
    assert d.verdict == UNKNOWN
    assert any("listener" in u and "no permission" in u for u in d.unknown_reasons)
    assert any("docker-proxy answers even when nothing listens" in n for n in d.notes)


def test_contract_json_fields():
    d = run(b2d(reach=(icmp("172.17.0.29", ICMP_UNREACHABLE, "10.0.1.1", detail="Destination Net Unreachable"),)),
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
    assert "ip-not-routable" not in codes(d) and d.verdict == UNKNOWN
    seen = run(b2d(client=blind, reach=(icmp("172.17.0.29", ICMP_UNREACHABLE, "10.0.1.1",
                                             detail="Destination Net Unreachable"),)), to="172.17.0.29")
    assert codes(seen) == ["ip-not-routable"]
    assert any(e.startswith("the client's routes could not be read") for e in seen.causes[0].evidence)
