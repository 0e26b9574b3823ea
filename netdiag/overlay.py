"""A container's attempt over a Swarm overlay network to a task on another node. Pure.

An overlay carries the containers' packets between nodes in VXLAN (4789/udp); the nodes learn
each other's endpoints and names by gossip (7946/tcp and udp); nodes reach the managers on
2377/tcp. What this node's gossip knows is in the overlay's verbose view: its peers (the nodes
it reaches) and the endpoints on every node; which node runs which task, in the manager's.
"""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.facts import Network, OverlayEndpoint, Reach, SwarmNode, SwarmService
from netdiag.netfilter import BLOCKING, Decision, Packet, walk
from netdiag.outbound import Outbound
from netdiag.parsers.routes import route_for
from netdiag.vocab import HOST, ProbeKind

MANAGEMENT = 2377  # tcp, from every node to the managers
GOSSIP = 7946  # tcp and udp, between every two nodes
VXLAN = 4789  # udp, between every two nodes with tasks on the same overlay
# how long a node's gossip port is given to answer a connect: memberlist, which Docker's gossip
# runs on, gives a node 0.5 s to answer its probes (its LAN profile) before suspecting it
GOSSIP_WAIT = 1.0
# what every two nodes must let through both ways, as (protocol, port, what it carries)
BETWEEN_NODES = (("tcp", GOSSIP, "gossip"), ("udp", GOSSIP, "gossip"), ("udp", VXLAN, "the overlay's VXLAN packets"))
# an overlay created with --opt encrypted wraps its VXLAN packets in IPsec: ESP (IP protocol 50) too
ENCRYPTED_OPTION = "encrypted"
ESP = ("esp", None, "the encrypted overlay's IPsec (ESP) packets")


def between(network: Network) -> tuple[tuple[str, int | None, str], ...]:
    """What two nodes with tasks on `network` must let through both ways."""
    return BETWEEN_NODES + ((ESP,) if ENCRYPTED_OPTION in network.options else ())


@dataclass(frozen=True)
class Crossing:
    """The attempt crosses from this node to `node` over the overlay `network`."""

    network: Network
    node: str  # the other node's swarm address
    name: str = ""  # its hostname and ID, as the manager lists it ("" when not known)
    endpoint: OverlayEndpoint | None = None  # the destination's endpoint, when its address is known there

    @property
    def label(self) -> str:
        return f"node {self.name} ({self.node})" if self.name else f"node {self.node}"


def overlays(ctx: Outbound) -> list[Network]:
    """The source container's overlay networks."""
    return [n for n in ctx.networks() if n.driver == "overlay"]


def this_node(ctx: Outbound) -> str:
    return ctx.engine.swarm_node_address


def node_named(ctx: Outbound, address: str) -> str:
    """"hostname, id 0123456789ab" of the node at `address` ("" when the manager's list does not hold it)."""
    node = next((n for n in ctx.snapshot.nodes if n.address == address), None)
    return _label(node) if node is not None else ""


def _label(node: SwarmNode) -> str:
    return f"{node.hostname}, id {node.id[:12]}" if node.hostname else f"id {node.id[:12]}"


def vip_of(ctx: Outbound) -> tuple[Network, str] | None:
    """(the overlay, the service) when the destination is a service's virtual IP on an overlay
    the source is on."""
    for net in overlays(ctx):
        for name, vip in net.vips.items():
            if vip == ctx.address:
                return net, name
    return None


def named_service(ctx: Outbound) -> SwarmService | None:
    """The Swarm service the destination name stands for (NAME or tasks.NAME) on an overlay the
    source shares with it."""
    if not ctx.name:
        return None
    name = ctx.name.rstrip(".")
    name = name[len("tasks."):] if name.startswith("tasks.") else name
    svc = next((s for s in ctx.snapshot.services if s.name == name), None)
    if svc is None or not {n.id for n in overlays(ctx)} & set(svc.networks):
        return None
    return svc


def crossing(ctx: Outbound) -> Crossing | None:
    """The other node the destination address is on, over an overlay the source is on; None
    when it is on this node, on no overlay, or not known."""
    me = this_node(ctx)
    for net in overlays(ctx):
        for ep in net.overlay_endpoints:
            if ep.address == ctx.address and me and ep.node_address != me:
                return Crossing(net, ep.node_address, node_named(ctx, ep.node_address), ep)
    return None


