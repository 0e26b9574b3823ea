"""The pure parsers, on text recorded from the lab's real engine and namespaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netdiag.facts import NatRule, Route
from netdiag.parsers.execstream import demultiplex
from netdiag.parsers.inspect import container_from_inspect, network_from_inspect
from netdiag.parsers.iptables import docker_nat_rules, iptables_variant, parse_iptables_save
from netdiag.parsers.ping import parse_ping
from netdiag.parsers.procnet import decode_address, listeners_from_files, parse_listeners
from netdiag.parsers.proxy import parse_proxy_cmdline
from netdiag.parsers.routes import parse_ipv4_routes, parse_ipv6_routes, route_for
from netdiag.vocab import ReachResult

DATA = Path(__file__).parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_decode_addresses():
    assert decode_address("0100007F") == "127.0.0.1"
    assert decode_address("0B00007F") == "127.0.0.11"
    assert decode_address("00000000000000000000000001000000") == "::1"
    assert decode_address("00000000000000000000000000000000") == "::"


def test_listeners_of_the_recorded_container():
    socks = listeners_from_files({"tcp": read("proc-net-tcp.txt"), "tcp6": read("proc-net-tcp6.txt"),
                                  "udp": read("proc-net-udp.txt")})
    got = [(s.protocol, s.family, s.address, s.port) for s in socks]
    assert got == [("tcp", 6, "::", 80), ("tcp", 4, "127.0.0.1", 8081)]
    assert socks[1].loopback_only and not socks[0].loopback_only and socks[0].wildcard


def test_established_sockets_are_not_listeners():
    text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 1D0011AC:0050 0339A8C0:F03E 01 00000000:00000000 00:00000000 00000000     0        0 0 1\n"
            "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n")
    assert [(s.address, s.port, s.inode) for s in parse_listeners(text, "tcp", 4)] == [("0.0.0.0", 80, 77)]


def test_embedded_dns_is_named():
    text = ("  sl  local_address rem_address   st\n"
            "   0: 0B00007F:A1B2 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1\n")
    (s,) = parse_listeners(text, "tcp", 4)
    assert s.address == "127.0.0.11" and s.note == "Docker embedded DNS"


def test_laptop_routes_and_the_way_to_a_container_ip():
    routes = parse_ipv4_routes(read("route-laptop.txt"))
    assert Route("0.0.0.0/0", "10.0.1.1", "ndt-up0", 0, 4) in routes
    assert Route("192.168.59.0/24", "", "ndt-lap0", 0, 4) in routes
    assert route_for(routes, "172.17.0.2").gateway == "10.0.1.1"  # the default route: to the ISP
    assert route_for(routes, "192.168.59.103").device == "ndt-lap0"


def test_longest_prefix_wins_then_metric():
    routes = [Route("0.0.0.0/0", "10.0.1.1", "up0"), Route("172.17.0.0/16", "192.168.59.103", "lap0"),
              Route("172.17.5.0/24", "", "tun0", 50), Route("172.17.5.0/24", "", "tun1", 10)]
    assert route_for(routes, "172.17.0.29").gateway == "192.168.59.103"
    assert route_for(routes, "172.17.5.9").device == "tun1"
    assert route_for([], "172.17.0.29") is None


def test_ipv6_routes():
    routes = parse_ipv6_routes(read("ipv6-route.txt"))
    assert all(r.family == 6 and r.device != "lo" for r in routes)


def test_iptables_save_chains_and_docker_dnat():
    chains = parse_iptables_save(read("iptables-save.txt"))
    by = {(c.table, c.name): c for c in chains}
    assert by[("filter", "FORWARD")].policy == "DROP"
    assert [r.text for r in by[("filter", "DOCKER-USER")].rules] == ["-j RETURN"]
    assert by[("filter", "DOCKER-USER")].rules[0].target == "RETURN"
    assert by[("nat", "DOCKER")].policy == ""
    nat = docker_nat_rules(chains)
    assert NatRule("tcp", "127.0.0.1", 8443, "172.17.0.2", 443, "!docker0") in nat
    assert NatRule("tcp", "", 32798, "172.17.0.2", 80, "!docker0") in nat


def test_docker_proxy_command_line():
    argv = ["/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "32798",
            "-container-ip", "172.17.0.2", "-container-port", "80"]
    p = parse_proxy_cmdline(4125, argv)
    assert (p.pid, p.host_ip, p.host_port, p.container_ip, p.container_port) == (4125, "0.0.0.0", 32798,
                                                                                  "172.17.0.2", 80)
    assert parse_proxy_cmdline(1, ["/usr/bin/python3", "-m", "x"]) is None
    assert parse_proxy_cmdline(1, ["docker-proxy", "-host-port", "x"]) is None


def test_system_ping_outputs():
    unreachable = parse_ping(read("ping-net-unreachable.txt"))
    assert unreachable["result"] == ReachResult.ICMP_UNREACHABLE
    assert (unreachable["responder"], unreachable["icmp_type"], unreachable["icmp_code"]) == ("10.0.1.1", 3, 0)
    reply = parse_ping(read("ping-reply.txt"))
    assert reply["result"] == ReachResult.ANSWERED and reply["responder"] == "192.168.59.103" and reply["rtt_ms"] > 0
    assert parse_ping("PING 10.9.9.9 (10.9.9.9) 56(84) bytes of data.\n")["result"] == ReachResult.TIMEOUT


def test_container_inspect_keeps_what_diagnosis_needs():
    (raw,) = json.loads(read("inspect-seed.json"))
    c = container_from_inspect(raw)
    assert c.name == "ndt-rec" and c.state.running and c.state.pid > 0
    assert "5000/tcp" in c.exposed
    pub = {(b.container_port, b.host_ip, b.host_port) for b in c.published}
    assert (443, "127.0.0.1", 8443) in pub and (80, "0.0.0.0", 32798) in pub
    assert c.endpoints[0].network == "bridge" and c.endpoints[0].ipv4 == "172.17.0.2"
    assert c.command == ("sh", "-c", "httpd -p 80 -h /www; httpd -f -p 127.0.0.1:8081 -h /www")


def test_created_container_keeps_its_requested_ports():
    raw = {"Id": "ab" * 32, "Name": "/web2", "State": {"Status": "created"},
           "Config": {"ExposedPorts": {"80/tcp": {}}},
           "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
           "NetworkSettings": {"Ports": {}, "Networks": {}}}
    c = container_from_inspect(raw)
    assert c.published == () and [(b.container_port, b.host_port) for b in c.requested] == [(80, 8080)]


def test_network_inspect():
    (raw,) = json.loads(read("inspect-network-bridge.json"))
    n = network_from_inspect(raw)
    assert (n.name, n.driver, n.bridge, n.subnets, n.internal) == ("bridge", "bridge", "docker0",
                                                                   ("172.17.0.0/16",), False)
    user = network_from_inspect({"Id": "0123456789abcdef", "Name": "app", "Driver": "bridge"})
    assert user.bridge == "br-0123456789ab"


def test_sock_diag_replies_recorded_from_a_container():
    from netdiag.parsers import sockdiag

    raw = json.loads(read("sockdiag-replies.json"))
    v4, done4 = sockdiag.parse(bytes.fromhex(raw["sock_diag tcp"]), "tcp")
    v6, done6 = sockdiag.parse(bytes.fromhex(raw["sock_diag tcp6"]), "tcp")
    assert done4 and done6
    assert [(s.family, s.address, s.port) for s in v4] == [(4, "127.0.0.1", 8081)]
    assert [(s.family, s.address, s.port) for s in v6] == [(6, "::", 80)]
    assert all(s.inode > 0 for s in v4 + v6)
    assert [s.v6only for s in v4 + v6] == [None, False]  # busybox httpd on [::] takes IPv4 too


def test_sock_diag_says_ipv6_only():
    """The same reply with its INET_DIAG_SKV6ONLY attribute set, as for `listen [::]:80 ipv6only=on`."""
    import struct

    from netdiag.parsers import sockdiag

    data = bytearray(bytes.fromhex(json.loads(read("sockdiag-replies.json"))["sock_diag tcp6"]))
    pos = 16 + 72  # the netlink header, then the socket's record; its attributes follow
    while True:
        length, kind = struct.unpack_from("=HH", data, pos)
        if kind == sockdiag.INET_DIAG_SKV6ONLY:
            data[pos + 4] = 1
            break
        pos += (length + 3) & ~3
    assert [s.v6only for s in sockdiag.parse(bytes(data), "tcp")[0]] == [True]


def test_sock_diag_request_asks_for_listeners_only():
    import socket
    import struct

    from netdiag.parsers import sockdiag

    req = sockdiag.request(socket.AF_INET, socket.IPPROTO_TCP, 7)
    length, kind, flags, seq, _ = struct.unpack_from("=IHHII", req)
    assert (length, kind, seq) == (len(req), 20, 7) and flags & 0x300
    family, proto, _, _, states = struct.unpack_from("=BBBBI", req, 16)
    assert (family, proto, states) == (socket.AF_INET, socket.IPPROTO_TCP, 1 << 10)


def test_cat_of_several_proc_files_splits_back():
    from netdiag.parsers.procnet import split_cat

    tcp, tcp6 = read("proc-net-tcp.txt"), read("proc-net-tcp6.txt")
    paths = ["/proc/net/tcp", "/proc/net/tcp6"]
    assert split_cat(tcp + tcp6, paths) == {"/proc/net/tcp": tcp, "/proc/net/tcp6": tcp6}
    missing = "cat: can't open '/proc/net/tcp6': No such file or directory\n"
    assert split_cat(tcp, paths, missing) == {"/proc/net/tcp": tcp}


def test_nc_outputs():
    
    from netdiag.parsers.ncout import classify

    assert classify("HTTP/1.0 200 OK\r\nServer: busybox\r\n", "") == (ReachResult.ANSWERED, "the service answered",
                                                                      "HTTP/1.0 200 OK")
    assert classify("", "nc: can't connect to remote host (172.18.0.2): Connection refused\n")[0] == "refused"
    assert classify("", "nc: timed out\n")[0] == ReachResult.TIMEOUT
    assert classify("", "nc: can't connect to remote host (10.9.9.9): No route to host\n")[0] == ReachResult.ICMP_UNREACHABLE
    assert classify("", "nc: bad address 'web'\n")[0] == ReachResult.ERROR
    assert classify("", "")[0] == ReachResult.CLOSED


@pytest.mark.parametrize("name, exit_code, expected", [
    ("macos-net-unreachable.txt", 2, (ReachResult.ICMP_UNREACHABLE, "65.113.32.217", 3, 0)),
    ("macos-reply.txt", 0, (ReachResult.ANSWERED, "192.168.59.103", 0, 0)),
    ("busybox-reply.txt", 0, (ReachResult.ANSWERED, "172.17.0.2", 0, 0)),
    ("busybox-silent.txt", 1, (ReachResult.TIMEOUT, "", None, None)),
    ("iputils-host-unreachable.txt", 1, (ReachResult.ICMP_UNREACHABLE, "10.0.1.7", 3, 1)),
])
def test_ping_outputs_of_each_system(name, exit_code, expected):
    """The seed's own macOS output names its router; BusyBox and iputils parse the same way."""
    p = parse_ping((DATA / "ping" / name).read_text(), exit_code)
    assert (p["result"], p["responder"], p["icmp_type"], p["icmp_code"]) == expected


