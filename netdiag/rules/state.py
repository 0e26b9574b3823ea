"""The container itself: not running, no network, the host's network, internal networks only."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context
from netdiag.facts import Container, PortBinding
from netdiag.rules import Found, rule
from netdiag.vocab import ContainerStatus, Direction, Fact, Hop, NetMode

PORT_CONFLICT_ERRORS = ("port is already allocated", "address already in use")
ADDRESS_MISSING = "cannot assign requested address"


def failed_on_port(container: Container) -> bool:
    """The engine could not bind one of the container's host ports when it tried to start it."""
    return any(e in container.state.error for e in PORT_CONFLICT_ERRORS)


def missing_host_addresses(container: Container) -> list[PortBinding]:
    """The -p bindings the engine could not bind because the Docker host has no such address
    (EADDRNOTAVAIL: "cannot assign requested address", the address named in the error)."""
    if ADDRESS_MISSING not in container.state.error:
        return []
    return [b for b in container.requested if b.host_ip and b.host_ip not in ("0.0.0.0", "::")
            and b.host_ip in container.state.error]


@rule("ND101", "container-not-running", Hop.CONTAINER, per_port=False)
def container_not_running(ctx: Context) -> Iterator[Found]:
    """The container is not running, so nothing in it can answer.

    Detects: the container's state is exited (with its exit code, or killed for lack of memory),
    created but never started, restarting, paused or dead.
    Why it breaks: a stopped container has no processes and no sockets; a paused one has sockets
    but its processes are frozen, so connections hang; a restarting one comes and goes.
    Evidence: the state, exit code, OOMKilled flag, the engine's error and when it finished.
    Fix: read why it stopped (`docker logs NAME`), then `docker start NAME`; `docker unpause NAME`
    for a paused one; more memory (`--memory`) when the kernel killed it. One never started
    because -p names an address the Docker host does not have (an address DHCP or a VPN took
    away): run it again publishing on an address the host has, or on all of them.
    Exceptions: a container created but never started because its host port was taken is
    reported as host-port-conflict instead, which says who holds the port.
    """
    st = ctx.target.state
    name = ctx.target.name
    if st.running and not st.paused and not st.restarting:
        return
    if st.status == ContainerStatus.CREATED and failed_on_port(ctx.target):
        return
    evidence = [f"state: {st.status}"]
    fix = [f"docker logs {name}"]
    if st.paused:
        summary = f"{name} is paused: its processes are frozen and cannot answer"
        fix = [f"docker unpause {name}"]
    elif st.restarting:
        summary = f"{name} keeps restarting ({st.restart_count} restarts): it is down most of the time"
        evidence.append(f"restart count: {st.restart_count}, last exit code {st.exit_code}")
        fix.append(f"fix what makes it exit, then: docker restart {name}")
    elif st.status == ContainerStatus.CREATED and missing_host_addresses(ctx.target):
        missing = missing_host_addresses(ctx.target)
        summary = (f"{name} was created but never started: the Docker host has no address "
                   f"{', '.join(dict.fromkeys(b.host_ip for b in missing))} to publish on")
        evidence += [f"requested -p {b.host_ip}:{b.host_port}:{b.container_port}" for b in missing]
        evidence.append(f"engine error: {st.error}")
        ours = ctx.host_addresses()
        if ours:
            evidence.append(f"the Docker host's addresses: {', '.join(ours)}")
        b = missing[0]
        fix = [f"docker rm {name}, then run it again with -p {b.host_port}:{b.container_port} (every address of the "
               "host)" + (f" or -p {ours[0]}:{b.host_port}:{b.container_port}" if ours else "")]
    elif st.status == ContainerStatus.CREATED:
        summary = f"{name} was created but never started"
        if st.error:
            evidence.append(f"engine error: {st.error}")
        fix = [f"docker start {name}"]
    elif st.dead or st.status == ContainerStatus.DEAD:
        summary = f"{name} is dead: the engine could not stop or remove it cleanly"
        fix = [f"docker rm -f {name}, then run it again"]
    else:
        summary = f"{name} is not running: it exited with code {st.exit_code}"
        evidence.append(f"exit code: {st.exit_code}")
        if st.oom_killed:
            summary = f"{name} is not running: the kernel killed it for lack of memory (exit code {st.exit_code})"
            evidence.append("OOMKilled: true")
            fix.append(f"give it more memory (docker run --memory ...), then: docker start {name}")
        else:
            fix.append(f"docker start {name}")
        if st.error:
            evidence.append(f"engine error: {st.error}")
        if st.finished_at and not st.finished_at.startswith("0001"):
            evidence.append(f"finished at {st.finished_at}")
    yield Found(summary, evidence, fix)


