"""why-unreachable on the real engine: every cause code built for real, and healthy decoys.

Each test builds the failure with real containers, networks, namespaces, sysctls or iptables
rules, asserts what the user sees (cause code, evidence values, the fix's real values), and
restores what it changed, also when it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys

import pytest

from examples import lab
from examples.lab import netdiag, netdiag_laptop

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def why(*args: str, laptop: bool = False, expect: int | None = None, env_extra: dict | None = None) -> dict:
    """netdiag why-unreachable --json as its user runs it: on this machine, or from the laptop."""
    p = (netdiag_laptop if laptop else netdiag)("why-unreachable", *args, "--json", env_extra=env_extra)
    assert p.stdout, p.stderr
    data = json.loads(p.stdout)
    if expect is not None:
        assert p.returncode == expect, (p.returncode, json.dumps(data, indent=1))
    return data


def codes(d: dict) -> list[str]:
    return [c["code"] for c in d["causes"]]


def cause(d: dict, code: str) -> dict:
    found = [c for c in d["causes"] if c["code"] == code]
    assert found, f"no {code} in {json.dumps(d, indent=1)}"
    return found[0]


def ip_of(name: str, network: str | None = None) -> str:
    if network:
        return lab.docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', name)
    return lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)


def host_port_of(name: str, port: int = 80) -> int:
    return int(lab.docker("port", name, str(port)).splitlines()[0].rsplit(":", 1)[1])


def free_port() -> int:
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def client_and_server(network: str, client: str, server: str) -> None:
    """A user-defined network with an idle client container and an HTTP server container on it."""
    lab.network(network)
    lab.run(client, "--network", network, cmd=("sleep", "600"))
    lab.run(server, "--network", network, cmd=HTTPD)
    lab.wait_listening(server, 80)


def laptop_gets(address: str, port: int) -> str:
    """What the laptop really gets from address:port: the truth the diagnosis must agree with."""
    code = ("import socket,sys\n"
            "try:\n s=socket.create_connection((sys.argv[1],int(sys.argv[2])),2);s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n');"
            "print(s.recv(64).decode(errors='replace').split(chr(13))[0] or 'closed')\n"
            "except Exception as e: print(type(e).__name__)")
    return lab.laptop("python3", "-c", code, address, str(port), check=False).stdout.strip()


@contextlib.contextmanager
def iptables_restored():
    saved = lab.sh("iptables-save").stdout
    try:
        yield
    finally:
        lab.sh("iptables-restore", input_text=saved)


@contextlib.contextmanager
def sysctl_restored(key: str):
    old = lab.sh("sysctl", "-n", key).stdout.strip()
    try:
        yield
    finally:
        lab.sh("sysctl", "-qw", f"{key}={old}")


# --- the seed's two cases, from the laptop --------------------------------------------------------

def test_seed_ping_container_ip_from_laptop_is_ip_not_routable(clean, laptop):
    lab.run("ndt-seed1", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-seed1", 80)
    ip, hp = ip_of("ndt-seed1"), host_port_of("ndt-seed1")
    d = why("ndt-seed1", "--to", ip, laptop=True, expect=1)
    assert codes(d) == ["ip-not-routable"]
    c = cause(d, "ip-not-routable")
    assert c["port"] == 80 and c["rule"] == "ND302"
    assert f"ping {ip}: Destination Net Unreachable from {lab.ISP_IP}" in c["evidence"]
    assert any(f"via {lab.ISP_IP}" in e for e in c["evidence"])
    assert c["fix"][0] == f"use {lab.VM_IP}:{hp}"
    assert d["works"] == [f"{lab.VM_IP}:{hp}"]
    assert d["target"] == {"container": "ndt-seed1", "id": d["target"]["id"], "port": 80, "to": ip, "from": "host"}
    assert [h["status"] for h in d["path"] if h["hop"] == "client"] == ["fail"]


def test_seed_telnet_0000_5000_has_both_causes(clean, laptop):
    lab.run("ndt-seed2", "-p", "80:80", "-p", "5000:5000", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-seed2", 80)
    d = why("ndt-seed2", "--to", "0.0.0.0:5000", laptop=True, expect=1)
    assert codes(d) == ["wrong-address", "nothing-listening"]
    wrong = cause(d, "wrong-address")
    assert wrong["fix"] == [f"use {lab.VM_IP}:5000"]
    assert any("published on 0.0.0.0:5000" in e for e in wrong["evidence"])
    nothing = cause(d, "nothing-listening")
    assert "the app listens on 80" in nothing["summary"]
    assert f"use {lab.VM_IP}:80, which is mapped to 80, where the app listens" in nothing["fix"]
    assert "map the host port to the app's port: docker run -p 5000:80 ..." in nothing["fix"]
    text = netdiag_laptop("why-unreachable", "ndt-seed2", "--to", "0.0.0.0:5000").stdout
    assert text.startswith("UNREACHABLE: ndt-seed2 port 5000 via 0.0.0.0:5000")
    assert "\x1b[" not in text  # no colour when piped


# --- the container and its network ----------------------------------------------------------------

def test_exited_container(clean):
    lab.run("ndt-exited", "-p", "80", image=lab.WEBAPP, cmd=("sh", "-c", "exit 3"))
    lab.sh("docker", "wait", "ndt-exited")
    d = why("ndt-exited", expect=1)
    c = cause(d, "container-not-running")
    assert "exited with code 3" in c["summary"] and "exit code: 3" in c["evidence"]
    assert c["fix"] == ["docker logs ndt-exited", "docker start ndt-exited"]


def test_paused_container(clean):
    lab.run("ndt-paused", "-p", "80", cmd=HTTPD)
    lab.docker("pause", "ndt-paused")
    try:
        d = why("ndt-paused", "--port", "80", expect=1)
        assert cause(d, "container-not-running")["fix"] == ["docker unpause ndt-paused"]
    finally:
        lab.docker("unpause", "ndt-paused", check=False)


def test_no_network(clean):
    lab.run("ndt-none", "--network", "none", cmd=HTTPD)
    d = why("ndt-none", "--port", "80", expect=1)
    assert codes(d) == ["no-network"]
    assert cause(d, "no-network")["fix"][0] == "docker network connect bridge ndt-none"


def test_a_container_publishing_udp_only_is_not_read_as_tcp(clean):
    """-p PORT:53/udp: netdiag says it checks TCP ports into a container (it said the container
    published nothing), and --port 53/udp is refused rather than diagnosed as 53/tcp."""
    lab.run("ndt-udp", "-p", f"{free_port()}:53/udp", cmd=("sleep", "600"))
    d = why("ndt-udp", expect=3)
    assert d["verdict"] == "unknown" and not d["causes"]
    assert any("no TCP port to check: 53/udp is UDP, which netdiag diagnoses out of a container only" in n
               for n in d["notes"]), d["notes"]
    p = netdiag("why-unreachable", "ndt-udp", "--port", "53/udp")
    assert p.returncode == 2 and "netdiag diagnoses TCP ports into a container" in p.stderr


def test_internal_network(clean):
    lab.network("ndt-net-int", "--internal", "--subnet", "10.215.0.0/24")
    lab.run("ndt-int", "--network", "ndt-net-int", "-p", "80", cmd=HTTPD)
    d = why("ndt-int", expect=1)
    c = cause(d, "internal-network")
    assert "network ndt-net-int (10.215.0.0/24): internal" in c["evidence"]
    assert "docker network connect bridge ndt-int, and publish the port with -p" in c["fix"]
    lab.run("ndt-int2", "--network", "ndt-net-int", cmd=HTTPD)
    lab.wait_listening("ndt-int2", 80)
    ip = lab.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "ndt-int2")
    d = why("ndt-int2", "--port", "80", expect=0)  # no -p asked for: the host's own way in works
    assert f"80/tcp is not published: this machine reaches it at {ip}:80; other machines cannot, ndt-int2 being " \
           "only on internal networks (ndt-net-int)" in d["notes"]


def test_host_network_mode_ignores_p(clean):
    app = free_port()
    asked = free_port()
    lab.run("ndt-hostmode", "--network", "host", "-p", f"{asked}:{app}", cmd=("httpd", "-f", "-p", str(app), "-h", "/www"))
    lab.wait_listening("ndt-hostmode", app)
    d = why("ndt-hostmode", "--to", f"127.0.0.1:{asked}", expect=1)
    c = cause(d, "host-network-mode")
    assert f"-p {asked}:{app} was asked for and is ignored in host mode" in c["evidence"]
    assert c["fix"][0] == f"use 127.0.0.1:{app}"
    ok = why("ndt-hostmode", "--to", f"127.0.0.1:{app}")
    assert "host-network-mode" not in codes(ok) and ok["verdict"] == "reachable"


def test_host_network_mode_behind_the_hosts_input_chain(clean):
    """A container in host network mode is filtered by the host's INPUT (a firewall that opens only
    some ports): netdiag names the rule, never FORWARD, and its fix brings the answer back."""
    app = free_port()
    lab.run("ndt-hostin", "--network", "host", cmd=("httpd", "-f", "-p", str(app), "-h", "/www"))
    lab.wait_listening("ndt-hostin", app)
    drop = ("INPUT", "-p", "tcp", "-m", "tcp", "--dport", str(app), "-j", "DROP")
    with iptables_restored():
        lab.sh("iptables", "-I", *drop)
        d = why("ndt-hostin", "--port", str(app), expect=1)
        assert codes(d) == ["firewall-blocks"], d["causes"]
        c = cause(d, "firewall-blocks")
        assert c["summary"] == f"an iptables INPUT rule drops the connections to 127.0.0.1:{app}"
        assert c["evidence"][1].startswith(f"ndt-hostin uses the Docker host's own network: connections to {app}")
        assert c["fix"][0] == f"iptables -D INPUT -p tcp -m tcp --dport {app} -j DROP"
        lab.sh(*c["fix"][0].split())
        assert why("ndt-hostin", "--port", str(app), expect=0)["verdict"] == "reachable"  # the fix works


# --- publishing -----------------------------------------------------------------------------

def test_host_port_conflict_with_another_container(clean):
    hp = free_port()
    lab.run("ndt-first", "-p", f"{hp}:80", cmd=HTTPD)
    second = lab.run("ndt-second", "-p", f"{hp}:80", cmd=HTTPD, check=False)
    assert lab.docker("inspect", "-f", "{{.State.Status}}", "ndt-second") == "created", second
    d = why("ndt-second", expect=1)
    assert codes(d) == ["host-port-conflict"]
    c = cause(d, "host-port-conflict")
    first_id = lab.docker("inspect", "-f", "{{.Id}}", "ndt-first")[:12]
    assert f"host port {hp} is held by container ndt-first ({first_id})" in c["evidence"]
    assert c["fix"][0] == f"docker stop ndt-first  (frees {hp}), then: docker start ndt-second"


def test_published_on_an_address_the_docker_host_lacks(clean):
    """-p names an address the host does not have (DHCP or a VPN took it away): starting it again
    cannot work, running it again on an address the host has does."""
    hp = free_port()
    lab.run("ndt-noaddr", "-p", f"203.0.113.254:{hp}:80", cmd=HTTPD, check=False)
    assert lab.docker("inspect", "-f", "{{.State.Status}}", "ndt-noaddr") == "created"
    d = why("ndt-noaddr", expect=1)
    c = cause(d, "container-not-running")
    assert c["summary"] == "ndt-noaddr was created but never started: the Docker host has no address 203.0.113.254 " \
                           "to publish on"
    assert f"requested -p 203.0.113.254:{hp}:80" in c["evidence"]
    assert c["fix"][0].startswith(f"docker rm ndt-noaddr, then run it again with -p {hp}:80 (every address of the host)")
    lab.docker("rm", "ndt-noaddr")
    lab.run("ndt-noaddr", "-p", f"{hp}:80", cmd=HTTPD)  # the fix
    lab.wait_listening("ndt-noaddr", 80)
    assert f"127.0.0.1:{hp}" in why("ndt-noaddr", expect=0)["works"]


@contextlib.contextmanager
def host_process_holding_a_port():
    """(port, pid, process name) of a process on the Docker host listening on 0.0.0.0."""
    import psutil

    holder = subprocess.Popen([sys.executable, "-c", "import socket,time,sys\ns=socket.socket();"
                               "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('0.0.0.0',0));"
                               "s.listen();print(s.getsockname()[1],flush=True);time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        yield int(holder.stdout.readline()), holder.pid, psutil.Process(holder.pid).name()
    finally:
        holder.kill()
        holder.wait()


def test_host_port_conflict_with_a_host_process(clean):
    with host_process_holding_a_port() as (hp, pid, name):
        lab.run("ndt-busy", "-p", f"{hp}:80", cmd=HTTPD, check=False)
        d = why("ndt-busy", expect=1)
    c = cause(d, "host-port-conflict")
    assert f"host port {hp} is held by process {name} (pid {pid}) on 0.0.0.0:{hp}" in c["evidence"]
    assert "address already in use" in " ".join(c["evidence"])


def test_host_port_conflict_from_the_laptop_named_through_the_helper(clean, laptop):
    """From the laptop the Docker host's processes are out of sight: the conflict is still named
    from the daemon's own error; with --helper, the host's ss names the process."""
    with host_process_holding_a_port() as (hp, pid, name):
        lab.run("ndt-busy", "-p", f"{hp}:80", cmd=HTTPD, check=False)
        blind = cause(why("ndt-busy", laptop=True, expect=1), "host-port-conflict")
        d = why("ndt-busy", "--helper", lab.IMAGE, laptop=True, expect=1)
    assert f"host port {hp} is held by something netdiag cannot see from here: the Docker daemon runs on " \
           f"another host at {lab.VM_IP}: who holds its ports cannot be read from here; --helper IMAGE allows a " \
           "helper container to read them there" in blind["evidence"]
    c = cause(d, "host-port-conflict")
    assert f"host port {hp} is held by process {name} (pid {pid}) on 0.0.0.0:{hp}" in c["evidence"]


def test_port_not_published_from_laptop_with_misplaced_p(clean, laptop):
    lab.run("ndt-nopub", image=lab.WEBAPP, cmd=("sh", "-c", "httpd -f -p 5000 -h /www", "-p", "8080:5000"))
    lab.wait_listening("ndt-nopub", 5000)
    d = why("ndt-nopub", laptop=True, expect=1)
    c = cause(d, "port-not-published")
    assert c["port"] == 5000
    assert "5000/tcp is exposed (EXPOSE or --expose)" in c["evidence"]
    assert any("`-p 8080:5000`" in e and "after the image name" in e for e in c["evidence"])
    assert c["fix"][0].startswith("move `-p 8080:5000` before the image name")


def test_published_on_loopback_only_from_laptop(clean, laptop):
    hp = free_port()
    lab.run("ndt-lo", "-p", f"127.0.0.1:{hp}:80", cmd=HTTPD)
    lab.wait_listening("ndt-lo", 80)
    assert laptop_gets(lab.VM_IP, hp) in ("ConnectionRefusedError", "TimeoutError", "timeout")
    d = why("ndt-lo", "--to", f"{lab.VM_IP}:{hp}", laptop=True, expect=1)
    c = cause(d, "published-on-loopback-only")
    assert f"80/tcp is published on 127.0.0.1:{hp} only" in c["evidence"]
    assert c["fix"][0] == f"publish on all addresses: docker run -p {hp}:80 ..."


# --- inside the container ---------------------------------------------------------------------

def test_listening_on_loopback(clean):
    lab.run("ndt-applo", "-p", "80", cmd=("httpd", "-f", "-p", "127.0.0.1:80", "-h", "/www"))
    lab.wait_listening("ndt-applo", 80)
    d = why("ndt-applo", expect=1)
    assert codes(d) == ["listening-on-loopback"]
    c = cause(d, "listening-on-loopback")
    assert "httpd in ndt-applo listens on 127.0.0.1:80 only" in c["summary"]
    assert "make the app bind 0.0.0.0:80 instead of 127.0.0.1" in c["fix"][0]


def test_nothing_listening_locally_through_the_proxy(clean):
    lab.run("ndt-empty", "-p", "5000", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-empty", 80)
    hp = host_port_of("ndt-empty", 5000)
    d = why("ndt-empty", "--port", "5000", expect=1)
    c = cause(d, "nothing-listening")
    assert any(e.startswith("what listens: httpd on [::]:80") for e in c["evidence"])
    assert f"map the host port to the app's port: docker run -p {hp}:80 ..." in c["fix"]


# --- the Docker host's forwarding and firewall ----------------------------------------------------

def broken_for_the_laptop(name: str, restored, *commands: tuple[str, ...], seen_from_the_laptop=None) -> dict:
    """A published container that answers the laptop, then the host changed by `commands` (undone by
    `restored`, even on failure): the laptop must really lose it, and netdiag on the host says why.
    From the laptop, which cannot read the host's firewall, netdiag says where it stops (or, given
    `seen_from_the_laptop`, that check of its diagnosis)."""
    lab.run(name, "-p", "80", cmd=HTTPD)
    lab.wait_listening(name, 80)
    hp = host_port_of(name)
    assert laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
    with restored:
        for argv in commands:
            lab.sh(*argv)
        assert not laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
        from_laptop = why(name, laptop=True, expect=1)
        (seen_from_the_laptop or assert_dropped_on_the_host)(from_laptop, name, hp)
        return why(name, expect=1)


def assert_dropped_on_the_host(d: dict, name: str, hp: int) -> None:
    """Seen from the laptop without the host's firewall: the drop named at the forwarding hop,
    the candidates listed, never a guess between them."""
    assert codes(d) == ["dropped-on-docker-host"], d["causes"]
    c = d["causes"][0]
    assert c["summary"] == (f"{lab.VM_IP}:{hp} reaches the Docker host and goes no further: dropped there, by its "
                            "firewall or its forwarding")
    assert f"the Docker daemon answers at {lab.DOCKER_TCP}: the client reaches {lab.VM_IP}" in c["evidence"]
    assert any(e.startswith("candidates: a DOCKER-USER or FORWARD rule") for e in c["evidence"])
    assert c["fix"][0] == f"run netdiag on the Docker host ({lab.VM_IP}): sudo netdiag why-unreachable {name} --port 80"
    assert [h["status"] for h in d["path"] if h["hop"] == "forwarding"] == ["fail"]


def test_forwarding_off_on_the_interface_the_laptop_comes_in_by(clean, laptop):
    """Only ndt-vm0 stops forwarding: from the laptop, a drop on the Docker host; with --helper,
    and on the Docker host itself, the interface and its sysctl."""
    lab.run("ndt-ifwd", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-ifwd", 80)
    hp = host_port_of("ndt-ifwd")
    key = "net.ipv4.conf.ndt-vm0.forwarding"
    with sysctl_restored(key):
        lab.sh("sysctl", "-qw", f"{key}=0")
        assert not laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
        assert_dropped_on_the_host(why("ndt-ifwd", laptop=True, expect=1), "ndt-ifwd", hp)
        helped = why("ndt-ifwd", "--helper", lab.IMAGE, laptop=True, expect=1)
        on_host = why("ndt-ifwd", expect=1)
    c = cause(helped, "ip-forwarding-disabled")
    assert c["summary"] == (f"IP forwarding is off on ndt-vm0, where the client comes in (it reaches the Docker host "
                            f"at {lab.VM_IP}): other machines cannot reach {lab.VM_IP}:{hp}")
    assert f"{key} = 0 on the Docker host (net.ipv4.ip_forward = 1)" in c["evidence"]
    assert c["fix"][0] == f"sysctl -w {key}=1"
    c = cause(on_host, "ip-forwarding-disabled")
    assert c["summary"].startswith(f"IP forwarding is off on ndt-vm0, where machines that reach the Docker host at "
                                   f"{lab.VM_IP} come in")
    assert on_host["works"], on_host  # the Docker host itself still reaches it


def named_by_docker_info(d: dict, name: str, hp: int) -> None:
    """From the laptop, without the host's sysctls: docker info's IPv4Forwarding names it."""
    assert codes(d) == ["ip-forwarding-disabled"], d["causes"]
    assert "docker info: IPv4Forwarding false (the Docker host's net.ipv4.ip_forward, as the daemon reads it)" \
        in d["causes"][0]["evidence"]


def test_ip_forwarding_disabled(clean, laptop):
    d = broken_for_the_laptop("ndt-fwd", sysctl_restored("net.ipv4.ip_forward"),
                              ("sysctl", "-qw", "net.ipv4.ip_forward=0"), seen_from_the_laptop=named_by_docker_info)
    c = cause(d, "ip-forwarding-disabled")
    assert "net.ipv4.ip_forward = 0 on the Docker host" in c["evidence"]
    assert c["fix"][0] == "sysctl -w net.ipv4.ip_forward=1"


def test_docker_user_drop_rule(clean, laptop):
    d = broken_for_the_laptop("ndt-fw", iptables_restored(),
                              ("iptables", "-I", "DOCKER-USER", "-p", "tcp", "--dport", "80", "-j", "DROP"))
    c = cause(d, "firewall-blocks")
    assert "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c["evidence"]
    assert c["fix"][0] == "iptables -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP"


@contextlib.contextmanager
def nft_table_removed(family: str, name: str):
    try:
        yield
    finally:
        lab.sh("nft", "delete", "table", family, name, check=False)


def test_nftables_table_beside_iptables_drops_published_traffic(clean, laptop):
    """A hardened /etc/nftables.conf: its own forward chain with policy drop. Docker's iptables
    rules accept the traffic; the other table's base chain drops it all the same."""
    d = broken_for_the_laptop("ndt-nft", nft_table_removed("inet", "ndt_filter"),
                              ("nft", "add", "table", "inet", "ndt_filter"),
                              ("nft", "add", "chain", "inet", "ndt_filter", "forward",
                               "{ type filter hook forward priority 0; policy drop; }"))
    c = cause(d, "firewall-blocks")
    assert c["summary"].startswith("nftables table inet ndt_filter drops the traffic to ")
    assert c["evidence"] == ["table inet ndt_filter, chain forward (hook forward, priority 0, policy drop): "
                             "no rule accepts it"]
    assert c["fix"][1] == 'nft insert rule inet ndt_filter forward oifname "docker0" accept'


