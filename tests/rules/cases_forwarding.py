"""Examples of netdiag/rules/forwarding.py: IP forwarding off, and firewall rules that drop the
traffic, evaluated on each rule's match fields."""

from __future__ import annotations

import dataclasses

from netdiag.facts import (
    Chain,
    Endpoint,
    Firewall,
    FirewallRule,
    HostNet,
    Interface,
    Listeners,
    Match,
    Outcome,
    PortBinding,
    Socket,
)
from netdiag.vocab import EngineProduct, HostRole, Protocol, ReachResult
from tests.builders import (
    B2D_ENGINE,
    LOCAL_ENGINE,
    WEB_ID,
    answered_locally,
    b2d,
    chain,
    firewall,
    icmp,
    listening,
    local,
    tcp,
    web,
)
from tests.rules.examples import args, fires, quiet, unknown

BASE = firewall().chains


def with_user(*rules: str) -> Firewall:
    """The healthy firewall with these DOCKER-USER rules before its RETURN."""
    return firewall(chains=tuple(c for c in BASE if c.name != "DOCKER-USER")
                    + (chain("filter", "DOCKER-USER", "", *rules, "-j RETURN"),))


def snap(fw: Firewall, **kw):
    return local(fw=fw, reach=answered_locally(), **kw)


@fires("ND501", "forwarding-off")
def _():
    return (snap(firewall(ip_forward=False)), args(),
            lambda c: "net.ipv4.ip_forward = 0 on the Docker host" in c.evidence
            and c.fix[0] == "sysctl -w net.ipv4.ip_forward=1" and c.summary.endswith("10.0.2.15:32768"))


@quiet("ND501", "forwarding-on")
def _():
    return snap(firewall()), args()


@quiet("ND501", "published-on-loopback-only")
def _():
    """Only the Docker host itself uses a loopback binding: nothing is forwarded."""
    w = web(published=(PortBinding(80, Protocol.TCP, "127.0.0.1", 8080),))
    return local(w, fw=firewall(ip_forward=False)), args(to="127.0.0.1:8080")


@fires("ND501", "forwarding-off-on-the-bridge")
def _():
    """The container's replies come in on docker0: with its forwarding off they go nowhere."""
    return (snap(firewall(interface_forwarding={"eth0": True, "docker0": False})), args(),
            lambda c: c.summary.startswith("IP forwarding is off on docker0, the container's bridge")
            and "net.ipv4.conf.docker0.forwarding = 0 on the Docker host (net.ipv4.ip_forward = 1)" in c.evidence
            and c.fix[0] == "sysctl -w net.ipv4.conf.docker0.forwarding=1")


@fires("ND501", "forwarding-off-where-other-machines-come-in")
def _():
    return (snap(firewall(interface_forwarding={"eth0": False, "docker0": True})), args(),
            lambda c: c.summary == "IP forwarding is off on eth0, where machines that reach the Docker host at "
                                   "10.0.2.15 come in: other machines cannot reach 10.0.2.15:32768"
            and c.fix[0] == "sysctl -w net.ipv4.conf.eth0.forwarding=1")


VM_SIDE = HostNet(Outcome(method="a helper container"), HostRole.DOCKER_HOST, "boot2docker",
                  (Interface("eth0", ("10.0.2.15/24",), True), Interface("eth1", ("192.168.59.103/24",), True),
                   Interface("docker0", ("172.17.0.1/16",), True)))


def from_the_laptop(forwarding: dict[str, bool], result: ReachResult) -> object:
    """The seed's Mac with the VM read through the helper: its forwarding per interface."""
    s = b2d(reach=(tcp("192.168.59.103", 32768, result),))
    return dataclasses.replace(s, docker_host=VM_SIDE, firewall=firewall(interface_forwarding=forwarding))


@fires("ND501", "forwarding-off-where-the-laptop-comes-in")
def _():
    return (from_the_laptop({"eth0": True, "eth1": False, "docker0": True}, ReachResult.TIMEOUT), args(),
            lambda c: c.summary.startswith("IP forwarding is off on eth1, where the client comes in (it reaches the "
                                           "Docker host at 192.168.59.103)"))


