"""Reachability from the client: an ICMP echo and a TCP connect, and who answered.

ICMP goes out through a raw ICMP socket when netdiag may open one, so an ICMP error is seen with
its type, code and the router that sent it; replies are matched to this probe's random echo id,
so two runs at once do not confuse each other (netdiag/parsers/icmp.py). Without that permission
it falls back to the system ping and says so. TCP uses a plain connect(), then a short application
exchange: a service that answers is told apart from a docker-proxy that accepts and closes with nothing behind it. The
TCP socket asks the kernel for its ICMP errors (IP_RECVERR): a connect that a router refuses
names that router and its message, without raw sockets or root.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import time

from netdiag.facts import Outcome, Reach
from netdiag.parsers.icmp import echo_request, match
from netdiag.parsers.ping import UNREACHABLE_CODES, parse_ping, ping_argv
from netdiag.vocab import ProbeKind, ReachResult

ICMP_TIMEOUT = 1.5
TCP_TIMEOUT = 1.5
REPLY_WAIT = 1.0
# Linux's socket options for a socket's ICMP error queue (not all Pythons name them)
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 = 2, 3
EXTENDED_ERR = struct.Struct("=IBBBBII")  # ee_errno, ee_origin, ee_type, ee_code, ee_pad, ee_info, ee_data

ICMP_NAMES = {code: name for name, code in UNREACHABLE_CODES.items()}


ICMP6_UNREACHABLE = {0: "No route to destination", 1: "Communication administratively prohibited",
                     3: "Address unreachable", 4: "Port unreachable", 5: "Source address failed policy",
                     6: "Reject route to destination"}


def icmp_error_name(icmp_type: int | None, icmp_code: int | None, family: int = 4) -> str:
    if family == 6:
        if icmp_type == 1:
            return ICMP6_UNREACHABLE.get(icmp_code or 0, f"Destination Unreachable (code {icmp_code})")
        if icmp_type == 3:
            return "Time exceeded"
        return f"ICMPv6 type {icmp_type} code {icmp_code}"
    if icmp_type == 3:
        return ICMP_NAMES.get(icmp_code, f"Destination Unreachable (code {icmp_code})")
    if icmp_type == 11:
        return "Time to live exceeded"
    return f"ICMP type {icmp_type} code {icmp_code}"


def _icmp_raw(address: str, timeout: float, open_socket=socket.socket) -> Reach:
    """One echo through a raw ICMP socket, matched to this probe by a random id: the reply, or an
    ICMP error about it with the router that sent it, or silence. Raises PermissionError without
    the right to open a raw socket."""
    family = 6 if ":" in address else 4
    sock = open_socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_RAW,
                       socket.IPPROTO_ICMPV6 if family == 6 else socket.IPPROTO_ICMP)
    method = "raw ICMP socket"
    try:
        ident, seq = random.randint(1, 0xFFFF), 1
        start = time.monotonic()
        sock.sendto(echo_request(family, ident, seq, b"netdiag" + os.urandom(8)), (address, 0))
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.TIMEOUT,
                             detail=f"no reply within {timeout:g}s")
            sock.settimeout(left)
            try:
                data, sender = sock.recvfrom(4096)
            except TimeoutError:
                continue
            found = match(family, data, ident, seq, address)
            if found is None:
                continue
            kind, icmp_type, icmp_code = found
            rtt = round((time.monotonic() - start) * 1000, 2)
            if kind == "reply":
                return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.ANSWERED,
                             responder=sender[0], icmp_type=icmp_type, icmp_code=icmp_code, rtt_ms=rtt,
                             detail="echo reply")
            return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.ICMP_UNREACHABLE,
                         responder=sender[0], icmp_type=icmp_type, icmp_code=icmp_code, rtt_ms=rtt,
                         detail=icmp_error_name(icmp_type, icmp_code, family))
    finally:
        sock.close()


def _icmp_ping(address: str, timeout: float) -> Reach:
    exe = shutil.which("ping")
    if not exe:
        return Reach(Outcome.unavailable("no raw-socket permission and no ping command"), ProbeKind.ICMP, address)
    argv = ping_argv(exe, address, timeout, sys.platform)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 2,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Reach(Outcome.failed(f"ping: {e}", "ping"), ProbeKind.ICMP, address)
    parsed = parse_ping(p.stdout + p.stderr, p.returncode)
    return Reach(Outcome(method="system ping (no raw-socket permission)"), ProbeKind.ICMP, address, **parsed)


def probe_icmp(address: str, timeout: float = ICMP_TIMEOUT) -> Reach:
    """One ICMP echo to `address`: answered, timeout, or an ICMP error with its sender. Through a
    raw socket when netdiag may open one, else through the system ping, which it says."""
    try:
        return _icmp_raw(address, timeout)
    except PermissionError:
        return _icmp_ping(address, timeout)
    except OSError as e:
        fallback = _icmp_ping(address, timeout)
        return dataclasses.replace(fallback, outcome=dataclasses.replace(
            fallback.outcome, reason=f"the raw socket failed ({e}); used the system ping"))


def _exchange(sock: socket.socket, host: str) -> tuple[str, str, str]:
    """(result, banner, detail) after connect: send a short HTTP request at once and read.

    A service that speaks first (SSH, SMTP, MySQL) sends its banner whatever we send; one that
    waits answers the request (HTTP) or complains (Redis, PostgreSQL): either way bytes come back.
    Waiting for a banner first would cost every probe that wait."""
    try:
        sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: netdiag\r\n\r\n".encode())
        sock.settimeout(REPLY_WAIT)
        data = sock.recv(256)
    except TimeoutError:
        return ReachResult.SILENT, "", f"accepted; no reply within {REPLY_WAIT:g}s"
    except (ConnectionResetError, BrokenPipeError):
        # a peer that closes before our request arrives answers it with a reset: the same
        # "accepted, then dropped" as a plain close, whichever wins the race
        return ReachResult.CLOSED, "", "accepted, then reset without a byte"
    if not data:
        return ReachResult.CLOSED, "", "accepted, then closed without a byte"
    return ReachResult.ANSWERED, data.decode("latin-1").splitlines()[0][:120], "the service answered"


def ask_for_icmp_errors(sock: socket.socket, family: int) -> None:
    """Have the kernel queue the ICMP errors about this socket's packets, with their sender
    (IP_RECVERR): read by icmp_error_of. A kernel without it just says less."""
    try:
        sock.setsockopt(*((socket.IPPROTO_IPV6, IPV6_RECVERR) if family == socket.AF_INET6
                          else (socket.IPPROTO_IP, IP_RECVERR)), 1)
    except OSError:
        pass


def icmp_error_of(sock: socket.socket) -> tuple[str, int, int] | None:
    """(sender, type, code) of the ICMP error the kernel queued on the socket (IP_RECVERR), if any."""
    try:
        sock.setblocking(False)  # with a timeout set, Python would first wait for the queue to fill
        _, ancillary, _, _ = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except OSError:
        return None
    for level, kind, data in ancillary:
        if (level, kind) not in ((socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVERR)):
            continue
        if len(data) < EXTENDED_ERR.size + 8:
            continue
        _, origin, icmp_type, icmp_code, _, _, _ = EXTENDED_ERR.unpack_from(data)
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            continue
        offender = data[EXTENDED_ERR.size:]
        family = struct.unpack_from("=H", offender)[0]
        if family == socket.AF_INET:
            sender = socket.inet_ntop(socket.AF_INET, offender[4:8])
        elif family == socket.AF_INET6 and len(offender) >= 24:
            sender = socket.inet_ntop(socket.AF_INET6, offender[8:24])
        else:
            continue
        return sender, icmp_type, icmp_code
    return None


def probe_tcp(address: str, port: int, timeout: float = TCP_TIMEOUT, open_socket=socket.socket) -> Reach:
    """A TCP connect to address:port, then whether a service really answers. `open_socket`
    makes the socket (netdiag.probes.netns opens it inside a container's namespace)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    method = "connect() + HTTP exchange"
    sock = open_socket(family, socket.SOCK_STREAM)
    ask_for_icmp_errors(sock, family)
    sock.settimeout(timeout)
    start = time.monotonic()
    try:
        sock.connect((address, port))
    except TimeoutError:
        sock.close()
        return Reach(Outcome(method=method), ProbeKind.TCP, address, port, ReachResult.TIMEOUT,
                     detail=f"no answer to the SYN within {timeout:g}s")
    except OSError as e:
        icmp = icmp_error_of(sock) if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED,
                                                  errno.EACCES, errno.EPERM) else None
        sock.close()
        if icmp is not None and icmp[0] != address:  # a router (or a firewall) answered for the address
            sender, icmp_type, icmp_code = icmp
            return Reach(Outcome(method=method + ", ICMP error from the socket's error queue"), ProbeKind.TCP, address,
                         port, ReachResult.ICMP_UNREACHABLE, sender, icmp_type, icmp_code,
                         detail=icmp_error_name(icmp_type, icmp_code))
        result, detail = {
            errno.ECONNREFUSED: (ReachResult.REFUSED,
                                 "connection refused: nothing listens there, or a firewall rejects"),
            errno.ENETUNREACH: (ReachResult.ICMP_UNREACHABLE, "network unreachable"),
            errno.EHOSTUNREACH: (ReachResult.ICMP_UNREACHABLE, "host unreachable"),
            errno.ETIMEDOUT: (ReachResult.TIMEOUT, "connection timed out"),
            errno.ECONNRESET: (ReachResult.RESET, "connection reset"),
        }.get(e.errno, (ReachResult.ERROR, os.strerror(e.errno) if e.errno else str(e)))
        return Reach(Outcome(method=method), ProbeKind.TCP, address, port, result, detail=detail)
    rtt = round((time.monotonic() - start) * 1000, 2)
    try:
        result, banner, detail = _exchange(sock, address)
        return Reach(Outcome(method=method), ProbeKind.TCP, address, port, result, responder=address,
                     detail=detail, rtt_ms=rtt, banner=banner)
    finally:
        sock.close()