def test_flushed_forward_chain(clean, laptop):
    d = broken_for_the_laptop("ndt-flush", iptables_restored(),
                              ("iptables", "-P", "FORWARD", "DROP"), ("iptables", "-F", "FORWARD"))
    c = cause(d, "firewall-blocks")
    assert "filter/FORWARD policy: DROP" in c["evidence"]
    assert c["fix"][0].startswith("systemctl restart docker")


def test_vpn_route_inside_a_docker_subnet(clean):
    lab.network("ndt-net-ovl", "--subnet", "10.216.0.0/24")
    lab.run("ndt-ovl", "--network", "ndt-net-ovl", "-p", "80", cmd=HTTPD)
    ip = ip_of("ndt-ovl", "ndt-net-ovl")
    try:
        lab.sh("ip", "tuntap", "add", "ndt-tun1", "mode", "tun")
        lab.sh("ip", "addr", "add", "10.216.0.1/25", "dev", "ndt-tun1")
        lab.sh("ip", "link", "set", "ndt-tun1", "up")
        d = why("ndt-ovl", "--to", f"{ip}:80", expect=1)
    finally:
        lab.sh("ip", "link", "del", "ndt-tun1", check=False)
    c = cause(d, "subnet-overlap")
    assert "network ndt-net-ovl (10.216.0.0/24) overlaps interface 10.216.0.1/25 dev ndt-tun1 on the client" in c["evidence"]
    assert c["fix"][0].startswith("recreate the network in a free range: docker network create --subnet 10.200.0.0/24")


