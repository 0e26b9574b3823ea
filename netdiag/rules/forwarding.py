"""On the Docker host: IP forwarding off, and firewall rules that drop Docker's traffic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from netdiag.context import Context, docker_major, hostport, is_loopback
from netdiag.facts import Chain, Firewall, PortBinding, Snapshot
from netdiag.memo import per_snapshot
from netdiag.netfilter import BLOCKING, Decision, Packet, nft_drop, walk
from netdiag.rules import Found, rule
from netdiag.rules.addressing import reach_evidence
from netdiag.vocab import AddressKind, Direction, EngineProduct, Fact, GatewayMode, Hop, ProbeKind, ReachResult

DOCKER_CHAINS = ("DOCKER-USER", "DOCKER-FORWARD", "DOCKER-ISOLATION-STAGE-1", "DOCKER")


def _forwarded_bindings(ctx: Context) -> list[PortBinding]:
    """Published IPv4 bindings that other machines use: their traffic is forwarded to the
    container, through the IPv4 sysctls and iptables read here (an IPv6-only binding, `[::]`,
    goes through ip6tables and IPv6 forwarding, which these rules do not claim)."""
    return [b for b in ctx.published() if not is_loopback(b.host_ip) and ":" not in b.host_ip]


def _ipv6_way(ctx: Context) -> bool:
    """The traffic in question is IPv6: the port is published on [::] alone, or the attempt went
    to an IPv6 address that is not loopback (the Docker host's, from another machine)."""
    address = ctx.attempt.address
    return not _forwarded_bindings(ctx) or (":" in address and not is_loopback(address))


def _applies(ctx: Context) -> bool:
    """Published traffic that the host's kernel forwards: not with a rootless engine, whose ports a
    user-space forwarder carries into the container's namespace; not to a container with no
    address to forward to (not running, or its namespace's owner down)."""
    return ctx.port is not None and not ctx.engine.rootless and bool(_forwarded_bindings(ctx)) and bool(ctx.ipv4())


def _packet(ctx: Context, b: PortBinding) -> Packet:
    """A new connection from another machine to the binding, as FORWARD sees it after DNAT."""
    ep = next((e for e in ctx.target.endpoints if e.ipv4), None)
    net = ctx.network(ep.network) if ep else None
    return Packet(str(ctx.protocol), ep.ipv4 if ep else "", ctx.port or 0,
                  out_interface=net.bridge if net is not None and net.bridge else None,
                  orig_destination=b.host_ip if b.host_ip not in ("", "0.0.0.0", "::") else None,
                  orig_dport=b.host_port,
                  not_in_interfaces=container_side_interfaces(ctx),
                  not_from=_container_subnets(ctx.snapshot, 4))


# the bridges and veths container engines make: traffic from another machine never comes in by them
ENGINE_DEVICES = re.compile(r"^(docker\d+|br-[0-9a-f]{12}|podman\d+|cni-podman\d+|veth[0-9a-z]+)$")


def container_side_interfaces(ctx: Context) -> frozenset[str]:
    """Interfaces a packet from another machine does not come in by: loopback, the bridges of the
    engine's networks, and the engine devices of the Docker host (another engine's too: Docker's
    docker0 beside Podman's podman0)."""
    return _container_side(ctx.snapshot, ctx.local)


@per_snapshot
def _container_side(snapshot: Snapshot, local: bool) -> frozenset[str]:
    host = snapshot.client if local else snapshot.docker_host
    devices = {i.name for i in host.interfaces if ENGINE_DEVICES.match(i.name)} if host is not None else set()
    return frozenset({n.bridge for n in snapshot.networks if n.bridge} | devices | {"lo"})


@per_snapshot
def _container_subnets(snapshot: Snapshot, family: int) -> frozenset[str]:
    """The engine's subnets of one family: where a packet from another machine does not come from."""
    return frozenset(sub for n in snapshot.networks for sub in n.subnets if (":" in sub) == (family == 6))


@rule("ND501", "ip-forwarding-disabled", Hop.FORWARDING, needs=((Fact.FORWARDING, Fact.DAEMON_FORWARDING),),
      direction=Direction.FROM_HOST)
def ip_forwarding_disabled(ctx: Context) -> Iterator[Found]:
    """IP forwarding is off on the Docker host, so published ports do not reach containers from other machines.

    Detects: net.ipv4.ip_forward = 0 on the Docker host while the container publishes a port;
    or forwarding off on one interface of the path (net.ipv4.conf.IFACE.forwarding = 0): the
    container's bridge, or the interface other machines come in by.
    Why it breaks: traffic from another machine to a published port is rewritten to the
    container's IP and must be forwarded from the host's interface to the bridge; with
    forwarding off the kernel drops it (containers also lose their way out). The kernel forwards
    only what comes in on an interface whose own forwarding is on: the client's packets on the
    host's interface, the container's replies on its bridge.
    Evidence: the sysctl's value, the interface's part in the path, and the published port; with
    the daemon elsewhere and its host unread, `docker info`'s IPv4Forwarding (the daemon reads
    net.ipv4.ip_forward when asked).
    Fix: `sysctl -w net.ipv4.ip_forward=1` (or `net.ipv4.conf.IFACE.forwarding=1`), and keep it
    in /etc/sysctl.d/99-docker.conf (a network manager or hardening script may have turned it off).
    IPv6: net.ipv6.conf.all.forwarding = 0 for a port published on [::] alone to a container with
    an IPv6 address, or for an attempt at the Docker host's IPv6 address from another machine
    (`sysctl -w net.ipv6.conf.all.forwarding=1`); IPv4's sysctls are never blamed for IPv6 traffic.
    Exceptions: the Docker host itself still reaches the port through docker-proxy; a rootless
    engine, whose ports a user-space forwarder carries (the host's forwarding does not apply);
    a client elsewhere whose attempt was answered (its traffic was forwarded); interfaces off the
    path (another uplink the client does not use).
    """
    fw = ctx.snapshot.firewall
    read = fw is not None and fw.outcome.ok
    v6 = ipv6_forwarded(ctx) if ctx.port is not None and not ctx.engine.rootless else None
    if _ipv6_way(ctx):  # IPv6 traffic: never judged by the IPv4 sysctls
        if v6 is None or fw is None or not read or fw.ipv6_forward is not False:
            return
        if not ctx.local and ctx.answered(ctx.attempt.address or ctx.public_address(v6[0]), v6[0].host_port or 0):
            return
        yield Found(f"IPv6 forwarding is off on the Docker host: other machines cannot reach [::]:{v6[0].host_port}",
                    ["net.ipv6.conf.all.forwarding = 0 on the Docker host",
                     f"{v6[0].container_port}/{v6[0].protocol} is published on [::]:{v6[0].host_port}, and the "
                     f"container's IPv6 address {v6[1]} is where that traffic is forwarded"],
                    ["sysctl -w net.ipv6.conf.all.forwarding=1",
                     "echo 'net.ipv6.conf.all.forwarding = 1' > /etc/sysctl.d/99-docker.conf  (keeps it after a "
                     "reboot)"])
        return
    if not _applies(ctx):
        return
    b = _forwarded_bindings(ctx)[0]
    target = forwarded_target(ctx, b)
    if not ctx.local and b.host_port and ctx.answered(ctx.public_address(b), b.host_port):
        return  # the client's own traffic was forwarded: whatever the sysctls say, they let it through
    published = (f"{b.container_port}/{b.protocol} is published on {hostport(b.host_ip or '0.0.0.0', b.host_port)}: "
                 "traffic to it is forwarded to the container")
    if (fw.ip_forward if fw is not None and read else ctx.engine.ipv4_forwarding) is False:
        seen = "net.ipv4.ip_forward = 0 on the Docker host" if read else \
            "docker info: IPv4Forwarding false (the Docker host's net.ipv4.ip_forward, as the daemon reads it)"
        yield Found(f"IP forwarding is off on the Docker host: other machines cannot reach {target}",
                    [seen, published],
                    ["sysctl -w net.ipv4.ip_forward=1",
                     "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-docker.conf  (keeps it after a reboot)"])
        return
    if fw is None or not read:
        return
    for iface, role in _interfaces_not_forwarding(ctx, fw):
        key = f"net.ipv4.conf.{iface}.forwarding"
        yield Found(f"IP forwarding is off on {iface}, {role}: other machines cannot reach {target}",
                    [f"{key} = 0 on the Docker host (net.ipv4.ip_forward = 1)",
                     f"{iface} is {role}; the kernel forwards only what comes in on an interface whose "
                     "forwarding is on", published],
                    [f"sysctl -w {key}=1",
                     f"echo '{key} = 1' > /etc/sysctl.d/99-docker.conf  (keeps it after a reboot; a network "
                     "manager or hardening script may have turned it off)"])
        return


def _interfaces_not_forwarding(ctx: Context, fw: Firewall) -> list[tuple[str, str]]:
    """(interface, its part in the path) for the interfaces of the path whose own forwarding is
    off: the container's bridge (its replies come in there), and where other machines come in
    (from a client elsewhere, the interface holding the address it reaches the host at; on the
    Docker host itself, every interface with an address that is not Docker's)."""
    off = {name for name, on in fw.interface_forwarding.items() if not on and name not in ("all", "default", "lo")}
    if not off:
        return []
    found = []
    bridges = {n.bridge for n in ctx.networks_of(ctx.target) if n.bridge}
    found += [(name, "the container's bridge, where its replies come in") for name in sorted(bridges & off)]
    host = ctx.snapshot.client if ctx.local else ctx.snapshot.docker_host
    if host is None or not host.outcome.ok:
        return found
    docker_bridges = {n.bridge for n in ctx.snapshot.networks if n.bridge}
    for iface in host.interfaces:
        if iface.name not in off or iface.name in docker_bridges or iface.name.startswith("veth"):
            continue
        v4 = [a.split("/")[0] for a in iface.addresses if ":" not in a]
        if ctx.local and v4 and not all(is_loopback(a) for a in v4):
            found.append((iface.name, f"where machines that reach the Docker host at {v4[0]} come in"))
        elif not ctx.local and ctx.host_address in v4:
            found.append((iface.name, f"where the client comes in (it reaches the Docker host at {ctx.host_address})"))
    return found


@rule("ND502", "firewall-blocks", Hop.FORWARDING, needs=(Fact.FORWARDING, Fact.FIREWALL_RULES),
      direction=Direction.FROM_HOST)
def firewall_blocks(ctx: Context) -> Iterator[Found]:
    """iptables drop the traffic to the published port: a DOCKER-USER rule, a flushed FORWARD chain, or iptables off.

    Detects: a DROP or REJECT rule in DOCKER-USER (or a chain it jumps to) that certainly matches
    a new connection from another machine to the container's port, evaluated on the rule's
    protocol, addresses, interfaces, ports, multiport lists and conntrack matches; a FORWARD
    chain whose policy is DROP while Docker's jumps are gone (a firewall reload flushed them);
    Docker's ACCEPT rule for the port missing from its DOCKER chain (dropped by FORWARD's DROP
    policy, or by the DROP per bridge that ends that chain from Docker 28 on); a daemon started with
    iptables off and no userland proxy; a base chain of another nftables table on the forward
    hook that drops it (every base chain sees the packet: a drop in any is final).
    Why it breaks: published traffic is forwarded to the container; Docker's rules are what let
    it through the FORWARD chain, and DOCKER-USER is consulted before them.
    Evidence: the chain, the rule's position and text, the chain's policy, and which of Docker's
    chains or rules are missing; for another nftables table (firewalld's, /etc/nftables.conf's),
    its base chain on the forward hook that drops the traffic, by a rule or by its policy.
    A port published on [::] alone to a container with an IPv6 address is IPv6 traffic, and so is
    an attempt at the Docker host's IPv6 address from another machine (to a port published on
    both 0.0.0.0 and [::]): ip6tables' FORWARD chain is walked whole for it (a rule that drops it,
    or a DROP policy), then Docker's `ip6 docker-bridges`; iptables claims nothing of it. Where
    a process on the Docker host itself takes the connections, they pass its INPUT chain and are
    never forwarded: the app of a container in host network mode; a forwarder in user space for
    every published port of a rootless engine (RootlessKit, rootlessport, pasta) or of a dockerd
    with iptables off (docker-proxy), and for IPv6 to a [::] binding where Docker rewrites no
    IPv6 traffic (no DOCKER chain in ip6tables' nat table: dockerd without ip6tables, the default
    before Docker 27), which docker-proxy takes. INPUT is walked for them instead (iptables, or
    ip6tables for IPv6: a rule, or a DROP policy), then another nftables table's input chain
    (firewalld's), and the fix opens the host port there (`firewall-cmd --add-port`).
    Both iptables variants may be in use at once (iptables-legacy beside iptables-nft: a firewall
    script or ufw on one, dockerd on the other); the kernel runs both, so the other variant's
    FORWARD chain is walked whole too (a rule, or a DROP policy), Docker's rules are read in the
    variant that holds them (never called gone because the default iptables-save does not show
    them), and each fix names the command of its variant (`iptables-legacy -P FORWARD ACCEPT`).
    With Docker's nftables backend (Docker 29), its table `ip docker-bridges` is walked as Docker's
    rules, and iptables' FORWARD chain as one more base chain every packet passes: a rule there,
    or a DROP policy (left by Docker's iptables backend or the host's firewall), drops what
    Docker's rules accept.
    Fix: delete or narrow the rule (`iptables -D DOCKER-USER <the rule>`), or restore Docker's chains by
    restarting dockerd after the firewall (`systemctl restart docker`); with the nftables
    backend, never a restart for iptables: `iptables -P FORWARD ACCEPT`, or accept the bridge's
    traffic in iptables' FORWARD chain. With Podman, whose rules (iptables chains NETAVARK_*,
    or netavark's nftables table inet netavark) sit beside Docker's when both run on a host,
    FORWARD is walked whole the same way: a DROP policy that
    dockerd set drops new connections to Podman's published ports, and the fix accepts them in
    DOCKER-USER; in another nftables table,
    accept the bridge's traffic there (`nft insert rule inet filter forward oifname "docker0"
    accept`) or put the bridge in firewalld's docker zone.
    Exceptions: rules that match other ports, addresses, interfaces or protocols; a rule whose
    match depends on what netdiag cannot know (which machine the client is: an allow-list by
    source address) is not claimed; a rootless engine's published traffic, which the host's
    FORWARD chain never sees (its INPUT is walked instead).
    """
    fw = ctx.snapshot.firewall
    taken = ctx.taken_on_the_host() if fw is not None and fw.outcome.ok and ctx.port is not None else None
    if fw is not None and taken is not None:  # a process on the host takes them: INPUT, never FORWARD
        found = _input_blocks(ctx, fw, taken.address, taken.port, taken.why)
        if found is not None:
            yield found
        return
    if fw is not None and ctx.port is not None and not ctx.engine.rootless and _ipv6_way(ctx):
        found = _ipv6_blocks(ctx, fw)  # IPv6 traffic: never judged by iptables (IPv4)
        if found is not None:
            yield found
        return
    if not _applies(ctx) or fw is None:
        return
    b = _forwarded_bindings(ctx)[0]
    target = forwarded_target(ctx, b, "from other machines")
    ips = ctx.ipv4()
    restart = "systemctl restart docker  (or restart dockerd: it recreates its chains)"
    if ctx.engine.iptables is False:
        if ctx.engine.userland_proxy is False:
            yield Found(f"dockerd runs with iptables off and no userland proxy: nothing forwards {target}",
                        ["dockerd: iptables = false", "dockerd: userland-proxy = false"],
                        ['remove "iptables": false from /etc/docker/daemon.json (or --iptables=false), '
                         "then restart dockerd"])
        return
    if ctx.engine.firewall_backend.startswith("nftables") or ctx.engine.product == EngineProduct.PODMAN:
        found = _walked_whole(ctx, fw, _packet(ctx, b), target)
        if found is not None:
            yield found
        return
    v = iptables_variants(fw)
    chains = v.docker
    if "DOCKER-USER" in chains:
        d = walk(chains, "DOCKER-USER", _packet(ctx, b))
        if d.certain and d.target in BLOCKING and d.rule is not None:
            yield Found(f"a {d.chain} rule drops the traffic to {target}",
                        [f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}",
                         f"{d.chain} sees the traffic after DNAT: {', '.join(ips) or '?'}:{ctx.port}/{ctx.protocol}"],
                        [f"{v.docker_tool} -D {d.chain} {d.rule.text}",
                         f"or let this port through first: {v.docker_tool} -I DOCKER-USER -p {ctx.protocol} "
                         f"--dport {ctx.port} -j ACCEPT"])
            return
    forward = chains.get("FORWARD")
    if forward is not None and forward.policy == "DROP" and not _jumps_to_docker(forward):
        yield Found(f"the FORWARD chain drops everything and Docker's rules are gone: {target} is blocked",
                    ["filter/FORWARD policy: DROP",
                     f"filter/FORWARD has {len(forward.rules)} rules and no jump to Docker's chains "
                     "(flushed, e.g. by a firewall reload)"],
                    [restart, "and make the firewall keep Docker's chains (e.g. firewalld's docker zone)"])
        return
    docker = chains.get("DOCKER")
    accepted = _docker_accepts(ctx.snapshot)
    per_port = all(n.gateway_mode in (GatewayMode.NAT, GatewayMode.ROUTED) for n in ctx.networks_of(ctx.target))
    # Docker 28+ ends its DOCKER chain with a DROP per bridge: without the port's ACCEPT, that rule
    # drops the traffic whatever FORWARD's policy is
    walked = walk(chains, "FORWARD", _packet(ctx, b)) if forward is not None else None
    bridge_drop = walked.rule if walked is not None and walked.certain and walked.target in BLOCKING \
        and walked.chain == "DOCKER" else None
    if forward is not None and (forward.policy == "DROP" or bridge_drop) and docker is not None and ips and per_port \
            and not any((ip, str(ctx.port)) in accepted for ip in ips):
        dropped_by = f"rule {walked.position} of DOCKER drops it: -A DOCKER {bridge_drop.text}" \
            if walked is not None and bridge_drop is not None else "filter/FORWARD policy: DROP"
        yield Found(f"Docker's ACCEPT rule for {ctx.port}/{ctx.protocol} is missing: {target} is dropped in FORWARD",
                    [dropped_by,
                     f"filter/DOCKER has no ACCEPT for {', '.join(ips)}:{ctx.port} (Docker adds it when the "
                     "container starts: it was removed since)"],
                    [restart])
        return
    packet = _packet(ctx, b)
    found = _beside_blocks(v, packet, target)
    if found is None:
        found = nft_blocks(fw, "forward", packet, f"the traffic to {target}", packet.out_interface or "")
    if found is not None:
        yield found


