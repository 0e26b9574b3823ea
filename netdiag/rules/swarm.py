"""Swarm services: what the routing mesh needs from the Docker host's kernel, the tasks behind a
service, and the swarm's ports between the nodes that an overlay network crosses."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag import overlay
from netdiag.context import Context, hostport
from netdiag.facts import Container
from netdiag.outbound import Outbound
from netdiag.rules import Found, rule
from netdiag.rules.addressing import reach_evidence
from netdiag.vocab import SWARM_SERVICE_LABEL, Direction, Fact, Hop, PublishMode, ReachResult


def is_swarm_task(container: Container) -> bool:
    """The container runs a task of a Swarm service."""
    return bool(container.labels.get(SWARM_SERVICE_LABEL))


@rule("ND801", "ipvs-missing", Hop.HOST_BINDING, needs=(Fact.SWARM,), direction=Direction.FROM_HOST,
      only_if=is_swarm_task)
def ipvs_missing(ctx: Context) -> Iterator[Found]:
    """The Docker host's kernel has no IPVS, so the Swarm routing mesh that publishes the port cannot work.

    Detects: a task of a Swarm service whose port is published in ingress mode (the routing mesh,
    the default of `docker service create --publish`), an attempt to that port on the Docker host
    that got no answer, and no /proc/net/ip_vs on the Docker host.
    Why it breaks: the routing mesh load-balances a published port (and a service's virtual IP)
    to the tasks with the kernel's IPVS; without it dockerd cannot program the mesh, and the port
    stays silent on every node however healthy the tasks are.
    Evidence: the service, its published port and mode, the missing /proc/net/ip_vs, what the
    attempt got back.
    Fix: load IPVS (`modprobe ip_vs ip_vs_rr`, or a kernel built with it), then `docker service
    update --force SERVICE`; or publish in host mode, where the node running a task binds the
    port itself (`docker service update --publish-rm 8080 --publish-add
    mode=host,published=8080,target=80 SERVICE`); for names between services,
    `--endpoint-mode dnsrr` needs no virtual IP either.
    Exceptions: ports published in host mode; an attempt that was answered; a Docker host whose
    kernel cannot be read from here (unknown, with the reason).
    """
    mesh = ctx.service_port(PublishMode.INGRESS)
    svc = ctx.swarm_service()
    if mesh is None or svc is None or ctx.engine.ipvs is not False or not mesh.published:
        return
    address = ctx.host_address
    if ctx.answered(address, mesh.published):
        return
    evidence = [f"service {svc.name} publishes {mesh.target}/{mesh.protocol} on {mesh.published} in ingress mode "
                f"(the routing mesh), endpoint mode {svc.endpoint_mode}",
                "/proc/net/ip_vs does not exist on the Docker host: its kernel has no IPVS, which the routing mesh "
                "and service virtual IPs need"]
    evidence += reach_evidence(ctx, address, mesh.published)
    yield Found(f"{hostport(address, mesh.published)} is published by Swarm's routing mesh, which this kernel "
                "cannot run: it has no IPVS", evidence,
                [f"modprobe ip_vs ip_vs_rr  (or a kernel with CONFIG_IP_VS), then: docker service update --force "
                 f"{svc.name}",
                 f"or publish in host mode: docker service update --publish-rm {mesh.published} --publish-add "
                 f"mode=host,published={mesh.published},target={mesh.target} {svc.name}",
                 f"and for names between services, no virtual IP: docker service update --endpoint-mode dnsrr "
                 f"{svc.name}  (needs no published ingress port)"])


@rule("ND802", "no-running-task", Hop.CONTAINER, per_port=False, needs=(Fact.SWARM_SERVICES,),
      only_if=is_swarm_task)
def no_running_task(ctx: Context) -> Iterator[Found]:
    """The Swarm service has no running task anywhere: what it publishes has nothing behind it.

    Detects: a task container of a Swarm service whose manager lists no task of it in state
    running, on any node.
    Why it breaks: the routing mesh and the service's name lead to its running tasks only; the
    swarm keeps replacing a failing task, which fails again (a command that exits, an image that
    cannot start), or places none (replicas 0, a constraint no node meets).
    Evidence: the replicas asked for, and the newest tasks with their state and error.
    Fix: read why with `docker service ps --no-trunc SERVICE` and `docker service logs SERVICE`;
    fix the command or image (`docker service update --image ... SERVICE`), or the constraint;
    for replicas 0, `docker service scale SERVICE=1`.
    Exceptions: a service with a running task on another node (this node's task may be the old
    one being replaced): its own state says so.
    """
    svc = ctx.swarm_service()
    if svc is None or any(t.state == "running" for t in svc.tasks):
        return
    asked = "global (one task per node)" if svc.replicas is None else f"{svc.replicas} replica(s) asked for"
    evidence = [f"service {svc.name}: {asked}, no task running"]
    evidence += [f"task {svc.name}.{t.slot or '?'}: {t.state}" + (f": {t.error}" if t.error else "")
                 for t in svc.tasks[:5]]
    fix = [f"docker service ps --no-trunc {svc.name}; docker service logs {svc.name}  (why its tasks stop)"]
    if svc.replicas == 0:
        fix.insert(0, f"docker service scale {svc.name}=1")
    elif any("exit" in t.error for t in svc.tasks):
        fix.append(f"the task's command exits: fix it or the image, then docker service update --force {svc.name}")
    yield Found(f"service {svc.name} has no running task: nothing answers for it", evidence, fix)


@rule("ND803", "swarm-ports-blocked", Hop.NAME_RESOLUTION, per_port=False, uses=(Fact.SWARM_SERVICES,),
      direction=Direction.OUTBOUND)
def gossip_blocked(ctx: Outbound) -> Iterator[Found]:
    """This node's swarm gossip does not reach the nodes running the service: its name is unknown here.

    Detects: the container looks up the name of a Swarm service it shares an overlay network
    with, the manager lists running tasks of it on other nodes, the name does not resolve, those
    nodes are missing from the overlay's peers as this node sees them, and their gossip port
    (7946/tcp, tried from this node) does not answer or this node's INPUT or OUTPUT chain drops
    the swarm's ports to them.
    Why it breaks: Docker's embedded DNS answers with the endpoints this node learnt by gossip
    (7946/tcp and udp between every two nodes); when it is filtered, a node drops out of the
    overlay's peers within seconds and the names and addresses of the tasks there vanish, though
    the manager (2377/tcp) still sees every task running. The same filter usually stops the
    overlay's own packets (4789/udp).
    Evidence: the tasks and their nodes, the overlay's peers, this machine's attempt at the
    node's 7946/tcp, the rule of this node's firewall that drops the port, and the node's state
    when the manager no longer lists it ready (its 2377/tcp heartbeats stopped, or it is off).
    Fix: allow 7946/tcp, 7946/udp and 4789/udp both ways between the nodes (iptables on each, and
    the cloud security group between them); or delete the rule named.
    Exceptions: a name that resolved; nodes this node's gossip reaches; a node missing from the
    peers whose gossip port answers and whose ports this node does not drop (a task that has
    just started, an overlay still syncing: the name hop is unknown, with the reason); a service
    without a running task (no-running-task).
    """
    if not ctx.name or any(lk.outcome.ok and lk.addresses for lk in ctx.lookups(upstream=False)):
        return
    unseen = overlay.unseen_task_nodes(ctx)
    if not unseen:
        return
    svc = overlay.named_service(ctx)
    service = svc.name if svc is not None else ctx.name  # NAME or tasks.NAME: the service NAME
    me = overlay.this_node(ctx)
    for c in unseen:
        blocked = _between(ctx, c)
        if not blocked:  # its gossip port answers: the overlay may still be syncing (the name hop says so)
            continue
        evidence = [f"service {service} has a task running on {c.label}, on overlay {c.network.name}",
                    f"{c.network.name}'s peers, as this node ({me}) sees them: {', '.join(c.network.peers)}: "
                    f"{c.node} is not among them (their gossip, {overlay.GOSSIP}/tcp+udp, does not get through)"]
        evidence += blocked + _node_state(ctx, c)
        yield Found(f"{ctx.name} does not resolve in {ctx.source.name}: this node's gossip does not reach {c.label}, "
                    f"where its task runs", evidence, _fixes(ctx, c))


@rule("ND804", "swarm-ports-blocked", Hop.ROUTE_OUT, per_port=False, uses=(Fact.FIREWALL_RULES,),
      direction=Direction.OUTBOUND)
def overlay_blocked(ctx: Outbound) -> Iterator[Found]:
    """The swarm's ports are blocked between this node and the destination's: the overlay drops its packets.

    Detects: the destination is an endpoint of an overlay network the container is on, on
    another node; the attempt met silence (no answer, no refusal); and this node's firewall
    drops 4789/udp or 7946 (and ESP, for an overlay created with `--opt encrypted`) from or to
    that node (INPUT, OUTPUT), or that node's gossip port does not answer this node (7946/tcp
    tried from here).
    Why it breaks: an overlay carries the containers' packets between nodes inside VXLAN
    (4789/udp; an encrypted overlay wraps them in IPsec, IP protocol 50), and the nodes keep each
    other's endpoints by gossip (7946/tcp+udp); a filter on either node or between them (a cloud
    security group) drops the traffic silently.
    Evidence: the endpoint and its node, the rule that drops the port, what the gossip attempt
    got, and the node's state when the manager no longer lists it ready.
    Fix: allow 7946/tcp, 7946/udp and 4789/udp (and ESP for an encrypted overlay) both ways
    between the nodes, or delete the rule named.
    Exceptions: an attempt that answered, or was refused or reset (the overlay carried it); an
    endpoint on this node; a filter netdiag cannot see (the other node's firewall, with gossip
    answering): the hop is then unknown, not blamed.
    """
    c = overlay.crossing(ctx)
    r = ctx.from_source()
    if c is None or r is None or not r.outcome.ok or r.result != ReachResult.TIMEOUT:
        return  # a refusal or a reset came back over the overlay: its packets pass
    evidence = _between(ctx, c)
    if not evidence:
        return
    name = c.endpoint.name if c.endpoint is not None else ctx.address
    yield Found(f"the overlay {c.network.name} does not carry {ctx.source.name}'s packets to {c.label}, where "
                f"{ctx.address} is: the swarm's ports are blocked between the nodes",
                [f"{ctx.address} is {name} on overlay {c.network.name}, on {c.label}", *evidence,
                 *_node_state(ctx, c)], _fixes(ctx, c))


@rule("ND805", "ipvs-missing", Hop.ROUTE_OUT, per_port=False, direction=Direction.OUTBOUND)
def vip_without_ipvs(ctx: Outbound) -> Iterator[Found]:
    """The destination is a Swarm service's virtual IP, which this kernel cannot load-balance: it has no IPVS.

    Detects: the container's attempt goes to the virtual IP of a service (endpoint mode vip,
    the default) on an overlay network it is on, got no answer, and the Docker host has no
    /proc/net/ip_vs.
    Why it breaks: a service's name resolves to one virtual IP, which IPVS in the container's
    own namespace spreads over the service's tasks; without IPVS nothing owns that address and
    the connection goes nowhere, however healthy the tasks are.
    Evidence: the service and its virtual IP, the missing /proc/net/ip_vs, what the attempt got.
    Fix: ask for the tasks' own addresses (`tasks.SERVICE`), or switch the service to
    `--endpoint-mode dnsrr`; or load IPVS (`modprobe ip_vs ip_vs_rr`).
    Exceptions: an attempt that answered or was refused; a Docker host whose kernel cannot be read
    from here.
    """
    found = overlay.vip_of(ctx)
    r = ctx.from_source()
    if found is None or ctx.engine.ipvs is not False or r is None or not r.outcome.ok or \
            r.result not in (ReachResult.TIMEOUT, ReachResult.ICMP_UNREACHABLE):
        return  # nothing owns a virtual IP without IPVS: an answer or a refusal came from something that does
    net, name = found
    yield Found(f"{ctx.address} is the virtual IP of service {name}, which this kernel cannot load-balance: it has "
                "no IPVS",
                [f"{ctx.address} is service {name}'s virtual IP on overlay {net.name} (endpoint mode vip)",
                 "/proc/net/ip_vs does not exist on the Docker host: its kernel has no IPVS, which service virtual IPs "
                 "need", f"{ctx.where}: {r.result}" + (f" ({r.detail})" if r.detail else "")],
                [f"use the tasks' own addresses: tasks.{name} (from {ctx.source.name}, the same port)",
                 f"or: docker service update --endpoint-mode dnsrr {name}  (the name then resolves to the tasks)",
                 f"or load IPVS: modprobe ip_vs ip_vs_rr, then docker service update --force {name}"])


def _between(ctx: Outbound, c: overlay.Crossing) -> list[str]:
    """What shows the swarm's ports blocked between this node and c's: this node's rules that
    drop them, and the gossip port's silence or refusal."""
    out = [f"this node's {d.where}: drops {d.protocol}" + (f"/{d.port}" if d.port else "") + f" ({d.carries}) "
           f"{'from' if d.inbound else 'to'} {c.node}" for d in overlay.local_drops(ctx, c)]
    g = overlay.gossip_probe(ctx, c.node)
    if g is not None and g.outcome.ok and g.result not in (ReachResult.ANSWERED, ReachResult.SILENT):
        out.append(f"this node's attempt at {c.node}:{overlay.GOSSIP}/tcp (gossip): {g.result}" +
                   (f" ({g.detail})" if g.detail else ""))
    return out


def _node_state(ctx: Outbound, c: overlay.Crossing) -> list[str]:
    """The manager's word on c's node when it is not ready: its heartbeats (to the managers'
    2377/tcp) stopped arriving, or the node is off."""
    node = next((n for n in ctx.snapshot.nodes if n.address == c.node), None)
    if node is None or node.state in ("", "ready"):
        return []
    return [f"the manager lists {c.label} as {node.state}: its heartbeats to the managers ({overlay.MANAGEMENT}/tcp) "
            "do not arrive, or the node is off"]


def _fixes(ctx: Outbound, c: overlay.Crossing) -> list[str]:
    drops = overlay.local_drops(ctx, c)
    me = overlay.this_node(ctx)
    fixes = [f"iptables -D {d.decision.chain} {d.decision.rule.text}  (on this node)" for d in drops
             if d.decision.rule is not None]
    return list(dict.fromkeys(fixes + overlay.opening(me, c)))
