"""Evidence beats inference: a finding that says a hop drops the traffic is no cause when an
attempt through that hop was answered.

Rules reason on facts read elsewhere (a sysctl, a rule of a chain, a route); the answer is the
packet itself. When they disagree the answer wins: the finding is dropped and said in `notes`,
so that the contradiction is visible (the tests treat it as a bug of the rule), never a verdict.
The rules that declare `holds_when_answered` are not contradicted by an answer: they say where
the attempt wrongly goes (wrong-address, name-collision, subnet-overlap), that only large packets
are lost (mtu-blackhole), or that what was asked for was not done (internal-network's -p).
"""

from __future__ import annotations

from netdiag.context import Context, is_loopback
from netdiag.diagnosis import Finding
from netdiag.outbound import Outbound
from netdiag.rules import load_rules
from netdiag.vocab import OUTBOUND_PATH, Hop, NetMode, path_of

# the hops of the way there, which an answer proves open; not the endpoint's own (the container,
# its listener and process; the source container; the destination): what answered may be another
# (a stopped container's address or port reused, another process on the port)
ENDPOINT_HOPS = frozenset({Hop.CONTAINER, Hop.LISTENER, Hop.PROCESS, Hop.SOURCE_CONTAINER, Hop.DESTINATION})


def passed_hops(ctx: Context, address: str, port: int) -> frozenset[Hop]:
    """The hops of the way that an answered attempt to `address`:`port` went through. The probe
    connects to an address, so no name was resolved on the way; a host port the container does
    not publish there proves nothing of its binding (something else answered)."""
    hops = set(path_of(ctx.attempt.origin)) - ENDPOINT_HOPS - {Hop.NAME_RESOLUTION}
    if is_loopback(address) and not ctx.attempt.origin.is_host:
        return frozenset()  # the source container's own loopback: nothing of the way was used
    if not ctx.attempt.origin.is_host:
        return frozenset(hops)
    covers = ("", "0.0.0.0", "::", address)
    if not any(b.host_port == port and (b.host_ip in covers or is_loopback(b.host_ip) and is_loopback(address))
               for b in ctx.published()):
        hops.discard(Hop.HOST_BINDING)
    if ctx.local:
        hops.discard(Hop.FORWARDING)  # the Docker host's own traffic leaves by OUTPUT, never FORWARD
    if ctx.target.mode == NetMode.HOST:
        hops -= {Hop.HOST_BINDING, Hop.FORWARDING, Hop.NETWORK}
    return frozenset(hops)


def passed_outbound_hops(ctx: Outbound) -> frozenset[Hop]:
    """The hops of the way that an answered attempt out of the source container went through."""
    hops = set(OUTBOUND_PATH) - ENDPOINT_HOPS
    if not ctx.name:
        hops.discard(Hop.NAME_RESOLUTION)
    if not ctx.leaves_docker():  # not forwarded nor source-NATed: the host, a Docker network, its own loopback
        hops -= {Hop.FORWARDING, Hop.SOURCE_NAT}
    if ctx.to_docker_host() or ctx.to_itself():
        hops.discard(Hop.ROUTE_OUT)
    return frozenset(hops)


def against_the_answer(findings: list[Finding], passed: frozenset[Hop],
                       answered: str) -> tuple[list[Finding], list[str]]:
    """(the findings the answer does not contradict, a note for each one it does)."""
    rules = load_rules()
    kept, notes = [], []
    for f in findings:
        if f.hop in passed and not rules[f.rule].holds_when_answered:
            notes.append(f"{f.rule} ({f.code}) would say \"{f.summary}\", but the attempt to {answered} was answered "
                         f"through the {f.hop} hop: not a cause")
        else:
            kept.append(f)
    return kept, notes
