"""Examples of the rules of netdiag/rules/namespaces.py: a network namespace shared with another container."""

from __future__ import annotations

import dataclasses

from netdiag.facts import ContainerState, Listeners, Outcome, Socket
from netdiag.vocab import ContainerStatus as S
from netdiag.vocab import DnsResult, ReachResult
from tests.builders import WEB_ID, local, tcp, web
from tests.rules.cases_outbound import APP, RESOLVED, VIEW, attempt, lookup, out, world
from tests.rules.examples import args, fires, quiet, unknown

SIDE_ID = "5e1dca4e0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"


def side(started_at: str = "2026-11-28T00:05:00Z", owner: str = WEB_ID, **changes):
    """A sidecar serving web's port 80 from web's namespace: no network, no -p of its own."""
    c = web(id=SIDE_ID, name="side", image="nginx", network_mode=f"container:{owner}", exposed=("80/tcp",),
            requested=(), published=(), endpoints=(), command=("nginx", "-g", "daemon off;"),
            state=ContainerState(S.RUNNING, True, pid=5151, started_at=started_at))
    return dataclasses.replace(c, **changes)


NGINX_80 = (Socket("tcp", 6, "::", 80, 7, 5151, "nginx"),)


def pod(owner_state: ContainerState | None = None, side_started: str = "2026-11-28T00:05:00Z",
        owner_sockets=(), side_sockets=NGINX_80, **kw):
    """web (sleep, no app) owns the namespace; side serves 80 in it. Sidecar first: the target."""
    owner = web(command=("sleep", "infinity"), **({"state": owner_state} if owner_state else {}))
    return local(side(side_started), owner, listeners=(
        Listeners(Outcome(method="sock_diag"), SIDE_ID, side_sockets),
        Listeners(Outcome(method="sock_diag"), WEB_ID, owner_sockets)), **kw)


RESTARTED = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:09:00Z")  # web, after side


def web_first(snap):
    """The pod asked about web, the namespace's owner."""
    return dataclasses.replace(snap, containers=snap.containers[::-1])


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
    snap = pod(RESTARTED)
    return (web_first(snap), args(port=80),
            lambda c: c.summary == "side, which runs in web's network namespace, was left in the one web had before "
                                   "it started again: nothing listens on 80/tcp in web's"
            and "listening in side's namespace: nginx on [::]:80; in web's: nothing on 80/tcp" in c.evidence
            and c.fix == ("docker restart side  (it joins web's current namespace)",))


@quiet("ND107", "its-sidecar-does-not-serve-the-port")
def _():
    snap = pod(RESTARTED, side_sockets=(Socket("tcp", 4, "127.0.0.1", 9000, 7, 5151, "envoy"),))
    return (web_first(snap), args(port=80),
            lambda d: [c.code for c in d.causes] == ["nothing-listening"])


@unknown("ND107", "the-owners-sockets-not-read")
def _():
    snap = pod(RESTARTED)
    snap = dataclasses.replace(web_first(snap), listeners=(
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


# --- out of a container in another's namespace ----------------------------------------------------

def out_of_app(owner_state: ContainerState, app_started: str = "2026-11-28T00:05:00Z", reach=(), lookups=()):
    """app runs in web's namespace and tries web.lab.test:80; seen in its namespace: loopback only."""
    app = dataclasses.replace(APP, network_mode=f"container:{WEB_ID}", endpoints=(),
                              state=ContainerState(S.RUNNING, True, pid=5151, started_at=app_started))
    view = dataclasses.replace(VIEW, routes=())
    return world(app, view=view, reach=reach, lookups=lookups, others=(web(state=owner_state),)), \
        out("web.lab.test:80")


@fires("ND715", "the-sources-namespace-owner-started-again")
def _():
    snap, a = out_of_app(RESTARTED, lookups=(lookup("web.lab.test", "198.51.100.53", DnsResult.UNREACHABLE,
                                             detail="no route to 198.51.100.53 from the container"),))
    return (snap, a,
            lambda c: c.summary == "app was left in the network namespace web had before it started again: it has "
                                   "no network but loopback, nothing leaves it"
            and "routes in app's namespace: none" in c.evidence
            and c.fix == ("docker restart app  (it joins web's current namespace)",))


@quiet("ND715", "the-source-joined-after-its-owner-started")
def _():
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:01:00Z")
    snap, a = out_of_app(st, reach=(attempt(ReachResult.ANSWERED, address="198.51.100.10", banner="HTTP/1.0 200 OK"),),
                         lookups=RESOLVED)
    return snap, a, lambda d: d.verdict == "reachable"


@fires("ND714", "the-sources-namespace-owner-exited")
def _():
    snap, a = out_of_app(ContainerState(S.EXITED, exit_code=1))
    return (snap, a,
            lambda c: c.summary == "web, whose network namespace app runs in, exited (code 1); app has no network "
                                   "but loopback")


@quiet("ND714", "the-sources-namespace-owner-runs")
def _():
    st = ContainerState(S.RUNNING, True, pid=4242, started_at="2026-11-28T00:01:00Z")
    return out_of_app(st, reach=(attempt(ReachResult.ANSWERED, address="198.51.100.10", banner="HTTP/1.0 200 OK"),),
                      lookups=RESOLVED)
