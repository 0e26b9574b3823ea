"""Choosing the ports in question: the one asked for, the ones an attempt is mapped to, or every
port the container publishes, asks to publish or listens on."""

from __future__ import annotations

from netdiag.context import Context
from netdiag.vocab import AddressKind, Protocol

DIRECT = (AddressKind.CONTAINER_IP, AddressKind.CONTAINER_NAME, AddressKind.OTHER_CONTAINER_IP)


def ports_in_question(base: Context, port: int | None) -> tuple[tuple[int, ...], list[str]]:
    """The target's container ports to check (`base` has no port yet), and notes on ports left aside."""
    notes: list[str] = []
    if port is not None:
        return (port,), notes
    target, attempt = base.target, base.attempt
    listeners_ok = base.listeners().outcome.ok
    listening = set(base.app_ports()) if listeners_ok else set()
    exposed = set(base.exposed_ports())
    published = {b.container_port for b in target.published if b.protocol == Protocol.TCP}
    requested = {b.container_port for b in target.requested if b.protocol == Protocol.TCP and b.host_port is not None}
    if attempt.port is not None:
        if attempt.kind in DIRECT:  # straight to a container: the port is the container's own
            return (attempt.port,), notes
        mapped = {b.container_port for b in target.published + target.requested
                  if b.host_port == attempt.port and b.protocol == Protocol.TCP}
        if mapped:
            return tuple(sorted(mapped)), notes
        candidates = exposed | listening
        if attempt.port in candidates:
            return (attempt.port,), notes
        return tuple(sorted(candidates)), notes
    ports = published | requested | listening
    for p in sorted(exposed - ports):
        if listeners_ok:
            notes.append(f"{p}/tcp is exposed, but nothing listens on it and it is not published: left aside")
        else:
            ports.add(p)
    return tuple(sorted(ports)), notes
