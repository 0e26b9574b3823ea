"""A swarm of two nodes on real engines: the lab's dockerd (the manager, advertising 198.18.9.1)
and the second Docker host (a worker, 198.18.9.2, in its own namespace) joined over their link.
A container on the manager reaches a dnsrr service whose task runs on the worker, over an
attachable overlay (VXLAN between the nodes). Each block is built with iptables on one node, and
checked against what the container really gets first."""

from __future__ import annotations

import ipaddress
import json
import time

import pytest

from examples import lab
from tests.test_why_engine import cause, codes, why

pytestmark = pytest.mark.engine

OVERLAY = "ndt-ov"
OVERLAY_SUBNET = lab.OVERLAY_SUBNET
CLIENT = "ndt-ovcli"
SERVICE = "ndt-far"  # dnsrr: its name resolves to its task's own address
VIP_SERVICE = "ndt-farvip"  # the default endpoint mode: its name resolves to a virtual IP (IPVS)
HOST_MODE, HOST_PORT = "ndt-farhost", 18097  # published in host mode on the worker
HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")
ME, WORKER = lab.HOST2_LINK_IP, lab.HOST2_IP
# what the worker's firewall lets in from the manager when a cloud security group opens only 2377
GOSSIP_AND_VXLAN = ((f"-s {ME} -p tcp --dport 7946 -j DROP", f"-s {ME} -p udp --dport 7946 -j DROP",
                     f"-s {ME} -p udp --dport 4789 -j DROP"))


@pytest.fixture(scope="module")
def two_nodes(second_host):
    """The worker joined, an attachable overlay, the services on the worker, a client container on
    the manager, and a blackhole for the overlay's subnet in this namespace, so that nothing sent
    to its addresses from here can leave the machine; yields the worker as netdiag names it."""
    lab.guard_overlay()
    try:
        lab.make_swarm(lab.HOST2_LINK_IP)
        node = lab.join_swarm()
        lab.docker("network", "create", "-d", "overlay", "--attachable", "--subnet", OVERLAY_SUBNET, "--label",
                   lab.LABEL, OVERLAY)
        lab.service(SERVICE, "--endpoint-mode", "dnsrr", "--network", OVERLAY, "--constraint",
                    "node.labels.netdiag-lab==host2", cmd=HTTPD)
        lab.service(VIP_SERVICE, "--network", OVERLAY, "--constraint", "node.labels.netdiag-lab==host2", cmd=HTTPD)
        lab.service(HOST_MODE, "--publish", f"mode=host,published={HOST_PORT},target=80", "--constraint",
                    "node.labels.netdiag-lab==host2", cmd=HTTPD)
        lab.run(CLIENT, "--network", OVERLAY, cmd=("sleep", "3600"))
        wait_for_peer(True)
        yield f"node {lab.host2('info', '--format', '{{.Name}}')}, id {node[:12]} ({WORKER})"
    finally:
        lab.sh("docker", "rm", "-f", CLIENT, check=False)
        lab.sh("docker", "service", "rm", SERVICE, VIP_SERVICE, HOST_MODE, check=False)
        lab.leave_swarm()
        lab.remove_swarm()


def peers() -> str:
    return lab.docker("network", "inspect", "--verbose", OVERLAY, "--format", "{{json .Peers}}", check=False)


def wait_for_peer(present: bool, seconds: float = 30) -> None:
    """Until the manager's gossip sees the worker on the overlay and its name resolves (or has
    lost both), three times in a row: while the gossip fails, the worker comes and goes."""
    deadline = time.time() + seconds
    steady = 0
    while time.time() < deadline:
        steady = steady + 1 if (WORKER in peers()) == present and resolves() == present else 0
        if steady == 3:
            return
        time.sleep(0.5)
    raise AssertionError(f"peers {peers()}, {SERVICE} {'resolves' if resolves() else 'does not resolve'}: not what "
                         f"was waited for ({'present' if present else 'gone'})")


def resolves() -> bool:
    return lab.sh("docker", "exec", CLIENT, "nslookup", SERVICE, "127.0.0.11", check=False).returncode == 0


