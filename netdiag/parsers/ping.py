"""The system ping's output, for when netdiag may not open a raw socket: iputils (Linux), BusyBox,
and macOS/BSD, whose router errors read "36 bytes from NAME (ADDR): Destination Net Unreachable"
(the seed's own ping on a Mac). And the arguments for one echo on each, which differ: macOS takes
-W in milliseconds."""

from __future__ import annotations

import re
from typing import Any

from netdiag.vocab import ReachResult

# "64 bytes from 1.2.3.4: icmp_seq=1 ttl=64 time=0.1 ms", "... from name (1.2.3.4): seq=0 ..." (BusyBox)
_REPLY = re.compile(r"^\d+ bytes from (?:[^\s(]+ \(([0-9a-fA-F.:]+)\)|([0-9a-fA-F.:]+?)):? .*?time[=<]([\d.]+) ?ms",
                    re.M)
# iputils: "From 10.0.1.1 icmp_seq=1 Destination Net Unreachable" (or "From name (10.0.1.1) ...")
_FROM = re.compile(r"^From (?:[^\s(]+ \(([0-9a-fA-F.:]+)\)|([0-9a-fA-F.:]+?)):? icmp_seq=\d+ (.+)$", re.M)
# macOS/BSD: "36 bytes from svl-edge-22.inet.qwest.net (65.113.32.217): Destination Net Unreachable"
_BSD_ERROR = re.compile(r"^\d+ bytes from (?:[^\s(]+ \(([0-9a-fA-F.:]+)\)|([0-9a-fA-F.:]+?)): "
                        r"((?:Destination|Time to live|Redirect|Frag)[^\n]*?)\s*$", re.M)

UNREACHABLE_CODES = {
    "Destination Net Unreachable": 0,
    "Destination Host Unreachable": 1,
    "Destination Protocol Unreachable": 2,
    "Destination Port Unreachable": 3,
    "Packet filtered": 13,
    "Destination Net Prohibited": 9,
    "Destination Host Prohibited": 10,
}


def parse_ping(text: str, exit_code: int | None = None) -> dict[str, Any]:
    """{"result", "responder", "icmp_type", "icmp_code", "rtt_ms", "detail"} from one ping run.

    A reply line counts only when the exit status (when given) does not say that none came: 0 is
    the one status every ping gives for an answered echo."""
    m = _REPLY.search(text)
    if m and exit_code in (None, 0):
        return {"result": ReachResult.ANSWERED, "responder": m.group(1) or m.group(2), "icmp_type": 0,
                "icmp_code": 0, "rtt_ms": float(m.group(3)), "detail": "echo reply"}
    m = _FROM.search(text) or _BSD_ERROR.search(text)
    if m:
        sender, message = m.group(1) or m.group(2), m.group(3).strip()
        if message.startswith("Time to live exceeded"):
            return {"result": ReachResult.ICMP_UNREACHABLE, "responder": sender, "icmp_type": 11,
                    "icmp_code": 0, "rtt_ms": None, "detail": message}
        code = UNREACHABLE_CODES.get(message)
        return {"result": ReachResult.ICMP_UNREACHABLE, "responder": sender, "icmp_type": 3,
                "icmp_code": code, "rtt_ms": None, "detail": message}
    return {"result": ReachResult.TIMEOUT, "responder": "", "icmp_type": None, "icmp_code": None,
            "rtt_ms": None, "detail": "no reply"}


def ping_argv(exe: str, address: str, timeout: float, system: str) -> list[str]:
    """One echo with the system's ping: -W is seconds for iputils and BusyBox, milliseconds on macOS."""
    if system == "darwin":
        return [exe, "-n", "-c", "1", "-W", str(max(1, int(timeout * 1000))), address]
    return [exe, "-n", "-c", "1", "-W", str(max(1, int(round(timeout)))), address]
