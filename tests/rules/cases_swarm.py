"""Examples of netdiag/rules/swarm.py: the routing mesh on a kernel without IPVS, the tasks behind a
service, the swarm's ports between nodes."""

from __future__ import annotations

import dataclasses

from netdiag.facts import (
    Endpoint,
    Lookup,
    Network,
    Outcome,
    OverlayEndpoint,
    Reach,
    Route,
    ServicePort,
    SourceView,
    SwarmNode,
    SwarmService,
    SwarmTask,
)
from netdiag.vocab import DnsResult, Origin, Protocol, PublishMode, ReachResult
from tests.builders import BRIDGE, CLIENT_ID, LOCAL_ENGINE, chain, client, firewall, local, tcp, web
from tests.rules.examples import args, fires, quiet, unknown

INGRESS = Network("n-ingress", "ingress", "overlay", "swarm", False, ("10.0.0.0/24",), ("10.0.0.1",))
TASK = web(name="shop.1.x7k2", published=(), requested=(),
           labels={"com.docker.swarm.service.name": "shop", "com.docker.swarm.task.name": "shop.1.x7k2"},
           endpoints=(Endpoint("ingress", "n-ingress", "10.0.0.4", 24),))


def swarm(mode: PublishMode, ipvs: bool | None, answered: bool = False):
    svc = SwarmService("s" * 25, "shop", "vip", (ServicePort(80, 8080, Protocol.TCP, mode),), 1,
                       (SwarmTask(1, "n1", "running", "running"),))
    reach = (tcp("127.0.0.1", 8080, ReachResult.ANSWERED if answered else ReachResult.REFUSED),)
    snap = local(TASK, networks=(BRIDGE, INGRESS), reach=reach)
    return dataclasses.replace(snap, engine=dataclasses.replace(LOCAL_ENGINE, swarm="active", ipvs=ipvs),
                               services=(svc,), services_outcome=Outcome(method="docker service inspect"))


@fires("ND801", "routing-mesh-without-ipvs")
def _():
    return (swarm(PublishMode.INGRESS, ipvs=False), args(),
            lambda c: c.fix[1] == "or publish in host mode: docker service update --publish-rm 8080 --publish-add "
                                  "mode=host,published=8080,target=80 shop")


@quiet("ND801", "host-mode-publishing")
def _():
    return swarm(PublishMode.HOST, ipvs=False), args()


@quiet("ND801", "ipvs-present")
def _():
    return swarm(PublishMode.INGRESS, ipvs=True), args()


@unknown("ND801", "ipvs-not-known-from-here")
def _():
    return swarm(PublishMode.INGRESS, ipvs=None), args()


def failing(*tasks):
    snap = swarm(PublishMode.INGRESS, ipvs=True)
    svc = dataclasses.replace(snap.services[0], replicas=1, tasks=tuple(SwarmTask(1, "n1", *t) for t in tasks))
    return dataclasses.replace(snap, services=(svc,))


@fires("ND802", "its-tasks-keep-failing")
def _():
    snap = failing(("failed", "shutdown", "task: non-zero exit (3)"), ("failed", "shutdown", "task: non-zero exit (3)"))
    return (snap, args(),
            lambda c: "task shop.1: failed: task: non-zero exit (3)" in c.evidence
            and c.fix[-1] == "the task's command exits: fix it or the image, then docker service update --force shop")


@quiet("ND802", "a-task-runs")
def _():
    return failing(("running", "running", ""), ("failed", "shutdown", "task: non-zero exit (3)")), args()


@unknown("ND802", "services-not-read")
def _():
    snap = failing(("failed", "shutdown", "x"))
    return dataclasses.replace(snap, services_outcome=Outcome.unavailable("not a swarm manager")), args()


# --- ND803/ND804 swarm-ports-blocked: a container to a service's task on another node ------------

ME, OTHER = "198.18.9.1", "198.18.9.2"
OVERLAY_SUBNET = "10.77.0.0/24"
TASK_ON_OTHER = OverlayEndpoint("cart.1.q2w3", "10.77.0.10", OTHER)


def overlay_net(peers=(ME, OTHER), endpoints=(TASK_ON_OTHER,)) -> Network:
    return Network("n-ov", "backend", "overlay", "swarm", False, (OVERLAY_SUBNET,), ("10.77.0.1",),
                   peers=peers, overlay_endpoints=endpoints)


