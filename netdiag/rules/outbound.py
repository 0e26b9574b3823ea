"""From a container out: to the Docker host, the LAN, the internet, or a name.

Each rule reads an Outbound context (netdiag.outbound): the source container, the destination,
what the container's resolver answered, the Docker host's forwarding, firewall, NAT and routes,
and the same attempt made from the Docker host's own namespace. Evidence beats inference: a rule
that blames a hop stays quiet when the container's own attempt answered.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netdiag import overlay
from netdiag.addr import is_ip
from netdiag.context import hostport, is_loopback, socket_label
from netdiag.facts import Chain, Container, Network, Socket
from netdiag.netfilter import BLOCKING, Packet, walk
from netdiag.outbound import HOST_GATEWAY_NAME, Outbound, lookup_text
from netdiag.rules import Found, rule
from netdiag.rules.forwarding import nft_blocks
from netdiag.subnets import docker_devices
from netdiag.vocab import Direction, DnsResult, Fact, Hop, NetMode, ProbeKind, ReachResult

OUT = Direction.OUTBOUND
MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
NAT_TARGETS = frozenset({"MASQUERADE", "SNAT"})
# what Docker puts in a container's resolv.conf when the host's lists only loopback resolvers
FALLBACK_RESOLVERS = frozenset({"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"})


@rule("ND713", "container-not-running", Hop.SOURCE_CONTAINER, per_port=False, direction=OUT)
def source_not_running(ctx: Outbound) -> Iterator[Found]:
    """The container the attempt starts from is not running: nothing can start from it.

    Detects: the source container is exited, created but never started, paused, restarting or dead.
    Why it breaks: a stopped container has no network namespace and no process to connect; a
    paused one cannot send.
    Evidence: its state, with the exit code or error.
    Fix: `docker start NAME` (or `docker unpause NAME`), and `docker logs NAME` for why it stopped.
    Exceptions: none.
    """
    if ctx.running:
        return
    st = ctx.source.state
    how = f"{st.status}" + (f", exit code {st.exit_code}" if st.status == "exited" else "") + \
        (f": {st.error}" if st.error else "")
    fix = f"docker unpause {ctx.source.name}" if st.paused else f"docker start {ctx.source.name}"
    yield Found(f"{ctx.source.name} is not running ({st.status}): nothing can start from it",
                [f"{ctx.source.name}: {how}"], [fix, f"docker logs {ctx.source.name}  (why it stopped)"])


@rule("ND701", "no-network", Hop.SOURCE_CONTAINER, per_port=False, direction=OUT)
def source_has_no_network(ctx: Outbound) -> Iterator[Found]:
    """The container has no network (`--network none`): nothing leaves it.

    Detects: the source container's network mode is none.
    Why it breaks: the container has only a loopback interface; there is no route out of it.
    Evidence: the container's network mode.
    Fix: `docker network connect bridge NAME` (or run it with `--network bridge` or a user network).
    Exceptions: its own loopback (127.0.0.1), the one destination it has.
    """
    if ctx.source.mode != NetMode.NONE or ctx.answered() or ctx.to_itself():
        return
    yield Found(f"{ctx.source.name} has no network: nothing leaves it",
                [f"{ctx.source.name}: network mode none"],
                [f"docker network connect bridge {ctx.source.name}"])


@rule("ND712", "wrong-address", Hop.SOURCE_CONTAINER, per_port=False, uses=(Fact.LISTENERS,), direction=OUT,
      holds_when_answered=True)
def loopback_is_the_container(ctx: Outbound) -> Iterator[Found]:
    """127.0.0.1 or localhost inside a container is the container itself, not the Docker host.

    Detects: the destination is a loopback address (127.0.0.0/8, ::1, or a name such as
    localhost that the container's /etc/hosts maps there), the container is not in the host's
    network, and the attempt was not answered.
    Why it breaks: every container has its own loopback interface; a service on the Docker host
    (a database, an API started with `npm run dev`) listens on the host's loopback, which the
    container never sees.
    Evidence: the address, and what does listen inside the container on that port (nothing,
    usually).
    Fix: reach the Docker host at its address on the container's network (the gateway, e.g.
    172.17.0.1) or as host.docker.internal with `--add-host host.docker.internal:host-gateway`,
    and make the service listen there; or run the container with `--network host`.
    Exceptions: a container in the host's network (its loopback is the host's); a service inside
    the container that answered.
    """
    if not ctx.to_itself() or ctx.answered():
        return
    port = ctx.port
    gateway = _host_gateway(ctx) if ctx.source.mode == NetMode.BRIDGE else ""
    mine = [s for s in ctx.snapshot.listeners if s.container_id == ctx.source.id]
    evidence = [f"{ctx.where} is {ctx.source.name}'s own loopback" + (f" ({ctx.name} -> {ctx.address})"
                                                                      if ctx.name else "")]
    if mine and mine[0].outcome.ok and port:
        here = [s for s in mine[0].sockets if s.port == port and s.protocol == ctx.protocol]
        evidence.append(f"inside {ctx.source.name}: " + (", ".join(socket_label(s) for s in here) if here else
                                                        f"nothing listens on {port}/{ctx.protocol}"))
    where = f"{gateway}:{port}" if gateway and port else "the Docker host's address on the container's network"
    yield Found(f"{ctx.address} inside {ctx.source.name} is {ctx.source.name} itself, not the Docker host",
                evidence,
                [f"use {where} (the Docker host on the bridge), or host.docker.internal:{port or 'PORT'} with "
                 "docker run --add-host host.docker.internal:host-gateway",
                 "and make the service on the host listen on that address (not only 127.0.0.1)",
                 "or run the container with --network host"])


@rule("ND702", "internal-network", Hop.NETWORK, per_port=False, needs=(Fact.NETWORKS,), direction=OUT)
def source_only_internal(ctx: Outbound) -> Iterator[Found]:
    """The container's only networks are `--internal`: they have no way out of the Docker host.

    Detects: every network of the source container is internal, and the destination is not on
    one of them.
    Why it breaks: Docker gives an internal network no gateway out: no route, no NAT, and
    firewall rules that drop what tries to leave it.
    Evidence: each network with its subnet, marked internal.
    Fix: connect the container to a network that may leave (`docker network connect bridge
    NAME`), or create the network without `--internal`.
    Exceptions: destinations on the internal network itself (other containers there).
    """
    nets = ctx.networks()
    if ctx.source.mode != NetMode.BRIDGE or not nets or not all(n.internal for n in nets) or ctx.answered() or \
            ctx.to_itself():
        return
    inside = ctx.docker_network_of(ctx.address) if ctx.address else None
    if inside is not None and any(inside.id == n.id for n in nets):
        return
    yield Found(f"{ctx.source.name} is only on internal networks: nothing leaves them",
                [f"network {n.name} ({', '.join(n.subnets)}): internal" for n in nets],
                [f"docker network connect bridge {ctx.source.name}",
                 "or create the network without --internal"])


def _loopback_resolvers(ctx: Outbound) -> list[str]:
    v = ctx.view
    if v is None:
        return []
    out = []
    for s in v.nameservers:
        try:
            if ipaddress.ip_address(s).is_loopback and s != "127.0.0.11":
                out.append(s)
        except ValueError:
            continue
    return out


def _host_gateway(ctx: Outbound) -> str:
    """The address `host-gateway` maps to: the default bridge's gateway (docker0)."""
    for n in ctx.snapshot.networks:
        if n.name == "bridge" and n.gateways:
            return n.gateways[0]
    gws = sorted(ctx.gateways())
    return gws[0] if gws else ""