def test_a_reply_line_with_a_failed_exit_status_is_not_an_answer():
    assert parse_ping((DATA / "ping" / "busybox-reply.txt").read_text(), 1)["result"] == ReachResult.TIMEOUT


def test_ping_arguments_for_each_system():
    from netdiag.parsers.ping import ping_argv

    assert ping_argv("ping", "10.0.0.1", 1.5, "linux")[-3:] == ["-W", "2", "10.0.0.1"]
    assert ping_argv("ping", "10.0.0.1", 1.5, "darwin")[-3:] == ["-W", "1500", "10.0.0.1"]  # milliseconds


# --- outbound: DNS, resolv.conf, /etc/hosts, nslookup ----------------------------------------------------

def _reply(query: bytes, rcode: int, *addresses: str) -> bytes:
    import socket as s
    import struct

    ident = struct.unpack("!H", query[:2])[0]
    head = struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, len(addresses), 0, 0)
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + s.inet_aton(a) for a in addresses)
    return head + query[12:] + answers


def test_dns_query_and_reply():
    from netdiag.parsers import dns
    from netdiag.vocab import DnsResult

    q = dns.query("web.lab.test", 4242)
    assert q[12:] == b"\x03web\x03lab\x04test\x00\x00\x01\x00\x01"
    assert dns.parse_reply(_reply(q, 0, "198.51.100.10"), 4242) == (DnsResult.ANSWERED, ("198.51.100.10",))
    assert dns.parse_reply(_reply(q, 3), 4242) == (DnsResult.NXDOMAIN, ())
    assert dns.parse_reply(_reply(q, 0), 4242) == (DnsResult.NODATA, ())
    assert dns.parse_reply(_reply(q, 5), 4242)[0] == DnsResult.REFUSED
    with pytest.raises(dns.Malformed):
        dns.parse_reply(_reply(q, 0, "198.51.100.10"), 4243)  # another query's reply
    with pytest.raises(dns.Malformed):
        dns.parse_reply(_reply(q, 0, "198.51.100.10")[:20], 4242)
    with pytest.raises(ValueError):
        dns.query("a" * 64 + ".test", 1)