SHOP = dataclasses.replace(client("backend", "10.77.0.6", name="app"),
                           endpoints=(Endpoint("backend", "n-ov", "10.77.0.6", 24, gateway="10.77.0.1"),))
OV_VIEW = SourceView(Outcome(method="/proc/5151"), CLIENT_ID, (Route(OVERLAY_SUBNET, "", "eth0"),), ("127.0.0.11",))
CART = SwarmService("c" * 25, "cart", "dnsrr", (), 1, (SwarmTask(1, "node2id" + "x" * 18, "running", "running"),),
                    ("n-ov",))
NODES = (SwarmNode("node1id" + "x" * 18, "node1", ME, "ready", "active", True),
         SwarmNode("node2id" + "x" * 18, "node2", OTHER, "ready", "active"))
INPUT_VXLAN_DROP = chain("filter", "INPUT", "ACCEPT", f"-s {OTHER}/32 -p udp -m udp --dport 4789 -j DROP")


def across(net: Network, lookups=(), reach=(), fw_=None):
    snap = local(SHOP, listeners=(), reach=reach, fw=fw_ or firewall(), networks=(BRIDGE, net))
    return dataclasses.replace(snap, engine=dataclasses.replace(LOCAL_ENGINE, swarm="active", swarm_node_address=ME),
                               services=(CART,), nodes=NODES, services_outcome=Outcome(method="docker service inspect"),
                               source_views=(OV_VIEW,), lookups=tuple(lookups))


def cart_lookup(*addresses: str) -> Lookup:
    result = DnsResult.ANSWERED if addresses else DnsResult.NXDOMAIN
    return Lookup(Outcome(method="DNS query"), "cart", "127.0.0.11", result, addresses, origin=Origin("app"))


def gossip(result: ReachResult) -> Reach:
    return tcp(OTHER, 7946, result)


def from_app(result: ReachResult) -> Reach:
    return tcp("10.77.0.10", 80, result, origin="container:app")


FROM_SHOP = dict(to="cart:80", origin="container:app", outbound=True)


@fires("ND803", "the-node-running-the-task-is-not-among-the-overlays-peers")
def _():
    return (across(overlay_net(peers=(ME,), endpoints=()), (cart_lookup(),), (gossip(ReachResult.TIMEOUT),)),
            args(**FROM_SHOP),
            lambda c: "198.18.9.2 is not among them" in c.evidence[1]
            and c.evidence[2].startswith("this node's attempt at 198.18.9.2:7946/tcp (gossip): timeout")
            and c.fix[0].startswith("on node node2, id node2idxxxxx (198.18.9.2): iptables -I INPUT -s 198.18.9.1"))


@quiet("ND803", "the-overlay-knows-the-node")
def _():
    return across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.ANSWERED),)), args(**FROM_SHOP)


@quiet("ND803", "the-name-resolved")
def _():
    return (across(overlay_net(peers=(ME,)), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),)),
            args(**FROM_SHOP))


@fires("ND804", "this-nodes-input-drops-the-vxlan-packets")
def _():
    return (across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),
                                                                  gossip(ReachResult.ANSWERED)),
                   firewall(chains=(INPUT_VXLAN_DROP,))),
            args(**FROM_SHOP),
            lambda c: "this node's rule 1 of INPUT: -A INPUT -s 198.18.9.2/32 -p udp -m udp --dport 4789 -j DROP: "
                      "drops udp/4789 (the overlay's VXLAN packets) from 198.18.9.2" in c.evidence
            and c.fix[0] == "iptables -D INPUT -s 198.18.9.2/32 -p udp -m udp --dport 4789 -j DROP  (on this node)")


@fires("ND804", "the-other-nodes-gossip-port-does-not-answer")
def _():
    return (across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),
                                                                  gossip(ReachResult.TIMEOUT))),
            args(**FROM_SHOP))


@quiet("ND804", "nothing-on-this-side-shows-a-block")
def _():
    return (across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),
                                                                  gossip(ReachResult.ANSWERED))),
            args(**FROM_SHOP))