# --- container to container ---------------------------------------------------------------------

def test_different_networks(clean):
    lab.network("ndt-net-a")
    lab.network("ndt-net-b")
    lab.run("ndt-a", "--network", "ndt-net-a", cmd=("sleep", "600"))
    lab.run("ndt-b", "--network", "ndt-net-b", cmd=HTTPD)
    lab.wait_listening("ndt-b", 80)
    d = why("ndt-b", "--from", "container:ndt-a", "--to", "ndt-b:80", expect=1)
    assert codes(d)[0] == "different-networks"
    c = cause(d, "different-networks")
    assert c["evidence"] == ["ndt-a is on: ndt-net-a", "ndt-b is on: ndt-net-b"]
    assert c["fix"] == ["docker network connect ndt-net-b ndt-a, then use ndt-b:80"]


def test_name_on_default_bridge(clean):
    lab.run("ndt-c1", cmd=("sleep", "600"))
    lab.run("ndt-c2", cmd=HTTPD)
    lab.wait_listening("ndt-c2", 80)
    d = why("ndt-c2", "--from", "container:ndt-c1", "--to", "ndt-c2:80", expect=1)
    c = cause(d, "no-dns-on-default-bridge")
    assert c["fix"][1] == f"or use the address for now: {ip_of('ndt-c2')}:80"
    # the IP itself works, and netdiag proves it from inside ndt-c1's namespace
    assert d["works"] == [f"{ip_of('ndt-c2')}:80"]


