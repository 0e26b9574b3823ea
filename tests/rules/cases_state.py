"""Examples of netdiag/rules/state.py: not running, no network, host network mode, internal only."""

from __future__ import annotations

import dataclasses

from netdiag.facts import ContainerState, Endpoint, Listeners, Outcome, PortBinding, Socket
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



# --- a network namespace shared with another container (--network container:web) ------------------

SIDE_ID = "5e1dca4e0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"


def side(started_at: str = "2026-11-28T00:05:00Z", owner: str = WEB_ID, **changes):
    """A sidecar serving web's port 80 from web's namespace: no network, no -p of its own."""
    c = web(id=SIDE_ID, name="side", image="nginx", network_mode=f"container:{owner}", exposed=("80/tcp",),
            requested=(), published=(), endpoints=(), command=("nginx", "-g", "daemon off;"),
            state=ContainerState(S.RUNNING, True, pid=5151, started_at=started_at))
    return dataclasses.replace(c, **changes)


def pod(owner_state: ContainerState | None = None, side_started: str = "2026-11-28T00:05:00Z",
        owner_sockets=(), side_sockets=(Socket("tcp", 6, "::", 80, 7, 5151, "nginx"),), **kw):
    """web (sleep, no app) owns the namespace; side serves 80 in it. Sidecar first: the target."""
    owner = web(command=("sleep", "infinity"), **({"state": owner_state} if owner_state else {}))
    return local(side(side_started), owner, listeners=(
        Listeners(Outcome(method="sock_diag"), SIDE_ID, side_sockets),
        Listeners(Outcome(method="sock_diag"), WEB_ID, owner_sockets)), **kw)


@quiet("ND105", "the-namespace-owner-runs")
def _():
    """The sidecar is seen on web's network: web's published port answers for it."""
    return (pod(reach=(tcp("127.0.0.1", 32768, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"),)), args(),
            lambda d: d.verdict == "reachable" and "127.0.0.1:32768" in d.works
            and any(h.hop == "network" and h.detail.startswith("in web's network namespace (network mode container:"
                                                               "9d1e6da2594a): bridge 172.17.0.0/16") for h in d.path))


@fires("ND105", "the-namespace-owner-exited")
def _():
    st = ContainerState(S.EXITED, exit_code=137, finished_at="2026-11-28T01:00:00Z")
    snap = pod(st)  # an exited container publishes nothing and has no address
    snap = dataclasses.replace(snap, containers=(snap.containers[0], dataclasses.replace(
        snap.containers[1], published=(), endpoints=())))
    return (snap, args(),
            lambda c: c.summary == "web, whose network namespace side runs in, exited (code 137); side has no "
                                   "network but loopback"
            and c.fix == ("docker logs web", "docker start web",
                          "then: docker restart side  (it joins web's namespace only when it starts)"))


@fires("ND106", "the-owner-started-again-after-it")
def _():
    """web started 0.05 s after side: Docker trims trailing zeros, so the texts alone sort wrongly."""
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:05:00.25Z")
    return (pod(st, side_started="2026-11-28T00:05:00.2Z"), args(),
            lambda c: c.summary == "side was left in the network namespace web had before it started again: web's "
                                   "addresses and published ports lead to its new one"
            and "listening in side's namespace: nginx on [::]:80; in web's: nothing" in c.evidence
            and c.fix == ("docker restart side  (it joins web's current namespace)",))


@fires("ND106", "the-owner-is-gone")
def _():
    compose = {"com.docker.compose.project": "shop", "com.docker.compose.service": "proxy"}
    snap = local(side(owner="0ld0wner" * 8, labels=compose),
                 listeners=(Listeners(Outcome(method="sock_diag"), SIDE_ID, (Socket("tcp", 4, "0.0.0.0", 80),)),))
    return (snap, args(),
            lambda c: c.summary == "side runs in the network namespace of a container that no longer exists "
                                   "(0ld0wner0ld0): it has no network but loopback"
            and c.fix == ("docker compose -p shop up -d --force-recreate proxy",))


@quiet("ND106", "it-joined-after-the-owner-started")
def _():
    return pod(side_started="2026-11-28T00:05:00.2Z"), args()


@fires("ND107", "its-sidecar-was-left-in-the-old-namespace")
def _():
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:09:00Z")
    snap = pod(st)
    return (dataclasses.replace(snap, containers=snap.containers[::-1]), args(port=80),
            lambda c: c.summary == "side, which runs in web's network namespace, was left in the one web had before "
                                   "it started again: nothing listens on 80/tcp in web's"
            and "listening in side's namespace: nginx on [::]:80; in web's: nothing on 80/tcp" in c.evidence
            and c.fix == ("docker restart side  (it joins web's current namespace)",))


@quiet("ND107", "its-sidecar-does-not-serve-the-port")
def _():
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:09:00Z")
    snap = pod(st, side_sockets=(Socket("tcp", 4, "127.0.0.1", 9000, 7, 5151, "envoy"),))
    return (dataclasses.replace(snap, containers=snap.containers[::-1]), args(port=80),
            lambda d: [c.code for c in d.causes] == ["nothing-listening"])


@unknown("ND107", "the-owners-sockets-not-read")
def _():
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:09:00Z")
    snap = pod(st)
    snap = dataclasses.replace(snap, containers=snap.containers[::-1], listeners=(
        snap.listeners[0], Listeners(Outcome.unavailable("no cat in the image"), WEB_ID)))
    return snap, args(port=80)


@fires("ND102", "the-namespace-owner-has-no-network")
def _():
    """A sidecar of a container run with --network none: the owner is the one to connect."""
    snap = pod(reach=())
    owner = dataclasses.replace(snap.containers[1], network_mode="none", endpoints=(), published=(), requested=())
    return (dataclasses.replace(snap, containers=(snap.containers[0], owner)), args(),
            lambda c: c.fix[0] == "docker network connect bridge web"
            and c.evidence[0] == "side runs in web's network namespace (network mode container:9d1e6da2594a)")
