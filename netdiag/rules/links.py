"""Container to container: no shared network, a name on the default bridge, a drop within a bridge."""

from __future__ import annotations

from collections.abc import Iterator

from netdiag.context import Context
from netdiag.facts import Firewall, Network
from netdiag.netfilter import BLOCKING, Packet, nft_drop, walk
from netdiag.rules import Found, rule
from netdiag.vocab import PROJECT_LABEL, SERVICE_LABEL, AddressKind, Direction, Fact, Hop, NetMode


def shared_networks(ctx: Context) -> list[Network]:
    assert ctx.source_container is not None
    mine = {n.id for n in ctx.networks_of(ctx.source_container)}
    return [n for n in ctx.networks_of(ctx.target) if n.id in mine]


@rule("ND601", "different-networks", Hop.SHARED_NETWORK, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER)
def different_networks(ctx: Context) -> Iterator[Found]:
    """The two containers share no network, so neither can reach the other.

    Detects: the source container (--from container:NAME) and the target are attached to
    disjoint sets of networks.
    Why it breaks: each Docker network is an isolated bridge; Docker's isolation rules drop
    traffic between them, and names resolve only within a shared user-defined network.
    Evidence: the networks of each container.
    Fix: `docker network connect <target's network> <source>`, then use the target's name; for
    two Compose projects, declare the other project's network as external in the source's
    project (the snippet names the network and the service), which lasts across `up`.
    Exceptions: a source in the host's network namespace reaches container IPs like the host does.
    """
    src, dst = ctx.source_container, ctx.target
    assert src is not None
    if NetMode.HOST in (src.mode, dst.mode) or shared_networks(ctx):
        return
    if ctx.port and any(ctx.answered(ip, ctx.port) for ip in ctx.ipv4()):
        return  # the way between their networks is open here (inter-network isolation off)
    theirs = [n.name for n in ctx.networks_of(dst)]
    evidence = [f"{src.name} is on: {', '.join(n.name for n in ctx.networks_of(src)) or 'no network'}",
                f"{dst.name} is on: {', '.join(theirs) or 'no network'}"]
    fix = [f"docker network connect {theirs[0]} {src.name}, then use {dst.name}:{ctx.port or '<port>'}"] if theirs \
        else [f"connect both to one network: docker network create app; docker network connect app {src.name}; "
              f"docker network connect app {dst.name}"]
    projects = (src.labels.get(PROJECT_LABEL, ""), dst.labels.get(PROJECT_LABEL, ""))
    if all(projects) and projects[0] != projects[1] and theirs:
        service = src.labels.get(SERVICE_LABEL, src.name)
        target = dst.labels.get(SERVICE_LABEL, dst.name)
        evidence.append(f"Compose projects: {src.name} is in {projects[0]}, {dst.name} in {projects[1]}; each "
                        "project has its own networks")
        fix = [f"in project {projects[0]}'s compose file: under services: {service}: networks: [default, "
               f"{theirs[0]}], and at the top: networks: {theirs[0]}: external: true; then use "
               f"{target}:{ctx.port or '<port>'}", f"or for now: {fix[0]}"]
    yield Found(f"{src.name} and {dst.name} share no network", evidence, fix)


