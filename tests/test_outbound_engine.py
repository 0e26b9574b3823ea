"""Outbound on the real engine: from a container to the Docker host, the lab's internet and names.

Every failure is built for real (networks, sysctls, iptables rules, resolvers, host services) and
checked against what the container itself gets, with busybox's nc and nslookup, before netdiag's
answer is asserted: the cause code, its evidence and the fix with the real values. Healthy decoys
must come out reachable with no cause. All traffic stays in the lab (see examples/lab.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest

from examples import lab
from examples.lab import FAR_DNS, FAR_WEB, LAB_NAME
from tests.test_why_engine import HTTPD, cause, codes, free_port, iptables_restored, sysctl_restored, why

pytestmark = pytest.mark.engine


def gets(container: str, address: str, port: int) -> str:
    """What the container really gets from address:port: the first line of the answer, or ""."""
    p = lab.sh("docker", "exec", container, "sh", "-c",
               f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {address} {port}", check=False)
    return p.stdout.splitlines()[0] if p.stdout else ""


def resolves(container: str, name: str) -> bool:
    """Whether the container's own resolver (busybox nslookup) finds the name."""
    return lab.sh("docker", "exec", container, "nslookup", name, check=False).returncode == 0


def out(*args: str, expect: int) -> dict:
    return why(*args, expect=expect)


def app(name: str, *args: str) -> str:
    """An idle container that resolves names through the lab's DNS."""
    return lab.run(name, "--dns", FAR_DNS, *args, cmd=("sleep", "600"))


@contextlib.contextmanager
def host_service(address: str, port: int):
    """An HTTP server on the Docker host itself, bound to `address`."""
    p = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", address, str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/run")
    try:
        lab.wait_host_listening(port)
        yield
    finally:
        p.kill()
        p.wait()


# --- healthy decoys -------------------------------------------------------------------------------

def test_far_web_by_address_and_by_name(clean, internet):
    app("ndt-out")
    assert gets("ndt-out", FAR_WEB, 80).startswith("HTTP/1")
    assert resolves("ndt-out", LAB_NAME)
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", expect=0)
    assert d["verdict"] == "reachable" and d["causes"] == [] and d["works"] == [f"{FAR_WEB}:80"]
    assert d["target"] == {"container": None, "id": None, "port": 80, "to": f"{FAR_WEB}:80",
                           "from": "container:ndt-out"}
    d = out(LAB_NAME, "--port", "80", "--from", "container:ndt-out", expect=0)
    steps = {s["hop"]: s for s in d["path"]}
    assert steps["name resolution"]["detail"] == f"{LAB_NAME} at {FAR_DNS}: {FAR_WEB}"
    assert steps["route out"]["detail"].startswith("via 198.18.0.2 dev ndt-wan0 (the kernel's choice for 172.17.0.2 "
                                                   "in on docker0)")
    assert all(s["status"] in ("ok", "skip") for s in d["path"]), d["path"]


def test_user_network_reaches_the_far_web_through_embedded_dns(clean, internet):
    lab.network("ndt-onet", "--subnet", "10.81.0.0/24")
    app("ndt-out", "--network", "ndt-onet")
    d = out(f"{LAB_NAME}:80", "--from", "container:ndt-out", expect=0)
    assert d["verdict"] == "reachable", d
    assert "127.0.0.11" in {s["hop"]: s for s in d["path"]}["name resolution"]["detail"]


def test_host_service_on_all_addresses_through_host_gateway(clean, internet):
    port = free_port()
    app("ndt-out", "--add-host", "host.docker.internal:host-gateway")
    with host_service("0.0.0.0", port):
        d = out(f"host.docker.internal:{port}", "--from", "container:ndt-out", expect=0)
    assert d["causes"] == [] and d["works"] == [f"172.17.0.1:{port}"]


# --- name resolution --------------------------------------------------------------------------------

