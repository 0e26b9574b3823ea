"""What a rule may declare it needs: the facts a probe gathers, and how to tell whether they were read.

A rule names its inputs (`needs=`) and the engine checks them before the rule runs: a missing or
failed input skips the rule and leaves its hop `unknown`, with the input and the reason named.
Inputs a rule reads only for extra evidence are declared as `uses=`: they are planned (probed)
but never required. The live source plans its probes from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netdiag.facts import Outcome
from netdiag.vocab import Fact, ProbeKind, ReachResult

if TYPE_CHECKING:
    from netdiag.context import Context
    from netdiag.outbound import Outbound

NOT_COLLECTED = "not collected"


def _client_routes(ctx: Context) -> Outcome:
    client = ctx.snapshot.client
    return client.outcome if client is not None else Outcome.unavailable(NOT_COLLECTED)


def _networks(ctx: Context) -> Outcome:
    return ctx.snapshot.networks_outcome


def _listeners(ctx: Context) -> Outcome:
    return ctx.listeners().outcome


ROOTLESS_UNKNOWN = ("Podman's own info (/libpod/info) was not read, so whether it runs rootless is not known: its "
                    "published ports go either through the host's firewall or through a forwarder in user space")


def _firewall(ctx: Context) -> Outcome:
    if ctx.engine.rootless_unknown:
        return Outcome.unavailable(ROOTLESS_UNKNOWN)
    fw = ctx.snapshot.firewall
    return fw.outcome if fw is not None else Outcome.unavailable(NOT_COLLECTED)


def _swarm_services(ctx: Context) -> Outcome:
    return ctx.snapshot.services_outcome


def _swarm(ctx: Context) -> Outcome:
    if not ctx.snapshot.services_outcome.ok:
        return ctx.snapshot.services_outcome
    if ctx.engine.ipvs is None:
        return Outcome.unavailable("whether the Docker host's kernel has IPVS cannot be read from here")
    return Outcome(method="docker service inspect, /proc/net/ip_vs")


def _daemon_forwarding(ctx: Context) -> Outcome:
    if ctx.engine.ipv4_forwarding is None:
        return Outcome.unavailable("docker info does not report IPv4Forwarding")
    return Outcome(method="docker info")


def _firewall_rules(ctx: Context) -> Outcome:
    fw = ctx.snapshot.firewall
    if fw is None or not fw.outcome.ok:
        return _firewall(ctx)
    return fw.iptables_outcome


def _port_holders(ctx: Context) -> Outcome:
    holders = ctx.snapshot.port_holders
    return holders.outcome if holders is not None else Outcome.unavailable(NOT_COLLECTED)


def _router_answer(ctx: Context) -> Outcome:
    address = ctx.attempt.address
    icmp = ctx.reach(address, None, ProbeKind.ICMP) if address else None
    if icmp is None:
        return Outcome.unavailable(f"{address or 'the address'} was not pinged")
    if not icmp.outcome.ok:
        return icmp.outcome
    if icmp.result != ReachResult.ICMP_UNREACHABLE:
        return Outcome.unavailable(f"no router answered the ping to {address} ({icmp.result})")
    return icmp.outcome


def _source_view(ctx: Outbound) -> Outcome:
    v = ctx.view
    return v.outcome if v is not None else Outcome.unavailable(NOT_COLLECTED)


def _lookup(ctx: Outbound) -> Outcome:
    if not ctx.name or ctx.in_hosts_file():
        return Outcome()  # an address, or a name the hosts file answers: nothing to ask
    asked = ctx.lookups(upstream=False)
    if not asked:
        return Outcome.unavailable(f"{ctx.name} was not looked up inside {ctx.source.name}")
    good = [lk for lk in asked if lk.outcome.ok]
    return good[0].outcome if good else asked[0].outcome


def _host_attempt(ctx: Outbound) -> Outcome:
    if not ctx.address or ctx.to_itself() or ctx.over_overlay() is not None:
        return Outcome()  # nothing to try, or nothing the Docker host's own attempt could compare with
    r = ctx.from_host()
    if r is None:
        return Outcome.unavailable(f"{ctx.where} was not tried from the Docker host")
    return r.outcome


def _kernel_route(ctx: Outbound) -> Outcome:
    if not ctx.address or ctx.to_docker_host() or ctx.to_itself() or ctx.over_overlay() is not None:
        return Outcome()  # nothing the Docker host routes out
    k = next((k for k in ctx.snapshot.kernel_routes if k.address == ctx.address and k.origin.is_host), None)
    return k.outcome if k is not None else Outcome.unavailable("the Docker host's kernel was not asked")


def _path_mtu(ctx: Outbound) -> Outcome:
    if not ctx.answered() or not ctx.address:
        return Outcome()  # small packets did not pass: there is no large-packet question to ask
    if ctx.to_docker_host() or ctx.docker_network_of(ctx.address) is not None:
        return Outcome()  # not routed out of the Docker host: large packets are not tried (observe_out)
    m = ctx.path_mtu()
    return m.outcome if m is not None else Outcome.unavailable("large packets were not tried")


# each input: what a person calls it, and how its outcome is read from the context
INPUTS: dict[Fact, tuple[str, Callable[[Any], Outcome]]] = {
    Fact.CLIENT_ROUTES: ("the client's interfaces and routes", _client_routes),
    Fact.NETWORKS: ("the Docker networks", _networks),
    Fact.LISTENERS: ("the container's listening sockets", _listeners),
    Fact.FORWARDING: ("the Docker host's forwarding sysctls", _firewall),
    Fact.SWARM: ("the Swarm services and the Docker host's IPVS", _swarm),
    Fact.SWARM_SERVICES: ("the Swarm services and their tasks", _swarm_services),
    Fact.DAEMON_FORWARDING: ("the Docker host's IPv4 forwarding as docker info reports it", _daemon_forwarding),
    Fact.FIREWALL_RULES: ("the Docker host's firewall rules", _firewall_rules),
    Fact.PORT_HOLDERS: ("who holds the Docker host's ports", _port_holders),
    Fact.ROUTER_ANSWER: ("a router's ICMP answer to the ping", _router_answer),
    Fact.SOURCE_VIEW: ("the source container's routes, resolv.conf and /etc/hosts", _source_view),
    Fact.LOOKUP: ("the name looked up inside the source container", _lookup),
    Fact.HOST_ATTEMPT: ("the same attempt from the Docker host", _host_attempt),
    Fact.KERNEL_ROUTE: ("the Docker host kernel's route for the container's packets", _kernel_route),
    Fact.PATH_MTU: ("large don't-fragment packets from the source container", _path_mtu),
}

# A need is one input, or a tuple of inputs any one of which will do.
Need = Fact | tuple[Fact, ...]


def describe(fact: Fact) -> str:
    return INPUTS[fact][0]


def outcome(ctx: Context | Outbound, fact: Fact) -> Outcome:
    return INPUTS[fact][1](ctx)


def missing(ctx: Context | Outbound, need: Need) -> tuple[str, str] | None:
    """None when the need is met, else (what is missing, why), each in one phrase."""
    alternatives = need if isinstance(need, tuple) else (need,)
    why = []
    for fact in alternatives:
        o = outcome(ctx, fact)
        if o.ok:
            return None
        why.append(o.reason or str(o.state))
    return " or ".join(describe(f) for f in alternatives), "; ".join(dict.fromkeys(why))
