"""Examples of netdiag/rules/addressing.py: the wrong address, a container IP the client cannot
route to, a loopback-only binding, and subnets a VPN or LAN also claims."""

from __future__ import annotations

import dataclasses

from netdiag.facts import Endpoint, Engine, Interface, Network, Outcome, PortBinding, Route
from netdiag.vocab import Location, Protocol, ReachResult, VmKind
from tests.builders import (APP_NET, BRIDGE, HOST, LAPTOP, LOCAL_ENGINE, ON_APP, answered_locally, b2d, client, icmp,
                            local, orbstack, tcp, web)
from tests.rules.examples import args, fires, quiet, unknown

DESKTOP = Engine(Outcome(), "unix:///Users/me/.docker/run/docker.sock", "default", location=Location.VM,
                 vm_kind=VmKind.DOCKER_DESKTOP, host_address="127.0.0.1")
BOTH = (PortBinding(80, Protocol.TCP, "0.0.0.0", 80), PortBinding(5000, Protocol.TCP, "0.0.0.0", 5000))


@fires("ND301", "unspecified-address-from-the-laptop")
def _():
    return (b2d(web(published=BOTH), reach=(tcp("0.0.0.0", 5000, ReachResult.REFUSED),)), args(to="0.0.0.0:5000"),
            lambda c: c.fix == ("use 192.168.59.103:5000",)
            and "0.0.0.0 on the client is the client itself, not the Docker host" in c.evidence)


@fires("ND301", "localhost-from-the-laptop")
def _():
    return b2d(), args(to="localhost:32768"), lambda c: c.fix == ("use 192.168.59.103:32768",)


@quiet("ND301", "localhost-on-docker-desktop")
def _():
    """Docker Desktop forwards published ports to the client's localhost."""
    snap = dataclasses.replace(local(reach=answered_locally()), engine=DESKTOP)
    return snap, args(to="localhost:32768")


@quiet("ND301", "the-docker-hosts-address")
def _():
    return b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.ANSWERED),)), args(to="192.168.59.103:32768")


@fires("ND302", "a-router-answers-net-unreachable")
def _():
    reach = (icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "65.113.32.217", icmp_type=3, icmp_code=0,
                  detail="Destination Net Unreachable"),)
    return (b2d(reach=reach), args(to="172.17.0.29"),
            lambda c: c.fix[0] == "use 192.168.59.103:32768"
            and "ping 172.17.0.29: Destination Net Unreachable from 65.113.32.217" in c.evidence
            and c.fix[-1].endswith("ip route add 172.17.0.0/16 via 192.168.59.103"))


@fires("ND302", "default-route-and-silence")
def _():
    return (b2d(reach=(icmp("172.17.0.29", ReachResult.TIMEOUT, detail="no answer"),)), args(to="172.17.0.29"),
            lambda c: "the client's route to 172.17.0.29: 0.0.0.0/0 via 10.0.1.1 dev en0 (its default gateway)"
            in c.evidence)


@fires("ND302", "a-router-answers-without-routes")
def _():
    blind = dataclasses.replace(LAPTOP, outcome=Outcome.failed("no /proc/net/route"), routes=())
    reach = (icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "10.0.1.1", detail="Destination Net Unreachable"),)
    return (b2d(client=blind, reach=reach), args(to="172.17.0.29"),
            lambda c: any(e.startswith("the client's routes could not be read") for e in c.evidence))


@fires("ND302", "not-published-either")
def _():
    return (b2d(web(published=(), requested=())), args(to="172.17.0.29:80"),
            lambda c: c.fix[0] == "publish the port: docker run -p 80:80 ..., then use 192.168.59.103:80")


@quiet("ND302", "orbstack-routes-container-addresses")
def _():
    """OrbStack routes container addresses to the Mac: no claim that the client has no route."""
    return orbstack(reach=(tcp("172.17.0.29", 80, ReachResult.TIMEOUT),)), args(to="172.17.0.29:80")


