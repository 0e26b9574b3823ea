"""The Docker host seen from outside, by consent: one helper container in its namespaces.

With the daemon in a VM or on another host, its forwarding sysctls, firewall and routes cannot
be read from the client. `--helper IMAGE` allows netdiag to start one short-lived container from
an image already on the daemon, in the host's network namespace, with the host's root file
system mounted read-only, CAP_NET_ADMIN (what reading the firewall needs) and CAP_SYS_PTRACE
(what naming the process behind a socket needs: not privileged, and not in the host's PID
namespace); it chroots into the host's files (busybox has chroot) and runs the host's own tools,
reading only: the forwarding sysctls, `iptables-save`, `ip6tables-save`, `nft -j list ruleset`,
the routes, the addresses and the listening sockets with their processes (`ss`; without it,
/proc/net's tables).
It is labelled and removed at once, also on Ctrl-C (netdiag.probes.helper).
"""

from __future__ import annotations

import json

from netdiag.facts import Firewall, HostNet, Interface, Outcome, PortHolders
from netdiag.parsers.iptables import OTHER_VARIANT, docker_nat_rules, iptables_variant
from netdiag.parsers.procnet import PROC_NET_FILES, listeners_from_files
from netdiag.parsers.routes import parse_ipv4_routes, parse_ipv6_routes
from netdiag.parsers.ss import parse_ss
from netdiag.vocab import HostRole

MARK = "@@@netdiag "
SCRIPT = "; ".join([
    f'for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding '
    f'/proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables /proc/net/route '
    f'/proc/net/ipv6_route /proc/net/tcp /proc/net/tcp6 '
    f'/proc/net/udp /proc/net/udp6; do echo "{MARK}$f"; cat "$f"; done',
    f'echo "{MARK}ss"; ss -ltnupH 2>&1; echo "{MARK}rc=$?"',
    f'echo "{MARK}iptables-save"; iptables-save 2>&1; echo "{MARK}rc=$?"',
    # the other iptables variant, when its tables are in use too (reading them loads nothing)
    f'echo "{MARK}iptables-legacy-save"; if [ -n "$(cat /proc/net/ip_tables_names 2>/dev/null)" ]; then '
    f'iptables-legacy-save 2>&1; fi; echo "{MARK}rc=$?"',
    f'echo "{MARK}iptables-nft-save"; case "$(iptables-save 2>/dev/null | head -n 1)" in *nf_tables*) ;; '
    f'*) iptables-nft-save 2>&1;; esac; echo "{MARK}rc=$?"',
    f'echo "{MARK}ip6tables-save"; ip6tables-save 2>&1; echo "{MARK}rc=$?"',
    f'echo "{MARK}nft"; nft -j list ruleset 2>&1; echo "{MARK}rc=$?"',
    f'echo "{MARK}addresses"; ip -j addr show 2>&1',
    f'echo "{MARK}hostname"; cat /proc/sys/kernel/hostname',
])
# through the image's sh (busybox runs its chroot applet even where the image has no link for
# it), into the host's own shell, so that its PATH finds the host's tools (a busybox chroot
# would run its own applets first: its ip is not the host's)
ARGV = ["sh", "-c", 'exec chroot /host /bin/sh -c "$1"', "netdiag", SCRIPT]


