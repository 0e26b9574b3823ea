"""Bundles collected on the real engine: the same diagnosis offline, scrubbed or not; no secret
leaves the machine."""

from __future__ import annotations

import json

import pytest

from examples import lab
from examples.lab import netdiag, netdiag_laptop
from netdiag import bundle as bundles

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def contract_without_times(d: dict) -> dict:
    """The diagnosis minus what differs between two runs (round-trip times are not printed)."""
    return {k: d[k] for k in ("verdict", "target", "causes", "works")}


def test_laptop_bundle_explains_like_the_live_command(clean, laptop, tmp_path):
    lab.run("ndt-bdl", "-p", "80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-bdl", 80)
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-bdl")
    live = json.loads(netdiag_laptop("why-unreachable", "ndt-bdl", "--to", ip, "--json").stdout)
    out = tmp_path / "seed.json.gz"
    p = netdiag_laptop("collect", "ndt-bdl", "--to", ip, "-o", str(out))
    assert p.returncode == 0, p.stderr
    offline = json.loads(netdiag("explain", str(out), "--json").stdout)
    assert contract_without_times(offline) == contract_without_times(live)
    assert offline["causes"][0]["code"] == "ip-not-routable"

    scrubbed = tmp_path / "scrubbed.json.gz"
    assert netdiag("scrub", str(out), "-o", str(scrubbed)).returncode == 0
    mapping = json.loads((tmp_path / "scrubbed.map.json").read_text())
    after = json.loads(netdiag("explain", str(scrubbed), "--json").stdout)
    assert after["verdict"] == offline["verdict"]
    assert [c["code"] for c in after["causes"]] == ["ip-not-routable"]
    vm = mapping["addresses"][lab.VM_IP]
    assert after["causes"][0]["fix"][0].startswith(f"use {vm}:")
    assert lab.VM_IP not in scrubbed.read_bytes().decode("latin-1")


def test_collect_all_containers_keeps_raw_text(clean, tmp_path):
    lab.run("ndt-bdl-a", "-p", "80", cmd=HTTPD)
    lab.run("ndt-bdl-b", cmd=("sh", "-c", "exit 4"))
    lab.sh("docker", "wait", "ndt-bdl-b")
    lab.wait_listening("ndt-bdl-a", 80)
    out = tmp_path / "all.json"
    assert netdiag("collect", "-o", str(out)).returncode == 0
    b = bundles.load(str(out))
    names = {c.name for c in b.snapshot.containers}
    assert {"ndt-bdl-a", "ndt-bdl-b"} <= names
    assert "/proc/net/route" in b.snapshot.client.raw
    assert "iptables-save" in b.snapshot.firewall.raw
    ls = next(x for x in b.snapshot.listeners if x.container_id.startswith(
        lab.docker("inspect", "-f", "{{.Id}}", "ndt-bdl-a")))
    assert ls.raw.get("sock_diag tcp6") and ls.outcome.method.startswith("sock_diag")
    summary = json.loads(netdiag("explain", str(out), "--json").stdout)
    rows = {r["container"]: r for r in summary["bundles"]}
    assert rows["ndt-bdl-b"]["causes"] == ["container-not-running"]
    assert rows["ndt-bdl-a"]["verdict"] == "reachable"


def test_no_secret_leaves_in_a_bundle(clean, tmp_path):
    aws = "AKIAIOSFODNN7EXAMPLE"
    password = "Sup3r-s3cret-pw"
    token = "tok_9f8e7d6c5b4a39281706"
    lab.run("ndt-secret", "-p", "80", "-e", f"AWS_ACCESS_KEY_ID={aws}", "-e", f"DB_PASSWORD={password}",
            "--label", f"com.example.api_token={token}",
            cmd=("sh", "-c", "httpd -f -p 80 -h /www", "--token", token, f"--password={password}", aws))
    lab.wait_listening("ndt-secret", 80)
    for name in ("s.json", "s.json.gz"):
        out = tmp_path / name
        assert netdiag("collect", "ndt-secret", "-o", str(out)).returncode == 0
        text = bundles.read_bytes(str(out)).decode()
        for secret in (aws, password, token):
            assert secret not in text, f"{secret} leaked into {name}"
        c = next(c for c in bundles.load(str(out)).snapshot.containers if c.name == "ndt-secret")
        assert c.command[:3] == ("sh", "-c", "httpd -f -p 80 -h /www") and "***" in c.command
        assert c.labels["com.example.api_token"] == "***"


def test_laptop_bundle_keeps_what_the_host_helper_read(clean, laptop, tmp_path):
    """collect --helper from the laptop records the Docker host's firewall, routes and port
    holders as read there: offline, the same exact cause, naming the rule."""
    lab.run("ndt-bhl", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-bhl", 80)
    saved = lab.sh("iptables-save").stdout
    try:
        lab.sh("iptables", "-I", "DOCKER-USER", "-p", "tcp", "--dport", "80", "-j", "DROP")
        out = tmp_path / "helped.json.gz"
        p = netdiag_laptop("collect", "ndt-bhl", "--helper", lab.IMAGE, "-o", str(out))
        assert p.returncode == 0, p.stderr
    finally:
        lab.sh("iptables-restore", input_text=saved)
    snap = bundles.load(str(out)).snapshot
    assert snap.firewall.outcome.ok and "helper container" in snap.firewall.outcome.method
    assert snap.docker_host.outcome.ok and any(i.name == "ndt-vm0" for i in snap.docker_host.interfaces)
    assert snap.port_holders.outcome.ok
    offline = json.loads(netdiag("explain", str(out), "--json").stdout)
    c = next(c for c in offline["causes"] if c["code"] == "firewall-blocks")
    assert "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c["evidence"]
