"""What busybox or OpenBSD `nc` printed for one connection attempt, as a reach result."""

from __future__ import annotations

from netdiag.facts import ANSWERED, CLOSED, ERROR, ICMP_UNREACHABLE, REFUSED, TIMEOUT


def classify(stdout: str, stderr: str) -> tuple[str, str, str]:
    """(result, detail, banner) from nc's output and errors."""
    if stdout.strip():
        return ANSWERED, "the service answered", stdout.splitlines()[0][:120]
    err = stderr.lower()
    if "refused" in err:
        return REFUSED, "connection refused", ""
    if "timed out" in err or "timeout" in err:
        return TIMEOUT, "no answer within 2s", ""
    if "unreachable" in err or "no route" in err:
        return ICMP_UNREACHABLE, stderr.strip().splitlines()[-1][:120], ""
    if "bad address" in err or "resolve" in err or "unknown host" in err:
        return ERROR, stderr.strip().splitlines()[-1][:120], ""
    if not err:
        return CLOSED, "accepted, then closed without a byte", ""
    return ERROR, stderr.strip().splitlines()[-1][:120], ""
