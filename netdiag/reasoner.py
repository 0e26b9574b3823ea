"""From facts to a diagnosis: which attempt, which ports, which rules fire, the path, the verdict.

Everything here is pure: the live command and `explain` on a bundle run the very same code.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Callable

from netdiag.context import Context, hostport, is_loopback, socket_label
from netdiag.diagnosis import (CONTAINER_IP, CONTAINER_NAME, DEFAULT, DOCKER_HOST, FAIL, LOOPBACK, OK, OTHER,
                               OTHER_CONTAINER_IP, REACHABLE, SKIP, UNKNOWN, UNKNOWN_HOP, UNREACHABLE,
                               UNSPECIFIED, Attempt, Diagnosis, Finding, Hop)
from netdiag.errors import BadInput
from netdiag.facts import ANSWERED, CLOSED, LOCAL, SILENT, Container, Snapshot
from netdiag.parsers.routes import route_for
from netdiag.rules import CONTAINER_PATH, HOST_PATH, load_rules


# --- the attempt ------------------------------------------------------------------------------

def parse_to(text: str) -> tuple[str, int | None]:
    """"172.17.0.29", "0.0.0.0:5000", "localhost:8080", "web:80", "[::1]:8080", "::1" -> (host, port)."""
    text = text.strip()
    host, port = text, ""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if not bracket or rest and not rest.startswith(":"):
            raise BadInput("bad-argument", f"--to {text!r}: expected [ADDRESS]:PORT")
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise BadInput("bad-argument", f"--to {text!r}: no address")
    if port == "":
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput("bad-argument", f"--to {text!r}: {port!r} is not a port (1-65535)")
    return host, int(port)


def parse_origin(text: str) -> str:
    """"host" or "container:NAME"."""
    if text == "host":
        return "host"
    if text.startswith("container:") and len(text) > len("container:"):
        return text
    raise BadInput("bad-argument", f"--from {text!r}: expected host or container:NAME")


def _client_addresses(snapshot: Snapshot) -> set[str]:
    if snapshot.client is None:
        return set()
    return {a.split("/")[0] for i in snapshot.client.interfaces for a in i.addresses}


def resolve_attempt(snapshot: Snapshot, target: Container, origin: str, to: str,
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
        ip, name = None, host
        address = ""
    if ip is None:
        if name == "localhost":
            return Attempt(origin, to, "127.0.0.1", name, port, LOOPBACK)
        if name in _names(target):
            return Attempt(origin, to, (_ipv4s(target) or [""])[0], name, port, CONTAINER_NAME)
        for c in containers:
            if c.id != target.id and name in _names(c):
                return Attempt(origin, to, (_ipv4s(c) or [""])[0], name, port, OTHER_CONTAINER_IP)
        address = resolve(name) if resolve else ""
        if not address:
            why = "does not resolve on this machine" if resolve else "is no container's name, and a bundle " \
                                                                   "cannot look names up: give an address"
            raise BadInput("bad-argument", f"--to {to!r}: {name!r} {why}")
        ip = ipaddress.ip_address(address)
    if ip.is_unspecified:
        kind = UNSPECIFIED
    elif ip.is_loopback:
        kind = LOOPBACK
    elif address in _ipv4s(target) or address in [ep.ipv6 for ep in target.endpoints]:
        kind = CONTAINER_IP
    elif any(address in _ipv4s(c) for c in containers if c.id != target.id):
        kind = OTHER_CONTAINER_IP
    elif address == snapshot.engine.host_address or (
            snapshot.engine.location == LOCAL and address in _client_addresses(snapshot)):
        kind = DOCKER_HOST
    else:
        kind = OTHER
    return Attempt(origin, to, address, name, port, kind)


def _names(c: Container) -> set[str]:
    return {c.name, c.id[:12]} | {a for ep in c.endpoints for a in ep.aliases}


def _ipv4s(c: Container) -> list[str]:
    return [ep.ipv4 for ep in c.endpoints if ep.ipv4]


# --- the ports in question ----------------------------------------------------------------------

def ports_in_question(base: Context, port: int | None) -> tuple[tuple[int, ...], list[str]]:
    """The target's container ports to check (`base` has no port yet), and notes on ports left aside."""
    notes: list[str] = []
    if port is not None:
        return (port,), notes
    target, attempt = base.target, base.attempt
    listeners_ok = base.listeners().outcome.ok
    listening = set(base.app_ports()) if listeners_ok else set()
    exposed = set(base.exposed_ports())
    published = {b.container_port for b in target.published if b.protocol == "tcp"}
    requested = {b.container_port for b in target.requested if b.protocol == "tcp" and b.host_port is not None}
    if attempt.port is not None:
        if attempt.origin != "host" or attempt.kind in (CONTAINER_IP, CONTAINER_NAME, OTHER_CONTAINER_IP):
            return (attempt.port,), notes
        mapped = {b.container_port for b in target.published + target.requested
                  if b.host_port == attempt.port and b.protocol == "tcp"}
        if mapped:
            return tuple(sorted(mapped)), notes
        candidates = exposed | listening
        if attempt.port in candidates:
            return (attempt.port,), notes
        if candidates:
            return tuple(sorted(candidates)), notes
        return (), notes
    ports = published | requested | listening
    for p in sorted(exposed - ports):
        if listeners_ok:
            notes.append(f"{p}/tcp is exposed, but nothing listens on it and it is not published: left aside")
        else:
            ports.add(p)
    return tuple(sorted(ports)), notes


