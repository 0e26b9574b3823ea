"""Human output of the inspection commands: short tables (tabulate) and the reasons behind gaps."""

from __future__ import annotations

from tabulate import tabulate

from netdiag.context import hostport
from netdiag.facts import Engine, Firewall, Listeners, Outcome
from netdiag.views import AddressView, ListenerReport, PingReport, PortView, SubnetReport
from netdiag.vocab import EngineProduct


def _table(rows, headers) -> str:
    return tabulate(rows, headers=headers, tablefmt="plain") if rows else "(none)"


def _gap(what: str, outcome: Outcome) -> str:
    return f"{what}: {outcome.state} ({outcome.reason})" if not outcome.ok else ""


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def engine_text(e: Engine) -> str:
    if not e.outcome.ok:
        return _gap("engine", e.outcome)
    place = {"local": "this machine", "vm": f"a VM ({e.vm_kind})", "remote": "another host"}.get(
        e.location, e.location)
    rows = [
        ("daemon runs on", place),
        ("endpoint", f"{e.endpoint} (from {e.chosen_by}{' ' + e.context if e.context else ''})"),
        ("published ports reached at", e.host_address),
        ("engine", ("Podman " if e.product == EngineProduct.PODMAN else "")
         + f"{e.server_version} (API {e.api_version})"
         + (f", firewall backend {e.firewall_backend}" if e.firewall_backend else "")),
        ("daemon host", f"{e.daemon_name}: {e.operating_system}, kernel {e.kernel_version}"),
        ("rootless", "yes" if e.rootless else "unknown (Podman's own info not read)"
         if e.product == EngineProduct.PODMAN and e.libpod_rootless is None else "no"),
        ("iptables", _yes(e.iptables)),
        ("userland proxy", _yes(e.userland_proxy)),
        ("IPv6", _yes(e.ipv6)),
    ]
    lines = [tabulate(rows, tablefmt="plain")]
    lines += [f"  why: {ev}" for ev in e.location_evidence]
    return "\n".join(lines)


def _addr(ip: str, port) -> str:
    return hostport(ip or "0.0.0.0", port)


def port_text(v: PortView) -> str:
    c = v.container
    unknown = "unknown" if not v.holders.ok else ""
    rows = [(f"{r.container_port}/{r.protocol}", _addr(r.host_ip, r.host_port), r.held_by or unknown or "-",
             ", ".join(f"DNAT -> {n}" for n in r.nat) or ("none" if v.nat.ok and v.holders.ok else "unknown"))
            for r in v.bindings]
    lines = [f"{c.name} ({c.id[:12]}), {c.status}"]
    lines.append(_table(rows, ["container port", "host binding", "held by", "NAT"]))
    for b in v.requested_not_bound:
        lines.append(f"requested -p {b.host_ip + ':' if b.host_ip else ''}{b.host_port or ''}:"
                     f"{b.container_port}/{b.protocol} is not bound (container {c.status})")
    if v.exposed_not_published:
        lines.append("exposed, not published: " + ", ".join(v.exposed_not_published))
    gap = _gap("port holders", v.holders)
    if gap:
        lines.append(gap)
    return "\n".join(lines)


def address_text(v: AddressView) -> str:
    c = v.container
    nets = {n.name: n for n in v.networks}
    rows = []
    for ep in v.endpoints:
        n = nets.get(ep.network)
        rows.append((ep.network, n.driver if n else "", f"{ep.ipv4}/{ep.prefix_len}" if ep.ipv4 else "-",
                     ep.ipv6 or "-", ep.gateway or "-", ep.mac or "-",
                     ", ".join(n.subnets) if n else "", "yes" if n and n.internal else "no",
                     ", ".join(a for a in ep.aliases if not c.id.startswith(a)) or "-"))
    head = f"{c.name} ({c.id[:12]}), network mode {c.network_mode or 'default'}, {c.status}"
    return head + "\n" + _table(rows, ["network", "driver", "IPv4", "IPv6", "gateway", "MAC", "subnet",
                                      "internal", "aliases"])