def test_localhost_inside_another_container(clean):
    client_and_server("ndt-net-app", "ndt-front", "ndt-api")
    d = why("ndt-api", "--from", "container:ndt-front", "--to", "127.0.0.1:80", expect=1)
    c = cause(d, "wrong-address")
    assert c["rule"] == "ND307"
    assert c["summary"] == "127.0.0.1:80 inside ndt-front is ndt-front itself, not ndt-api"
    assert c["fix"][0] == "ndt-api:80 (by name on network ndt-net-app)"


# --- healthy decoys: reachable, no cause ------------------------------------------------------------

def test_healthy_published_port_from_laptop(clean, laptop):
    lab.run("ndt-ok1", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-ok1", 80)
    d = why("ndt-ok1", laptop=True, expect=0)
    assert d["verdict"] == "reachable" and d["causes"] == []
    assert d["works"] == [f"{lab.VM_IP}:{host_port_of('ndt-ok1')}"]
    assert d["target"]["to"] == f"{lab.VM_IP}:{host_port_of('ndt-ok1')}"


def test_healthy_by_name_on_a_user_defined_network(clean):
    client_and_server("ndt-net-ok", "ndt-ok-client", "ndt-ok-api")
    d = why("ndt-ok-api", "--from", "container:ndt-ok-client", "--to", "ndt-ok-api:80", expect=0)
    assert d["causes"] == []
    assert any(h["hop"] == "name resolution" and h["status"] == "ok" for h in d["path"])


def test_inter_container_communication_off_on_a_network(clean):
    """Docker's own FORWARD rule drops traffic within the bridge; recreating the network as the fix
    says makes the same containers reach each other."""
    lab.network("ndt-noicc", "--subnet", "10.86.0.0/24", "-o", "com.docker.network.bridge.enable_icc=false")
    lab.run("ndt-icc-client", "--network", "ndt-noicc", cmd=("sleep", "600"))
    lab.run("ndt-icc-api", "--network", "ndt-noicc", cmd=HTTPD)
    lab.wait_listening("ndt-icc-api", 80)
    d = why("ndt-icc-api", "--from", "container:ndt-icc-client", "--to", "ndt-icc-api:80", "--timeout", "1", expect=1)
    c = cause(d, "firewall-blocks")
    assert c["rule"] == "ND605" and codes(d) == ["firewall-blocks"]
    bridge = "br-" + lab.docker("network", "inspect", "-f", "{{.Id}}", "ndt-noicc")[:12]
    assert any(e.endswith(f"-A FORWARD -i {bridge} -o {bridge} -j DROP") for e in c["evidence"])
    assert c["fix"][0].startswith("recreate ndt-noicc without -o com.docker.network.bridge.enable_icc=false: docker "
                                  "network rm ndt-noicc; docker network create --subnet 10.86.0.0/24 ndt-noicc")
    for name in ("ndt-icc-client", "ndt-icc-api"):
        lab.docker("network", "disconnect", "ndt-noicc", name)
    lab.docker("network", "rm", "ndt-noicc")
    lab.network("ndt-noicc", "--subnet", "10.86.0.0/24")  # the fix
    for name in ("ndt-icc-client", "ndt-icc-api"):
        lab.docker("network", "connect", "ndt-noicc", name)
    assert why("ndt-icc-api", "--from", "container:ndt-icc-client", "--to", "ndt-icc-api:80", expect=0)["causes"] == []


def test_healthy_boot2docker_route_workaround(clean, laptop):
    lab.run("ndt-ok-route", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-ok-route", 80)
    ip = ip_of("ndt-ok-route")
    lab.laptop("ip", "route", "add", "172.17.0.0/16", "via", lab.VM_IP)
    try:
        d = why("ndt-ok-route", "--to", f"{ip}:80", laptop=True, expect=0)
    finally:
        lab.laptop("ip", "route", "del", "172.17.0.0/16", check=False)
    assert d["causes"] == [] and f"{ip}:80" in d["works"]


def test_a_silent_router_is_not_waited_for_once_the_routes_decide(clean, laptop):
    """The ISP's router drops its ICMP errors: the client's routes already show the container's
    address leaves by the default route, so the echo and the connect are cut short: unknown, with
    the reason, never a fail; the cause stands on the routes."""
    lab.run("ndt-silent", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-silent", 80)
    ip = ip_of("ndt-silent")
    drop = ("iptables", "-A", "OUTPUT", "-p", "icmp", "-j", "DROP")
    lab.sh("ip", "netns", "exec", lab.ISP, *drop)
    try:
        d = why("ndt-silent", "--to", f"{ip}:80", laptop=True, expect=1)
    finally:
        lab.sh("ip", "netns", "exec", lab.ISP, *[w if w != "-A" else "-D" for w in drop], check=False)
    c = cause(d, "ip-not-routable")
    assert any(e.startswith(f"ping {ip}: no answer and no router's error within 0.25s; not waited for longer, as "
                            f"the client's route to {ip} is its default route via {lab.ISP_IP}") for e in c["evidence"])
    process = next(h for h in d["path"] if h["hop"] == "process")
    assert process["status"] == "unknown" and "not waited for longer" in process["detail"]


def test_healthy_app_bound_to_its_own_eth0(clean):
    script = ("IP=$(ip -o -4 addr show eth0); IP=${IP#*inet }; IP=${IP%%/*}; "
              "exec httpd -f -p $IP:80 -h /www")
    lab.run("ndt-ok-eth0", "-p", "80", cmd=("sh", "-c", script))
    lab.wait_listening("ndt-ok-eth0", 80)
    d = why("ndt-ok-eth0", expect=0)
    assert d["causes"] == [] and d["verdict"] == "reachable"


def test_unknown_container_in_why_unreachable(engine):
    p = netdiag("why-unreachable", "ndt-nothing-here", "--json")
    assert p.returncode == 2
    assert json.loads(p.stdout)["error"]["code"] == "container-not-found"


def test_unknown_when_sockets_cannot_be_read_and_nothing_answers(clean, laptop):
    """From the laptop, a container without `cat` hides its sockets; the published port is refused.
    No rule can prove why, so the verdict is unknown (exit 3), never reachable, and says what is missing."""
    lab.run("ndt-bare", "-p", "5000", image=lab.BARE, cmd=HTTPD)
    hp = host_port_of("ndt-bare", 5000)
    d = why("ndt-bare", "--port", "5000", laptop=True, expect=3)
    assert d["verdict"] == "unknown" and d["causes"] == []
    assert any(n.startswith("unknown: listener") and "no `cat`" in n for n in d["notes"])
    assert [h["status"] for h in d["path"] if h["hop"] == "process"] == ["fail"]
    assert d["target"]["to"] == f"{lab.VM_IP}:{hp}"


def test_from_a_container_when_the_daemon_is_elsewhere(clean, laptop):
    """From the laptop, netdiag cannot enter a namespace on the Docker host: it tries the connection
    with the source container's own nc through docker exec, and says so."""
    client_and_server("ndt-net-rx", "ndt-rx-client", "ndt-rx-api")
    d = why("ndt-rx-api", "--from", "container:ndt-rx-client", "--to", "ndt-rx-api:80", laptop=True, expect=0)
    assert d["causes"] == [] and d["works"] == [f"{ip_of('ndt-rx-api', 'ndt-net-rx')}:80"]
    process = next(h for h in d["path"] if h["hop"] == "process")
    assert process["status"] == "ok" and "HTTP/1" in process["detail"]
    lab.run("ndt-rx-other", cmd=("sleep", "600"))
    d = why("ndt-rx-api", "--from", "container:ndt-rx-other", "--to", "ndt-rx-api:80", laptop=True, expect=1)
    assert [c["code"] for c in d["causes"]] == ["different-networks"]


def _compose_container(name: str, project: str, service: str, number: str = "1") -> None:
    lab.run(name, "-p", "80", "--label", f"com.docker.compose.project={project}",
            "--label", f"com.docker.compose.service={service}",
            "--label", f"com.docker.compose.container-number={number}", cmd=HTTPD)
    lab.wait_listening(name, 80)


def test_a_compose_service_name_is_a_target(clean, tmp_path):
    """`netdiag why-unreachable web` in a Compose project: the service's container, by its labels
    (as Compose v2 names it, proj-web-1); two projects with that service need --project."""
    _compose_container("ndt-shop-web-1", "ndt-shop", "ndt-web")
    d = why("ndt-web", expect=0)
    assert d["target"]["container"] == "ndt-shop-web-1" and d["verdict"] == "reachable"
    _compose_container("ndt-blog-web-1", "ndt-blog", "ndt-web")
    p = netdiag("why-unreachable", "ndt-web", "--json")
    assert p.returncode == 2 and "service 'ndt-web' is in several Compose projects" in p.stderr
    d = json.loads(netdiag("--project", "ndt-blog", "why-unreachable", "ndt-web", "--json").stdout)
    assert d["target"]["container"] == "ndt-blog-web-1"


def test_two_containers_answering_to_one_alias(clean):
    """Two projects' databases both called db on one shared network: the embedded DNS gives both."""
    lab.network("ndt-net-shared", "--subnet", "10.217.0.0/24")
    for name in ("ndt-shop-db", "ndt-blog-db"):
        lab.run(name, "--network", "ndt-net-shared", "--network-alias", "ndt-db", cmd=HTTPD)
        lab.wait_listening(name, 80)
    lab.run("ndt-dbclient", "--network", "ndt-net-shared", cmd=("sleep", "300"))
    answers = lab.docker("exec", "ndt-dbclient", "nslookup", "ndt-db", "127.0.0.11")
    assert answers.count("Address") >= 3  # the server, then both containers: the collision is real
    d = why("ndt-shop-db", "--from", "container:ndt-dbclient", "--to", "ndt-db:80", expect=1)
    c = cause(d, "name-collision")
    assert c["rule"] == "ND603" and "ndt-shop-db" in c["summary"] and "ndt-blog-db" in c["summary"]
    assert "or use the container's own name: ndt-shop-db:80" in c["fix"]


# --- the Docker host read from the laptop, by consent ---------------------------------------------------

def test_helper_reads_the_docker_hosts_firewall_from_the_laptop(clean, laptop):
    """With --helper, the laptop's diagnosis names the rule and the sysctl instead of stopping at
    dropped-on-docker-host; the privileged helper is gone afterwards."""
    lab.run("ndt-fwh", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-fwh", 80)
    hp = host_port_of("ndt-fwh")
    before = set(lab.docker("ps", "-aq", "--no-trunc").split())
    with iptables_restored():
        lab.sh("iptables", "-I", "DOCKER-USER", "-p", "tcp", "--dport", "80", "-j", "DROP")
        assert not laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
        d = why("ndt-fwh", "--helper", lab.IMAGE, laptop=True, expect=1)
    c = cause(d, "firewall-blocks")
    assert "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c["evidence"]
    assert "dropped-on-docker-host" not in codes(d)
    with sysctl_restored("net.ipv4.ip_forward"):
        lab.sh("sysctl", "-qw", "net.ipv4.ip_forward=0")
        d = why("ndt-fwh", "--helper", lab.IMAGE, laptop=True, expect=1)
    assert codes(d)[0] == "ip-forwarding-disabled"
    assert set(lab.docker("ps", "-aq", "--no-trunc").split()) == before
    steps = {s["hop"]: s for s in d["path"]}
    assert "not read" not in steps["forwarding"]["detail"]


# --- netdiag inside a container, the daemon's socket mounted in (CI jobs, devcontainers) ---------------

def test_netdiag_inside_a_container_of_the_daemon(clean):
    """Run in a container's network namespace with the daemon's socket at hand, netdiag knows the
    daemon's host is elsewhere (reached at the gateway): published ports are tried there, and the
    host's firewall, invisible from inside, is unknown rather than 'flushed'."""
    lab.run("ndt-ci", cmd=("sleep", "600"))
    lab.run("ndt-svc", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-svc", 80)
    pid = lab.docker("inspect", "-f", "{{.State.Pid}}", "ndt-ci")
    inside = ["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-m", "netdiag"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    engine = json.loads(subprocess.run([*inside, "engine", "--json"], capture_output=True, text=True, env=env,
                                       cwd=lab.ROOT).stdout)
    assert engine["location"] == "container" and engine["host_address"] == "172.17.0.1"
    assert any("netdiag runs inside ndt-ci" in e for e in engine["location_evidence"])
    p = subprocess.run([*inside, "why-unreachable", "ndt-svc", "--json"], capture_output=True, text=True, env=env,
                       cwd=lab.ROOT)
    d = json.loads(p.stdout)
    assert p.returncode == 0 and d["works"] == [f"172.17.0.1:{host_port_of('ndt-svc')}"], d
    assert {s["hop"]: s["status"] for s in d["path"]}["forwarding"] == "unknown"


# --- IPv6 -----------------------------------------------------------------------------------------

def test_a_port_published_on_the_ipv6_wildcard_only_is_tried_on_ipv6_loopback(clean):
    """-p [::]::80: docker-proxy listens on [::] only, so 127.0.0.1 gets nothing while [::1]
    answers; IPv4's iptables do not see that traffic and claim nothing of it."""
    lab.run("ndt-v6", "-p", "[::]::80", cmd=HTTPD)
    lab.wait_listening("ndt-v6", 80)
    hp = int(lab.docker("port", "ndt-v6", "80").splitlines()[0].rsplit(":", 1)[1])
    d = why("ndt-v6", expect=0)
    assert d["verdict"] == "reachable" and not d["causes"]
    assert d["target"]["to"] == f"[::1]:{hp}" and d["works"][0] == f"[::1]:{hp}", d


def test_a_policy_route_through_the_docker_host_is_the_kernels_choice(clean, laptop):
    """The laptop's main table sends 172.17.0.0/16 to its ISP, a policy rule (as a VPN client's
    table 52 does) sends it through the Docker host: the kernel's own choice is what counts, so
    the attempt is waited for, not cut short as settled by the main table's default route."""
    lab.run("ndt-pol", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-pol", 80)
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-pol")
    subnet = lab.docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge")
    lap = ("ip", "netns", "exec", lab.LAPTOP)
    try:
        lab.sh(*lap, "ip", "route", "add", subnet, "via", lab.VM_IP, "table", "52")
        lab.sh(*lap, "ip", "rule", "add", "to", subnet, "table", "52", "pref", "100")
        assert laptop_gets(ip, 80).startswith("HTTP/1")
        d = why("ndt-pol", "--to", f"{ip}:80", laptop=True, expect=0)
    finally:
        lab.sh(*lap, "ip", "rule", "del", "to", subnet, "table", "52", "pref", "100", check=False)
        lab.sh(*lap, "ip", "route", "del", subnet, "via", lab.VM_IP, "table", "52", check=False)
    assert d["verdict"] == "reachable" and f"{ip}:80" in d["works"], d
    client = next(s for s in d["path"] if s["hop"] == "client")
    assert client["detail"] == f"route to {ip}: policy table 52 via {lab.VM_IP} dev ndt-lap0", client


def test_a_raw_prerouting_drop_of_the_container_address_as_docker_28_writes_it(clean, laptop):
    """The laptop routes the bridge network through the Docker host; the host's raw PREROUTING
    drops packets to the container's address from outside its bridge, the rule Docker 28 writes
    (this lab's engine is older, so the test writes it). Without consent: dropped there, with the
    candidates; with --helper: direct-routing-blocked naming the rule, and the published port."""
    lab.run("ndt-raw", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-raw", 80)
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-raw")
    hp = host_port_of("ndt-raw")
    subnet = lab.docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge")
    lap = ("ip", "netns", "exec", lab.LAPTOP)
    drop = ("PREROUTING", "-d", f"{ip}/32", "!", "-i", "docker0", "-j", "DROP")
    lab.sh(*lap, "ip", "route", "add", subnet, "via", lab.VM_IP)
    try:
        assert laptop_gets(ip, 80).startswith("HTTP/1")
        lab.sh("iptables", "-t", "raw", "-I", *drop)
        assert not laptop_gets(ip, 80).startswith("HTTP/1")
        blind = why("ndt-raw", "--to", f"{ip}:80", laptop=True, expect=1)
        helped = why("ndt-raw", "--to", f"{ip}:80", "--helper", lab.IMAGE, laptop=True, expect=1)
    finally:  # by hand: iptables-save leaves out a raw table that was empty, so a restore would keep the rule
        lab.sh("iptables", "-t", "raw", "-D", *drop, check=False)
        lab.sh(*lap, "ip", "route", "del", subnet, "via", lab.VM_IP, check=False)
    c = cause(blind, "dropped-on-docker-host")
    assert c["summary"] == f"{ip}:80 is routed to the Docker host and goes no further: dropped there"
    assert c["fix"][0] == f"use {lab.VM_IP}:{hp}"
    c = cause(helped, "direct-routing-blocked")
    assert f"rule 1 of raw/PREROUTING on the Docker host: -A PREROUTING -d {ip}/32 ! -i docker0 -j DROP" in c["evidence"]
    assert c["fix"][0] == f"use {lab.VM_IP}:{hp}"


def test_a_compose_service_in_the_hosts_network_uses_a_name(clean):
    """network_mode: host takes a service off its project's network: Docker's DNS does not serve
    it (its resolv.conf is the host's, no 127.0.0.11; no name is looked up here), so a name fails
    where the address works."""
    lab.network("ndt-hn-net", "--subnet", "10.214.0.0/24")
    lab.run("ndt-hn-web", "--network", "ndt-hn-net", "--label", "com.docker.compose.project=ndt-hn",
            "--label", "com.docker.compose.service=web", cmd=HTTPD)
    lab.run("ndt-hn-worker", "--network", "host", "--label", "com.docker.compose.project=ndt-hn",
            "--label", "com.docker.compose.service=worker", cmd=("sleep", "600"))
    lab.wait_listening("ndt-hn-web", 80)
    assert "127.0.0.11" not in lab.docker("exec", "ndt-hn-worker", "cat", "/etc/resolv.conf")
    ip = lab.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "ndt-hn-web")
    d = why("ndt-hn-web", "--from", "container:ndt-hn-worker", "--to", "ndt-hn-web:80", expect=1)
    c = cause(d, "different-networks")
    assert c["rule"] == "ND604" and c["fix"][0] == f"use the address: {ip}:80"
    assert "or remove network_mode: host from worker so that it joins the project's network, then use " \
           "ndt-hn-web:80" in c["fix"]
    ok = why("ndt-hn-web", "--from", "container:ndt-hn-worker", "--to", f"{ip}:80", expect=0)
    assert ok["verdict"] == "reachable"


def test_app_listening_on_ipv6_only(clean):
    """An app on [::]:80 with IPV6_V6ONLY (a process in the container's namespace, as nginx's
    `listen [::]:80 ipv6only=on`): Docker reaches the container over IPv4, and is refused."""
    hp = free_port()
    lab.run("ndt-v6only", "-p", f"{hp}:80", cmd=("sleep", "600"))
    pid = lab.docker("inspect", "-f", "{{.State.Pid}}", "ndt-v6only")
    server = ("import socket, time\n"
              "s = socket.socket(socket.AF_INET6)\n"
              "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
              "s.bind(('::', 80)); s.listen(); print('up', flush=True); time.sleep(120)\n")
    app = subprocess.Popen(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", server],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "up"
        d = why("ndt-v6only", "--port", "80", expect=1)
        c = cause(d, "nothing-listening")
        assert c["summary"] == "ndt-v6only listens on 80/tcp over IPv6 only: Docker's IPv4 connections to it are " \
                               "refused"
        process = os.path.basename(sys.executable)
        assert c["evidence"][0].startswith(f"{process} on [::]:80 (IPv6 only): IPV6_V6ONLY is set")
    finally:
        app.kill()
        app.wait()