@quiet("ND302", "route-via-the-docker-host")
def _():
    """The old boot2docker workaround: a route to the subnet via the VM."""
    laptop = dataclasses.replace(LAPTOP, routes=LAPTOP.routes + (Route("172.17.0.0/16", "192.168.59.103", "vboxnet0"),))
    return b2d(client=laptop, reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), args(to="172.17.0.29:80")


@quiet("ND302", "on-the-docker-host")
def _():
    return local(reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), args(to="172.17.0.29:80")


@quiet("ND302", "the-container-answered")
def _():
    """Evidence beats inference: some route (a VPN into the VM's network) did lead there."""
    return b2d(reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), args(to="172.17.0.29:80")


@unknown("ND302", "no-routes-and-no-router-answer")
def _():
    blind = dataclasses.replace(LAPTOP, outcome=Outcome.failed("no /proc/net/route"), routes=())
    return b2d(client=blind), args(to="172.17.0.29")


LOOPBACK_8080 = dict(published=(PortBinding(80, Protocol.TCP, "127.0.0.1", 8080),))


@fires("ND303", "from-another-machine")
def _():
    return (b2d(web(**LOOPBACK_8080)), args(),
            lambda c: c.fix[0] == "publish on all addresses: docker run -p 8080:80 ..."
            and "ssh -L 8080:127.0.0.1:8080" in c.fix[1])


@fires("ND303", "from-a-container")
def _():
    return (local(web(**LOOPBACK_8080), client("bridge", "172.17.0.3")),
            args(to="172.17.0.1:8080", origin="container:client"),
            lambda c: "the attempt comes from container client" in c.evidence)


@quiet("ND303", "a-container-straight-to-its-address")
def _():
    """No binding is on the way from a container to the target's own address: it answers."""
    return (local(web(**LOOPBACK_8080), client("bridge", "172.17.0.3"),
                  reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED, origin="container:client"),)),
            args(to="172.17.0.29:80", origin="container:client"), lambda d: d.verdict == "reachable")


@fires("ND303", "a-non-loopback-address-of-the-host")
def _():
    return (local(web(**LOOPBACK_8080)), args(to="10.0.2.15:8080"),
            lambda c: "the attempt comes from 10.0.2.15, a non-loopback address" in c.evidence)


@quiet("ND303", "loopback-on-the-docker-host")
def _():
    return local(web(**LOOPBACK_8080), reach=(tcp("127.0.0.1", 8080, ReachResult.ANSWERED),)), \
        args(to="127.0.0.1:8080")


@quiet("ND303", "docker-desktop-forwards-it")
def _():
    snap = dataclasses.replace(local(web(**LOOPBACK_8080), reach=(tcp("127.0.0.1", 8080, ReachResult.ANSWERED),)),
                               engine=DESKTOP)
    return snap, args(to="127.0.0.1:8080")


TUN = dataclasses.replace(HOST, interfaces=HOST.interfaces + (Interface("tun0", ("172.17.0.1/24",), False),),
                          routes=HOST.routes + (Route("172.17.0.0/24", "", "tun0"),))


@fires("ND304", "vpn-route-inside-the-bridge")
def _():
    return (local(client=TUN), args(to="172.17.0.29:80"),
            lambda c: "tun0" in c.summary and any(f.startswith("move Docker's default bridge") for f in c.fix))


@fires("ND304", "lan-route-inside-a-user-network")
def _():
    lan = dataclasses.replace(HOST, routes=HOST.routes + (Route("172.18.0.0/24", "10.0.2.1", "eth0"),))
    return (local(web(**ON_APP), client=lan, networks=(BRIDGE, APP_NET)), args(to="172.18.0.5:80"),
            lambda c: c.fix[0].startswith("recreate the network in a free range: docker network create --subnet"))


@quiet("ND304", "no-overlap")
def _():
    return local(reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), args(to="172.17.0.29:80")