def ping_text(r: PingReport) -> str:
    rows = []
    for a in r.attempts:
        target = _addr(a.address, a.port) if a.port else a.address
        result = a.result if a.outcome.ok else a.outcome.state
        who = a.responder or "-"
        detail = a.detail if a.outcome.ok else a.outcome.reason
        if a.banner:
            detail += f": {a.banner}"
        rows.append((a.kind, target, result, who, detail, a.outcome.method))
    lines = [f"ping {r.target}", _table(rows, ["probe", "target", "result", "answered by", "detail", "method"])]
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


def listeners_text(r: ListenerReport) -> str:
    ls: Listeners = r.listeners
    if not ls.outcome.ok:
        return f"{r.container}: listeners {ls.outcome.state}: {ls.outcome.reason}"
    rows = [(s.protocol + ("6" if s.family == 6 else ""), _addr(s.address, s.port),
             f"{s.pid}/{s.process}" if s.pid else "-",
             "; ".join(x for x in (s.note, "loopback only: unreachable from outside the container"
                                   if s.loopback_only and not s.note else "") if x))
            for s in ls.sockets]
    lines = [f"{r.container}: read through {ls.outcome.method}",
             _table(rows, ["proto", "local address", "pid/program", "note"])]
    if ls.outcome.reason:
        lines.append(f"note: {ls.outcome.reason}")
    return "\n".join(lines)


def subnets_text(r: SubnetReport) -> str:
    rows = [(n.name, n.driver, ", ".join(n.subnets) or "-", n.bridge or "-", "yes" if n.internal else "no")
            for n in r.networks]
    lines = ["Docker networks", _table(rows, ["network", "driver", "subnets", "bridge", "internal"]), ""]
    if r.overlaps:
        lines.append("OVERLAPS")
        lines.append(_table([(o.network, o.subnet, o.machine, f"{o.kind} {o.device}", o.prefix, o.gateway or "-")
                             for o in r.overlaps],
                            ["network", "subnet", "on", "claimed by", "prefix", "gateway"]))
    elif not r.client.outcome.ok:
        lines.append("overlaps unknown: the client's interfaces or routes could not be read "
                     f"({r.client.outcome.reason})")
    else:
        lines.append("no overlap between Docker networks and the client's interfaces or routes")
    if r.docker_host is not None and not r.docker_host.outcome.ok:
        lines.append(f"docker host: {r.docker_host.outcome.reason}")
    if r.routes:
        lines += ["", "how the client reaches container addresses"]
        lines.append(_table([(rc.container, rc.address, rc.destination or "no route",
                              rc.gateway or "on-link", rc.device,
                              "default route: leaves this machine" if rc.via_default else "")
                             for rc in r.routes],
                            ["container", "address", "route", "gateway", "device", ""]))
    return "\n".join(lines)


