"""Small builders of snapshots for the fast rule tests: a healthy seed-like world, changed per case."""

from __future__ import annotations

import dataclasses
from pathlib import Path

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
    Network,
    Outcome,
    PortBinding,
    PortHolders,
    Reach,
    Route,
    Snapshot,
    Socket,
)
from netdiag.parsers.iptables import parse_iptables_save, parse_rule
from netdiag.vocab import ContainerStatus, HostRole, Location, Origin, ProbeKind, ReachResult, VmKind

WEB_ID = "9d1e6da2594ac99a758e56782bdbeedb34e14cc6934cbc6335867f57352f8530"
BRIDGE = Network("n-bridge", "bridge", "bridge", "local", False, ("172.17.0.0/16",), ("172.17.0.1",),
                 bridge="docker0")


def web(**changes) -> Container:
    """The seed's container: EXPOSE 5000, -p 80 published on 32768, on the default bridge."""
    c = Container(
        id=WEB_ID, name="web", image="training/webapp",
        state=ContainerState("running", True, pid=4242, started_at="2026-11-28T00:00:00Z"),
        network_mode="default", exposed=("5000/tcp", "80/tcp"),
        requested=(PortBinding(80, "tcp", "", 0),),
        published=(PortBinding(80, "tcp", "0.0.0.0", 32768),),
        endpoints=(Endpoint("bridge", "n-bridge", "172.17.0.29", 16, gateway="172.17.0.1"),),
        command=("python", "-m", "SimpleHTTPServer", "80"))
    return dataclasses.replace(c, **changes)


def listening(container_id: str = WEB_ID, *sockets: Socket, outcome: Outcome | None = None) -> Listeners:
    return Listeners(outcome or Outcome(method="host /proc/4242/net"), container_id,
                     sockets or (Socket("tcp", 4, "0.0.0.0", 80, 1, 4242, "python"),))


def chain(table: str, name: str, policy: str, *rules: str) -> Chain:
    """A chain as iptables-save would show it, its rules parsed as the probe parses them."""
    return Chain(table, name, policy, tuple(parse_rule(r) for r in rules))


def firewall(**changes) -> Firewall:
    fw = Firewall(Outcome(method="/proc/sys, iptables-save"), True, False, {"eth0": True}, Outcome(), (
        chain("filter", "FORWARD", "DROP", "-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1",
              "-o docker0 -j DOCKER", "-i docker0 ! -o docker0 -j ACCEPT"),
        chain("filter", "DOCKER", "", "-d 172.17.0.29/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"),
        chain("filter", "DOCKER-USER", "", "-j RETURN"),
        chain("nat", "DOCKER", "", "! -i docker0 -p tcp -m tcp --dport 32768 -j DNAT --to-destination 172.17.0.29:80"),
    ))
    return dataclasses.replace(fw, **changes)


LOCAL_ENGINE = Engine(Outcome(), "unix:///var/run/docker.sock", "default", location=Location.LOCAL,
                      host_address="127.0.0.1", iptables=True, userland_proxy=True, ipv6=False)
B2D_ENGINE = Engine(Outcome(), "tcp://192.168.59.103:2376", "DOCKER_HOST", location=Location.VM,
                    vm_kind=VmKind.BOOT2DOCKER,
                    host_address="192.168.59.103")

LAPTOP = HostNet(Outcome(), "client", "mac", (Interface("en0", ("10.0.1.7/24",), True),
                                               Interface("vboxnet0", ("192.168.59.3/24",), True)),
                 (Route("0.0.0.0/0", "10.0.1.1", "en0"), Route("10.0.1.0/24", "", "en0"),
                  Route("192.168.59.0/24", "", "vboxnet0")))
HOST = HostNet(Outcome(), "client", "vm", (Interface("eth0", ("10.0.2.15/24",), True),
                                           Interface("docker0", ("172.17.0.1/16",), True)),
               (Route("0.0.0.0/0", "10.0.2.2", "eth0"), Route("172.17.0.0/16", "", "docker0")))


def local(*containers: Container, listeners=None, reach=(), fw=None, networks=(BRIDGE,), holders=None,
          client=HOST) -> Snapshot:
    """A snapshot taken on the Docker host itself."""
    containers = containers or (web(),)
    return Snapshot(LOCAL_ENGINE, client, None, tuple(networks), Outcome(), tuple(containers),
                    tuple(listeners if listeners is not None else (listening(containers[0].id),)),
                    holders or PortHolders(Outcome()), fw or firewall(), tuple(reach))


def b2d(*containers: Container, listeners=None, reach=(), client=LAPTOP, networks=(BRIDGE,)) -> Snapshot:
    """A snapshot taken on the seed's Mac, the daemon in a boot2docker VM."""
    containers = containers or (web(),)
    remote = Outcome.unavailable("the Docker daemon runs on another machine")
    return Snapshot(B2D_ENGINE, client, HostNet(remote, HostRole.DOCKER_HOST), tuple(networks), Outcome(),
                    tuple(containers),
                    tuple(listeners if listeners is not None else (
                        Listeners(Outcome(method="docker exec cat /proc/net"), containers[0].id,
                                  (Socket("tcp", 4, "0.0.0.0", 80),)),)),
                    PortHolders(remote), Firewall(remote), tuple(reach))