def unseen_task_nodes(ctx: Outbound) -> list[Crossing]:
    """The nodes running a task of the named service that this node's gossip does not reach on
    the overlay they share (missing from its peers): their endpoints and names stay unknown here."""
    svc = named_service(ctx)
    me = this_node(ctx)
    if svc is None or not me:
        return []
    nodes = {n.id: n for n in ctx.snapshot.nodes}
    shared = [n for n in overlays(ctx) if n.id in svc.networks and me in n.peers]
    out: list[Crossing] = []
    for t in svc.tasks:
        node = nodes.get(t.node_id)
        if t.state != "running" or node is None or not node.address or node.address == me:
            continue
        for net in shared:
            if node.address not in net.peers and all(c.node != node.address for c in out):
                out.append(Crossing(net, node.address, _label(node)))
    return out


def gossip_probe(ctx: Outbound, node: str) -> Reach | None:
    """This machine's TCP attempt to the node's gossip port, when it was made."""
    return next((r for r in ctx.snapshot.reach if r.address == node and r.port == GOSSIP
                 and r.kind == ProbeKind.TCP and r.origin == HOST), None)


def nodes_to_probe(ctx: Outbound) -> list[str]:
    """The other nodes whose gossip port this machine tries: the destination's node, and the
    nodes of the named service's tasks that this node's gossip does not reach."""
    found = [c.node for c in unseen_task_nodes(ctx)]
    c = crossing(ctx)
    return list(dict.fromkeys(found + ([c.node] if c is not None else [])))


@dataclass(frozen=True)
class Drop:
    """A rule of this node's firewall that drops a swarm port between it and another node."""

    decision: Decision
    protocol: str
    port: int | None  # None: a protocol without ports (ESP)
    carries: str
    inbound: bool  # dropped coming in from the other node (INPUT), else going out to it (OUTPUT)

    @property
    def where(self) -> str:
        d = self.decision
        return f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}" if d.rule is not None else \
            f"filter/{d.chain} policy: DROP, and no rule accepts it"


def local_drops(ctx: Outbound, c: Crossing) -> list[Drop]:
    """The rules of this node's filter table that certainly drop the swarm's traffic between it
    and c's node on c's overlay, either way (INPUT from it, OUTPUT to it); [] when none does or it
    was not read."""
    node = c.node
    fw = ctx.snapshot.firewall
    me = this_node(ctx)
    if fw is None or not fw.iptables_outcome.ok or not me:
        return []
    chains = {c.name: c for c in fw.chains if c.table == "filter"}
    h = ctx.docker_host
    r = route_for(h.routes, node) if h is not None and h.outcome.ok else None
    device = r.device if r is not None else None
    out = []
    for protocol, port, carries in between(c.network):
        for inbound in (True, False):
            p = Packet(protocol, me, port, source=node, in_interface=device) if inbound else \
                Packet(protocol, node, port, source=me, out_interface=device)
            chain = "INPUT" if inbound else "OUTPUT"
            d = walk(chains, chain, p)
            policy = chains[chain].policy if chain in chains else ""
            if d.certain and (d.target in BLOCKING or d.target == "" and policy == "DROP"):
                out.append(Drop(d, protocol, port, carries, inbound))
    return out


def opening(me: str, c: Crossing) -> list[str]:
    """The commands that let the swarm's ports through between this node (at `me`) and c's."""
    node = c.node
    esp = ENCRYPTED_OPTION in c.network.options
    return [f"on {c.label}: iptables -I INPUT -s {me} -p tcp --dport {GOSSIP} -j ACCEPT; iptables -I INPUT -s {me} "
            f"-p udp -m multiport --dports {GOSSIP},{VXLAN} -j ACCEPT"
            + (f"; iptables -I INPUT -s {me} -p esp -j ACCEPT  ({c.network.name} is encrypted)" if esp else ""),
            f"and the same on {me} for traffic from {node}; in a cloud, the security group or firewall between them "
            f"must allow {GOSSIP}/tcp, {GOSSIP}/udp and {VXLAN}/udp" + (" and ESP (IP protocol 50)" if esp else "")
            + " both ways"]