def test_resolv_conf_and_hosts():
    from netdiag.parsers.resolv import in_hosts, parse_hosts, parse_resolv_conf

    text = ("# Generated by Docker Engine.\n# ExtServers: [host(192.0.2.53) 198.51.100.53]\n"
            "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n")
    assert parse_resolv_conf(text) == (("127.0.0.11",), ("corp.example",), ("192.0.2.53", "198.51.100.53"))
    hosts = parse_hosts("127.0.0.1\tlocalhost\n172.17.0.1\thost.docker.internal # added\n::1 ip6-localhost\n")
    assert in_hosts(hosts, "HOST.docker.internal") == ("172.17.0.1",)
    assert in_hosts(hosts, "ip6-localhost") == ()


@pytest.mark.parametrize("text, code, expected", [
    ("Server:\t\t198.51.100.53\nAddress:\t198.51.100.53:53\n\nName:\tweb.lab.test\nAddress: 198.51.100.10\n\n"
     "Non-authoritative answer:\n", 0, ("answered", ("198.51.100.10",))),
    ("Server:\t\t198.51.100.53\nAddress:\t198.51.100.53:53\n\n** server can't find nosuch.lab.test: NXDOMAIN\n", 1,
     ("nxdomain", ())),
    ("nslookup: write to '127.0.0.53': Connection refused\n;; connection timed out; no servers could be reached\n", 1,
     ("unreachable", ())),
    (";; connection timed out; no servers could be reached\n", 1, ("timeout", ())),
    ("Server:\t\t10.0.0.2\nAddress:\t10.0.0.2#53\n\nName:\tdb.internal\nAddress: 10.1.2.3\nName:\tdb.internal\n"
     "Address: 2001:db8::3\n", 0, ("answered", ("10.1.2.3",))),
])
def test_nslookup_outputs(text, code, expected):
    from netdiag.parsers.nslookup import parse_nslookup

    result, addresses, _ = parse_nslookup(text, code)
    assert (result, addresses) == expected