def split(out: str) -> dict[str, str]:
    """The helper's output by section ("iptables-save", a /proc path...), each section's exit
    status as "<name>.rc"."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            if name.startswith("rc="):
                sections.setdefault(current + ".rc", []).append(name[3:])
            else:
                current = name
                sections[current] = []
        elif current:
            sections[current].append(line)
    return {k: "\n".join(v) + ("\n" if v and not k.endswith(".rc") else "") for k, v in sections.items()}


def _tool(sections: dict[str, str], name: str, tool: str, method: str) -> tuple[Outcome, str]:
    text, rc = sections.get(name, ""), sections.get(name + ".rc", "").strip()
    if rc == "0":
        return Outcome(method=f"{tool} on the Docker host, through {method}"), text
    if rc in ("126", "127") or "not found" in text:
        return Outcome.unavailable(f"the Docker host has no {tool}", method), ""
    return Outcome.failed(f"{tool} on the Docker host exited {rc or '?'}: {text.strip()[:200]}", method), ""


def read_docker_host(api, image: str) -> tuple[Firewall, HostNet, PortHolders]:
    """(the Docker host's firewall, its interfaces and routes, who holds its ports) through the
    privileged helper."""
    from netdiag.probes.firewall import firewall_from
    from netdiag.probes.helper import HelperUnavailable, run_helper

    method = f"a helper container from {image} in the Docker host's network namespace"
    try:
        code, out, err = run_helper(api, image, ARGV, "host", host_root=True)
    except HelperUnavailable as e:
        outcome = Outcome.unavailable(str(e), method)
        return Firewall(outcome), HostNet(outcome, HostRole.DOCKER_HOST), PortHolders(outcome)
    sections = split(out)
    if "/proc/sys/net/ipv4/ip_forward" not in sections:
        outcome = Outcome.unavailable(f"the helper ({image}) exited {code}: {(err or out).strip()[:200]}", method)
        return Firewall(outcome), HostNet(outcome, HostRole.DOCKER_HOST), PortHolders(outcome)
    per_iface = {k.split("/")[-2]: v for k, v in sections.items()
                 if k.startswith("/proc/sys/net/ipv4/conf/") and k.endswith("/forwarding")}
    iptables = _tool(sections, "iptables-save", "iptables-save", method)
    fw = firewall_from(sections["/proc/sys/net/ipv4/ip_forward"],
                       sections.get("/proc/sys/net/ipv6/conf/all/forwarding"), per_iface, iptables,
                       _tool(sections, "nft", "nft", method), method,
                       _tool(sections, "ip6tables-save", "ip6tables-save", method),
                       _other_variant(sections, iptables_variant(iptables[1]), method),
                       sections.get("/proc/sys/net/bridge/bridge-nf-call-iptables", ""))
    routes = parse_ipv4_routes(sections.get("/proc/net/route", "")) + \
        parse_ipv6_routes(sections.get("/proc/net/ipv6_route", ""))
    raw = {k: v for k, v in sections.items() if k in ("/proc/net/route", "/proc/net/ipv6_route")}
    host = HostNet(Outcome(method=method), HostRole.DOCKER_HOST, sections.get("hostname", "").strip(),
                   tuple(_interfaces(sections.get("addresses", ""))), tuple(routes), raw)
    return fw, host, _port_holders(sections, fw, method)


def _other_variant(sections: dict[str, str], default: str, method: str) -> tuple[str, Outcome, str]:
    """(variant, outcome, text) of the iptables variant the host's iptables-save does not read,
    from the helper's sections; its outcome says so when its tables are not in use."""
    variant, tool = OTHER_VARIANT.get(default, ("", ""))
    if not variant:
        return "", Outcome.unavailable("the host's iptables-save variant is not known", method), ""
    outcome, text = _tool(sections, tool, tool, method)
    if outcome.ok and not text.strip():
        return variant, Outcome.unavailable(f"no {variant} iptables tables are in use", method), ""
    return variant, outcome, text


def _port_holders(sections: dict[str, str], fw: Firewall, method: str) -> PortHolders:
    """The host's listening sockets: from its ss with their processes, else from /proc/net's
    tables (who holds a port then unnamed); Docker's DNAT rules from its iptables-save."""
    outcome, text = _tool(sections, "ss", "ss", method)
    if outcome.ok:
        sockets = parse_ss(text)
    else:
        sockets = listeners_from_files({name: sections.get(f"/proc/net/{name}", "")
                                        for name, _, _ in PROC_NET_FILES})
        outcome = Outcome(method=f"/proc/net/tcp and udp on the Docker host, through {method} "
                                 f"(no process names: {outcome.reason})")
    return PortHolders(outcome, tuple(sockets), tuple(docker_nat_rules(list(fw.chains))), fw.iptables_outcome)


def _interfaces(text: str) -> list[Interface]:
    """`ip -j addr show` as Interface records; none when the host's ip cannot print JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out = []
    for link in data if isinstance(data, list) else []:
        if not isinstance(link, dict):
            continue
        addrs = tuple(f"{a.get('local')}/{a.get('prefixlen')}" for a in link.get("addr_info") or ()
                      if isinstance(a, dict) and a.get("local"))
        out.append(Interface(str(link.get("ifname", "")), addrs, "UP" in (link.get("flags") or ()),
                             str(link.get("address", ""))))
    return out