def test_loopback_resolver_inside_the_container(clean, internet):
    lab.run("ndt-out", "--dns", "127.0.0.53", cmd=("sleep", "600"))
    assert not resolves("ndt-out", LAB_NAME)
    d = out(f"{LAB_NAME}:80", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["dns-failure"]
    c = cause(d, "dns-failure")
    assert "127.0.0.53 is a loopback address" in c["summary"]
    assert f"{LAB_NAME} at 127.0.0.53: unreachable (nothing listens there: ICMP port unreachable)" in c["evidence"]
    assert c["fix"][0].startswith("docker run --dns")


def test_host_docker_internal_undefined_on_linux(clean, internet):
    app("ndt-out")
    assert not resolves("ndt-out", "host.docker.internal")
    d = out("host.docker.internal:8000", "--from", "container:ndt-out", expect=1)
    c = cause(d, "dns-failure")
    assert "host.docker.internal at 198.51.100.53: nxdomain" in c["evidence"]
    assert c["fix"][0].startswith("docker run --add-host host.docker.internal:host-gateway")
    assert "172.17.0.1" in c["fix"][0]


def test_name_that_does_not_exist(clean, internet):
    app("ndt-out")
    d = out("nosuch.lab.test:80", "--from", "container:ndt-out", expect=1)
    c = cause(d, "dns-failure")
    assert "its resolver 198.51.100.53 says it has no address" in c["summary"]
    assert {s["hop"]: s["status"] for s in d["path"]}["destination"] == "skip"


def test_embedded_dns_upstream_unreachable(clean, internet):
    lab.network("ndt-onet", "--subnet", "10.81.0.0/24")
    lab.run("ndt-out", "--network", "ndt-onet", "--dns", "198.51.100.99", cmd=("sleep", "600"))
    d = out(f"{LAB_NAME}:80", "--from", "container:ndt-out", expect=1)
    c = cause(d, "dns-failure")
    assert "embedded DNS forwards web.lab.test to 198.51.100.99" in c["summary"]
    assert f"{LAB_NAME} at 198.51.100.99 (upstream, asked directly): timeout (no answer within 1.5s)" in c["evidence"]


# --- the Docker host's part -------------------------------------------------------------------------

def test_network_without_masquerade(clean, internet):
    lab.network("ndt-nomasq", "--subnet", "10.82.0.0/24", "-o", "com.docker.network.bridge.enable_ip_masquerade=false")
    lab.run("ndt-out", "--network", "ndt-nomasq", cmd=("sleep", "600"))
    assert gets("ndt-out", FAR_WEB, 80) == ""
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["no-masquerade"]
    c = cause(d, "no-masquerade")
    assert "ndt-out leaves as 10.82.0.2 (network ndt-nomasq, 10.82.0.0/24) through ndt-wan0" in c["evidence"]
    assert "network ndt-nomasq: com.docker.network.bridge.enable_ip_masquerade=false" in c["evidence"]
    assert c["fix"][0] == "recreate network ndt-nomasq without -o com.docker.network.bridge.enable_ip_masquerade=false"
    assert f"from the Docker host itself: {FAR_WEB}:80 answered" in d["notes"]
    step = {s["hop"]: s for s in d["path"]}["destination"]  # the facts decided: silence not waited out
    assert step["status"] == "unknown" and "not waited for longer, as ndt-out's traffic leaves" in step["detail"]


def test_ip_forwarding_off(clean, internet):
    app("ndt-out")
    with sysctl_restored("net.ipv4.ip_forward"):
        lab.sh("sysctl", "-qw", "net.ipv4.ip_forward=0")
        assert gets("ndt-out", FAR_WEB, 80) == ""
        d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["ip-forwarding-disabled"]
    assert cause(d, "ip-forwarding-disabled")["fix"][0] == "sysctl -w net.ipv4.ip_forward=1"


def test_docker_user_rule_drops_the_way_out(clean, internet):
    app("ndt-out")
    with iptables_restored():
        lab.sh("iptables", "-I", "DOCKER-USER", "-d", FAR_WEB, "-p", "tcp", "--dport", "80", "-j", "DROP")
        assert gets("ndt-out", FAR_WEB, 80) == ""
        d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "firewall-blocks")
    assert c["rule"] == "ND705"
    assert "rule 1 of DOCKER-USER: -A DOCKER-USER -d 198.51.100.10/32 -p tcp -m tcp --dport 80 -j DROP" in c["evidence"]
    assert c["fix"][0] == "iptables -D DOCKER-USER -d 198.51.100.10/32 -p tcp -m tcp --dport 80 -j DROP"


