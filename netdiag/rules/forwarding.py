"""On the Docker host: IP forwarding off, and firewall rules that drop Docker's traffic."""

from __future__ import annotations

import ipaddress

from netdiag.context import hostport, is_loopback
from netdiag.parsers.iptables import rule_options
from netdiag.rules import finding, rule

DOCKER_JUMPS = ("-j DOCKER-USER", "-j DOCKER-FORWARD", "-j DOCKER-ISOLATION-STAGE-1", "-j DOCKER")


def _forwarded_bindings(ctx):
    """Published bindings that other machines use: their traffic is forwarded to the container."""
    return [b for b in ctx.published() if not is_loopback(b.host_ip)]


def _applies(ctx) -> bool:
    if not ctx.local or ctx.from_container or ctx.port is None:
        return False
    fw = ctx.snapshot.firewall
    return fw is not None and fw.outcome.ok and bool(_forwarded_bindings(ctx))


@rule("ND501", "ip-forwarding-disabled", "forwarding")
def ip_forwarding_disabled(ctx):
    """IP forwarding is off on the Docker host, so published ports do not reach containers from other machines.

    Detects: net.ipv4.ip_forward = 0 on the Docker host while the container publishes a port.
    Why it breaks: traffic from another machine to a published port is rewritten to the
    container's IP and must be forwarded from the host's interface to the bridge; with
    forwarding off the kernel drops it (containers also lose their way out).
    Evidence: the sysctl's value and the published port.
    Fix: `sysctl -w net.ipv4.ip_forward=1`, and keep it: `net.ipv4.ip_forward = 1` in
    /etc/sysctl.d/99-docker.conf (a network manager or hardening script may have turned it off).
    Exceptions: the Docker host itself still reaches the port through docker-proxy.
    """
    if not _applies(ctx) or ctx.snapshot.firewall.ip_forward is not False:
        return
    b = _forwarded_bindings(ctx)[0]
    yield finding(ctx, "ND501", "IP forwarding is off on the Docker host: other machines cannot reach "
                  f"{hostport(ctx.public_address(b), b.host_port)}",
                  ["net.ipv4.ip_forward = 0 on the Docker host",
                   f"{b.container_port}/{b.protocol} is published on {hostport(b.host_ip or '0.0.0.0', b.host_port)}: "
                   "traffic to it is forwarded to the container"],
                  ["sysctl -w net.ipv4.ip_forward=1",
                   "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-docker.conf  (keeps it after a reboot)"])


def _matches(opts: dict[str, str], protocol: str, port: int, ips: list[str]) -> bool:
    """Whether a rule could match forwarded traffic to ip:port (after DNAT); unknown matches count."""
    if opts.get("-p") and opts["-p"] != protocol:
        return False
    if opts.get("--dport") and opts["--dport"] != str(port):
        return False
    dest = opts.get("-d", "")
    if dest and not dest.startswith("!"):
        try:
            net = ipaddress.ip_network(dest, strict=False)
            if not any(ipaddress.ip_address(ip) in net for ip in ips):
                return False
        except ValueError:
            pass
    return True


@rule("ND502", "firewall-blocks", "forwarding")
def firewall_blocks(ctx):
    """iptables drop the traffic to the published port: a DOCKER-USER rule, a flushed FORWARD chain, or iptables off.

    Detects: a DROP or REJECT rule in DOCKER-USER that matches the container's port; a FORWARD
    chain whose policy is DROP while Docker's jumps are gone (a firewall reload flushed them);
    Docker's ACCEPT rule for the port missing from its DOCKER chain; a daemon started with
    iptables off and no userland proxy.
    Why it breaks: published traffic is forwarded to the container; Docker's rules are what let
    it through the FORWARD chain, and DOCKER-USER is consulted before them.
    Evidence: the rule text, the chain's policy and which of Docker's chains or rules are missing.
    Fix: delete or narrow the rule (`iptables -D DOCKER-USER ...`), or restore Docker's chains by
    restarting dockerd after the firewall (`systemctl restart docker`).
    Exceptions: rules that match other ports, addresses or protocols.
    """
    if not _applies(ctx):
        return
    fw = ctx.snapshot.firewall
    b = _forwarded_bindings(ctx)[0]
    target = hostport(ctx.public_address(b), b.host_port)
    ips = ctx.ipv4()
    restart = "systemctl restart docker  (or restart dockerd: it recreates its chains)"
    if ctx.engine.iptables is False:
        if ctx.engine.userland_proxy is False:
            yield finding(ctx, "ND502", f"dockerd runs with iptables off and no userland proxy: nothing forwards {target}",
                          ["dockerd: iptables = false", "dockerd: userland-proxy = false"],
                          ['remove "iptables": false from /etc/docker/daemon.json (or --iptables=false), '
                           "then restart dockerd"])
        return
    if not fw.iptables_outcome.ok:
        return
    user = fw.chain("filter", "DOCKER-USER")
    if user is not None:
        for r in user.rules:
            opts = rule_options(r)
            if opts.get("-j") in ("DROP", "REJECT") and _matches(opts, ctx.protocol, ctx.port, ips):
                yield finding(ctx, "ND502", f"a DOCKER-USER rule drops the traffic to {target}",
                              [f"-A DOCKER-USER {r}", f"DOCKER-USER sees the traffic after DNAT: "
                               f"{', '.join(ips) or '?'}:{ctx.port}/{ctx.protocol}"],
                              [f"iptables -D DOCKER-USER {r}",
                               f"or let this port through first: iptables -I DOCKER-USER -p {ctx.protocol} "
                               f"--dport {ctx.port} -j ACCEPT"])
                return
    forward = fw.chain("filter", "FORWARD")
    if forward is not None and forward.policy == "DROP" and not any(
            any(r.endswith(j) or f"{j} " in r + " " for j in DOCKER_JUMPS) for r in forward.rules):
        yield finding(ctx, "ND502", f"the FORWARD chain drops everything and Docker's rules are gone: {target} is "
                      "blocked", ["filter/FORWARD policy: DROP",
                                  f"filter/FORWARD has {len(forward.rules)} rules and no jump to Docker's chains "
                                  "(flushed, e.g. by a firewall reload)"],
                      [restart, "and make the firewall keep Docker's chains (e.g. firewalld's docker zone)"])
        return
    docker = fw.chain("filter", "DOCKER")
    if forward is not None and forward.policy == "DROP" and docker is not None and ips and not any(
            f"--dport {ctx.port}" in r and any(f"-d {ip}/32" in r for ip in ips) and r.endswith("-j ACCEPT")
            for r in docker.rules):
        yield finding(ctx, "ND502", f"Docker's ACCEPT rule for {ctx.port}/{ctx.protocol} is missing: "
                      f"{target} is dropped in FORWARD",
                      ["filter/FORWARD policy: DROP",
                       f"filter/DOCKER has no ACCEPT for {', '.join(ips)}:{ctx.port} (the chain was flushed)"],
                      [restart])