def test_nft_ruleset_keeps_the_other_tables_and_walks_like_iptables():
    from pathlib import Path

    from netdiag.netfilter import Packet, nft_drop
    from netdiag.parsers.nft import parse_nft_ruleset

    chains = parse_nft_ruleset((Path(__file__).parent / "data" / "nft-ruleset.json").read_text())
    assert [(c.table, c.name, c.hook, c.policy) for c in chains] == [
        ("inet filter", "forward", "forward", "DROP"), ("inet filter", "from_lan", "", "")]
    forward = chains[0]
    assert [r.text for r in forward.rules] == ["ct state established,related accept", "iifname wg+ jump from_lan",
                                               "<match> drop"]
    assert forward.rules[1].in_interface.value == "wg+" and chains[1].rules[0].dports.value == "80,443"
    assert forward.rules[2].other  # a set lookup: not evaluated, so never claimed
    # a container's new connection out: no rule accepts it before the set lookup, which may or may not drop it
    out = Packet("tcp", "198.51.100.10", 80, source="172.17.0.2", in_interface="docker0", out_interface="eth0")
    assert nft_drop(tuple(chains), "forward", out) is None
    # without the set rule, the policy drops it for certain; a reply is accepted by the first rule
    certain = tuple([chains[0].__class__(forward.table, forward.name, forward.policy, forward.rules[:2], forward.hook),
                     chains[1]])
    base, d = nft_drop(certain, "forward", out)
    assert base.name == "forward" and d.rule is None
    reply = Packet("tcp", "172.17.0.2", None, source="198.51.100.10", in_interface="eth0", out_interface="docker0",
                   ctstate="ESTABLISHED")
    assert nft_drop(certain, "forward", reply) is None


