"""The probes and inspection commands on the real engine, with real containers and namespaces."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from examples import lab
from examples.lab import netdiag, netdiag_laptop
from netdiag import facts, views
from netdiag.subnets import Overlap
from netdiag.vocab import Location, OutcomeState, ReachResult
from tests.schemas import validate

pytestmark = pytest.mark.engine


def _json(p: subprocess.CompletedProcess) -> dict:
    """The command's JSON document, checked against the schema it names (docs/schemas/)."""
    assert p.stdout, f"no output; stderr: {p.stderr}"
    document = json.loads(p.stdout)
    validate(document)
    return document


def seed_webapp(name: str, *publish: str) -> str:
    """The seed's container: an image exposing 5000 whose app serves on 80."""
    cid = lab.run(name, *publish, image=lab.WEBAPP, cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
    lab.wait_listening(name, 80)
    return cid


def test_random_mapping_matches_docker_port(clean):
    cid = seed_webapp("ndt-seed", "-p", "80")
    docker_says = lab.docker("port", cid, "80").splitlines()[0]  # e.g. 0.0.0.0:49153
    host_port = int(docker_says.rsplit(":", 1)[1])

    p = netdiag("port", cid[:12], "80", "--json")
    assert p.returncode == 0, p.stderr
    view = facts.from_dict(views.PortView, _json(p))
    v4 = [b for b in view.bindings if b.host_ip == "0.0.0.0"]
    assert [(b.container_port, b.host_port) for b in v4] == [(80, host_port)]
    assert view.exposed_not_published == ()  # asked about port 80 only
    # who holds the host port, and the NAT rule that implements it
    assert v4[0].held_by.startswith("docker-proxy (pid ")
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid)
    assert v4[0].nat == (f"{ip}:80",)
    everything = facts.from_dict(views.PortView, _json(netdiag("port", cid[:12], "--json")))
    assert everything.exposed_not_published == ("5000/tcp",)  # EXPOSE 5000; -p 80 implies 80

    text = netdiag("port", "ndt-seed").stdout
    assert f"0.0.0.0:{host_port}" in text and "exposed, not published: 5000/tcp" in text


def test_listeners_without_netstat_including_loopback(clean):
    lab.run("ndt-listen", image=lab.WEBAPP,
            cmd=("sh", "-c", "httpd -p 80 -h /www; httpd -p 127.0.0.1:8081 -h /www; "
                             "printf 'interface eth0\\nstart 172.17.0.200\\nend 172.17.0.210\\n"
                             "lease_file /tmp/leases\\n' > /tmp/u.conf; udhcpd -f /tmp/u.conf"))
    lab.wait_listening("ndt-listen", 8081)
    assert lab.sh("docker", "exec", "ndt-listen", "netstat", "-tln", check=False).returncode != 0

    p = netdiag("listeners", "ndt-listen", "--json")
    assert p.returncode == 0, p.stderr
    report = facts.from_dict(views.ListenerReport, _json(p))
    got = {(s.protocol, s.address, s.port) for s in report.listeners.sockets}
    assert ("tcp", "::", 80) in got or ("tcp", "0.0.0.0", 80) in got
    assert ("tcp", "127.0.0.1", 8081) in got
    assert ("udp", "0.0.0.0", 67) in got  # udhcpd: a UDP listener
    assert report.listeners.outcome.method.startswith("sock_diag in /proc/")  # root: netlink, not /proc
    by_port = {s.port: s for s in report.listeners.sockets}
    assert by_port[8081].process == "httpd" and by_port[8081].loopback_only

    text = netdiag("netstat", "ndt-listen").stdout  # the alias
    assert "127.0.0.1:8081" in text and "loopback only" in text


def test_listeners_read_from_proc_without_root(clean, monkeypatch):
    """Without root netdiag cannot enter the namespace for sock_diag: /proc/<pid>/net is read instead."""
    from netdiag.live import Live
    from netdiag.probes import listeners

    lab.run("ndt-proc", cmd=("httpd", "-f", "-p", "127.0.0.1:8083", "-h", "/www"))
    lab.wait_listening("ndt-proc", 8083)
    live = Live()
    c = live.container("ndt-proc")
    monkeypatch.setattr(listeners.os, "geteuid", lambda: 1000)
    found = live.listeners(c)
    assert found.outcome.method == f"host /proc/{c.state.pid}/net"
    assert [(s.address, s.port) for s in found.sockets] == [("127.0.0.1", 8083)]
    assert f"/proc/{c.state.pid}/net/tcp" in found.raw


