"""Examples of netdiag/rules/state.py: not running, no network, host network mode, internal only."""

from __future__ import annotations

import dataclasses

from netdiag.facts import ContainerState, Endpoint, Listeners, Outcome, PortBinding
from netdiag.vocab import ContainerStatus as S
from netdiag.vocab import Protocol, ReachResult
from tests.builders import BRIDGE, INTERNAL, WEB_ID, answered_locally, client, local, tcp, web
from tests.rules.examples import args, fires, quiet, unknown

CONFLICT = "driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: port is already allocated"


@fires("ND101", "exited-oom")
def _():
    return (local(web(state=ContainerState(S.EXITED, exit_code=137, oom_killed=True))), args(),
            lambda c: "OOMKilled: true" in c.evidence and "exit code: 137" in c.evidence
            and any("--memory" in f for f in c.fix))


@fires("ND101", "exited")
def _():
    st = ContainerState(S.EXITED, exit_code=1, error="exec: app: not found", finished_at="2026-11-28T01:00:00Z")
    return (local(web(state=st)), args(),
            lambda c: c.fix == ("docker logs web", "docker start web") and "engine error: exec: app: not found"
            in c.evidence and "finished at 2026-11-28T01:00:00Z" in c.evidence)


@fires("ND101", "paused")
def _():
    return (local(web(state=ContainerState(S.PAUSED, True, paused=True, pid=4242))), args(),
            lambda c: c.fix == ("docker unpause web",) and "paused" in c.summary)


@fires("ND101", "restarting")
def _():
    st = ContainerState(S.RESTARTING, True, restarting=True, exit_code=2, restart_count=7)
    return (local(web(state=st)), args(),
            lambda c: "7 restarts" in c.summary and "restart count: 7, last exit code 2" in c.evidence)


@fires("ND101", "created-never-started")
def _():
    return (local(web(state=ContainerState(S.CREATED))), args(), lambda c: c.fix == ("docker start web",))


@fires("ND101", "dead")
def _():
    return (local(web(state=ContainerState(S.DEAD, dead=True))), args(),
            lambda c: c.fix == ("docker rm -f web, then run it again",))


@quiet("ND101", "running")
def _():
    return local(reach=answered_locally()), args()


@quiet("ND101", "created-for-a-port-conflict")
def _():
    """host-port-conflict explains that one, naming who holds the port."""
    return local(web(state=ContainerState(S.CREATED, error=CONFLICT), published=(),
                     requested=(PortBinding(80, Protocol.TCP, "", 8080),))), args()


@fires("ND102", "network-none")
def _():
    return (local(web(network_mode="none", endpoints=(), published=(),
                      requested=(PortBinding(80, Protocol.TCP, "", 8080),))), args(port=80),
            lambda c: "requested -p 8080:80 is ignored without a network" in c.evidence
            and c.fix[0] == "docker network connect bridge web")


@quiet("ND102", "bridge")
def _():
    return local(reach=answered_locally()), args()


HOST_MODE = dict(network_mode="host", endpoints=(), published=(), requested=(PortBinding(80, Protocol.TCP, "", 8080),))


@fires("ND103", "tried-the-ignored-host-port")
def _():
    return (local(web(**HOST_MODE)), args(to="127.0.0.1:8080"),
            lambda c: "-p 8080:80 was asked for and is ignored in host mode" in c.evidence
            and c.fix[0] == "use 127.0.0.1:80")


@fires("ND103", "mapping-to-another-port-without-attempt")
def _():
    return (local(web(**HOST_MODE)), args(port=80),
            lambda c: "the app listens on 80" in c.evidence)


@quiet("ND103", "tried-the-apps-own-port")
def _():
    return local(web(**HOST_MODE), reach=(tcp("127.0.0.1", 80, ReachResult.ANSWERED),)), args(to="127.0.0.1:80")


@quiet("ND103", "same-port-mapping")
def _():
    return local(web(**dict(HOST_MODE, requested=(PortBinding(80, Protocol.TCP, "", 80),)))), args(port=80)


@unknown("ND103", "sockets-not-read")
def _():
    return local(web(**HOST_MODE), listeners=(Listeners(Outcome.unavailable("no root"), WEB_ID),)), args(
        to="127.0.0.1:8080")


@fires("ND104", "internal-only")
def _():
    return (local(web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), published=(),
                      requested=(PortBinding(80, Protocol.TCP, "", 8080),)), networks=(BRIDGE, INTERNAL)), args(),
            lambda c: "network backend (172.20.0.0/16): internal" in c.evidence
            and c.fix[1] == "or recreate backend without --internal")


@quiet("ND104", "no-p-and-the-host-reaches-it")
def _():
    """Nothing asked to be published, and the Docker host's own attempt to the address answers:
    a note says other machines cannot follow."""
    target = web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), published=(), requested=())
    return (local(target, networks=(BRIDGE, INTERNAL), reach=(tcp("172.20.0.2", 80, ReachResult.ANSWERED),)), args(),
            lambda d: any("other machines cannot, web being only on internal networks (backend)" in n for n in d.notes))


@quiet("ND104", "internal-and-bridge")
def _():
    eps = (Endpoint("backend", "n-int", "172.20.0.2", 16), Endpoint("bridge", "n-bridge", "172.17.0.29", 16))
    return local(web(endpoints=eps), networks=(BRIDGE, INTERNAL), reach=answered_locally()), args()


@quiet("ND104", "from-a-container-on-it")
def _():
    """Containers on an internal network reach each other: that is what it is for."""
    target = web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), published=())
    src = dataclasses.replace(client("backend", "172.20.0.3"),
                              endpoints=(Endpoint("backend", "n-int", "172.20.0.3", 16),))
    return local(target, src, networks=(BRIDGE, INTERNAL)), args(origin="container:client", to="172.20.0.2:80")


@unknown("ND104", "networks-not-read")
def _():
    snap = local(web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), published=()))
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), args()


@fires("ND101", "published-on-an-address-the-host-lacks")
def _():
    error = ("driver failed programming external connectivity on endpoint web (0123): Error starting userland proxy: "
             "listen tcp4 192.168.1.50:8080: bind: cannot assign requested address")
    st = ContainerState(S.CREATED, error=error)
    return (local(web(state=st, requested=(PortBinding(80, "tcp", "192.168.1.50", 8080),), published=())), args(),
            lambda c: c.summary == "web was created but never started: the Docker host has no address 192.168.1.50 "
                                   "to publish on"
            and "the Docker host's addresses: 10.0.2.15" in c.evidence
            and c.fix == ("docker rm web, then run it again with -p 8080:80 (every address of the host) or "
                          "-p 10.0.2.15:8080:80",))