@rule("ND703", "dns-failure", Hop.NAME_RESOLUTION, per_port=False, needs=(Fact.LOOKUP,),
      uses=(Fact.SOURCE_VIEW,), direction=OUT)
def dns_failure(ctx: Outbound) -> Iterator[Found]:
    """The name does not resolve inside the container.

    Detects: the destination is a name that is not in the container's /etc/hosts and that no
    resolver of its resolv.conf answered with an address; netdiag asks each of them itself from
    inside the container's namespace, and the upstreams behind Docker's embedded DNS (127.0.0.11)
    separately. Why, when the facts say: a loopback resolver (127.0.0.53 copied from a host
    running systemd-resolved, or given with --dns), which inside the container is the container
    itself; `host.docker.internal` on a Linux engine, which defines it only when asked to; an
    upstream the container cannot reach; Docker's fallback public resolvers (8.8.8.8, 8.8.4.4,
    used when the host's resolv.conf lists only loopback ones) where the network blocks them; a
    resolver that says the name does not exist.
    Why it breaks: without an address nothing is sent at all; applications report "could not
    resolve host" or "temporary failure in name resolution".
    Evidence: the resolvers of resolv.conf, what each answered (address, NXDOMAIN, refused,
    timeout, nothing listening), and the upstreams asked directly.
    Fix: for a loopback resolver, `--dns` with a server the container can reach (or "dns" in
    /etc/docker/daemon.json); for host.docker.internal, `--add-host
    host.docker.internal:host-gateway` (with the address it maps to); for an unreachable upstream,
    `--dns` with one that answers; for a name that does not exist, the right name or the
    resolver that knows it (split DNS of a VPN).
    Exceptions: names found in /etc/hosts (--add-host, links); a destination given as an address;
    the name of a Swarm service whose tasks run on nodes this node's gossip does not reach
    (swarm-ports-blocked says why); a source left in another container's old network namespace,
    which reaches no resolver at all (stale-network-namespace says why).
    """
    if not ctx.name or ctx.in_hosts_file() or overlay.unseen_task_nodes(ctx) or ctx.left_behind():
        return
    asked = ctx.lookups(upstream=False)
    if any(lk.outcome.ok and lk.addresses for lk in asked):
        return
    v = ctx.view
    evidence = []
    if v is not None and v.outcome.ok:
        evidence.append(f"{ctx.source.name}'s resolv.conf: nameserver {', '.join(v.nameservers) or 'none'}")
    evidence += [lookup_text(lk) for lk in asked]
    evidence += [lookup_text(lk) for lk in ctx.lookups(upstream=True)]
    name = ctx.name
    loopback = _loopback_resolvers(ctx)
    if name.rstrip(".").lower() == HOST_GATEWAY_NAME and ctx.engine.operating_system.lower() not in ("docker desktop",):
        gateway = _host_gateway(ctx)
        yield Found(f"{name} is not defined in {ctx.source.name}: a Linux engine adds it only when asked",
                    evidence + [f"{ctx.source.name}'s /etc/hosts has no {name}"],
                    [f"docker run --add-host {HOST_GATEWAY_NAME}:host-gateway ...  (maps it to {gateway or 'the '}"
                     f"{'' if gateway else 'bridge gateway'}, the Docker host on the default bridge)",
                     f"in Compose: extra_hosts: [\"{HOST_GATEWAY_NAME}:host-gateway\"]"])
        return
    if loopback and v is not None and all(s in loopback for s in v.nameservers):
        yield Found(f"{ctx.source.name}'s resolver {loopback[0]} is a loopback address: inside the container "
                    "that is the container itself, where no DNS server runs",
                    evidence,
                    [f"docker run --dns <a DNS server the container can reach> ...  (not {loopback[0]})",
                     "or set \"dns\": [\"<server>\"] in /etc/docker/daemon.json; a host running systemd-resolved "
                     "has its real servers in /run/systemd/resolve/resolv.conf"])
        return
    upstream = ctx.lookups(upstream=True)
    dead = [lk for lk in upstream if lk.outcome.ok and lk.result in (DnsResult.TIMEOUT, DnsResult.UNREACHABLE)]
    if ctx.uses_embedded_dns() and dead and len(dead) == len(upstream):
        servers = ", ".join(lk.server for lk in dead)
        yield Found(f"Docker's embedded DNS forwards {name} to {servers}, which does not answer from "
                    f"{ctx.source.name}", evidence,
                    [f"docker run --dns <a DNS server that answers> ...  (instead of {servers})",
                     f"or make {servers} reachable from the container's network: netdiag why-unreachable "
                     f"{dead[0].server}:53 --from container:{ctx.source.name} shows that path"])
        return
    said = {lk.result for lk in asked if lk.outcome.ok}
    if DnsResult.NXDOMAIN in said or DnsResult.NODATA in said:
        servers = ", ".join(lk.server for lk in asked if lk.result in (DnsResult.NXDOMAIN, DnsResult.NODATA))
        yield Found(f"{name} does not resolve in {ctx.source.name}: its resolver {servers} says it has no address",
                    evidence,
                    [f"check the name {name}",
                     "if only the host's resolver knows it (a VPN's split DNS), give the container that resolver: "
                     "docker run --dns <that server> ..."])
        return
    if said and said <= {DnsResult.TIMEOUT, DnsResult.UNREACHABLE, DnsResult.REFUSED, DnsResult.SERVFAIL}:
        servers = ", ".join(lk.server for lk in asked if lk.outcome.ok)
        first = next(lk.server for lk in asked if lk.outcome.ok)
        fixes = [f"docker run --dns <a DNS server that answers> ...  (instead of {servers})",
                 f"netdiag why-unreachable {first}:53 --from container:{ctx.source.name} shows the path to it"]
        used = set(v.nameservers) if v is not None else set()
        if used and used <= FALLBACK_RESOLVERS:
            evidence.append(f"{', '.join(sorted(used))}: Docker's fallback public resolvers, used when the Docker "
                            "host's resolv.conf lists only loopback ones (systemd-resolved's 127.0.0.53)")
            fixes.insert(0, '"dns": ["<your network\'s DNS server>"] in /etc/docker/daemon.json, then restart '
                            "dockerd (the servers in /run/systemd/resolve/resolv.conf on the Docker host)")
        yield Found(f"no resolver of {ctx.source.name} answers for {name} ({servers})", evidence, fixes)