def forwarded_target(ctx: Context, b: PortBinding, whose: str = "") -> str:
    """Where the forwarded traffic goes, as a person reads it: the Docker host's address and port.
    On the Docker host itself, whose own attempt at 127.0.0.1 never passes FORWARD: its address
    on the LAN when its interfaces were read, else the port that other machines' traffic comes to
    (`whose` says so)."""
    public = ctx.public_address(b)
    if not is_loopback(public):
        return hostport(public, b.host_port)
    lan = ctx.host_addresses()
    return hostport(lan[0], b.host_port) if lan else f"port {b.host_port}" + (f" {whose}" if whose else "")


def possessive(command: str) -> str:
    """iptables' and ip6tables', but iptables-legacy's and iptables-nft's."""
    return command + ("'" if command.endswith("s") else "'s")


DOCKER_FILTER_CHAINS = frozenset({"DOCKER", "DOCKER-USER"})
VARIANT_TOOLS = {"legacy": "iptables-legacy", "nf_tables": "iptables-nft"}


@dataclass(frozen=True)
class Variants:
    """The filter chains of the iptables variant that holds Docker's rules and of the other
    variant in use beside it (iptables-legacy beside iptables-nft, or the reverse), by name, with
    the command that edits each and its name."""

    docker: dict[str, Chain]
    beside: dict[str, Chain]
    docker_tool: str = "iptables"
    beside_tool: str = "iptables"
    docker_name: str = "iptables"
    beside_name: str = "iptables"


