"""Record examples/bundles/ from the real lab: the seed's two failures and a healthy case.

Each bundle is collected inside the laptop namespace, whose daemon is "remote" at
192.168.59.103, exactly as the seed's Mac saw it. Run as root: python -m examples.record_bundles
"""

from __future__ import annotations

import os
import sys

from examples import lab

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundles")
HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def collect(name: str, *args: str) -> None:
    path = os.path.join(OUT, name)
    p = lab.netdiag_laptop("collect", *args, "-o", path)
    if p.returncode != 0:
        raise SystemExit(f"collect {name} failed: {p.stderr}")
    print(p.stdout.strip())


def main() -> int:
    lab.cleanup()
    try:
        lab.make_laptop()
        lab.run("ndt-seed-web", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
        lab.wait_listening("ndt-seed-web", 80)
        ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-seed-web")
        collect("seed-ping-container-ip.json", "ndt-seed-web", "--to", ip)
        collect("healthy-published-port.json", "ndt-seed-web")
        lab.run("ndt-seed-5000", "-p", "80:80", "-p", "5000:5000", image=lab.WEBAPP, cmd=HTTPD)
        lab.wait_listening("ndt-seed-5000", 80)
        collect("seed-telnet-0000-5000.json", "ndt-seed-5000", "--to", "0.0.0.0:5000")
        return 0
    finally:
        lab.cleanup()


if __name__ == "__main__":
    sys.exit(main())
