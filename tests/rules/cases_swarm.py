"""Examples of netdiag/rules/swarm.py: the routing mesh on a kernel without IPVS."""

from __future__ import annotations

import dataclasses

from netdiag.facts import Endpoint, Network, Outcome, ServicePort, SwarmService, SwarmTask
from netdiag.vocab import Protocol, PublishMode, ReachResult
from tests.builders import BRIDGE, LOCAL_ENGINE, local, tcp, web
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
