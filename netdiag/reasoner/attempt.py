"""Reading the attempt: what the user wrote after --to and --from, and what kind of address it is."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from netdiag.diagnosis import Attempt
from netdiag.errors import BadInput
from netdiag.facts import Container, Snapshot
from netdiag.untrusted import Unusable, quote
from netdiag.untrusted import port as ascii_port
from netdiag.vocab import AddressKind, Location, Origin


def parse_to(text: str, what: str = "--to") -> tuple[str, int | None]:
    """"172.17.0.29", "0.0.0.0:5000", "localhost:8080", "web:80", "[::1]:8080", "::1" -> (host, port).
    `what` names the argument in errors (--to, or an outbound DESTINATION)."""
    text = text.strip()
    host, port = text, ""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if not bracket or rest and not rest.startswith(":"):
            raise BadInput("bad-argument", f"{what} {quote(text)}: expected [ADDRESS]:PORT")
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise BadInput("bad-argument", f"{what} {quote(text)}: no address")
    if port == "":
        return host, None
    try:
        return host, ascii_port(port)
    except Unusable as e:
        raise BadInput("bad-argument", f"{what} {quote(text)}: {e}") from None


def parse_origin(text: str | Origin) -> Origin:
    """--from as the user wrote it: "host" or "container:NAME"."""
    if isinstance(text, Origin):
        return text
    try:
        return Origin.parse(text)
    except ValueError as e:
        raise BadInput("bad-argument", f"--from {e}") from None


def _client_addresses(snapshot: Snapshot) -> set[str]:
    if snapshot.client is None:
        return set()
    return {a.split("/")[0] for i in snapshot.client.interfaces for a in i.addresses}


def _docker_host_addresses(snapshot: Snapshot) -> set[str]:
    """The Docker host's own addresses when it is another machine and they were read (--helper):
    its LAN and IPv6 addresses, besides the one the client reaches it at."""
    h = snapshot.docker_host
    if h is None or not h.outcome.ok:
        return set()
    return {a.split("/")[0] for i in h.interfaces for a in i.addresses}


def _names(c: Container) -> set[str]:
    return {c.name, c.id[:12]} | {a for ep in c.endpoints for a in ep.aliases}


def _ipv4s(c: Container) -> list[str]:
    return [ep.ipv4 for ep in c.endpoints if ep.ipv4]


def resolve_attempt(snapshot: Snapshot, target: Container, origin: Origin, to: str,
                    resolve: Callable[[str], str] | None = None) -> Attempt:
    """What the attempt goes to, and what kind of address that is. `resolve` looks a host name up."""
    if not to:
        return Attempt(origin=origin)
    host, port = parse_to(to)
    containers = snapshot.containers
    try:
        ip = ipaddress.ip_address(host)
        address, name = str(ip), ""
    except ValueError:
        name = host
        if name == "localhost":
            return Attempt(origin, to, "127.0.0.1", name, port, AddressKind.LOOPBACK)
        if name in _names(target):
            return Attempt(origin, to, (_ipv4s(target) or [""])[0], name, port, AddressKind.CONTAINER_NAME)
        for c in containers:
            if c.id != target.id and name in _names(c):
                return Attempt(origin, to, (_ipv4s(c) or [""])[0], name, port, AddressKind.OTHER_CONTAINER_IP)
        address = resolve(name) if resolve else ""
        if not address:
            why = "does not resolve on this machine" if resolve else "is no container's name, and a bundle " \
                                                                   "cannot look names up: give an address"
            raise BadInput("bad-argument", f"--to {quote(to)}: {quote(name)} {why}") from None
        ip = ipaddress.ip_address(address)
    return Attempt(origin, to, address, name, port, _kind(snapshot, target, ip))


def _kind(snapshot: Snapshot, target: Container, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> AddressKind:
    address = str(ip)
    if ip.is_unspecified:
        return AddressKind.UNSPECIFIED
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if address in _ipv4s(target) or address in [ep.ipv6 for ep in target.endpoints]:
        return AddressKind.CONTAINER_IP
    if any(address in _ipv4s(c) for c in snapshot.containers if c.id != target.id):
        return AddressKind.OTHER_CONTAINER_IP
    engine = snapshot.engine
    local = engine.location == Location.LOCAL and address in _client_addresses(snapshot)
    if address == engine.host_address or local or address in _docker_host_addresses(snapshot):
        return AddressKind.DOCKER_HOST
    return AddressKind.OTHER
