"""iptables-save output: chains with their policy and rules, and Docker's DNAT rules."""

from __future__ import annotations

import shlex

from netdiag.facts import Chain, NatRule


def parse_iptables_save(text: str) -> list[Chain]:
    """Every chain of every table, in the order iptables-save writes them."""
    chains: dict[tuple[str, str], dict] = {}
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
            chains[(table, parts[0])] = {"policy": policy, "rules": []}
        elif line.startswith("-A "):
            _, name, *rest = line.split(" ", 2) + [""]
            rule = rest[0] if rest else ""
            entry = chains.setdefault((table, name), {"policy": "", "rules": []})
            entry["rules"].append(rule.strip())
    return [Chain(t, n, c["policy"], tuple(c["rules"])) for (t, n), c in chains.items()]


def rule_options(rule: str) -> dict[str, str]:
    """A rule's options: {"-p": "tcp", "--dport": "80", "-d": "!10.0.0.0/8", "-j": "DROP"}."""
    try:
        words = shlex.split(rule)
    except ValueError:
        words = rule.split()
    opts: dict[str, str] = {}
    i = 0
    negate = False
    while i < len(words):
        w = words[i]
        if w == "!":
            negate = True
        elif w.startswith("-"):
            value = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("-") else ""
            if value:
                i += 1
            opts[w] = ("!" if negate else "") + value
            negate = False
        i += 1
    return opts


def docker_nat_rules(chains: list[Chain]) -> list[NatRule]:
    """The DNAT rules of nat/DOCKER that publish host ports to containers."""
    out = []
    for chain in chains:
        if chain.table != "nat" or chain.name != "DOCKER":
            continue
        for rule in chain.rules:
            o = rule_options(rule)
            if o.get("-j") != "DNAT" or "--to-destination" not in o or "--dport" not in o:
                continue
            dest = o["--to-destination"]
            cip, _, cport = dest.rpartition(":")
            cip = cip.strip("[]")
            host_ip = o.get("-d", "")
            host_ip = host_ip.split("/")[0] if host_ip and not host_ip.startswith("!") else ""
            try:
                out.append(NatRule(o.get("-p", "tcp"), host_ip, int(o["--dport"]), cip, int(cport),
                                   o.get("-i", "")))
            except ValueError:
                continue
    return out