@rule("ND704", "ip-forwarding-disabled", Hop.FORWARDING, per_port=False, needs=(Fact.FORWARDING,), direction=OUT)
def outbound_forwarding_off(ctx: Outbound) -> Iterator[Found]:
    """IP forwarding is off on the Docker host, so nothing a container sends leaves the host.

    Detects: net.ipv4.ip_forward = 0 on the Docker host, for a destination beyond it (not the host
    itself, not a Docker network), and the container's attempt did not answer.
    Why it breaks: a container's packets arrive on a bridge and must be forwarded to the host's
    uplink; with forwarding off the kernel drops them.
    Evidence: the sysctl's value and the container's attempt.
    Fix: `sysctl -w net.ipv4.ip_forward=1`, and keep it in /etc/sysctl.d/99-docker.conf.
    Exceptions: the Docker host itself as the destination (no forwarding involved); a rootless
    engine, whose containers leave through a user-space network stack; an attempt that answered.
    """
    fw = ctx.snapshot.firewall
    if fw is None or fw.ip_forward is not False or not ctx.leaves_docker() or ctx.answered() or ctx.engine.rootless:
        return
    r = ctx.from_source()
    yield Found(f"IP forwarding is off on the Docker host: nothing from {ctx.source.name} leaves it",
                ["net.ipv4.ip_forward = 0 on the Docker host",
                 f"from {ctx.source.name} to {ctx.where}: {r.result}" if r is not None and r.outcome.ok else
                 f"{ctx.where} is beyond the Docker host (route out: {_out_device(ctx) or 'not known'})"],
                ["sysctl -w net.ipv4.ip_forward=1",
                 "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-docker.conf  (keeps it after a reboot)"])


