"""Containers that run in another container's network namespace (`--network container:X`,
Compose's `network_mode: service:X`): whose namespace it is, what network that namespace has,
and whether the joiner was left in an old one.

The engine puts the joiner in X's namespace once, when the joiner starts. When X restarts it gets
a new namespace (its addresses, and its published ports forwarded there), and the joiner stays in
the old one, which keeps nothing but its loopback; when X is removed, the same. The engine
restarts neither for the other. Pure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from netdiag.facts import Container
from netdiag.vocab import NetMode

CONTAINER_MODE = "container:"


def owner_ref(c: Container) -> str:
    """The container whose namespace `c` joined, as its network mode names it (an id, or the name
    given); "" when `c` has a namespace of its own."""
    return c.network_mode[len(CONTAINER_MODE):] if c.mode == NetMode.CONTAINER else ""


def recorded(containers: tuple[Container, ...] | list[Container], c: Container) -> Container:
    """`c` as the snapshot recorded it: a joiner's own network mode, before on_owners_network."""
    return next((x for x in containers if x.id == c.id), c)


def namespace_owner(containers: tuple[Container, ...] | list[Container], c: Container) -> Container | None:
    """The container whose namespace `c` joined, as it is now; None when `c` joined none, or when
    no container has that id or name any more (removed, or recreated under a new id)."""
    ref = owner_ref(c)
    if not ref:
        return None
    return next((o for o in containers if o.id != c.id and (o.id == ref or o.name == ref.lstrip("/")
                                                             or len(ref) >= 12 and o.id.startswith(ref))), None)


def joiners(containers: tuple[Container, ...] | list[Container], owner: Container) -> list[Container]:
    """The containers that joined `owner`'s namespace."""
    return [c for c in containers if namespace_owner((owner,), c) is not None]


def namespace_mates(containers: tuple[Container, ...] | list[Container],
                    chosen: list[Container]) -> list[Container]:
    """The containers that share a namespace with one of `chosen` (its owner, its joiners) and are
    not among them: their sockets tell whether a joiner was left in an old namespace."""
    ids = {c.id for c in chosen}
    mates = [o for c in chosen for o in [namespace_owner(containers, c)] if o is not None]
    mates += [j for c in chosen for j in joiners(containers, c)]
    return list({m.id: m for m in mates if m.id not in ids}.values())


def on_owners_network(c: Container, owner: Container) -> Container:
    """`c` as its traffic sees it: the owner's network mode, networks, addresses and published
    ports (the engine refuses -p on a joiner), with its own name, state, processes and EXPOSE."""
    return dataclasses.replace(c, network_mode=owner.network_mode, endpoints=owner.endpoints,
                               published=owner.published, requested=owner.requested,
                               publish_all=owner.publish_all,
                               exposed=tuple(dict.fromkeys(c.exposed + owner.exposed)))


def left_behind(c: Container, owner: Container | None) -> bool:
    """`c`, which joined another container's namespace, runs in one that container no longer has:
    the container is gone, or started after `c` did (a restart gives it a new namespace)."""
    if not c.state.running:
        return False
    if owner is None:
        return True
    mine, theirs = instant(c.state.started_at), instant(owner.state.started_at)
    return owner.state.running and mine is not None and theirs is not None and theirs > mine


_INSTANT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def instant(text: str) -> tuple[int, int] | None:
    """(seconds since the epoch, nanoseconds) of an engine's RFC 3339 time, fraction of any length
    (Docker trims its trailing zeros, so the texts do not sort); None for the zero time or none."""
    m = _INSTANT.match(text or "")
    if not m or text.startswith("0001-"):
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(dt.datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds, int((m.group(2) or "0").ljust(9, "0"))
