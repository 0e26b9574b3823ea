"""The facts model: a lossless JSON round trip, and clear errors on data that does not fit."""

from __future__ import annotations

import json

import pytest

from netdiag import facts
from netdiag.facts import (
    Chain,
    Container,
    ContainerState,
    Endpoint,
    Engine,
    Firewall,
    HostNet,
    Interface,
    Listeners,
    Outcome,
    PortBinding,
    Reach,
    Route,
    Snapshot,
    Socket,
)
from netdiag.parsers.iptables import parse_rule
from netdiag.vocab import ContainerStatus, HostRole, Location, Origin, OutcomeState, ProbeKind, Protocol, ReachResult


def sample() -> Snapshot:
    return Snapshot(
        engine=Engine(Outcome(method="docker info"), "tcp://192.168.59.103:2375", "DOCKER_HOST", location=Location.REMOTE,
                      host_address="192.168.59.103", location_evidence=("not local",), iptables=None),
        client=HostNet(Outcome(), HostRole.CLIENT, "mac", (Interface("en0", ("10.0.1.7/24",), True, "aa:bb"),),
                       (Route("0.0.0.0/0", "10.0.1.1", "en0"),), {"/proc/net/route": "x"}),
        containers=(Container("9d1e6da2594a" + "0" * 52, "web", "training/webapp",
                              ContainerState(ContainerStatus.RUNNING, True, pid=42), "default", ("5000/tcp",),
                              (PortBinding(80, Protocol.TCP, "", None),), (PortBinding(80, Protocol.TCP, "0.0.0.0", 32768),),
                              False, (Endpoint("bridge", "n1", "172.17.0.29", 16),), ("python", "-m", "x"),
                              {"a": "b"}),),
        listeners=(Listeners(Outcome(method="host /proc/42/net"), "9d1e",
                             (Socket(Protocol.TCP, 4, "0.0.0.0", 80, 5, 42, "python"),)),),
        firewall=Firewall(Outcome.unavailable("remote"), None, None, {"eth0": True}, Outcome(),
                          (Chain("filter", "FORWARD", "DROP", (parse_rule("-i eth0 ! -s 192.168.1.0/24 -p tcp -m multiport "
                                                                      "--dports 5432,6379 -j DROP"),)),)),
        reach=(Reach(Outcome(method="raw ICMP socket"), ProbeKind.ICMP, "172.17.0.29", None, ReachResult.ICMP_UNREACHABLE,
                     "10.0.1.1", 3, 0, "Destination Net Unreachable", 1.5, origin=Origin("client")),),
        netdiag_version="0.1.0", created="2026-11-28T00:00:00+00:00",
    )


def test_round_trip_is_lossless():
    snap = sample()
    text = facts.to_json(snap)
    back = facts.from_json(Snapshot, text)
    assert back == snap
    assert facts.to_json(back) == text
    assert json.loads(text)["schema"] == facts.SCHEMA_VERSION


def test_missing_required_field_is_named():
    data = facts.to_dict(sample())
    del data["engine"]["outcome"]
    with pytest.raises(facts.SchemaError, match=r"Snapshot.engine: missing field 'outcome'"):
        facts.from_dict(Snapshot, data)


def test_wrong_type_is_named():
    data = facts.to_dict(sample())
    data["containers"][0]["published"][0]["host_port"] = "32768"
    with pytest.raises(facts.SchemaError, match=r"containers\[0\]\.published\[0\]\.host_port"):
        facts.from_dict(Snapshot, data)


def test_unknown_is_not_empty():
    assert not Outcome.unavailable("no root").ok
    assert Outcome.failed("boom").state == OutcomeState.FAILED
    assert Outcome().ok


@pytest.mark.parametrize("path, value, field", [
    (("engine", "location"), "LOCAL", r"Snapshot\.engine\.location: 'LOCAL' is not one of"),
    (("containers", 0, "state", "status"), "up", r"containers\[0\]\.state\.status: 'up' is not one of"),
    (("reach", 0, "result"), "ok", r"reach\[0\]\.result: 'ok' is not one of"),
    (("reach", 0, "origin"), "container:", r"reach\[0\]\.origin: 'container:': expected host or container:NAME"),
    (("listeners", 0, "sockets", 0, "protocol"), "TCP", r"sockets\[0\]\.protocol: 'TCP' is not one of"),
    (("client", "role"), 7, r"client\.role: 7 is not one of"),
])
def test_a_value_outside_its_vocabulary_is_named(path, value, field):
    """Enumerated fields are closed: an unknown value fails decoding, naming the field."""
    data = facts.to_dict(sample())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(facts.SchemaError, match=field):
        facts.from_dict(Snapshot, data)


def test_enumerated_values_round_trip_as_their_text():
    data = json.loads(facts.to_json(sample()))
    assert data["engine"]["location"] == "remote" and data["reach"][0]["origin"] == "container:client"
    rule = data["firewall"]["chains"][0]["rules"][0]
    assert rule["source"] == {"value": "192.168.1.0/24", "negated": True} and rule["dports"]["value"] == "5432,6379"
    back = facts.from_dict(Snapshot, data)
    assert back.engine.location is Location.REMOTE and back.reach[0].origin == Origin("client")