def test_embedded_dns_listener_is_recognised(clean):
    lab.network("ndt-net-dns")
    lab.run("ndt-dns", "--network", "ndt-net-dns", cmd=("sleep", "600"))
    p = netdiag("listeners", "ndt-dns", "--json")
    report = facts.from_dict(views.ListenerReport, _json(p))
    dns = [s for s in report.listeners.sockets if s.address == "127.0.0.11"]
    assert dns and all(s.note == "Docker embedded DNS" for s in dns)


def test_seed_boot2docker_ping_from_laptop(clean, laptop):
    cid = seed_webapp("ndt-b2d", "-p", "80")
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid)
    host_port = int(lab.docker("port", cid, "80").splitlines()[0].rsplit(":", 1)[1])

    p = netdiag_laptop("ping", ip, "--json")
    assert p.returncode == 0, p.stderr
    report = facts.from_dict(views.PingReport, _json(p))
    (icmp,) = report.attempts
    assert icmp.result == ReachResult.ICMP_UNREACHABLE
    assert icmp.responder == lab.ISP_IP
    assert (icmp.icmp_type, icmp.icmp_code) == (3, 0)
    assert icmp.detail == "Destination Net Unreachable"

    # the container by name from the laptop: the published port on the VM answers
    p = netdiag_laptop("ping", "ndt-b2d", "--port", "80", "--json")
    report = facts.from_dict(views.PingReport, _json(p))
    published = [a for a in report.attempts if a.address == lab.VM_IP and a.port == host_port]
    assert published and published[0].result == ReachResult.ANSWERED
    assert published[0].banner.startswith("HTTP/1")
    direct = [a for a in report.attempts if a.address == ip and a.kind == "icmp"]
    assert direct[0].responder == lab.ISP_IP
    assert any(lab.VM_IP in n for n in report.notes)


def test_engine_from_laptop_is_another_host(laptop):
    p = netdiag_laptop("engine", "--json")
    assert p.returncode == 0, p.stderr
    engine = facts.from_dict(facts.Engine, _json(p))
    assert engine.location == Location.REMOTE
    assert engine.host_address == lab.VM_IP
    assert engine.chosen_by == "DOCKER_HOST" and engine.endpoint == lab.DOCKER_TCP
    assert "another host" in netdiag_laptop("engine").stdout
    # the same daemon named with -H instead of DOCKER_HOST, as with docker -H
    by_option = facts.from_dict(facts.Engine, _json(netdiag("-H", lab.DOCKER_TCP, "engine", "--json", ns=lab.LAPTOP)))
    assert (by_option.location, by_option.chosen_by, by_option.endpoint) == (Location.REMOTE, "-H", lab.DOCKER_TCP)

    local = facts.from_dict(facts.Engine, _json(netdiag("engine", "--json")))
    assert local.location == Location.LOCAL and local.iptables is True


def test_listeners_through_docker_exec_when_daemon_is_remote(clean, laptop):
    lab.run("ndt-remote-l", cmd=("httpd", "-f", "-p", "127.0.0.1:8082", "-h", "/www"))
    lab.wait_listening("ndt-remote-l", 8082)
    report = facts.from_dict(views.ListenerReport, _json(netdiag_laptop("listeners", "ndt-remote-l", "--json")))
    assert report.listeners.outcome.method == "docker exec cat /proc/net"
    assert [(s.address, s.port) for s in report.listeners.sockets if s.protocol == "tcp"] == [("127.0.0.1", 8082)]


def test_exec_output_over_tcp_arrives_every_time(clean, laptop):
    """A short command's output comes in the same segment as the upgrade's headers: read past
    http.client's buffer (as docker-py's exec_start does), one exec in five came back empty here."""
    lab.run("ndt-remote-e", cmd=("sleep", "600"))
    script = ("import docker; from netdiag.probes.execs import run_exec; "
              f"api = docker.APIClient(base_url='{lab.DOCKER_TCP}', version='auto'); "
              "print(sum(run_exec(api, 'ndt-remote-e', ['sh', '-c', 'echo out; echo err >&2; exit 3']) "
              "== (3, 'out\\n', 'err\\n') for _ in range(60)))")
    p = lab.laptop(sys.executable, "-c", script, env_extra={"PYTHONPATH": str(lab.ROOT)})
    assert p.stdout.strip() == "60", p.stdout + p.stderr


