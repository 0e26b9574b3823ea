"""A network namespace shared with another container (`--network container:X`, Compose's
`network_mode: service:X`): X down, or the container left in a namespace X no longer has; towards
the container, towards X, and out of the container."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context, hostport
from netdiag.facts import Container, Listeners
from netdiag.outbound import Outbound
from netdiag.rules import Found, rule
from netdiag.shared_namespace import left_behind, owner_ref
from netdiag.vocab import PROJECT_LABEL, SERVICE_LABEL, ContainerStatus, Direction, Fact, Hop, ReachResult


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


def _joined(joined: Container, owner: Container) -> str:
    return f"{joined.name} runs in {owner.name}'s network namespace (network mode {joined.network_mode[:22]})"


def owner_down(joined: Container, owner: Container | None) -> Found | None:
    """X, whose namespace `joined` runs in, is not running (or paused, or restarting)."""
    if owner is None or owner.state.running and not owner.state.paused and not owner.state.restarting:
        return None
    st, name = owner.state, joined.name
    how = "is paused" if st.paused else "keeps restarting" if st.restarting else \
        "was created but never started" if st.status == ContainerStatus.CREATED else f"exited (code {st.exit_code})"
    evidence = [_joined(joined, owner),
                f"{owner.name}: {st.status}" + ("" if st.paused or st.restarting else f", exit code {st.exit_code}")]
    if st.finished_at and not st.finished_at.startswith("0001") and not st.running:
        evidence.append(f"{owner.name} finished at {st.finished_at}")
    fix = [f"docker unpause {owner.name}"] if st.paused else [
        f"docker logs {owner.name}", f"docker start {owner.name}",
        f"then: docker restart {name}  (it joins {owner.name}'s namespace only when it starts)"]
    return Found(f"{owner.name}, whose network namespace {name} runs in, {how}; {name} has no network but loopback",
                 evidence, fix)


def left_in_an_old_namespace(joined: Container, owner: Container | None, seen: list[str],
                             outbound: bool = False) -> Found | None:
    """`joined` runs in a namespace X no longer has (X started again after it, or is gone);
    `seen`: what was observed in the namespaces, as evidence; `outbound`: said of an attempt out
    of it."""
    ref = owner_ref(joined)
    if not ref or not left_behind(joined, owner):
        return None
    name = joined.name
    if owner is None:
        return Found(f"{name} runs in the network namespace of a container that no longer exists ({ref[:12]}): "
                     "it has no network but loopback",
                     [f"{name}'s network mode: {joined.network_mode[:22]}: no container has that id or name now",
                      f"{name} started at {joined.state.started_at}", *seen],
                     [_recreate(joined, "<the container it should share>")])
    after = "it has no network but loopback, nothing leaves it" if outbound else \
        f"{owner.name}'s addresses and published ports lead to its new one"
    return Found(f"{name} was left in the network namespace {owner.name} had before it started again: {after}",
                 [_joined(joined, owner),
                  f"{name} started at {joined.state.started_at}; {owner.name} started again at "
                  f"{owner.state.started_at}, after it: that start gave {owner.name} a new namespace", *seen],
                 [f"docker restart {name}  (it joins {owner.name}'s current namespace)"])


# --- towards a container in another's namespace ------------------------------------------------

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
    found = owner_down(ctx.joined, ctx.namespace_owner)
    if found is not None:
        yield found


@rule("ND106", "stale-network-namespace", Hop.NETWORK, per_port=False)
def target_left_in_an_old_namespace(ctx: Context) -> Iterator[Found]:
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
    host_ports = {b.host_port for b in ctx.published()}
    if any(r.outcome.ok and r.result == ReachResult.ANSWERED and (r.port in host_ports or r.address in ctx.ipv4())
           for r in ctx.snapshot.reach):
        return
    joined, owner = ctx.joined, ctx.namespace_owner
    mine = ctx.listeners(joined)
    if owner is None:
        seen = [f"{joined.name}'s sockets: {_sockets_on(mine, None)}"]
    else:
        theirs = ctx.listeners(owner)
        seen = [f"listening in {joined.name}'s namespace: {_sockets_on(mine, ctx.port)}; in {owner.name}'s: "
                f"{_sockets_on(theirs, ctx.port)}"] if mine.outcome.ok or theirs.outcome.ok else []
    found = left_in_an_old_namespace(joined, owner, seen)
    if found is not None:
        yield found


@rule("ND107", "stale-network-namespace", Hop.LISTENER, needs=(Fact.LISTENERS,))
def sidecar_left_in_an_old_namespace(ctx: Context) -> Iterator[Found]:
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
    name = ctx.target.name
    for j, found in ctx.left_behind_joiners(ctx.port):
        yield Found(f"{j.name}, which runs in {name}'s network namespace, was left in the one {name} had before it "
                    f"started again: nothing listens on {ctx.port}/{ctx.protocol} in {name}'s",
                    [_joined(j, ctx.target),
                     f"{j.name} started at {j.state.started_at}; {name} started again at "
                     f"{ctx.target.state.started_at}, after it",
                     f"listening in {j.name}'s namespace: {_sockets_on(found, ctx.port)}; in {name}'s: nothing on "
                     f"{ctx.port}/{ctx.protocol}"],
                    [f"docker restart {j.name}  (it joins {name}'s current namespace)"])


# --- out of a container in another's namespace --------------------------------------------------

@rule("ND714", "container-not-running", Hop.SOURCE_CONTAINER, per_port=False, direction=Direction.OUTBOUND)
def source_namespace_owner_not_running(ctx: Outbound) -> Iterator[Found]:
    """The container whose network namespace the source runs in is not running: nothing leaves.

    Detects: the source container was started with `--network container:X`, and X has exited,
    was never started, or is paused or restarting.
    Why it breaks: the source has no network of its own; without X it has only its loopback.
    Evidence: the source's network mode, X's state and exit code.
    Fix: `docker start X`, then `docker restart SOURCE`.
    Exceptions: a running, unpaused X.
    """
    found = owner_down(ctx.joined, ctx.namespace_owner)
    if found is not None:
        yield found


@rule("ND715", "stale-network-namespace", Hop.SOURCE_CONTAINER, per_port=False, direction=Direction.OUTBOUND)
def source_left_in_an_old_namespace(ctx: Outbound) -> Iterator[Found]:
    """The source container runs in a network namespace its owner no longer has: nothing leaves.

    Detects: the source was started with `--network container:X`, and X started again after it,
    or no container has X's id any more.
    Why it breaks: the source stayed in X's old namespace, which keeps nothing but loopback: no
    route out, and a resolver it cannot reach (what would otherwise read as a DNS failure).
    Evidence: the source's network mode, when each started, the routes seen in its namespace.
    Fix: `docker restart SOURCE` (it joins X's current namespace); when X is gone, recreate it.
    Exceptions: a source started after X; an attempt that was answered.
    """
    if ctx.answered():
        return
    view = ctx.view
    seen = [f"routes in {ctx.source.name}'s namespace: " + (", ".join(f"{r.destination} dev {r.device}"
                                                                      for r in view.routes) or "none")
            ] if view is not None and view.outcome.ok else []
    found = left_in_an_old_namespace(ctx.joined, ctx.namespace_owner, seen, outbound=True)
    if found is not None:
        yield found