def iptables_variants(fw: Firewall) -> Variants:
    """Which variant holds Docker's rules: the default iptables-save's, unless Docker's chains are
    only in the other one (dockerd on iptables-legacy while the host's iptables is nft, or the
    reverse); the default variant's command is plain iptables."""
    default = {c.name: c for c in fw.chains if c.table == "filter"}
    other = {c.name: c for c in fw.other_chains if c.table == "filter"}
    mine = VARIANT_TOOLS.get(fw.iptables_variant, "iptables")
    theirs = VARIANT_TOOLS.get(fw.other_variant, "iptables")
    if not (DOCKER_FILTER_CHAINS & default.keys()) and DOCKER_FILTER_CHAINS & other.keys():
        return Variants(other, default, theirs, "iptables", theirs, mine)
    return Variants(default, other, "iptables", theirs, mine, theirs)


def _beside_blocks(v: Variants, p: Packet, target: str) -> Found | None:
    """The FORWARD chain of the iptables variant in use beside Docker's, walked whole: the kernel
    runs both variants' chains, so a rule or a DROP policy there drops what Docker's accept."""
    forward = v.beside.get("FORWARD")
    if forward is None or not (forward.rules or forward.policy == "DROP"):
        return None
    d = walk(v.beside, "FORWARD", p)
    why = (f"Docker's rules are in {v.docker_name}, this chain in {v.beside_name}: the kernel runs both, and a drop "
           "in either is final")
    one = ("and keep to one iptables: whatever wrote it (a firewall script, ufw) should use dockerd's "
           "(update-alternatives --display iptables)")
    bridge = p.out_interface or "docker0"
    if d.certain and d.target in BLOCKING and d.rule is not None:
        return Found(f"a {v.beside_name} {d.chain} rule drops the traffic to {target}",
                     [f"rule {d.position} of {d.chain} ({v.beside_name}): -A {d.chain} {d.rule.text}", why],
                     [f"{v.beside_tool} -D {d.chain} {d.rule.text}", one])
    if d.certain and d.target in ("", "RETURN") and forward.policy == "DROP":
        return Found(f"{possessive(v.beside_name)} FORWARD policy is DROP and no rule there accepts the traffic to "
                     f"{target}",
                     [f"filter/FORWARD policy ({v.beside_name}): DROP, and no rule of it accepts {p.destination}:"
                      f"{p.dport}/{p.protocol} out of {bridge}", why],
                     [f"{v.beside_tool} -P FORWARD ACCEPT  (Docker's own rules do the filtering)",
                      f"or accept Docker's traffic there: {v.beside_tool} -I FORWARD -o {bridge} -j ACCEPT; "
                      f"{v.beside_tool} -I FORWARD -i {bridge} -j ACCEPT", one])
    return None


