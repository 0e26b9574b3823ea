"""netdiag's lab: real containers on the real engine, and the laptop/VM topology in namespaces.

The demo (examples/seed.py) and the real-engine tests build their failures with it.

Everything made here carries the label netdiag.test=1 or the name prefix `ndt-`, and is removed
by `cleanup()`, which the fixtures call before and after the tests, also when they fail.

The laptop/VM topology (the seed's boot2docker case on one machine):

    netns ndt-laptop  192.168.59.3/24 --veth-- 192.168.59.103/24 root namespace (the "VM": dockerd)
                      10.0.1.7/24     --veth-- 10.0.1.1/24 netns ndt-isp (forwards, no other route)
    laptop's default route: via 10.0.1.1, so a container IP goes to the "ISP", which answers
    ICMP Destination Net Unreachable. No namespace has a route to the real network.

The "internet" for outbound diagnoses (make_internet), reached from the root namespace (the
Docker host) through a veth, its addresses routed there and nowhere else:

    root namespace 198.18.0.1/30 --veth-- 198.18.0.2/30 netns ndt-inet
    ndt-inet holds 198.51.100.10 (a web server, port 80) and 198.51.100.53 (dnsmasq: web.lab.test
    -> 198.51.100.10; *.test and *.internal do not exist; no upstream, so nothing is ever
    forwarded). The root namespace routes 198.51.100.0/24 into the veth, with a blackhole route
    of a higher metric beneath it: should the veth vanish, lab traffic dies here instead of
    leaving the machine. ndt-inet has no route back to container subnets: only source-NATed
    traffic gets its replies, as on the real internet.

Beside it, an office behind a router whose far link carries only 1400-byte packets, and which
drops the ICMP "fragmentation needed" it should send (an MTU black hole):

    root namespace 198.18.1.1/30 --veth-- 198.18.1.2/30 netns ndt-rtr (forwards)
    ndt-rtr's end of that link has MTU 1400 (the Docker host's end 1500: it cannot know)
    ndt-rtr 198.18.2.1/30 --veth-- 198.18.2.2/30 netns ndt-office
    ndt-office holds 198.18.64.10, a web server whose page is 512 KiB.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

PREFIX = "ndt-"
LABEL = "netdiag.test=1"
IMAGE = "netdiag-lab/busybox:2"
WEBAPP = "netdiag-lab/webapp:2"  # EXPOSE 5000, like the seed's training/webapp
BARE = "netdiag-lab/bare:2"  # sh, httpd and sleep only: no cat

LAPTOP = "ndt-laptop"
ISP = "ndt-isp"
VM_IP = "192.168.59.103"
LAPTOP_IP = "192.168.59.3"
ISP_IP = "10.0.1.1"
LAPTOP_UPLINK_IP = "10.0.1.7"
VM_IP6 = "fd59::103"  # the laptop link's IPv6 addresses (a unique local prefix, on that link only)
LAPTOP_IP6 = "fd59::3"
DOCKER_TCP = f"tcp://{VM_IP}:2375"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(*argv: str, check: bool = True, timeout: float = 60, env=None, input_text=None) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=timeout, env=env,
                          input=input_text)


def docker(*args: str, check: bool = True) -> str:
    return sh("docker", *args, check=check).stdout.strip()


def run(name: str, *args: str, image: str = IMAGE, cmd: tuple[str, ...] = (), check: bool = True) -> str:
    """`docker run -d` with the lab's label and name prefix; returns the full id. Unless `args`
    give a resolver, the container's is 127.0.0.1: no name it looks up leaves the machine (one in
    another container's network namespace has that container's resolver, and takes no --dns)."""
    assert name.startswith(PREFIX)
    dns = () if "--dns" in args or any(a.startswith("container:") for a in args) else ("--dns", "127.0.0.1")
    p = sh("docker", "run", "-d", "--name", name, "--label", LABEL, *dns, *args, image, *cmd, check=check)
    return p.stdout.strip()


def network(name: str, *args: str) -> str:
    assert name.startswith(PREFIX)
    return docker("network", "create", "--label", LABEL, *args, name)


def wait_listening(name: str, port: int, timeout: float = 10) -> None:
    """Until the container has a listener on `port` (read from the host's /proc, like netdiag)."""
    pid = docker("inspect", "-f", "{{.State.Pid}}", name)
    hexport = f":{port:04X} "
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in ("tcp", "tcp6"):
            try:
                with open(f"/proc/{pid}/net/{f}") as fh:
                    if any(hexport in line and line.split()[3] == "0A" for line in fh.readlines()[1:]):
                        return
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"{name} does not listen on {port} after {timeout}s")


def wait_host_listening(port: int, timeout: float = 10) -> None:
    """Until a process of this machine listens on TCP `port`."""
    hexport = f":{port:04X} "
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(f) as fh:
                if any(hexport in line and line.split()[3] == "0A" for line in fh.readlines()[1:]):
                    return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} of this machine after {timeout}s")