def test_vpn_tun_claiming_docker_subnet_is_an_overlap(clean, laptop):
    net_id = lab.network("ndt-net-vpn", "--subnet", "10.213.0.0/16")
    try:
        lab.laptop("ip", "tuntap", "add", "ndt-tun0", "mode", "tun")
        lab.laptop("ip", "addr", "add", "10.213.5.1/24", "dev", "ndt-tun0")
        lab.laptop("ip", "link", "set", "ndt-tun0", "up")
        p = netdiag_laptop("subnets", "--json")
        assert p.returncode == 0, p.stderr
        report = facts.from_dict(views.SubnetReport, _json(p))
        assert Overlap("ndt-net-vpn", "10.213.0.0/16", "client", "interface", "ndt-tun0",
                       "10.213.5.1/24") in report.overlaps
        assert report.docker_host is not None and report.docker_host.outcome.state == OutcomeState.UNAVAILABLE
        assert net_id
        assert "ndt-tun0" in netdiag_laptop("subnets").stdout
    finally:
        lab.laptop("ip", "link", "del", "ndt-tun0", check=False)


def test_default_route_to_container_ip_is_shown_from_laptop(clean, laptop):
    seed_webapp("ndt-route", "-p", "80")
    report = facts.from_dict(views.SubnetReport, _json(netdiag_laptop("subnets", "--json")))
    (choice,) = [r for r in report.routes if r.container == "ndt-route"]
    assert choice.via_default and choice.gateway == lab.ISP_IP