# --- the reach plan -----------------------------------------------------------------------------

def attempt_target(ctx: Context) -> tuple[str, int] | None:
    """The address and port the attempt really connects to, for the port in question."""
    a = ctx.attempt
    if a.address and a.port:
        return a.address, a.port
    if a.address and a.kind in (CONTAINER_IP, CONTAINER_NAME, OTHER_CONTAINER_IP):
        return a.address, ctx.port
    if a.address:
        b = next((b for b in ctx.published() if b.host_ip in ("", "0.0.0.0", "::", a.address)), None)
        return (a.address, b.host_port) if b else (a.address, ctx.port)
    if ctx.from_container:
        shared = [ep for ep in ctx.target.endpoints
                  if ep.ipv4 and ep.network in {e.network for e in ctx.source.endpoints}]
        ip = shared[0].ipv4 if shared else next(iter(ctx.ipv4()), "")
        return (ip, ctx.port) if ip else None
    b = ctx.preferred_binding()
    if b is not None and not (is_loopback(b.host_ip) and not ctx.local):
        return ctx.public_address(b), b.host_port
    if ctx.target.network_mode == "host":
        return ctx.host_address, ctx.port
    if ctx.local and ctx.ipv4():
        return ctx.ipv4()[0], ctx.port
    return None


def candidates(ctx: Context) -> list[tuple[str, int]]:
    """Other ways to the port worth trying, so `works` can say what does reach the service."""
    out = []
    if ctx.from_container:
        src_nets = {e.network for e in ctx.source.endpoints}
        out += [(ep.ipv4, ctx.port) for ep in ctx.target.endpoints if ep.ipv4 and ep.network in src_nets]
        return out
    for b in ctx.published():
        if ":" in (b.host_ip or ""):
            continue
        if is_loopback(b.host_ip) and not ctx.local:
            continue
        out.append((ctx.public_address(b), b.host_port))
    if ctx.local:
        out += [(ip, ctx.port) for ip in ctx.ipv4()]
    if ctx.target.network_mode == "host":
        out.append((ctx.host_address, ctx.port))
    return out


def reach_plan(base: Context, ports: tuple[int, ...]) -> list[tuple[str, str, int | None]]:
    """Every (kind, address, port) worth probing from the attempt's origin."""
    attempt = base.attempt
    plan: list[tuple[str, str, int | None]] = []
    if attempt.address and attempt.kind not in (UNSPECIFIED, LOOPBACK) and attempt.origin == "host":
        plan.append(("icmp", attempt.address, None))
    for p in ports:
        ctx = dataclasses.replace(base, port=p)
        t = attempt_target(ctx)
        if t and t[1]:
            plan.append(("tcp", t[0], t[1]))
        plan += [("tcp", a, pp) for a, pp in candidates(ctx) if a and pp]
    return list(dict.fromkeys(plan))


# --- the path --------------------------------------------------------------------------------

