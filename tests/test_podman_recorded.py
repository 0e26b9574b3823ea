"""Podman's shapes as its Docker-compatible service really answers (tests/data/podman/, recorded
from Debian's podman 4.3.1 in the lab, each naming its request), through the same parsers as a
live run: the default network is `bridge` in the compat listing but `podman` in the containers,
so netdiag takes Podman's own listing, which also names the bridge devices."""

from __future__ import annotations

import json
from pathlib import Path

from netdiag.engine_api import DaemonEndpoint
from netdiag.parsers.inspect import container_from_inspect, network_from_inspect, network_from_libpod
from netdiag.probes.engine import engine_from_info
from netdiag.subnets import overlaps
from netdiag.vocab import EngineProduct, Location
from tests.builders import HOST

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
