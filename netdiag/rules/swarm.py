"""Swarm services: what the routing mesh needs from the Docker host's kernel."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context, hostport
from netdiag.facts import Container
from netdiag.rules import Found, rule
from netdiag.rules.addressing import reach_evidence
from netdiag.vocab import SWARM_SERVICE_LABEL, Direction, Fact, Hop, PublishMode


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
