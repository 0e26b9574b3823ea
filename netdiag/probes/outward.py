"""Outbound probes: what a container sees, how it resolves a name, and its attempt out.

All of them look from inside the container's network namespace without running anything there:
its files are read through /proc/<pid>/root (or copied out through the API when the daemon is
elsewhere), and its DNS queries, TCP connects and ICMP echoes go through sockets opened in its
namespace (netdiag.probes.netns), which needs the daemon on this machine and root. Read-only:
a query, a connect and an echo change nothing.
"""

from __future__ import annotations

import errno
import io
import random
import socket
import tarfile
import time

from netdiag.facts import Container, Lookup, Outcome, Reach, SourceView
from netdiag.parsers import dns
from netdiag.parsers.resolv import parse_hosts, parse_resolv_conf
from netdiag.parsers.routes import parse_ipv4_routes
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
            method = "docker cp (the API's archive endpoint)"
    except (OSError, Unusable, tarfile.TarError) as e:
        return SourceView(Outcome.unavailable(f"{source.name}'s network files could not be read: {e}"), source.id)
    except Exception as e:  # an API error: the probe's failure is a fact
        return SourceView(Outcome.failed(f"{type(e).__name__}: {e}"), source.id)
    servers, search, ext = parse_resolv_conf(raw["/etc/resolv.conf"])
    return SourceView(Outcome(method=method), source.id, tuple(parse_ipv4_routes(raw.get("/proc/net/route", ""))),
                      servers, search, ext, parse_hosts(raw["/etc/hosts"]), raw)


def probe_lookup(source: Container, server: str, name: str, upstream: bool = False,
                 timeout: float = DNS_TIMEOUT) -> Lookup:
    """One A query for `name` to `server`, sent from inside the container's namespace."""
    from netdiag.probes.netns import socket_in

    origin = Origin(source.name)
    method = f"DNS query from inside {source.name}'s namespace"
    ident = random.randint(1, 0xFFFF)
    try:
        packet = dns.query(name, ident)
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
                result, addresses = dns.parse_reply(data, ident)
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


def probe_from_source(source: Container, address: str, port: int | None, timeout: float) -> Reach:
    """The attempt from inside the container's namespace: a TCP connect and exchange with a port,
    an ICMP echo without one."""
    from netdiag.probes.netns import opener
    from netdiag.probes.reach import _icmp_raw, probe_tcp

    origin = Origin(source.name)
    kind = ProbeKind.TCP if port else ProbeKind.ICMP
    if not source.state.running:
        return Reach(Outcome.unavailable(f"{source.name} is not running"), kind, address, port, origin=origin)
    make = opener(_netns(source))
    try:
        r = probe_tcp(address, port, timeout, open_socket=make) if port else _icmp_raw(address, timeout, make)
    except OSError as e:
        return Reach(Outcome.unavailable(f"cannot enter {source.name}'s namespace: {e.strerror or e}"), kind,
                     address, port, origin=origin)
    return Reach(Outcome(r.outcome.state, r.outcome.reason, f"{r.outcome.method}, inside {source.name}'s namespace"),
                 r.kind, r.address, r.port, r.result, r.responder, r.icmp_type, r.icmp_code, r.detail, r.rtt_ms,
                 r.banner, origin)


def probe_from_host(address: str, port: int | None, timeout: float) -> Reach:
    """The same attempt from the Docker host's own namespace (this machine, the daemon being local)."""
    from netdiag.probes.reach import probe_icmp, probe_tcp

    return probe_tcp(address, port, timeout) if port else probe_icmp(address, timeout)
