"""Examples of netdiag/rules/ports.py: host-port conflicts and ports that are not published."""

from __future__ import annotations

import dataclasses

from netdiag.facts import ContainerState, Endpoint, Outcome, PortBinding, PortHolders, Socket
from netdiag.vocab import ContainerStatus as S
from netdiag.vocab import EngineProduct, Protocol, ReachResult
from tests.builders import B2D_ENGINE, BRIDGE, INTERNAL, WEB_ID, b2d, listening, local, orbstack, tcp, web
from tests.rules.examples import args, fires, quiet

ALLOCATED = "driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: port is already allocated"
IN_USE = ("driver failed programming external connectivity: Error starting userland proxy: listen tcp4 "
          "0.0.0.0:8080: bind: address already in use")
WANTS_8080 = dict(published=(), requested=(PortBinding(80, Protocol.TCP, "", 8080),))


def other_container():
    return dataclasses.replace(web(), id="a" * 64, name="other",
                               published=(PortBinding(80, Protocol.TCP, "0.0.0.0", 8080),))


@fires("ND201", "another-container")
def _():
    return (local(web(state=ContainerState(S.CREATED, error=ALLOCATED), **WANTS_8080), other_container()), args(),
            lambda c: f"host port 8080 is held by container other ({'a' * 12})" in c.evidence
            and c.fix[0] == "docker stop other  (frees 8080), then: docker start web"
            and c.fix[-1] == "or publish on a free port: docker rm web; docker run -p 8081:80 ...")


@fires("ND201", "a-host-process")
def _():
    holders = PortHolders(Outcome(), (Socket(Protocol.TCP, 4, "0.0.0.0", 8080, pid=777, process="nginx"),))
    return (local(web(state=ContainerState(S.CREATED, error=IN_USE), **WANTS_8080), holders=holders), args(),
            lambda c: "host port 8080 is held by process nginx (pid 777) on 0.0.0.0:8080" in c.evidence
            and c.fix[0] == "stop process nginx (pid 777), then: docker start web")


@fires("ND201", "a-socket-whose-process-could-not-be-named")
def _():
    """The host helper without ss reads /proc/net's tables: the socket, not its process."""
    holders = PortHolders(Outcome(method="/proc/net/tcp and udp on the Docker host"),
                          (Socket(Protocol.TCP, 4, "0.0.0.0", 8080),))
    return (local(web(state=ContainerState(S.CREATED, error=IN_USE), **WANTS_8080), holders=holders), args(),
            lambda c: "host port 8080 is held by an unnamed process on 0.0.0.0:8080 (its name and pid could not be "
                      "read)" in c.evidence and not any(f.startswith("stop ") for f in c.fix))


@fires("ND201", "holder-not-visible")
def _():
    holders = PortHolders(Outcome.unavailable("the Docker daemon runs on another host"))
    return (local(web(state=ContainerState(S.CREATED, error=IN_USE), **WANTS_8080), holders=holders), args(),
            lambda c: "host port 8080 is held by something netdiag cannot see from here: the Docker daemon runs on "
                      "another host" in c.evidence)


@quiet("ND201", "running")
def _():
    return local(web(), other_container()), args()


@quiet("ND201", "exited-for-another-reason")
def _():
    return local(web(state=ContainerState(S.EXITED, exit_code=1), **WANTS_8080)), args()


NOT_PUBLISHED = dict(published=(), requested=(), exposed=("5000/tcp",))
LISTENS_5000 = (listening(WEB_ID, Socket(Protocol.TCP, 4, "0.0.0.0", 5000)),)


@fires("ND202", "client-elsewhere")
def _():
    return (b2d(web(**NOT_PUBLISHED), listeners=LISTENS_5000), args(),
            lambda c: "5000/tcp is exposed (EXPOSE or --expose)" in c.evidence
            and c.fix[0].startswith("docker run -p 5000:5000 ... training/webapp"))


@fires("ND202", "localhost-on-the-docker-host")
def _():
    return (local(web(**NOT_PUBLISHED), listeners=LISTENS_5000), args(to="127.0.0.1:8080"),
            lambda c: c.fix[0].startswith("docker run -p 8080:5000 ..."))


@fires("ND202", "publish-flag-after-the-image")
def _():
    w = web(**NOT_PUBLISHED, command=("python", "app.py", "-p", "8080:5000"))
    return (b2d(w, listeners=LISTENS_5000), args(),
            lambda c: c.fix[0] == "move `-p 8080:5000` before the image name: docker run -d -p 8080:5000 "
                                  "training/webapp ..."
            and any("came after the image name" in e for e in c.evidence))


