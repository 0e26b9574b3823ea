"""Outbound probes: what a container sees, how it resolves a name, and its attempt out.

All of them look from inside the container's network namespace without running anything there:
its files are read through /proc/<pid>/root (or copied out through the API when the daemon is
elsewhere), and its DNS queries, TCP connects and ICMP echoes go through sockets opened in its
namespace (netdiag.probes.netns), which needs the daemon on this machine and root. Read-only:
a query, a connect and an echo change nothing.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import random
import socket
import tarfile
import time

from netdiag.facts import Container, KernelRoute, Lookup, Outcome, PathMtu, Reach, SourceView
from netdiag.parsers import dns
from netdiag.parsers.resolv import parse_hosts, parse_resolv_conf
from netdiag.parsers.routes import parse_ipv4_routes
from netdiag.probes.execs import run_exec
from netdiag.untrusted import Unusable, read_regular
from netdiag.vocab import DnsResult, Origin, ProbeKind

FILE_LIMIT = 256 * 1024
DNS_TIMEOUT = 1.5


def _netns(source: Container) -> str:
    return f"/proc/{source.state.pid}/ns/net"


def _read(path: str) -> str:
    return read_regular(path, FILE_LIMIT).decode("utf-8", "replace")


def _copied(api, source: Container, path: str) -> str:
    """A file of the container, copied out through the API (docker cp): no tool needed inside."""
    stream, _ = api.get_archive(source.id, path)
    data = b"".join(stream)
    if len(data) > 4 * FILE_LIMIT:
        raise Unusable(f"{path} is larger than netdiag reads")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.next()
        f = tar.extractfile(member) if member is not None else None
        if f is None:
            raise Unusable(f"{path} is not a file")
        return f.read(FILE_LIMIT).decode("utf-8", "replace")


def probe_source_view(api, source: Container, local: bool) -> SourceView:
    """The container's routes, resolv.conf and /etc/hosts. Locally through /proc/<pid> (root);
    with the daemon elsewhere, the two files through the API and the routes not at all."""
    if not source.state.running or not source.state.pid and local:
        return SourceView(Outcome.unavailable(f"{source.name} is not running"), source.id)
    raw: dict[str, str] = {}
    try:
        if local:
            root = f"/proc/{source.state.pid}"
            raw["/proc/net/route"] = _read(f"{root}/net/route")
            raw["/etc/resolv.conf"] = _read(f"{root}/root/etc/resolv.conf")
            raw["/etc/hosts"] = _read(f"{root}/root/etc/hosts")
            method = f"/proc/{source.state.pid}"
        else:
            raw["/etc/resolv.conf"] = _copied(api, source, "/etc/resolv.conf")
            raw["/etc/hosts"] = _copied(api, source, "/etc/hosts")
            method = "docker cp (the API's archive endpoint); its routes are not read from afar"
    except (OSError, Unusable, tarfile.TarError) as e:
        return SourceView(Outcome.unavailable(f"{source.name}'s network files could not be read: {e}"), source.id)
    except Exception as e:  # an API error: the probe's failure is a fact
        return SourceView(Outcome.failed(f"{type(e).__name__}: {e}"), source.id)
    servers, search, ext = parse_resolv_conf(raw["/etc/resolv.conf"])
    return SourceView(Outcome(method=method), source.id, tuple(parse_ipv4_routes(raw.get("/proc/net/route", ""))),
                      servers, search, ext, parse_hosts(raw["/etc/hosts"]), raw)


def probe_lookup(source: Container, server: str, name: str, upstream: bool = False,
                 timeout: float = DNS_TIMEOUT) -> Lookup:
    """An A query for `name` to `server`, sent from inside the container's namespace; when the
    name has no IPv4 address, an AAAA query too (its IPv6 addresses are then the answer)."""
    found = _lookup(source, server, name, upstream, timeout, dns.TYPE_A)
    if found.result != DnsResult.NODATA:
        return found
    v6 = _lookup(source, server, name, upstream, timeout, dns.TYPE_AAAA)
    if v6.result == DnsResult.ANSWERED:
        return dataclasses.replace(v6, detail="IPv6 addresses only (AAAA): no IPv4 address (A)")
    return found


def _lookup(source: Container, server: str, name: str, upstream: bool, timeout: float, qtype: int) -> Lookup:
    """One query of `qtype` for `name` to `server`, from inside the container's namespace."""
    from netdiag.probes.netns import socket_in

    origin = Origin(source.name)
    method = f"DNS query from inside {source.name}'s namespace"
    ident = random.randint(1, 0xFFFF)
    try:
        packet = dns.query(name, ident, qtype)
    except ValueError as e:
        return Lookup(Outcome.unavailable(str(e)), name, server, origin=origin, upstream=upstream)
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    try:
        sock = socket_in(_netns(source), family, socket.SOCK_DGRAM)
    except OSError as e:
        return Lookup(Outcome.unavailable(f"cannot enter {source.name}'s namespace: {e.strerror or e}", method), name,
                      server, origin=origin, upstream=upstream)
    start = time.monotonic()
    try:
        sock.connect((server, 53))  # connected: an ICMP port unreachable comes back as ECONNREFUSED
        sock.send(packet)
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Lookup(Outcome(method=method), name, server, DnsResult.TIMEOUT,
                              detail=f"no answer within {timeout:g}s", origin=origin, upstream=upstream)
            sock.settimeout(left)
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            try:
                result, addresses = dns.parse_reply(data, ident, qtype)
            except dns.Malformed:
                continue
            rtt = round((time.monotonic() - start) * 1000, 2)
            return Lookup(Outcome(method=method), name, server, result, addresses, rtt_ms=rtt, origin=origin,
                          upstream=upstream)
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            return Lookup(Outcome(method=method), name, server, DnsResult.UNREACHABLE,
                          detail="nothing listens there: ICMP port unreachable", origin=origin, upstream=upstream)
        if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return Lookup(Outcome(method=method), name, server, DnsResult.UNREACHABLE,
                          detail=f"no route to {server} from the container", origin=origin, upstream=upstream)
        return Lookup(Outcome(method=method), name, server, DnsResult.ERROR, detail=e.strerror or str(e),
                      origin=origin, upstream=upstream)
    finally:
        sock.close()


