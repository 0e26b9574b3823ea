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