@quiet("ND501", "forwarding-off-on-another-uplink")
def _():
    """eth0 does not forward, but the laptop comes in by eth1."""
    return from_the_laptop({"eth0": False, "eth1": True, "docker0": True}, ReachResult.TIMEOUT), args()


@quiet("ND501", "the-laptops-attempt-was-answered")
def _():
    """Evidence beats inference: the laptop's traffic was forwarded, whatever a sysctl read says."""
    return from_the_laptop({"eth0": True, "eth1": False, "docker0": True}, ReachResult.ANSWERED), args()


@fires("ND501", "docker-info-says-forwarding-is-off")
def _():
    """From the laptop, the VM's sysctls unread: docker info's IPv4Forwarding is the daemon's own
    reading of net.ipv4.ip_forward."""
    snap = b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.TIMEOUT),))
    snap = dataclasses.replace(snap, engine=dataclasses.replace(B2D_ENGINE, ipv4_forwarding=False))
    return (snap, args(),
            lambda c: c.evidence[0] == "docker info: IPv4Forwarding false (the Docker host's net.ipv4.ip_forward, "
                                       "as the daemon reads it)")


@quiet("ND501", "docker-info-says-forwarding-is-on")
def _():
    snap = b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.TIMEOUT),))
    return dataclasses.replace(snap, engine=dataclasses.replace(B2D_ENGINE, ipv4_forwarding=True)), args()


@unknown("ND501", "sysctls-not-read")
def _():
    return local(fw=Firewall(Outcome.unavailable("the Docker daemon runs on another host"))), args()


@fires("ND502", "docker-user-drops-the-port")
def _():
    return (snap(with_user("-p tcp -m tcp --dport 80 -j DROP")), args(),
            lambda c: "rule 1 of DOCKER-USER: -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c.evidence
            and c.fix[0] == "iptables -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP")


@fires("ND502", "multiport-list-with-the-port")
def _():
    return (snap(with_user("-p tcp -m multiport --dports 22,80,443 -j REJECT --reject-with icmp-port-unreachable")),
            args(), lambda c: "a DOCKER-USER rule drops the traffic to 10.0.2.15:32768" == c.summary)


@fires("ND502", "port-range-and-bridge")
def _():
    return (snap(with_user("-o docker0 -p tcp -m tcp --dport 1:1024 -j DROP")), args(),
            lambda c: "rule 1 of DOCKER-USER" in c.evidence[0])


@fires("ND502", "in-a-chain-docker-user-jumps-to")
def _():
    fw = with_user("-j CUSTOM")
    fw = dataclasses.replace(fw, chains=fw.chains + (chain("filter", "CUSTOM", "", "-p tcp --dport 80 -j DROP"),))
    return snap(fw), args(), lambda c: "rule 1 of CUSTOM: -A CUSTOM -p tcp --dport 80 -j DROP" in c.evidence


@fires("ND502", "conntrack-original-port")
def _():
    return (snap(with_user("-p tcp -m conntrack --ctorigdstport 32768 --ctstate NEW -j DROP")), args(),
            lambda c: c.fix[0] == "iptables -D DOCKER-USER -p tcp -m conntrack --ctorigdstport 32768 --ctstate NEW "
                                  "-j DROP")


@fires("ND502", "flushed-forward-chain")
def _():
    fw = firewall(chains=(chain("filter", "FORWARD", "DROP"),) + tuple(c for c in BASE if c.name != "FORWARD"))
    return (snap(fw), args(),
            lambda c: "filter/FORWARD policy: DROP" in c.evidence and c.fix[0].startswith("systemctl restart docker"))


@fires("ND502", "docker-accept-rule-missing")
def _():
    fw = firewall(chains=tuple(c for c in BASE if c.name != "DOCKER" or c.table != "filter")
                  + (chain("filter", "DOCKER", ""),))
    return snap(fw), args(), lambda c: "filter/DOCKER has no ACCEPT for 172.17.0.29:80 (Docker adds it when the " \
        "container starts: it was removed since)" in c.evidence