def probe_udp(address: str, port: int, timeout: float = TCP_TIMEOUT, open_socket=socket.socket) -> Reach:
    """One datagram to address:port: a DNS query for the root's name servers to port 53 (a
    resolver answers it), an empty datagram elsewhere. A reply is an answer; ICMP port
    unreachable is a refusal, with its sender; silence proves nothing either way (a UDP service
    answers only what it understands), and says so."""
    from netdiag.parsers.dns import ROOT_NS, query

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    method = "UDP datagram" + (" (a DNS query)" if port == 53 else "")
    sock = open_socket(family, socket.SOCK_DGRAM)
    try:
        ask_for_icmp_errors(sock, family)
        sock.settimeout(timeout)
        start = time.monotonic()
        try:
            sock.connect((address, port))
            sock.send(query(ROOT_NS, random.randint(1, 0xFFFF), 2) if port == 53 else b"")
            data = sock.recv(512)
        except TimeoutError:
            return Reach(Outcome(method=method), ProbeKind.UDP, address, port, ReachResult.TIMEOUT,
                         detail=f"no reply within {timeout:g}s (silence: nothing answered, or a firewall dropped it)")
        except OSError as e:
            icmp = icmp_error_of(sock)
            sender = icmp[0] if icmp else ""
            if e.errno == errno.ECONNREFUSED:
                return Reach(Outcome(method=method), ProbeKind.UDP, address, port, ReachResult.REFUSED, sender,
                             detail="ICMP port unreachable: nothing listens there, or a firewall rejects")
            if icmp is not None:
                return Reach(Outcome(method=method), ProbeKind.UDP, address, port, ReachResult.ICMP_UNREACHABLE,
                             sender, icmp[1], icmp[2], detail=icmp_error_name(icmp[1], icmp[2]))
            return Reach(Outcome(method=method), ProbeKind.UDP, address, port, ReachResult.ERROR,
                         detail=os.strerror(e.errno) if e.errno else str(e))
        rtt = round((time.monotonic() - start) * 1000, 2)
        return Reach(Outcome(method=method), ProbeKind.UDP, address, port, ReachResult.ANSWERED, address,
                     detail=f"a {len(data)}-byte reply", rtt_ms=rtt)
    finally:
        sock.close()