def cleanup() -> None:
    """Remove every container, network and namespace the lab made, and the socat forwarder."""
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}", check=False).split()
    ids += docker("ps", "-aq", "--filter", f"name=^/{PREFIX}", check=False).split()
    if ids:
        sh("docker", "rm", "-f", *sorted(set(ids)), check=False)
    nets = docker("network", "ls", "-q", "--filter", f"label={LABEL}", check=False).split()
    nets += docker("network", "ls", "-q", "--filter", f"name={PREFIX}", check=False).split()
    if nets:
        sh("docker", "network", "rm", *sorted(set(nets)), check=False)
    for ns in sh("ip", "netns", "list", check=False).stdout.split("\n"):
        name = ns.split(" ")[0]
        if name.startswith(PREFIX):
            sh("ip", "netns", "del", name, check=False)
    sh("ip", "link", "del", "ndt-vm0", check=False)
    stop_forwarder()
    remove_internet()
    remove_lan()
    remove_second_host()
    remove_podman()
    remove_rootless_podman()
    remove_swarm()


FORWARDER_PIDFILE = "/run/netdiag-test-socat.pid"


def stop_forwarder() -> None:
    try:
        with open(FORWARDER_PIDFILE) as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass
    try:
        os.unlink(FORWARDER_PIDFILE)
    except OSError:
        pass