def _hop_details(ctx: Context) -> dict[str, tuple[str, str]]:
    """hop -> (status when no finding fails it, detail)."""
    from netdiag.rules.addressing import where_daemon_runs

    snap = ctx.snapshot
    d: dict[str, tuple[str, str]] = {}
    t = attempt_target(ctx)
    name = ctx.target.name
    if ctx.from_container:
        d["source container"] = (OK, f"{ctx.source.name}: {ctx.source.state.status}, on "
                                 + (", ".join(e.network for e in ctx.source.endpoints) or "no network"))
        shared = [e.network for e in ctx.target.endpoints if e.network in {x.network for x in ctx.source.endpoints}]
        d["shared network"] = (OK, "shared: " + ", ".join(shared)) if shared else (FAIL, "no shared network")
        if ctx.attempt.kind == CONTAINER_NAME:
            user = [n for n in shared if n != "bridge"]
            d["name resolution"] = ((OK, f"{ctx.attempt.name} resolves through Docker's DNS on {user[0]}") if user
                                    else (FAIL, f"{ctx.attempt.name}: no Docker DNS on the default bridge"))
        else:
            d["name resolution"] = (SKIP, "no name used")
        d["forwarding"] = (SKIP, "bridged inside the Docker host")
    else:
        client = snap.client
        if t is None:
            d["client"] = (UNKNOWN_HOP, "no address to try for this port")
        elif client is None or not client.outcome.ok:
            d["client"] = (UNKNOWN_HOP, "the client's routes could not be read"
                           + (f": {client.outcome.reason}" if client else ""))
        else:
            r = route_for(client.routes, t[0])
            try:
                is_local = ipaddress.ip_address(t[0]).is_loopback or ipaddress.ip_address(t[0]).is_unspecified
            except ValueError:
                is_local = False
            if is_local:
                d["client"] = (OK, f"{t[0]} is the client itself")
            elif r is None:
                d["client"] = (OK, f"no route to {t[0]}")
            else:
                d["client"] = (OK, f"route to {t[0]}: {r.destination}" + (f" via {r.gateway}" if r.gateway else "")
                               + f" dev {r.device}")
        d["boundary"] = (OK, where_daemon_runs(ctx))
        bindings = ctx.published()
        if ctx.target.network_mode == "host":
            d["host binding"] = (SKIP, "host network mode: no binding, the app's port is the host's")
        elif t is not None and t[0] in ctx.ipv4():
            d["host binding"] = (SKIP, f"direct to the container's address {t[0]}")
        elif bindings:
            d["host binding"] = (OK, ", ".join(f"{b.container_port}/{b.protocol} on "
                                               f"{hostport(b.host_ip or '0.0.0.0', b.host_port)}" for b in bindings))
        else:
            d["host binding"] = (OK, f"{ctx.port}/tcp is not published")
        fw = snap.firewall
        if fw is None or not fw.outcome.ok:
            d["forwarding"] = (UNKNOWN_HOP, fw.outcome.reason if fw is not None else "not collected")
        else:
            fwd = fw.chain("filter", "FORWARD")
            d["forwarding"] = (OK, f"ip_forward {'on' if fw.ip_forward else 'off'}"
                               + (f", FORWARD policy {fwd.policy}" if fwd else "")
                               + ("" if fw.iptables_outcome.ok else f"; iptables: {fw.iptables_outcome.reason}"))
    nets = ctx.networks_of(ctx.target)
    if not snap.networks_outcome.ok:
        d["network"] = (UNKNOWN_HOP, f"networks not read: {snap.networks_outcome.reason}")
    elif ctx.target.network_mode in ("host", "none"):
        d["network"] = (OK, f"network mode {ctx.target.network_mode}")
    else:
        d["network"] = (OK, ", ".join(f"{n.name} {', '.join(n.subnets)}" + (" (internal)" if n.internal else "")
                                      for n in nets) + "; " + ", ".join(ctx.ipv4()))
    st = ctx.target.state
    d["container"] = (OK, f"{name} running" + (f" since {st.started_at}" if st.started_at else "")) if ctx.running \
        else (FAIL, f"{name} {st.status}")
    ls = ctx.listeners()
    if not ls.outcome.ok:
        d["listener"] = (UNKNOWN_HOP, f"sockets not read: {ls.outcome.reason}")
    else:
        socks = ctx.sockets_on()
        d["listener"] = (OK, ", ".join(socket_label(s) for s in socks)
                         if socks else f"nothing listens on {ctx.port}/tcp")
    r = ctx.reach(*t) if t else None
    if r is None:
        d["process"] = (UNKNOWN_HOP, "not tried")
    elif not r.outcome.ok:
        d["process"] = (UNKNOWN_HOP, f"the attempt could not run: {r.outcome.reason}")
    elif r.result == ANSWERED or (r.result == SILENT and ls.outcome.ok and ctx.sockets_on()):
        d["process"] = (OK, f"{hostport(*t)} {r.result}" + (f": {r.banner}" if r.banner else ""))
    else:
        d["process"] = (FAIL, f"{hostport(*t)}: {r.result} ({r.detail})")
    return d