def _out_device(ctx: Outbound) -> str | None:
    return ctx.out_device()


def _packet(ctx: Outbound) -> tuple[Packet, Network | None]:
    net = ctx.leaving_network()
    return Packet(str(ctx.protocol), ctx.address, ctx.port or 0, source=ctx.source_address(net) or None,
                  in_interface=net.bridge if net is not None and net.bridge else None,
                  out_interface=_out_device(ctx)), net


@rule("ND705", "firewall-blocks", Hop.FORWARDING, per_port=False, needs=(Fact.FORWARDING, Fact.FIREWALL_RULES),
      direction=OUT)
def outbound_firewall_blocks(ctx: Outbound) -> Iterator[Found]:
    """iptables on the Docker host drop the container's traffic out, or the replies coming back.

    Detects: a DROP or REJECT rule in the filter table that certainly matches the container's new
    connection to the destination (FORWARD, with DOCKER-USER and the chains it jumps to), or the
    destination's reply to it (a DOCKER-USER rule written without a conntrack exception eats the
    replies of outbound connections); for the Docker host itself as destination, the INPUT chain;
    and a base chain of another nftables table (firewalld's, /etc/nftables.conf's) on the same
    hook that drops it, by a rule or by its policy.
    Why it breaks: everything a container sends out crosses the host's FORWARD chain (or INPUT,
    to the host itself), and so do the replies.
    Evidence: the chain, the rule's position and text, and the packet it matched.
    Fix: delete or narrow the rule; keep replies flowing with `iptables -I DOCKER-USER -m
    conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`; for INPUT, allow the bridge's traffic to
    the port.
    Exceptions: rules whose match depends on what netdiag cannot know; an attempt that answered.
    """
    fw = ctx.snapshot.firewall
    if fw is None or ctx.answered() or not is_ip(ctx.address) or ctx.engine.rootless:
        return
    chains = {c.name: c for c in fw.chains if c.table == "filter"}
    p, net = _packet(ctx)
    if p.source is None:
        return
    if ctx.to_docker_host():
        d = walk(chains, "INPUT", p)
        policy = chains["INPUT"].policy if "INPUT" in chains else ""
        if d.certain and (d.target in BLOCKING or d.target == "" and policy == "DROP"):
            where = f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}" if d.rule else \
                "filter/INPUT policy: DROP, and no rule accepts it"
            yield Found(f"the Docker host's INPUT chain drops {ctx.source.name}'s traffic to {ctx.where}",
                        [where, f"the packet: {p.source} -> {ctx.address}:{ctx.port}/{ctx.protocol} "
                                f"in on {p.in_interface}"],
                        [f"iptables -I INPUT -i {p.in_interface or '<bridge>'} -p {ctx.protocol} --dport {ctx.port} "
                         "-j ACCEPT"])
            return
        found = nft_blocks(fw, "input", p, f"{ctx.source.name}'s traffic to {ctx.where}", p.in_interface or "")
        if found is not None:
            yield found
        return
    if not ctx.leaves_docker():
        return
    out = walk(chains, "FORWARD", p)
    reply = Packet(str(ctx.protocol), p.source, None, source=ctx.address, in_interface=p.out_interface,
                   out_interface=p.in_interface, ctstate="ESTABLISHED")
    back = walk(chains, "FORWARD", reply)
    packet_text = f"{p.source} -> {ctx.address}:{ctx.port or ''}/{ctx.protocol}, in on {p.in_interface}, out on " \
        f"{p.out_interface}"
    for d, what in ((out, "the container's traffic to"), (back, "the replies from")):
        forward = chains.get("FORWARD")
        if d.certain and d.target in BLOCKING and d.rule is not None:
            yield Found(f"a {d.chain} rule drops {what} {ctx.where}",
                        [f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}",
                         f"the connection: {packet_text}"],
                        [f"iptables -D {d.chain} {d.rule.text}",
                         "or let replies through first: iptables -I DOCKER-USER -m conntrack --ctstate "
                         "RELATED,ESTABLISHED -j ACCEPT" if d is back else
                         f"or narrow it so that {p.source} may reach {ctx.address}"])
            return
        if d.certain and d.target == "" and forward is not None and forward.policy == "DROP" and d is out:
            yield Found(f"the FORWARD chain drops {what} {ctx.where}: no rule accepts it and the policy is DROP",
                        ["filter/FORWARD policy: DROP", f"the connection: {packet_text}",
                         f"filter/FORWARD has {len(forward.rules)} rules; none accepts traffic leaving "
                         f"{p.in_interface}"],
                        ["systemctl restart docker  (Docker recreates the rule that lets its networks out)",
                         f"or: iptables -I FORWARD -i {p.in_interface} ! -o {p.in_interface} -j ACCEPT"])
            return
    for packet, what in ((p, f"{ctx.source.name}'s traffic to"), (reply, "the replies from")):
        found = nft_blocks(fw, "forward", packet, f"{what} {ctx.where}", p.in_interface or "")
        if found is not None:
            yield found
            return