def test_docker_user_rule_eats_the_replies(clean, internet):
    """A rule written the way inbound filtering is taught, without a conntrack exception."""
    app("ndt-out")
    with iptables_restored():
        lab.sh("iptables", "-I", "DOCKER-USER", "-i", "ndt-wan0", "-j", "DROP")
        assert gets("ndt-out", FAR_WEB, 80) == ""
        d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "firewall-blocks")
    assert c["summary"] == f"a DOCKER-USER rule drops the replies from {FAR_WEB}:80"
    assert "iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT" in c["fix"][1]


def test_docker_network_swallows_the_destination(clean, internet):
    app("ndt-out")
    lab.network("ndt-over", "--subnet", "198.51.100.0/25")
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "subnet-overlap")
    assert c["rule"] == "ND707"
    assert "198.51.100.10 is inside network ndt-over's subnet 198.51.100.0/25" in c["evidence"]


def test_internal_network_has_no_way_out(clean, internet):
    lab.network("ndt-int", "--internal", "--subnet", "10.83.0.0/24")
    lab.run("ndt-out", "--network", "ndt-int", cmd=("sleep", "600"))
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    assert cause(d, "internal-network")["rule"] == "ND702"


# --- the destination ------------------------------------------------------------------------------

def test_host_service_on_loopback_only(clean, internet):
    port = free_port()
    app("ndt-out")
    with host_service("127.0.0.1", port):
        d = out(f"172.17.0.1:{port}", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["host-service-on-loopback"]
    c = cause(d, "host-service-on-loopback")
    assert any(e.startswith("on the Docker host: ") and f"127.0.0.1:{port}" in e for e in c["evidence"])
    assert c["fix"][0].startswith(f"make the service listen on 172.17.0.1:{port}")


def test_destination_refuses_the_host_too(clean, internet):
    app("ndt-out")
    d = out(f"{FAR_WEB}:81", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["destination-down"]
    c = cause(d, "destination-down")
    assert "from the Docker host: 198.51.100.10:81 refused" in c["evidence"][-1]
    assert c["fix"][1] == "nothing to change in Docker: the same attempt fails without it"


def test_no_network_at_all(clean, internet):
    lab.run("ndt-out", "--network", "none", cmd=("sleep", "600"))
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    assert codes(d)[0] == "no-network"
    assert cause(d, "no-network")["fix"] == ["docker network connect bridge ndt-out"]


# --- the contract, bundles, and the support engineer's side ------------------------------------------

def test_outbound_json_follows_the_schema_and_the_text_names_the_destination(clean, internet):
    from tests.schemas import validate

    app("ndt-out")
    d = out(f"{LAB_NAME}:81", "--from", "container:ndt-out", expect=1)
    assert validate(d) == "diagnosis"
    text = lab.netdiag("why-unreachable", f"{LAB_NAME}:81", "--from", "container:ndt-out").stdout
    assert text.startswith(f"UNREACHABLE: {LAB_NAME}:81 ({FAR_WEB}) from container:ndt-out")
    assert "[destination-down]" in text


def test_outbound_bundle_explains_offline_like_the_live_command_and_scrubbed(clean, internet, tmp_path):
    import json

    app("ndt-out")
    bundle = tmp_path / "out.json"
    p = lab.netdiag("collect", "-o", str(bundle), "--from", "container:ndt-out", "--to", f"{LAB_NAME}:81")
    assert p.returncode == 0, p.stderr
    live = out(f"{LAB_NAME}:81", "--from", "container:ndt-out", expect=1)
    p = lab.netdiag("explain", str(bundle), "--json")
    offline = json.loads(p.stdout)
    assert p.returncode == 1 and codes(offline) == codes(live) == ["destination-down"]
    assert offline["causes"][0]["evidence"] == live["causes"][0]["evidence"]
    p = lab.netdiag("scrub", str(bundle), "-o", str(tmp_path / "scrubbed.json"), "--map", str(tmp_path / "map.json"))
    assert p.returncode == 0, p.stderr
    scrubbed = (tmp_path / "scrubbed.json").read_text()
    assert LAB_NAME not in scrubbed and FAR_WEB not in scrubbed and "ndt-out" not in scrubbed
    p = lab.netdiag("explain", str(tmp_path / "scrubbed.json"), "--json")
    assert p.returncode == 1 and codes(json.loads(p.stdout)) == ["destination-down"]


# --- CI and the whole engine ---------------------------------------------------------------------------

def test_check_reachable_from_and_doctor_outbound(clean, internet, tmp_path):
    import json

    app("ndt-good")
    lab.run("ndt-badns", "--dns", "127.0.0.53", cmd=("sleep", "600"))
    spec = tmp_path / "netdiag.yml"
    spec.write_text("version: 1\nexpect:\n"
                    f"  - reachable-from: {{from: \"container:ndt-good\", to: \"{LAB_NAME}:80\"}}\n"
                    f"  - reachable-from: {{from: \"container:ndt-badns\", to: \"{LAB_NAME}\", port: 80}}\n")
    p = lab.netdiag("check", "-f", str(spec), "--json")
    results = json.loads(p.stdout)["results"]
    assert p.returncode == 1
    assert [(r["status"], r["line"]) for r in results] == [("pass", 3), ("fail", 4)]
    assert results[0]["detail"] == f"reachable at {FAR_WEB}:80"
    assert results[1]["diagnosis"]["causes"][0]["code"] == "dns-failure"
    p = lab.netdiag("doctor", "--outbound", f"{LAB_NAME}:80", "--json")
    doc = json.loads(p.stdout)
    from tests.schemas import validate

    assert validate(doc) == "doctor" and validate(json.loads(lab.netdiag("check", "-f", str(spec), "--json").stdout))
    assert p.returncode == 1 and doc["outbound_to"] == f"{LAB_NAME}:80"
    rows = {r["container"]: r for r in doc["outbound"] if r["container"].startswith("ndt-")}
    assert rows["ndt-good"]["verdict"] == "reachable" and rows["ndt-badns"]["causes"] == ["dns-failure"]


# --- large packets ---------------------------------------------------------------------------------

def test_mtu_black_hole_behind_the_office_router(clean, internet):
    """Small requests are answered, the 512 KiB page never arrives: the router's 1400-byte link
    drops full-sized packets and the ICMP that would say so."""
    from examples.lab import OFFICE_WEB

    app("ndt-out")
    d = out(f"{OFFICE_WEB}:80", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["mtu-blackhole"]
    c = cause(d, "mtu-blackhole")
    assert "don't-fragment echoes to 198.18.64.10: 1400, 1360, 1280, 1024, 576 bytes came back; 1500, 1480, 1450 " \
           "did not" in c["evidence"]
    assert "no router sent ICMP fragmentation-needed" in c["evidence"]
    assert any(e.startswith("GET / from inside the container: ") and "of 524288 body bytes" in e for e in c["evidence"])
    assert c["fix"][0] == '"mtu": 1400 in /etc/docker/daemon.json, then restart dockerd (the default bridge)'
    assert c["fix"][1].endswith("-j TCPMSS --set-mss 1360")


def test_network_with_the_right_mtu_gets_the_whole_page(clean, internet):
    from examples.lab import OFFICE_WEB

    lab.network("ndt-mtu", "--subnet", "10.84.0.0/24", "-o", "com.docker.network.driver.mtu=1400")
    app("ndt-out", "--network", "ndt-mtu")
    d = out(f"{OFFICE_WEB}:80", "--from", "container:ndt-out", expect=0)
    assert d["causes"] == []
    assert {s["hop"]: s["detail"] for s in d["path"]}["route out"].endswith("1400-byte don't-fragment echoes pass")


def test_host_input_chain_drops_traffic_to_the_host(clean, internet):
    port = free_port()
    app("ndt-out", "--add-host", "host.docker.internal:host-gateway")
    with host_service("0.0.0.0", port), iptables_restored():
        lab.sh("iptables", "-I", "INPUT", "-i", "docker0", "-p", "tcp", "--dport", str(port), "-j", "DROP")
        d = out(f"host.docker.internal:{port}", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "firewall-blocks")
    assert c["rule"] == "ND705" and c["summary"].startswith("the Docker host's INPUT chain drops")
    assert f"rule 1 of INPUT: -A INPUT -i docker0 -p tcp -m tcp --dport {port} -j DROP" in c["evidence"]
    assert "destination-down" not in codes(d)


def test_a_containers_port_published_on_loopback_only_from_another_container(clean):
    """host.docker.internal:PORT finds nothing: the port is another container's, published on
    127.0.0.1; the fix netdiag gives (that container's own address) reaches it."""
    port = free_port()
    lab.run("ndt-lo-web", "-p", f"127.0.0.1:{port}:80", image=lab.WEBAPP, cmd=HTTPD)
    lab.wait_listening("ndt-lo-web", 80)
    app("ndt-out", "--add-host", "host.docker.internal:host-gateway")
    d = out(f"host.docker.internal:{port}", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "host-service-on-loopback")
    assert c["summary"] == f"host.docker.internal:{port} is ndt-lo-web's port 80, published on 127.0.0.1 of the " \
                           "Docker host only: ndt-out finds nothing there"
    ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-lo-web")
    assert c["fix"][0] == f"use {ip}:80 (on bridge, which ndt-out shares)"
    assert why("ndt-lo-web", "--from", "container:ndt-out", "--to", f"{ip}:80", expect=0)["causes"] == []


def test_network_created_on_the_office_range(clean, internet):
    """The container's own network claims the office's range: it looks for the office on its bridge."""
    from examples.lab import OFFICE_WEB

    lab.network("ndt-office-clash", "--subnet", "198.18.64.0/24")
    lab.run("ndt-out", "--network", "ndt-office-clash", cmd=("sleep", "600"))
    assert gets("ndt-out", OFFICE_WEB, 80) == ""
    d = out(f"{OFFICE_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "subnet-overlap")
    assert "ndt-out is on ndt-office-clash: it looks for 198.18.64.10 on its own bridge" in c["evidence"]


# --- with the daemon elsewhere: from the seed's laptop -------------------------------------------------

def test_from_the_laptop_through_the_containers_own_tools(clean, laptop, internet):
    import json

    app("ndt-out")
    p = lab.netdiag_laptop("why-unreachable", f"{LAB_NAME}:80", "--from", "container:ndt-out", "--json")
    d = json.loads(p.stdout)
    assert p.returncode == 0 and d["works"] == [f"{FAR_WEB}:80"], d
    steps = {s["hop"]: s for s in d["path"]}
    assert steps["name resolution"]["detail"] == f"{LAB_NAME} at {FAR_DNS}: {FAR_WEB}"
    assert steps["destination"]["status"] == "ok" and "docker exec ndt-out" in steps["destination"]["detail"]
    assert steps["forwarding"]["status"] == "unknown"  # the Docker host's firewall is not readable from here


def test_from_the_laptop_with_a_helper_the_docker_host_tries_too(clean, laptop, internet):
    import json

    lab.run("ndt-out", "--dns", FAR_DNS, image=lab.BARE, cmd=("sleep", "600"))
    before = set(lab.docker("ps", "-aq", "--no-trunc").split())
    p = lab.netdiag_laptop("why-unreachable", f"{LAB_NAME}:81", "--from", "container:ndt-out", "--helper",
                           lab.IMAGE, "--json")
    d = json.loads(p.stdout)
    assert p.returncode == 1 and codes(d) == ["destination-down"], d
    assert "from the Docker host: web.lab.test:81 refused (connection refused)" in cause(d, "destination-down")[
        "evidence"]
    assert set(lab.docker("ps", "-aq", "--no-trunc").split()) == before  # the helpers are gone


@contextlib.contextmanager
def policy_rule(subnet: str, destination: str, table: str = "4242"):
    """A policy rule sending the containers' traffic to `destination` into a table where it is
    unreachable (what a VPN's kill switch does); removed afterwards."""
    lab.sh("ip", "rule", "add", "from", subnet, "to", destination, "lookup", table, "priority", "4242")
    lab.sh("ip", "route", "add", "unreachable", destination, "table", table)
    try:
        yield
    finally:
        lab.sh("ip", "rule", "del", "priority", "4242", check=False)
        lab.sh("ip", "route", "flush", "table", table, check=False)


def test_policy_rule_keeps_container_traffic_in(clean, internet):
    app("ndt-out")
    with policy_rule("172.17.0.0/16", "198.51.100.0/24"):
        assert gets("ndt-out", FAR_WEB, 80) == ""
        d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["no-route-out"]
    c = cause(d, "no-route-out")
    assert c["evidence"][0] == (f"the Docker host's kernel, for a packet from 172.17.0.2 in on docker0 to {FAR_WEB}: "
                                "No route to host")
    assert f"the Docker host's own attempt to {FAR_WEB}:80: answered" in c["evidence"]
    assert c["fix"][1].startswith("ip rule add from 172.17.0.0/16 lookup main priority")


def test_nftables_table_beside_iptables_drops_the_way_out(clean, internet):
    from tests.test_why_engine import nft_table_removed

    app("ndt-out")
    with nft_table_removed("inet", "ndt_filter"):
        lab.sh("nft", "add", "table", "inet", "ndt_filter")
        lab.sh("nft", "add", "chain", "inet", "ndt_filter", "forward",
               "{ type filter hook forward priority 0; policy drop; }")
        lab.sh("nft", "add", "rule", "inet", "ndt_filter", "forward", "oifname", "docker0", "accept")
        assert gets("ndt-out", FAR_WEB, 80) == ""
        d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", "--timeout", "1", expect=1)
    c = cause(d, "firewall-blocks")
    assert c["summary"] == f"nftables table inet ndt_filter drops ndt-out's traffic to {FAR_WEB}:80: iptables lets it " \
                           "through, but every base chain on the forward hook must"
    assert c["fix"][0] == 'nft insert rule inet ndt_filter forward iifname "docker0" accept'


def test_udp_a_dns_server_answers_and_a_closed_port_refuses(clean, internet):
    app("ndt-out")
    d = out(f"{FAR_DNS}:53/udp", "--from", "container:ndt-out", expect=0)
    assert d["works"] == [f"{FAR_DNS}:53/udp"] and d["causes"] == []
    d = out(f"{FAR_WEB}:53/udp", "--from", "container:ndt-out", expect=1)
    assert codes(d) == ["destination-down"]
    assert cause(d, "destination-down")["evidence"][-1].startswith(f"from the Docker host: {FAR_WEB}:53/udp refused")


def test_localhost_inside_the_container_is_not_the_host(clean, internet):
    port = free_port()
    lab.run("ndt-out", "--dns", FAR_DNS, cmd=("httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"))
    lab.wait_listening("ndt-out", 8080)
    with host_service("127.0.0.1", port):
        d = out(f"localhost:{port}", "--from", "container:ndt-out", expect=1)
    c = cause(d, "wrong-address")
    assert c["rule"] == "ND712" and codes(d) == ["wrong-address"]
    assert c["evidence"] == [f"localhost:{port} is ndt-out's own loopback (localhost -> 127.0.0.1)",
                             f"inside ndt-out: nothing listens on {port}/tcp"]
    assert c["fix"][0].startswith(f"use 172.17.0.1:{port} (the Docker host on the bridge)")
    d = out("127.0.0.1:8080", "--from", "container:ndt-out", expect=0)  # its own service: fine
    assert {s["hop"]: s["status"] for s in d["path"]}["route out"] == "skip"


def test_a_stopped_container_cannot_start_anything(clean, internet):
    lab.run("ndt-out", "--dns", FAR_DNS, cmd=("sh", "-c", "exit 3"))
    lab.sh("docker", "wait", "ndt-out")
    d = out(f"{FAR_WEB}:80", "--from", "container:ndt-out", expect=1)
    c = cause(d, "container-not-running")
    assert c["rule"] == "ND713" and c["evidence"] == ["ndt-out: exited, exit code 3"]
    assert c["fix"][0] == "docker start ndt-out"