def build_path(ctx: Context, findings: list[Finding], label: str) -> list[Hop]:
    hops = CONTAINER_PATH if ctx.from_container else HOST_PATH
    details = _hop_details(ctx)
    failed = {f.hop for f in findings}
    out = []
    for hop in hops:
        status, detail = details.get(hop, (SKIP, ""))
        if hop in failed:
            status = FAIL
            detail = next(f.summary for f in findings if f.hop == hop)
        out.append(Hop(f"{hop}{label}", status, detail))
    return out


# --- the diagnosis -----------------------------------------------------------------------------

def diagnose(base: Context, port: int | None = None) -> Diagnosis:
    """Every rule over every port in question (`base` has none chosen yet); causes in path order;
    the verdict, never a false pass."""
    rules = load_rules()
    target, attempt, source = base.target, base.attempt, base.source
    ports, notes = ports_in_question(base, port)
    hops = CONTAINER_PATH if source else HOST_PATH
    causes: list[Finding] = []
    path: list[Hop] = []
    works: list[str] = []
    unknown: list[str] = []
    port_ok: list[bool] = []
    tried: list[str] = []
    whole = dataclasses.replace(base, port=ports[0] if len(ports) == 1 else attempt.port)
    for r in rules.values():
        if r.fn is not None and not r.per_port:
            causes += list(r.fn(whole))
    for p in ports:
        ctx = dataclasses.replace(base, port=p)
        found = [f for r in rules.values() if r.fn is not None and r.per_port for f in r.fn(ctx)]
        causes += found
        label = f" ({p}/tcp)" if len(ports) > 1 else ""
        port_path = build_path(ctx, found + [f for f in causes if f.port is None], label)
        path += port_path
        t = attempt_target(ctx)
        port_ok.append(bool(t and ctx.answered(*t)))
        if t:
            tried.append(hostport(*t))
        for a, pp in ([t] if t else []) + candidates(ctx):
            if a and pp and ctx.answered(a, pp):
                works.append(hostport(a, pp))
        r = ctx.reach(*t) if t else None
        if r is not None and r.outcome.ok and r.result == CLOSED:
            notes.append(f"{hostport(*t)} accepted the connection and closed it at once: "
                         "docker-proxy answers even when nothing listens behind it")
        if not ctx.published() and ctx.local and not source and attempt.kind == DEFAULT and \
                target.network_mode not in ("host", "none") and ctx.ipv4():
            notes.append(f"{p}/tcp is not published: this machine reaches it at {ctx.ipv4()[0]}:{p}, other machines "
                         f"need -p {p}:{p}")
        unknown += [f"{h.hop}: {h.detail}" for h in port_path if h.status == UNKNOWN_HOP]
    order = {h: i for i, h in enumerate(hops)}
    causes = _dedupe(sorted(causes, key=lambda f: (order.get(f.hop, 99), f.rule, f.port or 0)))
    if causes:
        verdict = UNREACHABLE
    elif ports and all(port_ok):
        verdict = REACHABLE
    else:
        verdict = UNKNOWN
        if not ports:
            unknown.insert(0, "no port to check: the container exposes, publishes and listens on none; "
                              "name one with --port")
        elif not unknown:
            unknown.append("the attempt did not succeed and no rule explains why")
    return Diagnosis(verdict, target.name, target.id, attempt, ports, tuple(causes), tuple(path),
                     tuple(dict.fromkeys(works)), tuple(dict.fromkeys(notes)),
                     tuple(dict.fromkeys(unknown)) if verdict == UNKNOWN else (), ", ".join(tried))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.summary)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
