"""`nft -j list ruleset`: the nftables tables that are neither iptables' nor Docker's, and
Docker's own (`ip docker-bridges`, its nftables firewall backend, Docker 29), as chains of
FirewallRule records that netdiag.netfilter walks like iptables' own. Pure.

Every base chain on a hook sees every packet, whichever table it is in, and a drop in any of them
is final: a `table inet filter` whose forward chain has policy drop (a hardened
/etc/nftables.conf, firewalld) drops Docker's traffic however many iptables rules accept it.
Expressions netdiag does not evaluate (sets, marks, limits) are kept in `other`, which makes
the rule's match unknown: such a rule is never claimed. A verdict map on an interface name
(`oifname vmap @filter-forward-in-jumps`, how Docker's table dispatches per bridge) becomes one
rule per element, as iptables would write it (`-o bridge1 -j filter-forward-in__bridge1`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from netdiag.facts import Chain, FirewallRule, Match

# tables iptables-nft makes (read through iptables-save) and Docker's own nftables backend
IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security"})
DOCKER_TABLES = frozenset({"docker-bridges"})
VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT", "return": "RETURN"}
IGNORED = frozenset({"counter", "log", "comment", "notrack"})


def foreign(family: str, table: str) -> bool:
    return not ((family in ("ip", "ip6") and table in IPTABLES_TABLES) or table in DOCKER_TABLES)


def dockers(family: str, table: str) -> bool:
    return table in DOCKER_TABLES


def _value(right: Any) -> str | None:
    """An nft right-hand side as iptables would write it: "10.0.0.0/8", "80", "8000:8080", "a,b"."""
    if isinstance(right, (str, int)):
        return str(right)
    if isinstance(right, dict):
        if "prefix" in right:
            return f"{right['prefix'].get('addr')}/{right['prefix'].get('len')}"
        if "range" in right and isinstance(right["range"], list) and len(right["range"]) == 2:
            return f"{right['range'][0]}:{right['range'][1]}"
        if "set" in right and isinstance(right["set"], list) and all(isinstance(v, (str, int)) for v in right["set"]):
            return ",".join(str(v) for v in right["set"])
    if isinstance(right, list) and all(isinstance(v, str) for v in right):
        return ",".join(right)
    return None


def _match(expr: dict[str, Any], fields: dict[str, Any], words: list[str]) -> bool:
    """Fill `fields` from one match expression; False when netdiag does not evaluate it."""
    m = expr.get("match") or {}
    op, left, right = m.get("op", "=="), m.get("left") or {}, m.get("right")
    if op not in ("==", "!=", "in"):
        return False
    value = _value(right)
    if value is None:
        return False
    negated = op == "!="
    if "meta" in left:
        key = left["meta"].get("key")
        name = {"iifname": "in_interface", "oifname": "out_interface", "l4proto": "protocol"}.get(key)
        if name is None:
            return False
        if name != "protocol" and value.endswith("*"):
            value = value[:-1] + "+"  # nft's wildcard interface, written the way iptables does
        fields[name] = Match(value, negated)
        words.append(f"{key} {'!= ' if negated else ''}{value}")
        return True
    if "payload" in left:
        proto, field = left["payload"].get("protocol"), left["payload"].get("field")
        if proto in ("ip", "ip6") and field in ("saddr", "daddr"):
            fields["source" if field == "saddr" else "destination"] = Match(value, negated)
        elif proto in ("tcp", "udp", "sctp") and field in ("sport", "dport"):
            fields["protocol"] = Match(proto)
            fields["sports" if field == "sport" else "dports"] = Match(value, negated)
        else:
            return False
        words.append(f"{proto} {field} {'!= ' if negated else ''}{value}")
        return True
    if "ct" in left and left["ct"].get("key") == "state":
        fields["ctstate"] = Match(value.upper(), negated)
        words.append(f"ct state {'!= ' if negated else ''}{value}")
        return True
    return False


def _rule(exprs: list[Any]) -> FirewallRule:
    fields: dict[str, Any] = {}
    words: list[str] = []
    other: list[str] = []
    target = ""
    for expr in exprs:
        if not isinstance(expr, dict) or not expr:
            continue
        kind = next(iter(expr))
        if kind == "match":
            if not _match(expr, fields, words):
                other.append(json.dumps(expr, sort_keys=True)[:200])
                words.append("<" + kind + ">")
        elif kind in VERDICTS:
            target = VERDICTS[kind]
            words.append(kind)
        elif kind in ("jump", "goto") and isinstance(expr[kind], dict):
            target = str(expr[kind].get("target", ""))
            words.append(f"{kind} {target}")
        elif kind in IGNORED:
            continue
        else:
            other.append(json.dumps(expr, sort_keys=True)[:200])
            words.append(f"<{kind}>")
    return FirewallRule(" ".join(words), target, other=tuple(other), **fields)


def _vmap_rules(exprs: list[Any], maps: dict[tuple[str, str, str], list[Any]], family: str,
                table: str) -> list[FirewallRule] | None:
    """A rule that is one verdict map on an interface name, as one rule per element; None for
    any other rule."""
    vmaps = [e["vmap"] for e in exprs if isinstance(e, dict) and isinstance(e.get("vmap"), dict)]
    if len(vmaps) != 1 or len(exprs) != 1:
        return None
    key = ((vmaps[0].get("key") or {}).get("meta") or {}).get("key")
    data = vmaps[0].get("data")
    if key not in ("iifname", "oifname") or not isinstance(data, str) or not data.startswith("@"):
        return None
    out = []
    for elem in maps.get((family, table, data[1:]), []):
        if isinstance(elem, list) and len(elem) == 2 and isinstance(elem[0], str) and isinstance(elem[1], dict):
            out.append(_rule([{"match": {"op": "==", "left": {"meta": {"key": key}}, "right": elem[0]}}, elem[1]]))
    return out


def parse_nft_ruleset(text: str, want: Callable[[str, str], bool] = foreign) -> list[Chain]:
    """The chains of the tables `want` picks (by family and name; the foreign tables by
    default, `dockers` for Docker's own), each with its hook, priority, policy and rules."""
    return nft_chains(json.loads(text) if text.strip() else {}, want)


def nft_chains(data: Any, want: Callable[[str, str], bool] = foreign) -> list[Chain]:
    """parse_nft_ruleset over JSON already decoded (a ruleset is decoded once for both kinds of
    tables: with hundreds of containers, iptables-nft's own tables make it large)."""
    items = data.get("nftables", []) if isinstance(data, dict) else []
    chains: dict[tuple[str, str, str], dict[str, Any]] = {}
    rules: dict[tuple[str, str, str], list[FirewallRule]] = {}
    maps = {(str(m.get("family")), str(m.get("table")), str(m.get("name"))): m.get("elem") or []
            for item in items if isinstance(item, dict) and isinstance(m := item.get("map"), dict)}
    for item in items:
        if not isinstance(item, dict):
            continue
        if "chain" in item:
            c = item["chain"]
            key = (str(c.get("family")), str(c.get("table")), str(c.get("name")))
            if want(key[0], key[1]):
                chains[key] = c
        elif "rule" in item:
            r = item["rule"]
            key = (str(r.get("family")), str(r.get("table")), str(r.get("chain")))
            if want(key[0], key[1]):
                exprs = r.get("expr") or []
                expanded = _vmap_rules(exprs, maps, key[0], key[1])
                rules.setdefault(key, []).extend(expanded if expanded is not None else [_rule(exprs)])
    out = []
    for key, c in chains.items():
        prio = c.get("prio", 0)
        out.append(Chain(f"{key[0]} {key[1]}", key[2], str(c.get("policy", "")).upper() if c.get("hook") else "",
                         tuple(rules.get(key, ())), str(c.get("hook", "")),
                         prio if isinstance(prio, int) else 0))
    return out
