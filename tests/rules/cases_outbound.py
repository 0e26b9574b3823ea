"""Examples of netdiag/rules/outbound.py: from a container out to the Docker host, the LAN, the internet."""

from __future__ import annotations

import dataclasses

from netdiag.facts import (
    Endpoint,
    HostsEntry,
    KernelRoute,
    Lookup,
    Outcome,
    PathMtu,
    PortBinding,
    PortHolders,
    Reach,
    Route,
    Socket,
    SourceView,
)
from netdiag.vocab import DnsResult, Origin, ProbeKind, ReachResult
from tests.builders import BRIDGE, CLIENT_ID, INTERNAL, OTHER_NET, chain, client, firewall, local, web
from tests.rules.examples import args, fires, quiet, unknown

FAR = "198.51.100.10"
APP = dataclasses.replace(client("bridge", "172.17.0.2", name="app"),
                          endpoints=(Endpoint("bridge", "n-bridge", "172.17.0.2", 16, gateway="172.17.0.1"),))
VIEW = SourceView(Outcome(method="/proc/5151"), CLIENT_ID, (Route("0.0.0.0/0", "172.17.0.1", "eth0"),
                                                            Route("172.17.0.0/16", "", "eth0")),
                  ("198.51.100.53",), hosts=(HostsEntry("127.0.0.1", ("localhost",)),
                                             HostsEntry("172.17.0.2", ("c0ffee",))))
FORWARD = chain("filter", "FORWARD", "DROP", "-j DOCKER-USER", "-o docker0 -m conntrack --ctstate RELATED,ESTABLISHED "
                "-j ACCEPT", "-o docker0 -j DOCKER", "-i docker0 ! -o docker0 -j ACCEPT")
MASQUERADE = chain("nat", "POSTROUTING", "ACCEPT", "-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
FROM_APP = "container:app"


def fw(*chains, **changes):
    """The Docker host's firewall with its NAT for the default bridge; `chains` replace their namesakes."""
    base = {(c.table, c.name): c for c in firewall().chains}
    base[("filter", "FORWARD")] = FORWARD
    base[("nat", "POSTROUTING")] = MASQUERADE
    base.update({(c.table, c.name): c for c in chains})
    return firewall(chains=tuple(base.values()), **changes)


def attempt(result: ReachResult, origin: str = FROM_APP, address: str = FAR, port: int | None = 80, **kw) -> Reach:
    kind = ProbeKind.TCP if port else ProbeKind.ICMP
    return Reach(Outcome(method="connect()"), kind, address, port, result, origin=Origin.parse(origin), **kw)


ANSWERED = (attempt(ReachResult.ANSWERED, banner="HTTP/1.0 200 OK"), attempt(ReachResult.ANSWERED, "host"))
TIMED_OUT = (attempt(ReachResult.TIMEOUT), attempt(ReachResult.ANSWERED, "host"))


def world(src=APP, view=VIEW, lookups=(), reach=ANSWERED, firewall_=None, networks=(BRIDGE,), holders=None,
          others=()):
    snap = local(src, *others, listeners=(), reach=reach, fw=firewall_ or fw(), networks=networks, holders=holders)
    return dataclasses.replace(snap, source_views=(view,) if view else (), lookups=tuple(lookups))


def out(to: str = f"{FAR}:80", **kw):
    return args(to=to, origin=FROM_APP, outbound=True, **kw)


def lookup(name: str, server: str, result: DnsResult, *addresses: str, upstream: bool = False, detail: str = ""):
    return Lookup(Outcome(method="DNS query"), name, server, result, addresses, detail, origin=Origin("app"),
                  upstream=upstream)


RESOLVED = (lookup("web.lab.test", "198.51.100.53", DnsResult.ANSWERED, FAR),)


# --- ND701 no network -----------------------------------------------------------------------------

@fires("ND701", "network-none")
def _():
    src = dataclasses.replace(APP, network_mode="none", endpoints=())
    return world(src, reach=(attempt(ReachResult.ICMP_UNREACHABLE, detail="network unreachable"),)), out(), \
        lambda c: c.fix == ("docker network connect bridge app",)


@quiet("ND701", "on-the-bridge")
def _():
    return world(), out(), lambda d: d.verdict == "reachable" and d.works == (f"{FAR}:80",)


# --- ND702 internal only --------------------------------------------------------------------------

ON_INTERNAL = dataclasses.replace(APP, network_mode="backend",
                                  endpoints=(Endpoint("backend", "n-int", "172.20.0.2", 16),))


@fires("ND702", "internal-only")
def _():
    return world(ON_INTERNAL, networks=(BRIDGE, INTERNAL), reach=TIMED_OUT), out(), \
        lambda c: c.evidence == ("network backend (172.20.0.0/16): internal",)


@quiet("ND702", "destination-on-the-internal-network")
def _():
    return world(ON_INTERNAL, networks=(BRIDGE, INTERNAL),
                 reach=(attempt(ReachResult.ANSWERED, address="172.20.0.9"),)), out("172.20.0.9:80")


@unknown("ND702", "networks-not-read")
def _():
    snap = world(ON_INTERNAL, networks=(BRIDGE, INTERNAL), reach=TIMED_OUT)
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), out()