def make_laptop() -> None:
    """The laptop and ISP namespaces of LAB.md, and dockerd's API on 192.168.59.103:2375; the
    laptop's link to the Docker host carries IPv6 too (fd59::3 to fd59::103), on that link only."""
    sh("ip", "netns", "add", LAPTOP)
    sh("ip", "netns", "add", ISP)
    sh("ip", "link", "add", "ndt-vm0", "type", "veth", "peer", "name", "ndt-lap0", "netns", LAPTOP)
    sh("ip", "addr", "add", f"{VM_IP}/24", "dev", "ndt-vm0")
    sh("ip", "addr", "add", f"{VM_IP6}/64", "dev", "ndt-vm0", "nodad")  # nodad: usable at once
    sh("ip", "link", "set", "ndt-vm0", "up")
    lap = ("ip", "netns", "exec", LAPTOP)
    isp = ("ip", "netns", "exec", ISP)
    sh(*lap, "ip", "link", "set", "lo", "up")
    sh(*lap, "ip", "addr", "add", f"{LAPTOP_IP}/24", "dev", "ndt-lap0")
    sh(*lap, "ip", "addr", "add", f"{LAPTOP_IP6}/64", "dev", "ndt-lap0", "nodad")
    sh(*lap, "ip", "link", "set", "ndt-lap0", "up")
    sh(*lap, "ip", "link", "add", "ndt-up0", "type", "veth", "peer", "name", "ndt-isp0", "netns", ISP)
    sh(*lap, "ip", "addr", "add", f"{LAPTOP_UPLINK_IP}/24", "dev", "ndt-up0")
    sh(*lap, "ip", "link", "set", "ndt-up0", "up")
    sh(*lap, "ip", "route", "add", "default", "via", ISP_IP)
    sh(*isp, "ip", "link", "set", "lo", "up")
    sh(*isp, "ip", "addr", "add", f"{ISP_IP}/24", "dev", "ndt-isp0")
    sh(*isp, "ip", "link", "set", "ndt-isp0", "up")
    sh(*isp, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    sh(*isp, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")  # every probe gets its ICMP error
    socat = shutil.which("socat")
    assert socat, "socat is missing: run scripts/setup.sh"
    p = subprocess.Popen([socat, f"TCP-LISTEN:2375,bind={VM_IP},fork,reuseaddr",
                          "UNIX-CONNECT:/var/run/docker.sock"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    with open(FORWARDER_PIDFILE, "w") as f:
        f.write(str(p.pid))
    deadline = time.time() + 10
    while time.time() < deadline:
        if laptop("docker", "-H", DOCKER_TCP, "version", "--format", "{{.Server.Version}}",
                  check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the laptop namespace cannot reach dockerd at " + DOCKER_TCP)


INET = "ndt-inet"
INET_HOST_IP = "198.18.0.1"  # the Docker host's end of the lab uplink
INET_IP = "198.18.0.2"
FAR_WEB = "198.51.100.10"  # a web server on port 80 "on the internet"
FAR_DNS = "198.51.100.53"  # the lab's DNS server (dnsmasq)
FAR_SILENT = "198.51.100.99"  # an address nothing answers at
LAB_NAME = "web.lab.test"  # resolves to FAR_WEB at FAR_DNS
INET_ROUTES = ("198.51.100.0/24", "198.18.0.0/15")
INET_PIDS = "/run/netdiag-test-inet.pids"
WWW_DIR = "/run/netdiag-test-www"  # the far web server's and the office's pages
ROUTER = "ndt-rtr"
OFFICE = "ndt-office"
OFFICE_WEB = "198.18.64.10"  # a 512 KiB page behind the 1400-byte link
LOW_MTU = 1400


def make_internet() -> None:
    """The ndt-inet namespace: a far web server and a DNS server, routed from the Docker host."""
    remove_internet()
    for net in INET_ROUTES:  # the safety net first: lab addresses never leave the machine
        sh("ip", "route", "add", "blackhole", net, "metric", "4242")
    sh("ip", "netns", "add", INET)
    inet = ("ip", "netns", "exec", INET)
    sh("ip", "link", "add", "ndt-wan0", "type", "veth", "peer", "name", "ndt-inet0", "netns", INET)
    sh("ip", "addr", "add", f"{INET_HOST_IP}/30", "dev", "ndt-wan0")
    sh("ip", "link", "set", "ndt-wan0", "up")
    sh(*inet, "ip", "link", "set", "lo", "up")
    sh(*inet, "ip", "addr", "add", f"{INET_IP}/30", "dev", "ndt-inet0")
    sh(*inet, "ip", "link", "set", "ndt-inet0", "up")
    for a in (FAR_WEB, FAR_DNS):
        sh(*inet, "ip", "addr", "add", f"{a}/32", "dev", "lo")
    sh("ip", "route", "add", "198.51.100.0/24", "via", INET_IP, "dev", "ndt-wan0")
    www = WWW_DIR
    os.makedirs(www, exist_ok=True)
    with open(f"{www}/index.html", "w") as f:
        f.write("<h1>far web</h1>\n")
    busybox = shutil.which("busybox") or "/bin/busybox"
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    procs = [
        [*inet, busybox, "httpd", "-f", "-p", f"{FAR_WEB}:80", "-h", www],
        [*inet, dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--no-poll", f"--listen-address={FAR_DNS}", "--bind-interfaces", "--port=53", "--user=root",
         f"--host-record={LAB_NAME},{FAR_WEB}", "--local=/test/", "--local=/internal/", "--pid-file="],
    ]
    _make_office()
    office = f"{www}/office"
    os.makedirs(office, exist_ok=True)
    with open(f"{office}/index.html", "w") as f:
        f.write("x" * 512 * 1024)
    procs.append(["ip", "netns", "exec", OFFICE, busybox, "httpd", "-f", "-p", f"{OFFICE_WEB}:80", "-h", office])
    pids = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True).pid for argv in procs]
    with open(INET_PIDS, "w") as f:
        f.write(" ".join(map(str, pids)))
    deadline = time.time() + 10
    while time.time() < deadline:
        up = sh(*inet, "sh", "-c", "ss -Hltn 'sport = :80'; ss -Hlun 'sport = :53'", check=False).stdout
        office = sh("ip", "netns", "exec", OFFICE, "ss", "-Hltn", check=False).stdout
        if f"{FAR_WEB}:80" in up and f"{FAR_DNS}:53" in up and f"{OFFICE_WEB}:80" in office:
            return
        time.sleep(0.1)
    raise AssertionError("the lab's web or DNS server did not start in ndt-inet")


def _make_office() -> None:
    """The router with the 1400-byte link that drops "fragmentation needed", and the office behind it."""
    rtr = ("ip", "netns", "exec", ROUTER)
    office = ("ip", "netns", "exec", OFFICE)
    sh("ip", "netns", "add", ROUTER)
    sh("ip", "netns", "add", OFFICE)
    sh("ip", "link", "add", "ndt-lan0", "type", "veth", "peer", "name", "ndt-rtr0", "netns", ROUTER)
    sh("ip", "addr", "add", "198.18.1.1/30", "dev", "ndt-lan0")
    sh("ip", "link", "set", "ndt-lan0", "up")
    sh(*rtr, "ip", "link", "set", "lo", "up")
    sh(*rtr, "ip", "link", "set", "ndt-rtr0", "mtu", str(LOW_MTU))
    sh(*rtr, "ip", "addr", "add", "198.18.1.2/30", "dev", "ndt-rtr0")
    sh(*rtr, "ip", "link", "set", "ndt-rtr0", "up")
    sh(*rtr, "ip", "link", "add", "ndt-rtr1", "type", "veth", "peer", "name", "ndt-off0", "netns", OFFICE)
    sh(*rtr, "ip", "addr", "add", "198.18.2.1/30", "dev", "ndt-rtr1")
    sh(*rtr, "ip", "link", "set", "ndt-rtr1", "up")
    sh(*rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    sh(*rtr, "ip", "route", "add", "198.18.64.0/24", "via", "198.18.2.2")
    sh(*rtr, "iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "fragmentation-needed", "-j", "DROP")
    sh(*office, "ip", "link", "set", "lo", "up")
    sh(*office, "ip", "addr", "add", "198.18.2.2/30", "dev", "ndt-off0")
    sh(*office, "ip", "link", "set", "ndt-off0", "up")
    sh(*office, "ip", "addr", "add", f"{OFFICE_WEB}/32", "dev", "lo")
    sh(*office, "ip", "route", "add", "default", "via", "198.18.2.1")
    sh("ip", "route", "add", "198.18.64.0/24", "via", "198.18.1.2", "dev", "ndt-lan0")


LAN_PARENT = "ndt-mv0"  # the Docker host's interface on the lab's LAN: a veth whose peer is nobody's
LAN_SUBNET = "10.87.0.0/24"
LAN_HOST_IP = "10.87.0.1"  # the Docker host's own address on that LAN


def make_lan() -> None:
    """A LAN for macvlan networks: the Docker host on it at 10.87.0.1 (on ndt-mv0, a veth whose
    peer leads nowhere), the subnet blackholed first so that nothing for it leaves the machine."""
    remove_lan()
    sh("ip", "route", "add", "blackhole", LAN_SUBNET, "metric", "4242")
    sh("ip", "link", "add", LAN_PARENT, "type", "veth", "peer", "name", "ndt-mv1")
    sh("ip", "addr", "add", f"{LAN_HOST_IP}/24", "dev", LAN_PARENT)
    for link in (LAN_PARENT, "ndt-mv1"):
        sh("ip", "link", "set", link, "up")


def remove_lan() -> None:
    for link in ("ndt-shim", LAN_PARENT):
        sh("ip", "link", "del", link, check=False)
    sh("ip", "route", "del", "blackhole", LAN_SUBNET, "metric", "4242", check=False)


def remove_internet() -> None:
    try:
        with open(INET_PIDS) as f:
            for pid in f.read().split():
                try:
                    os.killpg(int(pid), signal.SIGTERM)
                except (OSError, ValueError):
                    pass
        os.unlink(INET_PIDS)
    except OSError:
        pass
    for ns in (INET, ROUTER, OFFICE):
        sh("ip", "netns", "del", ns, check=False)
    for link in ("ndt-wan0", "ndt-lan0"):
        sh("ip", "link", "del", link, check=False)
    for net in INET_ROUTES:
        while sh("ip", "route", "del", "blackhole", net, "metric", "4242", check=False).returncode == 0:
            pass
    shutil.rmtree(WWW_DIR, ignore_errors=True)


HOST2 = "ndt-host2"  # a second Docker host: a dockerd in its own network namespace
HOST2_IP = "198.18.9.2"
HOST2_LINK_IP = "198.18.9.1"
HOST2_IP6 = "fd98::2"  # the link's IPv6 addresses (a unique local prefix, on that link only)
HOST2_LINK_IP6 = "fd98::1"
HOST2_V6_SUBNET = "fd99:2::/64"  # its default bridge's IPv6 subnet: ip6tables on, IPv6 rewritten as Docker 27+ does
HOST2_DIR = "/run/netdiag-test-host2"
HOST2_TCP = f"tcp://{HOST2_IP}:2376"  # TLS, client certificates verified (--tlsverify)
HOST2_SOCK = f"unix://{HOST2_DIR}/docker.sock"
HOST2_CERTS = f"{HOST2_DIR}/certs"  # ca.pem, cert.pem, key.pem for clients: DOCKER_CERT_PATH


def make_certs(folder: str, server_ip: str) -> None:
    """A CA, a server certificate for `server_ip` (subjectAltName) and a client certificate, as
    docker's TLS set-up expects them (ca.pem; server-cert.pem, server-key.pem; cert.pem, key.pem)."""
    os.makedirs(folder, exist_ok=True)

    def ssl(*args: str) -> None:
        sh("openssl", *args, timeout=60)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=netdiag lab CA",
        "-keyout", f"{folder}/ca-key.pem", "-out", f"{folder}/ca.pem")
    for name, cn, ext in (("server", HOST2_IP, f"subjectAltName=IP:{server_ip}\nextendedKeyUsage=serverAuth"),
                          ("client", "netdiag lab client", "extendedKeyUsage=clientAuth")):
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{folder}/{name}-key.pem",
            "-out", f"{folder}/{name}.csr")
        with open(f"{folder}/{name}.ext", "w") as f:
            f.write(ext + "\n")
        ssl("x509", "-req", "-in", f"{folder}/{name}.csr", "-CA", f"{folder}/ca.pem", "-CAkey", f"{folder}/ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", f"{folder}/{name}.ext", "-out", f"{folder}/{name}-cert.pem")
    shutil.copy(f"{folder}/client-cert.pem", f"{folder}/cert.pem")
    shutil.copy(f"{folder}/client-key.pem", f"{folder}/key.pem")


HOST2_SSH = f"ssh://root@{HOST2_IP}"


def _start_sshd() -> None:
    """sshd in the second host's namespace, key authentication only, whose sessions reach that
    host's dockerd (SetEnv DOCKER_HOST), and an ssh wrapper for clients that reads this lab's
    ssh_config (OpenSSH reads ~/.ssh/config from the passwd home, not $HOME)."""
    d = HOST2_DIR
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/ssh_host_ed25519_key")
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/id_ed25519")
    shutil.copy(f"{d}/id_ed25519.pub", f"{d}/authorized_keys")
    with open(f"{d}/sshd_config", "w") as f:
        f.write(f"Port 22\nListenAddress {HOST2_IP}\nHostKey {d}/ssh_host_ed25519_key\nPidFile {d}/sshd.pid\n"
                f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                f"SetEnv DOCKER_HOST={HOST2_SOCK}\n")
    with open(f"{d}/ssh_config", "w") as f:
        f.write(f"Host {HOST2_IP}\n  User root\n  IdentityFile {d}/id_ed25519\n  StrictHostKeyChecking no\n"
                "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    os.makedirs(f"{d}/bin", exist_ok=True)
    with open(f"{d}/bin/ssh", "w") as f:
        f.write(f'#!/bin/sh\nexec /usr/bin/ssh -F {d}/ssh_config "$@"\n')
    os.chmod(f"{d}/bin/ssh", 0o755)
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation folder
    subprocess.Popen(["nsenter", f"--net=/var/run/netns/{HOST2}", "/usr/sbin/sshd", "-f", f"{d}/sshd_config", "-D",
                      "-e"], stdout=subprocess.DEVNULL, stderr=open(f"{d}/sshd.log", "w"),
                     stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 10
    while f"{HOST2_IP}:22" not in sh("nsenter", f"--net=/var/run/netns/{HOST2}", "ss", "-Hltn", check=False).stdout:
        if time.time() > deadline:
            raise AssertionError("sshd did not start: " + open(f"{d}/sshd.log").read()[-500:])
        time.sleep(0.05)


def host2_ssh_env() -> dict:
    """What a client of the second host over ssh sets: DOCKER_HOST, and PATH to this lab's ssh."""
    return {"DOCKER_HOST": HOST2_SSH, "PATH": f"{HOST2_DIR}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def host2_env(**extra: str) -> dict:
    """What a client of the second host over TLS sets, as the docker CLI reads it."""
    return {"DOCKER_HOST": HOST2_TCP, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": HOST2_CERTS, **extra}


def make_second_host(images: tuple[str, ...] = (IMAGE,)) -> None:
    """A second Docker host: dockerd in netns ndt-host2 (198.18.9.2, reached from the root
    namespace over a veth), with its own data-root, exec-root and sockets, answering on
    HOST2_SOCK and over TLS on HOST2_TCP (certificates made here, the clients' in HOST2_CERTS),
    with `images` loaded. Its userland proxy is off, as many hosts run it: dockerd itself holds
    the published ports; its link carries IPv6 too (fd98::1 to fd98::2), and it rewrites IPv6
    with ip6tables as Docker 27+ does by default (--ipv6 --ip6tables, experimental in 20.10).
    Started through nsenter --net (ip netns exec would remount /sys and hide the cgroup mounts
    dockerd needs)."""
    remove_second_host()
    for d in ("data", "exec"):
        os.makedirs(f"{HOST2_DIR}/{d}", exist_ok=True)
    make_certs(HOST2_CERTS, HOST2_IP)
    sh("ip", "netns", "add", HOST2)
    sh("ip", "link", "add", "ndt-h2", "type", "veth", "peer", "name", "ndt-h2in", "netns", HOST2)
    sh("ip", "addr", "add", f"{HOST2_LINK_IP}/30", "dev", "ndt-h2")
    sh("ip", "addr", "add", f"{HOST2_LINK_IP6}/64", "dev", "ndt-h2", "nodad")
    sh("ip", "link", "set", "ndt-h2", "up")
    inside = ("ip", "netns", "exec", HOST2)
    sh(*inside, "ip", "link", "set", "lo", "up")
    sh(*inside, "ip", "addr", "add", f"{HOST2_IP}/30", "dev", "ndt-h2in")
    sh(*inside, "ip", "addr", "add", f"{HOST2_IP6}/64", "dev", "ndt-h2in", "nodad")
    sh(*inside, "ip", "link", "set", "ndt-h2in", "up")
    log = open(f"{HOST2_DIR}/dockerd.log", "w")
    daemon = subprocess.Popen(["nsenter", f"--net=/var/run/netns/{HOST2}", "dockerd", f"--data-root={HOST2_DIR}/data",
                               f"--exec-root={HOST2_DIR}/exec", f"--pidfile={HOST2_DIR}/dockerd.pid",
                               "-H", HOST2_SOCK, "-H", HOST2_TCP, "--tlsverify",
                               f"--tlscacert={HOST2_CERTS}/ca.pem", f"--tlscert={HOST2_CERTS}/server-cert.pem",
                               f"--tlskey={HOST2_CERTS}/server-key.pem", "--bip", "10.99.0.1/24", "--dns", "127.0.0.1",
                               "--userland-proxy=false", "--experimental", "--ipv6", "--ip6tables",
                               f"--fixed-cidr-v6={HOST2_V6_SUBNET}"],
                              stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    env = dict(os.environ, DOCKER_HOST=HOST2_SOCK)
    deadline = time.time() + 60
    while not _answers(env):
        if time.time() > deadline or daemon.poll() is not None:
            raise AssertionError("the second dockerd did not start: " + open(f"{HOST2_DIR}/dockerd.log").read()[-800:])
        time.sleep(0.3)
    for image in images:
        saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
        subprocess.run(["docker", "load"], input=saved, capture_output=True, check=True, env=env)
    _start_sshd()


def _answers(env: dict) -> bool:
    try:
        return sh("docker", "info", check=False, env=env, timeout=5).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def host2(*args: str, check: bool = True) -> str:
    """The docker CLI against the second Docker host."""
    return sh("docker", *args, check=check, env=dict(os.environ, DOCKER_HOST=HOST2_SOCK)).stdout.strip()


def remove_second_host() -> None:
    """Stop the second dockerd (its containers with it) and remove its namespace and files."""
    try:
        with open(f"{HOST2_DIR}/dockerd.pid") as f:
            pid = int(f.read().strip())
        if os.path.exists(HOST2_DIR + "/docker.sock"):
            ids = host2("ps", "-aq", check=False).split()
            if ids:
                host2("rm", "-f", *ids, check=False)
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
    except (OSError, ValueError):
        pass
    try:
        with open(f"{HOST2_DIR}/sshd.pid") as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass
    sh("ip", "netns", "del", HOST2, check=False)
    sh("ip", "link", "del", "ndt-h2", check=False)
    _unmount_below(HOST2_DIR)  # dockerd's own mounts there: its netns file, overlay layers
    shutil.rmtree(HOST2_DIR, ignore_errors=True)


def _unmount_below(folder: str) -> None:
    """Unmount everything mounted under `folder`, deepest first."""
    try:
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
    except OSError:
        return
    for point in sorted((p for p in points if p == folder or p.startswith(folder + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


SWARM_LINK = "ndt-swarm0"  # a veth end holding the address the lab's swarm advertises
SWARM_IP = "198.18.77.1"


def make_swarm(address: str = SWARM_IP) -> None:
    """Swarm mode on the lab's dockerd: a swarm advertising a lab address (LAB.md: this kernel
    has no IPVS, so the routing mesh cannot work, as on some real hosts). SWARM_IP, on a veth
    of its own, for a single node; HOST2_LINK_IP, this end of the second host's link, for a
    swarm the second host joins (join_swarm)."""
    remove_swarm()
    if address == SWARM_IP:
        sh("ip", "link", "add", SWARM_LINK, "type", "veth", "peer", "name", "ndt-swarm1")
        sh("ip", "addr", "add", f"{SWARM_IP}/32", "dev", SWARM_LINK)
        sh("ip", "link", "set", SWARM_LINK, "up")
        sh("ip", "link", "set", "ndt-swarm1", "up")
    sh("docker", "swarm", "init", "--advertise-addr", address, "--listen-addr", f"{address}:2377")


def service(name: str, *args: str, cmd: tuple[str, ...] = (), wait: bool = True) -> None:
    """A Swarm service of the lab's image, by its local ID (--no-resolve-image: no registry is
    asked), labelled; waits until its tasks run (unless `wait` is false)."""
    image = docker("image", "inspect", "-f", "{{.Id}}", IMAGE)
    sh("docker", "service", "create", "-d", "--name", name, "--label", LABEL, "--no-resolve-image", *args, image,
       *cmd)
    if not wait:
        return
    states = ""
    for _ in range(100):
        states = docker("service", "ps", "--format", "{{.CurrentState}}", name, check=False)
        if not states or all(s.startswith("Running") for s in states.splitlines()):
            return
        time.sleep(0.1)
    raise AssertionError(f"service {name} did not start: {states}")


OVERLAY_SUBNET = "10.77.0.0/24"  # the lab's overlay networks; blackholed in this namespace (guard_overlay)


def guard_overlay() -> None:
    """A blackhole for OVERLAY_SUBNET in this namespace, which is on no overlay: nothing sent to
    its addresses from here can leave the machine (remove_swarm takes it away)."""
    sh("ip", "route", "replace", "blackhole", OVERLAY_SUBNET, "metric", "4242")


SWARM_NODE_LABEL = "netdiag-lab=host2"  # the second host's node label: --constraint node.labels.netdiag-lab==host2


def join_swarm() -> str:
    """The second Docker host (make_second_host) joins the lab's swarm (make_swarm(HOST2_LINK_IP))
    as a worker over their link, advertising HOST2_IP; labelled SWARM_NODE_LABEL. Returns its
    node ID."""
    token = docker("swarm", "join-token", "-q", "worker")
    host2("swarm", "join", "--token", token, "--advertise-addr", HOST2_IP, "--listen-addr", f"{HOST2_IP}:2377",
          f"{HOST2_LINK_IP}:2377")
    node = host2("info", "--format", "{{.Swarm.NodeID}}")
    docker("node", "update", "--label-add", SWARM_NODE_LABEL, node)
    return node


def leave_swarm() -> None:
    """The second Docker host leaves the lab's swarm and drops what swarm mode left there."""
    host2("swarm", "leave", "--force", check=False)
    host2("network", "rm", "docker_gwbridge", check=False)


def remove_swarm() -> None:
    """Leave the lab's swarm (only one it made) and take away what swarm mode leaves behind."""
    addr = docker("info", "--format", "{{.Swarm.NodeAddr}}", check=False)
    if addr in (SWARM_IP, HOST2_LINK_IP):
        sh("docker", "swarm", "leave", "--force", check=False)
        for _ in range(50):
            if sh("docker", "network", "rm", "docker_gwbridge", check=False).returncode == 0 or \
                    "No such network" in sh("docker", "network", "inspect", "docker_gwbridge", check=False).stderr:
                break
            time.sleep(0.1)
    sh("ip", "link", "del", SWARM_LINK, check=False)
    while sh("ip", "route", "del", "blackhole", OVERLAY_SUBNET, "metric", "4242", check=False).returncode == 0:
        pass


PODMAN_DIR = "/run/netdiag-test-podman"
PODMAN_SOCK = f"unix://{PODMAN_DIR}/podman.sock"  # Podman's Docker-compatible API, rootful
PODMAN_CONF = f"{PODMAN_DIR}/containers.conf"
PODMAN_IMAGE = f"localhost/{IMAGE}"  # how Podman names an image loaded from `docker save`
# this sandbox's hard limits refuse Podman's default container ulimits, and crun its cgroups:
# runc, with ulimits under the limits (LAB.md)
PODMAN_CONF_TEXT = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
"""


def podman_env(**extra: str) -> dict:
    """What a client of the lab's Podman sets: its socket as DOCKER_HOST."""
    return {"DOCKER_HOST": PODMAN_SOCK, **extra}


def podman(*args: str, check: bool = True) -> str:
    """The podman CLI with the lab's containers.conf."""
    return sh("podman", *args, check=check, env=dict(os.environ, CONTAINERS_CONF=PODMAN_CONF)).stdout.strip()


def make_podman(images: tuple[str, ...] = (IMAGE,)) -> None:
    """Podman's Docker-compatible API on its own socket (`podman system service`), the lab's
    images loaded from Docker (no registry)."""
    if shutil.which("podman") is None:
        raise RuntimeError("podman is not installed: run scripts/setup.sh")
    os.makedirs(PODMAN_DIR, exist_ok=True)
    with open(PODMAN_CONF, "w") as f:
        f.write(PODMAN_CONF_TEXT)
    for image in images:
        if sh("podman", "image", "exists", f"localhost/{image}", check=False,
              env=dict(os.environ, CONTAINERS_CONF=PODMAN_CONF)).returncode == 0:
            continue
        saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
        subprocess.run(["podman", "load", "-q"], input=saved, capture_output=True, check=True,
                       env=dict(os.environ, CONTAINERS_CONF=PODMAN_CONF))
    _start_podman_service(["podman", "system", "service", "--time=0", PODMAN_SOCK], PODMAN_DIR, PODMAN_SOCK,
                          dict(os.environ, CONTAINERS_CONF=PODMAN_CONF))


def _start_podman_service(argv: list[str], folder: str, sock: str, env: dict | None = None) -> None:
    """Start `podman system service` (argv) in the background, its log and pid in `folder`, and
    wait until its socket answers."""
    with open(f"{folder}/service.log", "w") as log:
        service = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                   cwd="/")
    with open(f"{folder}/service.pid", "w") as f:
        f.write(str(service.pid))
    for _ in range(100):
        probe = subprocess.run(["curl", "-s", "--unix-socket", sock[len("unix://"):], "http://d/_ping"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "OK":
            return
        time.sleep(0.1)
    raise RuntimeError(f"podman system service did not answer on {sock}")


PODMAN_PAUSE = "localhost/ndt-pause:1"  # a pod's infra image, built from the lab's busybox: no registry


def podman_pod(name: str, *args: str) -> str:
    """`podman pod create` labelled as the lab's, its infra container from PODMAN_PAUSE (built
    here once: Podman's own pause image needs catatonit or a registry); the infra's id."""
    if sh("podman", "image", "exists", PODMAN_PAUSE, check=False,
          env=dict(os.environ, CONTAINERS_CONF=PODMAN_CONF)).returncode != 0:
        folder = f"{PODMAN_DIR}/pause"
        os.makedirs(folder, exist_ok=True)
        with open(f"{folder}/Containerfile", "w") as f:
            f.write(f'FROM {PODMAN_IMAGE}\nENTRYPOINT ["sleep", "100000"]\n')
        podman("build", "-q", "-t", PODMAN_PAUSE, folder)
    podman("pod", "create", "--name", name, "--label", LABEL, "--infra-image", PODMAN_PAUSE, *args)
    return podman("pod", "inspect", "-f", "{{.InfraContainerID}}", name)


def remove_podman_pods() -> None:
    pods = podman("pod", "ls", "-q", "--filter", f"label={LABEL}", check=False).split()
    if pods:
        podman("pod", "rm", "-f", "-t", "0", *pods, check=False)


def remove_podman() -> None:
    """Remove the lab's Podman pods, containers and networks, stop its service, and take away the
    NETAVARK chains a removed network can leave behind."""
    if shutil.which("podman") is None or not os.path.isdir(PODMAN_DIR):
        return
    remove_podman_pods()
    ids = podman("ps", "-aq", "--filter", f"label={LABEL}", check=False).split()
    if ids:
        podman("rm", "-f", "-t", "0", *ids, check=False)
    nets = podman("network", "ls", "-q", "--filter", f"label={LABEL}", check=False).split()
    if nets:
        podman("network", "rm", "-f", *nets, check=False)
    try:
        with open(f"{PODMAN_DIR}/service.pid") as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass
    if not podman("ps", "-q", check=False):  # nothing of Podman's runs: none of its chains is in use
        _remove_netavark_chains()
    shutil.rmtree(PODMAN_DIR, ignore_errors=True)


def _remove_netavark_chains() -> None:
    """Delete netavark's iptables chains and the rules that jump to them (filter and nat)."""
    for table in ("filter", "nat"):
        rules = sh("iptables", "-t", table, "-S", check=False).stdout.splitlines()
        for rule in rules:
            if rule.startswith("-A ") and "NETAVARK" in rule and not rule.split()[1].startswith("NETAVARK"):
                sh("iptables", "-t", table, "-D", *shlex.split(rule)[1:], check=False)
        chains = [r.split()[1] for r in rules if r.startswith("-N NETAVARK")]
        for chain in chains:
            sh("iptables", "-t", table, "-F", chain, check=False)
        for chain in chains:
            sh("iptables", "-t", table, "-X", chain, check=False)


ROOTLESS_USER = "ndt-rootless"  # made by scripts/setup.sh, with subordinate uids and gids
ROOTLESS_DIR = "/var/tmp/netdiag-test-rootless"  # its runtime, storage and config, owned by that user (not under
# /run: Podman mounts a tmpfs of its own there in the namespace of its rootless networks)
ROOTLESS_SOCK = f"unix://{ROOTLESS_DIR}/podman.sock"
ROOTLESS_SUBNET = "10.79.0.0/24"  # the rootless Podman's own network; blackholed here while it exists
ROOTLESS_CONF_TEXT = PODMAN_CONF_TEXT + """cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def rootless_env(**extra: str) -> dict:
    """What a client of the lab's rootless Podman sets: its socket as DOCKER_HOST."""
    return {"DOCKER_HOST": ROOTLESS_SOCK, **extra}


def _as_rootless_user(*args: str) -> list[str]:
    """podman ARGS as the lab's unprivileged user, its storage and runtime under ROOTLESS_DIR."""
    env = {"HOME": ROOTLESS_DIR, "XDG_RUNTIME_DIR": f"{ROOTLESS_DIR}/run", "XDG_DATA_HOME": f"{ROOTLESS_DIR}/data",
           "XDG_CONFIG_HOME": f"{ROOTLESS_DIR}/config", "CONTAINERS_CONF": f"{ROOTLESS_DIR}/containers.conf",
           "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    return ["runuser", "-u", ROOTLESS_USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), "podman", *args]


def rootless_podman(*args: str, check: bool = True, input_bytes: bytes | None = None) -> str:
    """The podman CLI as the lab's unprivileged user."""
    argv = _as_rootless_user(*args)
    p = subprocess.run(argv, input=input_bytes, capture_output=True, timeout=120, cwd="/")
    if check and p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, argv, p.stdout, p.stderr)
    return p.stdout.decode(errors="replace").strip()


def make_rootless_podman(images: tuple[str, ...] = (IMAGE,)) -> None:
    """Podman run by an unprivileged user (its own user namespace, slirp4netns for its
    containers' network), its Docker-compatible API on ROOTLESS_SOCK, the lab's images loaded
    from Docker. Its networks' subnet is blackholed here: nothing sent there leaves the machine."""
    if shutil.which("podman") is None or subprocess.run(["id", ROOTLESS_USER], capture_output=True).returncode:
        raise RuntimeError(f"podman or the user {ROOTLESS_USER} is missing: run scripts/setup.sh")
    for sub in ("run", "data", "config"):
        os.makedirs(f"{ROOTLESS_DIR}/{sub}", exist_ok=True)
    with open(f"{ROOTLESS_DIR}/containers.conf", "w") as f:
        f.write(ROOTLESS_CONF_TEXT)
    sh("chown", "-R", ROOTLESS_USER, ROOTLESS_DIR)
    os.chmod(f"{ROOTLESS_DIR}/run", 0o700)
    sh("ip", "route", "replace", "blackhole", ROOTLESS_SUBNET)
    for image in images:
        saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
        rootless_podman("load", "-q", input_bytes=saved)
    _start_podman_service(_as_rootless_user("system", "service", "--time=0", ROOTLESS_SOCK), ROOTLESS_DIR,
                          ROOTLESS_SOCK)


def remove_rootless_podman() -> None:
    """Remove the rootless Podman's containers, stop every process of its user (the service,
    conmon, rootlessport, slirp4netns), delete its storage and the subnet's blackhole."""
    if os.path.isdir(ROOTLESS_DIR) and shutil.which("podman") is not None:
        ids = rootless_podman("ps", "-aq", check=False).split()
        if ids:
            rootless_podman("rm", "-f", "-t", "0", *ids, check=False)
        nets = rootless_podman("network", "ls", "-q", "--filter", f"label={LABEL}", check=False).split()
        if nets:
            rootless_podman("network", "rm", "-f", *nets, check=False)
    if subprocess.run(["id", ROOTLESS_USER], capture_output=True).returncode == 0:
        for _ in range(30):
            if sh("pkill", "-KILL", "-u", ROOTLESS_USER, check=False).returncode == 1:
                break  # none left
            time.sleep(0.1)
    sh("ip", "route", "del", "blackhole", ROOTLESS_SUBNET, check=False)
    shutil.rmtree(ROOTLESS_DIR, ignore_errors=True)


def laptop(*argv: str, check: bool = True, env_extra: dict | None = None, timeout: float = 60):
    """Run a command inside the laptop namespace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(env_extra or {})
    return sh("ip", "netns", "exec", LAPTOP, *argv, check=check, env=env, timeout=timeout)


def netdiag(*args: str, ns: str | None = None, env_extra: dict | None = None, timeout: float = 60):
    """The netdiag CLI as a user runs it (a subprocess), optionally inside a namespace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(env_extra or {})
    argv = [sys.executable, "-m", "netdiag", *args]
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def netdiag_laptop(*args: str, env_extra: dict | None = None, timeout: float = 60):
    """netdiag on the laptop, talking to the daemon in the 'VM' over tcp, like the seed's Mac."""
    env = {"DOCKER_HOST": DOCKER_TCP}
    env.update(env_extra or {})
    return netdiag(*args, ns=LAPTOP, env_extra=env, timeout=timeout)
