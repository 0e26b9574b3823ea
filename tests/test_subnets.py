"""Overlaps between Docker networks and a machine's interfaces and routes: must fire, must not."""

from __future__ import annotations

import dataclasses

from netdiag.facts import Container, Endpoint, HostNet, Interface, Network, Outcome, Route
from netdiag.subnets import Overlap, overlaps, routes_to_containers

BRIDGE = Network("n0", "bridge", "bridge", subnets=("172.17.0.0/16",), bridge="docker0")
APP = Network("n1", "app", "bridge", subnets=("172.18.0.0/16",), bridge="br-0123456789ab")


def host(interfaces=(), routes=()):
    return HostNet(Outcome(), "client", "h", tuple(interfaces), tuple(routes))


def test_vpn_interface_and_route_claiming_a_docker_subnet():
    h = host([Interface("tun0", ("172.17.5.1/24",), False)], [Route("172.17.5.0/24", "", "tun0")])
    assert overlaps((BRIDGE,), h) == [Overlap("bridge", "172.17.0.0/16", "client", "interface", "tun0",
                                              "172.17.5.1/24")]


def test_lan_route_via_a_gateway():
    h = host([Interface("eth0", ("10.0.1.7/24",), True)], [Route("172.16.0.0/12", "10.0.1.254", "eth0")])
    (o,) = overlaps((BRIDGE, APP), h)[:1]
    assert (o.kind, o.prefix, o.gateway) == ("route", "172.16.0.0/12", "10.0.1.254")
    assert len(overlaps((BRIDGE, APP), h)) == 2


def test_dockers_own_bridges_veths_and_the_default_route_are_not_overlaps():
    h = host([Interface("docker0", ("172.17.0.1/16",), True), Interface("br-0123456789ab", ("172.18.0.1/16",)),
              Interface("veth1a2b", ("fe80::1/64",))],
             [Route("172.17.0.0/16", "", "docker0"), Route("172.18.0.0/16", "", "br-0123456789ab"),
              Route("0.0.0.0/0", "10.0.1.1", "eth0")])
    assert overlaps((BRIDGE, APP), h) == []


def test_the_boot2docker_workaround_route_is_not_an_overlap():
    h = host([Interface("vboxnet0", ("192.168.59.3/24",))],
             [Route("172.17.0.0/16", "192.168.59.103", "vboxnet0")])
    assert overlaps((BRIDGE,), h, docker_host_address="192.168.59.103") == []
    assert len(overlaps((BRIDGE,), h)) == 1  # without knowing the Docker host, it would look like one


def test_route_to_a_container_through_the_default_gateway():
    c = Container("x" * 64, "web", endpoints=(Endpoint("bridge", ipv4="172.17.0.29", prefix_len=16),))
    h = host(routes=[Route("0.0.0.0/0", "10.0.1.1", "en0"), Route("192.168.59.0/24", "", "vboxnet0")])
    (rc,) = routes_to_containers((c,), h)
    assert rc.via_default and rc.gateway == "10.0.1.1"
    h2 = host(routes=[Route("172.17.0.0/16", "192.168.59.103", "vboxnet0")])
    (rc2,) = routes_to_containers((c,), h2)
    assert not rc2.via_default and rc2.gateway == "192.168.59.103"
    (rc3,) = routes_to_containers((c,), host())
    assert rc3.destination == ""


def test_a_containers_own_interface_is_no_overlap_when_netdiag_runs_inside_it():
    from netdiag.facts import HostNet, Interface, Network, Outcome, Route
    from netdiag.subnets import overlaps

    bridge = Network("n", "bridge", "bridge", "local", False, ("172.17.0.0/16",), ("172.17.0.1",), bridge="docker0")
    inside = HostNet(Outcome(), "client", "c0ffee", (Interface("eth0", ("172.17.0.2/16",), True),),
                     (Route("0.0.0.0/0", "172.17.0.1", "eth0"), Route("172.17.0.0/16", "", "eth0")))
    assert [o.kind for o in overlaps((bridge,), inside)] == ["interface"]  # as seen from a machine
    assert overlaps((bridge,), inside, in_container=True) == []


def test_the_kernels_choice_from_a_policy_table_wins_over_the_main_table():
    """A VPN client's rule sends the address to its table 52: `netdiag subnets` shows that, not
    the main table's default route."""
    from netdiag.facts import KernelRoute, Outcome

    c = Container("x" * 64, "web", endpoints=(Endpoint("bridge", ipv4="172.17.0.29", prefix_len=16),))
    h = host(routes=[Route("0.0.0.0/0", "10.0.1.1", "en0")])
    vpn = KernelRoute(Outcome(method="RTM_GETROUTE"), "172.17.0.29", device="tailscale0", table="52")
    (rc,) = routes_to_containers((c,), h, (vpn,))
    assert (rc.destination, rc.device, rc.via_default) == ("policy table 52", "tailscale0", False)
    main = dataclasses.replace(vpn, table="main", device="en0")
    (rc2,) = routes_to_containers((c,), h, (main,))
    assert rc2.via_default and rc2.gateway == "10.0.1.1"