def _nat_decision(chains: dict[str, Chain], p: Packet) -> tuple[bool | None, str]:
    """(whether POSTROUTING rewrites the source, the rule that decides or ""): None when a rule
    whose match netdiag cannot evaluate stands in the way."""
    if "POSTROUTING" not in chains:
        return False, ""
    d = walk(chains, "POSTROUTING", p, terminal=NAT_TARGETS | {"ACCEPT", "RETURN"})
    text = f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}" if d.rule else ""
    if not d.certain:
        return None, text
    return d.target in NAT_TARGETS, text


@rule("ND706", "no-masquerade", Hop.SOURCE_NAT, per_port=False, needs=(Fact.FIREWALL_RULES,), direction=OUT)
def no_masquerade(ctx: Outbound) -> Iterator[Found]:
    """The container's traffic leaves the Docker host without source NAT, so the replies never come back.

    Detects: for a destination beyond the Docker host, no MASQUERADE or SNAT rule of the nat
    table's POSTROUTING chain covers the container's address leaving through the host's route
    out; with the network option `enable_ip_masquerade=false`, a daemon started with iptables
    off, or Docker's nat rules flushed by a firewall reload.
    Why it breaks: the packets leave with the container's private address (172.17.0.2) as their
    source; the destination answers to an address only the Docker host knows, and nothing on the
    way routes it back.
    Evidence: the container's address and network, the route out, the network's masquerade
    option, and what POSTROUTING holds.
    Fix: recreate the network without `-o com.docker.network.bridge.enable_ip_masquerade=false`;
    or `iptables -t nat -A POSTROUTING -s SUBNET ! -o BRIDGE -j MASQUERADE`; or restart dockerd
    after a firewall reload; or, on purpose, a route back to the subnet via the Docker host on
    the LAN's router.
    Exceptions: networks whose subnet the LAN routes back to the Docker host (routed setups): an
    attempt that answered proves it, and the rule stays quiet; the Docker host as destination.
    """
    fw = ctx.snapshot.firewall
    if fw is None or ctx.answered() or not ctx.leaves_docker() or ctx.engine.rootless:
        return
    p, net = _packet(ctx)
    if p.source is None or net is None or p.out_interface is None or p.out_interface in docker_devices(
            ctx.snapshot.networks):
        return
    chains = {c.name: c for c in fw.chains if c.table == "nat"}
    rewritten, decided_by = _nat_decision(chains, p)
    if rewritten is not False:
        return
    subnet = next((s for s in net.subnets if "." in s), "")
    evidence = [f"{ctx.source.name} leaves as {p.source} (network {net.name}, {subnet}) through {p.out_interface}"]
    option = net.options.get(MASQUERADE_OPTION, "")
    if option.lower() == "false":
        evidence.append(f"network {net.name}: {MASQUERADE_OPTION}=false")
    if ctx.engine.iptables is False:
        evidence.append("dockerd: iptables = false (Docker writes no NAT rules)")
    rules = chains.get("POSTROUTING")
    evidence.append(decided_by or (f"nat/POSTROUTING ({len(rules.rules)} rules): none rewrites {p.source} leaving "
                                   f"through {p.out_interface}" if rules else "no nat/POSTROUTING chain"))
    r = ctx.from_source()
    if r is not None and r.outcome.ok:
        evidence.append(f"from {ctx.source.name} to {ctx.where}: {r.result}")
    fixes = []
    if option.lower() == "false":
        fixes.append(f"recreate network {net.name} without -o {MASQUERADE_OPTION}=false")
    fixes.append(f"iptables -t nat -A POSTROUTING -s {subnet} ! -o {net.bridge or '<bridge>'} -j MASQUERADE")
    if option.lower() != "false" and ctx.engine.iptables is not False:
        fixes.append("or systemctl restart docker  (recreates Docker's NAT rules after a firewall reload)")
    fixes.append(f"or route {subnet} back to the Docker host on the destination's network")
    yield Found(f"{ctx.source.name}'s traffic leaves the Docker host as {p.source}, without source NAT: "
                f"the replies from {ctx.address} cannot find their way back", evidence, fixes)


@rule("ND707", "subnet-overlap", Hop.ROUTE_OUT, per_port=False, needs=(Fact.NETWORKS,),
      uses=(Fact.CLIENT_ROUTES,), direction=OUT)
