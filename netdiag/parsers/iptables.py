"""iptables-save output: chains with their policy and rules parsed into match fields, and Docker's
DNAT rules. Pure."""

from __future__ import annotations

import shlex

from netdiag.facts import Chain, FirewallRule, Match, NatRule
from netdiag.vocab import Protocol

# option as iptables-save writes it (and its long form) -> FirewallRule field
MATCH_FIELDS = {
    "-p": "protocol", "--protocol": "protocol",
    "-s": "source", "--source": "source",
    "-d": "destination", "--destination": "destination",
    "-i": "in_interface", "--in-interface": "in_interface",
    "-o": "out_interface", "--out-interface": "out_interface",
    "--sport": "sports", "--source-port": "sports", "--sports": "sports", "--source-ports": "sports",
    "--dport": "dports", "--destination-port": "dports", "--dports": "dports", "--destination-ports": "dports",
    "--ctstate": "ctstate", "--state": "ctstate",
    "--ctorigdst": "ctorigdst", "--ctorigdstport": "ctorigdstport",
}
# options that name a module or only label a rule: no effect on what it matches
IGNORED = {"-m", "--match", "--comment"}
TARGET = {"-j", "--jump", "-g", "--goto"}
FLAGS = {"--syn", "-f", "--fragment"}  # options without a value


def parse_rule(text: str) -> FirewallRule:
    """One rule as iptables-save writes it after "-A CHAIN"."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    fields: dict[str, Match] = {}
    target = ""
    target_options: dict[str, str] = {}
    other: list[str] = []
    negate = False
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w == "!":
            negate = True
            continue
        if not w.startswith("-"):
            continue
        value = ""
        if w not in FLAGS and i < len(words) and (not words[i].startswith("-") or words[i] == "!"):
            if words[i] == "!":  # "--dport ! 80", the older placement of the negation
                negate, i = True, i + 1
            value = words[i] if i < len(words) else ""
            i += 1
        if w in TARGET:
            target = value
        elif target:
            target_options[w] = value
        elif w in MATCH_FIELDS:
            fields[MATCH_FIELDS[w]] = Match(value, negate)
        elif w not in IGNORED:
            other.append(f"{'! ' if negate else ''}{w} {value}".strip())
        negate = False
    return FirewallRule(text, target, target_options=target_options, other=tuple(other), **fields)


def parse_iptables_save(text: str) -> list[Chain]:
    """Every chain of every table, in the order iptables-save writes them."""
    chains: dict[tuple[str, str], tuple[str, list[FirewallRule]]] = {}
    table = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            parts = line[1:].split()
            policy = parts[1] if len(parts) > 1 and parts[1] != "-" else ""
            chains[(table, parts[0])] = (policy, [])
        elif line.startswith("-A "):
            _, name, *rest = line.split(" ", 2) + [""]
            chains.setdefault((table, name), ("", []))[1].append(parse_rule(rest[0].strip() if rest else ""))
    return [Chain(t, n, policy, tuple(rules)) for (t, n), (policy, rules) in chains.items()]


def docker_nat_rules(chains: list[Chain]) -> list[NatRule]:
    """The DNAT rules of nat/DOCKER that publish host ports to containers."""
    out = []
    for chain in chains:
        if chain.table != "nat" or chain.name != "DOCKER":
            continue
        for rule in chain.rules:
            dest = rule.target_options.get("--to-destination", "")
            if rule.target != "DNAT" or not dest or rule.dports is None:
                continue
            cip, _, cport = dest.rpartition(":")
            d = rule.destination
            host_ip = d.value.split("/")[0] if d is not None and not d.negated else ""
            iface = rule.in_interface
            try:
                protocol = Protocol(rule.protocol.value if rule.protocol else "tcp")
                out.append(NatRule(protocol, host_ip, int(rule.dports.value), cip.strip("[]"), int(cport),
                                   f"{'!' if iface.negated else ''}{iface.value}" if iface else ""))
            except ValueError:
                continue
    return out