# --- ND703 dns-failure ------------------------------------------------------------------------------

@fires("ND703", "loopback-resolver")
def _():
    view = dataclasses.replace(VIEW, nameservers=("127.0.0.53",))
    return world(view=view, lookups=(lookup("web.lab.test", "127.0.0.53", DnsResult.UNREACHABLE,
                                            detail="nothing listens there"),), reach=()), \
        out("web.lab.test:80"), lambda c: "resolver 127.0.0.53 is a loopback address" in c.summary \
        and "web.lab.test at 127.0.0.53: unreachable (nothing listens there)" in c.evidence


@fires("ND703", "host-docker-internal-on-linux")
def _():
    return world(lookups=(lookup("host.docker.internal", "198.51.100.53", DnsResult.NXDOMAIN),), reach=()), \
        out("host.docker.internal:8000"), \
        lambda c: c.fix[0].startswith("docker run --add-host host.docker.internal:host-gateway ...  (maps it to "
                                      "172.17.0.1")


@fires("ND703", "embedded-dns-upstream-silent")
def _():
    view = dataclasses.replace(VIEW, nameservers=("127.0.0.11",), ext_servers=("198.51.100.99",))
    return world(view=view, reach=(), lookups=(
        lookup("web.lab.test", "127.0.0.11", DnsResult.SERVFAIL),
        lookup("web.lab.test", "198.51.100.99", DnsResult.TIMEOUT, upstream=True))), out("web.lab.test:80"), \
        lambda c: c.summary == "Docker's embedded DNS forwards web.lab.test to 198.51.100.99, which does not answer " \
                               "from app"


@fires("ND703", "name-does-not-exist")
def _():
    return world(lookups=(lookup("nosuch.lab.test", "198.51.100.53", DnsResult.NXDOMAIN),), reach=()), \
        out("nosuch.lab.test:80"), lambda c: "says it has no address" in c.summary


@fires("ND703", "resolver-silent")
def _():
    return world(lookups=(lookup("web.lab.test", "198.51.100.53", DnsResult.TIMEOUT),), reach=()), \
        out("web.lab.test:80"), lambda c: c.summary == "no resolver of app answers for web.lab.test (198.51.100.53)"


@quiet("ND703", "resolved-by-dns")
def _():
    return world(lookups=RESOLVED), out("web.lab.test:80"), lambda d: d.verdict == "reachable"


@quiet("ND703", "in-the-hosts-file")
def _():
    view = dataclasses.replace(VIEW, hosts=VIEW.hosts + (HostsEntry(FAR, ("db.internal",)),))
    return world(view=view), out("db.internal:80"), lambda d: d.verdict == "reachable"


@unknown("ND703", "not-looked-up")
def _():
    return world(reach=()), out("web.lab.test:80")


# --- ND704 forwarding off ---------------------------------------------------------------------------

@fires("ND704", "ip-forward-off")
def _():
    return world(reach=TIMED_OUT, firewall_=fw(ip_forward=False)), out(), \
        lambda c: c.evidence == ("net.ipv4.ip_forward = 0 on the Docker host", f"from app to {FAR}:80: timeout")


@quiet("ND704", "answered-all-the-same")
def _():
    return world(firewall_=fw(ip_forward=False)), out()


@quiet("ND704", "to-the-docker-host")
def _():
    return world(firewall_=fw(ip_forward=False), reach=(attempt(ReachResult.ANSWERED, address="172.17.0.1"),)), \
        out("172.17.0.1:80")


