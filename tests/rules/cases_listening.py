"""Examples of netdiag/rules/listening.py: nothing listening, or only on loopback."""

from __future__ import annotations

import dataclasses

from netdiag.facts import ContainerState, Endpoint, Listeners, Network, Outcome, PortBinding, Socket
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
            lambda c: "what listens: nothing at all" in c.evidence and c.fix == (
                "make the app listen on 80 (nothing listens at all: web runs `python -m SimpleHTTPServer 80`)",))


@fires("ND401", "ipv6-only-socket")
def _():
    only6 = Socket("tcp", 6, "::", 80, 9, 4242, "nginx", v6only=True)
    return (local(listeners=(listening(WEB_ID, only6),), reach=(tcp("127.0.0.1", 32768, ReachResult.CLOSED),)),
            args(port=80),
            lambda c: c.summary == "web listens on 80/tcp over IPv6 only: Docker's IPv4 connections to it are refused"
            and c.evidence[0].startswith("nginx on [::]:80 (IPv6 only): IPV6_V6ONLY is set"))


@quiet("ND401", "dual-stack-socket")
def _():
    """[::] without IPV6_V6ONLY takes IPv4 as well."""
    both = Socket("tcp", 6, "::", 80, 9, 4242, "nginx", v6only=False)
    return local(listeners=(listening(WEB_ID, both),), reach=answered_locally()), args(port=80)


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


# --- ND403: an IPv4-only app at the container's IPv6 address ------------------------------------

V6 = "fd77:1::29"
ON_V6 = web(endpoints=(Endpoint("v6net", "n-v6", "172.30.0.29", 24, ipv6=V6),))
V6_NET = Network("n-v6", "v6net", "bridge", "local", False, ("172.30.0.0/24", "fd77:1::/64"), ipv6=True,
                 bridge="br-v6")


def on_v6(*sockets: Socket, result: ReachResult = ReachResult.REFUSED):
    return (local(ON_V6, listeners=(listening(WEB_ID, *sockets),), reach=(tcp(V6, 80, result),),
                  networks=(V6_NET,)), args(port=80, to=f"[{V6}]:80"))


@fires("ND403", "ipv4-only-socket-at-the-ipv6-address")
def _():
    snap, a = on_v6(Socket("tcp", 4, "0.0.0.0", 80, 1, 4242, "httpd"))
    return (snap, a, lambda c: c.fix[1] == "or use its IPv4 address: 172.30.0.29:80"
            and "httpd (pid 4242) listens on 0.0.0.0:80: IPv4 only" in c.evidence)


@quiet("ND403", "a-dual-stack-socket")
def _():
    return on_v6(Socket("tcp", 6, "::", 80, 1, 4242, "httpd"), result=ReachResult.ANSWERED)


@quiet("ND403", "an-ipv4-attempt")
def _():
    snap, _ = on_v6(Socket("tcp", 4, "0.0.0.0", 80, 1, 4242, "httpd"))
    return snap, args(port=80, to="172.30.0.29:80")


@unknown("ND403", "sockets-not-read")
def _():
    snap, a = on_v6()
    return dataclasses.replace(snap, listeners=(Listeners(Outcome.unavailable("no permission to read /proc"),
                                                          WEB_ID),)), a
