"""A container in another's network namespace (`--network container:X`) on the real engine: seen
on X's network, left in X's old namespace when X restarts, cut off when X stops."""

from __future__ import annotations

import json

import pytest

from examples import lab
from examples.lab import netdiag
from tests.test_why_engine import HTTPD, cause, codes, host_port_of, why

pytestmark = pytest.mark.engine


def pod() -> int:
    """ndt-pod holds the namespace and publishes 80; ndt-side serves 80 in it. Its host port."""
    lab.run("ndt-pod", "-p", "80", cmd=("sleep", "600"))
    lab.run("ndt-side", "--network", "container:ndt-pod", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-side", 80)
    return host_port_of("ndt-pod")


def test_a_sidecar_is_reached_at_the_port_its_namespaces_owner_publishes(clean):
    port = pod()
    d = why("ndt-side", expect=0)
    assert f"127.0.0.1:{port}" in d["works"]
    network = next(h for h in d["path"] if h["hop"] == "network")["detail"]
    assert network.startswith("in ndt-pod's network namespace (network mode container:") and "172.17." in network
    # the inspection commands see it on ndt-pod's network too
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-pod")
    assert [e["ipv4"] for e in json.loads(netdiag("ip", "ndt-side", "--json").stdout)["endpoints"]] == [ip]
    assert f"0.0.0.0:{port}" in netdiag("port", "ndt-side").stdout


def test_a_sidecar_left_in_the_old_namespace_when_its_owner_restarts(clean):
    pod()
    lab.docker("restart", "-t", "1", "ndt-pod")
    d = why("ndt-side", expect=1)
    c = cause(d, "stale-network-namespace")
    assert c["rule"] == "ND106" and codes(d) == ["stale-network-namespace"]
    assert "listening in ndt-side's namespace: httpd on [::]:80; in ndt-pod's: nothing" in c["evidence"]
    assert c["fix"] == ["docker restart ndt-side  (it joins ndt-pod's current namespace)"]
    # asked about the owner, the sidecar left behind is the cause, not an app that never listened
    d = why("ndt-pod", "--port", "80", expect=1)
    assert codes(d) == ["stale-network-namespace"] and d["causes"][0]["rule"] == "ND107"
    lab.docker("restart", "-t", "1", "ndt-side")  # the fix netdiag gave
    lab.wait_listening("ndt-side", 80)
    assert f"127.0.0.1:{host_port_of('ndt-pod')}" in why("ndt-side", expect=0)["works"]


def test_a_sidecar_whose_namespaces_owner_stopped(clean):
    pod()
    lab.docker("stop", "-t", "1", "ndt-pod")
    d = why("ndt-side", expect=1)
    c = cause(d, "container-not-running")
    assert c["rule"] == "ND105" and c["summary"].startswith("ndt-pod, whose network namespace ndt-side runs in, "
                                                             "exited (code ")
    assert c["fix"][1:] == ["docker start ndt-pod",
                            "then: docker restart ndt-side  (it joins ndt-pod's namespace only when it starts)"]


def test_out_of_a_sidecar_left_in_the_old_namespace(clean, internet):
    """Its resolver is out of reach too: the namespace is named, not a DNS failure."""
    lab.run("ndt-pod", "--dns", lab.FAR_DNS, cmd=("sleep", "600"))
    lab.run("ndt-side", "--network", "container:ndt-pod", cmd=("sleep", "600"))
    assert why(f"{lab.LAB_NAME}:80", "--from", "container:ndt-side", expect=0)["works"] == [f"{lab.FAR_WEB}:80"]
    lab.docker("restart", "-t", "1", "ndt-pod")
    d = why(f"{lab.LAB_NAME}:80", "--from", "container:ndt-side", "--timeout", "1", expect=1)
    assert codes(d) == ["stale-network-namespace"] and d["causes"][0]["rule"] == "ND715"
    assert "routes in ndt-side's namespace: none" in d["causes"][0]["evidence"]


def test_a_sidecar_whose_namespaces_owner_was_removed(clean):
    """The owner removed (Compose recreates it under a new id): the sidecar runs on, cut off."""
    pod()
    owner = lab.docker("inspect", "-f", "{{.Id}}", "ndt-pod")
    lab.docker("rm", "-f", "ndt-pod")
    d = why("ndt-side", expect=1)
    c = cause(d, "stale-network-namespace")
    assert c["rule"] == "ND106" and c["summary"] == "ndt-side runs in the network namespace of a container that no " \
                                                      f"longer exists ({owner[:12]}): it has no network but loopback"
    assert "ndt-side's sockets: httpd on [::]:80" in c["evidence"]
    assert c["fix"] == ["docker rm -f ndt-side, then run it again with --network container:<the container it "
                        "should share>"]