@fires("ND502", "iptables-off-and-no-proxy")
def _():
    engine = dataclasses.replace(LOCAL_ENGINE, iptables=False, userland_proxy=False)
    return (dataclasses.replace(snap(firewall()), engine=engine), args(),
            lambda c: c.evidence == ("dockerd: iptables = false", "dockerd: userland-proxy = false"))


@fires("ND502", "iptables-off-the-proxy-dropped-in-input")
def _():
    """With iptables off, docker-proxy takes every published connection on the host: INPUT decides."""
    engine = dataclasses.replace(LOCAL_ENGINE, iptables=False, userland_proxy=True)
    fw = firewall(chains=firewall().chains + (chain("filter", "INPUT", "DROP",
                                                    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),))
    silent = local(fw=fw, reach=(tcp("127.0.0.1", 32768, ReachResult.TIMEOUT),))
    return (dataclasses.replace(silent, engine=engine), args(),
            lambda c: c.summary == "iptables' INPUT policy is DROP and no rule accepts the connections to "
                                   "127.0.0.1:32768"
            and any("dockerd runs with iptables off" in e for e in c.evidence)
            and c.fix == ("iptables -I INPUT -p tcp --dport 32768 -j ACCEPT",))


@quiet("ND502", "another-port")
def _():
    return snap(with_user("-p tcp -m tcp --dport 443 -j DROP")), args()


@quiet("ND502", "multiport-list-without-the-port")
def _():
    return snap(with_user("-p tcp -m multiport --dports 5432,6379 -j DROP")), args()


@quiet("ND502", "allow-list-by-source")
def _():
    """Whether this drops the client depends on which machine it is: not claimed."""
    return snap(with_user("-i eth0 ! -s 192.168.1.0/24 -j DROP")), args()


@quiet("ND502", "conntrack-other-original-port")
def _():
    return snap(with_user("-p tcp -m conntrack --ctorigdstport 5432 -j DROP")), args()


@quiet("ND502", "established-only")
def _():
    return snap(with_user("-m conntrack --ctstate RELATED,ESTABLISHED -j DROP")), args()


@quiet("ND502", "accept-before-the-drop")
def _():
    return snap(with_user("-p tcp --dport 80 -j ACCEPT", "-j DROP")), args()


@quiet("ND502", "other-bridge")
def _():
    return snap(with_user("-o br-0123456789ab -j DROP")), args()


@unknown("ND502", "iptables-not-read")
def _():
    return local(fw=firewall(iptables_outcome=Outcome.unavailable("iptables-save needs root"), chains=())), args()


# --- seen from a client elsewhere, the Docker host's firewall unreadable ---------------------------

SILENT_PORT = (tcp("192.168.59.103", 32768, ReachResult.TIMEOUT, detail="no answer to the SYN within 1.5s"),)


@fires("ND503", "published-port-silent-from-the-laptop")
def _():
    return (b2d(reach=SILENT_PORT), args(),
            lambda c: c.evidence[0] == "the Docker daemon answers at tcp://192.168.59.103:2376: the client reaches "
                                      "192.168.59.103"
            and "connect to 192.168.59.103:32768: timeout (no answer to the SYN within 1.5s)" in c.evidence
            and any(e.startswith("candidates: a DOCKER-USER or FORWARD rule") for e in c.evidence)
            and c.fix[0] == "run netdiag on the Docker host (192.168.59.103): sudo netdiag why-unreachable web "
                            "--port 80")


@fires("ND503", "host-known-by-its-echo")
def _():
    ssh = dataclasses.replace(B2D_ENGINE, endpoint="ssh://me@vm")
    snap = dataclasses.replace(b2d(reach=SILENT_PORT + (icmp("192.168.59.103", ReachResult.ANSWERED),)), engine=ssh)
    return snap, args(), lambda c: c.evidence[0] == "ping 192.168.59.103: echo reply"


@quiet("ND503", "the-port-answered")
def _():
    return b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.ANSWERED),)), args()


@quiet("ND503", "a-router-on-the-way-answered")
def _():
    return b2d(reach=(tcp("192.168.59.103", 32768, ReachResult.ICMP_UNREACHABLE, responder="10.0.1.1"),)), args()