def ipv6_forwarded(ctx: Context) -> tuple[PortBinding, str] | None:
    """(the IPv6 wildcard binding, the container's IPv6 address) when the Docker host's kernel
    forwards IPv6 traffic to the published port: the container has an IPv6 address (without one,
    docker-proxy carries [::] traffic to its IPv4 address, and nothing is forwarded)."""
    if ctx.ipv6_relayed() is not None:
        return None  # docker-proxy takes the IPv6 connections on the Docker host: nothing is forwarded
    ip6 = next((e.ipv6 for e in ctx.target.endpoints if e.ipv6), "")
    b = next((b for b in ctx.target.published if b.host_ip == "::" and b.host_port and b.container_port == ctx.port
              and b.protocol == ctx.protocol), None)  # published() leaves out [::] beside 0.0.0.0
    return (b, ip6) if b is not None and ip6 else None


def _ipv6_blocks(ctx: Context, fw: Firewall) -> Found | None:
    """ip6tables' FORWARD chain, walked whole for the IPv6 traffic to the published port: a rule
    that certainly drops it, or a DROP policy no rule overrides; then Docker's own `ip6
    docker-bridges` table (its nftables backend)."""
    found = ipv6_forwarded(ctx)
    if found is None:
        return None
    b, ip6 = found
    tried = ctx.attempt.address
    if not ctx.local and tried and ctx.answered(tried, ctx.attempt.port or b.host_port or 0):
        return None  # the client's own IPv6 traffic was forwarded: whatever the rules say, they let it through
    net = next((ctx.network(e.network) for e in ctx.target.endpoints if e.ipv6 == ip6), None)
    bridge = net.bridge if net is not None and net.bridge else ""
    p = Packet(str(ctx.protocol), ip6, ctx.port or 0, out_interface=bridge or None, orig_dport=b.host_port,
               not_in_interfaces=container_side_interfaces(ctx),
               not_from=_container_subnets(ctx.snapshot, 6))
    target = f"[::]:{b.host_port}"
    chains = {c.name: c for c in fw.chains6 if c.table == "filter"} if fw.ip6tables_outcome.ok else {}
    forward = chains.get("FORWARD")
    if forward is None:  # no ip6tables rules: with Docker's nftables backend, its ip6 table filters
        return docker_nft_blocks(fw, p, target)
    d = walk(chains, "FORWARD", p)
    if d.certain and d.target in BLOCKING and d.rule is not None:
        return Found(f"an ip6tables {d.chain} rule drops the IPv6 traffic to {target}",
                     [f"rule {d.position} of {d.chain} (ip6tables): -A {d.chain} {d.rule.text}",
                      f"{d.chain} sees it after DNAT: [{ip6}]:{ctx.port}/{ctx.protocol}"],
                     [f"ip6tables -D {d.chain} {d.rule.text}"])
    if d.certain and d.target in ("", "RETURN") and forward.policy == "DROP":
        chain = "DOCKER-USER" if "DOCKER-USER" in chains else "FORWARD"
        out = f"-o {bridge} " if bridge else ""
        return Found(f"ip6tables' FORWARD policy is DROP and no rule accepts the IPv6 traffic to {target}",
                     [f"filter/FORWARD policy (ip6tables): DROP, and no rule accepts "
                      f"[{ip6}]:{ctx.port}/{ctx.protocol}"],
                     [f"ip6tables -I {chain} {out}-d {ip6} -p {ctx.protocol} --dport {ctx.port} -j ACCEPT"])
    return docker_nft_blocks(fw, p, target)


