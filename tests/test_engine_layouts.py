"""Firewall layouts of engines this lab cannot run, recorded from their own sources (moby's
generated rule dumps, its code), fed through the same parser and rules as live facts: each
fixture under tests/data/moby/ names its source. The verdicts are the ones a live engine of that
version gives."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import AttemptSpec
from netdiag.facts import Outcome, PortBinding
from netdiag.parsers.iptables import parse_iptables_save
from netdiag.vocab import ReachResult, Verdict
from netdiag.why import explain
from tests.builders import (
    BRIDGE,
    BRIDGE1,
    C1,
    LAPTOP,
    MOBY,
    ROUTED_LAPTOP,
    b2d,
    from_the_laptop,
    local,
    moby_firewall,
    routed,
    tcp,
    with_mode,
)


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


# --- Docker 29 with its nftables backend ------------------------------------------------------------

NFT29 = (MOBY / "docker-29-nftables-usernet-portmap.json").read_text()


def docker29(iptables: str = "", nft: str = NFT29, *reach, laptop: bool = True):
    """Docker 29 with --firewall-backend=nftables, its table read with `nft -j` and iptables'
    own tables with iptables-save (empty, or what the host's firewall or a migration left)."""
    from netdiag.parsers.nft import dockers, parse_nft_ruleset
    from netdiag.probes.firewall import firewall_from

    fw = firewall_from("1", "0", {}, (Outcome(method="iptables-save"), iptables), (Outcome(method="nft"), nft),
                       "a helper container" if laptop else "/proc/sys, iptables-save")
    assert fw.docker_nft_chains == tuple(parse_nft_ruleset(nft, dockers))
    engine_changes = dict(server_version="29.0.1", firewall_backend="nftables")
    if laptop:
        snap = b2d(C1, reach=reach, client=ROUTED_LAPTOP, networks=(BRIDGE, BRIDGE1))
    else:
        snap = local(C1, networks=(BRIDGE, BRIDGE1), reach=reach)
    return dataclasses.replace(snap, engine=dataclasses.replace(snap.engine, **engine_changes), firewall=fw)


EMPTY_IPTABLES = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
LEFTOVER_DROP = EMPTY_IPTABLES.replace(":FORWARD ACCEPT", ":FORWARD DROP")


def test_docker29_nftables_healthy_and_shown_as_dockers():
    from netdiag.render.text import firewall_text

    snap = docker29(EMPTY_IPTABLES, NFT29, tcp("192.168.59.103", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200"))
    d = explain(snap, AttemptSpec(C1.id))
    assert d.verdict == Verdict.REACHABLE and not d.causes, d
    text = firewall_text(snap.firewall)
    assert "Docker's nftables tables: ip docker-bridges; base chains: " in text
    assert "filter-FORWARD (hook forward)" in text
    assert "none (the engine writes nftables rules)" in text and "flushed" not in text


def test_docker29_a_leftover_iptables_forward_drop_is_named_with_a_fix_that_works():
    """Docker 29 on nftables writes no iptables rules: a FORWARD DROP left behind drops what its
    nftables rules accept, and restarting Docker would not help."""
    snap = docker29(LEFTOVER_DROP, NFT29, tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"))
    d = explain(snap, AttemptSpec(C1.id))
    c = next(c for c in d.causes if c.code == "firewall-blocks")
    assert c.summary == "iptables' FORWARD policy is DROP and no rule accepts the traffic to 192.168.59.103:8080"
    assert any("Docker writes no iptables rules, and restarting it does not add any" in e for e in c.evidence)
    assert c.fix[0].startswith("iptables -P FORWARD ACCEPT")
    assert c.fix[1] == "or accept Docker's traffic there: iptables -I FORWARD -o bridge1 -j ACCEPT; " \
                       "iptables -I FORWARD -i bridge1 -j ACCEPT"
    assert not any("restart" in f for f in c.fix)


def test_docker29_a_leftover_docker_user_rule_still_runs():
    """The jump to DOCKER-USER stays after a migration: its DROP still drops."""
    rules = LEFTOVER_DROP.replace(":FORWARD DROP [0:0]\n", ":FORWARD ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n").replace(
        "COMMIT", "-A FORWARD -j DOCKER-USER\n-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP\nCOMMIT")
    snap = docker29(rules, NFT29, tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"))
    c = next(c for c in explain(snap, AttemptSpec(C1.id)).causes if c.code == "firewall-blocks")
    assert "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c.evidence
    assert c.fix == ("iptables -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP",)


def test_docker29_its_own_accept_for_the_port_missing():
    import json

    data = json.loads(NFT29)
    data["nftables"] = [i for i in data["nftables"] if not (
        "rule" in i and i["rule"]["chain"] == "filter-forward-in__bridge1" and "dport" in json.dumps(i))]
    snap = docker29(EMPTY_IPTABLES, json.dumps(data),
                    tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"))
    c = next(c for c in explain(snap, AttemptSpec(C1.id)).causes if c.code == "firewall-blocks")
    assert c.summary.startswith("Docker's own nftables rules drop the traffic to 192.168.59.103:8080")
    assert "table ip docker-bridges, chain filter-forward-in__bridge1: rule 3: counter drop" not in c.evidence
    assert any(e.startswith("table ip docker-bridges, chain filter-forward-in__bridge1: rule 3:") for e in c.evidence)
    assert c.fix[0].startswith("systemctl restart docker")


def test_docker29_direct_routing_dropped_by_its_raw_prerouting_chain():
    snap = docker29(EMPTY_IPTABLES, NFT29, tcp("192.0.2.2", 80, ReachResult.TIMEOUT, detail="no answer"))
    d = explain(snap, AttemptSpec(C1.id, None, "192.0.2.2:80"))
    assert [c.code for c in d.causes] == ["direct-routing-blocked"]
    assert any(e.startswith("rule 1 of Docker's nftables chain raw-PREROUTING on the Docker host: ip daddr 192.0.2.2 "
                            "iifname != bridge1") for e in d.causes[0].evidence), d.causes[0].evidence


# --- Docker 29 with its nftables backend, IPv6: its `ip6 docker-bridges` table --------------------

NFT29_IP6 = (MOBY / "docker-29-nftables-usernet-portmap-ip6.json").read_text()
C1_V6 = dataclasses.replace(C1, published=(PortBinding(80, "tcp", "::", 8080),),  # -p [::]:8080:80
                            requested=(PortBinding(80, "tcp", "::", 8080),),
                            endpoints=(dataclasses.replace(C1.endpoints[0], ipv6="2001:db8:1::2"),))
BRIDGE1_V6 = dataclasses.replace(BRIDGE1, subnets=BRIDGE1.subnets + ("2001:db8:1::/64",), ipv6=True)


def both_tables(ip6_first: bool, without_ip6_accept: bool = False) -> str:
    """`nft -j list ruleset` with both of Docker's tables: ip docker-bridges and ip6 docker-bridges."""
    import json

    ip, ip6 = json.loads(NFT29)["nftables"], json.loads(NFT29_IP6)["nftables"]
    if without_ip6_accept:
        ip6 = [i for i in ip6 if not ("rule" in i and i["rule"]["chain"] == "filter-forward-in__bridge1"
                                      and "dport" in json.dumps(i))]
    meta, ip, ip6 = ip[:1], ip[1:], ip6[1:]
    return json.dumps({"nftables": meta + (ip6 + ip if ip6_first else ip + ip6)})


def docker29_v6(nft: str, *reach):
    snap = docker29(EMPTY_IPTABLES, nft, *reach, laptop=False)
    fw = dataclasses.replace(snap.firewall, ipv6_forward=True, ip6tables_outcome=Outcome(method="ip6tables-save"))
    return dataclasses.replace(snap, containers=(C1_V6,), networks=(BRIDGE, BRIDGE1_V6), firewall=fw)


@pytest.mark.parametrize("ip6_first", [False, True], ids=["ip-table-first", "ip6-table-first"])
def test_docker29_each_family_meets_its_own_table(ip6_first):
    """IPv4 traffic is judged by ip docker-bridges only, IPv6 (a port published on [::]) by ip6
    docker-bridges only, whichever nft lists first: both accept the published port, nothing is
    claimed."""
    v4 = docker29(EMPTY_IPTABLES, both_tables(ip6_first), tcp("127.0.0.1", 8080, ReachResult.ANSWERED,
                                                                banner="HTTP/1.1 200"), laptop=False)
    d = explain(v4, AttemptSpec(C1.id))
    assert d.verdict == Verdict.REACHABLE and not d.causes, d.causes
    v6 = docker29_v6(both_tables(ip6_first), tcp("::1", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200"))
    d = explain(v6, AttemptSpec(C1_V6.id))
    assert d.verdict == Verdict.REACHABLE and not d.causes, d.causes


def test_docker29_its_ip6_table_without_the_accept_drops_the_ipv6_traffic():
    """The accept for the published port missing from ip6 docker-bridges: other machines' IPv6
    traffic to [::]:8080 is dropped there (the host's own [::1] attempt is not forwarded)."""
    snap = docker29_v6(both_tables(False, without_ip6_accept=True),
                       tcp("::1", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200"))
    c = next(c for c in explain(snap, AttemptSpec(C1_V6.id)).causes if c.code == "firewall-blocks")
    assert c.summary == ("Docker's own nftables rules drop the IPv6 traffic to [::]:8080: its accept for the published "
                         "port is missing")
    assert c.evidence[0].startswith("table ip6 docker-bridges, chain filter-forward-in__bridge1: rule 3:")
    assert c.evidence[1] == "no rule of filter-forward-in__bridge1 accepts [2001:db8:1::2]:80/tcp"


# --- gateway modes --------------------------------------------------------------------------------

def test_routed_network_reached_at_the_container_address_is_healthy():
    d = explain(routed(tcp("192.0.2.2", 80, ReachResult.ANSWERED, banner="HTTP/1.1 200")), AttemptSpec(C1.id))
    assert d.tried == "192.0.2.2:80" and d.verdict == Verdict.REACHABLE and not d.causes, d


def test_routed_network_without_a_route_gets_the_route_as_its_fix():
    d = explain(routed(tcp("192.0.2.2", 80, ReachResult.TIMEOUT, detail="no answer"), client=LAPTOP),
                AttemptSpec(C1.id))
    assert [c.code for c in d.causes] == ["ip-not-routable"]
    c = d.causes[0]
    assert c.fix[0].startswith("route the subnet via the Docker host: ip route add 192.0.2.0/24 via 192.168.59.103")
    assert "port-not-published" not in [x.code for x in d.causes]
    assert not any("not enough since Docker 28" in e for e in c.evidence)


def test_nat_unprotected_is_no_missing_accept_rule():
    """nat-unprotected lets every port in without Docker's per-port ACCEPT: a silent attempt is
    not blamed on a missing one (the fix would be a useless restart)."""
    rules = (MOBY / "docker-28.2-usernet-portmap.rules").read_text()
    rules = rules.replace(":FORWARD ACCEPT", ":FORWARD DROP").replace(
        "-A DOCKER -d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT\n", "")
    snap = b2d(C1, reach=(tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"),),
               networks=(BRIDGE, with_mode("nat-unprotected")))
    snap = dataclasses.replace(snap, firewall=dataclasses.replace(moby_firewall("docker-28.2-usernet-portmap.rules"),
                                                                  chains=tuple(parse_iptables_save(rules))))
    assert "firewall-blocks" not in [c.code for c in explain(snap, AttemptSpec(C1.id)).causes]
    nat = dataclasses.replace(snap, networks=(BRIDGE, BRIDGE1))
    c = next(c for c in explain(nat, AttemptSpec(C1.id)).causes if c.code == "firewall-blocks")
    assert c.summary.startswith("Docker's ACCEPT rule for 80/tcp is missing")


def test_isolated_network_the_host_does_not_reach_the_container():
    unpublished = dataclasses.replace(C1, published=(), requested=())
    snap = local(unpublished, networks=(BRIDGE, with_mode("isolated")))
    d = explain(snap, AttemptSpec(C1.id, 80))
    assert not any("this machine reaches it" in n for n in d.notes), d.notes
    assert d.verdict != Verdict.REACHABLE


# --- Docker 28.0.0's filter layout (the ipset docker-ext-bridges-v4 in FORWARD) ---------------------

def docker28_0_0(text: str, result: ReachResult):
    snap = from_the_laptop("docker-28.0.0-usernet-portmap.rules", "28.0.0",
                           tcp("192.168.59.103", 8080, result, banner="HTTP/1.1 200", detail="no answer"))
    return dataclasses.replace(snap, firewall=dataclasses.replace(snap.firewall, chains=tuple(parse_iptables_save(text))))


@pytest.mark.parametrize("policy", ["ACCEPT", "DROP"])
def test_docker28_0_0_ipset_layout_healthy_and_silence_not_blamed(policy):
    """Docker's rules straight in FORWARD behind an ipset match netdiag does not evaluate: its
    chains are read as Docker's (never flushed), and silence is not blamed on them."""
    text = (MOBY / "docker-28.0.0-usernet-portmap.rules").read_text().replace(":FORWARD ACCEPT", f":FORWARD {policy}")
    d = explain(docker28_0_0(text, ReachResult.ANSWERED), AttemptSpec(C1.id))
    assert d.verdict == Verdict.REACHABLE and not d.causes, d
    d = explain(docker28_0_0(text, ReachResult.TIMEOUT), AttemptSpec(C1.id))
    assert not d.causes and d.verdict == Verdict.UNKNOWN, d


def test_docker28_0_0_a_docker_user_rule_is_named():
    text = (MOBY / "docker-28.0.0-usernet-portmap.rules").read_text().replace(
        "-A DOCKER-USER -j RETURN", "-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP\n-A DOCKER-USER -j RETURN")
    d = explain(docker28_0_0(text, ReachResult.TIMEOUT), AttemptSpec(C1.id))
    assert [c.code for c in d.causes] == ["firewall-blocks"]
    assert d.causes[0].fix[0] == "iptables -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP"


@pytest.mark.parametrize("rules", ["docker-28.2-usernet-portmap.rules", "docker-28.0-usernet-portmap.rules"])
def test_docker28_the_ports_accept_removed_is_dropped_by_the_bridges_drop_whatever_the_policy(rules):
    """28's DOCKER chain ends with a DROP per bridge: with FORWARD's policy ACCEPT, the port's
    missing ACCEPT still drops the traffic, and that rule is the evidence."""
    text = (MOBY / rules).read_text().replace(
        "-A DOCKER -d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT\n", "")
    assert ":FORWARD ACCEPT" in text
    snap = from_the_laptop(rules, "28.2.2", tcp("192.168.59.103", 8080, ReachResult.TIMEOUT, detail="no answer"))
    snap = dataclasses.replace(snap, firewall=dataclasses.replace(snap.firewall, chains=tuple(parse_iptables_save(text))))
    c = next(c for c in explain(snap, AttemptSpec(C1.id)).causes if c.code == "firewall-blocks")
    assert c.summary == "Docker's ACCEPT rule for 80/tcp is missing: 192.168.59.103:8080 is dropped in FORWARD"
    assert c.evidence[0] == "rule 2 of DOCKER drops it: -A DOCKER ! -i bridge1 -o bridge1 -j DROP"
    assert c.fix[0].startswith("systemctl restart docker")