@quiet("ND503", "host-not-known-to-be-reached")
def _():
    ssh = dataclasses.replace(B2D_ENGINE, endpoint="ssh://me@vm")
    return dataclasses.replace(b2d(reach=SILENT_PORT), engine=ssh), args()


@quiet("ND503", "nothing-listens")
def _():
    """nothing-listening explains it."""
    return b2d(listeners=(Listeners(Outcome(method="docker exec cat /proc/net"), WEB_ID, ()),), reach=SILENT_PORT), \
        args()


@quiet("ND503", "on-the-docker-host")
def _():
    return local(reach=(tcp("127.0.0.1", 32768, ReachResult.TIMEOUT),)), args()


@unknown("ND503", "sockets-not-read")
def _():
    return b2d(listeners=(Listeners(Outcome.unavailable("no cat in the image"), WEB_ID),), reach=SILENT_PORT), args()


ROOTLESS = dataclasses.replace(LOCAL_ENGINE, security_options=("name=seccomp,profile=default", "name=rootless"))


@quiet("ND501", "rootless-engine")
def _():
    """RootlessKit forwards published ports in user space: the host's ip_forward does not matter."""
    snap = dataclasses.replace(local(fw=firewall(ip_forward=False), reach=answered_locally()), engine=ROOTLESS)
    return snap, args(), lambda d: [h.detail.split(";")[0] for h in d.path if h.hop == "forwarding"] == [
        "RootlessKit's port forwarder takes it on the Docker host (nothing forwarded)"]


@quiet("ND502", "rootless-engine")
def _():
    return dataclasses.replace(snap(with_user("-p tcp -m tcp --dport 80 -j DROP")), engine=ROOTLESS), args()


def nft_forward(policy: str, *rules: FirewallRule):
    """The healthy iptables firewall, and another nftables table with a forward base chain."""
    return firewall(nft_outcome=Outcome(method="nft -j list ruleset"),
                    nft_chains=(Chain("inet filter", "forward", policy, rules, "forward"),))


@fires("ND502", "another-nftables-table-drops-forwarded-traffic")
def _():
    return (snap(nft_forward("DROP", FirewallRule("ct state established,related accept", "ACCEPT",
                                                  ctstate=Match("ESTABLISHED,RELATED")))), args(),
            lambda c: c.evidence == ("table inet filter, chain forward (hook forward, priority 0, policy drop): no rule "
                                     "accepts it",)
            and c.fix[1] == 'nft insert rule inet filter forward oifname "docker0" accept')


@quiet("ND502", "another-nftables-table-accepts-the-bridge")
def _():
    return snap(nft_forward("DROP", FirewallRule('oifname docker0 accept', "ACCEPT", out_interface=Match("docker0")))), \
        args()


# --- Docker 28's filter of direct routing (raw PREROUTING), on moby's recorded 28.2 rules ----------

def direct(result: ReachResult, fw: Firewall | None = None):
    """The routed laptop's attempt to the container's own address, the Docker host's firewall read."""
    from tests.builders import C1, from_the_laptop

    snap = from_the_laptop("docker-28.2-usernet-portmap.rules", "28.2.2", tcp("192.0.2.2", 80, result))
    return (dataclasses.replace(snap, firewall=fw) if fw is not None else snap), C1


@fires("ND504", "docker-28-drops-packets-to-the-container-address")
def _():
    snap, c1 = direct(ReachResult.TIMEOUT)
    return snap, args(to="192.0.2.2:80", target=c1), lambda c: c.fix[0] == "use 192.168.59.103:8080"


@quiet("ND504", "the-attempt-went-to-the-published-port")
def _():
    snap, c1 = direct(ReachResult.TIMEOUT)
    return snap, args(target=c1)


@unknown("ND504", "the-docker-hosts-rules-not-read")
def _():
    """Neither the Docker host's firewall nor the container's sockets read: nothing decides the hop."""
    snap, c1 = direct(ReachResult.TIMEOUT, Firewall(Outcome.unavailable("the Docker daemon runs on another host")))
    snap = dataclasses.replace(snap, listeners=(Listeners(Outcome.unavailable("no cat in the image"), c1.id),))
    return snap, args(to="192.0.2.2:80", target=c1)