@pytest.mark.parametrize("argv, kind", [
    (("engine",), "engine"),
    (("port", "ndt-json"), "port"),
    (("ip", "ndt-json"), "ip"),
    (("ping", "ndt-json", "--port", "80"), "ping"),
    (("listeners", "ndt-json"), "listeners"),
    (("subnets",), "subnets"),
    (("firewall",), "firewall"),
    (("why-unreachable", "ndt-json"), "diagnosis"),
    (("doctor",), "doctor"),
])
def test_json_of_each_command_is_its_documented_shape(clean, argv, kind):
    seed_webapp("ndt-json", "-p", "80")
    p = netdiag(*argv, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert validate(data) == kind and data["schema"] == f"netdiag.{kind}/1"
    assert '"raw":' not in p.stdout  # the source text a probe read stays in bundles


def test_ip_lists_every_network(clean):
    lab.network("ndt-net-a", "--subnet", "10.214.0.0/24")
    seed_webapp("ndt-ip", "-p", "80")
    lab.docker("network", "connect", "ndt-net-a", "ndt-ip")
    report = facts.from_dict(views.AddressView, _json(netdiag("ip", "ndt-ip", "--json")))
    eps = {ep.network: ep for ep in report.endpoints}
    assert set(eps) == {"bridge", "ndt-net-a"}
    assert eps["ndt-net-a"].ipv4.startswith("10.214.0.") and eps["ndt-net-a"].prefix_len == 24
    assert eps["bridge"].ipv4 == lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-ip")
    assert {n.name: n.subnets for n in report.networks}["ndt-net-a"] == ("10.214.0.0/24",)


def test_unknown_container_exits_2_with_one_line(engine):
    p = netdiag("port", "ndt-no-such-container")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "no container matches 'ndt-no-such-container'" in p.stderr
    j = netdiag("ip", "ndt-no-such-container", "--json")
    assert j.returncode == 2 and _json(j)["error"]["code"] == "container-not-found"


def test_ambiguous_prefix_lists_candidates(clean):
    seen: dict[str, str] = {}
    for i in range(40):
        cid = lab.docker("create", "--name", f"ndt-amb{i}", "--label", lab.LABEL, lab.IMAGE, "true")
        if cid[0] in seen:
            break
        seen[cid[0]] = cid
    else:
        pytest.fail("no two containers shared a first hex digit")
    p = netdiag("ip", cid[0])
    assert p.returncode == 2
    assert "ambiguous" in p.stderr and cid[:12] in p.stderr and seen[cid[0]][:12] in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("host, why", [
    ("unix:///run/ndt-nonexistent.sock", "no socket there"),
    ("tcp://127.0.0.1:1", "connection refused"),
])
def test_daemon_down_exits_3_saying_where_it_looked(engine, host, why):
    p = netdiag("engine", env_extra={"DOCKER_HOST": host})
    assert p.returncode == 3
    assert p.stderr.startswith(f"netdiag: cannot reach the Docker daemon at {host} (from DOCKER_HOST): ")
    assert p.stderr.strip().count("\n") == 0 and why in p.stderr and "Traceback" not in p.stderr
    j = netdiag("listeners", "x", "--json", env_extra={"DOCKER_HOST": host})
    assert j.returncode == 3 and _json(j)["error"]["code"] == "daemon-unreachable"


def _host_state() -> tuple[str, str, str, str]:
    ipt = lab.sh("iptables-save").stdout
    ipt = "\n".join(line for line in ipt.splitlines() if not line.startswith("#"))
    counters_free = "\n".join(line.split(" [")[0] if line.startswith(":") else line for line in ipt.splitlines())
    sysctl = lab.sh("sysctl", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding").stdout
    containers = lab.docker("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}")
    networks = lab.docker("network", "ls", "-q")
    return counters_free, sysctl, containers, networks


def test_every_command_changes_nothing_on_the_host(clean, tmp_path):
    """iptables, forwarding sysctls, the container list and the network list are as they were after
    every command (a --helper container comes and goes within its own command)."""
    seed_webapp("ndt-ro", "-p", "80")
    yml = tmp_path / "netdiag.yml"
    yml.write_text("version: 1\nexpect:\n  - reachable: {container: ndt-ro, port: 80}\n  - no-overlap: {}\n")
    bundle, scrubbed = tmp_path / "b.json", tmp_path / "s.json"
    before = _host_state()
    for argv, code in ((("engine",), 0), (("port", "ndt-ro"), 0), (("ip", "ndt-ro"), 0),
                       (("ping", "ndt-ro", "--port", "80"), 0), (("listeners", "ndt-ro"), 0),
                       (("listeners", "ndt-ro", "--helper", lab.IMAGE), 0), (("subnets",), 0), (("firewall",), 0),
                       (("why-unreachable", "ndt-ro"), 0), (("why-unreachable", "ndt-ro", "--to", "127.0.0.1:9"), 1),
                       (("collect", "ndt-ro", "-o", str(bundle)), 0), (("explain", str(bundle)), 0),
                       (("scrub", str(bundle), "-o", str(scrubbed)), 0),
                       (("report", str(bundle), "-o", str(tmp_path / "r.html")), 0),
                       (("check", "-f", str(yml)), 0), (("doctor",), None), (("rules",), 0)):
        p = netdiag(*argv)
        assert code is None or p.returncode == code, (argv, p.stdout, p.stderr)
        assert _host_state() == before, argv


def test_helper_reads_sockets_of_a_container_without_cat_and_is_removed(clean, laptop):
    """Only with --helper IMAGE: one labelled container in the target's namespace, removed at once."""
    lab.run("ndt-nocat", image=lab.BARE, cmd=("httpd", "-f", "-p", "8084", "-h", "/www"))
    lab.wait_listening("ndt-nocat", 8084)
    without = facts.from_dict(views.ListenerReport, _json(netdiag_laptop("listeners", "ndt-nocat", "--json")))
    assert without.listeners.outcome.state == OutcomeState.UNAVAILABLE and "no `cat`" in without.listeners.outcome.reason
    before = lab.docker("ps", "-aq", "--no-trunc").split()
    p = netdiag_laptop("listeners", "ndt-nocat", "--helper", lab.IMAGE, "--json")
    report = facts.from_dict(views.ListenerReport, _json(p))
    assert report.listeners.outcome.method == f"helper container from {lab.IMAGE} in ndt-nocat's network namespace"
    assert [(s.address, s.port) for s in report.listeners.sockets if s.protocol == "tcp"] == [("::", 8084)]
    assert lab.docker("ps", "-aq", "--no-trunc").split() == before
    assert lab.docker("ps", "-aq", "--filter", "label=netdiag.helper") == ""
    missing = facts.from_dict(views.ListenerReport, _json(netdiag_laptop(
        "listeners", "ndt-nocat", "--helper", "ndt-no-such-image:1", "--json")))
    assert "is not on the daemon (netdiag pulls nothing)" in missing.listeners.outcome.reason


def test_two_pings_at_once_each_get_their_own_answer(laptop):
    """ICMP replies are matched to each run's random echo id: two runs at once do not mix."""
    import subprocess as sp
    import sys as _sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("DOCKER_")}
    runs = [sp.Popen(["ip", "netns", "exec", lab.LAPTOP, _sys.executable, "-m", "netdiag", "ping", target, "--json"],
                     stdout=sp.PIPE, text=True, env=env, cwd=lab.ROOT)
            for target in ("172.17.250.1", lab.VM_IP)]
    unreachable, reply = (json.loads(p.communicate(timeout=30)[0])["attempts"][0] for p in runs)
    assert (unreachable["result"], unreachable["responder"]) == (ReachResult.ICMP_UNREACHABLE, lab.ISP_IP)
    assert (reply["result"], reply["responder"]) == (ReachResult.ANSWERED, lab.VM_IP)
