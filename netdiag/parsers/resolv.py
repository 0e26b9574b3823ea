"""A container's resolv.conf and /etc/hosts, as its resolver reads them. Pure."""

from __future__ import annotations

import re

from netdiag.facts import HostsEntry

EXT_SERVERS = re.compile(r"^#\s*ExtServers:\s*\[(.*)\]")
EMBEDDED_DNS = "127.0.0.11"  # Docker's resolver inside containers on user-defined networks


def parse_resolv_conf(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(nameservers, search domains, the upstreams Docker noted for its embedded DNS).

    Docker 25+ writes `# ExtServers: [host(192.0.2.53) 198.51.100.1]` above `nameserver
    127.0.0.11`; older engines write nothing, and the upstreams are then the container's --dns."""
    servers: list[str] = []
    search: list[str] = []
    ext: list[str] = []
    for line in text.splitlines()[:200]:
        m = EXT_SERVERS.match(line.strip())
        if m:
            for item in m.group(1).split():
                ext.append(item[5:-1] if item.startswith("host(") and item.endswith(")") else item)
            continue
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1].split("%", 1)[0])
        elif words and words[0] in ("search", "domain"):
            search = words[1:]
    return tuple(servers), tuple(search), tuple(ext)


def parse_hosts(text: str) -> tuple[HostsEntry, ...]:
    """/etc/hosts: address and names per line, comments left out."""
    out = []
    for line in text.splitlines()[:1000]:
        words = line.split("#", 1)[0].split()
        if len(words) >= 2:
            out.append(HostsEntry(words[0], tuple(words[1:])))
    return tuple(out)


def in_hosts(hosts: tuple[HostsEntry, ...], name: str) -> tuple[str, ...]:
    """The IPv4 addresses /etc/hosts gives `name` (case-insensitive, as resolvers compare)."""
    wanted = name.rstrip(".").lower()
    return tuple(e.address for e in hosts if ":" not in e.address and wanted in (n.lower() for n in e.names))