def _input_blocks(ctx: Context, fw: Firewall, address: str, port: int, how: str) -> Found | None:
    """The Docker host's INPUT for connections a process on the host takes (a forwarder in user
    space, or the app of a container in host network mode): an iptables (ip6tables for IPv6)
    rule that certainly drops them, or a DROP policy no rule overrides, in each iptables variant
    in use; then another nftables table's base chain on the input hook (firewalld's)."""
    if ctx.answered(address, port):
        return None  # the connection came through INPUT: whatever the rules say, they let it in
    ipv6 = ":" in address
    tool = "ip6tables" if ipv6 else "iptables"
    p = Packet(str(ctx.protocol), address, port, in_interface="lo" if ctx.local else None,
               not_in_interfaces=frozenset() if ctx.local else container_side_interfaces(ctx),
               not_from=frozenset() if ctx.local else _container_subnets(ctx.snapshot, 6 if ipv6 else 4))
    target = hostport(address, port)
    read = fw.ip6tables_outcome.ok if ipv6 else fw.iptables_outcome.ok
    tables = [(tool, {c.name: c for c in (fw.chains6 if ipv6 else fw.chains) if c.table == "filter"} if read else {})]
    if not ipv6 and fw.other_chains:  # the other iptables variant in use: the kernel runs its INPUT too
        tables.append((VARIANT_TOOLS.get(fw.other_variant, "iptables"),
                       {c.name: c for c in fw.other_chains if c.table == "filter"}))
    for cmd, chains in tables:
        if "INPUT" not in chains:
            continue
        d = walk(chains, "INPUT", p)
        which = f" ({cmd})" if cmd != "iptables" else ""
        if d.certain and d.target in BLOCKING and d.rule is not None:
            return Found(f"an {cmd} {d.chain} rule drops the connections to {target}",
                         [f"rule {d.position} of {d.chain}{which}: -A {d.chain} {d.rule.text}", how],
                         [f"{cmd} -D {d.chain} {d.rule.text}",
                          f"or let this port in first: {cmd} -I INPUT -p {ctx.protocol} --dport {port} -j ACCEPT"])
        if d.certain and d.target in ("", "RETURN") and chains["INPUT"].policy == "DROP":
            return Found(f"{possessive(cmd)} INPUT policy is DROP and no rule accepts the connections to {target}",
                         [f"filter/INPUT policy ({cmd}): DROP, and no rule accepts {target}/{ctx.protocol}", how],
                         [f"{cmd} -I INPUT -p {ctx.protocol} --dport {port} -j ACCEPT"])
    hit = nft_drop(fw.nft_chains, "input", p, ipv6) if fw.nft_outcome.ok else None
    if hit is None:
        return None
    base, d = hit
    seen = f"rule {d.position} of {d.chain}: {d.rule.text}" if d.rule is not None else "no rule accepts it"
    fixes = [f"nft insert rule {base.table} {base.name} {ctx.protocol} dport {port} accept",
             "and keep it in the file that table comes from (/etc/nftables.conf)"]
    if "firewalld" in base.table:
        fixes = [f"firewall-cmd --permanent --add-port={port}/{ctx.protocol} && firewall-cmd --reload", fixes[0]]
    return Found(f"nftables table {base.table} drops the connections to {target} on the Docker host",
                 [f"table {base.table}, chain {base.name} (hook {base.hook}, priority {base.priority}, policy "
                  f"{base.policy.lower() or 'accept'}): {seen}", how], fixes)