@quiet("ND502", "a-binding-on-the-ipv6-wildcard-only")
def _():
    """-p [::]:8080:80 is IPv6 traffic: iptables (IPv4) never sees it, so its FORWARD policy and
    Docker's missing IPv4 ACCEPT claim nothing; tried at [::1] on the Docker host."""
    w = web(published=(PortBinding(80, Protocol.TCP, "::", 8080),))
    fw = firewall(chains=tuple(c for c in BASE if c.name != "DOCKER") + (chain("filter", "DOCKER", ""),))
    return local(w, fw=fw, reach=(tcp("::1", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"),)), args(), \
        lambda d: d.works[0] == "[::1]:8080"



# --- IPv6: a port published on [::] alone, to a container with an IPv6 address ----------------------

def v6_snap(fw: Firewall):
    from tests.builders import BRIDGE
    from tests.rules.cases_addressing import V6_NET, V6_ONLY

    return local(web(**V6_ONLY), networks=(BRIDGE, V6_NET), fw=fw,
                 reach=(tcp("::1", 8080, ReachResult.ANSWERED, banner="HTTP/1.1 200 OK"),))


# Docker's IPv6 DNAT (dockerd with ip6tables, the default from Docker 27): IPv6 traffic to [::] is forwarded
V6_NAT = chain("nat", "DOCKER", "", "! -i docker0 -p tcp -m tcp --dport 32768 -j DNAT --to-destination [fd00:17::29]:80")
V6_ACCEPTING = (chain("filter", "FORWARD", "ACCEPT", "-j DOCKER-USER"), chain("filter", "DOCKER-USER", "", "-j RETURN"),
                V6_NAT)


@fires("ND501", "ipv6-forwarding-off")
def _():
    fw = firewall(ipv6_forward=False, ip6tables_outcome=Outcome(), chains6=V6_ACCEPTING)
    return (v6_snap(fw), args(),
            lambda c: c.evidence[0] == "net.ipv6.conf.all.forwarding = 0 on the Docker host"
            and c.fix[0] == "sysctl -w net.ipv6.conf.all.forwarding=1")


@fires("ND502", "an-ip6tables-rule-drops-the-ipv6-traffic")
def _():
    chains6 = (chain("filter", "FORWARD", "ACCEPT", "-j DOCKER-USER"),
               chain("filter", "DOCKER-USER", "", "-p tcp -m tcp --dport 80 -j DROP", "-j RETURN"), V6_NAT)
    fw = firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=chains6)
    return (v6_snap(fw), args(),
            lambda c: "rule 1 of DOCKER-USER (ip6tables): -A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in c.evidence
            and c.fix[0] == "ip6tables -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP")


@fires("ND502", "ip6tables-forward-policy-drop")
def _():
    chains6 = (chain("filter", "FORWARD", "DROP", "-j DOCKER-USER"), chain("filter", "DOCKER-USER", "", "-j RETURN"),
               V6_NAT)
    fw = firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=chains6)
    return (v6_snap(fw), args(),
            lambda c: c.fix[0] == "ip6tables -I DOCKER-USER -o br-000000000006 -d fd00:1::2 -p tcp --dport 80 -j ACCEPT")


@quiet("ND502", "ip6tables-not-read")
def _():
    """Without ip6tables, nothing is claimed of IPv6 traffic."""
    return v6_snap(firewall(ipv6_forward=True)), args()


@fires("ND503", "a-container-address-routed-through-a-docker-28-host")
def _():
    """The laptop routes the container network through the VM (the old workaround): silence, and
    the VM's firewall unread; Docker 28's filter of direct routing leads the candidates."""
    from tests.builders import C1, from_the_laptop

    snap = from_the_laptop("docker-28.2-usernet-portmap.rules", "28.2.2", tcp("192.0.2.2", 80, ReachResult.TIMEOUT))
    snap = dataclasses.replace(snap, firewall=Firewall(Outcome.unavailable("the Docker daemon runs on another host")),
                               listeners=(listening(C1.id, Socket(Protocol.TCP, 4, "0.0.0.0", 80)),))
    return (snap, args(to="192.0.2.2:80", target=C1),
            lambda c: c.summary == "192.0.2.2:80 is routed to the Docker host and goes no further: dropped there"
            and any(e.startswith("candidates: Docker 28.2.2's filter of packets other machines address to a "
                                 "container") for e in c.evidence)
            and c.fix[0] == "use 192.168.59.103:8080")


# --- IPv6 from another machine, to a port published on both 0.0.0.0 and [::] ---------------------

VM_V6 = "2001:db8:59::103"  # the Docker host's IPv6 address, as the laptop reaches it
DUAL = web(endpoints=(Endpoint("bridge", "n-bridge", "172.17.0.29", 16, gateway="172.17.0.1", ipv6="fd00:17::29"),),
           published=(PortBinding(80, Protocol.TCP, "0.0.0.0", 32768), PortBinding(80, Protocol.TCP, "::", 32768)))


def dual(fw: Firewall, result: ReachResult = ReachResult.TIMEOUT, to: str = f"[{VM_V6}]:32768"):
    """From the laptop, the VM read with --helper: its firewall, and its interfaces with their IPv6 address."""
    address = to.rsplit(":", 1)[0].strip("[]")
    vm = HostNet(Outcome(method="a helper container"), HostRole.DOCKER_HOST,
                 interfaces=(Interface("eth1", ("192.168.59.103/24", f"{VM_V6}/64")),))
    snap = dataclasses.replace(b2d(DUAL, reach=(tcp(address, 32768, result),)), firewall=fw, docker_host=vm)
    return snap, args(to=to)


V6_DROP = (chain("filter", "FORWARD", "DROP", "-j DOCKER-USER"), chain("filter", "DOCKER-USER", "", "-j RETURN"),
           V6_NAT)


@fires("ND502", "ipv6-from-another-machine-to-a-dual-stack-port")
def _():
    """The IPv4 rules accept the port; the IPv6 attempt meets ip6tables' DROP policy."""
    snap, a = dual(firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=V6_DROP))
    return (snap, a, lambda c: c.summary == "ip6tables' FORWARD policy is DROP and no rule accepts the IPv6 traffic "
                                            "to [::]:32768")


