"""IPv6 on the real engine: a network created with --ipv6 (fd77:1::/64 beside 10.78.0.0/24), a
published port answering on [::1], a container's IPv6 address from this machine and from another
container, an app that listens on IPv4 only; and another machine (the laptop, fd59::3) at the
Docker host's IPv6 address (fd59::103). Each case is checked against what a client really gets
first."""

from __future__ import annotations

import socket
import time

import pytest

from examples import lab
from tests.test_why_engine import HTTPD, cause, codes, free_port, laptop_gets, why

pytestmark = pytest.mark.engine

NET = "ndt-v6"
V6_SUBNET, V4_SUBNET = "fd77:1::/64", "10.78.0.0/24"


def ipv6_of(name: str) -> str:
    return lab.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}", name)


def gets(address: str, port: int) -> str:
    """What this machine gets from [address]:port: the status line, or the error's name."""
    try:
        with socket.create_connection((address, port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(64).decode(errors="replace").split("\r")[0] or "closed"
    except OSError as e:
        return type(e).__name__


@pytest.fixture
def v6net(clean):
    lab.network(NET, "--ipv6", "--subnet", V6_SUBNET, "--subnet", V4_SUBNET)
    return NET


def web(name: str, listen: str = "80", *publish: str) -> str:
    """busybox httpd on the IPv6 network: `listen` as httpd's -p takes it (80 is [::]:80, dual-stack)."""
    lab.run(name, "--network", NET, *publish, cmd=("httpd", "-f", "-p", listen, "-h", "/www"))
    lab.wait_listening(name, 80)
    address = ipv6_of(name)
    deadline = time.time() + 10  # a new IPv6 address is tentative until duplicate address detection ends
    while time.time() < deadline and "tentative" in lab.sh("ip", "-6", "addr", "show", "to", V6_SUBNET).stdout + \
            lab.sh("docker", "exec", name, "ip", "-6", "addr", "show", check=False).stdout:
        time.sleep(0.2)
    return address


def test_a_containers_ipv6_address_from_this_machine(v6net):
    address = web("ndt-v6web")
    assert address.startswith("fd77:1::") and gets(address, 80).startswith("HTTP/1")
    d = why("ndt-v6web", "--to", f"[{address}]:80", expect=0)
    assert f"[{address}]:80" in d["works"]
    hops = {h["hop"]: h for h in d["path"]}
    assert hops["client"]["detail"].startswith(f"route to {address}: {V6_SUBNET} dev br-")
    assert hops["network"]["detail"].endswith(f", {address}")
    assert hops["forwarding"]["detail"].startswith("IPv6: net.ipv6.conf.all.forwarding on; ")


def test_a_published_port_answers_on_ipv6_loopback(v6net):
    web("ndt-v6pub", "80", "-p", "18110:80")
    assert gets("::1", 18110).startswith("HTTP/1")
    d = why("ndt-v6pub", "--to", "[::1]:18110", expect=0)
    assert d["verdict"] == "reachable" and "[::1]:18110" in d["works"]


def test_a_containers_ipv6_address_from_another_container(v6net):
    address = web("ndt-v6web")
    lab.run("ndt-v6cli", "--network", NET, cmd=("sleep", "600"))
    assert lab.sh("docker", "exec", "ndt-v6cli", "nc", "-w", "2", address, "80", check=False).returncode == 0
    d = why("ndt-v6web", "--from", "container:ndt-v6cli", "--to", f"[{address}]:80", expect=0)
    assert d["verdict"] == "reachable" and f"[{address}]:80" in d["works"]
    d = why(f"[{address}]:80", "--from", "container:ndt-v6cli", expect=0)
    assert d["verdict"] == "reachable"


def test_an_app_listening_on_ipv4_only_at_the_containers_ipv6_address(v6net):
    """httpd bound to 0.0.0.0: the IPv6 attempt is refused, the IPv4 address answers; netdiag
    names the IPv4-only socket, and the dual-stack listener it proposes does answer."""
    address = web("ndt-v6four", "0.0.0.0:80")
    v4 = lab.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "ndt-v6four")
    assert gets(address, 80) == "ConnectionRefusedError" and gets(v4, 80).startswith("HTTP/1")
    d = why("ndt-v6four", "--to", f"[{address}]:80", expect=1)
    assert codes(d) == ["nothing-listening"], d["causes"]
    c = cause(d, "nothing-listening")
    assert c["rule"] == "ND403"
    assert c["summary"] == (f"httpd in ndt-v6four listens on IPv4 only: the attempt to its IPv6 address {address} "
                            "finds nothing on 80/tcp")
    assert any(e.endswith("listens on 0.0.0.0:80: IPv4 only") for e in c["evidence"])
    assert c["fix"] == ["make the app listen on [::]:80 too (one dual-stack socket: e.g. httpd -p [::]:80, --host ::), "
                        "then restart ndt-v6four", f"or use its IPv4 address: {v4}:80"]
    fixed = web("ndt-v6dual", "[::]:80")
    assert gets(fixed, 80).startswith("HTTP/1")
    assert why("ndt-v6dual", "--to", f"[{fixed}]:80", expect=0)["verdict"] == "reachable"


# --- another machine at the Docker host's IPv6 address ----------------------------------------------
# dockerd runs without ip6tables here (the default before Docker 27): docker-proxy takes the IPv6
# connections to a [::] binding on the Docker host itself, so they pass INPUT and are not forwarded.

def published(name: str, publish: str) -> int:
    port = free_port()
    lab.run(name, "-p", publish.format(port=port), cmd=HTTPD)
    lab.wait_listening(name, 80)
    return port


def test_the_docker_hosts_ipv6_address_from_another_machine(clean, laptop):
    hp = published("ndt-v6far", "{port}:80")
    assert laptop_gets(lab.VM_IP6, hp).startswith("HTTP/1")
    d = why("ndt-v6far", "--to", f"[{lab.VM_IP6}]:{hp}", "--helper", lab.IMAGE, laptop=True, expect=0)
    assert f"[{lab.VM_IP6}]:{hp}" in d["works"] and f"{lab.VM_IP}:{hp}" in d["works"]
    hops = {h["hop"]: h for h in d["path"]}
    assert hops["host binding"]["detail"] == f"80/tcp on [::]:{hp}"
    assert hops["forwarding"]["detail"].startswith("docker-proxy takes it on the Docker host (nothing forwarded); "
                                                   "ip6tables")


def test_a_port_published_on_ipv4_only_from_an_ipv6_client(clean, laptop):
    """-p 0.0.0.0:PORT:80 answers the Docker host's IPv4 address only: the laptop's IPv6 attempt is
    refused, and the fix is the IPv4 address that answers, not the wildcard it is bound to."""
    hp = published("ndt-v6only4", "0.0.0.0:{port}:80")
    assert laptop_gets(lab.VM_IP6, hp) == "ConnectionRefusedError"
    assert laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
    d = why("ndt-v6only4", "--to", f"[{lab.VM_IP6}]:{hp}", laptop=True, expect=1)
    assert codes(d) == ["wrong-address"], d["causes"]
    c = cause(d, "wrong-address")
    assert c["summary"] == f"[{lab.VM_IP6}]:{hp} is not where ndt-v6only4 is bound"
    assert f"the attempt goes to {lab.VM_IP6}, which that binding does not cover (0.0.0.0 is IPv4's wildcard: " \
           "it covers no IPv6 address)" in c["evidence"]
    assert c["fix"] == [f"use {lab.VM_IP}:{hp}", f"or publish on every address: docker run -p {hp}:80 ..."]
    assert d["works"] == [f"{lab.VM_IP}:{hp}"]


def test_an_ip6tables_input_rule_drops_the_ipv6_client(clean, laptop):
    """The Docker host's ip6tables INPUT drops the port: the laptop's IPv6 attempt meets silence
    while IPv4 answers; netdiag names the INPUT rule (not FORWARD: docker-proxy takes the
    connection), from the laptop through the helper and on the Docker host."""
    hp = published("ndt-v6in", "{port}:80")
    drop = ("INPUT", "-p", "tcp", "-m", "tcp", "--dport", str(hp), "-j", "DROP")
    had_rules = bool(lab.sh("ip6tables-save").stdout.strip())
    lab.sh("ip6tables", "-I", *drop)
    try:
        assert laptop_gets(lab.VM_IP6, hp) in ("TimeoutError", "timeout")
        assert laptop_gets(lab.VM_IP, hp).startswith("HTTP/1")
        for d in (why("ndt-v6in", "--to", f"[{lab.VM_IP6}]:{hp}", "--helper", lab.IMAGE, laptop=True, expect=1),
                  why("ndt-v6in", "--to", f"[{lab.VM_IP6}]:{hp}", expect=1)):
            assert codes(d) == ["firewall-blocks"], d["causes"]
            c = cause(d, "firewall-blocks")
            assert c["rule"] == "ND502"
            assert c["summary"] == f"an ip6tables INPUT rule drops the connections to [{lab.VM_IP6}]:{hp}"
            assert c["evidence"][0] == f"rule 1 of INPUT (ip6tables): -A INPUT -p tcp -m tcp --dport {hp} -j DROP"
            assert c["fix"][0] == f"ip6tables -D INPUT -p tcp -m tcp --dport {hp} -j DROP"
        assert f"{lab.VM_IP}:{hp}" in d["works"] or f"127.0.0.1:{hp}" in d["works"]
    finally:
        lab.sh("ip6tables", "-D", *drop, check=False)
        if not had_rules:  # the rule made ip6tables' filter table: leave none, as before
            lab.sh("nft", "delete", "table", "ip6", "filter", check=False)