@rule("ND102", "no-network", Hop.NETWORK, per_port=False, only_if=lambda c: c.mode == NetMode.NONE)
def no_network(ctx: Context) -> Iterator[Found]:
    """The container has no network: it was started with `--network none`.

    Detects: network mode `none`: the container has only a loopback interface.
    Why it breaks: with no interface but lo, no packet can enter or leave; -p is ignored.
    Evidence: the network mode and the container's (empty) list of networks.
    Fix: `docker network connect bridge NAME` (or a user-defined network), or run it again without
    `--network none`, with `-p HOST:CONTAINER`.
    Exceptions: none.
    """
    name = ctx.network_holder.name
    evidence = ctx.joined_evidence() + ["network mode: none (only a loopback interface)"]
    if ctx.target.requested:
        evidence.append("requested -p " + ", ".join(f"{b.host_port}:{b.container_port}" for b in ctx.target.requested)
                        + " is ignored without a network")
    yield Found(f"{name} has no network (--network none): nothing can reach it",
                  evidence, [f"docker network connect bridge {name}",
                             f"or run it again without --network none, with -p {ctx.port or 8080}:{ctx.port or 80}"])


@rule("ND103", "host-network-mode", Hop.HOST_BINDING, needs=(Fact.LISTENERS,),
      only_if=lambda c: c.mode == NetMode.HOST)
def host_network_mode(ctx: Context) -> Iterator[Found]:
    """The container uses the host's network, so -p is ignored: the app's own port is the one to use.

    Detects: network mode `host` while a port mapping was asked for, or the attempt goes to a port
    the app does not listen on.
    Why it breaks: with `--network host` the container shares the host's interfaces; Docker
    publishes nothing, so `-p 8080:80` maps nothing and port 8080 stays closed.
    Evidence: the network mode, the -p that was ignored, the ports the app listens on.
    Fix: reach the app on the host's address at the port it listens on (`<host>:80`), or run
    the container on a bridge network with `-p`.
    Exceptions: an attempt to the port the app listens on is not a fault.
    """
    listening = ctx.app_ports()
    ignored = ctx.requested()
    tried = ctx.attempt.port
    if tried is not None:
        if tried in listening:
            return
    elif not any(b.host_port != b.container_port for b in ignored):
        return
    name = ctx.target.name
    evidence = ["network mode: host (the container shares the Docker host's network)"]
    for b in ignored:
        evidence.append(f"-p {b.host_port}:{b.container_port} was asked for and is ignored in host mode")
    app = _app_ports_in_host_mode(ctx, ignored, listening)
    evidence.append("the app listens on " + (", ".join(str(p) for p in app) or "no port it asked for"))
    fix = [f"use {ctx.host_address}:{p}" for p in app[:3]] or [
        f"make the app listen on a port of the host, or run {name} on a bridge network with -p"]
    fix.append(f"or run it on a bridge network: docker run -p {tried or (ignored[0].host_port if ignored else 8080)}:"
               f"{app[0] if app else ctx.port} ...")
    yield Found(f"{name} uses the host's network: -p is ignored, the app's own port is the one to use",
                  evidence, fix)


def _app_ports_in_host_mode(ctx: Context, ignored: list[PortBinding], listening: list[int]) -> list[int]:
    """In host mode every socket of the host is visible: the app's are those it asked to publish,
    exposes, or its main process holds."""
    own = [s.port for s in ctx.listeners().sockets if s.pid and s.pid == ctx.target.state.pid]
    ports = [b.container_port for b in ignored] + ctx.exposed_ports() + own
    return [p for p in dict.fromkeys(ports) if p in listening]


@rule("ND104", "internal-network", Hop.NETWORK, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_HOST, holds_when_answered=True)
def internal_network(ctx: Context) -> Iterator[Found]:
    """The container's only networks are internal: nothing is published, nothing leaves.

    Detects: every network the container is attached to was created with `--internal`.
    Why it breaks: Docker gives internal networks no route out and no port publishing: -p maps
    nothing and the host cannot reach the container through a published port.
    Evidence: each network with its internal flag and subnet.
    Fix: attach a non-internal network as well: `docker network connect bridge NAME` (then
    publish with -p), or recreate the network without `--internal`.
    Exceptions: containers that also have a non-internal network; a container that asked for no
    -p, reached by the Docker host's own attempt to its address, which an internal network lets
    through (netdiag notes that other machines cannot follow it). Asked-for ports that were never
    published stay a cause however the host itself reaches the container.
    """
    nets = ctx.networks_of(ctx.target)
    if not nets or not all(n.internal for n in nets):
        return
    if not ctx.target.requested and ctx.reaches_container_ips and ctx.port and any(
            ctx.answered(ip, ctx.port) for ip in ctx.ipv4()):
        return  # nothing was asked to be published, and this machine's own way in works
    name = ctx.network_holder.name
    evidence = ctx.joined_evidence() + [f"network {n.name} ({', '.join(n.subnets) or 'no subnet'}): internal"
                                        for n in nets]
    if ctx.target.requested:
        evidence.append("requested -p " + ", ".join(f"{b.host_port}:{b.container_port}" for b in ctx.target.requested)
                        + " is not published on an internal network")
    yield Found(f"{name} is only on internal networks ({', '.join(n.name for n in nets)}): "
                  "nothing is published", evidence,
                  [f"docker network connect bridge {name}, and publish the port with -p",
                   f"or recreate {nets[0].name} without --internal"])