def probe_from_source(source: Container, address: str, port: int | None, timeout: float,
                      kind: ProbeKind = ProbeKind.TCP) -> Reach:
    """The attempt from inside the container's namespace: a TCP connect and exchange, or a UDP
    datagram, with a port; an ICMP echo without one."""
    from netdiag.probes.netns import opener
    from netdiag.probes.reach import _icmp_raw, probe_tcp, probe_udp

    origin = Origin(source.name)
    kind = kind if port else ProbeKind.ICMP
    if not source.state.running:
        return Reach(Outcome.unavailable(f"{source.name} is not running"), kind, address, port, origin=origin)
    make = opener(_netns(source))
    try:
        if kind == ProbeKind.ICMP or not port:
            r = _icmp_raw(address, timeout, make)
        elif kind == ProbeKind.UDP:
            r = probe_udp(address, port, timeout, open_socket=make)
        else:
            r = probe_tcp(address, port, timeout, open_socket=make)
    except OSError as e:
        return Reach(Outcome.unavailable(f"cannot enter {source.name}'s namespace: {e.strerror or e}"), kind,
                     address, port, origin=origin)
    return Reach(Outcome(r.outcome.state, r.outcome.reason, f"{r.outcome.method}, inside {source.name}'s namespace"),
                 r.kind, r.address, r.port, r.result, r.responder, r.icmp_type, r.icmp_code, r.detail, r.rtt_ms,
                 r.banner, origin)


def probe_from_host(address: str, port: int | None, timeout: float, kind: ProbeKind = ProbeKind.TCP) -> Reach:
    """The same attempt from the Docker host's own namespace (this machine, the daemon being local)."""
    from netdiag.probes.reach import probe_icmp, probe_tcp, probe_udp

    if not port:
        return probe_icmp(address, timeout)
    return probe_udp(address, port, timeout) if kind == ProbeKind.UDP else probe_tcp(address, port, timeout)


