"""The system ping's output (iputils), for when netdiag may not open a raw socket."""

from __future__ import annotations

import re
from typing import Any

from netdiag.vocab import ReachResult

_REPLY = re.compile(r"^\d+ bytes from ([0-9a-fA-F.:]+).*?time=([\d.]+) ms", re.M)
_FROM = re.compile(r"^From ([0-9a-fA-F.:]+?)(?: \([^)]*\))?:? icmp_seq=\d+ (.+)$", re.M)

UNREACHABLE_CODES = {
    "Destination Net Unreachable": 0,
    "Destination Host Unreachable": 1,
    "Destination Protocol Unreachable": 2,
    "Destination Port Unreachable": 3,
    "Packet filtered": 13,
    "Destination Net Prohibited": 9,
    "Destination Host Prohibited": 10,
}


def parse_ping(text: str) -> dict[str, Any]:
    """{"result", "responder", "icmp_type", "icmp_code", "rtt_ms", "detail"} from one ping run."""
    m = _REPLY.search(text)
    if m:
        return {"result": ReachResult.ANSWERED, "responder": m.group(1).rstrip(":"), "icmp_type": 0, "icmp_code": 0,
                "rtt_ms": float(m.group(2)), "detail": "echo reply"}
    m = _FROM.search(text)
    if m:
        message = m.group(2).strip()
        if message.startswith("Time to live exceeded"):
            return {"result": ReachResult.ICMP_UNREACHABLE, "responder": m.group(1), "icmp_type": 11,
                    "icmp_code": 0, "rtt_ms": None, "detail": message}
        code = UNREACHABLE_CODES.get(message)
        return {"result": ReachResult.ICMP_UNREACHABLE, "responder": m.group(1), "icmp_type": 3,
                "icmp_code": code, "rtt_ms": None, "detail": message}
    return {"result": ReachResult.TIMEOUT, "responder": "", "icmp_type": None, "icmp_code": None,
            "rtt_ms": None, "detail": "no reply"}
