"""A second Docker host, reached as users reach theirs: over TLS with DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH, with -H, through a docker context; and several daemons in one doctor run.

The second host is a real dockerd in its own network namespace (examples/lab.py), its
certificates made by the test with openssl. This machine sets REQUESTS_CA_BUNDLE, as corporate
machines do: the daemon's own CA must still be the one trusted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from examples import lab
from examples.lab import netdiag

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")
DOWN = "tcp://198.18.9.2:2999"  # the second host's address, a port where no daemon listens
LOCAL = "unix:///var/run/docker.sock"


def test_tls_daemon_from_the_environment_and_with_h(second_host):
    d = json.loads(netdiag("engine", "--json", env_extra=lab.host2_env(REQUESTS_CA_BUNDLE=
                                                                        "/etc/ssl/certs/ca-certificates.crt")).stdout)
    assert d["endpoint"] == lab.HOST2_TCP and d["chosen_by"] == "DOCKER_HOST"
    assert d["location"] == "remote" and d["host_address"] == lab.HOST2_IP
    tls = {k: v for k, v in lab.host2_env().items() if k != "DOCKER_HOST"}
    p = netdiag("-H", lab.HOST2_TCP, "engine", "--json", env_extra=tls)
    assert p.returncode == 0 and json.loads(p.stdout)["chosen_by"] == "-H"
    p = netdiag("-H", lab.HOST2_TCP, "engine")  # no certificates: one line, exit 3
    assert p.returncode == 3 and len(p.stderr.strip().splitlines()) == 1
    assert "Client sent an HTTP request to an HTTPS server" in p.stderr


@pytest.fixture
def host2_context(second_host):
    name = "ndt-host2"
    certs = lab.HOST2_CERTS
    lab.sh("docker", "context", "create", name, "--docker",
           f"host={lab.HOST2_TCP},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem")
    try:
        yield name
    finally:
        lab.sh("docker", "context", "rm", "-f", name, check=False)


def test_context_of_a_tls_daemon_and_a_diagnosis_there(clean, host2_context):
    lab.host2("run", "-d", "--name", "ndt-c2", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "80", lab.IMAGE,
              *HTTPD)
    try:
        d = json.loads(netdiag("--context", host2_context, "engine", "--json").stdout)
        assert d["context"] == host2_context and d["endpoint"] == lab.HOST2_TCP
        p = netdiag("--context", host2_context, "why-unreachable", "ndt-c2", "--json")
        diag = json.loads(p.stdout)
        hp = int(lab.host2("port", "ndt-c2", "80").splitlines()[0].rsplit(":", 1)[1])
        assert p.returncode == 0 and diag["works"] == [f"{lab.HOST2_IP}:{hp}"], diag
    finally:
        lab.host2("rm", "-f", "ndt-c2", check=False)


def test_doctor_over_two_daemons_and_one_that_is_down(clean, second_host):
    lab.run("ndt-f1", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-f1", 80)
    lab.host2("run", "-d", "--name", "ndt-f2", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "5000", lab.IMAGE,
              *HTTPD)
    tls = {k: v for k, v in lab.host2_env().items() if k != "DOCKER_HOST"}
    try:
        p = netdiag("doctor", "-H", LOCAL, "-H", lab.HOST2_TCP, "-H", DOWN, "--json", env_extra=tls)
        doc = json.loads(p.stdout)
        from tests.schemas import validate

        assert validate(doc) == "doctor"
        rows = {(r["host"], r["container"]): r for r in doc["containers"]}
        assert rows[(LOCAL, "ndt-f1")]["verdict"] == "reachable"
        assert rows[(lab.HOST2_TCP, "ndt-f2")]["verdict"] == "unreachable"
        assert "nothing-listening" in rows[(lab.HOST2_TCP, "ndt-f2")]["causes"]
        down = rows[(DOWN, "")]
        assert down["causes"] == ["daemon-unreachable"] and down["verdict"] == "unknown"
        assert p.returncode == 1  # ndt-f2 is broken; the daemon that is down does not end the run
        assert not any(h == lab.HOST2_TCP and c == "ndt-f1" for h, c in rows)  # each daemon its own containers
        text = netdiag("doctor", "-H", LOCAL, "-H", lab.HOST2_TCP, env_extra=tls).stdout
        assert text.splitlines()[0].split()[:2] == ["daemon", "container"]
    finally:
        lab.host2("rm", "-f", "ndt-f2", check=False)


def test_helper_reads_the_second_hosts_own_firewall(clean, second_host):
    """The second host's DOCKER-USER (in its own namespace) drops its published port: from here,
    without consent, dropped-on-docker-host; with --helper, the rule itself."""
    lab.host2("run", "-d", "--name", "ndt-h2fw", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "80", lab.IMAGE,
              *HTTPD)
    inside = ("nsenter", f"--net=/var/run/netns/{lab.HOST2}")
    rule = ("-p", "tcp", "--dport", "80", "-j", "DROP")
    lab.sh(*inside, "iptables", "-I", "DOCKER-USER", *rule)
    try:
        without = netdiag("why-unreachable", "ndt-h2fw", "--json", env_extra=lab.host2_env())
        assert without.returncode == 1, without.stdout + without.stderr
        assert [c["code"] for c in json.loads(without.stdout)["causes"]] == ["dropped-on-docker-host"]
        p = netdiag("why-unreachable", "ndt-h2fw", "--helper", lab.IMAGE, "--json", env_extra=lab.host2_env())
        d = json.loads(p.stdout)
        assert p.returncode == 1 and [c["code"] for c in d["causes"]] == ["firewall-blocks"], d
        assert "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in d["causes"][0]["evidence"]
        assert not lab.host2("ps", "-aq", "--filter", "label=netdiag.helper=1")  # the helper is gone
    finally:
        lab.sh(*inside, "iptables", "-D", "DOCKER-USER", *rule, check=False)
        lab.host2("rm", "-f", "ndt-h2fw", check=False)


def test_ssh_daemon_and_a_diagnosis_there(clean, second_host):
    """DOCKER_HOST=ssh://root@198.18.9.2: docker-py through the ssh client (the lab's key and
    config, given by a wrapper on PATH: OpenSSH reads ~/.ssh/config from the passwd home)."""
    lab.host2("run", "-d", "--name", "ndt-s2", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "80", lab.IMAGE,
              *HTTPD)
    try:
        d = json.loads(netdiag("engine", "--json", env_extra=lab.host2_ssh_env()).stdout)
        assert d["endpoint"] == lab.HOST2_SSH and d["location"] == "remote" and d["host_address"] == lab.HOST2_IP
        p = netdiag("why-unreachable", "ndt-s2", "--json", env_extra=lab.host2_ssh_env())
        hp = int(lab.host2("port", "ndt-s2", "80").splitlines()[0].rsplit(":", 1)[1])
        assert p.returncode == 0 and json.loads(p.stdout)["works"] == [f"{lab.HOST2_IP}:{hp}"], p.stdout + p.stderr
    finally:
        lab.host2("rm", "-f", "ndt-s2", check=False)


def test_bundles_of_two_daemons_explained_together(clean, second_host, tmp_path):
    """A fleet's bundles in one folder: explain names each row's daemon."""
    lab.run("ndt-b1", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-b1", 80)
    lab.host2("run", "-d", "--name", "ndt-b2", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "80", lab.IMAGE,
              *HTTPD)
    try:
        assert netdiag("collect", "ndt-b1", "-o", str(tmp_path / "local.json.gz")).returncode == 0
        p = netdiag("collect", "ndt-b2", "-o", str(tmp_path / "second.json.gz"), env_extra=lab.host2_env())
        assert p.returncode == 0, p.stderr
        d = json.loads(netdiag("explain", str(tmp_path), "--json").stdout)
        hosts = {r["bundle"]: r["host"] for r in d["bundles"]}
        assert hosts == {"local.json.gz": "unix:///var/run/docker.sock", "second.json.gz": lab.HOST2_TCP}
        text = netdiag("explain", str(tmp_path)).stdout
        assert text.splitlines()[0].split()[:2] == ["host", "bundle"] and lab.HOST2_TCP in text
    finally:
        lab.host2("rm", "-f", "ndt-b2", check=False)


def test_a_port_dockerd_itself_holds_names_the_container(clean, second_host):
    """The second host runs with the userland proxy off: dockerd itself holds the published port
    (no docker-proxy). Another container asking for it never starts; read through the helper, the
    holder is the container that publishes the port, never dockerd as a process to stop."""
    lab.host2("run", "-d", "--name", "ndt-h2hold", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "18130:80",
              lab.IMAGE, *HTTPD)
    inside = ("nsenter", f"--net=/var/run/netns/{lab.HOST2}")
    assert '"dockerd"' in next(line for line in lab.sh(*inside, "ss", "-ltnpH").stdout.splitlines() if ":18130 " in line)
    lab.host2("run", "-d", "--name", "ndt-h2late", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "18130:80",
              lab.IMAGE, *HTTPD, check=False)
    try:
        healthy = netdiag("why-unreachable", "ndt-h2hold", "--json", env_extra=lab.host2_env())
        assert healthy.returncode == 0 and json.loads(healthy.stdout)["works"] == [f"{lab.HOST2_IP}:18130"]
        p = netdiag("why-unreachable", "ndt-h2late", "--helper", lab.IMAGE, "--json", env_extra=lab.host2_env())
        d = json.loads(p.stdout)
        assert p.returncode == 1 and [c["code"] for c in d["causes"]] == ["host-port-conflict"], d
        c = d["causes"][0]
        assert c["summary"].startswith("host port 18130 is already held by container ndt-h2hold")
        assert not any("dockerd" in f for f in c["fix"]) and c["fix"][0].startswith("docker stop ndt-h2hold")
    finally:
        lab.host2("rm", "-f", "ndt-h2hold", "ndt-h2late", check=False)


def v6_gets(port: int) -> str:
    """What this machine gets from the second host's IPv6 address at port: the status line, or the error."""
    try:
        with socket.create_connection((lab.HOST2_IP6, port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(64).decode(errors="replace").split("\r")[0] or "closed"
    except OSError as e:
        return type(e).__name__


def test_ipv6_through_dockers_ip6tables_rules(clean, second_host):
    """The second host rewrites IPv6 as Docker 27+ does by default (ip6tables on: DNAT to the
    container's IPv6 address, then FORWARD). Through the helper, netdiag names what breaks it
    there: an ip6tables FORWARD rule, IPv6 forwarding off, Docker's ACCEPT for the port gone
    under a DROP policy; the last fix, applied, brings the answer back."""
    lab.host2("run", "-d", "--name", "ndt-h2v6", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "18131:80",
              lab.IMAGE, *HTTPD)
    inside = ("nsenter", f"--net=/var/run/netns/{lab.HOST2}")
    to = f"[{lab.HOST2_IP6}]:18131"
    ip6 = lab.host2("inspect", "-f", "{{.NetworkSettings.GlobalIPv6Address}}", "ndt-h2v6")

    def why6(expect: int) -> dict:
        p = netdiag("why-unreachable", "ndt-h2v6", "--to", to, "--helper", lab.IMAGE, "--json", env_extra=lab.host2_env())
        assert p.returncode == expect, p.stdout + p.stderr
        return json.loads(p.stdout)

    saved = lab.sh(*inside, "ip6tables-save").stdout
    try:
        for _ in range(25):  # the app starts a moment after its container
            if v6_gets(18131).startswith("HTTP/1"):
                break
            time.sleep(0.2)
        d = why6(0)
        assert {h["hop"]: h["detail"] for h in d["path"]}["forwarding"] == \
            "IPv6: net.ipv6.conf.all.forwarding on; ip6tables FORWARD policy DROP"
        rule = ("FORWARD", "-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "DROP")
        lab.sh(*inside, "ip6tables", "-I", *rule)
        assert v6_gets(18131) in ("TimeoutError", "timeout")
        c = why6(1)["causes"][0]
        assert c["code"] == "firewall-blocks" and c["fix"][0] == "ip6tables -D FORWARD -p tcp -m tcp --dport 80 -j DROP"
        lab.sh(*inside, "ip6tables", "-D", *rule)
        lab.sh(*inside, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0")
        assert not v6_gets(18131).startswith("HTTP/1")
        c = why6(1)["causes"][0]
        assert c["code"] == "ip-forwarding-disabled" and c["fix"][0] == "sysctl -w net.ipv6.conf.all.forwarding=1"
        lab.sh(*inside, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        lab.sh(*inside, "ip6tables", "-D", "DOCKER", "-d", f"{ip6}/128", "!", "-i", "docker0", "-o", "docker0", "-p",
               "tcp", "-m", "tcp", "--dport", "80", "-j", "ACCEPT")
        assert v6_gets(18131) in ("TimeoutError", "timeout")
        c = why6(1)["causes"][0]
        assert c["summary"] == "ip6tables' FORWARD policy is DROP and no rule accepts the IPv6 traffic to [::]:18131"
        fix = c["fix"][0]
        assert fix == f"ip6tables -I FORWARD -o docker0 -d {ip6} -p tcp --dport 80 -j ACCEPT"
        lab.sh(*inside, *fix.split())
        assert v6_gets(18131).startswith("HTTP/1")  # the fix works
    finally:
        lab.sh(*inside, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        lab.sh(*inside, "ip6tables-restore", input_text=saved)
        lab.host2("rm", "-f", "ndt-h2v6", check=False)


def test_a_legacy_iptables_forward_drop_beside_dockers_nft_rules(clean, second_host):
    """dockerd on the second host writes iptables-nft; an old firewall script sets the legacy
    FORWARD policy to DROP there. The kernel runs both: the published port goes silent. Through
    the helper, netdiag names the legacy chain (not Docker's rules), and its fix brings the
    answer back."""
    lab.host2("run", "-d", "--name", "ndt-h2legacy", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "18132:80",
              lab.IMAGE, *HTTPD)
    inside = ("nsenter", f"--net=/var/run/netns/{lab.HOST2}")

    def gets() -> str:
        try:
            with socket.create_connection((lab.HOST2_IP, 18132), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return s.recv(64).decode(errors="replace").split("\r")[0] or "closed"
        except OSError as e:
            return type(e).__name__

    try:
        for _ in range(25):  # the app starts a moment after its container
            if gets().startswith("HTTP/1"):
                break
            time.sleep(0.2)
        lab.sh(*inside, "iptables-legacy", "-P", "FORWARD", "DROP")
        assert gets() in ("TimeoutError", "timeout")
        p = netdiag("why-unreachable", "ndt-h2legacy", "--helper", lab.IMAGE, "--json", env_extra=lab.host2_env())
        d = json.loads(p.stdout)
        assert p.returncode == 1 and [c["code"] for c in d["causes"]] == ["firewall-blocks"], d
        c = d["causes"][0]
        assert c["summary"] == f"iptables-legacy's FORWARD policy is DROP and no rule there accepts the traffic to " \
                               f"{lab.HOST2_IP}:18132"
        fix = c["fix"][0].split("  (")[0]
        assert fix == "iptables-legacy -P FORWARD ACCEPT"
        lab.sh(*inside, *fix.split())
        assert gets().startswith("HTTP/1")  # the fix works
    finally:
        lab.sh(*inside, "iptables-legacy", "-P", "FORWARD", "ACCEPT", check=False)
        lab.host2("rm", "-f", "ndt-h2legacy", check=False)
