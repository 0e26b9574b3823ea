"""The facts model: a lossless JSON round trip, and clear errors on data that does not fit."""

from __future__ import annotations

import json

import pytest

from netdiag import facts
from netdiag.facts import (Container, ContainerState, Endpoint, Engine, Firewall, Chain, HostNet, Interface,
                           Listeners, Outcome, PortBinding, Reach, Route, Snapshot, Socket)


def sample() -> Snapshot:
    return Snapshot(
        engine=Engine(Outcome(method="docker info"), "tcp://192.168.59.103:2375", "DOCKER_HOST", location="remote",
                      host_address="192.168.59.103", location_evidence=("not local",), iptables=None),
        client=HostNet(Outcome(), "client", "mac", (Interface("en0", ("10.0.1.7/24",), True, "aa:bb"),),
                       (Route("0.0.0.0/0", "10.0.1.1", "en0"),), {"/proc/net/route": "x"}),
        containers=(Container("9d1e6da2594a" + "0" * 52, "web", "training/webapp",
                              ContainerState("running", True, pid=42), "default", ("5000/tcp",),
                              (PortBinding(80, "tcp", "", None),), (PortBinding(80, "tcp", "0.0.0.0", 32768),),
                              False, (Endpoint("bridge", "n1", "172.17.0.29", 16),), ("python", "-m", "x"),
                              {"a": "b"}),),
        listeners=(Listeners(Outcome(method="host /proc/42/net"), "9d1e",
                             (Socket("tcp", 4, "0.0.0.0", 80, 5, 42, "python"),)),),
        firewall=Firewall(Outcome.unavailable("remote"), None, None, {"eth0": True}, Outcome(),
                          (Chain("filter", "FORWARD", "DROP", ("-j DOCKER-USER",)),)),
        reach=(Reach(Outcome(method="scapy"), "icmp", "172.17.0.29", None, facts.ICMP_UNREACHABLE, "10.0.1.1", 3, 0,
                     "Destination Net Unreachable", 1.5),),
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
    assert Outcome.failed("boom").state == facts.FAILED
    assert Outcome().ok