def destination_inside_docker_network(ctx: Outbound) -> Iterator[Found]:
    """A Docker network's subnet holds the destination, so its traffic never leaves the Docker host.

    Detects: the destination address (a LAN, VPN or internet address, not a container's) lies
    inside the subnet of one of the container's own networks, where the container looks for it
    on the bridge, or of another Docker network, whose bridge route on the Docker host swallows it.
    Why it breaks: a Docker network created on a range the LAN or a VPN also uses makes that range
    local: traffic to it goes into a bridge instead of out to the real destination.
    Evidence: the destination, the network and subnet that hold it, and the route chosen.
    Fix: recreate that network on a free range (`docker network create --subnet ...`), and keep
    Docker away from the LAN's ranges with `default-address-pools` in /etc/docker/daemon.json.
    Exceptions: the address of a container on that network (container to container), of a
    task or container on another node of a Swarm overlay, or a service's virtual IP; a gateway of a Docker network (the
    Docker host itself); an attempt that answered.
    """
    if not is_ip(ctx.address) or ctx.to_docker_host() or ctx.answered():
        return
    net = ctx.docker_network_of(ctx.address)
    if net is None or net.internal:
        return
    if any(ep.ipv4 == ctx.address for c in ctx.snapshot.containers for ep in c.endpoints) or \
            any(ep.address == ctx.address for ep in net.overlay_endpoints) or ctx.address in net.vips.values():
        return
    subnet = next((s for s in net.subnets if "." in s), "")
    own = any(n.id == net.id for n in ctx.networks())
    r = ctx.host_route()
    evidence = [f"{ctx.address} is inside network {net.name}'s subnet {subnet}"]
    if own:
        evidence.append(f"{ctx.source.name} is on {net.name}: it looks for {ctx.address} on its own bridge")
    elif r is not None:
        evidence.append(f"the Docker host's route to {ctx.address}: {r.destination} dev {r.device}")
    evidence.append(f"no container on {net.name} has {ctx.address}")
    yield Found(f"Docker network {net.name} ({subnet}) holds {ctx.address}: the traffic stays inside the Docker host",
                evidence,
                [f"recreate {net.name} on a range that does not hold {ctx.address}: docker network create --subnet "
                 "<free range> ...",
                 'keep Docker off the LAN/VPN ranges: "default-address-pools" in /etc/docker/daemon.json'])


NO_ROUTE_KINDS = ("unreachable", "prohibit", "blackhole")


@rule("ND711", "no-route-out", Hop.ROUTE_OUT, per_port=False, needs=(Fact.KERNEL_ROUTE,), direction=OUT)
def no_route_out(ctx: Outbound) -> Iterator[Found]:
    """The Docker host's kernel will not route the container's packets to the destination.

    Detects: asked the way a forwarded packet is routed (`ip route get DEST from CONTAINER-IP iif
    BRIDGE`: policy rules and all), the kernel answers with an error or an unreachable,
    prohibit or blackhole route, and the container's attempt did not answer.
    Why it breaks: policy routing decides by source address: a VPN's kill switch or a rule that
    sends the Docker subnets to a table without the destination drops the containers' traffic,
    while the host's own traffic, from another source, still gets out.
    Evidence: the kernel's answer for the forwarded packet, and what the Docker host's own attempt
    got.
    Fix: find the rule with `ip rule` (and the table with `ip route show table N`); let the Docker
    subnet use the main table first (`ip rule add from SUBNET lookup main priority N`, before the
    rule that catches it) or give that table a route to the destination.
    Exceptions: the Docker host itself as destination; an attempt that answered; forwarding off
    (the kernel then routes no forwarded packet: ip-forwarding-disabled is the cause).
    """
    k = ctx.kernel_route(on_host=True)
    if k is None or not k.source or ctx.to_itself() or ctx.answered() or not (k.error or k.kind in NO_ROUTE_KINDS):
        return
    fw = ctx.snapshot.firewall
    if fw is not None and fw.ip_forward is False:
        return  # the kernel then routes no forwarded packet at all: ip-forwarding-disabled says why
    net = ctx.leaving_network()
    subnet = next((s for s in net.subnets if "." in s), "") if net is not None else ""
    said = k.error or f"a {k.kind} route" + (f" in table {k.table}" if k.table else "")
    evidence = [f"the Docker host's kernel, for a packet from {k.source} in on {k.in_interface} to {ctx.address}: "
                f"{said}"]
    host = ctx.from_host()
    if host is not None and host.outcome.ok:
        evidence.append(f"the Docker host's own attempt to {ctx.where}: {host.result}")
    yield Found(f"the Docker host does not route {ctx.source.name}'s packets to {ctx.address}: {said}", evidence,
                [f"ip rule; ip route show table all | grep {ctx.address.rsplit('.', 1)[0]}  (find the rule and table "
                 f"that catch {subnet or 'the container subnet'})",
                 f"ip rule add from {subnet or '<container subnet>'} lookup main priority <before that rule>  "
                 "(or give that table a route to the destination)"])


@rule("ND710", "mtu-blackhole", Hop.ROUTE_OUT, per_port=False, needs=(Fact.PATH_MTU,), direction=OUT,
      holds_when_answered=True)
