"""The seed's afternoon, replayed on a real engine and diagnosed by netdiag.

A laptop whose daemon runs in a VM at 192.168.59.103 (network namespaces stand in for both, see
examples/lab.py) starts the tutorial's web container with `-p 80`, cannot ping the container's
IP, then publishes 80 and 5000 and finds port 5000 refused. Each step shows what netdiag says from
the laptop. Everything is removed at the end. Run as root: `./scripts/demo`.
"""

from __future__ import annotations

import shlex
import sys

from examples import lab


def show(*args: str) -> int:
    print(f"\nlaptop$ netdiag {' '.join(shlex.quote(a) for a in args)}", flush=True)
    p = lab.netdiag_laptop(*args)
    sys.stdout.write(p.stdout)
    if p.stderr:
        sys.stdout.write(p.stderr)
    return p.returncode


def main() -> int:
    lab.cleanup()
    try:
        print("Building the seed's topology: a laptop namespace, an ISP namespace, and this machine as the VM "
              f"({lab.VM_IP}) where dockerd runs.")
        lab.make_laptop()
        print("\n(VM)$ docker run -d -p 80 <webapp image, EXPOSE 5000> httpd -f -p 80   # the tutorial's step 1")
        cid = lab.run("ndt-demo-web", "-p", "80", image=lab.WEBAPP, cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
        lab.wait_listening("ndt-demo-web", 80)
        ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid)
        show("engine")
        show("port", cid[:2])
        show("ip", cid[:2])
        show("ping", ip)
        show("listeners", "ndt-demo-web")
        show("why-unreachable", cid[:2], "--to", ip)

        print("\n(VM)$ docker run -d -p 80:80 -p 5000:5000 <webapp image> httpd -f -p 80   # then telnet 0.0.0.0 5000")
        lab.run("ndt-demo-5000", "-p", "80:80", "-p", "5000:5000", image=lab.WEBAPP,
                cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
        lab.wait_listening("ndt-demo-5000", 80)
        show("why-unreachable", "ndt-demo-5000", "--to", "0.0.0.0:5000")
        show("why-unreachable", "ndt-demo-5000", "--port", "80")
        return 0
    finally:
        lab.cleanup()
        print("\n(cleaned up: lab containers, namespaces and the API forwarder removed)")


if __name__ == "__main__":
    sys.exit(main())