@unknown("ND704", "sysctls-not-read")
def _():
    return world(reach=TIMED_OUT, firewall_=dataclasses.replace(fw(), outcome=Outcome.unavailable("needs root"))), out()


# --- ND705 firewall-blocks, outbound ------------------------------------------------------------------

@fires("ND705", "docker-user-drops-the-way-out")
def _():
    user = chain("filter", "DOCKER-USER", "", f"-d {FAR}/32 -p tcp -m tcp --dport 80 -j DROP", "-j RETURN")
    return world(reach=TIMED_OUT, firewall_=fw(user)), out(), \
        lambda c: c.fix[0] == f"iptables -D DOCKER-USER -d {FAR}/32 -p tcp -m tcp --dport 80 -j DROP" \
        and "the connection: 172.17.0.2 -> 198.51.100.10:80/tcp, in on docker0, out on eth0" in c.evidence


@fires("ND705", "docker-user-eats-the-replies")
def _():
    user = chain("filter", "DOCKER-USER", "", "-i eth0 -j DROP", "-j RETURN")
    return world(reach=TIMED_OUT, firewall_=fw(user)), out(), \
        lambda c: c.summary == f"a DOCKER-USER rule drops the replies from {FAR}:80"


@fires("ND705", "forward-policy-drop-without-docker-rules")
def _():
    return world(reach=TIMED_OUT, firewall_=fw(chain("filter", "FORWARD", "DROP"))), out(), \
        lambda c: "filter/FORWARD policy: DROP" in c.evidence


@fires("ND705", "input-drops-traffic-to-the-host")
def _():
    return world(reach=(attempt(ReachResult.TIMEOUT, address="172.17.0.1", port=8000),),
                 firewall_=fw(chain("filter", "INPUT", "DROP", "-i lo -j ACCEPT"))), out("172.17.0.1:8000"), \
        lambda c: c.fix == ("iptables -I INPUT -i docker0 -p tcp --dport 8000 -j ACCEPT",)


@quiet("ND705", "rule-depends-on-an-ipset")
def _():
    user = chain("filter", "DOCKER-USER", "", "-m set --match-set blocked dst -j DROP", "-j RETURN")
    return world(reach=TIMED_OUT, firewall_=fw(user)), out()


@quiet("ND705", "answered-through-the-rule")
def _():
    user = chain("filter", "DOCKER-USER", "", "-i eth0 -j DROP", "-j RETURN")
    return world(firewall_=fw(user)), out()


@unknown("ND705", "iptables-not-read")
def _():
    return world(reach=TIMED_OUT, firewall_=fw(iptables_outcome=Outcome.unavailable("iptables-save needs root"))), \
        out()


# --- ND706 no-masquerade ------------------------------------------------------------------------------

@fires("ND706", "no-nat-for-the-subnet")
def _():
    return world(reach=TIMED_OUT, firewall_=fw(chain("nat", "POSTROUTING", "ACCEPT"))), out(), \
        lambda c: c.fix[0] == "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"


@fires("ND706", "masquerade-switched-off-on-the-network")
def _():
    net = dataclasses.replace(BRIDGE, options={"com.docker.network.bridge.enable_ip_masquerade": "false"})
    return world(reach=TIMED_OUT, networks=(net,), firewall_=fw(chain("nat", "POSTROUTING", "ACCEPT"))), out(), \
        lambda c: "network bridge: com.docker.network.bridge.enable_ip_masquerade=false" in c.evidence


@quiet("ND706", "masqueraded")
def _():
    return world(reach=TIMED_OUT), out()


@quiet("ND706", "routed-back-by-the-lan")
def _():
    return world(firewall_=fw(chain("nat", "POSTROUTING", "ACCEPT"))), out()


@unknown("ND706", "nat-not-read")
def _():
    return world(reach=TIMED_OUT, firewall_=fw(iptables_outcome=Outcome.failed("iptables-save exited 1"))), out()


# --- ND707 subnet-overlap, outbound --------------------------------------------------------------------

@fires("ND707", "another-network-holds-the-destination")
def _():
    net = dataclasses.replace(OTHER_NET, subnets=("198.51.100.0/25",))
    return world(reach=TIMED_OUT, networks=(BRIDGE, net)), out(), \
        lambda c: c.evidence[0] == f"{FAR} is inside network other's subnet 198.51.100.0/25"