def test_root_ns_query_and_outbound_destinations():
    from netdiag.errors import BadInput
    from netdiag.parsers import dns
    from netdiag.reasoner.outward import destination

    assert dns.query(dns.ROOT_NS, 7, 2)[12:] == b"\x00\x00\x02\x00\x01"
    assert destination("198.51.100.53:53/udp", None) == ("198.51.100.53", 53, "udp")
    assert destination("db.internal", 5432) == ("db.internal", 5432, "tcp")
    assert destination("[2001:db8::1]:443/tcp", None) == ("2001:db8::1", 443, "tcp")
    for bad in ("198.51.100.53/udp", "db:http"):
        with pytest.raises(BadInput):
            destination(bad, None)
    with pytest.raises(BadInput, match="--port says 81"):
        destination("web:80", 81)


def test_host_helper_output_by_section():
    from netdiag.probes.hosthelper import MARK, _interfaces, _tool, split

    out = (f"{MARK}/proc/sys/net/ipv4/ip_forward\n0\n{MARK}/proc/sys/net/ipv4/conf/eth0/forwarding\n1\n"
           f"{MARK}iptables-save\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n{MARK}rc=0\n"
           f"{MARK}nft\nsh: 1: nft: not found\n{MARK}rc=127\n"
           f"{MARK}addresses\n" + '[{"ifname": "eth0", "flags": ["UP"], "address": "02:00:00:00:00:01", '
           '"addr_info": [{"local": "192.168.59.103", "prefixlen": 24}]}]\n')
    sections = split(out)
    assert sections["/proc/sys/net/ipv4/ip_forward"] == "0\n"
    assert sections["iptables-save"].startswith("*filter") and sections["iptables-save.rc"] == "0"
    assert _tool(sections, "iptables-save", "iptables-save", "helper")[0].ok
    nft = _tool(sections, "nft", "nft", "helper")[0]
    assert not nft.ok and nft.reason == "the Docker host has no nft"
    assert [(i.name, i.addresses, i.up) for i in _interfaces(sections["addresses"])] == [
        ("eth0", ("192.168.59.103/24",), True)]


def test_macos_routes_from_netstat():
    """The seed's Mac: its default route to the ISP's router, and the host-only network of the VM."""
    from pathlib import Path

    from netdiag.parsers.routes import parse_netstat_routes, route_for

    routes = parse_netstat_routes((Path(__file__).parent / "data" / "netstat-rn-macos.txt").read_text())
    by_dest = {r.destination: r for r in routes}
    assert by_dest["0.0.0.0/0"].gateway == "10.0.1.1" and by_dest["0.0.0.0/0"].device == "en0"
    assert by_dest["192.168.59.0/24"].device == "vboxnet0" and by_dest["192.168.59.0/24"].gateway == ""
    assert by_dest["127.0.0.0/8"].device == "lo0" and "192.168.59.103/32" in by_dest
    r = route_for(routes, "172.17.0.29")  # the seed's container address leaves by the default route
    assert (r.destination, r.gateway, r.device) == ("0.0.0.0/0", "10.0.1.1", "en0")


def test_nslookup_that_printed_nothing_is_no_answer_at_all():
    from netdiag.parsers.nslookup import parse_nslookup
    from netdiag.vocab import DnsResult

    assert parse_nslookup("", 0)[0] == DnsResult.ERROR  # never "no such name"


# `ss -ltnupH` of iproute2 6.1 as the host helper runs it: the first three lines recorded on the lab's
# Docker host (a socket whose process ss cannot read, and docker-proxy's two), the others in the
# shapes ss prints for a scoped resolver address, forked workers sharing a socket, and `*`
SS_OUTPUT = """\
tcp LISTEN 0      128    0.0.0.0:2024 0.0.0.0:*
tcp LISTEN 0      4096   0.0.0.0:18080 0.0.0.0:* users:(("docker-proxy",pid=16909,fd=4))
tcp LISTEN 0      4096      [::]:18080    [::]:* users:(("docker-proxy",pid=16915,fd=4))
udp UNCONN 0      0      127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=512,fd=13))
tcp LISTEN 0      511          *:80          *:* users:(("nginx",pid=901,fd=7),("nginx",pid=900,fd=7))
tcp LISTEN 0      4096 [::ffff:127.0.0.1]:6379 *:* users:(("redis-server",pid=77,fd=6))
udp ESTAB  0      0      10.0.0.5:41000 10.0.0.1:53 users:(("dig",pid=5,fd=3))
"""


