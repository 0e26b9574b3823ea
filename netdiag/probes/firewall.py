"""Forwarding and firewall state of the Docker host (when it is this machine).

Reads /proc/sys, `iptables-save` and `nft -j list ruleset`; writes nothing.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess

from netdiag.facts import Firewall, Outcome
from netdiag.parsers.iptables import OTHER_VARIANT, iptables_variant, parse_iptables_save
from netdiag.parsers.nft import dockers, foreign
from netdiag.parsers.nft import nft_chains as nft_chains_of
from netdiag.probes.runner import read_text, run_command

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
IPV6_FORWARD = "/proc/sys/net/ipv6/conf/all/forwarding"
BRIDGE_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables"  # absent without br_netfilter


def read_iptables_save(tool: str = "iptables-save") -> tuple[Outcome, str]:
    """`iptables-save` (or `ip6tables-save`) text, all tables, or why it could not be read."""
    exe = shutil.which(tool)
    if not exe:
        return Outcome.unavailable(f"{tool} is not installed"), ""
    if os.geteuid() != 0:
        return Outcome.unavailable(f"{tool} needs root: run netdiag with sudo to see the firewall"), ""
    try:
        code, out, err = run_command([exe])
    except subprocess.TimeoutExpired:
        return Outcome.failed(f"{tool} did not finish within 5s", tool), ""
    except OSError as e:
        return Outcome.failed(f"{tool}: {e}", tool), ""
    if code != 0:
        return Outcome.failed(f"{tool} exited {code}: {err.strip()[:200]}", tool), ""
    return Outcome(method=os.path.basename(os.path.realpath(exe))), out


IP_TABLES_NAMES = "/proc/net/ip_tables_names"  # the legacy (x_tables) tables loaded in this network namespace


def read_other_variant(default_text: str) -> tuple[str, Outcome, str]:
    """(variant, outcome, text) of the iptables variant the default iptables-save does not read,
    when its tables are in use: iptables-legacy-save beside iptables-nft when legacy tables are
    loaded (/proc/net/ip_tables_names lists them: reading them loads nothing), iptables-nft-save
    beside iptables-legacy."""
    variant, tool = OTHER_VARIANT.get(iptables_variant(default_text), ("", ""))
    if not variant:
        return "", Outcome.unavailable("the default iptables-save's variant is not known"), ""
    if variant == "legacy":
        try:
            if not read_text(IP_TABLES_NAMES).strip():
                return variant, Outcome.unavailable("no legacy iptables tables are loaded"), ""
        except OSError:
            return variant, Outcome.unavailable(f"{IP_TABLES_NAMES} is absent: no legacy iptables tables"), ""
    outcome, text = read_iptables_save(tool)
    return variant, outcome, text


def read_nft_ruleset() -> tuple[Outcome, str]:
    """The nftables tables netdiag reads, as one `nft -j list ruleset` JSON document, or why they
    could not be read. iptables-nft's own tables (read through iptables-save) are left out: with
    hundreds of containers they are most of the ruleset, and decoding them costs time and memory."""
    exe = shutil.which("nft")
    if not exe:
        return Outcome.unavailable("nft is not installed: nftables tables beside iptables were not read"), ""
    if os.geteuid() != 0:
        return Outcome.unavailable("nft needs root: run netdiag with sudo to see the nftables tables"), ""
    try:
        code, out, err = run_command([exe, "-j", "list", "tables"])
        if code != 0:
            return Outcome.failed(f"nft exited {code}: {err.strip()[:200]}", "nft"), ""
        items = json.loads(out).get("nftables", [])
        wanted = [(t["family"], t["name"]) for t in (i.get("table") for i in items if isinstance(i, dict))
                  if isinstance(t, dict) and (foreign(str(t.get("family")), str(t.get("name")))
                                              or dockers(str(t.get("family")), str(t.get("name"))))]
        merged = [i for i in items if isinstance(i, dict) and "metainfo" in i]
        for family, name in wanted:
            code, out, err = run_command([exe, "-j", "list", "table", str(family), str(name)])
            if code != 0:
                return Outcome.failed(f"nft exited {code}: {err.strip()[:200]}", "nft"), ""
            merged += [i for i in json.loads(out).get("nftables", []) if isinstance(i, dict) and "metainfo" not in i]
    except (OSError, subprocess.TimeoutExpired) as e:
        return Outcome.failed(f"nft: {e}", "nft"), ""
    except (ValueError, AttributeError) as e:  # not JSON: an nft too old for -j
        return Outcome.failed(f"nft -j did not print JSON: {e}", "nft"), ""
    return Outcome(method="nft -j list tables, then each table netdiag reads"), json.dumps({"nftables": merged})


def probe_firewall(iptables: tuple[Outcome, str] | None = None) -> Firewall:
    """ip_forward (global and per interface), every iptables chain with its policy and rules, and
    the other nftables tables, all of this machine."""
    per_iface = {}
    for path in sorted(glob.glob("/proc/sys/net/ipv4/conf/*/forwarding")):
        try:
            per_iface[path.split("/")[-2]] = read_text(path)
        except OSError:
            continue
    flags = {}
    for path in (IP_FORWARD, IPV6_FORWARD):
        try:
            flags[path] = read_text(path)
        except OSError:
            continue
    try:
        bridge_nf: str | None = read_text(BRIDGE_NF)
    except FileNotFoundError:
        bridge_nf = ""  # br_netfilter is not loaded: bridged traffic never meets iptables
    except OSError:
        bridge_nf = None
    iptables = iptables if iptables is not None else read_iptables_save()
    return firewall_from(flags.get(IP_FORWARD), flags.get(IPV6_FORWARD), per_iface, iptables, read_nft_ruleset(),
                         "/proc/sys, iptables-save", read_iptables_save("ip6tables-save"),
                         read_other_variant(iptables[1]), bridge_nf)


def firewall_from(ip_forward: str | None, ipv6_forward: str | None, per_interface: dict[str, str],
                  iptables: tuple[Outcome, str], nft: tuple[Outcome, str], method: str,
                  ip6tables: tuple[Outcome, str] = (Outcome.unavailable("not read"), ""),
                  other: tuple[str, Outcome, str] = ("", Outcome.unavailable("not read"), ""),
                  bridge_nf: str | None = None) -> Firewall:
    """The Firewall record from what was read, here or by the host helper: the sysctls' text
    ("1"; bridge-nf-call-iptables "" when br_netfilter is not loaded, None when not read),
    `iptables-save`, `ip6tables-save`, `nft -j list ruleset` and the other iptables variant's
    save (variant, outcome, text) with their outcomes."""
    def flag(text: str | None) -> bool | None:
        return None if text is None else text.strip() == "1"

    ipt_outcome, ipt_text = iptables
    nft_outcome, nft_text = nft
    per_iface = {name: value for name, text in sorted(per_interface.items())
                 if name not in ("all", "default") and (value := flag(text)) is not None}
    outcome = Outcome(method=method) if ip_forward is not None else Outcome.unavailable(
        f"{IP_FORWARD} cannot be read")
    raw = {"iptables-save": ipt_text} if ipt_text else {}
    nft_chains: tuple = ()
    docker_chains: tuple = ()
    if nft_text:
        try:
            data = json.loads(nft_text)
            nft_chains = tuple(nft_chains_of(data))
            docker_chains = tuple(nft_chains_of(data, dockers))
            raw["nft -j list ruleset"] = nft_text
        except ValueError as e:  # not JSON: an nft too old for -j
            nft_outcome = Outcome.failed(f"nft -j list ruleset did not print JSON: {e}", "nft")
    ip6_outcome, ip6_text = ip6tables
    if ip6_text:
        raw["ip6tables-save"] = ip6_text
    other_variant, other_outcome, other_text = other
    if other_text:
        raw[OTHER_VARIANT.get(iptables_variant(ipt_text), ("", "other iptables-save"))[1]] = other_text
    return Firewall(outcome, flag(ip_forward), flag(ipv6_forward), per_iface, ipt_outcome,
                    tuple(parse_iptables_save(ipt_text)) if ipt_text else (), raw, nft_outcome, nft_chains,
                    docker_chains, ip6_outcome, tuple(parse_iptables_save(ip6_text)) if ip6_text else (),
                    iptables_variant(ipt_text), other_variant, other_outcome,
                    tuple(parse_iptables_save(other_text)) if other_text else (), flag(bridge_nf))
