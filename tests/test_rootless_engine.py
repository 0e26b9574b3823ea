"""Rootless Podman, live: Debian's podman 4.3 run by an unprivileged user (its own user
namespace; slirp4netns, or a bridge network inside that namespace), through its Docker-compatible
API (examples/lab.py). netdiag recognises it from Podman's own info, judges no host forwarding or
firewall for it, and never tries its containers' addresses from the host. Each case is checked
against what a client really gets first."""

from __future__ import annotations

import socket
import time

import pytest

from examples import lab
from tests.test_why_engine import cause, codes, free_port, iptables_restored, nft_table_removed, sysctl_restored
from tests.test_why_engine import why as docker_why

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def why(*args: str, expect: int | None = None) -> dict:
    """netdiag why-unreachable against the lab's rootless Podman, as its user runs it."""
    return docker_why(*args, expect=expect, env_extra=lab.rootless_env())


def run(name: str, *args: str, cmd: tuple[str, ...] = HTTPD) -> str:
    return lab.rootless_podman("run", "-d", "--name", name, "--label", lab.LABEL, *args, lab.PODMAN_IMAGE, *cmd)


def gets(address: str, port: int, tries: int = 1) -> str:
    """What this machine gets from address:port: the status line, or the error's name."""
    for attempt in range(tries):
        try:
            with socket.create_connection((address, port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                got = s.recv(64).decode(errors="replace").split("\r")[0] or "closed"
        except OSError as e:
            got = type(e).__name__
        if got.startswith("HTTP/1") or attempt == tries - 1:
            return got
        time.sleep(0.2)  # the app starts a moment after its container
    return got


def test_a_published_port_is_healthy_with_the_hosts_forwarding_off(rootless_clean):
    """rootlessport carries the port in user space: the host's ip_forward does not matter, and
    netdiag neither blames it nor claims a firewall hop."""
    port = free_port()
    run("ndt-rlweb", "-p", f"{port}:80")
    assert gets("127.0.0.1", port, tries=25).startswith("HTTP/1")
    with sysctl_restored("net.ipv4.ip_forward"):
        lab.sh("sysctl", "-qw", "net.ipv4.ip_forward=0")
        assert gets("127.0.0.1", port).startswith("HTTP/1")
        d = why("ndt-rlweb", expect=0)
    assert d["verdict"] == "reachable" and not d["causes"] and d["works"] == [f"127.0.0.1:{port}"]
    hops = {h["hop"]: h for h in d["path"]}
    assert hops["forwarding"]["detail"].startswith("Podman's port forwarder (rootlessport, or pasta) takes it on the "
                                                   "Docker host (nothing forwarded); iptables INPUT policy ")
    assert hops["network"]["detail"].startswith("network mode slirp4netns: a network stack in user space")


def test_nothing_listening_names_podmans_forwarder(rootless_clean):
    port = free_port()
    run("ndt-rlidle", "-p", f"{port}:80", cmd=("sleep", "600"))
    time.sleep(0.5)
    assert not gets("127.0.0.1", port).startswith("HTTP/1")
    d = why("ndt-rlidle", expect=1)
    assert codes(d) == ["nothing-listening"], d["causes"]
    assert cause(d, "nothing-listening")["fix"] == [
        "make the app listen on 80 (nothing listens at all: ndt-rlidle runs `sleep 600`)"]
    assert any(n.endswith("Podman's port forwarder (rootlessport, or pasta) answers even when nothing listens "
                          "behind it") for n in d.get("notes", [])), d.get("notes")


def test_a_containers_address_is_in_the_engines_own_namespace(rootless_clean):
    """On a network of the rootless Podman the container has an address, in the engine's own
    namespace: the host cannot reach it (its subnet is blackholed here, so nothing leaves the
    machine). netdiag says so without trying it, and gives the published port that works."""
    lab.rootless_podman("network", "create", "--label", lab.LABEL, "--subnet", lab.ROOTLESS_SUBNET, "ndt-rlnet")
    port = free_port()
    run("ndt-rlnetweb", "--network", "ndt-rlnet", "-p", f"{port}:80")
    ip = lab.rootless_podman("inspect", "-f", '{{(index .NetworkSettings.Networks "ndt-rlnet").IPAddress}}', "ndt-rlnetweb")
    assert ip.startswith("10.79.0.")
    assert gets("127.0.0.1", port, tries=25).startswith("HTTP/1")
    assert not gets(ip, 80).startswith("HTTP/1")
    d = why("ndt-rlnetweb", "--to", f"{ip}:80", expect=1)
    assert codes(d) == ["ip-not-routable"], d["causes"]
    c = cause(d, "ip-not-routable")
    assert c["summary"] == f"{ip} is in the rootless engine's own network namespace: no route from here leads to it"
    assert any(e.startswith(f"not tried from here: the host's route to {ip} leads out of the host") for e in c["evidence"])
    assert c["fix"] == [f"use 127.0.0.1:{port}"]
    assert {h["hop"]: h["status"] for h in d["path"]}["process"] == "unknown"
    healthy = why("ndt-rlnetweb", expect=0)
    assert healthy["works"] == [f"127.0.0.1:{port}"]  # its own address is not offered as a way in


def test_out_of_a_rootless_container_with_the_hosts_forwarding_off(rootless_clean, internet):
    """slirp4netns makes the container's connections from the host itself: with ip_forward off
    the lab's far web server still answers, and netdiag neither blames forwarding nor claims the
    host's NAT; a silent destination is named as such, the Docker host failing alike."""
    run("ndt-rlout", cmd=("sleep", "600"))
    with sysctl_restored("net.ipv4.ip_forward"):
        lab.sh("sysctl", "-qw", "net.ipv4.ip_forward=0")
        got = lab.rootless_podman("exec", "ndt-rlout", "sh", "-c",
                                  f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {lab.FAR_WEB} 80", check=False)
        assert got.startswith("HTTP/1"), got
        d = why("--from", "container:ndt-rlout", f"{lab.FAR_WEB}:80", expect=0)
        assert d["verdict"] == "reachable" and not d["causes"]
        hops = {h["hop"]: h for h in d["path"]}
        for hop in ("forwarding", "source nat"):
            assert hops[hop]["status"] == "skip" and hops[hop]["detail"].startswith("a rootless engine"), hops[hop]
        silent = why("--from", "container:ndt-rlout", f"{lab.FAR_SILENT}:80", expect=1)
    assert codes(silent) == ["destination-down"], silent["causes"]


def test_the_hosts_input_chain_drops_the_published_port(rootless_clean):
    """rootlessport takes the connections on the host, so the host's INPUT chain filters them (not
    FORWARD): an iptables INPUT rule, then another nftables table's input chain, each named; the
    first fix, applied, brings the answer back."""
    port = free_port()
    run("ndt-rlin", "-p", f"{port}:80")
    assert gets("127.0.0.1", port, tries=25).startswith("HTTP/1")
    drop = ("INPUT", "-p", "tcp", "-m", "tcp", "--dport", str(port), "-j", "DROP")
    with iptables_restored():
        lab.sh("iptables", "-I", *drop)
        assert gets("127.0.0.1", port) in ("TimeoutError", "timeout")
        d = why("ndt-rlin", expect=1)
        assert codes(d) == ["firewall-blocks"], d["causes"]
        c = cause(d, "firewall-blocks")
        assert c["summary"] == f"an iptables INPUT rule drops the connections to 127.0.0.1:{port}"
        assert c["evidence"][0] == f"rule 1 of INPUT: -A INPUT -p tcp -m tcp --dport {port} -j DROP"
        assert c["fix"][0] == f"iptables -D INPUT -p tcp -m tcp --dport {port} -j DROP"
        lab.sh(*c["fix"][0].split())
        assert gets("127.0.0.1", port).startswith("HTTP/1")  # the fix works
    with nft_table_removed("inet", "ndt_filter"):
        lab.sh("nft", "add", "table", "inet", "ndt_filter")
        lab.sh("nft", "add", "chain", "inet", "ndt_filter", "input", "{ type filter hook input priority 0 ; }")
        lab.sh("nft", "add", "rule", "inet", "ndt_filter", "input", "tcp", "dport", str(port), "drop")
        assert gets("127.0.0.1", port) in ("TimeoutError", "timeout")
        c = cause(why("ndt-rlin", expect=1), "firewall-blocks")
        assert c["summary"] == f"nftables table inet ndt_filter drops the connections to 127.0.0.1:{port} on the " \
                               "Docker host"
        assert c["fix"][0] == f"nft insert rule inet ndt_filter input tcp dport {port} accept"
        lab.sh(*c["fix"][0].split())
        assert gets("127.0.0.1", port).startswith("HTTP/1")  # that fix works too
