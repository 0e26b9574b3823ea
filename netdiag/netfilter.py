"""What a chain of firewall rules does to one packet, evaluated on the parsed match fields. Pure.

Each match is true, false, or unknown (the packet's field is not known, e.g. which machine the
client is, or the rule uses a match netdiag does not evaluate). A chain walk reports the first
rule that decides the packet, or the first rule that might, so the firewall rules can tell "this
rule drops it" from "this rule may drop it, depending on ..." and never claim the second.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from netdiag.facts import Chain, FirewallRule, Match

TERMINAL = {"ACCEPT", "DROP", "REJECT", "RETURN"}
BLOCKING = {"DROP", "REJECT"}


@dataclass(frozen=True)
class Packet:
    """A packet as the filter table's FORWARD chain sees it (after DNAT). None: not known."""

    protocol: str
    destination: str
    dport: int | None  # None: not known (the ephemeral port of a reply)
    source: str | None = None
    in_interface: str | None = None
    out_interface: str | None = None
    ctstate: str = "NEW"
    orig_destination: str | None = None  # before DNAT: the published host address
    orig_dport: int | None = None  # before DNAT: the host port
    # interfaces the packet certainly does not come in by, when which one it does is not known
    # (from another machine: not a Docker bridge, not loopback)
    not_in_interfaces: frozenset[str] = frozenset()
    # networks its source is certainly outside of, when the source is not known (from another
    # machine: not a container's address)
    not_from: frozenset[str] = frozenset()


def _address(m: Match, value: str | None, outside: frozenset[str] = frozenset()) -> bool | None:
    if value is None:
        return False if _within_any(m.value, outside) else None
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(m.value, strict=False)
    except ValueError:
        return None


def _within_any(prefix: str, networks: frozenset[str]) -> bool:
    """Whether the rule's address or network lies wholly inside one of `networks`."""
    try:
        net = ipaddress.ip_network(prefix, strict=False)
        return any(net.version == ipaddress.ip_network(n, strict=False).version
                   and net.subnet_of(ipaddress.ip_network(n, strict=False)) for n in networks)  # type: ignore[arg-type]
    except ValueError:
        return False


def _interface(m: Match, value: str | None, not_these: frozenset[str] = frozenset()) -> bool | None:
    if value is None:
        return False if m.value in not_these else None
    return value.startswith(m.value[:-1]) if m.value.endswith("+") else value == m.value


def _port(m: Match, value: int | None) -> bool | None:
    if value is None:
        return None
    for part in m.value.split(","):
        low, _, high = part.partition(":")
        try:
            if int(low or 0) <= value <= int(high or low or 65535):
                return True
        except ValueError:
            return None  # a service name: not evaluated
    return False


def _protocol(m: Match, value: str) -> bool | None:
    return m.value in ("all", "0") or value in m.value.lower().split(",")  # nft: `meta l4proto { tcp, udp }`


def _ctstate(m: Match, value: str) -> bool | None:
    return value in m.value.upper().split(",")


def matches(rule: FirewallRule, p: Packet) -> bool | None:
    """True when every match of the rule holds for the packet, False when one fails, None when
    the answer depends on what is not known."""
    checks: list[bool | None] = []
    fields: tuple[tuple[Match | None, Callable[[Match], bool | None]], ...] = (
            (rule.protocol, lambda m: _protocol(m, p.protocol)),
            (rule.source, lambda m: _address(m, p.source, p.not_from)),
            (rule.destination, lambda m: _address(m, p.destination)),
            (rule.in_interface, lambda m: _interface(m, p.in_interface, p.not_in_interfaces)),
            (rule.out_interface, lambda m: _interface(m, p.out_interface)),
            (rule.sports, lambda m: None),
            (rule.dports, lambda m: _port(m, p.dport)),
            (rule.ctstate, lambda m: _ctstate(m, p.ctstate)),
            (rule.ctorigdst, lambda m: _address(m, p.orig_destination)),
            (rule.ctorigdstport, lambda m: _port(m, p.orig_dport)))
    for m, result in fields:
        if m is None:
            continue
        r = result(m)
        checks.append(None if r is None else r != m.negated)
    if False in checks:
        return False
    if None in checks or rule.other:
        return None
    return True


@dataclass(frozen=True)
class Decision:
    """Where a chain walk ended: the deciding target, the rule (with its chain and 1-based
    position), and whether it certainly applies."""

    target: str  # ACCEPT, DROP, REJECT, RETURN, or "" when the chain ran out (its policy applies)
    chain: str = ""
    position: int = 0
    rule: FirewallRule | None = None
    certain: bool = True


def walk(chains: dict[str, Chain], name: str, p: Packet, depth: int = 0,
         terminal: frozenset[str] | set[str] = TERMINAL) -> Decision:
    """Follow a chain (and the user chains it jumps to) until a rule decides the packet.

    A rule whose match is unknown and whose target would decide is reported as an uncertain
    verdict: the walk stops there, because everything after it depends on that rule. `terminal`
    names the targets that decide (the nat table's are MASQUERADE, SNAT, ACCEPT, RETURN)."""
    chain = chains.get(name)
    if chain is None or depth > 8:
        return Decision("", name)
    for i, rule in enumerate(chain.rules, 1):
        m = matches(rule, p)
        if m is False or not rule.target:
            continue
        if rule.target in terminal:
            return Decision(rule.target, name, i, rule, certain=bool(m))
        if rule.target in chains:  # a jump to a user chain
            inner = walk(chains, rule.target, p, depth + 1, terminal)
            if inner.target in ("", "RETURN") and inner.certain:
                continue
            return inner if m else Decision(inner.target, inner.chain, inner.position, inner.rule, certain=False)
    return Decision("", name)


def nft_drop(chains: tuple[Chain, ...], hook: str, p: Packet, ipv6: bool = False) -> tuple[Chain, Decision] | None:
    """The first nftables base chain on `hook` (of the foreign tables, of the packet's families:
    ip and inet, or ip6 and inet) that certainly drops the packet, by a rule or by its policy;
    None when none does, or when what they do depends on what is not known. Every base chain on a
    hook sees the packet: an accept in one is not final, a drop in any is."""
    tables: dict[str, dict[str, Chain]] = {}
    for c in chains:
        tables.setdefault(c.table, {})[c.name] = c
    families = ("ip6", "inet") if ipv6 else ("ip", "inet")
    bases = sorted((c for c in chains if c.hook == hook and c.table.split(" ", 1)[0] in families),
                   key=lambda c: c.priority)
    for base in bases:
        d = walk(tables[base.table], base.name, p)
        if d.certain and d.target in BLOCKING:
            return base, d
        if d.certain and d.target in ("", "RETURN") and base.policy == "DROP":
            return base, d
    return None
