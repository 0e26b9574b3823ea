"""Examples of netdiag/rules/swarm.py: the routing mesh on a kernel without IPVS."""

from __future__ import annotations

import dataclasses

from netdiag.facts import Endpoint, Network, Outcome, ServicePort, SwarmService
from netdiag.vocab import Protocol, PublishMode, ReachResult
from tests.builders import BRIDGE, LOCAL_ENGINE, local, tcp, web
from tests.rules.examples import args, fires, quiet, unknown

INGRESS = Network("n-ingress", "ingress", "overlay", "swarm", False, ("10.0.0.0/24",), ("10.0.0.1",))
TASK = web(name="shop.1.x7k2", published=(), requested=(),
           labels={"com.docker.swarm.service.name": "shop", "com.docker.swarm.task.name": "shop.1.x7k2"},
           endpoints=(Endpoint("ingress", "n-ingress", "10.0.0.4", 24),))


def swarm(mode: PublishMode, ipvs: bool | None, answered: bool = False):
    svc = SwarmService("s" * 25, "shop", "vip", (ServicePort(80, 8080, Protocol.TCP, mode),))
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
