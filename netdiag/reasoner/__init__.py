"""From facts to a diagnosis: which attempt, which ports, which rules fire, the path, the verdict.

Everything here is pure: the live command and `explain` on a bundle run the very same code.

    attempt.py  reading the attempt (--to, --from) and the kind of address it goes to
    ports.py    the ports in question
    plan.py     where the attempt connects, what else to try, the reach plan
    apply.py    running the rules; a rule lacking an input is skipped, and says what it lacked
    evidence.py an answer through a hop overrules a finding that says the hop drops the traffic
    path.py     the path, hop by hop
    here        the diagnosis and its verdict, never a false pass
"""

from __future__ import annotations

import dataclasses

from netdiag.context import Context, hostport, port_forwarder
from netdiag.diagnosis import Diagnosis, Finding, PathStep
from netdiag.reasoner.apply import apply
from netdiag.reasoner.attempt import parse_origin, parse_to, resolve_attempt
from netdiag.reasoner.evidence import against_the_answer, passed_hops
from netdiag.reasoner.path import build_path
from netdiag.reasoner.plan import attempt_target, candidates, reach_plan
from netdiag.reasoner.ports import ports_in_question
from netdiag.rules import rules_for
from netdiag.vocab import AddressKind, HopStatus, NetMode, Protocol, ReachResult, Verdict, path_of

__all__ = ["diagnose", "parse_origin", "parse_to", "ports_in_question", "reach_plan", "resolve_attempt"]


def diagnose(base: Context, port: int | None = None) -> Diagnosis:
    """Every rule over every port in question (`base` has none chosen yet); causes in path order;
    the verdict, never a false pass."""
    rules = rules_for(outbound=False)
    target, attempt = base.target, base.attempt
    ports, notes = ports_in_question(base, port)
    causes: list[Finding] = []
    path: list[PathStep] = []
    works: list[str] = []
    unknown: list[str] = []
    port_ok: list[bool] = []
    tried: list[str] = []
    whole = dataclasses.replace(base, port=ports[0] if len(ports) == 1 else attempt.port)
    whole_findings, whole_skips = apply([r for r in rules if not r.per_port], whole)
    for p in ports:  # an answer through a hop overrules what the facts said of it
        ctx = dataclasses.replace(base, port=p)
        t = attempt_target(ctx)
        if t and ctx.answered(*t):
            whole_findings, dropped = against_the_answer(whole_findings, passed_hops(ctx, *t), hostport(*t))
            notes += dropped
    causes += whole_findings
    for p in ports:
        ctx = dataclasses.replace(base, port=p)
        found, skipped = apply([r for r in rules if r.per_port], ctx)
        t = attempt_target(ctx)
        if t and ctx.answered(*t):
            found, dropped = against_the_answer(found, passed_hops(ctx, *t), hostport(*t))
            notes += dropped
        causes += found
        label = f" ({p}/tcp)" if len(ports) > 1 else ""
        port_path = build_path(ctx, found + whole_findings, skipped + whole_skips, label)
        path += port_path
        unknown += [f"{h.hop}: {h.detail}" for h in port_path if h.status == HopStatus.UNKNOWN]
        port_ok.append(bool(t and ctx.answered(*t)))
        if t:
            tried.append(hostport(*t))
        works += [hostport(a, pp) for a, pp in ([t] if t else []) + candidates(ctx) if a and pp and ctx.answered(a, pp)]
        notes += _notes(ctx, t)
    order = {h: i for i, h in enumerate(path_of(attempt.origin))}
    causes = _dedupe(sorted(causes, key=lambda f: (order.get(f.hop, 99), f.rule, f.port or 0)))
    if causes:
        verdict = Verdict.UNREACHABLE
    elif ports and all(port_ok):
        verdict = Verdict.REACHABLE
    else:
        verdict = Verdict.UNKNOWN
        udp = sorted({f"{b.container_port}/udp" for b in target.published + target.requested
                      if b.protocol == Protocol.UDP} | {p for p in target.exposed if p.endswith("/udp")})
        if not ports and udp:
            unknown.insert(0, f"no TCP port to check: {', '.join(udp)} {'is' if len(udp) == 1 else 'are'} UDP, "
                              "which netdiag diagnoses out of a container only (--from container:NAME ADDR:PORT/udp)")
        elif not ports:
            unknown.insert(0, "no port to check: the container exposes, publishes and listens on none; "
                              "name one with --port")
        elif not unknown:
            unknown.append("the attempt did not succeed and no rule explains why")
    return Diagnosis(verdict, target.name, target.id, attempt, ports, tuple(causes), tuple(path),
                     tuple(dict.fromkeys(works)), tuple(dict.fromkeys(notes)),
                     tuple(dict.fromkeys(unknown)) if verdict == Verdict.UNKNOWN else (), ", ".join(tried))


def _notes(ctx: Context, t: tuple[str, int] | None) -> list[str]:
    """Advice that is not a fault: a proxy that accepts with nothing behind it, an unpublished port
    that only this machine reaches."""
    out = []
    r = ctx.reach(*t) if t else None
    if t is not None and r is not None and r.outcome.ok and r.result == ReachResult.CLOSED:
        out.append(f"{hostport(*t)} accepted the connection and closed it at once: "
                   f"{port_forwarder(ctx.engine)} answers even when nothing listens behind it")
    v6_only = [b for b in ctx.published() if b.host_ip == "::" and b.host_port]
    if v6_only and not ctx.public_address(v6_only[0]) and not any(":" not in b.host_ip for b in ctx.published()):
        b = v6_only[0]
        host = ctx.snapshot.docker_host
        v6 = [a.split("/")[0] for i in (host.interfaces if host is not None and host.outcome.ok else ())
              for a in i.addresses if ":" in a and not a.startswith("fe80") and not a.startswith("::1")]
        where = f"[{v6[0]}]:{b.host_port}" if v6 else f"the Docker host's IPv6 address, [<address>]:{b.host_port}"
        out.append(f"{b.container_port}/{b.protocol} is published on [::]:{b.host_port} only (IPv6): the Docker "
                   f"host's IPv4 address {ctx.host_address} does not reach it; use {where}, or publish on IPv4 "
                   f"too: -p {b.host_port}:{b.container_port}")
    bridged = ctx.target.mode not in (NetMode.HOST, NetMode.NONE)
    if not ctx.published() and ctx.reaches_container_ips and not ctx.engine.rootless and not ctx.from_container \
            and ctx.service_port(mode=None) is None \
            and ctx.attempt.kind == AddressKind.DEFAULT and bridged and ctx.ipv4():
        nets = ctx.networks_of(ctx.target)
        if ctx.only_on_lans():
            lan = nets[0]
            out.append(f"{ctx.port}/tcp: {lan.name} is a {lan.driver} network on {lan.options.get('parent')}: "
                       f"machines on that LAN reach {ctx.target.name} at {ctx.ipv4()[0]}:{ctx.port}, with no -p "
                       "(none applies there)")
        elif nets and all(n.internal for n in nets):
            out.append(f"{ctx.port}/tcp is not published: this machine reaches it at {ctx.ipv4()[0]}:{ctx.port}; "
                       f"other machines cannot, {ctx.target.name} being only on internal networks "
                       f"({', '.join(n.name for n in nets)})")
        else:
            out.append(f"{ctx.port}/tcp is not published: this machine reaches it at {ctx.ipv4()[0]}:{ctx.port}, "
                       f"other machines need -p {ctx.port}:{ctx.port}")
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.summary)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out

