"""Ticket-ready reports of a bundle: Markdown, or one self-contained HTML file with a topology
picture (client, the VM or host boundary, networks, containers, published ports) in which the
failing hop is marked."""

from __future__ import annotations

import html
import re

from netdiag.diagnosis import Diagnosis
from netdiag.facts import Snapshot
from netdiag.untrusted import visible
from netdiag.vocab import Hop, HopStatus, Location, Verdict

RED, GREEN, AMBER, GREY = "#d32f2f", "#2e7d32", "#f9a825", "#607d8b"
VERDICT_COLOUR = {Verdict.REACHABLE: GREEN, Verdict.UNREACHABLE: RED, Verdict.UNKNOWN: AMBER}
HOP_COLOUR = {HopStatus.OK: GREEN, HopStatus.FAIL: RED, HopStatus.UNKNOWN: AMBER}


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: object) -> str:
    """Text from a bundle as Markdown shows it literally: specials escaped, one line, no controls."""
    return MD_SPECIAL.sub(r"\\\1", visible(" ".join(str(text).splitlines())))


def code(text: object) -> str:
    """Text in a code span: backticks cannot close it early."""
    return "`" + visible(" ".join(str(text).splitlines())).replace("`", "'") + "`"


def markdown(snapshot: Snapshot, diagnoses: list[Diagnosis], bundle_name: str) -> str:
    e = snapshot.engine
    out = [f"# netdiag report: {md(bundle_name)}", "",
           f"- collected: {md(snapshot.created or 'unknown')} by netdiag {md(snapshot.netdiag_version or '?')}",
           f"- Docker daemon: {e.location}{' (' + e.vm_kind + ')' if e.vm_kind else ''} at {md(e.host_address)}, "
           f"endpoint {md(e.endpoint)}, engine {md(e.server_version)}", ""]
    for d in diagnoses:
        out += [f"## {md(d.container)}: {d.verdict}", ""]
        a = d.attempt
        out.append(f"Attempt: {md(a.to_text or d.tried or 'the published ports')} from {md(a.origin)}; "
                   f"ports {', '.join(map(str, d.ports)) or 'none'}.")
        out.append("")
        for i, c in enumerate(d.causes, 1):
            out += [f"### {i}. `{c.code}` ({c.rule}): {md(c.summary)}", "", "Evidence:", ""]
            out += [f"- {md(x)}" for x in c.evidence]
            out += ["", "Fix:", ""] + [f"- {code(x)}" if x.startswith(("docker ", "sysctl ", "iptables ", "ip "))
                                       else f"- {md(x)}" for x in c.fix] + [""]
        if d.works:
            out += ["Works: " + ", ".join(code(w) for w in d.works), ""]
        out += [f"- note: {md(n)}" for n in d.notes]
        out += [f"- unknown: {md(u)}" for u in d.unknown_reasons]
        out += ["", "| hop | status | detail |", "|---|---|---|"]
        out += [f"| {md(h.hop)} | {h.status} | {md(h.detail)} |" for h in d.path]
        out.append("")
    return "\n".join(out)


