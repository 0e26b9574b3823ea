"""Examples of netdiag/rules/listening.py: nothing listening, or only on loopback."""

from __future__ import annotations

from netdiag.facts import ContainerState, Listeners, Outcome, PortBinding, Socket
from netdiag.vocab import ContainerStatus as S
from netdiag.vocab import Protocol, ReachResult
from tests.builders import WEB_ID, answered_locally, listening, local, tcp, web
from tests.rules.examples import args, fires, quiet, unknown

BOTH = (PortBinding(80, Protocol.TCP, "0.0.0.0", 80), PortBinding(5000, Protocol.TCP, "0.0.0.0", 5000))


@fires("ND401", "app-on-another-port")
def _():
    """The seed's telnet: 5000 is mapped, the app listens on 80."""
    return (local(web(published=BOTH), reach=(tcp("127.0.0.1", 5000, ReachResult.CLOSED),)), args(port=5000),
            lambda c: c.summary == "nothing in web listens on 5000/tcp; the app listens on 80"
            and c.fix[:2] == ("use 127.0.0.1:80, which is mapped to 80, where the app listens",
                              "map the host port to the app's port: docker run -p 5000:80 ...")
            and "what listens: python on 0.0.0.0:80" in c.evidence)


@fires("ND401", "nothing-at-all")
def _():
    return (local(listeners=(Listeners(Outcome(method="sock_diag"), WEB_ID, ()),)), args(port=80),
            lambda c: "what listens: nothing at all" in c.evidence and c.fix == ("or make the app listen on 80",))


@quiet("ND401", "listening")
def _():
    return local(reach=answered_locally()), args(port=80)


@quiet("ND401", "not-running")
def _():
    """container-not-running explains a stopped container; its sockets are not a fault of their own."""
    return local(web(state=ContainerState(S.EXITED, exit_code=0)),
                 listeners=(Listeners(Outcome(method="sock_diag"), WEB_ID, ()),)), args(port=80)


@unknown("ND401", "sockets-not-read")
def _():
    return local(listeners=(Listeners(Outcome.unavailable("no permission to read /proc"), WEB_ID),),
                 reach=(tcp("127.0.0.1", 32768, ReachResult.CLOSED),)), args()


LOOPBACK_80 = (listening(WEB_ID, Socket(Protocol.TCP, 4, "127.0.0.1", 80, 1, 4242, "httpd")),)


@fires("ND402", "ipv4-loopback")
def _():
    return (local(listeners=LOOPBACK_80), args(),
            lambda c: "httpd (pid 4242) listens on 127.0.0.1:80" in c.evidence
            and c.fix[0].startswith("make the app bind 0.0.0.0:80 instead of 127.0.0.1"))


@fires("ND402", "ipv6-loopback")
def _():
    return (local(listeners=(listening(WEB_ID, Socket(Protocol.TCP, 6, "::1", 80)),)), args(),
            lambda c: "a process listens on [::1]:80" in c.evidence)


@quiet("ND402", "wildcard")
def _():
    return local(reach=answered_locally()), args()


@quiet("ND402", "host-network-mode")
def _():
    """In the host's namespace loopback is the host's: the host itself reaches it."""
    return local(web(network_mode="host", endpoints=(), published=()), listeners=LOOPBACK_80,
                 reach=(tcp("127.0.0.1", 80, ReachResult.ANSWERED),)), args(to="127.0.0.1:80")


@quiet("ND402", "loopback-and-wildcard")
def _():
    both = (listening(WEB_ID, Socket(Protocol.TCP, 4, "127.0.0.1", 80), Socket(Protocol.TCP, 6, "::", 80)),)
    return local(listeners=both, reach=answered_locally()), args()


@unknown("ND402", "sockets-not-read")
def _():
    return local(listeners=(Listeners(Outcome.failed("sock_diag: timeout"), WEB_ID),)), args()