@quiet("ND707", "a-container-of-that-network")
def _():
    net = dataclasses.replace(OTHER_NET, subnets=("198.51.100.0/25",))
    there = dataclasses.replace(client("other", FAR, name="far"), id="f" * 64)
    return world(reach=TIMED_OUT, networks=(BRIDGE, net), others=(there,)), out()


@unknown("ND707", "networks-not-read")
def _():
    snap = world(reach=TIMED_OUT)
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), out()


# --- ND708 host-service-on-loopback -------------------------------------------------------------------

TO_HOST = (attempt(ReachResult.REFUSED, address="172.17.0.1", port=8000),
           attempt(ReachResult.REFUSED, "host", address="172.17.0.1", port=8000))


def holders(*sockets: Socket):
    return PortHolders(Outcome(method="sock_diag"), sockets)


@fires("ND708", "bound-to-loopback")
def _():
    return world(reach=TO_HOST, holders=holders(Socket("tcp", 4, "127.0.0.1", 8000, process="python3"))), \
        out("172.17.0.1:8000"), lambda c: "on the Docker host: python3 on 127.0.0.1:8000" in c.evidence \
        and c.fix[0].startswith("make the service listen on 172.17.0.1:8000")


@fires("ND708", "a-containers-port-published-on-loopback")
def _():
    """web publishes 80 on 127.0.0.1:8000 only; app, on the default bridge beside it, is told web's address."""
    pub = web(published=(PortBinding(80, "tcp", "127.0.0.1", 8000),))
    return (world(reach=TO_HOST, holders=holders(Socket("tcp", 4, "127.0.0.1", 8000, process="docker-proxy")),
                  others=(pub,)), out("172.17.0.1:8000"),
            lambda c: c.summary == "172.17.0.1:8000 is web's port 80, published on 127.0.0.1 of the Docker host only: "
                                   "app finds nothing there"
            and c.fix == ("use 172.17.0.29:80 (on bridge, which app shares)",
                          "or publish it on the gateway too: docker run -p 172.17.0.1:8000:80 ...  (beside -p "
                          "127.0.0.1:8000:80)"))


@quiet("ND708", "bound-to-all-addresses")
def _():
    return world(reach=(attempt(ReachResult.ANSWERED, address="172.17.0.1", port=8000),),
                 holders=holders(Socket("tcp", 4, "0.0.0.0", 8000, process="python3"))), out("172.17.0.1:8000")


@unknown("ND708", "host-sockets-not-read")
def _():
    return world(reach=TO_HOST, holders=PortHolders(Outcome.unavailable("needs root"))), out("172.17.0.1:8000")


# --- ND709 destination-down ----------------------------------------------------------------------------

@fires("ND709", "refused-from-the-host-too")
def _():
    return world(reach=(attempt(ReachResult.REFUSED), attempt(ReachResult.REFUSED, "host"))), out(), \
        lambda c: c.evidence[-1] == f"from the Docker host: {FAR}:80 refused"


@fires("ND709", "nothing-on-the-host")
def _():
    return world(reach=TO_HOST, holders=holders()), out("172.17.0.1:8000"), \
        lambda c: "nothing on the Docker host listens on 8000/tcp" in c.evidence


@quiet("ND709", "host-answered")
def _():
    return world(reach=TIMED_OUT), out()


@unknown("ND709", "host-attempt-not-made")
def _():
    return world(reach=(attempt(ReachResult.REFUSED),)), out()


# --- ND710 mtu-blackhole ------------------------------------------------------------------------------

def path_mtu(answered=(1400, 1360, 1280, 1024, 576), **kw):
    sizes = (1500, 1480, 1450, 1400, 1360, 1280, 1024, 576)
    base = dict(interface_mtu=1500, sizes=sizes, answered=answered, transfer_expected=524288,
                transfer_received=524288, transfer_detail="GET / from inside the container: 524288 of 524288 body "
                                                          "bytes; the server closed the connection")
    base.update(kw)
    return PathMtu(Outcome(method="don't-fragment echoes"), FAR, Origin("app"), **base)


def with_mtu(m):
    return dataclasses.replace(world(), path_mtu=(m,))


@fires("ND710", "large-echoes-vanish")
def _():
    return with_mtu(path_mtu()), out(), \
        lambda c: "don't-fragment echoes to 198.51.100.10: 1400, 1360, 1280, 1024, 576 bytes came back; 1500, 1480, " \
                  "1450 did not" in c.evidence and c.fix[0].startswith('"mtu": 1400 in /etc/docker/daemon.json')


