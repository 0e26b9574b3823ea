"""A diagnosis for a person: the verdict, each cause with its evidence and fix, the path. Short
enough to paste into a chat; coloured on a terminal, plain when piped or with NO_COLOR."""

from __future__ import annotations

from netdiag.diagnosis import Diagnosis
from netdiag.rules import SECTIONS, Rule
from netdiag.vocab import HopStatus, Verdict

COLOURS: dict[str, str | None] = {Verdict.REACHABLE: "green", Verdict.UNREACHABLE: "red", Verdict.UNKNOWN: "yellow",
                                  HopStatus.OK: "green", HopStatus.FAIL: "red", HopStatus.SKIP: None}
MARKS = {HopStatus.OK: "ok ", HopStatus.FAIL: "XX ", HopStatus.SKIP: "-- ", HopStatus.UNKNOWN: "?? "}


def render(d: Diagnosis, colour: bool = False) -> str:
    import click

    def paint(text: str, key: str, bold: bool = False) -> str:
        c = COLOURS.get(key)
        return click.style(text, fg=c, bold=bold) if colour and c else text

    a = d.attempt
    if d.container:
        what = d.container + (f" port {', '.join(str(p) for p in d.ports)}" if d.ports else "")
        how = f" via {a.to_text}" if a.to_text else ""
    else:  # out of a container, to an address or a name
        what = a.to_text + (f" port {d.ports[0]}" if d.ports and not a.to_text.endswith(f":{d.ports[0]}") else "")
        how = f" ({a.address})" if a.name and a.address else ""
    origin = f" from {a.origin}" if not a.origin.is_host else ""
    lines = [paint(f"{d.verdict.upper()}: {what}{how}{origin}", d.verdict, bold=True)]
    for i, c in enumerate(d.causes, 1):
        lines.append("")
        lines.append(paint(f"{i}. [{c.code}] {c.summary}", Verdict.UNREACHABLE, bold=True) + f"  ({c.rule})")
        lines += [f"   - {e}" for e in c.evidence]
        lines += [f"   fix: {f}" for f in c.fix]
    if d.works:
        lines += ["", "works: " + ", ".join(d.works)]
    for n in d.notes:
        lines.append(f"note: {n}")
    for u in d.unknown_reasons:
        lines.append(paint(f"unknown: {u}", Verdict.UNKNOWN))
    lines += ["", "path:"]
    for h in d.path:
        lines.append("  " + paint(MARKS.get(h.status, "?? "), h.status) + f"{h.hop}: {h.detail}")
    return "\n".join(lines)


def rule_text(rule: Rule) -> str:
    """One rule's documentation, as `netdiag rules ID` prints it."""
    s = rule.sections()
    head = f"{rule.id} {rule.code}" + (f" (hop: {rule.hop})" if rule.hop else " (an error, before any rule runs)")
    out = [head, rule.title, ""]
    for name in SECTIONS:
        if s.get(name):
            out.append(f"{name}: {s[name]}")
    if rule.needs:
        out.append(f"Needs: {rule.needs_text()}")
    return "\n".join(out)
