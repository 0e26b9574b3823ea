"""Containers on a macvlan network (their own address on a LAN of the Docker host) on the real
engine: the host cannot reach its own macvlan children, the other containers of the LAN can."""

from __future__ import annotations

import pytest

from examples import lab
from tests.conftest import remove_labelled
from tests.test_why_engine import HTTPD, cause, codes, why

pytestmark = pytest.mark.engine

WEB_IP = "10.87.0.10"


@pytest.fixture
def lan(clean):
    """ndt-lan: a macvlan network on the lab's LAN parent; ndt-lan-web serves 80 at 10.87.0.10."""
    lab.make_lan()
    try:
        lab.network("ndt-lan", "-d", "macvlan", "--subnet", lab.LAN_SUBNET, "--gateway", "10.87.0.254",
                    "--aux-address", f"host={lab.LAN_HOST_IP}", "-o", f"parent={lab.LAN_PARENT}")
        lab.run("ndt-lan-web", "--network", "ndt-lan", "--ip", WEB_IP, image=lab.WEBAPP, cmd=HTTPD)
        lab.wait_listening("ndt-lan-web", 80)
        yield
    finally:
        remove_labelled(lab.docker)  # the macvlan network goes before its parent
        lab.remove_lan()


def test_the_docker_host_cannot_reach_its_own_macvlan_container(lan):
    d = why("ndt-lan-web", "--port", "80", "--timeout", "1", expect=1)
    assert codes(d) == ["macvlan-host-isolation"]  # no subnet-overlap with the host's own LAN
    c = cause(d, "macvlan-host-isolation")
    assert f"this machine's route to {WEB_IP}: {lab.LAN_SUBNET} dev {lab.LAN_PARENT}: out of the parent" in c["evidence"]
    shim = c["fix"][0].split("  (")[0].replace(f"<an unused address of {lab.LAN_SUBNET}>", "10.87.0.200")
    for step in shim.split("; "):  # the fix, with an unused address of the lab's LAN
        lab.sh(*step.replace("macvlan-shim", "ndt-shim").split())
    d = why("ndt-lan-web", "--port", "80", expect=0)
    assert d["causes"] == [] and d["works"] == [f"{WEB_IP}:80"]


def test_another_container_of_the_lan_reaches_it(lan):
    lab.run("ndt-lan-client", "--network", "ndt-lan", "--ip", "10.87.0.11", cmd=("sleep", "600"))
    d = why("ndt-lan-web", "--from", "container:ndt-lan-client", "--to", f"{WEB_IP}:80", expect=0)
    assert d["causes"] == []