@quiet("ND502", "ipv4-from-another-machine-to-the-same-port")
def _():
    """The same host, the same ip6tables: an IPv4 attempt never meets them."""
    snap, a = dual(firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=V6_DROP),
                   to="192.168.59.103:32768")
    return snap, a


@fires("ND501", "ipv6-forwarding-off-for-an-ipv6-attempt")
def _():
    snap, a = dual(firewall(ipv6_forward=False, ip6tables_outcome=Outcome(), chains6=V6_ACCEPTING))
    return snap, a, lambda c: c.fix[0] == "sysctl -w net.ipv6.conf.all.forwarding=1"


@quiet("ND501", "ipv4-forwarding-off-is-not-an-ipv6-attempts-cause")
def _():
    snap, a = dual(firewall(ip_forward=False, ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=V6_ACCEPTING))
    return snap, a


# --- IPv6 that docker-proxy takes on the Docker host (dockerd without ip6tables: no IPv6 DNAT) ---------

@fires("ND502", "ipv6-taken-by-docker-proxy-dropped-in-input")
def _():
    """No DOCKER chain in ip6tables' nat table: the connection ends at docker-proxy on the host, and
    INPUT's rule is what drops it."""
    chains6 = (chain("filter", "INPUT", "ACCEPT", "-p tcp -m tcp --dport 32768 -j DROP"),
               chain("filter", "FORWARD", "ACCEPT"))
    snap, a = dual(firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=chains6))
    return (snap, a, lambda c: c.summary == f"an ip6tables INPUT rule drops the connections to [{VM_V6}]:32768"
            and c.fix == ("ip6tables -D INPUT -p tcp -m tcp --dport 32768 -j DROP",
                          "or let this port in first: ip6tables -I INPUT -p tcp --dport 32768 -j ACCEPT"))


