"""Podman through its Docker-compatible API, live: Debian's podman 4.3, rootful, its service on a
socket of its own beside dockerd (examples/lab.py). The core cases, each checked against what a
client really gets first."""

from __future__ import annotations

import json

import pytest

from examples import lab
from examples.lab import netdiag
from tests.test_why_engine import codes, iptables_restored, laptop_gets
from tests.test_why_engine import why as docker_why

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def why(*args: str, expect: int | None = None) -> dict:
    """netdiag why-unreachable against the lab's Podman, as its user runs it."""
    return docker_why(*args, expect=expect, env_extra=lab.podman_env())


def run(name: str, *args: str, cmd: tuple[str, ...] = HTTPD) -> str:
    return lab.podman("run", "-d", "--name", name, "--label", lab.LABEL, *args, lab.PODMAN_IMAGE, *cmd)


def host_port(name: str) -> int:
    return int(lab.podman("port", name, "80/tcp").splitlines()[0].rsplit(":", 1)[1])


def wait_listening(name: str, port: int = 80) -> None:
    import time

    for _ in range(50):
        if f":{port:04X} " in lab.podman("exec", name, "cat", "/proc/net/tcp", "/proc/net/tcp6", check=False):
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} does not listen on {port}")


def test_podman_is_recognised_and_its_network_is_not_an_overlap(podman_clean):
    run("ndt-pw", "-p", "80")
    engine = json.loads(netdiag("engine", "--json", env_extra=lab.podman_env()).stdout)
    assert engine["product"] == "podman" and engine["location"] == "local"
    subnets = json.loads(netdiag("subnets", "--json", env_extra=lab.podman_env()).stdout)
    assert {n["name"]: n["bridge"] for n in subnets["networks"]}["podman"] == "podman0"
    assert not subnets["overlaps"], subnets["overlaps"]


def test_published_port_and_the_forward_drop_dockerd_sets(podman_clean, laptop):
    """Answered on this machine; from another machine the answer depends on iptables' FORWARD
    policy, which dockerd sets to DROP beside Podman: netdiag names it, and its fix works."""
    run("ndt-pw", "-p", "80")
    wait_listening("ndt-pw")
    hp = host_port("ndt-pw")
    ip = lab.podman("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-pw")
    with iptables_restored():
        lab.sh("iptables", "-P", "FORWARD", "DROP")
        assert not laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
        d = why("ndt-pw", expect=1)
        assert d["works"][0] == f"127.0.0.1:{hp}"
        assert codes(d) == ["firewall-blocks"], d["causes"]
        c = d["causes"][0]
        # what other machines reach: one of this machine's own addresses (its own attempt never passes FORWARD)
        head = "iptables' FORWARD policy is DROP and no rule accepts the traffic to "
        assert c["summary"].startswith(head) and c["summary"].endswith(f":{hp}")
        assert c["summary"][len(head):-len(f":{hp}")] in local_ipv4()
        fix = c["fix"][0].split("  (")[0]
        assert fix == f"iptables -I DOCKER-USER -o podman0 -d {ip} -p tcp --dport 80 -j ACCEPT"
        lab.sh(*fix.split())
        assert laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")  # the fix works
        healthy = why("ndt-pw", expect=0)
        assert healthy["verdict"] == "reachable" and not healthy["causes"]


def test_app_on_loopback(podman_clean):
    run("ndt-plo", "-p", "80", cmd=("httpd", "-f", "-p", "127.0.0.1:80", "-h", "/www"))
    wait_listening("ndt-plo")
    d = why("ndt-plo", expect=1)
    assert "listening-on-loopback" in codes(d), d["causes"]


def test_nothing_listening(podman_clean):
    run("ndt-pnl", "-p", "80", cmd=("sleep", "600"))
    d = why("ndt-pnl", expect=1)
    assert "nothing-listening" in codes(d), d["causes"]


def test_port_not_published(podman_clean):
    run("ndt-pnp")
    wait_listening("ndt-pnp")
    d = why("ndt-pnp", "--port", "80", "--to", "127.0.0.1:80", expect=1)
    assert codes(d)[0] == "port-not-published", d["causes"]


def test_two_containers_on_a_network(podman_clean):
    lab.podman("network", "create", "--label", lab.LABEL, "--subnet", "10.89.7.0/24", "ndt-pnet")
    run("ndt-pa", "--network", "ndt-pnet", cmd=("sleep", "600"))
    run("ndt-pb", "--network", "ndt-pnet")
    wait_listening("ndt-pb")
    ip = lab.podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "ndt-pb")
    d = why("ndt-pb", "--from", "container:ndt-pa", expect=0)
    assert d["verdict"] == "reachable" and d["works"] == [f"{ip}:80"], d


def test_a_pods_container_left_in_the_namespace_the_infra_had(podman_clean):
    """A pod's containers run in its infra container's namespace: restarting the infra alone
    leaves them in the old one; restarting the container, as netdiag says, ends it."""
    infra = lab.podman_pod("ndt-ppod", "-p", "80")
    run("ndt-ppod-web", "--pod", "ndt-ppod")
    wait_listening("ndt-ppod-web")
    hp = int(lab.podman("port", infra, "80/tcp").splitlines()[0].rsplit(":", 1)[1])
    d = why("ndt-ppod-web")
    assert f"127.0.0.1:{hp}" in d["works"]  # the pod's port, published on its infra container
    assert next(h for h in d["path"] if h["hop"] == "network")["detail"].startswith(
        f"in {lab.podman('inspect', '-f', '{{.Name}}', infra)}'s network namespace")
    lab.podman("restart", "-t", "0", infra)
    d = why("ndt-ppod-web", "--timeout", "1", expect=1)
    c = next(c for c in d["causes"] if c["code"] == "stale-network-namespace")
    assert c["fix"] == [f"podman restart ndt-ppod-web  (it joins {lab.podman('inspect', '-f', '{{.Name}}', infra)}'s "
                        "current namespace)"]
    lab.podman("restart", "-t", "0", "ndt-ppod-web")  # the fix
    wait_listening("ndt-ppod-web")
    assert "stale-network-namespace" not in codes(why("ndt-ppod-web"))


def local_ipv4() -> set[str]:
    import psutil

    return {a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == 2}