def _walked_whole(ctx: Context, fw: Firewall, p: Packet, target: str) -> Found | None:
    """Where Docker's iptables chains are not what lets the traffic in (Docker 29's nftables
    backend, Podman): iptables' FORWARD chain walked whole, as one more base chain every forwarded
    packet passes (a rule, or its DROP policy); Docker's own nftables table (its accept for the
    published port missing); the other nftables tables."""
    bridge = p.out_interface or "docker0"
    podman = ctx.engine.product == EngineProduct.PODMAN
    netavark = "table inet netavark" if any(c.table == "inet netavark" for c in fw.nft_chains) else "NETAVARK_FORWARD"
    why = (f"Podman's own rules ({netavark}) accept replies and its containers' outgoing traffic, not new "
           "connections to a published port" + (": an accept in one nftables table is not final, every base chain "
                                                "on the hook sees the packet" if netavark != "NETAVARK_FORWARD" else "")
           if podman else
           "the engine's firewall backend is nftables: Docker writes no iptables rules, and restarting it does not "
           "add any; every forwarded packet still passes iptables' FORWARD chain")
    chains = {c.name: c for c in fw.chains if c.table == "filter"}
    forward = chains.get("FORWARD")
    if forward is not None:
        d = walk(chains, "FORWARD", p)
        if d.certain and d.target in BLOCKING and d.rule is not None:
            return Found(f"an iptables {d.chain} rule drops the traffic to {target}",
                         [f"rule {d.position} of {d.chain}: -A {d.chain} {d.rule.text}", why],
                         [f"iptables -D {d.chain} {d.rule.text}"])
        if d.certain and d.target in ("", "RETURN") and forward.policy == "DROP":
            first = f"iptables -I DOCKER-USER -o {bridge} -d {p.destination} -p {p.protocol} --dport {p.dport} " \
                    "-j ACCEPT  (Docker keeps DOCKER-USER first in FORWARD)" if "DOCKER-USER" in chains else \
                    f"iptables -I FORWARD -o {bridge} -d {p.destination} -p {p.protocol} --dport {p.dport} -j ACCEPT"
            return Found(f"iptables' FORWARD policy is DROP and no rule accepts the traffic to {target}",
                         ["filter/FORWARD policy: DROP, and no rule of FORWARD or the chains it jumps to accepts "
                          f"{p.destination}:{p.dport}/{p.protocol} out of {bridge}", why,
                          "dockerd sets that policy when it runs on the same host" if podman else
                          "a DROP policy is what Docker's iptables backend left behind, or the host's firewall set"],
                         [first] if podman else
                         ["iptables -P FORWARD ACCEPT  (Docker's nftables rules do the filtering)",
                          f"or accept Docker's traffic there: iptables -I FORWARD -o {bridge} -j ACCEPT; "
                          f"iptables -I FORWARD -i {bridge} -j ACCEPT"])
    found = docker_nft_blocks(fw, p, target)
    if found is not None:
        return found
    return nft_blocks(fw, "forward", p, f"the traffic to {target}", bridge)


def docker_nft(fw: Firewall, ipv6: bool) -> dict[str, Chain]:
    """Docker's own nftables chains for one family, by name: `ip docker-bridges`, or `ip6
    docker-bridges` for IPv6 (a packet of one family never meets the other's table)."""
    family = "ip6" if ipv6 else "ip"
    return {c.name: c for c in fw.docker_nft_chains if c.table.split(" ", 1)[0] == family}


def docker_nft_blocks(fw: Firewall, p: Packet, target: str) -> Found | None:
    """Docker's own nftables table of the packet's family drops it: the accept for the published
    port is missing from its forward chains."""
    docker = docker_nft(fw, ":" in p.destination)
    base = next((c for c in docker.values() if c.hook == "forward"), None)
    if base is None:
        return None
    d = walk(docker, base.name, p)
    if not (d.certain and d.target in BLOCKING and d.rule is not None):
        return None
    ipv6 = "IPv6 " if ":" in p.destination else ""
    where = f"[{p.destination}]" if ipv6 else p.destination
    return Found(f"Docker's own nftables rules drop the {ipv6}traffic to {target}: its accept for the published port "
                 "is missing",
                 [f"table {base.table}, chain {d.chain}: rule {d.position}: {d.rule.text}",
                  f"no rule of {d.chain} accepts {where}:{p.dport}/{p.protocol}"],
                 ["systemctl restart docker  (dockerd rewrites its nftables tables)"])


def nft_blocks(fw: Firewall, hook: str, p: Packet, what: str, bridge: str) -> Found | None:
    """An nftables base chain of another table (firewalld's, /etc/nftables.conf's) on `hook` that
    certainly drops the packet, as a finding; None when none does."""
    hit = nft_drop(fw.nft_chains, hook, p)
    if hit is None:
        return None
    base, d = hit
    how = f"rule {d.position} of {d.chain}: {d.rule.text}" if d.rule is not None else "no rule accepts it"
    bridge = bridge or "docker0"
    direction = "iifname" if hook == "input" else "oifname"
    fixes = [f'nft insert rule {base.table} {base.name} iifname "{bridge}" accept',
             f'nft insert rule {base.table} {base.name} {direction} "{bridge}" accept' if hook != "input" else
             f"or narrow it to the port: nft insert rule {base.table} {base.name} iifname \"{bridge}\" "
             f"{p.protocol} dport {p.dport} accept",
             "and keep it in the file that table comes from (/etc/nftables.conf)"]
    if "firewalld" in base.table:
        fixes = [f"firewall-cmd --permanent --zone=docker --change-interface={bridge} && firewall-cmd --reload",
                 *fixes[:2]]
    return Found(f"nftables table {base.table} drops {what}: iptables lets it through, but every base chain on the "
                 f"{hook} hook must",
                 [f"table {base.table}, chain {base.name} (hook {base.hook}, priority {base.priority}, policy "
                  f"{base.policy.lower() or 'accept'}): {how}"], fixes)


@per_snapshot
def _docker_accepts(snapshot: Snapshot) -> set[tuple[str, str]]:
    """(container address, port) of each ACCEPT rule in Docker's filter/DOCKER chain, in the
    iptables variant that holds it."""
    fw = snapshot.firewall
    docker = iptables_variants(fw).docker.get("DOCKER") if fw is not None else None
    return {(r.destination.value.split("/")[0], r.dports.value) for r in (docker.rules if docker else ())
            if r.target == "ACCEPT" and r.dports is not None and r.destination is not None}


def _jumps_to_docker(chain: Chain) -> bool:
    return any(r.target in DOCKER_CHAINS for r in chain.rules)


DROPPED = (ReachResult.TIMEOUT, ReachResult.ICMP_UNREACHABLE, ReachResult.RESET)