@rule("ND602", "no-dns-on-default-bridge", Hop.NAME_RESOLUTION, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER)
def no_dns_on_default_bridge(ctx: Context) -> Iterator[Found]:
    """A container name is used on the default bridge, where Docker provides no name resolution.

    Detects: container to container by name, when the only network they share is the default
    `bridge`.
    Why it breaks: Docker's embedded DNS (127.0.0.11) serves user-defined networks only; on the
    default bridge the name goes to the host's resolver, which does not know it.
    Evidence: the name used and the networks the two containers share.
    Fix: put both on a user-defined network (`docker network create app`, `docker network connect
    app` for each) and use the name; or use the target's IP for now.
    Exceptions: legacy `--link` aliases; a shared user-defined network.
    """
    if ctx.attempt.kind != AddressKind.CONTAINER_NAME:
        return
    shared = shared_networks(ctx)
    if not shared or any(n.name != "bridge" for n in shared):
        return
    src, dst = ctx.source_container, ctx.target
    assert src is not None
    ip = next((ep.ipv4 for ep in dst.endpoints if ep.network == "bridge"), "")
    port = ctx.attempt.port or ctx.port
    yield Found(f"{ctx.attempt.name} cannot resolve from {src.name}: the default bridge has no "
                  "name resolution", [f"{src.name} and {dst.name} share only the default bridge",
                                      "Docker's embedded DNS serves user-defined networks only"],
                  [f"docker network create app; docker network connect app {src.name}; docker network connect app "
                   f"{dst.name}; then use {dst.name}:{port}", f"or use the address for now: {ip}:{port}"])


@rule("ND604", "different-networks", Hop.NAME_RESOLUTION, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER)
def name_from_the_host_network(ctx: Context) -> Iterator[Found]:
    """A container in the host's network (Compose's `network_mode: host`) uses a container or service name.

    Detects: container to container by name, the source in the host's network namespace and the
    target on bridge networks.
    Why it breaks: `network_mode: host` takes a service off its project's network: it is on no
    Docker network, so Docker's embedded DNS never answers it, and the name goes to the host's
    resolver, which does not know it. Addresses still work: the host reaches bridge addresses and
    published ports.
    Evidence: the source's network mode, the target's networks, and the name used.
    Fix: the published port on localhost, or the target's address, from the host network; or
    remove `network_mode: host` from the service so that it joins the project's network and
    names resolve.
    Exceptions: a name the source's /etc/hosts maps (`extra_hosts`); a target in the host's
    network too (use localhost and its port).
    """
    src, dst = ctx.source_container, ctx.target
    assert src is not None
    if ctx.attempt.kind != AddressKind.CONTAINER_NAME or src.mode != NetMode.HOST or dst.mode == NetMode.HOST:
        return
    port = ctx.attempt.port or ctx.port
    nets = [n.name for n in ctx.networks_of(dst)]
    service = src.labels.get(SERVICE_LABEL, "")
    evidence = [f"{src.name} uses the host's network" + (f" (network_mode: host in its Compose service {service})"
                                                        if service else "") + ": it is on no Docker network",
                f"{dst.name} is on: {', '.join(nets) or 'no network'}",
                f"{ctx.attempt.name} is answered by Docker's embedded DNS only to containers on those networks"]
    published = [b for b in ctx.published() if b.host_port]
    fix = [f"use localhost:{published[0].host_port} (the published port, from the host's network)"] if published \
        else []
    fix += [f"{'or ' if fix else 'use '}the address: {ip}:{port}" for ip in ctx.ipv4()[:1]]
    fix.append(f"or remove network_mode: host from {service or src.name} so that it joins the project's network, "
               f"then use {ctx.attempt.name}:{port}")
    yield Found(f"{ctx.attempt.name} does not resolve in {src.name}: a container in the host's network is on no "
                "Docker network", evidence, fix)


def answering_to(ctx: Context, name: str) -> dict[str, list[str]]:
    """On each user-defined network of the source, the containers (other than the source) that
    Docker's DNS gives for `name`: those named so, or with it as an alias there."""
    src = ctx.source_container
    assert src is not None
    mine = {e.network for e in src.endpoints if e.network != "bridge"}
    out: dict[str, list[str]] = {}
    for c in ctx.snapshot.containers:
        if c.id == src.id or not c.state.running:
            continue
        for ep in c.endpoints:
            if ep.network in mine and (name == c.name or name in ep.aliases):
                out.setdefault(ep.network, []).append(c.name)
    return out