@fires("ND710", "download-stalls")
def _():
    m = path_mtu(answered=(), transfer_received=0,
                 transfer_detail="GET / from inside the container: 0 of 524288 body bytes; nothing more arrived for 1.5s")
    return with_mtu(m), out(), lambda c: "nothing more arrived" in c.evidence[-1]


@quiet("ND710", "a-router-says-fragmentation-needed")
def _():
    return with_mtu(path_mtu(frag_needed_from="198.18.1.2", frag_needed_mtu=1400)), out()


@quiet("ND710", "every-size-passes")
def _():
    return with_mtu(path_mtu(answered=(1500, 1480, 1450, 1400, 1360, 1280, 1024, 576))), out(), \
        lambda d: d.verdict == "reachable"


@quiet("ND710", "no-echo-answers-and-the-download-completes")
def _():
    return with_mtu(path_mtu(answered=())), out()


@unknown("ND710", "large-packets-not-tried")
def _():
    return world(), out()


# --- ND711 no-route-out ----------------------------------------------------------------------------------

def kernel(error: str = "", kind: str = "unicast", device: str = "eth0", table: str = "main"):
    return KernelRoute(Outcome(method="RTM_GETROUTE"), FAR, Origin(), "172.17.0.2", "docker0", device,
                       "10.0.2.2" if not error else "", "", table, kind, error)


def routed(k, reach=TIMED_OUT):
    return dataclasses.replace(world(reach=reach), kernel_routes=(k,))


@fires("ND711", "policy-rule-refuses")
def _():
    return routed(kernel(error="No route to host", kind="")), out(), \
        lambda c: c.evidence[0] == f"the Docker host's kernel, for a packet from 172.17.0.2 in on docker0 to {FAR}: " \
                                   "No route to host" and "from 172.17.0.0/16 lookup main" in c.fix[1]


@fires("ND711", "blackhole-in-a-vpn-table")
def _():
    return routed(kernel(kind="blackhole", device="", table="51820")), out(), \
        lambda c: c.summary.endswith("a blackhole route in table 51820")


@quiet("ND711", "routed-out-of-the-uplink")
def _():
    return routed(kernel()), out()


@quiet("ND711", "answered-all-the-same")
def _():
    return routed(kernel(error="No route to host"), reach=ANSWERED), out()


@unknown("ND711", "kernel-not-asked")
def _():
    return world(reach=TIMED_OUT), out()


@quiet("ND711", "forwarding-off-is-the-cause")
def _():
    snap = routed(kernel(error="Invalid cross-device link", kind=""))
    return dataclasses.replace(snap, firewall=dataclasses.replace(snap.firewall, ip_forward=False)), out(), \
        lambda d: [c.code for c in d.causes] == ["ip-forwarding-disabled"]


@fires("ND705", "another-nftables-table-drops-the-way-out")
def _():
    from netdiag.facts import Chain, FirewallRule, Match

    nft = (Chain("inet firewalld", "filter_FORWARD", "DROP",
                 (FirewallRule("oifname docker0 accept", "ACCEPT", out_interface=Match("docker0")),), "forward"),)
    return world(reach=TIMED_OUT, firewall_=fw(nft_outcome=Outcome(), nft_chains=nft)), out(), \
        lambda c: c.fix[0] == "firewall-cmd --permanent --zone=docker --change-interface=docker0 && firewall-cmd --reload"


def udp(result: ReachResult, origin: str = FROM_APP, **kw) -> Reach:
    return Reach(Outcome(method="UDP datagram"), ProbeKind.UDP, FAR, 53, result, origin=Origin.parse(origin), **kw)


@fires("ND709", "udp-port-unreachable-from-the-host-too")
def _():
    return world(reach=(udp(ReachResult.REFUSED), udp(ReachResult.REFUSED, "host"))), out(f"{FAR}:53/udp"), \
        lambda c: c.evidence[-1].startswith(f"from the Docker host: {FAR}:53/udp refused")


@quiet("ND709", "udp-silence-proves-nothing")
def _():
    return world(reach=(udp(ReachResult.TIMEOUT), udp(ReachResult.TIMEOUT, "host"))), out(f"{FAR}:53/udp"), \
        lambda d: d.verdict == "unknown"


