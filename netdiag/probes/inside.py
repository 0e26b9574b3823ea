"""Reach probes run inside another network namespace (a container's), from the host.

`nsenter --net=/proc/<pid>/ns/net python -m netdiag.probes.inside tcp ADDR PORT` runs netdiag's
own TCP probe from the container's point of view: nothing is installed or started in the
container, and nothing changes. Only when the daemon runs on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from netdiag.facts import Container, Outcome, Reach, from_dict, to_dict


def probe_from_container(source: Container, address: str, port: int, timeout: float = 6.0) -> Reach:
    origin = f"container:{source.name}"
    nsenter = shutil.which("nsenter")
    ns = f"/proc/{source.state.pid}/ns/net"
    if not nsenter:
        return Reach(Outcome.unavailable("nsenter (util-linux) is not installed"), "tcp", address, port, source=origin)
    if not source.state.running or not os.path.exists(ns):
        return Reach(Outcome.unavailable(f"{source.name} is not running, or its namespace is not visible here"),
                     "tcp", address, port, source=origin)
    argv = [nsenter, f"--net={ns}", "--", sys.executable, "-m", "netdiag.probes.inside", "tcp", address, str(port)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        data = json.loads(p.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        return Reach(Outcome.failed(f"probe inside {source.name} failed: {e}"), "tcp", address, port, source=origin)
    r = from_dict(Reach, data)
    method = f"{r.outcome.method}, inside {source.name}'s namespace (nsenter)"
    return Reach(Outcome(r.outcome.state, r.outcome.reason, method), r.kind, r.address, r.port, r.result,
                 r.responder, r.icmp_type, r.icmp_code, r.detail, r.rtt_ms, r.banner, origin)


def main(argv: list[str]) -> int:
    from netdiag.probes.reach import probe_tcp

    kind, address, port = argv
    if kind != "tcp":
        return 2
    print(json.dumps(to_dict(probe_tcp(address, int(port)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
