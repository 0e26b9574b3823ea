"""Podman's shapes as its Docker-compatible service really answers (tests/data/podman/, recorded
from Debian's podman 4.3.1 in the lab, each naming its request), through the same parsers as a
live run: the default network is `bridge` in the compat listing but `podman` in the containers,
so netdiag takes Podman's own listing, which also names the bridge devices. And Podman 5's
firewall on netavark's nftables driver, recorded from netavark's source and listed by nft."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from netdiag.diagnosis import AttemptSpec
from netdiag.engine_api import DaemonEndpoint
from netdiag.facts import Endpoint, HostNet, Interface, Network, Outcome, PortBinding
from netdiag.parsers.inspect import container_from_inspect, network_from_inspect, network_from_libpod
from netdiag.probes.engine import engine_from_info
from netdiag.probes.firewall import firewall_from
from netdiag.render.text import engine_text, firewall_text
from netdiag.subnets import overlaps
from netdiag.vocab import EngineProduct, HostRole, Location, ReachResult, Verdict
from netdiag.why import explain
from tests.builders import B2D_ENGINE, HOST, LOCAL_ENGINE, WEB_ID, b2d, local, tcp, web

DATA = Path(__file__).parent / "data" / "podman"


def body(name: str):
    recorded = json.loads((DATA / f"4.3-{name}.json").read_text())
    assert recorded["source"].startswith("recorded from Debian 12's podman 4.3.1")
    return recorded["body"]


def test_podman_is_recognised_from_its_version():
    engine = engine_from_info(DaemonEndpoint("unix:///run/podman/podman.sock", "DOCKER_HOST"), body("info"),
                              body("version"), set(), {}, "", "6.18.44-fc-v657")
    assert engine.product == EngineProduct.PODMAN and engine.location == Location.LOCAL
    assert engine.ipv4_forwarding is True


def test_containers_name_the_networks_as_podmans_own_listing_does():
    default = container_from_inspect(body("container-default"))
    custom = container_from_inspect(body("container-custom"))
    libpod = {n.name: n for n in (network_from_libpod(n) for n in body("networks-libpod"))}
    compat = {n.name for n in (network_from_inspect(n) for n in body("networks-compat"))}
    assert [e.network for e in default.endpoints] == ["podman"] and "podman" not in compat  # why libpod is asked
    assert [e.network for e in custom.endpoints] == ["ndt-pnet"]
    assert libpod["podman"].bridge == "podman0" and libpod["podman"].subnets == ("10.88.0.0/16",)
    assert libpod["ndt-pnet"].bridge.startswith("podman") and libpod["ndt-pnet"].subnets == ("10.89.7.0/24",)
    assert [(b.container_port, b.host_port) for b in default.published] == [(80, 8080)]


def test_podmans_bridges_are_not_overlaps():
    """The client's own podman0 route is Podman's bridge, not a VPN claiming the network."""
    nets = tuple(network_from_libpod(n) for n in body("networks-libpod"))
    from netdiag.facts import HostNet, Interface, Route

    host = HostNet(HOST.outcome, HOST.role, "vm", HOST.interfaces + (Interface("podman0", ("10.88.0.1/16",), True),),
                   HOST.routes + (Route("10.88.0.0/16", "", "podman0"),))
    assert overlaps(nets, host, "127.0.0.1") == []
    compat = tuple(network_from_inspect(n) for n in body("networks-compat"))
    assert overlaps(compat, host, "127.0.0.1")  # the compat listing's invented docker0 made podman0 one


# --- Podman 5 with netavark's nftables driver (tests/data/podman/5-netavark-nftables-portmap.json) ----
# Recorded from netavark's source (the file names it), loaded and listed with nft: the table
# `inet netavark` accepts replies and its containers' outgoing traffic in FORWARD, and leaves new
# connections to a published port to the chain's accept policy.

NETAVARK_NFT = (DATA / "5-netavark-nftables-portmap.json").read_text()
PODMAN_NET_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
DOCKERD_BESIDE = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n"
                  ":DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n-A FORWARD -o docker0 -j DOCKER\n"
                  "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT\n-A DOCKER-USER -j RETURN\nCOMMIT\n")
FIREWALLD_LIKE = ('{"nftables": [{"table": {"family": "inet", "name": "filter"}}, {"chain": {"family": "inet", '
                  '"table": "filter", "name": "forward", "type": "filter", "hook": "forward", "prio": 0, '
                  '"policy": "drop"}}]}')


def podman5(iptables: str = "", *reach, extra_nft: str = "", laptop: bool = False):
    """Podman 5 on nftables: its container at 10.88.0.2 (podman0) publishing 8080; the host's
    iptables-save (empty, or dockerd's beside it) and `nft -j list ruleset` read as live ones are."""
    nft = json.loads(NETAVARK_NFT)
    if extra_nft:
        nft["nftables"] += json.loads(extra_nft)["nftables"]
    net = Network(PODMAN_NET_ID, "podman", "bridge", "local", False, ("10.88.0.0/16",), ("10.88.0.1",),
                  bridge="podman0")
    pweb = web(name="pweb", published=(PortBinding(80, "tcp", "0.0.0.0", 8080),),
               requested=(PortBinding(80, "tcp", "", 8080),),
               endpoints=(Endpoint("podman", PODMAN_NET_ID, "10.88.0.2", 16, gateway="10.88.0.1"),))
    fw = firewall_from("1", "0", {}, (Outcome(method="iptables-save"), iptables),
                       (Outcome(method="nft"), json.dumps(nft)), "a helper container" if laptop else "/proc/sys")
    snap = (b2d if laptop else local)(pweb, networks=(net,), reach=reach)
    engine = dataclasses.replace(B2D_ENGINE if laptop else LOCAL_ENGINE, product=EngineProduct.PODMAN,
                                 server_version="5.0.0", libpod_rootless=False)  # rootful: netavark's table is the host's
    snap = dataclasses.replace(snap, engine=engine, firewall=fw)
    if laptop:  # the helper read the host's interfaces too: docker0 is where other machines never come in
        host = HostNet(Outcome(method="a helper container"), HostRole.DOCKER_HOST, interfaces=(
            Interface("eth1", ("192.168.59.103/24",)), Interface("docker0", ("172.17.0.1/16",)),
            Interface("podman0", ("10.88.0.1/16",))))
        snap = dataclasses.replace(snap, docker_host=host)
    return snap


def podman5_why(snap, to: str | None = None):
    return explain(snap, AttemptSpec(WEB_ID, None, to))


def test_podman5_nftables_the_published_port_is_healthy():
    snap = podman5("", tcp("127.0.0.1", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"))
    d = podman5_why(snap)
    assert d.verdict == Verdict.REACHABLE and not d.causes, d
    text = firewall_text(snap.firewall)
    assert "Podman's rules (netavark): nftables table inet netavark, base chains INPUT (hook input), FORWARD " \
           "(hook forward)" in text
    assert "Docker chains: none (no dockerd here)" in text and "flushed" not in text
    assert "other nftables tables' base chains: none" in text


def test_podman5_nftables_silence_from_elsewhere_is_not_blamed_on_netavarks_table():
    """netavark's FORWARD drops only invalid packets: a timeout from the laptop is not its doing,
    and no rule of the table is claimed."""
    d = podman5_why(podman5("", tcp("192.168.59.103", 8080, ReachResult.TIMEOUT), laptop=True))
    assert "firewall-blocks" not in [c.code for c in d.causes], d.causes


def test_podman5_nftables_dockerds_forward_drop_beside_it_is_named():
    """nftables runs every base chain on the hook: netavark's accept is not final, and the DROP
    policy dockerd gives iptables' FORWARD drops the new connection; the fix goes in DOCKER-USER."""
    d = podman5_why(podman5(DOCKERD_BESIDE, tcp("192.168.59.103", 8080, ReachResult.TIMEOUT), laptop=True))
    c = next(c for c in d.causes if c.code == "firewall-blocks")
    assert c.summary == "iptables' FORWARD policy is DROP and no rule accepts the traffic to 192.168.59.103:8080"
    assert any("table inet netavark" in e for e in c.evidence), c.evidence
    assert c.fix[0].startswith("iptables -I DOCKER-USER -o podman0 -d 10.88.0.2 -p tcp --dport 80 -j ACCEPT")


def test_podman5_nftables_another_tables_forward_drop_is_named():
    d = podman5_why(podman5("", tcp("192.168.59.103", 8080, ReachResult.TIMEOUT), extra_nft=FIREWALLD_LIKE,
                            laptop=True))
    c = next(c for c in d.causes if c.code == "firewall-blocks")
    assert "table inet filter, chain forward" in c.evidence[0], c.evidence
    assert any(f == 'nft insert rule inet filter forward oifname "podman0" accept' or
               f.endswith('nft insert rule inet filter forward oifname "podman0" accept') for f in c.fix), c.fix


# --- rootless Podman 4.3: its Docker-compatible info does not say rootless, its own info does -----

def test_rootless_podman_is_recognised_from_its_own_info():
    from netdiag.probes.engine import podman_rootless

    compat = json.loads((DATA / "4.3-rootless-info.json").read_text())["body"]
    libpod = json.loads((DATA / "4.3-rootless-libpod-info.json").read_text())["body"]
    engine = engine_from_info(DaemonEndpoint("unix:///var/tmp/podman.sock", "DOCKER_HOST"), compat, body("version"),
                              set(), {}, "", "6.18.44-fc-v657")
    assert not engine.rootless  # what the Docker-compatible info alone gives
    assert podman_rootless(libpod) is True and podman_rootless(body("info")) is False
    assert dataclasses.replace(engine, libpod_rootless=podman_rootless(libpod)).rootless


def test_podman6s_compat_listing_still_names_the_default_network_bridge():
    """From Podman 6's own handler code: the compat listing still calls the default network
    `bridge` and gives no bridge device, so Podman's own listing stays the one netdiag reads."""
    recorded = json.loads((DATA / "6-networks-compat.json").read_text())
    assert "go.podman.io/podman/v6" in recorded["source"]
    nets = [network_from_inspect(n) for n in recorded["body"]]
    # read as Docker's: the default bridge's device would be docker0, which is not Podman's (podman0)
    assert [(n.name, n.subnets, n.bridge) for n in nets] == [("bridge", ("10.88.0.0/16",), "docker0")]
    assert "podman" not in {n.name for n in nets}  # what the containers' endpoints are keyed by


def test_podman_whose_own_info_was_not_read_is_not_called_rootful():
    """Without /libpod/info (a proxy passing Docker's API only) netdiag does not know: it says
    unknown, never 'no'."""
    engine = engine_from_info(DaemonEndpoint("unix:///var/tmp/podman.sock", "DOCKER_HOST"), body("info"),
                              body("version"), set(), {}, "", "6.18.44-fc-v657")
    assert engine.libpod_rootless is None and not engine.rootless
    assert "rootless                    unknown (Podman's own info not read)" in engine_text(engine)