@quiet("ND709", "udp-answered")
def _():
    return world(reach=(udp(ReachResult.ANSWERED), udp(ReachResult.ANSWERED, "host"))), out(f"{FAR}:53/udp"), \
        lambda d: d.verdict == "reachable" and d.works == (f"{FAR}:53/udp",)


@quiet("ND704", "source-in-the-hosts-network")
def _():
    src = dataclasses.replace(APP, network_mode="host", endpoints=())
    return world(src, reach=TIMED_OUT, firewall_=fw(ip_forward=False)), out()


# --- ND712 wrong-address: loopback inside the container ------------------------------------------------

@fires("ND712", "localhost-for-the-hosts-database")
def _():
    from netdiag.facts import Listeners

    snap = world(reach=(attempt(ReachResult.REFUSED, address="127.0.0.1", port=5432),))
    mine = Listeners(Outcome(method="sock_diag"), CLIENT_ID, (Socket("tcp", 4, "127.0.0.11", 41234, note="dns"),))
    return dataclasses.replace(snap, listeners=(mine,)), out("localhost:5432"), \
        lambda c: c.evidence == ("localhost:5432 is app's own loopback (localhost -> 127.0.0.1)",
                                 "inside app: nothing listens on 5432/tcp") \
        and c.fix[0].startswith("use 172.17.0.1:5432 (the Docker host on the bridge)")


@quiet("ND712", "a-service-inside-answers")
def _():
    return world(reach=(attempt(ReachResult.ANSWERED, address="127.0.0.1", port=8080),)), out("127.0.0.1:8080")


@quiet("ND712", "in-the-hosts-network")
def _():
    src = dataclasses.replace(APP, network_mode="host", endpoints=())
    return world(src, reach=(attempt(ReachResult.REFUSED, address="127.0.0.1", port=5432),)), out("127.0.0.1:5432")


# --- ND713 the source container is not running -----------------------------------------------------------

@fires("ND713", "exited")
def _():
    from netdiag.facts import ContainerState

    src = dataclasses.replace(APP, state=ContainerState("exited", False, exit_code=137))
    return world(src, view=None, reach=()), out(), \
        lambda c: c.evidence == ("app: exited, exit code 137",) and c.fix[0] == "docker start app"


@quiet("ND713", "running")
def _():
    return world(), out()


@fires("ND703", "dockers-fallback-resolvers-blocked")
def _():
    view = dataclasses.replace(VIEW, nameservers=("8.8.8.8", "8.8.4.4"))
    return world(view=view, reach=(), lookups=(lookup("db.corp.example", "8.8.8.8", DnsResult.TIMEOUT),
                                               lookup("db.corp.example", "8.8.4.4", DnsResult.TIMEOUT))), \
        out("db.corp.example:5432"), \
        lambda c: any("Docker's fallback public resolvers" in e for e in c.evidence) \
        and c.fix[0].startswith('"dns": ["<your network\'s DNS server>"] in /etc/docker/daemon.json')


@quiet("ND710", "the-full-size-could-not-even-be-sent")
def _():
    # the kernel refused the 1500-byte echo (a local MTU or route limit): it was never sent, so its
    # silence is no evidence; only the sizes sent are recorded, and all of them came back
    return with_mtu(path_mtu(sizes=(1400, 1360, 1280, 1024, 576), answered=(1400, 1360, 1280, 1024, 576))), out()


@quiet("ND703", "a-name-with-ipv6-addresses-only")
def _():
    """The A query says no address, the AAAA query gives one: the name resolves, and a note says
    why an IPv4-only container still cannot use it."""
    v6 = lookup("v6.lab.test", "198.51.100.53", DnsResult.ANSWERED, "2001:db8:100::10",
                detail="IPv6 addresses only (AAAA): no IPv4 address (A)")
    silent = (Reach(Outcome(method="connect()"), ProbeKind.TCP, "2001:db8:100::10", 80, ReachResult.ERROR,
                    detail="Network is unreachable", origin=Origin("app")),)
    return world(lookups=(v6,), reach=silent), out("v6.lab.test:80"), \
        lambda d: "v6.lab.test is reached at an IPv6 address (2001:db8:100::10), and app has no IPv6 address: only " \
                  "a network created with IPv6 (docker network create --ipv6 ...) gives it one, or use an IPv4 " \
                  "address or name" in d.notes and not d.causes