@fires("ND502", "ipv6-taken-by-docker-proxy-input-policy-drop")
def _():
    chains6 = (chain("filter", "INPUT", "DROP", "-i lo -j ACCEPT",
                     "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-p tcp -m tcp --dport 22 -j ACCEPT"),)
    snap, a = dual(firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=chains6))
    return (snap, a, lambda c: c.fix == ("ip6tables -I INPUT -p tcp --dport 32768 -j ACCEPT",))


@quiet("ND502", "ipv6-taken-by-docker-proxy-never-meets-forward")
def _():
    """ip6tables' FORWARD policy is DROP, but nothing of this connection is forwarded."""
    snap, a = dual(firewall(ipv6_forward=True, ip6tables_outcome=Outcome(), chains6=V6_DROP[:2]))
    return snap, a


@quiet("ND501", "ipv6-taken-by-docker-proxy-needs-no-forwarding")
def _():
    snap, a = dual(firewall(ipv6_forward=False, ip6tables_outcome=Outcome(), chains6=V6_ACCEPTING[:2]))
    return snap, a


# --- a rootless engine: its forwarder takes the connections on the host, through INPUT -------------

def rootless_local(fw):
    from tests.builders import LOCAL_ENGINE

    engine = dataclasses.replace(LOCAL_ENGINE, security_options=("name=rootless",), product=EngineProduct.PODMAN)
    return dataclasses.replace(local(fw=fw, reach=(tcp("127.0.0.1", 32768, ReachResult.TIMEOUT),)), engine=engine)


@fires("ND502", "rootless-published-port-dropped-in-input")
def _():
    fw = firewall(chains=firewall().chains + (chain("filter", "INPUT", "ACCEPT", "-p tcp -m tcp --dport 32768 -j DROP"),))
    return (rootless_local(fw), args(),
            lambda c: c.summary == "an iptables INPUT rule drops the connections to 127.0.0.1:32768"
            and any(e.startswith("Podman's port forwarder (rootlessport, or pasta) takes the connections to 32768")
                    for e in c.evidence)
            and c.fix[0] == "iptables -D INPUT -p tcp -m tcp --dport 32768 -j DROP")


@fires("ND502", "rootless-published-port-dropped-by-firewalld-input")
def _():
    fw = firewall(nft_outcome=Outcome(method="nft -j list ruleset"),
                  nft_chains=(Chain("inet firewalld", "filter_INPUT", "DROP", (), "input"),))
    return (rootless_local(fw), args(),
            lambda c: c.summary == "nftables table inet firewalld drops the connections to 127.0.0.1:32768 on the "
                                   "Docker host"
            and c.fix[0] == "firewall-cmd --permanent --add-port=32768/tcp && firewall-cmd --reload")


@quiet("ND502", "rootless-published-port-never-meets-forward")
def _():
    """The FORWARD chain's DROP policy, with Docker's accept missing: none of it applies."""
    fw = firewall(chains=tuple(c for c in firewall().chains if c.name != "DOCKER" or c.table != "filter")
                  + (chain("filter", "DOCKER", ""),))
    return rootless_local(fw), args()


@unknown("ND502", "podman-not-known-to-be-rootful")
def _():
    """Podman behind a proxy that passes Docker's API only: its own info, which says whether it
    runs rootless, was not read. Its FORWARD chain would drop a rootful Podman's ports and never
    meets a rootless one's: neither is claimed."""
    from tests.builders import LOCAL_ENGINE

    fw = firewall(chains=tuple(c for c in firewall().chains if c.name != "DOCKER" or c.table != "filter")
                  + (chain("filter", "DOCKER", ""),))
    snap = local(fw=fw, reach=(tcp("127.0.0.1", 32768, ReachResult.TIMEOUT),))
    return (dataclasses.replace(snap, engine=dataclasses.replace(LOCAL_ENGINE, product=EngineProduct.PODMAN)),
            args(), lambda d: d.verdict == "unknown" and any("Podman's own info (/libpod/info) was not read" in u
                                                         for u in d.unknown_reasons))


# --- two iptables variants in use: legacy beside nft (the kernel runs both) ------------------------

LEGACY_FORWARD_DROP = (chain("filter", "FORWARD", "DROP"),)