@quiet("ND304", "overlap-elsewhere-in-the-subnet")
def _():
    """The VPN claims a part of the subnet this container's address is not in."""
    far = dataclasses.replace(HOST, routes=HOST.routes + (Route("172.17.200.0/24", "", "tun0"),))
    return local(client=far, reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), args(to="172.17.0.29:80")


@unknown("ND304", "routes-not-read")
def _():
    return local(client=dataclasses.replace(HOST, outcome=Outcome.unavailable("no /proc/net/route"), routes=())), \
        args(to="172.17.0.29:80")


@fires("ND305", "a-host-port-it-does-not-publish")
def _():
    return (local(reach=answered_locally()), args(to="127.0.0.1:8080"),
            lambda c: c.fix == ("use 127.0.0.1:32768",) and "web publishes nothing on host port 8080" in c.evidence)


@fires("ND305", "an-address-the-binding-does-not-cover")
def _():
    w = web(published=(PortBinding(80, Protocol.TCP, "10.0.2.15", 8080),))
    return (local(w), args(to="172.17.0.1:8080"),
            lambda c: c.fix[0] == "use 10.0.2.15:8080" and c.fix[-1] == "or publish on every address: "
                                                                      "docker run -p 8080:80 ...")


@quiet("ND305", "the-published-port")
def _():
    return local(reach=answered_locally()), args(to="127.0.0.1:32768")


@quiet("ND305", "published-nowhere")
def _():
    """port-not-published says that one."""
    return local(web(published=(), requested=())), args(to="127.0.0.1:8080")


@fires("ND306", "another-containers-address")
def _():
    return (local(web(), client("bridge", "172.17.0.3")), args(to="172.17.0.3:80"),
            lambda c: "172.17.0.3 is the address of container client, not web" in c.evidence
            and c.fix[0] == "use 172.17.0.29:80")


@fires("ND306", "a-container-name-from-the-host")
def _():
    return (local(reach=answered_locally()), args(to="web:80"), lambda c: c.fix == ("use 127.0.0.1:32768",))


@quiet("ND306", "its-own-address")
def _():
    return local(web(), client("bridge", "172.17.0.3"), reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED),)), \
        args(to="172.17.0.29:80")


@quiet("ND306", "a-name-from-a-container")
def _():
    return local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET)), \
        args(to="web:80", origin="container:client")


@fires("ND307", "localhost-with-a-shared-network")
def _():
    return (local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET)),
            args(origin="container:client", to="localhost:80"),
            lambda c: c.fix == ("web:80 (by name on network app)", "172.18.0.5:80 (web's address on app)"))


@fires("ND307", "loopback-without-a-shared-network")
def _():
    return (local(web(**ON_APP), client("bridge", "172.17.0.3"), networks=(BRIDGE, APP_NET)),
            args(origin="container:client", to="127.0.0.1:80"),
            lambda c: c.fix == ("connect them first: docker network connect app client, then use web:80",))


@quiet("ND307", "by-name")
def _():
    return local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET),
                 reach=(tcp("172.18.0.5", 80, ReachResult.ANSWERED, origin="container:client"),)), \
        args(origin="container:client", to="web:80")


@quiet("ND307", "loopback-from-the-host")
def _():
    return local(reach=answered_locally()), args(to="127.0.0.1:32768")




@fires("ND302", "docker-28-no-route-workaround")
def _():
    """Docker 28+ drops traffic sent straight to container addresses: the route is not offered."""
    snap = dataclasses.replace(b2d(reach=(icmp("172.17.0.29", ReachResult.ICMP_UNREACHABLE, "10.0.1.1",
                                                detail="Destination Net Unreachable"),)),
                               engine=dataclasses.replace(b2d().engine, server_version="28.2.2"))
    return (snap, args(to="172.17.0.29"),
            lambda c: not any("ip route add" in f for f in c.fix) and c.fix[0] == "use 192.168.59.103:32768"
            and "Docker 28.2.2 drops traffic sent straight to container addresses from other hosts: a route to "
                "the subnet is not enough since Docker 28" in c.evidence)


