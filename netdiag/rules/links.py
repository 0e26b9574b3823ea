"""Container to container: no shared network, or a name on the default bridge."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context
from netdiag.facts import Network
from netdiag.rules import Found, rule
from netdiag.vocab import AddressKind, Direction, Fact, Hop, NetMode


def shared_networks(ctx: Context) -> list[Network]:
    assert ctx.source_container is not None
    mine = {n.id for n in ctx.networks_of(ctx.source_container)}
    return [n for n in ctx.networks_of(ctx.target) if n.id in mine]


@rule("ND601", "different-networks", Hop.SHARED_NETWORK, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER)
def different_networks(ctx: Context) -> Iterator[Found]:
    """The two containers share no network, so neither can reach the other.

    Detects: the source container (--from container:NAME) and the target are attached to
    disjoint sets of networks.
    Why it breaks: each Docker network is an isolated bridge; Docker's isolation rules drop
    traffic between them, and names resolve only within a shared user-defined network.
    Evidence: the networks of each container.
    Fix: `docker network connect <target's network> <source>`, then use the target's name.
    Exceptions: a source in the host's network namespace reaches container IPs like the host does.
    """
    src, dst = ctx.source_container, ctx.target
    assert src is not None
    if NetMode.HOST in (src.mode, dst.mode) or shared_networks(ctx):
        return
    theirs = [n.name for n in ctx.networks_of(dst)]
    evidence = [f"{src.name} is on: {', '.join(n.name for n in ctx.networks_of(src)) or 'no network'}",
                f"{dst.name} is on: {', '.join(theirs) or 'no network'}"]
    fix = [f"docker network connect {theirs[0]} {src.name}, then use {dst.name}:{ctx.port or '<port>'}"] if theirs \
        else [f"connect both to one network: docker network create app; docker network connect app {src.name}; "
              f"docker network connect app {dst.name}"]
    yield Found(f"{src.name} and {dst.name} share no network", evidence, fix)


@rule("ND602", "no-dns-on-default-bridge", Hop.NAME_RESOLUTION, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER)
def no_dns_on_default_bridge(ctx: Context) -> Iterator[Found]:
    """A container name is used on the default bridge, where Docker provides no name resolution.

    Detects: container to container by name, when the only network they share is the default
    `bridge`.
    Why it breaks: Docker's embedded DNS (127.0.0.11) serves user-defined networks only; on the
    default bridge the name goes to the host's resolver, which does not know it.
    Evidence: the name used and the networks the two containers share.
    Fix: put both on a user-defined network (`docker network create app`, `docker network connect
    app` for each) and use the name; or use the target's IP for now.
    Exceptions: legacy `--link` aliases; a shared user-defined network.
    """
    if ctx.attempt.kind != AddressKind.CONTAINER_NAME:
        return
    shared = shared_networks(ctx)
    if not shared or any(n.name != "bridge" for n in shared):
        return
    src, dst = ctx.source_container, ctx.target
    assert src is not None
    ip = next((ep.ipv4 for ep in dst.endpoints if ep.network == "bridge"), "")
    port = ctx.attempt.port or ctx.port
    yield Found(f"{ctx.attempt.name} cannot resolve from {src.name}: the default bridge has no "
                  "name resolution", [f"{src.name} and {dst.name} share only the default bridge",
                                      "Docker's embedded DNS serves user-defined networks only"],
                  [f"docker network create app; docker network connect app {src.name}; docker network connect app "
                   f"{dst.name}; then use {dst.name}:{port}", f"or use the address for now: {ip}:{port}"])
