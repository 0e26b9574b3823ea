"""What each inspection command (port, ip, ping, listeners, subnets) prints with --json: facts
records, so the JSON round-trips."""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.facts import Container, HostNet, Listeners, Network, PortHolders, Reach
from netdiag.subnets import Overlap, RouteChoice


@dataclass(frozen=True)
class PortReport:
    container: Container
    holders: PortHolders
    port: int | None = None  # the container port asked about, None for all


@dataclass(frozen=True)
class AddressReport:
    container: Container
    networks: tuple[Network, ...] = ()


@dataclass(frozen=True)
class PingReport:
    target: str
    attempts: tuple[Reach, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListenerReport:
    container: str
    listeners: Listeners


@dataclass(frozen=True)
class SubnetReport:
    networks: tuple[Network, ...]
    client: HostNet
    docker_host: HostNet | None = None
    overlaps: tuple[Overlap, ...] = ()
    routes: tuple[RouteChoice, ...] = ()