@quiet("ND804", "a-task-on-this-node")
def _():
    here = OverlayEndpoint("cart.1.q2w3", "10.77.0.10", ME)
    return (across(overlay_net(endpoints=(here,)), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),),
                   firewall(chains=(INPUT_VXLAN_DROP,))),
            args(**FROM_SHOP))


# --- ND805 ipvs-missing: a service's virtual IP from a container, on a kernel without IPVS ----------

def to_vip(ipvs: bool | None, result: ReachResult):
    snap = across(dataclasses.replace(overlay_net(), vips={"cart": "10.77.0.4"}), (cart_lookup("10.77.0.4"),),
                  (tcp("10.77.0.4", 80, result, origin="container:app"),))
    return dataclasses.replace(snap, engine=dataclasses.replace(snap.engine, ipvs=ipvs))


@fires("ND805", "a-virtual-ip-without-ipvs")
def _():
    return (to_vip(False, ReachResult.TIMEOUT), args(**FROM_SHOP),
            lambda c: c.fix[0] == "use the tasks' own addresses: tasks.cart (from app, the same port)"
            and "10.77.0.4 is service cart's virtual IP on overlay backend (endpoint mode vip)" in c.evidence)


@quiet("ND805", "ipvs-present")
def _():
    return to_vip(True, ReachResult.TIMEOUT), args(**FROM_SHOP)


@quiet("ND805", "ipvs-not-known-from-here")
def _():
    return to_vip(None, ReachResult.TIMEOUT), args(**FROM_SHOP)


@fires("ND804", "the-manager-has-lost-the-node-too")
def _():
    snap = across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),
                                                                 gossip(ReachResult.TIMEOUT)))
    down = (NODES[0], dataclasses.replace(NODES[1], state="down"))
    return (dataclasses.replace(snap, nodes=down), args(**FROM_SHOP),
            lambda c: "the manager lists node node2, id node2idxxxxx (198.18.9.2) as down: its heartbeats to the "
                      "managers (2377/tcp) do not arrive, or the node is off" in c.evidence)


@quiet("ND804", "a-refusal-came-back-over-the-overlay")
def _():
    """The worker's task refused: its packets crossed both ways, whatever this node's firewall says."""
    return (across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.REFUSED),
                                                                  gossip(ReachResult.TIMEOUT)),
                   firewall(chains=(INPUT_VXLAN_DROP,))),
            args(**FROM_SHOP))


@quiet("ND803", "the-missing-nodes-gossip-port-answers")
def _():
    """Missing from the peers, but its gossip port answers and nothing here drops the ports: an
    overlay still syncing; the name hop is unknown, with that reason, not blamed."""
    return (across(overlay_net(peers=(ME,), endpoints=()), (cart_lookup(),), (gossip(ReachResult.ANSWERED),)),
            args(**FROM_SHOP),
            lambda d: d.verdict == "unknown" and any(
                h.hop == "name resolution" and h.status == "unknown" and "may still be syncing" in h.detail
                for h in d.path))


@fires("ND804", "an-encrypted-overlay-and-esp-dropped-here")
def _():
    """--opt encrypted: the VXLAN packets travel in IPsec, which this node's INPUT drops."""
    net = dataclasses.replace(overlay_net(), options={"encrypted": ""})
    esp_drop = chain("filter", "INPUT", "ACCEPT", f"-s {OTHER}/32 -p esp -j DROP")
    return (across(net, (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT), gossip(ReachResult.ANSWERED)),
                   firewall(chains=(esp_drop,))),
            args(**FROM_SHOP),
            lambda c: "this node's rule 1 of INPUT: -A INPUT -s 198.18.9.2/32 -p esp -j DROP: drops esp (the encrypted "
                      "overlay's IPsec (ESP) packets) from 198.18.9.2" in c.evidence
            and "iptables -I INPUT -s 198.18.9.1 -p esp -j ACCEPT  (backend is encrypted)" in c.fix[1])


@quiet("ND804", "esp-dropped-on-an-overlay-that-is-not-encrypted")
def _():
    esp_drop = chain("filter", "INPUT", "ACCEPT", f"-s {OTHER}/32 -p esp -j DROP")
    return (across(overlay_net(), (cart_lookup("10.77.0.10"),), (from_app(ReachResult.TIMEOUT),
                                                                  gossip(ReachResult.ANSWERED)),
                   firewall(chains=(esp_drop,))),
            args(**FROM_SHOP))
