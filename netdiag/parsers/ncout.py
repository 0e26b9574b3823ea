"""What busybox or OpenBSD `nc` printed for one connection attempt, as a reach result."""

from __future__ import annotations

from netdiag.vocab import ReachResult


def classify(stdout: str, stderr: str) -> tuple[str, str, str]:
    """(result, detail, banner) from nc's output and errors."""
    if stdout.strip():
        return ReachResult.ANSWERED, "the service answered", stdout.splitlines()[0][:120]
    err = stderr.lower()
    if "refused" in err:
        return ReachResult.REFUSED, "connection refused", ""
    if "timed out" in err or "timeout" in err:
        return ReachResult.TIMEOUT, "no answer within 2s", ""
    if "unreachable" in err or "no route" in err:
        return ReachResult.ICMP_UNREACHABLE, stderr.strip().splitlines()[-1][:120], ""
    if "bad address" in err or "resolve" in err or "unknown host" in err:
        return ReachResult.ERROR, stderr.strip().splitlines()[-1][:120], ""
    if not err:
        return ReachResult.CLOSED, "accepted, then closed without a byte", ""
    return ReachResult.ERROR, stderr.strip().splitlines()[-1][:120], ""
