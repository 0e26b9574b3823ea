"""Reach probes from inside another container's network namespace.

When the daemon runs on this machine, `nsenter --net=/proc/<pid>/ns/net python -m
netdiag.probes.inside tcp ADDR PORT` runs netdiag's own TCP probe from the container's point of
view: nothing is installed or started in the container, and nothing changes. When the daemon is
elsewhere, `docker exec SOURCE nc` does the same with the container's own tools (sh and nc, as
busybox has them); without them the attempt is unavailable, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from netdiag.facts import Container, Outcome, Reach, from_dict, to_dict
from netdiag.probes.execs import run_exec
from netdiag.vocab import Origin, ProbeKind


def probe_from_container(source: Container, address: str, port: int, timeout: float = 6.0) -> Reach:
    origin = Origin(source.name)
    nsenter = shutil.which("nsenter")
    ns = f"/proc/{source.state.pid}/ns/net"
    if not nsenter:
        return Reach(Outcome.unavailable("nsenter (util-linux) is not installed"), ProbeKind.TCP, address, port,
                     origin=origin)
    if not source.state.running or not os.path.exists(ns):
        return Reach(Outcome.unavailable(f"{source.name} is not running, or its namespace is not visible here"),
                     ProbeKind.TCP, address, port, origin=origin)
    argv = [nsenter, f"--net={ns}", "--", sys.executable, "-m", "netdiag.probes.inside", "tcp", address, str(port)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        data = json.loads(p.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        return Reach(Outcome.failed(f"probe inside {source.name} failed: {e}"), ProbeKind.TCP, address, port,
                     origin=origin)
    r = from_dict(Reach, data)
    method = f"{r.outcome.method}, inside {source.name}'s namespace (nsenter)"
    return Reach(Outcome(r.outcome.state, r.outcome.reason, method), r.kind, r.address, r.port, r.result,
                 r.responder, r.icmp_type, r.icmp_code, r.detail, r.rtt_ms, r.banner, origin)


NC_SCRIPT = 'printf "HEAD / HTTP/1.0\\r\\nHost: $1\\r\\n\\r\\n" | nc -w 2 "$1" "$2"'


def probe_via_exec(api, source: Container, address: str, port: int) -> Reach:
    """The TCP attempt through `docker exec SOURCE sh -c '... | nc -w 2 ADDR PORT'`."""
    import docker

    from netdiag.parsers.ncout import classify

    origin = Origin(source.name)
    method = f"docker exec {source.name} nc"
    try:
        code, text_out, text_err = run_exec(api, source.id, ["sh", "-c", NC_SCRIPT, "netdiag", address, str(port)])
    except docker.errors.APIError as e:
        return Reach(Outcome.unavailable(f"docker exec in {source.name} failed: {e.explanation or e}", method),
                     ProbeKind.TCP, address, port, origin=origin)
    if "executable file not found" in text_out + text_err or code in (126, 127):
        return Reach(Outcome.unavailable(f"{source.name} has no sh or nc to try the connection with", method),
                     ProbeKind.TCP, address, port, origin=origin)
    result, detail, banner = classify(text_out, text_err)
    return Reach(Outcome(method=method), ProbeKind.TCP, address, port, result, address if banner else "", detail=detail,
                 banner=banner, origin=origin)


def main(argv: list[str]) -> int:
    from netdiag.probes.reach import probe_tcp

    kind, address, port = argv
    if kind != "tcp":
        return 2
    print(json.dumps(to_dict(probe_tcp(address, int(port)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
