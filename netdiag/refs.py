"""Naming a container as docker accepts it: a name, a full id, or an id prefix that is unique."""

from __future__ import annotations

from netdiag.errors import BadInput


def match(items: list[tuple[str, list[str]]], ref: str) -> str:
    """The id among (id, names) that `ref` names; container-not-found (exit 2) otherwise."""
    ref = ref.strip().lstrip("/")
    if not ref:
        raise BadInput("container-not-found", "no container named: give a name, an id or an id prefix")
    for cid, names in items:
        if cid == ref or ref in [n.lstrip("/") for n in names]:
            return cid
    prefixed = [(cid, names) for cid, names in items if cid.startswith(ref.lower())]
    if not prefixed:
        raise BadInput("container-not-found", f"no container matches {ref!r} (by name, id or id prefix)")
    if len(prefixed) > 1:
        listed = ", ".join(f"{cid[:12]} ({(names or ['?'])[0].lstrip('/')})" for cid, names in prefixed[:10])
        raise BadInput("container-not-found", f"{ref!r} is ambiguous: it matches {listed}")
    return prefixed[0][0]