SWEEP = (1500, 1480, 1450, 1400, 1360, 1280, 1024, 576)  # IP packet sizes: Ethernet, PPPoE, VPNs, IPv6's minimum
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3  # Linux: set don't-fragment, ignore the cached path MTU
SIOCGIFMTU = 0x8921
TRANSFER_LIMIT = 2 * 1024 * 1024  # bytes read at most from GET /
TRANSFER_STALL = 1.5  # seconds without a byte that end the download
TRANSFER_TOTAL = 3.0  # seconds the download may take in all


def _interface_mtu(make, device: str) -> int:
    import fcntl
    import struct

    sock = make(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        got = fcntl.ioctl(sock.fileno(), SIOCGIFMTU, struct.pack("16si", device.encode()[:15], 0))
        return int(struct.unpack("16si", got)[1])
    finally:
        sock.close()


def _sweep(make, address: str, sizes: list[int], timeout: float
           ) -> tuple[list[int], list[int], str, int | None, str]:
    """(sizes sent, sizes answered, router that said fragmentation needed, the MTU it named, a
    note) for don't-fragment echoes of each size, sent at once through one raw socket. A size the
    kernel refused to send is not among those sent: its silence would prove nothing."""
    from netdiag.parsers.icmp import echo_request, match, next_hop_mtu

    sock = make(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    answered: list[int] = []
    sent: list[int] = []
    router, mtu, note = "", None, ""
    try:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        ident = random.randint(1, 0xFFFF)
        pending = {}
        for seq, size in enumerate(sizes, 1):
            try:
                sock.sendto(echo_request(4, ident, seq, b"\0" * (size - 28)), (address, 0))
                pending[seq] = size
                sent.append(size)
            except OSError as e:
                note = f"{size} bytes could not be sent: {e.strerror or e}"
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, sender = sock.recvfrom(65535)
            except TimeoutError:
                break
            for seq, size in list(pending.items()):
                found = match(4, data, ident, seq, address)
                if found is None:
                    continue
                if found[0] == "reply":
                    answered.append(size)
                elif found[1:] == (3, 4):
                    router, mtu = sender[0], next_hop_mtu(4, data)
                del pending[seq]
                break
    finally:
        sock.close()
    return sent, sorted(answered, reverse=True), router, mtu, note


def _transfer(make, address: str, port: int) -> tuple[int | None, int, str]:
    """(Content-Length, body bytes received, what happened) for GET / from inside the namespace."""
    sock = make(socket.AF_INET, socket.SOCK_STREAM)
    start = time.monotonic()
    data = b""
    try:
        sock.settimeout(TRANSFER_STALL)
        sock.connect((address, port))
        sock.sendall(f"GET / HTTP/1.0\r\nHost: {address}\r\nUser-Agent: netdiag\r\n\r\n".encode())
        why = "the server closed the connection"
        while len(data) < TRANSFER_LIMIT:
            if time.monotonic() - start > TRANSFER_TOTAL:
                why = f"still arriving after {TRANSFER_TOTAL:g}s (stopped there)"
                break
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                why = f"nothing more arrived for {TRANSFER_STALL:g}s"
                break
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return None, 0, f"GET / failed: {e.strerror or e}"
    finally:
        sock.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    expected = None
    for line in head.split(b"\r\n")[1:] if sep else ():
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            expected = int(value.strip())
    received = len(body) if sep else 0
    got = f"{received} of {expected} body bytes" if expected is not None else f"{received} body bytes"
    return expected, received, f"GET / from inside the container: {got}; {why}" if sep else \
        f"GET / from inside the container: {len(data)} bytes and no complete header; {why}"


def probe_path_mtu(source: Container, view: SourceView, address: str, port: int | None, http: bool,
                   timeout: float = 1.0) -> PathMtu:
    """Don't-fragment echoes from the container's interface MTU down, and GET / when the service
    speaks HTTP: whether large packets reach a destination that answers small ones."""
    from netdiag.parsers.routes import route_for
    from netdiag.probes.netns import opener

    origin = Origin(source.name)
    make = opener(_netns(source))
    route = route_for(view.routes, address) if view.outcome.ok else None
    method = f"don't-fragment echoes and GET / from inside {source.name}'s namespace"
    try:
        mtu = _interface_mtu(make, route.device) if route is not None and route.device else 1500
        sizes = [s for s in SWEEP if s <= mtu]
        sizes = ([mtu] if mtu not in sizes else []) + sizes
        sizes, answered, router, hop_mtu, note = _sweep(make, address, sizes, timeout)
        expected, received, detail = _transfer(make, address, port) if port and http else (None, 0, "")
    except OSError as e:
        return PathMtu(Outcome.unavailable(f"cannot enter {source.name}'s namespace: {e.strerror or e}"), address,
                       origin)
    return PathMtu(Outcome(reason=note, method=method), address, origin, mtu,
                   tuple(sizes), tuple(answered), router, hop_mtu, expected, received, detail)


# --- with the daemon elsewhere: the container's own tools, or a helper by consent -------------------

LOOKUP_SCRIPT = ('n=$1; shift; for s; do echo "@@@ $s"; nslookup -type=a -timeout=1 -retry=1 "$n" "$s" 2>&1; '
                 'echo "@@@ rc=$?"; done')
MISSING_TOOL = ("not found", "executable file not found", "no such file")


def _run_in(api, source: Container, argv: list[str], helper: str, network: str = "") -> tuple[int | None, str, str]:
    """(exit code, output, method) of argv in the container's namespace: in a helper container
    from `helper` when given (in `network` instead, e.g. host), else through docker exec."""
    if helper:
        from netdiag.probes.helper import run_helper

        where = "the Docker host's namespace" if network == "host" else f"{source.name}'s network namespace"
        code, out, err = run_helper(api, helper, argv, network or f"container:{source.id}")
        return code, out + err, f"helper container from {helper} in {where}"
    code, out, err = run_exec(api, source.id, argv)
    return code, out + err, f"docker exec {source.name}"


def lookups_elsewhere(api, source: Container, name: str, asked: list[tuple[str, bool]], helper: str) -> list[Lookup]:
    """Each (server, upstream) asked with nslookup in the container's namespace, in one run."""
    from netdiag.parsers.nslookup import parse_nslookup
    from netdiag.probes.helper import HelperUnavailable

    origin = Origin(source.name)
    servers = [s for s, _ in asked]
    try:
        code, out, method = _run_in(api, source, ["sh", "-c", LOOKUP_SCRIPT, "netdiag", name, *servers], helper)
    except HelperUnavailable as e:
        return [Lookup(Outcome.unavailable(str(e)), name, s, origin=origin, upstream=up) for s, up in asked]
    except Exception as e:  # an API error: the probe's failure is a fact
        return [Lookup(Outcome.failed(f"{type(e).__name__}: {e}"), name, s, origin=origin, upstream=up)
                for s, up in asked]
    sections: dict[str, tuple[str, int | None]] = {}
    current, lines = "", []
    for line in out.splitlines():
        if line.startswith("@@@ rc="):
            rc = line[len("@@@ rc="):].strip()
            sections[current] = ("\n".join(lines), int(rc) if rc.isdigit() else None)
            current, lines = "", []
        elif line.startswith("@@@ "):
            current, lines = line[4:].strip(), []
        else:
            lines.append(line)
    found = []
    for s, up in asked:
        if s not in sections and "@@@" in out:  # the script ended before it asked this server
            found.append(Lookup(Outcome.failed(f"the lookup ended before {s} was asked ({method})", method),
                                name, s, origin=origin, upstream=up))
            continue
        text, rc = sections.get(s, (out, code))
        if code in (126, 127) or rc == 127 or any(m in text.lower() for m in MISSING_TOOL) and "nslookup" in text:
            why = f"{source.name} has no sh or nslookup to ask with" + ("" if helper else "; --helper IMAGE allows a "
                                                                         "helper container with them")
            found.append(Lookup(Outcome.unavailable(why, method), name, s, origin=origin, upstream=up))
            continue
        result, addresses, detail = parse_nslookup(text, rc)
        found.append(Lookup(Outcome(method=f"nslookup, {method}"), name, s, result, addresses, detail, origin=origin,
                            upstream=up))
    return found


def attempt_elsewhere(api, source: Container, address: str, port: int, helper: str, host: bool = False) -> Reach:
    """The TCP attempt through nc in a helper container (in the source's namespace, or the Docker
    host's with `host`)."""
    from netdiag.parsers.ncout import classify
    from netdiag.probes.helper import HelperUnavailable
    from netdiag.probes.inside import NC_SCRIPT
    from netdiag.vocab import HOST

    origin = HOST if host else Origin(source.name)
    try:
        code, out, method = _run_in(api, source, ["sh", "-c", NC_SCRIPT + " 2>&1", "netdiag", address, str(port)],
                                    helper, "host" if host else "")
    except HelperUnavailable as e:
        return Reach(Outcome.unavailable(str(e)), ProbeKind.TCP, address, port, origin=origin)
    if code in (126, 127):
        return Reach(Outcome.unavailable(f"the helper image {helper} has no sh or nc", method), ProbeKind.TCP,
                     address, port, origin=origin)
    answered = out.startswith("HTTP/") or (out.strip() and "nc: " not in out)
    result, detail, banner = classify(out if answered else "", "" if answered else out)
    return Reach(Outcome(method=f"nc, {method}"), ProbeKind.TCP, address, port, result, address if banner else "",
                 detail=detail, banner=banner, origin=origin)


# --- the kernel's own route choice -----------------------------------------------------------------

SIOCGIFNAME = 0x8910
NETLINK_ROUTE = 0


def probe_kernel_route(address: str, source: Container | None = None, from_address: str = "",
                       bridge: str = "") -> KernelRoute:
    """RTM_GETROUTE for `address`: inside `source`'s namespace, or on this machine (the Docker host)
    for a packet from `from_address` arriving on `bridge`."""
    import fcntl
    import struct

    from netdiag.parsers import rtnetlink
    from netdiag.probes.netns import opener
    from netdiag.vocab import HOST

    origin = Origin(source.name) if source is not None else HOST
    make = opener(_netns(source)) if source is not None else socket.socket
    method = "RTM_GETROUTE" + (f" in {source.name}'s namespace" if source is not None else "")
    try:
        iif = socket.if_nametoindex(bridge) if bridge else 0
        sock = make(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    except OSError as e:
        return KernelRoute(Outcome.unavailable(f"the route could not be asked: {e.strerror or e}", method), address,
                           origin, from_address, bridge)
    seq = random.randint(1, 0x7FFFFFFF)
    try:
        sock.settimeout(2.0)
        sock.send(rtnetlink.request(address, seq, from_address, iif))
        answer = rtnetlink.parse(sock.recv(65536), seq)
        device = ""
        if answer.get("oif"):
            if source is None:
                device = socket.if_indextoname(int(answer["oif"]))  # type: ignore[arg-type]
            else:
                named = make(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    raw = fcntl.ioctl(named.fileno(), SIOCGIFNAME, struct.pack("16si", b"", int(answer["oif"])))
                    device = raw[:16].split(b"\0", 1)[0].decode()
                finally:
                    named.close()
    except (OSError, ValueError) as e:
        return KernelRoute(Outcome.failed(f"RTM_GETROUTE: {e}", method), address, origin, from_address, bridge)
    finally:
        sock.close()
    return KernelRoute(Outcome(method=method), address, origin, from_address, bridge, device,
                       str(answer.get("gateway", "")), str(answer.get("prefsrc", "")), str(answer.get("table", "")),
                       str(answer.get("type", "")), str(answer.get("error", "")))