def mtu_blackhole(ctx: Outbound) -> Iterator[Found]:
    """Small packets pass and large ones vanish: a link on the way has a smaller MTU, and the
    "fragmentation needed" errors that would tell the container so never come back.

    Detects: the destination answers small packets from inside the container, and either a
    don't-fragment echo as large as the container's interface MTU goes unanswered while a smaller
    one comes back, with no ICMP "fragmentation needed" from any router; or a download (GET /)
    stalls after its first bytes.
    Why it breaks: TCP sends segments as large as the container's MTU (1500 on Docker's
    networks); a tunnel, PPPoE or VPN link on the way carries less, drops them and should say
    so with ICMP; a firewall that drops that ICMP leaves connections that open, send a request,
    and hang on the first full-sized answer.
    Evidence: the sizes that came back and those that did not, the interface MTU, the absence of
    fragmentation-needed, and how much of the download arrived.
    Fix: set the Docker network's MTU to what passes (`docker network create -o
    com.docker.network.driver.mtu=N`, or "mtu": N in /etc/docker/daemon.json for the default
    bridge), or clamp TCP's MSS on the Docker host (`iptables -t mangle -A FORWARD -p tcp
    --tcp-flags SYN,RST SYN -j TCPMSS --set-mss N-40`); better, let the ICMP through.
    Exceptions: destinations that answer no echo at all and serve nothing over HTTP (nothing to
    measure with); a router that does send fragmentation-needed (path MTU discovery works).
    """
    m = ctx.path_mtu()
    if m is None or not m.outcome.ok or m.frag_needed_from:
        return
    lost = [s for s in m.sizes if s not in m.answered and (not m.answered or s > max(m.answered))]
    by_echo = bool(m.answered) and m.interface_mtu in lost
    stalled = m.transfer_expected is not None and m.transfer_received < m.transfer_expected and \
        "nothing more arrived" in m.transfer_detail
    if not by_echo and not stalled:
        return
    passes = max(m.answered) if m.answered else 0
    evidence = [f"{ctx.source.name}'s interface MTU: {m.interface_mtu}"]
    if m.answered:
        evidence.append(f"don't-fragment echoes to {ctx.address}: {', '.join(map(str, m.answered))} bytes came back; "
                        f"{', '.join(map(str, lost))} did not")
        evidence.append("no router sent ICMP fragmentation-needed")
    if stalled:
        evidence.append(m.transfer_detail)
    r = ctx.from_source()
    if r is not None and r.outcome.ok:
        evidence.insert(0, f"small packets pass: {ctx.where} {r.result}")
    mtu = passes or 1400
    net = ctx.leaving_network()
    fixes = [f"docker network create -o com.docker.network.driver.mtu={mtu} ...  (and recreate "
             f"{net.name if net is not None else 'the network'} with it)" if net is None or net.name != "bridge" else
             f'"mtu": {mtu} in /etc/docker/daemon.json, then restart dockerd (the default bridge)',
             f"or clamp TCP's MSS on the Docker host: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
             f"-j TCPMSS --set-mss {mtu - 40}",
             "and let ICMP fragmentation-needed through wherever it is dropped"]
    yield Found(f"large packets from {ctx.source.name} to {ctx.address} vanish: the path carries "
                f"{passes or 'less than ' + str(m.interface_mtu)} bytes, the container sends {m.interface_mtu}, and "
                "no router says so", evidence, fixes)


def _host_listeners(ctx: Outbound) -> list[Socket]:
    holders = ctx.snapshot.port_holders
    if holders is None or ctx.port is None:
        return []
    return [s for s in holders.sockets if s.port == ctx.port and s.protocol == ctx.protocol]


def _loopback_only(ctx: Outbound) -> list[Socket]:
    socks = _host_listeners(ctx)
    return socks if socks and all(s.loopback_only for s in socks) else []


@rule("ND708", "host-service-on-loopback", Hop.DESTINATION, per_port=False, needs=(Fact.PORT_HOLDERS,),
      direction=OUT)
def host_service_on_loopback(ctx: Outbound) -> Iterator[Found]:
    """The service on the Docker host listens on 127.0.0.1 only, which containers never reach.

    Detects: the destination is the Docker host itself (a gateway of the container's networks,
    host.docker.internal mapped to host-gateway, or one of the host's addresses), and every
    socket listening on the port on the host is bound to 127.0.0.1 or ::1.
    Why it breaks: inside a container 127.0.0.1 is the container; traffic to the host arrives on
    the bridge's address, where nothing listens.
    Evidence: the destination and why it is the Docker host, and the host's sockets on the port.
    Fix: bind the service to the bridge's gateway address (e.g. 172.17.0.1) or to 0.0.0.0 with a
    firewall rule keeping others out; or run the service in a container on the same network.
    When the port is a container's, published on 127.0.0.1 only (`-p 127.0.0.1:8080:80`), the
    fix is that container itself: its address or name on a network the source shares (connecting
    one), or publishing on the gateway's address too.
    Exceptions: services that also listen on a wildcard or the gateway address; an attempt that
    answered.
    """
    if not ctx.to_docker_host() or ctx.answered():
        return
    socks = _loopback_only(ctx)
    if not socks:
        return
    gateway = ctx.address if ctx.address in ctx.gateways() else _host_gateway(ctx)
    publisher = next(((c, b) for c in ctx.snapshot.containers if c.id != ctx.source.id for b in c.published
                      if b.host_port == ctx.port and b.protocol == ctx.protocol and is_loopback(b.host_ip)), None)
    if publisher is not None:
        c, b = publisher
        way = _straight_to(ctx.source, c, b.container_port)
        yield Found(f"{ctx.where} is {c.name}'s port {b.container_port}, published on {b.host_ip} of the Docker host "
                    f"only: {ctx.source.name} finds nothing there",
                    [f"{ctx.where} is the Docker host" + (f" ({ctx.name} -> {ctx.address})" if ctx.name else ""),
                     f"{c.name} publishes {b.container_port}/{b.protocol} on {hostport(b.host_ip, b.host_port)} only",
                     "on the Docker host: " + ", ".join(socket_label(s) for s in socks)],
                    [way, f"or publish it on the gateway too: docker run -p {gateway or '<the gateway>'}:"
                          f"{b.host_port}:{b.container_port} ...  (beside -p {b.host_ip}:{b.host_port}:"
                          f"{b.container_port})"])
        return
    yield Found(f"the service on the Docker host listens on loopback only: {ctx.where} from {ctx.source.name} "
                "finds nothing there",
                [f"{ctx.where} is the Docker host" + (f" ({ctx.name} -> {ctx.address})" if ctx.name else ""),
                 "on the Docker host: " + ", ".join(socket_label(s) for s in socks)],
                [f"make the service listen on {gateway or 'the bridge gateway'}:{ctx.port} (or 0.0.0.0:{ctx.port} "
                 "with a firewall rule keeping other machines out)",
                 "or run it in a container on the same network and use its name"])