def _svg(snapshot: Snapshot, d: Diagnosis) -> str:
    """The topology of one diagnosis: client -> boundary -> networks -> containers."""
    e = snapshot.engine
    failed = {h.hop.split(" (")[0] for h in d.path if h.status == HopStatus.FAIL}
    target = next((c for c in snapshot.containers if c.id == d.container_id), None)
    nets = [n for n in snapshot.networks if target and n.name in {ep.network for ep in target.endpoints}]
    width, height = 900, 140 + 110 * max(1, len(nets))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="13">']

    def box(x, y, w, h, label, colour, sub="", dash=False):
        stroke = f'stroke="{colour}" stroke-width="{4 if colour == RED else 2}"' + (' stroke-dasharray="6 4"' if dash
                                                                                  else "")
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="white" {stroke}/>')
        parts.append(f'<text x="{x + 10}" y="{y + 20}" font-weight="bold">{html.escape(label)}</text>')
        if sub:
            parts.append(f'<text x="{x + 10}" y="{y + 38}" fill="#444">{html.escape(sub)}</text>')

    client_fail = bool(failed & {Hop.CLIENT, Hop.SOURCE_CONTAINER})
    box(20, 40, 200, 80, "client" if d.attempt.origin.is_host else str(d.attempt.origin),
        RED if client_fail else GREY, (snapshot.client.hostname if snapshot.client else "") or "")
    place = "this machine" if e.location == Location.LOCAL else (f"VM {e.vm_kind}" if e.vm_kind else (
        "host of netdiag's container" if e.location == Location.CONTAINER else "remote host"))
    box(300, 20, 580, height - 40, f"Docker host: {place} {e.host_address}", RED if "boundary" in failed else GREY,
        dash=e.location != Location.LOCAL)
    y = 70
    target_y = y
    for n in nets:
        ncol = RED if failed & {"network", "shared network", "name resolution"} else GREY
        box(320, y, 540, 90, f"network {n.name}", ncol, ", ".join(n.subnets) + (" (internal)" if n.internal else ""))
        if target is not None:
            ep = next(x for x in target.endpoints if x.network == n.name)
            ccol = RED if failed & {"container", "listener", "process"} else (
                GREEN if d.verdict == Verdict.REACHABLE else GREY)
            box(600, y + 25, 240, 55, target.name, ccol, ep.ipv4)
            target_y = y + 50
        y += 110
    bindings = ", ".join(f"{b.host_ip or '0.0.0.0'}:{b.host_port}->{b.container_port}"
                         for b in (target.published if target else ()) if b.host_ip != "::")
    bcol = RED if failed & {"host binding", "forwarding"} else GREY
    parts.append(f'<text x="320" y="{height - 30}" fill="{bcol}" font-weight="bold">published: '
                 f'{html.escape(bindings or "nothing")}</text>')
    line = VERDICT_COLOUR.get(d.verdict, GREY)
    parts.append(f'<line x1="220" y1="80" x2="600" y2="{target_y}" stroke="{line}" stroke-width="3"/>')
    if d.verdict != Verdict.REACHABLE and failed:
        # the mark sits on the first element that fails, along the line from the client
        first = next(h.hop.split(" (")[0] for h in d.path if h.status == HopStatus.FAIL)
        share = 0.12 if first in (Hop.CLIENT, Hop.SOURCE_CONTAINER) else 0.45 if first in (
            Hop.BOUNDARY, Hop.HOST_BINDING, Hop.FORWARDING) else 0.75 if first in (
            Hop.NETWORK, Hop.SHARED_NETWORK, Hop.NAME_RESOLUTION) else 0.92
        mid_x, mid_y = 220 + share * 380, 80 + share * (target_y - 80)
        parts.append(f'<circle cx="{mid_x}" cy="{mid_y}" r="16" fill="{RED}"/>'
                     f'<text x="{mid_x - 6}" y="{mid_y + 6}" fill="white" font-size="18" font-weight="bold">X</text>')
        parts.append(f'<text x="{mid_x - 30}" y="{mid_y + 36}" fill="{RED}" font-weight="bold">'
                     f'{html.escape(first)} fails</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(snapshot: Snapshot, diagnoses: list[Diagnosis], bundle_name: str) -> str:
    esc = html.escape
    body = [f"<h1>netdiag report: {esc(bundle_name)}</h1>",
            f"<p>collected {esc(snapshot.created or 'at an unknown time')} by netdiag "
            f"{esc(snapshot.netdiag_version or '?')}; Docker daemon: {esc(snapshot.engine.location)} "
            f"{esc(snapshot.engine.vm_kind)} at {esc(snapshot.engine.host_address)}</p>"]
    for d in diagnoses:
        colour = VERDICT_COLOUR.get(d.verdict, GREY)
        body.append(f'<h2>{esc(d.container)}: <span style="color:{colour}">{esc(d.verdict)}</span></h2>')
        body.append(_svg(snapshot, d))
        for i, c in enumerate(d.causes, 1):
            body.append(f"<h3>{i}. <code>{esc(c.code)}</code> ({esc(c.rule)}): {esc(c.summary)}</h3>")
            body.append("<p>Evidence</p><ul>" + "".join(f"<li>{esc(x)}</li>" for x in c.evidence) + "</ul>")
            body.append("<p>Fix</p><ul>" + "".join(f"<li><code>{esc(x)}</code></li>" for x in c.fix) + "</ul>")
        if d.works:
            body.append("<p>Works: " + ", ".join(f"<code>{esc(w)}</code>" for w in d.works) + "</p>")
        body.append("<table><tr><th>hop</th><th>status</th><th>detail</th></tr>" + "".join(
            f'<tr><td>{esc(h.hop)}</td><td style="color:{HOP_COLOUR.get(h.status, GREY)}">'
            f"{esc(h.status)}</td><td>{esc(h.detail)}</td></tr>" for h in d.path) + "</table>")
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             "code{background:#f4f4f4;padding:1px 4px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>netdiag report: {esc(bundle_name)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