@fires("ND302", "routed-gateway-mode-without-a-route")
def _():
    """A network in routed gateway mode is reached at the container's own address: the route
    through the Docker host is the fix, whatever Docker's version."""
    from tests.builders import routed

    return (routed(tcp("192.0.2.2", 80, ReachResult.TIMEOUT), client=LAPTOP), args(),
            lambda c: c.fix[0].startswith("route the subnet via the Docker host: ip route add 192.0.2.0/24 via "
                                          "192.168.59.103"))


@fires("ND302", "a-policy-table-takes-it-elsewhere")
def _():
    """The main table would send the address via the Docker host, but the kernel's own choice
    (a policy rule, a VPN's table 52) sends it into the tunnel."""
    from netdiag.facts import KernelRoute, Route

    laptop = dataclasses.replace(LAPTOP, routes=LAPTOP.routes + (Route("172.17.0.0/16", "192.168.59.103", "vboxnet0"),))
    snap = b2d(reach=(tcp("172.17.0.29", 80, ReachResult.TIMEOUT),), client=laptop)
    kernel = KernelRoute(Outcome(method="RTM_GETROUTE"), "172.17.0.29", device="tailscale0", table="52")
    return (dataclasses.replace(snap, kernel_routes=(kernel,)), args(to="172.17.0.29:80"),
            lambda c: "the client's route to 172.17.0.29: via on-link dev tailscale0, from policy table 52 (the "
                      "kernel's own choice), not via the Docker host" in c.evidence)


V6_NET = Network("n-v6", "v6net", "bridge", "local", False, ("fd00:1::/64",), ("fd00:1::1",), True,
                 bridge="br-000000000006")
V6_ONLY = dict(endpoints=(Endpoint("v6net", "n-v6", "", 0, ipv6="fd00:1::2"),), exposed=(),
               published=(PortBinding(80, Protocol.TCP, "::", 8080),), requested=(PortBinding(80, Protocol.TCP, "", 8080),))


@fires("ND305", "an-ipv6-only-binding-tried-on-the-hosts-ipv4-address")
def _():
    """An IPv6-only network publishes on [::] alone: the VM's IPv4 address does not reach it."""
    return (b2d(web(**V6_ONLY), networks=(BRIDGE, V6_NET), reach=(tcp("192.168.59.103", 8080, ReachResult.TIMEOUT),)),
            args(to="192.168.59.103:8080"),
            lambda c: c.fix[0] == "use the Docker host's IPv6 address: [<address>]:8080  (the binding is IPv6's only)")


@quiet("ND305", "an-ipv6-only-binding-on-the-docker-host-itself")
def _():
    """On the Docker host, [::1] is where it answers; no IPv4 rule claims anything of it."""
    from tests.builders import firewall

    return (local(web(**V6_ONLY), networks=(BRIDGE, V6_NET), fw=firewall(ipv6_forward=True),
                  reach=(tcp("::1", 8080, ReachResult.ANSWERED),)), args(),
            lambda d: d.verdict == "reachable" and d.works[0] == "[::1]:8080")


@quiet("ND305", "an-ipv6-only-binding-from-the-laptop-without-to")
def _():
    """Nothing was tried at an address: the verdict stays unknown, and a note says where it answers."""
    return (b2d(web(**V6_ONLY), networks=(BRIDGE, V6_NET)), args(),
            lambda d: d.verdict == "unknown" and "80/tcp is published on [::]:8080 only (IPv6): the Docker host's IPv4 "
                      "address 192.168.59.103 does not reach it; use the Docker host's IPv6 address, [<address>]:8080, "
                      "or publish on IPv4 too: -p 8080:80" in d.notes)


# --- a rootless engine: its networks live in its own network namespace ---------------------------

def rootless_local(**changes):
    from tests.builders import LOCAL_ENGINE

    engine = dataclasses.replace(LOCAL_ENGINE, security_options=("name=seccomp,profile=builtin", "name=rootless"))
    return dataclasses.replace(local(**changes), engine=engine)


