"""Publishing: a port with no host mapping, and a host port someone else already holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

from netdiag.context import Context, hostport
from netdiag.rules import Found, rule
from netdiag.rules.state import failed_on_port
from netdiag.vocab import AddressKind, Direction, Fact, Hop, NetMode, Protocol

# a -p value: [ip:][host port:]container port[/protocol]; a single digit ends the address part, so
# matching is linear, and nothing longer than a real mapping is looked at
PUBLISH_VALUE = re.compile(r"[\d.:\[\]a-fA-F]{0,60}\d(?:/[a-z]{1,5})?")
PUBLISH_FLAGS = ("-p", "--publish")


def misplaced_publish(command: tuple[str, ...], app_ports: tuple[int, ...] = ()) -> list[str]:
    """`-p 8080:80` found among the container's arguments: it came after the image name. A bare
    `-p 80` naming a port the app listens on is the app's own option (busybox httpd -p 80), not
    a misplaced publish."""
    found = []
    for i, word in enumerate(command):
        flag, eq, attached = word.partition("=")
        if flag not in PUBLISH_FLAGS:
            continue
        value = attached if eq else (command[i + 1] if i + 1 < len(command) else "")
        if value.isdigit() and int(value) in app_ports:
            continue
        if len(value) <= 70 and PUBLISH_VALUE.fullmatch(value):
            found.append(f"-p {value}")
    return found


# processes that hold a published port on behalf of a container: the engine itself (dockerd with
# the userland proxy off, Podman), its proxies and its rootless port forwarders
ENGINE_FORWARDERS = frozenset({"docker-proxy", "dockerd", "rootlesskit", "rootlessport", "conmon", "podman",
                               "pasta", "pasta.avx2", "slirp4netns"})


def holders_of(ctx: Context, host_port: int, protocol: Protocol = Protocol.TCP) -> list[str]:
    """Who holds a host port: another container publishing it, or a host process (by name and pid).
    A port the engine or one of its forwarders holds belongs to the container that publishes it:
    that container is named, never the engine as a process to stop."""
    who = []
    for c in ctx.snapshot.containers:
        if c.id == ctx.target.id:
            continue
        if any(b.host_port == host_port and b.protocol == protocol for b in c.published):
            who.append(f"container {c.name} ({c.id[:12]})")
    holders = ctx.snapshot.port_holders
    if holders is not None and holders.outcome.ok:
        proxies = {p.pid for p in holders.proxies}
        for s in holders.sockets:
            if s.port != host_port or s.protocol != protocol or s.pid in proxies:
                continue
            if s.process in ENGINE_FORWARDERS:
                if not who:  # no container of this engine publishes it: another engine's, or a leftover
                    who.append(f"the container engine's {s.process} (pid {s.pid}) on {hostport(s.address, s.port)}, "
                               "for a container this daemon does not list")
                continue
            label = f"process {s.process or '?'} (pid {s.pid}) on {hostport(s.address, s.port)}" if s.pid else \
                f"an unnamed process on {hostport(s.address, s.port)} (its name and pid could not be read)"
            if label not in who:
                who.append(label)
    return who


def free_port_near(ctx: Context, port: int) -> int:
    taken = {b.host_port for c in ctx.snapshot.containers for b in c.published}
    if ctx.snapshot.port_holders is not None:
        taken |= {s.port for s in ctx.snapshot.port_holders.sockets}
    candidate = port + 1
    while candidate in taken and candidate < 65535:
        candidate += 1
    return candidate


@rule("ND201", "host-port-conflict", Hop.HOST_BINDING, uses=(Fact.PORT_HOLDERS,), only_if=failed_on_port)
def host_port_conflict(ctx: Context) -> Iterator[Found]:
    """The host port is already held, by another container or a host process, so the container never started.

    Detects: a container left in state `created` whose start failed with "port is already
    allocated" (another container) or "address already in use" (a host process).
    Why it breaks: one host port can be bound once; Docker refuses to start the second container,
    so nothing of it runs.
    Evidence: the engine's error, the requested mapping, and who holds the port: the other
    container by name, or the host process by name and pid.
    Fix: stop what holds the port, or publish on a free host port: `docker rm NAME` and run it
    again with `-p <free port>:<container port>`.
    Exceptions: a running container is not in conflict, whatever else binds nearby ports.
    """
    st = ctx.target.state
    if st.running:
        return
    for b in ctx.requested():
        if b.host_port is None:
            continue
        if f":{b.host_port}" not in st.error and "port is already allocated" not in st.error:
            continue
        who = holders_of(ctx, b.host_port, b.protocol)
        evidence = [f"state: {st.status}, engine error: {st.error}",
                    f"requested -p {b.host_port}:{b.container_port}/{b.protocol}"]
        holders = ctx.snapshot.port_holders
        unseen = f": {holders.outcome.reason}" if holders is not None and not holders.outcome.ok else ""
        evidence += [f"host port {b.host_port} is held by {w}" for w in who] or [
            f"host port {b.host_port} is held by something netdiag cannot see from here{unseen}"]
        free = free_port_near(ctx, b.host_port)
        fix = []
        for w in who:
            if w.startswith("container "):
                fix.append(f"docker stop {w.split()[1]}  (frees {b.host_port}), then: docker start {ctx.target.name}")
            elif w.startswith("process "):
                fix.append(f"stop {w.split(' on ')[0]}, then: docker start {ctx.target.name}")
        fix.append(f"or publish on a free port: docker rm {ctx.target.name}; "
                   f"docker run -p {free}:{b.container_port} ...")
        holder = who[0] if who else "another program"
        yield Found(f"host port {b.host_port} is already held by {holder}, so "
                      f"{ctx.target.name} never started", evidence, fix)
        return


@rule("ND202", "port-not-published", Hop.HOST_BINDING, uses=(Fact.LISTENERS,), direction=Direction.FROM_HOST)
def port_not_published(ctx: Context) -> Iterator[Found]:
    """The container port exists but has no host mapping, so only the Docker host's bridge reaches it.

    Detects: a port the image exposes or a process listens on, with no `-p` mapping, while the
    attempt needs one: a host address (localhost, 0.0.0.0, the VM's address), or a client on
    another machine than the Docker host.
    Why it breaks: EXPOSE only documents a port; without `-p` nothing listens on the host, and
    Docker's forwarding rules accept traffic only for published ports.
    Evidence: the exposed or listening port, the absence of a mapping, and a `-p` found after the
    image name in the container's arguments (docker passed it to the app instead).
    Fix: run the container again with `-p HOST:CONTAINER` before the image name.
    Exceptions: container-to-container traffic needs no publishing; on the Docker host itself,
    and from a Mac whose OrbStack routes container addresses to it, the container's IP reaches
    the port (netdiag says so in `notes`); a container address that answered; a network in
    routed gateway mode, where `-p` opens the port on the container's address with no host port;
    a Swarm task whose service publishes the port; a container only on macvlan or ipvlan
    networks, which has its own address on a LAN and where no -p applies.
    """
    a = ctx.attempt
    if ctx.port is None or ctx.target.mode in (NetMode.HOST, NetMode.NONE) or ctx.only_on_lans():
        return
    nets = ctx.networks_of(ctx.target)
    if nets and all(n.internal for n in nets):
        return
    if ctx.published() or not ctx.target.state.running and ctx.requested():
        return
    if ctx.routed_network() is not None and ctx.requested():
        return  # a routed network opens -p ports on the container's own address, with no host port
    if ctx.service_port(mode=None) is not None:
        return  # its Swarm service publishes it (the routing mesh, or the node's port in host mode)
    on_the_host = a.kind in (AddressKind.UNSPECIFIED, AddressKind.LOOPBACK, AddressKind.DOCKER_HOST)
    needs_mapping = on_the_host or (a.kind in (AddressKind.DEFAULT, AddressKind.CONTAINER_IP)
                                    and not ctx.reaches_container_ips)
    if not needs_mapping:
        return
    if a.kind == AddressKind.CONTAINER_IP and ctx.answered(a.address, ctx.port):
        return  # the container's own address answered: no mapping was needed on this path
    name = ctx.target.name
    evidence = []
    if ctx.port in ctx.exposed_ports():
        evidence.append(f"{ctx.port}/{ctx.protocol} is exposed (EXPOSE or --expose)")
    socks = ctx.sockets_on()
    if socks:
        evidence.append(f"{socks[0].process or 'a process'} listens on {hostport(socks[0].address, ctx.port)}")
    evidence.append(f"no host mapping: `docker port {name} {ctx.port}` shows nothing")
    host_port = a.port if on_the_host and a.port else ctx.port
    misplaced = misplaced_publish(ctx.target.command, tuple(ctx.app_ports()))
    fix = [f"docker run -p {host_port}:{ctx.port} ... {ctx.target.image} (the -p goes before the image name)"]
    if misplaced:
        evidence.append(f"the container's arguments contain `{' '.join(misplaced)}`: it came after the image "
                        "name, so docker passed it to the container's command instead of publishing")
        fix.insert(0, f"move `{misplaced[0]}` before the image name: "
                      f"docker run -d {misplaced[0]} {ctx.target.image} ...")
    yield Found(f"{ctx.port}/{ctx.protocol} of {name} is not published: "
                  "nothing on the host leads to it", evidence, fix)
