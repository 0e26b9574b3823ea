"""The container itself: not running, no network, the host's network, internal networks only, a
network namespace shared with another container that is down or was left behind."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context, hostport
from netdiag.facts import Container, Listeners, PortBinding
from netdiag.rules import Found, rule
from netdiag.shared_namespace import left_behind, owner_ref
from netdiag.vocab import (
    PROJECT_LABEL,
    SERVICE_LABEL,
    ContainerStatus,
    Direction,
    Fact,
    Hop,
    NetMode,
    ReachResult,
)

PORT_CONFLICT_ERRORS = ("port is already allocated", "address already in use")


def failed_on_port(container: Container) -> bool:
    """The engine could not bind one of the container's host ports when it tried to start it."""
    return any(e in container.state.error for e in PORT_CONFLICT_ERRORS)


@rule("ND101", "container-not-running", Hop.CONTAINER, per_port=False)
def container_not_running(ctx: Context) -> Iterator[Found]:
    """The container is not running, so nothing in it can answer.

    Detects: the container's state is exited (with its exit code, or killed for lack of memory),
    created but never started, restarting, paused or dead.
    Why it breaks: a stopped container has no processes and no sockets; a paused one has sockets
    but its processes are frozen, so connections hang; a restarting one comes and goes.
    Evidence: the state, exit code, OOMKilled flag, the engine's error and when it finished.
    Fix: read why it stopped (`docker logs NAME`), then `docker start NAME`; `docker unpause NAME`
    for a paused one; more memory (`--memory`) when the kernel killed it.
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


# --- a network namespace shared with another container (--network container:X) ------------------

def _recreate(c: Container, owner: str) -> str:
    """How to run `c` again in `owner`'s namespace: Compose's own command for its containers."""
    project, service = c.labels.get(PROJECT_LABEL), c.labels.get(SERVICE_LABEL)
    if project and service:
        return f"docker compose -p {project} up -d --force-recreate {service}"
    return f"docker rm -f {c.name}, then run it again with --network container:{owner}"


def _sockets_on(found: Listeners, port: int | None) -> str:
    """What listens on `port` (every port when None) as one phrase."""
    if not found.outcome.ok:
        return f"not read ({found.outcome.reason})"
    mine = [s for s in found.sockets if (port is None or s.port == port) and not s.note]
    return ", ".join(f"{s.process or 'a process'} on {hostport(s.address, s.port)}" for s in mine) or "nothing"


@rule("ND105", "container-not-running", Hop.NETWORK, per_port=False)
def namespace_owner_not_running(ctx: Context) -> Iterator[Found]:
    """The container whose network namespace the target runs in is not running.

    Detects: the target was started with `--network container:X` (Compose's `network_mode:
    service:X`), and X has exited, was never started, or is paused or restarting.
    Why it breaks: the target has no network of its own: its addresses and published ports are
    X's, and a stopped X has none; the target is left with its loopback.
    Evidence: the target's network mode, X's state and exit code.
    Fix: `docker start X`, then `docker restart TARGET`: the engine puts a container in X's
    namespace only when it starts, and X's start gives it a new one.
    Exceptions: a running, unpaused X (stale-network-namespace covers one that restarted).
    """
    owner = ctx.namespace_owner
    if owner is None or owner.state.running and not owner.state.paused and not owner.state.restarting:
        return
    st, name = owner.state, ctx.target.name
    how = "is paused" if st.paused else "keeps restarting" if st.restarting else \
        "was created but never started" if st.status == ContainerStatus.CREATED else \
        f"exited (code {st.exit_code})"
    evidence = ctx.joined_evidence() + [
        f"{owner.name}: {st.status}" + ("" if st.paused or st.restarting else f", exit code {st.exit_code}")]
    if st.finished_at and not st.finished_at.startswith("0001") and not st.running:
        evidence.append(f"{owner.name} finished at {st.finished_at}")
    fix = [f"docker unpause {owner.name}"] if st.paused else [
        f"docker logs {owner.name}", f"docker start {owner.name}",
        f"then: docker restart {name}  (it joins {owner.name}'s namespace only when it starts)"]
    yield Found(f"{owner.name}, whose network namespace {name} runs in, {how}; {name} has no network but loopback",
                evidence, fix)


@rule("ND106", "stale-network-namespace", Hop.NETWORK, per_port=False)
def left_in_an_old_namespace(ctx: Context) -> Iterator[Found]:
    """The container runs in a network namespace its owner no longer has.

    Detects: the target was started with `--network container:X` (Compose's `network_mode:
    service:X`), and X started again after it (a restart, a restart policy, an update), or no
    container has X's id any more (removed, or recreated by Compose under a new id).
    Why it breaks: the engine puts a container in X's namespace once, when it starts. A
    restarted X gets a new namespace, with its addresses and published ports; the target stays
    in the old one, which keeps nothing but loopback. The engine restarts neither for the other.
    Evidence: the target's network mode, when each started (or that X is gone), and what
    listens in each namespace when their sockets were read.
    Fix: `docker restart TARGET` (it joins X's current namespace); when X is gone, recreate the
    target (`docker compose up -d --force-recreate SERVICE`, or `docker run --network
    container:X` again).
    Exceptions: a target started after X (it is in X's current namespace); a stopped target; an
    attempt answered at X's published ports or addresses (whatever answered, the way there works).
    """
    joined = ctx.joined
    ref = owner_ref(joined)
    owner = ctx.namespace_owner
    if not ref or not left_behind(joined, owner):
        return
    host_ports = {b.host_port for b in ctx.published()}
    if any(r.outcome.ok and r.result == ReachResult.ANSWERED and (r.port in host_ports or r.address in ctx.ipv4())
           for r in ctx.snapshot.reach):
        return
    name = joined.name
    if owner is None:
        yield Found(f"{name} runs in the network namespace of a container that no longer exists ({ref[:12]}): "
                    "it has no network but loopback",
                    [f"{name}'s network mode: {joined.network_mode[:22]}: no container has that id or name now",
                     f"{name} started at {joined.state.started_at}",
                     f"{name}'s sockets: {_sockets_on(ctx.listeners(joined), None)}"],
                    [_recreate(joined, "<the container it should share>")])
        return
    evidence = [f"{name}'s network mode: {joined.network_mode[:22]} ({owner.name})",
                f"{name} started at {joined.state.started_at}; {owner.name} started again at "
                f"{owner.state.started_at}, after it: that start gave {owner.name} a new namespace"]
    mine, theirs = ctx.listeners(joined), ctx.listeners(owner)
    if mine.outcome.ok or theirs.outcome.ok:
        evidence.append(f"listening in {name}'s namespace: {_sockets_on(mine, ctx.port)}; in {owner.name}'s: "
                        f"{_sockets_on(theirs, ctx.port)}")
    yield Found(f"{name} was left in the network namespace {owner.name} had before it started again: "
                f"{owner.name}'s addresses and published ports lead to its new one",
                evidence, [f"docker restart {name}  (it joins {owner.name}'s current namespace)"])


@rule("ND107", "stale-network-namespace", Hop.LISTENER, needs=(Fact.LISTENERS,))
def joiner_left_behind(ctx: Context) -> Iterator[Found]:
    """A container that runs in the target's network namespace was left in an old one.

    Detects: nothing in the target's namespace listens on the port, and a container started with
    `--network container:TARGET` (a sidecar that serves for it, Compose's `network_mode:
    service:TARGET`) started before the target's last start, and listens on that port in the
    namespace it was left in (or its sockets were not read).
    Why it breaks: the target's restart gave it a new namespace, where its published ports now
    lead; the sidecar serving the port stayed in the old one. The engine does not restart it.
    Evidence: when each started, and what listens in each namespace.
    Fix: `docker restart SIDECAR` (it joins the target's current namespace).
    Exceptions: a port something listens on in the target's namespace; a sidecar read not to
    listen on the port.
    """
    if ctx.port is None or ctx.sockets_on():
        return
    for j, found in ctx.left_behind_joiners(ctx.port):
        name = ctx.target.name
        yield Found(f"{j.name}, which runs in {name}'s network namespace, was left in the one {name} had before it "
                    f"started again: nothing listens on {ctx.port}/{ctx.protocol} in {name}'s",
                    [f"{j.name}'s network mode: {j.network_mode[:22]} ({name})",
                     f"{j.name} started at {j.state.started_at}; {name} started again at "
                     f"{ctx.target.state.started_at}, after it",
                     f"listening in {j.name}'s namespace: {_sockets_on(found, ctx.port)}; in {name}'s: nothing on "
                     f"{ctx.port}/{ctx.protocol}"],
                    [f"docker restart {j.name}  (it joins {name}'s current namespace)"])