@rule("ND603", "name-collision", Hop.NAME_RESOLUTION, per_port=False, needs=(Fact.NETWORKS,),
      direction=Direction.FROM_CONTAINER, holds_when_answered=True)
def name_collision(ctx: Context) -> Iterator[Found]:
    """Several containers answer to the name used, on a network the source shares with them.

    Detects: container to container by name, when on one of the source's user-defined networks
    more than one running container has that name or alias (two Compose projects on a shared
    network that both call a service `db`, or `--network-alias` given twice).
    Why it breaks: Docker's embedded DNS returns every container with that alias, in turns: the
    connection lands on one of them, often the wrong one, and a retry lands elsewhere.
    Evidence: the name, the network, and each container that answers to it.
    Fix: give each its own alias (`--network-alias` or Compose's `aliases:`), use the container's
    own name, or keep the projects on separate networks.
    Exceptions: replicas of one service, which are meant to share their name (the same Compose
    project and service); the default bridge, which has no names at all.
    """
    a = ctx.attempt
    if a.kind not in (AddressKind.CONTAINER_NAME, AddressKind.OTHER_CONTAINER_IP) or not a.name:
        return
    for network, names in answering_to(ctx, a.name).items():
        owners = [c for c in ctx.snapshot.containers if c.name in names]
        services = {(c.labels.get("com.docker.compose.project"), c.labels.get("com.docker.compose.service"))
                    for c in owners}
        if len(names) < 2 or (len(services) == 1 and None not in next(iter(services))):
            continue
        port = a.port or ctx.port
        yield Found(f"{a.name} on network {network} is {len(names)} containers: {', '.join(names)}",
                    [f"on {network}, Docker's DNS answers {a.name} with: {', '.join(names)}",
                     f"{ctx.target.name} is one of them; a connection lands on any"],
                    [f"give each its own alias, e.g. docker network disconnect {network} {n}; docker network "
                     f"connect --alias {n}-{a.name} {network} {n}" for n in names if n != ctx.target.name][:2]
                    + [f"or use the container's own name: {ctx.target.name}:{port}",
                       f"or keep the other project off {network}"])
        return


ICC_OPTION = "com.docker.network.bridge.enable_icc"


@rule("ND605", "firewall-blocks", Hop.FORWARDING, needs=(Fact.FIREWALL_RULES,), direction=Direction.FROM_CONTAINER)
def blocked_between_containers(ctx: Context) -> Iterator[Found]:
    """The Docker host's FORWARD chain drops traffic between two containers on one bridge network.

    Detects: the source and the target share a bridge network, the kernel passes bridged traffic
    through iptables (net.bridge.bridge-nf-call-iptables = 1, br_netfilter, which Docker loads),
    and walking FORWARD with their addresses, the bridge and the port ends in a DROP or REJECT:
    Docker's own rule when inter-container communication is off on that network
    (`-o com.docker.network.bridge.enable_icc=false`, or dockerd's `--icc=false` / `"icc": false`
    for the default bridge), or a rule of the user's (DOCKER-USER, a firewall script).
    Why it breaks: the packets never leave the bridge, yet the kernel's bridge filter hands them
    to iptables' FORWARD chain, and the drop is final: connections time out.
    Evidence: the network and its bridge, the rule that drops (chain and position), the option.
    Fix: for Docker's rule, recreate the network without the option (for the default bridge,
    remove `"icc": false` from /etc/docker/daemon.json and restart dockerd); for a rule of the
    user's, delete it (`iptables -D ...`) or accept this traffic before it.
    Exceptions: an attempt that was answered; bridge-nf-call-iptables off (the frames skip
    iptables); a rule whose match netdiag cannot decide (no claim).
    """
    fw = ctx.snapshot.firewall
    src = ctx.source_container
    assert src is not None and fw is not None
    if ctx.port is None or not fw.bridge_nf_call_iptables:
        return
    for net in (n for n in shared_networks(ctx) if n.bridge and n.driver == "bridge"):
        mine = next((e.ipv4 for e in src.endpoints if e.network in (net.name, net.id) and e.ipv4), "")
        theirs = next((e.ipv4 for e in ctx.target.endpoints if e.network in (net.name, net.id) and e.ipv4), "")
        if not mine or not theirs or ctx.answered(theirs, ctx.port):
            continue
        p = Packet(str(ctx.protocol), theirs, ctx.port, mine, in_interface=net.bridge, out_interface=net.bridge)
        shared = f"{src.name} ({mine}) and {ctx.target.name} ({theirs}) share {net.name}, bridge {net.bridge}"
        found = _dropped_by_iptables(ctx, fw, net, p, shared) or _dropped_by_nftables(ctx, fw, net, p, shared)
        if found is not None:
            yield found
            return