def test_ss_names_who_holds_each_port():
    from netdiag.parsers.ss import parse_ss

    got = [(s.protocol, s.family, s.address, s.port, s.pid, s.process) for s in parse_ss(SS_OUTPUT)]
    assert got == [
        ("tcp", 4, "0.0.0.0", 80, 901, "nginx"),
        ("tcp", 4, "0.0.0.0", 2024, None, ""),
        ("tcp", 4, "127.0.0.1", 6379, 77, "redis-server"),
        ("tcp", 4, "0.0.0.0", 18080, 16909, "docker-proxy"),
        ("tcp", 6, "::", 18080, 16915, "docker-proxy"),
        ("udp", 4, "127.0.0.53", 53, 512, "systemd-resolve"),
    ]


def test_route_lookup_asks_for_the_table_the_kernel_used():
    """Without RTM_F_LOOKUP_TABLE the kernel answers "main" even when a policy rule chose another
    table (a VPN's 52): netdiag asks as `ip route get` does, and reads RTA_TABLE."""
    import struct

    from netdiag.parsers import rtnetlink

    req = rtnetlink.request("172.17.0.2", 9)
    flags = rtnetlink.RTMSG.unpack_from(req, rtnetlink.NLMSG.size)[-1]
    assert flags & rtnetlink.RTM_F_LOOKUP_TABLE
    attrs = (rtnetlink._attr(rtnetlink.RTA_TABLE, struct.pack("=I", 52))
             + rtnetlink._attr(rtnetlink.RTA_GATEWAY, bytes([192, 168, 59, 103])))
    body = rtnetlink.RTMSG.pack(2, 32, 0, 0, 52, 0, 0, 1, 0) + attrs
    reply = rtnetlink.NLMSG.pack(rtnetlink.NLMSG.size + len(body), rtnetlink.RTM_NEWROUTE, 0, 9, 0) + body
    got = rtnetlink.parse(reply, 9)
    assert (got["table"], got["gateway"]) == ("52", "192.168.59.103")


def test_dns_aaaa_reply():
    """A name with IPv6 addresses only: the A query says no address, the AAAA query gives them."""
    import socket as s
    import struct

    from netdiag.parsers import dns
    from netdiag.vocab import DnsResult

    q = dns.query("v6.lab.test", 77, dns.TYPE_AAAA)
    assert q[-4:] == b"\x00\x1c\x00\x01"
    head = struct.pack("!HHHHHH", 77, 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", dns.TYPE_AAAA, 1, 60, 16) + s.inet_pton(s.AF_INET6, "2001:db8:100::10")
    reply = head + q[12:] + answer
    assert dns.parse_reply(reply, 77, dns.TYPE_AAAA) == (DnsResult.ANSWERED, ("2001:db8:100::10",))
    assert dns.parse_reply(reply, 77) == (DnsResult.NODATA, ())  # read as an A reply: no IPv4 address


@pytest.mark.parametrize("first_line, variant", [
    ("# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 03:22:49 2026", "nf_tables"),
    ("# Generated by iptables-save v1.8.9 on Sun Nov 29 03:27:02 2026", "legacy"),  # iptables-legacy-save's
    ("# Generated by iptables-save v1.6.1 on Mon Jan  1 00:00:00 2018", "legacy"),  # before 1.8: legacy only
    ("# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n"
     "# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 03:32:45 2026", "nf_tables"),
    ("", ""),
])
def test_which_iptables_wrote_a_dump(first_line, variant):
    assert iptables_variant(first_line + "\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n" if first_line else "") == variant


def test_exec_stream_is_split_into_its_outputs_frame_by_frame():
    frame = lambda number, data: bytes([number, 0, 0, 0]) + len(data).to_bytes(4, "big") + data  # noqa: E731
    stream = frame(1, b"Proto Recv-Q\n") + frame(2, b"nc: refused\n") + frame(1, b"tcp 0\n") + frame(1, b"cut sh")[:-2]
    assert demultiplex(stream) == (b"Proto Recv-Q\ntcp 0\ncut ", b"nc: refused\n")
    assert demultiplex(b"") == (b"", b"")