@fires("ND302", "a-rootless-engines-container-address-from-the-host")
def _():
    """Not tried: the host's route would take 172.17.0.29 to whatever else holds it."""
    return (rootless_local(), args(to="172.17.0.29:80"),
            lambda c: c.summary == "172.17.0.29 is in the rootless engine's own network namespace: no route from "
                                   "here leads to it"
            and c.fix == ("use 127.0.0.1:32768",))


@quiet("ND304", "a-rootless-engines-network-overlapping-a-host-route")
def _():
    """The host's 172.17.0.0/16 route (a VPN) never carries traffic to the rootless engine's network."""
    client = dataclasses.replace(HOST, routes=HOST.routes + (Route("172.17.0.0/16", "10.8.0.1", "tun0"),))
    return rootless_local(client=client), args()


# --- ND308 the Docker host and its own macvlan children ------------------------------------------------

LAN = Network("n-lan", "lan", "macvlan", "local", False, ("192.168.1.0/24",), ("192.168.1.1",),
              options={"parent": "eth0"})
ON_LAN = dict(endpoints=(Endpoint("lan", "n-lan", "192.168.1.50", 24, gateway="192.168.1.1"),), published=(),
              requested=())
LAN_HOST = dataclasses.replace(HOST, interfaces=(Interface("eth0", ("192.168.1.10/24",), True),
                                                 Interface("docker0", ("172.17.0.1/16",), True)),
                               routes=(Route("0.0.0.0/0", "192.168.1.1", "eth0"), Route("192.168.1.0/24", "", "eth0"),
                                       Route("172.17.0.0/16", "", "docker0")))


def on_lan(*reach, client_net=LAN_HOST):
    return local(web(**ON_LAN), networks=(BRIDGE, LAN), reach=reach, client=client_net)


@fires("ND308", "the-host-to-its-own-macvlan-container")
def _():
    return (on_lan(tcp("192.168.1.50", 80, ReachResult.TIMEOUT)), args(port=80),
            lambda c: c.summary == "this machine cannot reach web at 192.168.1.50: lan is a macvlan network on its own "
                                   "interface eth0, and the kernel passes nothing between a parent and its macvlan "
                                   "children"
            and c.fix[0].startswith("ip link add macvlan-shim link eth0 type macvlan mode bridge; ip addr add <an "
                                    "unused address of 192.168.1.0/24>/32 dev macvlan-shim;")
            and c.fix[0].split("; ")[3].startswith("ip route add 192.168.1.50/32 dev macvlan-shim"))


@quiet("ND308", "through-a-shim-already")
def _():
    """The host reaches the container by its own macvlan interface: no subnet-overlap with the parent either."""
    shim = dataclasses.replace(LAN_HOST, interfaces=LAN_HOST.interfaces + (Interface("macvlan-shim",
                                                                                     ("192.168.1.250/32",), True),),
                               routes=LAN_HOST.routes + (Route("192.168.1.50/32", "", "macvlan-shim"),))
    return (on_lan(tcp("192.168.1.50", 80, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"), client_net=shim),
            args(port=80), lambda d: d.verdict == "reachable" and d.causes == ())


@quiet("ND308", "no-port-is-published-on-a-lan")
def _():
    """From another machine of the LAN, the container's own address is the way: no -p is asked for."""
    snap = dataclasses.replace(on_lan(tcp("192.168.1.50", 80, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK")),
                               engine=dataclasses.replace(LOCAL_ENGINE, location=Location.REMOTE,
                                                          host_address="192.168.1.10"))
    return snap, args(port=80), lambda d: d.verdict == "reachable" and d.works == ("192.168.1.50:80",)


@unknown("ND308", "routes-not-read")
def _():
    blind = dataclasses.replace(LAN_HOST, outcome=Outcome.failed("no /proc/net/route"), routes=())
    return on_lan(tcp("192.168.1.50", 80, ReachResult.TIMEOUT), client_net=blind), args(port=80)