def _straight_to(source: Container, c: Container, port: int) -> str:
    """How `source` reaches container `c`'s port without the Docker host: by name on a
    user-defined network they share, by address on the default bridge, else after connecting."""
    mine = {e.network for e in source.endpoints}
    shared = [e for e in c.endpoints if e.ipv4 and e.network in mine]
    by_name = [e for e in shared if e.network != "bridge"]
    if by_name:
        return f"use {c.name}:{port} (on {by_name[0].network}, which {source.name} shares)"
    if shared:
        return f"use {shared[0].ipv4}:{port} (on {shared[0].network}, which {source.name} shares)"
    user = [e.network for e in c.endpoints if e.network != "bridge"]
    if user:
        return f"docker network connect {user[0]} {source.name}, then use {c.name}:{port}"
    return f"put both on one network: docker network create app; docker network connect app {c.name}; " \
           f"docker network connect app {source.name}; then use {c.name}:{port}"


SAME_FAILURE = {ReachResult.REFUSED: "refused", ReachResult.TIMEOUT: "timed out",
                ReachResult.ICMP_UNREACHABLE: "unreachable", ReachResult.RESET: "reset"}


@rule("ND709", "destination-down", Hop.DESTINATION, per_port=False, needs=(Fact.HOST_ATTEMPT,), direction=OUT)
def destination_down(ctx: Outbound) -> Iterator[Found]:
    """The destination does not answer the Docker host either: the fault is beyond Docker.

    Detects: the container's attempt failed, and the very same attempt made from the Docker
    host's own namespace (no bridge, no forwarding, no NAT) failed too: refused, silent, or
    answered by a router's ICMP error.
    Why it breaks: whatever Docker does, a destination that refuses or ignores the Docker host
    refuses its containers as well: the service is down, listens elsewhere, or something beyond
    the Docker host drops the traffic.
    Evidence: what the container's attempt and the host's attempt each got back.
    Fix: start or fix the service at the destination, check its port, and its firewall; nothing
    to change in Docker.
    Exceptions: a service on the Docker host bound to loopback only (host-service-on-loopback says
    so), and the Docker host as destination when its sockets could not be read; a host attempt
    that answered: the fault is then on Docker's part of the path; UDP silence (a service may
    ignore a datagram it does not understand), where only ICMP port unreachable counts.
    """
    if not ctx.address or ctx.to_itself() or ctx.answered() or ctx.host_answered() or _loopback_only(ctx):
        return
    holders = ctx.snapshot.port_holders
    if ctx.to_docker_host() and (holders is None or not holders.outcome.ok):
        return  # the host refuses itself, too, when its service is bound to loopback: that cannot be told apart
    mine, host = ctx.from_source(), ctx.from_host()
    if host is None or not host.outcome.ok or host.result not in SAME_FAILURE:
        return
    if host.kind == ProbeKind.UDP and host.result == ReachResult.TIMEOUT:
        return  # a UDP service that ignores the datagram is silent too: silence proves nothing
    if mine is not None and mine.outcome.ok and mine.result not in SAME_FAILURE:
        return
    said = SAME_FAILURE[host.result]
    who = f" by {host.responder}" if host.result == ReachResult.ICMP_UNREACHABLE and host.responder else ""
    evidence = [f"from the Docker host: {ctx.where} {said}{who} ({host.detail})" if host.detail else
                f"from the Docker host: {ctx.where} {said}"]
    if mine is not None and mine.outcome.ok:
        evidence.insert(0, f"from {ctx.source.name}: {ctx.where} {SAME_FAILURE.get(mine.result, mine.result)}"
                        + (f" ({mine.detail})" if mine.detail else ""))
    if ctx.to_docker_host() and ctx.snapshot.port_holders is not None and ctx.snapshot.port_holders.outcome.ok:
        evidence.append(f"nothing on the Docker host listens on {ctx.port}/{ctx.protocol}")
    place = "the Docker host itself" if ctx.to_docker_host() else f"the destination {hostport(ctx.address, ctx.port)}"
    yield Found(f"{ctx.where} {said} from the Docker host as well: the fault is at {place}, not in Docker",
                evidence,
                [f"start or fix the service at {ctx.where}; check that it listens on {ctx.port or 'that address'} and "
                 "that its firewall lets the Docker host in",
                 "nothing to change in Docker: the same attempt fails without it"])