@fires("ND202", "the-apps-own-port-flag-is-not-a-misplaced-publish")
def _():
    """busybox httpd -p 5000: the app listens on 5000, so its -p is its own option."""
    w = web(**NOT_PUBLISHED, command=("httpd", "-f", "-p", "5000", "-h", "/www"))
    return (b2d(w, listeners=LISTENS_5000), args(),
            lambda c: not any("came after the image name" in e for e in c.evidence)
            and c.fix[0].startswith("docker run -p 5000:5000 ... training/webapp"))


@quiet("ND202", "container-ip-on-the-docker-host")
def _():
    return local(web(**NOT_PUBLISHED), listeners=LISTENS_5000,
                 reach=(tcp("172.17.0.29", 5000, ReachResult.ANSWERED),)), args(), \
        lambda d: any("other machines need -p 5000:5000" in n for n in d.notes)


@quiet("ND202", "orbstack-routes-container-addresses")
def _():
    """OrbStack routes container addresses to the Mac: the unpublished port is reached there."""
    return orbstack(web(**NOT_PUBLISHED), listeners=LISTENS_5000,
                    reach=(tcp("172.17.0.29", 5000, ReachResult.ANSWERED),)), args(), \
        lambda d: d.works == ("172.17.0.29:5000",) and any("this machine reaches it at 172.17.0.29:5000" in n
                                                          for n in d.notes)


@quiet("ND202", "the-container-address-answered")
def _():
    """Evidence beats inference: whatever the placement says, the container's address answered."""
    return b2d(web(**NOT_PUBLISHED), listeners=LISTENS_5000,
               reach=(tcp("172.17.0.29", 5000, ReachResult.ANSWERED),)), args(to="172.17.0.29:5000")


@quiet("ND202", "published")
def _():
    return b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.ANSWERED),)), args()


@quiet("ND202", "internal-network")
def _():
    """internal-network says why nothing is published there."""
    return local(web(endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),), **NOT_PUBLISHED),
                 networks=(BRIDGE, INTERNAL), listeners=LISTENS_5000), args(to="127.0.0.1:5000")


@quiet("ND202", "never-started-with-a-mapping")
def _():
    """A container that asked for -p but never started: its port is requested, not forgotten."""
    return b2d(web(state=ContainerState(S.CREATED), published=(),
                   requested=(PortBinding(5000, Protocol.TCP, "", 5000),))), args(port=5000)


@fires("ND201", "held-by-dockerd-for-another-container")
def _():
    """Docker 28+ without the userland proxy: dockerd itself holds the port of the container that publishes it."""
    holders = PortHolders(Outcome(), (Socket(Protocol.TCP, 4, "0.0.0.0", 8080, pid=812, process="dockerd"),))
    return (local(web(state=ContainerState(S.CREATED, error=ALLOCATED), **WANTS_8080), other_container(),
                  holders=holders), args(),
            lambda c: [e for e in c.evidence if e.startswith("host port 8080 is held by")]
            == [f"host port 8080 is held by container other ({'a' * 12})"]
            and not any("dockerd" in f for f in c.fix))


@fires("ND201", "held-by-another-engine")
def _():
    """A Podman forwarder holds it for a container this daemon does not list: named, not to be killed."""
    holders = PortHolders(Outcome(), (Socket(Protocol.TCP, 4, "0.0.0.0", 8080, pid=913, process="rootlessport"),))
    return (local(web(state=ContainerState(S.CREATED, error=IN_USE), **WANTS_8080), holders=holders), args(),
            lambda c: "host port 8080 is held by the container engine's rootlessport (pid 913) on 0.0.0.0:8080, for "
                      "a container this daemon does not list" in c.evidence
            and not any(f.startswith("stop ") for f in c.fix))


@quiet("ND202", "routed-gateway-mode-has-no-host-port")
def _():
    from tests.builders import routed

    return routed(tcp("192.0.2.2", 80, ReachResult.TIMEOUT)), args()


@fires("ND202", "podmans-own-cli-in-the-fix")
def _():
    """The same fix for a Podman engine, as its own CLI writes it."""
    snap = b2d(web(**NOT_PUBLISHED), listeners=LISTENS_5000)
    snap = dataclasses.replace(snap, engine=dataclasses.replace(B2D_ENGINE, product=EngineProduct.PODMAN))
    return (snap, args(),
            lambda c: c.fix[0].startswith("podman run -p 5000:5000 ... training/webapp")
            and "no host mapping: `podman port web 5000` shows nothing" in c.evidence)