@fires("ND502", "a-legacy-forward-drop-beside-dockers-nft-rules")
def _():
    """Docker's rules in iptables-nft accept the port; a legacy FORWARD DROP (an old firewall
    script) drops it anyway."""
    fw = firewall(iptables_variant="nf_tables", other_variant="legacy", other_outcome=Outcome(),
                  other_chains=LEGACY_FORWARD_DROP)
    return (snap(fw), args(),
            lambda c: c.summary == "iptables-legacy's FORWARD policy is DROP and no rule there accepts the traffic "
                                   "to 10.0.2.15:32768"
            and c.evidence[1] == "Docker's rules are in iptables-nft, this chain in iptables-legacy: the kernel runs "
                                 "both, and a drop in either is final"
            and c.fix[0] == "iptables-legacy -P FORWARD ACCEPT  (Docker's own rules do the filtering)")


@fires("ND502", "dockers-rules-in-legacy-an-nft-forward-drop-beside-them")
def _():
    """dockerd writes iptables-legacy; the host's default iptables (nft) has a FORWARD DROP with
    no jump to Docker: not Docker's rules gone, but the other variant's policy."""
    fw = firewall(chains=(chain("filter", "FORWARD", "DROP"),), iptables_variant="nf_tables", other_variant="legacy",
                  other_outcome=Outcome(), other_chains=firewall().chains)
    return (snap(fw), args(),
            lambda c: c.summary == "iptables-nft's FORWARD policy is DROP and no rule there accepts the traffic to "
                                   "10.0.2.15:32768"
            and c.fix[0] == "iptables -P FORWARD ACCEPT  (Docker's own rules do the filtering)")


@fires("ND502", "a-docker-user-rule-in-legacy-is-removed-with-iptables-legacy")
def _():
    legacy = tuple(c for c in firewall().chains if c.name != "DOCKER-USER") + (
        chain("filter", "DOCKER-USER", "", "-p tcp -m tcp --dport 80 -j DROP", "-j RETURN"),)
    fw = firewall(chains=(), iptables_variant="nf_tables", other_variant="legacy", other_outcome=Outcome(),
                  other_chains=legacy)
    return snap(fw), args(), lambda c: c.fix[0] == "iptables-legacy -D DOCKER-USER -p tcp -m tcp --dport 80 -j DROP"


@quiet("ND502", "a-legacy-table-with-nothing-in-it")
def _():
    fw = firewall(iptables_variant="nf_tables", other_variant="legacy", other_outcome=Outcome(),
                  other_chains=(chain("filter", "FORWARD", "ACCEPT"),))
    return snap(fw), args()


@fires("ND502", "rootless-published-port-dropped-by-a-legacy-input-policy")
def _():
    """The connections pass INPUT, in both iptables variants: legacy's DROP policy drops them."""
    fw = firewall(iptables_variant="nf_tables", other_variant="legacy", other_outcome=Outcome(),
                  other_chains=(chain("filter", "INPUT", "DROP", "-i lo -p tcp -m tcp --dport 22 -j ACCEPT"),))
    return (rootless_local(fw), args(),
            lambda c: c.summary == "iptables-legacy's INPUT policy is DROP and no rule accepts the connections to "
                                   "127.0.0.1:32768"
            and c.fix == ("iptables-legacy -I INPUT -p tcp --dport 32768 -j ACCEPT",))


@fires("ND502", "host-network-mode-behind-an-input-rule")
def _():
    """The app of a container in host network mode is on the host itself: INPUT filters it."""
    hostmode = web(network_mode="host", published=(), requested=(), endpoints=())
    fw = firewall(chains=firewall().chains + (chain("filter", "INPUT", "ACCEPT", "-p tcp -m tcp --dport 80 -j DROP"),))
    return (local(hostmode, fw=fw, reach=(tcp("127.0.0.1", 80, ReachResult.TIMEOUT),)), args(port=80),
            lambda c: c.summary == "an iptables INPUT rule drops the connections to 127.0.0.1:80"
            and c.fix[0] == "iptables -D INPUT -p tcp -m tcp --dport 80 -j DROP")