def _raw_drop(fw: Firewall, p: Packet) -> Decision | None:
    """The rule that certainly drops the packet before routing: iptables' raw PREROUTING, or the
    prerouting base chains of Docker's nftables table, raw priority first; None otherwise."""
    raw = {c.name: c for c in fw.chains if c.table == "raw"}
    d = walk(raw, "PREROUTING", p)
    if d.certain and d.target in BLOCKING:
        return d
    docker = docker_nft(fw, ":" in p.destination)
    for base in sorted((c for c in docker.values() if c.hook == "prerouting"), key=lambda c: c.priority):
        d = walk(docker, base.name, p)
        if d.certain and d.target in BLOCKING:
            return d
        if not d.certain:
            return None
    return None


@rule("ND504", "direct-routing-blocked", Hop.FORWARDING, needs=(Fact.FIREWALL_RULES,), direction=Direction.FROM_HOST)
def direct_routing_blocked(ctx: Context) -> Iterator[Found]:
    """The Docker host drops what other machines send straight to the container's address (Docker 28 and later).

    Detects: an attempt to the container's own address from a client that is not the Docker host
    and routes that address through it, which got no answer, while the Docker host's raw
    PREROUTING chain has Docker's DROP rule for the address (`-d 172.18.0.2/32 ! -i br-... -j
    DROP`: per published port in 28.0 and 28.1, per address from 28.2), or, with the nftables
    backend, its table's raw-PREROUTING chain (`ip daddr 172.18.0.2 iifname != "br-..." drop`).
    Why it breaks: since Docker 28 a container is reached from other machines through its
    published ports on the host's addresses only; packets addressed to the container itself are
    dropped in the raw table, before routing, unless they come in from the container's own bridge.
    Evidence: the client's route through the Docker host, the rule (table, chain, position,
    text), and what the attempt got back.
    Fix: use the published port on the Docker host's address (publish it first if it is not);
    or let direct routing in, as the engine allows: the network option
    `com.docker.network.bridge.trusted_host_interfaces=eth0` (28.2+, interfaces separated by
    colons), dockerd's `--allow-direct-routing` (28.2+), or a network whose gateway mode is
    `routed` (`-o com.docker.network.bridge.gateway_mode_ipv4=routed`).
    Exceptions: the Docker host itself, whose own packets never pass raw PREROUTING from another
    interface; an attempt that was answered; a client without a route through the Docker host
    (ip-not-routable says so); a network in routed or nat-unprotected gateway mode, or trusted
    interfaces, for which Docker writes no such rule.
    """
    a = ctx.attempt
    fw = ctx.snapshot.firewall
    if a.kind != AddressKind.CONTAINER_IP or ctx.reaches_container_ips or fw is None or not fw.iptables_outcome.ok:
        return
    port = a.port or ctx.port
    if not port or ctx.answered(a.address, port):
        return
    route, _ = ctx.client_route(a.address)
    if route is None or route.gateway != ctx.host_address:
        return
    d = _raw_drop(fw, Packet(str(ctx.protocol), a.address, port, not_in_interfaces=container_side_interfaces(ctx)))
    if d is None or d.rule is None:
        return
    net = next((ctx.network(e.network) for e in ctx.target.endpoints if e.ipv4 == a.address), None)
    where = f"raw/{d.chain} on the Docker host: -A {d.chain}" if d.chain == "PREROUTING" else \
        f"Docker's nftables chain {d.chain} on the Docker host:"
    evidence = [f"the client's route to {a.address}: {route.destination} via {route.gateway} (the Docker host)",
                f"rule {d.position} of {where} {d.rule.text}",
                "Docker 28 and later drop packets other machines address to a container, before routing"]
    evidence += reach_evidence(ctx, a.address, port)
    works = [hostport(ctx.public_address(b), b.host_port) for b in ctx.published(ctx.port)
             if b.host_port and not is_loopback(b.host_ip) and ":" not in ctx.public_address(b)]
    fix = [f"use {w}" for w in works] or [f"publish the port: docker run -p {port}:{ctx.port or port} ..., then use "
                                          f"{ctx.host_address}:{port}"]
    if net is not None:
        fix.append(f"or let the interface the client comes in by reach container addresses (Docker 28.2+): "
                   f"docker network create -o com.docker.network.bridge.trusted_host_interfaces=<interface> ... "
                   f"(recreate {net.name}), or dockerd --allow-direct-routing")
        subnet = net.subnets[0] if net.subnets else "..."
        fix.append(f"or a network in routed gateway mode: docker network create "
                   f"-o com.docker.network.bridge.gateway_mode_ipv4=routed --subnet {subnet} ...")
    yield Found(f"the Docker host drops packets sent straight to {a.address}: Docker lets other machines in "
                "through published ports only", evidence, fix)