def _dropped_by_iptables(ctx: Context, fw: Firewall, net: Network, p: Packet, shared: str) -> Found | None:
    """FORWARD, walked for a packet within the bridge: Docker's icc rule, or a rule of the user's."""
    d = walk({c.name: c for c in fw.chains if c.table == "filter"}, "FORWARD", p)
    if not (d.certain and d.target in BLOCKING and d.rule is not None):
        return None
    r, src = d.rule, ctx.source_container
    assert src is not None
    evidence = [shared, f"rule {d.position} of {d.chain}: -A {d.chain} {r.text}",
                "net.bridge.bridge-nf-call-iptables = 1: traffic within a bridge passes iptables' FORWARD"]
    icc_off = net.options.get(ICC_OPTION) == "false" and all(
        m is not None and m.value == net.bridge and not m.negated for m in (r.in_interface, r.out_interface))
    if not icc_off:
        return Found(f"an iptables {d.chain} rule drops {src.name}'s connections to {ctx.target.name} on {net.name}",
                     evidence,
                     [f"iptables -D {d.chain} {r.text}",
                      f"or accept it first: iptables -I DOCKER-USER -i {net.bridge} -o {net.bridge} -s {p.source} "
                      f"-d {p.destination} -p {ctx.protocol} --dport {ctx.port} -j ACCEPT"])
    evidence.append(f"{net.name}: {ICC_OPTION}=false (inter-container communication off)")
    fix = "remove \"icc\": false from /etc/docker/daemon.json (or --icc=false from dockerd's flags), then restart " \
          "dockerd" if net.name == "bridge" else \
        f"recreate {net.name} without -o {ICC_OPTION}=false: docker network rm {net.name}; docker network create " \
        f"{' '.join(f'--subnet {s}' for s in net.subnets)} {net.name} (disconnect its containers first, connect " \
        "them again after)"
    return Found(f"inter-container communication is off on {net.name}: the Docker host drops {src.name}'s "
                 f"connections to {ctx.target.name}", evidence, [fix])


def _dropped_by_nftables(ctx: Context, fw: Firewall, net: Network, p: Packet, shared: str) -> Found | None:
    """Another nftables table's forward chain (firewalld's): bridged traffic meets it too."""
    hit = nft_drop(fw.nft_chains, "forward", p) if fw.nft_outcome.ok else None
    if hit is None:
        return None
    base, d = hit
    src = ctx.source_container
    assert src is not None
    seen = f"rule {d.position} of {d.chain}: {d.rule.text}" if d.rule is not None else \
        f"policy {base.policy.lower()}, no rule accepts it"
    return Found(f"nftables table {base.table} drops {src.name}'s connections to {ctx.target.name} on {net.name}",
                 [shared, f"table {base.table}, chain {base.name} (hook forward): {seen}",
                  "net.bridge.bridge-nf-call-iptables = 1: traffic within a bridge meets the forward hook"],
                 [f"nft insert rule {base.table} {base.name} iifname {net.bridge} oifname {net.bridge} accept",
                  "and keep it in the file that table comes from"])