def gets() -> str:
    """What the client container gets from the service by name (the truth to agree with)."""
    p = lab.sh("docker", "exec", CLIENT, "sh", "-c",
               f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 {SERVICE} 80 | head -1', check=False)
    return p.stdout.strip() or p.stderr.strip() or "nothing"


def on_worker(*rules: str, add: bool = True) -> None:
    for r in rules:
        lab.sh("ip", "netns", "exec", lab.HOST2, "iptables", "-A" if add else "-D", "INPUT", *r.split())


def test_a_task_on_the_other_node_answers_by_name_over_the_overlay(two_nodes):
    """The decoy: the service's only task runs on the worker; by name, through VXLAN."""
    assert gets().startswith("HTTP/1")
    d = why(f"{SERVICE}:80", "--from", f"container:{CLIENT}", expect=0)
    assert d["verdict"] == "reachable" and not d["causes"]
    route = next(h for h in d["path"] if h["hop"] == "route out")
    assert route["status"] == "ok"
    assert route["detail"] == f"in VXLAN (4789/udp) on the overlay {OVERLAY} to {two_nodes}"


def test_a_virtual_ip_on_a_kernel_without_ipvs(two_nodes):
    """By the name of a service in vip mode: its virtual IP, which nothing owns without IPVS;
    its tasks' own addresses (tasks.NAME) answer, as netdiag's fix says."""
    got = lab.sh("docker", "exec", CLIENT, "sh", "-c", f"nc -w 2 {VIP_SERVICE} 80 </dev/null", check=False)
    assert got.returncode != 0
    d = why(f"{VIP_SERVICE}:80", "--from", f"container:{CLIENT}", expect=1)
    assert codes(d) == ["ipvs-missing"], d["causes"]
    c = cause(d, "ipvs-missing")
    vips = lab.docker("service", "inspect", "-f", "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}", VIP_SERVICE)
    vip = next(v.split("/")[0] for v in vips.split()
               if ipaddress.ip_address(v.split("/")[0]) in ipaddress.ip_network(OVERLAY_SUBNET))
    assert c["summary"] == f"{vip} is the virtual IP of service {VIP_SERVICE}, which this kernel cannot " \
                           "load-balance: it has no IPVS"
    assert c["fix"][0] == f"use the tasks' own addresses: tasks.{VIP_SERVICE} (from {CLIENT}, the same port)"
    healthy = why(f"tasks.{VIP_SERVICE}:80", "--from", f"container:{CLIENT}", expect=0)
    assert healthy["verdict"] == "reachable"


def test_a_host_mode_port_published_on_the_other_node_only(two_nodes):
    """Host mode binds the port on the nodes running a task: not here. Named as such, with where
    it answers (tried from here: it does)."""
    import socket

    with socket.create_connection((WORKER, HOST_PORT), timeout=2):
        pass
    p = lab.netdiag("why-unreachable", HOST_MODE)
    assert p.returncode == 2
    assert p.stderr.strip() == (f"netdiag: Swarm service '{HOST_MODE}' runs no task on this node (1 replica(s) asked "
                                f"for), its tasks run on node {lab.host2('info', '--format', '{{.Name}}')} ({WORKER}); "
                                f"published in host mode, only there: {WORKER}:{HOST_PORT}: see docker "
                                f"service ps {HOST_MODE}; a task's container is diagnosed where it runs")


def test_vxlan_dropped_by_this_nodes_input_chain(two_nodes, tmp_path):
    """Gossip passes, the overlay's packets from the worker do not: the name resolves, the
    connection times out, and netdiag names the rule of this node that drops them; a bundle
    collected here explains the same offline, scrubbed too."""
    rule = f"-s {WORKER}/32 -p udp -m udp --dport 4789 -j DROP"
    lab.sh("iptables", "-I", "INPUT", *rule.split())
    try:
        assert gets() == "nc: timed out"
        d = why(f"{SERVICE}:80", "--from", f"container:{CLIENT}", expect=1)
        assert codes(d) == ["swarm-ports-blocked"], d["causes"]
        c = cause(d, "swarm-ports-blocked")
        assert c["rule"] == "ND804"
        assert f"this node's rule 1 of INPUT: -A INPUT {rule}: drops udp/4789 (the overlay's VXLAN packets) from " \
               f"{WORKER}" in c["evidence"]
        assert c["fix"][0] == f"iptables -D INPUT {rule}  (on this node)"
        assert "subnet-overlap" not in codes(d) and "no-route-out" not in codes(d)
        bundle = tmp_path / "swarm.json"
        p = lab.netdiag("collect", "-o", str(bundle), "--from", f"container:{CLIENT}", "--to", f"{SERVICE}:80")
        assert p.returncode == 0, p.stderr
        offline = json.loads(lab.netdiag("explain", str(bundle), "--json").stdout)
        assert codes(offline) == ["swarm-ports-blocked"] and offline["causes"][0]["evidence"] == c["evidence"]
        scrubbed = tmp_path / "scrubbed.json"
        mapping = str(tmp_path / "map.json")
        assert lab.netdiag("scrub", str(bundle), "-o", str(scrubbed), "--map", mapping).returncode == 0
        assert SERVICE not in scrubbed.read_text() and WORKER not in scrubbed.read_text()
        assert codes(json.loads(lab.netdiag("explain", str(scrubbed), "--json").stdout)) == ["swarm-ports-blocked"]
    finally:
        lab.sh("iptables", "-D", "INPUT", *rule.split(), check=False)


def test_vxlan_dropped_on_the_worker_alone_is_unknown(two_nodes):
    """Only the worker drops the overlay's packets, and its gossip answers: nothing this node can
    read shows where; the hop over to it is unknown, never blamed on this node."""
    on_worker(f"-s {ME} -p udp --dport 4789 -j DROP")
    try:
        assert gets() == "nc: timed out"
        d = why(f"{SERVICE}:80", "--from", f"container:{CLIENT}", expect=3)
        assert d["verdict"] == "unknown" and not d["causes"]
        route = next(h for h in d["path"] if h["hop"] == "route out")
        assert route["status"] == "unknown"
        assert "no rule of this node's iptables certainly drops the swarm's ports to or from it; this node's " \
               "attempt at its gossip port 7946/tcp: answered; that node's firewall, and any between them, cannot " \
               "be read from here" in route["detail"]
    finally:
        on_worker(f"-s {ME} -p udp --dport 4789 -j DROP", add=False)


def test_gossip_and_vxlan_filtered_on_the_worker(two_nodes):
    """Only 2377 open on the worker: the manager still sees the task running, but its gossip
    loses the worker and the name vanishes; netdiag names the worker, its silent gossip port and
    the ports to open there."""
    on_worker(*GOSSIP_AND_VXLAN)
    try:
        wait_for_peer(False)
        assert not gets().startswith("HTTP/1")
        d = why(SERVICE, "--port", "80", "--from", f"container:{CLIENT}", expect=1)
        assert codes(d) == ["swarm-ports-blocked"], d["causes"]
        c = cause(d, "swarm-ports-blocked")
        node = two_nodes
        assert any(e.startswith(f"this node's attempt at {WORKER}:7946/tcp (gossip): timeout") for e in c["evidence"])
        assert f"on {node}: iptables -I INPUT -s {ME} -p tcp --dport 7946 -j ACCEPT; iptables -I INPUT -s {ME} -p " \
               "udp -m multiport --dports 7946,4789 -j ACCEPT" in c["fix"]
        if c["rule"] == "ND803":  # the name gone with the worker's endpoints, as it mostly is by now
            assert c["summary"] == f"{SERVICE} does not resolve in {CLIENT}: this node's gossip does not reach " \
                                   f"{node}, where its task runs"
            assert f"{OVERLAY}'s peers, as this node ({ME}) sees them: {ME}: {WORKER} is not among them (their " \
                   "gossip, 7946/tcp+udp, does not get through)" in c["evidence"]
        else:  # the worker back for a moment among the peers: the name resolved, the packets are lost
            assert c["rule"] == "ND804" and c["summary"].endswith("the swarm's ports are blocked between the nodes")
    finally:  # the names come back only at the gossip's next full sync (up to a minute): this test is last
        on_worker(*GOSSIP_AND_VXLAN, add=False)