def firewall_text(f: Firewall) -> str:
    if not f.outcome.ok:
        return _gap("firewall", f.outcome)
    rows = [("net.ipv4.ip_forward", _yes(f.ip_forward)), ("net.ipv6.conf.all.forwarding", _yes(f.ipv6_forward))]
    off = sorted(k for k, v in f.interface_forwarding.items() if not v)
    if off:
        rows.append(("forwarding off on", ", ".join(off)))
    lines = [tabulate(rows, tablefmt="plain")]
    if not f.iptables_outcome.ok:
        lines.append(_gap("iptables", f.iptables_outcome))
        return "\n".join(lines)
    fwd = f.chain("filter", "FORWARD")
    lines.append(f"FORWARD policy: {fwd.policy if fwd else 'no FORWARD chain'}"
                 + (f" ({f.iptables_variant})" if f.iptables_variant and f.other_chains else ""))
    other_fwd = next((c for c in f.other_chains if c.table == "filter" and c.name == "FORWARD"), None)
    if f.other_chains:
        lines.append(f"{f.other_variant} iptables in use too (the kernel runs both): FORWARD policy "
                     f"{other_fwd.policy if other_fwd else '-'}, {len(other_fwd.rules) if other_fwd else 0} rules")
    docker_chains = sorted({c.name for c in f.chains if c.name.startswith("DOCKER")})
    netavark_chains = sorted({c.name for c in f.chains if c.name.startswith("NETAVARK")})
    netavark_bases = [c for c in f.nft_chains if c.table == "inet netavark" and c.hook]
    if f.docker_nft_chains:
        tables = sorted({c.table for c in f.docker_nft_chains})
        bases = [f"{c.name} (hook {c.hook})" for c in f.docker_nft_chains if c.hook]
        lines.append(f"Docker's nftables tables: {', '.join(tables)}; base chains: {', '.join(bases) or 'none'}")
        lines.append("Docker chains in iptables: " + (", ".join(docker_chains) if docker_chains else
                                                     "none (the engine writes nftables rules)"))
    else:
        lines.append("Docker chains: " + (", ".join(docker_chains) if docker_chains else
                                         "none (no dockerd here)" if netavark_chains or netavark_bases else
                                         "none (flushed, or iptables off)"))
    if netavark_chains or netavark_bases:
        lines.append("Podman's rules (netavark): " + "; ".join(
            ([f"iptables chains {', '.join(netavark_chains)}"] if netavark_chains else []) +
            ([f"nftables table inet netavark, base chains "
              f"{', '.join(f'{c.name} (hook {c.hook})' for c in netavark_bases)}"] if netavark_bases else [])))
    user = f.chain("filter", "DOCKER-USER")
    if user is not None:
        rules = [r.text for r in user.rules if r.text != "-j RETURN"]
        lines.append("DOCKER-USER rules: " + ("; ".join(rules) if rules else "none"))
    if not f.nft_outcome.ok:
        lines.append(_gap("other nftables tables", f.nft_outcome))
    else:
        bases = [c for c in f.nft_chains if c.hook and c.table != "inet netavark"]
        lines.append("other nftables tables' base chains: " + ("; ".join(
            f"{c.table} {c.name} (hook {c.hook}, policy {c.policy.lower() or 'accept'}, {len(c.rules)} rules)"
            for c in bases) if bases else "none"))
    return "\n".join(lines)


def summary_text(rows) -> str:
    """explain over a folder: one row per bundle and container; a host column when the bundles
    come from several Docker hosts (a fleet collected, then explained together)."""
    fleet = len({r.host for r in rows if r.host}) > 1
    return _table([((r.host or "-",) if fleet else ()) + (r.bundle, r.container or "-", r.verdict or "error",
                                                          ", ".join(r.causes) or r.error or "-") for r in rows],
                  (["host"] if fleet else []) + ["bundle", "container", "verdict", "causes"])


def doctor_text(report) -> str:
    fleet = any(r.host for r in report.rows)
    lines = [_table([((r.host,) if fleet else ()) + (r.container or "-", r.state or "-",
                                                     ", ".join(map(str, r.ports)) or "-", r.verdict or "-",
                                                     ", ".join(r.causes) or "-", r.detail[:90])
                     for r in report.rows],
                    (["daemon"] if fleet else []) + ["container", "state", "ports", "verdict", "causes", "detail"])]
    lines += [f"overlap: {o}" for o in report.overlaps]
    if report.outbound_to:
        lines += ["", f"out of each running container to {report.outbound_to}:"]
        lines.append(_table([(r.container, r.verdict or "-", ", ".join(r.causes) or "-", r.detail[:90])
                             for r in report.outbound], ["container", "verdict", "causes", "detail"]))
    if report.diagnoses:
        lines.append("\nnetdiag why-unreachable NAME explains each one in full"
                     + (f" (and why-unreachable {report.outbound_to} --from container:NAME each attempt out)."
                        if report.outbound_to else "."))
    return "\n".join(lines)
