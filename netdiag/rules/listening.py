"""Inside the container: nothing listens on the port traffic is mapped to, or only on loopback."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context, hostport, socket_label
from netdiag.rules import Found, rule
from netdiag.vocab import Fact, Hop, NetMode


def _listening_summary(ctx: Context) -> str:
    socks = [s for s in ctx.listeners().sockets if s.protocol == ctx.protocol and not s.note]
    if not socks:
        return "nothing at all"
    return ", ".join(socket_label(s) for s in socks[:6])


@rule("ND401", "nothing-listening", Hop.LISTENER, needs=(Fact.LISTENERS,))
def nothing_listening(ctx: Context) -> Iterator[Found]:
    """Nothing in the container listens on the port the traffic is mapped to.

    Detects: the container runs, its sockets were read, and no socket listens on the container
    port in question: the app listens on another port, or has not started listening (yet).
    Why it breaks: the packet reaches the container's namespace and the kernel answers with a
    reset; through docker-proxy the connection is accepted, then closed at once.
    Evidence: the port, how the sockets were read, and what does listen (process and address).
    Fix: map the host port to the port the app listens on (`-p 5000:80`), use the mapping that
    already leads to it, or make the app listen on the port.
    An app listening on [::] with IPV6_V6ONLY takes no IPv4, which is how Docker reaches it:
    that is said as such (sock_diag reads the flag; /proc/net does not, so it is not claimed there).
    Exceptions: a container whose sockets could not be read is `unknown` here, never passed; a
    sidecar that serves the port from the container's old network namespace is
    stale-network-namespace (ND107).
    """
    if ctx.port is None or not ctx.running or ctx.sockets_on() or ctx.left_behind_joiners(ctx.port):
        return
    name = ctx.target.name
    ls = ctx.listeners()
    v6only = [s for s in ls.sockets if s.port == ctx.port and s.protocol == ctx.protocol and s.v6only]
    if v6only:
        s = v6only[0]
        yield Found(f"{name} listens on {ctx.port}/{ctx.protocol} over IPv6 only: Docker's IPv4 connections to it "
                    "are refused",
                    [f"{socket_label(s)}: IPV6_V6ONLY is set (read through {ls.outcome.method})",
                     f"no socket takes IPv4 on {ctx.port}: docker-proxy and Docker's DNAT reach the container over "
                     "IPv4"],
                    [f"make the app listen on 0.0.0.0:{ctx.port} too, or on [::]:{ctx.port} without IPV6_V6ONLY "
                     "(nginx: `listen 80;` beside `listen [::]:80 ipv6only=on;`; the socket option IPV6_V6ONLY=0)"])
        return
    evidence = [f"nothing in {name} listens on {ctx.port}/{ctx.protocol} (read through {ls.outcome.method})",
                f"what listens: {_listening_summary(ctx)}"]
    fix = []
    others = ctx.app_ports()
    published_here = ctx.published()
    for b in published_here:
        evidence.append(f"host port {b.host_port} is mapped to container port {ctx.port}")
    for p in others:
        existing = ctx.preferred_binding(p)
        if existing is not None:
            fix.append(f"use {hostport(ctx.public_address(existing), existing.host_port)}, which is mapped to "
                       f"{p}, where the app listens")
        host_port = published_here[0].host_port if published_here else (ctx.attempt.port or ctx.port)
        fix.append(f"map the host port to the app's port: docker run -p {host_port}:{p} ...")
    command = " ".join(ctx.target.command)
    fix.append(("or " if fix else "") + f"make the app listen on {ctx.port}"
               + (f" (nothing listens at all: {name} runs `{command}`)" if not others and command else ""))
    ctx_r = ctx.reach(ctx.attempt.address, ctx.attempt.port) if ctx.attempt.address else None
    if ctx_r is not None and ctx_r.outcome.ok:
        evidence.append(f"connect to {hostport(ctx.attempt.address, ctx.attempt.port)}: {ctx_r.result}")
    yield Found(f"nothing in {name} listens on {ctx.port}/{ctx.protocol}"
                  + (f"; the app listens on {', '.join(str(p) for p in others)}" if others else ""), evidence, fix)


@rule("ND402", "listening-on-loopback", Hop.LISTENER, needs=(Fact.LISTENERS,),
      only_if=lambda c: c.mode != NetMode.HOST)
def listening_on_loopback(ctx: Context) -> Iterator[Found]:
    """The app listens only on 127.0.0.1 or ::1 inside its own namespace.

    Detects: every socket on the container port is bound to a loopback address.
    Why it breaks: the container's loopback is its own; traffic from the bridge arrives on eth0
    and finds no listener, so published ports and other containers get a reset.
    Evidence: the socket's address and process.
    Fix: make the app bind 0.0.0.0 (or ::): e.g. `--host 0.0.0.0`, `--bind 0.0.0.0:80`,
    `HOST=0.0.0.0`, busybox httpd `-p 0.0.0.0:80`.
    Exceptions: a container in the host's network namespace; anything reached from inside the
    same container.
    """
    if ctx.port is None or not ctx.running:
        return
    socks = ctx.sockets_on()
    if not socks or not all(s.loopback_only for s in socks):
        return
    s = socks[0]
    yield Found(f"{s.process or 'the app'} in {ctx.target.name} listens on "
                  f"{hostport(s.address, s.port)} only: reachable from inside the container alone",
                  [f"{x.process or 'a process'}{f' (pid {x.pid})' if x.pid else ''} listens on "
                   f"{hostport(x.address, x.port)}" for x in socks],
                  [f"make the app bind 0.0.0.0:{ctx.port} instead of {s.address} (e.g. --host 0.0.0.0, "
                   f"--bind 0.0.0.0:{ctx.port}), then restart {ctx.target.name}"])


@rule("ND403", "nothing-listening", Hop.LISTENER, needs=(Fact.LISTENERS,))
def listening_on_ipv4_only(ctx: Context) -> Iterator[Found]:
    """The app listens on IPv4 only, and the attempt goes to the container's IPv6 address.

    Detects: the attempt is made to the container's own IPv6 address (a network created with
    --ipv6), every socket on the container port is an IPv4 one (0.0.0.0, or an IPv4 address),
    and the attempt got no answer.
    Why it breaks: a socket bound to 0.0.0.0 takes IPv4 connections only; an IPv6 connection to
    the same port finds no listener and gets a reset, while the container's IPv4 address works.
    Evidence: the IPv6 address tried, the app's IPv4-only sockets, what the attempt got.
    Fix: make the app listen on [::] as well (one dual-stack socket: busybox httpd `-p [::]:80`,
    `--host ::`, `listen [::]:80;` in nginx), or use the container's IPv4 address.
    Exceptions: an app with an IPv6 socket on the port (on [::] it takes IPv4 too, unless
    IPV6_V6ONLY); an attempt to an IPv4 address or a published port; an attempt that answered.
    """
    address, port = ctx.attempt.address, ctx.attempt.port
    if ctx.port is None or not ctx.running or ":" not in address or port != ctx.port:
        return
    if not any(e.ipv6 == address for e in ctx.target.endpoints) or ctx.answered(address, port):
        return
    socks = ctx.sockets_on()
    if not socks or any(s.family == 6 for s in socks):
        return
    r = ctx.reach(address, port)
    ipv4 = next((e.ipv4 for e in ctx.target.endpoints if e.ipv6 == address and e.ipv4), "")
    evidence = [f"{x.process or 'a process'}{f' (pid {x.pid})' if x.pid else ''} listens on "
                f"{hostport(x.address, x.port)}: IPv4 only" for x in socks]
    if r is not None and r.outcome.ok:
        evidence.append(f"connect to {hostport(address, port)}: {r.result}")
    yield Found(f"{socks[0].process or 'the app'} in {ctx.target.name} listens on IPv4 only: the attempt to its IPv6 "
                f"address {address} finds nothing on {port}/{ctx.protocol}", evidence,
                [f"make the app listen on [::]:{port} too (one dual-stack socket: e.g. httpd -p [::]:{port}, "
                 f"--host ::), then restart {ctx.target.name}"]
                + ([f"or use its IPv4 address: {hostport(ipv4, port)}"] if ipv4 else []))
