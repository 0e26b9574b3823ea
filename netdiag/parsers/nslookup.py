"""What `nslookup NAME SERVER` printed (busybox's or bind's), as a DNS result. Pure."""

from __future__ import annotations

import ipaddress
import re

from netdiag.vocab import DnsResult

CANT_FIND = re.compile(r"server can't find [^:]*: (\w+)")
ADDRESS = re.compile(r"^Address(?:es)?:\s*(\S+)\s*$")
CODES = {"NXDOMAIN": DnsResult.NXDOMAIN, "REFUSED": DnsResult.REFUSED, "SERVFAIL": DnsResult.SERVFAIL}


def parse_nslookup(text: str, exit_code: int | None) -> tuple[DnsResult, tuple[str, ...], str]:
    """(result, IPv4 addresses, detail) of one nslookup run, its stdout and stderr together."""
    if not text.strip():
        return DnsResult.ERROR, (), "nslookup printed nothing"
    lines = text.splitlines()
    addresses = []
    answered = False
    for line in lines:
        if line.startswith("Name:"):
            answered = True
            continue
        m = ADDRESS.match(line)
        if answered and m:
            value = m.group(1).rsplit("#", 1)[0]
            try:
                if ipaddress.ip_address(value).version == 4:
                    addresses.append(value)
            except ValueError:
                continue
    if addresses:
        return DnsResult.ANSWERED, tuple(dict.fromkeys(addresses)), ""
    m = CANT_FIND.search(text)
    if m:
        return CODES.get(m.group(1).upper(), DnsResult.ERROR), (), f"nslookup: {m.group(1)}"
    if "connection refused" in text.lower():
        return DnsResult.UNREACHABLE, (), "nothing listens there: connection refused"
    if "timed out" in text or "no servers could be reached" in text:
        return DnsResult.TIMEOUT, (), "nslookup: no server could be reached"
    if "can't resolve" in text.lower() or exit_code:
        return DnsResult.ERROR, (), (lines[-1].strip()[:120] if lines else f"nslookup exited {exit_code}")
    return DnsResult.NODATA, (), "no IPv4 address in the answer"