ORBSTACK_ENGINE = Engine(Outcome(), "unix:///Users/me/.orbstack/run/docker.sock", "docker context orbstack",
                         location=Location.VM, vm_kind=VmKind.ORBSTACK, host_address="127.0.0.1")


def orbstack(*containers: Container, listeners=None, reach=()) -> Snapshot:
    """A snapshot taken on a Mac whose daemon is OrbStack's: published ports on its localhost,
    container addresses routed to it."""
    return dataclasses.replace(b2d(*containers, listeners=listeners, reach=reach), engine=ORBSTACK_ENGINE)


def tcp(address: str, port: int, result: ReachResult, origin: str = "host", **kw) -> Reach:
    return Reach(Outcome(method="connect()"), ProbeKind.TCP, address, port, result, origin=Origin.parse(origin), **kw)


def icmp(address: str, result: ReachResult, responder: str = "", **kw) -> Reach:
    return Reach(Outcome(method="raw ICMP socket"), ProbeKind.ICMP, address, None, result, responder, **kw)


# --- more of the world: user-defined networks and a second container --------------------------------

APP_NET = Network("n-app", "app", "bridge", "local", False, ("172.18.0.0/16",), ("172.18.0.1",),
                  bridge="br-0123456789ab")
OTHER_NET = Network("n-other", "other", "bridge", "local", False, ("172.19.0.0/16",), bridge="br-abcdefabcdef")
INTERNAL = Network("n-int", "backend", "bridge", "local", True, ("172.20.0.0/16",), bridge="br-111111111111")
CLIENT_ID = "c" * 64
ON_APP = dict(endpoints=(Endpoint("app", "n-app", "172.18.0.5", 16, aliases=("web",)),), published=(), requested=())


def client(net: str, ip: str, name: str = "client") -> Container:
    """A second running container on one network, to make attempts from."""
    return Container(CLIENT_ID, name, "busybox", ContainerState(ContainerStatus.RUNNING, True, pid=5151), "default",
                     endpoints=(Endpoint(net, f"n-{net}" if net != "bridge" else "n-bridge", ip, 16),))


def answered_locally() -> tuple[Reach, ...]:
    """The seed's web answering on its published port, tried on the Docker host."""
    return (tcp("127.0.0.1", 32768, ReachResult.ANSWERED, banner="HTTP/1.0 200 OK"),)


# --- Docker 28 and later, on moby's recorded rules (tests/data/moby) ------------------------------

MOBY = Path(__file__).parent / "data" / "moby"
BRIDGE1 = Network("n-bridge1", "bridge1", "bridge", "local", False, ("192.0.2.0/24",), ("192.0.2.1",),
                  bridge="bridge1")
C1 = web(name="c1", published=(PortBinding(80, "tcp", "0.0.0.0", 8080),),
         requested=(PortBinding(80, "tcp", "", 8080),),
         endpoints=(Endpoint("bridge1", "n-bridge1", "192.0.2.2", 24, gateway="192.0.2.1"),))
# the laptop routes the network through the Docker host: the workaround that worked before Docker 28
ROUTED_LAPTOP = dataclasses.replace(LAPTOP, routes=LAPTOP.routes + (Route("192.0.2.0/24", "192.168.59.103",
                                                                              "vboxnet0"),))


def moby_firewall(name: str, **changes) -> Firewall:
    chains = tuple(parse_iptables_save((MOBY / name).read_text()))
    return Firewall(Outcome(method="iptables-save through a helper container"), True, False, {}, Outcome(), chains,
                    **changes)


def from_the_laptop(rules: str, version: str, *reach, network: Network = BRIDGE1):
    """Docker 28+ on the seed's VM, its firewall (a file of tests/data/moby) as the helper read it,
    seen from a laptop that routes the container network through the VM."""
    snap = b2d(C1, reach=reach, client=ROUTED_LAPTOP, networks=(BRIDGE, network))
    return dataclasses.replace(snap, engine=dataclasses.replace(B2D_ENGINE, server_version=version),
                               firewall=moby_firewall(rules))


def with_mode(mode: str) -> Network:
    return dataclasses.replace(BRIDGE1, options={"com.docker.network.bridge.gateway_mode_ipv4": mode})


# routed: -p 8080:80 opens 80 on the container's address; no host port is bound (no DNAT, no proxy)
C1_ROUTED = dataclasses.replace(C1, published=())


def routed(*reach, client=ROUTED_LAPTOP):
    snap = b2d(C1_ROUTED, reach=reach, client=client, networks=(BRIDGE, with_mode("routed")))
    return dataclasses.replace(snap, engine=dataclasses.replace(snap.engine, server_version="28.2.2"),
                               firewall=moby_firewall("docker-28.2-usernet-portmap-routed.rules"))