@rule("ND503", "dropped-on-docker-host", Hop.FORWARDING, needs=(Fact.LISTENERS,), direction=Direction.FROM_HOST)
def dropped_on_docker_host(ctx: Context) -> Iterator[Found]:
    """The attempt reaches the Docker host elsewhere and goes no further, while every hop netdiag can read checks out.

    Detects: from a client whose daemon runs on another host or in a VM, without that host's
    firewall and forwarding state: the attempt to a published port on the host's address timed
    out or was refused by an ICMP error, although the host answers at that address (the daemon's
    own endpoint is there, or it answered the ping), the port is published on every address, the
    container runs and its app listens on the port.
    Why it breaks: published traffic is rewritten to the container's address and forwarded to
    it on the Docker host; a DROP rule (DOCKER-USER, a FORWARD chain a firewall reload flushed) or
    forwarding turned off (net.ipv4.ip_forward, or on the interface the traffic comes in by)
    drops it there, and the client sees only silence.
    Evidence: the host reached, the binding, the running container and its listening socket,
    and what the attempt got back.
    Fix: run netdiag on the Docker host itself (`sudo netdiag why-unreachable NAME`), or from here
    with `--helper IMAGE` (a helper container reads the host's firewall and forwarding there),
    which names the rule or sysctl; or look there by hand: `sysctl net.ipv4.ip_forward`,
    `iptables -S DOCKER-USER`, `iptables -S FORWARD`.
    The container's own address routed through the Docker host (a route the client added) that
    gets silence is named the same way, with Docker 28's filter of direct routing among the
    candidates from that version on.
    Exceptions: a daemon on this machine (the firewall rules and ip-forwarding-disabled decide
    there); a host whose firewall state was read; any cause found on an earlier hop. A firewall
    between the client and the host that filters this port (a cloud security group) gives the
    same silence: the evidence says so.
    """
    fw = ctx.snapshot.firewall
    if ctx.local or ctx.port is None or (fw is not None and fw.outcome.ok) or not ctx.running:
        return
    if ctx.engine.ipv4_forwarding is False:
        return  # docker info says forwarding is off: ip-forwarding-disabled names it
    if ctx.attempt.kind == AddressKind.CONTAINER_IP:
        found = _routed_and_dropped(ctx)
        if found is not None:
            yield found
        return
    binding = ctx.preferred_binding()
    if binding is None or binding.host_ip not in ("", "0.0.0.0", "::") or not binding.host_port:
        return
    address, port = ctx.public_address(binding), binding.host_port
    if ctx.attempt.address and (ctx.attempt.address, ctx.attempt.port) != (address, port):
        return  # the user tried something else: the rules of that attempt speak
    tried = ctx.reach(address, port)
    if tried is None or not tried.outcome.ok or tried.result not in DROPPED:
        return
    if tried.result == ReachResult.ICMP_UNREACHABLE and tried.responder and tried.responder != address:
        return  # a router on the way answered: the traffic did not reach the host
    socks = [s for s in ctx.sockets_on() if not s.loopback_only]
    if not socks:
        return
    reached = _host_reached(ctx, address)
    if not reached:
        return
    yield Found(f"{hostport(address, port)} reaches the Docker host and goes no further: dropped there, by its "
                "firewall or its forwarding",
                [reached, f"{binding.container_port}/{binding.protocol} is published on "
                          f"{hostport(binding.host_ip or '0.0.0.0', port)}",
                 f"{ctx.target.name} runs and {socks[0].process or 'its app'} listens on "
                 f"{hostport(socks[0].address, socks[0].port)}",
                 f"connect to {hostport(address, port)}: {tried.result} ({tried.detail})",
                 f"the Docker host's firewall and forwarding state cannot be read from here"
                 f"{': ' + fw.outcome.reason if fw is not None and fw.outcome.reason else ''}",
                 "candidates: a DOCKER-USER or FORWARD rule that drops it, a FORWARD chain a firewall reload "
                 "flushed, IP forwarding off (globally or on the interface it comes in by); or a firewall "
                 "between this client and the host that filters the port"],
                [f"run netdiag on the Docker host ({ctx.host_address}): sudo netdiag why-unreachable "
                 f"{ctx.target.name} --port {ctx.port}",
                 f"or let a helper container read it from here: netdiag why-unreachable {ctx.target.name} --port "
                 f"{ctx.port} --helper IMAGE  (an image already on the daemon, e.g. busybox)",
                 "or look there: sysctl net.ipv4.ip_forward net.ipv4.conf.all.forwarding; "
                 "iptables -S DOCKER-USER; iptables -S FORWARD"])


def _routed_and_dropped(ctx: Context) -> Found | None:
    """The container's own address, routed by the client through the Docker host, got silence:
    dropped on the Docker host, by Docker 28's filter of direct routing when the engine is 28 or
    later, or by its firewall or forwarding. Named as a drop there with its candidates, never one
    of them (direct-routing-blocked names the rule when the host's firewall is read)."""
    a = ctx.attempt
    port = a.port or ctx.port
    if ctx.reaches_container_ips or not port:
        return None
    route, _ = ctx.client_route(a.address)
    tried = ctx.reach(a.address, port)
    if route is None or route.gateway != ctx.host_address or tried is None or not tried.outcome.ok \
            or tried.result not in DROPPED:
        return None
    reached = _host_reached(ctx, ctx.host_address)
    socks = [s for s in ctx.sockets_on() if not s.loopback_only]
    if not reached or not socks:
        return None
    candidates = ["a DOCKER-USER or FORWARD rule that drops it", "IP forwarding off on the Docker host"]
    if docker_major(ctx.engine) >= 28:
        candidates.insert(0, f"Docker {ctx.engine.server_version}'s filter of packets other machines address to a "
                             "container (raw PREROUTING, on by default since Docker 28)")
    works = [hostport(ctx.public_address(b), b.host_port) for b in ctx.published(ctx.port)
             if b.host_port and ctx.public_address(b) and not is_loopback(b.host_ip)]
    return Found(f"{a.address}:{port} is routed to the Docker host and goes no further: dropped there",
                 [f"the client's route to {a.address}: {route.destination} via {route.gateway} (the Docker host)",
                  reached, f"{ctx.target.name} runs and {socks[0].process or 'its app'} listens on "
                  f"{hostport(socks[0].address, socks[0].port)}",
                  f"connect to {hostport(a.address, port)}: {tried.result} ({tried.detail})",
                  "the Docker host's firewall cannot be read from here",
                  "candidates: " + "; ".join(candidates)],
                 [f"use {w}" for w in works] +
                 [f"or let a helper container read the Docker host's firewall: netdiag why-unreachable "
                  f"{ctx.target.name} --to {hostport(a.address, port)} --helper IMAGE"])


def _host_reached(ctx: Context, address: str) -> str:
    """How the client is known to reach the Docker host at `address`, or ""."""
    from urllib.parse import urlsplit

    try:
        endpoint = urlsplit(ctx.engine.endpoint)
        if endpoint.scheme in ("tcp", "https", "http") and endpoint.hostname == address:
            return f"the Docker daemon answers at {ctx.engine.endpoint}: the client reaches {address}"
    except ValueError:
        pass
    ping = ctx.reach(address, None, ProbeKind.ICMP)
    if ping is not None and ping.outcome.ok and ping.result == ReachResult.ANSWERED:
        return f"ping {address}: echo reply"
    for b in ctx.target.published:
        other = ctx.reach(address, b.host_port) if b.host_port else None
        if other is not None and other.outcome.ok and other.result == ReachResult.ANSWERED:
            return f"{hostport(address, b.host_port)} answers: the client reaches {address}"
    return ""
