"""Planning the attempts: where the attempt really connects for a port, what else is worth trying
so that `works` can say what does reach the service, and the whole reach plan to probe."""

from __future__ import annotations

import dataclasses

from netdiag.context import Context, is_loopback
from netdiag.vocab import AddressKind, NetMode, ProbeKind

Target = tuple[str, int]


def attempt_target(ctx: Context) -> Target | None:
    """The address and port the attempt really connects to, for the port in question."""
    a = ctx.attempt
    port = ctx.port or 0
    if a.address and a.port:
        return a.address, a.port
    if a.address and a.kind in (AddressKind.CONTAINER_IP, AddressKind.CONTAINER_NAME, AddressKind.OTHER_CONTAINER_IP):
        return a.address, port
    if a.address:
        b = next((b for b in ctx.published() if b.host_ip in ("", "0.0.0.0", "::", a.address)), None)
        return (a.address, b.host_port or port) if b else (a.address, port)
    if ctx.source_container is not None:
        shared = [ep for ep in ctx.target.endpoints
                  if ep.ipv4 and ep.network in {e.network for e in ctx.source_container.endpoints}]
        ip = shared[0].ipv4 if shared else next(iter(ctx.ipv4()), "")
        return (ip, port) if ip else None
    b = ctx.preferred_binding()
    if b is not None and b.host_port and ctx.public_address(b) and not (is_loopback(b.host_ip) and not ctx.local):
        return ctx.public_address(b), b.host_port
    routed = _routed_address(ctx)
    if routed:
        return routed, port
    mesh = ctx.service_port()
    if mesh is not None and mesh.published:
        return ctx.host_address, mesh.published  # the Swarm routing mesh: every node's port
    if ctx.target.mode == NetMode.HOST:
        return ctx.host_address, port
    if ctx.reaches_container_ips and ctx.ipv4():
        return ctx.ipv4()[0], port
    return None


def _routed_address(ctx: Context) -> str:
    """The target's address on a network in routed gateway mode, where its ports are reached
    without a host port; "" when it has none."""
    net = ctx.routed_network()
    return next((ep.ipv4 for ep in ctx.target.endpoints if net is not None and ep.network == net.name and ep.ipv4),
                "")


def candidates(ctx: Context) -> list[Target]:
    """Other ways to the port worth trying, so `works` can say what does reach the service."""
    port = ctx.port or 0
    if ctx.source_container is not None:
        src_nets = {e.network for e in ctx.source_container.endpoints}
        return [(ep.ipv4, port) for ep in ctx.target.endpoints if ep.ipv4 and ep.network in src_nets]
    out = []
    for b in ctx.published():
        if not ctx.public_address(b) or ":" in ctx.public_address(b) and not ctx.local or not b.host_port:
            continue
        if is_loopback(b.host_ip) and not ctx.local:
            continue
        out.append((ctx.public_address(b), b.host_port))
    if ctx.reaches_container_ips:
        out += [(ip, port) for ip in ctx.ipv4()]
    elif _routed_address(ctx):
        out.append((_routed_address(ctx), port))
    if ctx.target.mode == NetMode.HOST:
        out.append((ctx.host_address, port))
    return out


def reach_plan(base: Context, ports: tuple[int, ...],
               alternatives: bool = True) -> list[tuple[ProbeKind, str, int | None]]:
    """Every (kind, address, port) worth probing from the attempt's origin; without
    `alternatives`, the attempt itself only (its other ways in are then tried when it fails)."""
    attempt = base.attempt
    plan: list[tuple[ProbeKind, str, int | None]] = []
    if attempt.address and attempt.kind not in (AddressKind.UNSPECIFIED, AddressKind.LOOPBACK) \
            and attempt.origin.is_host:
        plan.append((ProbeKind.ICMP, attempt.address, None))
    for p in ports:
        ctx = dataclasses.replace(base, port=p)
        t = attempt_target(ctx)
        if t and t[1]:
            plan.append((ProbeKind.TCP, t[0], t[1]))
        if alternatives:
            plan += [(ProbeKind.TCP, a, pp) for a, pp in candidates(ctx) if a and pp]
    if attempt.origin.is_host:  # the host's routes lead elsewhere: whoever answered there is not the container
        plan = [step for step in plan if not base.in_rootless_namespace(step[1])]
    return list(dict.fromkeys(plan))


def settled_by_routes(base: Context) -> dict[str, str]:
    """Addresses whose client hop the facts already decide, each with the reason: container
    addresses on a daemon elsewhere, to which the client's route is none or a default route that
    does not go through the Docker host. Probing them can only add who answered (a router's ICMP
    error), so the live source waits for that briefly instead of a whole timeout."""
    client = base.snapshot.client
    if base.reaches_container_ips or base.from_container or client is None or not client.outcome.ok:
        return {}
    out = {}
    for c in base.snapshot.containers:
        for address in base.ipv4(c):
            route, _ = base.client_route(address)
            if route is None:
                out[address] = f"the client has no route to {address}"
            elif route.gateway and route.gateway != base.host_address and route.destination in ("0.0.0.0/0", "::/0"):
                out[address] = (f"the client's route to {address} is its default route via {route.gateway}: it "
                                f"leaves this machine, away from the Docker host at {base.host_address}")
    return out
