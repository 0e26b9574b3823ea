"""Reachability from the client: an ICMP echo and a TCP connect, and who answered.

ICMP goes out through scapy when netdiag may open a raw socket, so an ICMP error is seen with its
type, code and the router that sent it; replies are matched to this probe's random echo id, so two
runs at once do not confuse each other. Without that permission it falls back to the system ping
and says so. TCP uses a plain connect(), then a short application exchange: a service that
answers is told apart from a docker-proxy that accepts and closes with nothing behind it.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import random
import shutil
import socket
import subprocess
import time

from netdiag.facts import Outcome, Reach
from netdiag.parsers.ping import UNREACHABLE_CODES, parse_ping
from netdiag.vocab import ProbeKind, ReachResult

ICMP_TIMEOUT = 1.5
TCP_TIMEOUT = 1.5
REPLY_WAIT = 1.0

ICMP_NAMES = {code: name for name, code in UNREACHABLE_CODES.items()}


def icmp_error_name(icmp_type: int | None, icmp_code: int | None) -> str:
    if icmp_type == 3:
        return ICMP_NAMES.get(icmp_code, f"Destination Unreachable (code {icmp_code})")
    if icmp_type == 11:
        return "Time to live exceeded"
    return f"ICMP type {icmp_type} code {icmp_code}"


def _can_raw() -> bool:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError:
        return False
    s.close()
    return True


def _icmp_scapy(address: str, timeout: float) -> Reach:
    from scapy.config import conf
    from scapy.layers.inet import ICMP, IP
    from scapy.sendrecv import sr1

    conf.verb = 0
    ident = random.randint(1, 0xFFFF)
    probe = IP(dst=address) / ICMP(id=ident, seq=1) / b"netdiag"
    start = time.monotonic()
    answer = sr1(probe, timeout=timeout, verbose=0)
    rtt = round((time.monotonic() - start) * 1000, 2)
    method = "scapy"
    if answer is None:
        return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.TIMEOUT,
                     detail=f"no reply within {timeout:g}s")
    icmp = answer.getlayer(ICMP)
    sender = answer.getlayer(IP).src
    if icmp.type == 0:
        return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.ANSWERED, responder=sender,
                     icmp_type=0, icmp_code=0, rtt_ms=rtt, detail="echo reply")
    return Reach(Outcome(method=method), ProbeKind.ICMP, address, result=ReachResult.ICMP_UNREACHABLE, responder=sender,
                 icmp_type=int(icmp.type), icmp_code=int(icmp.code),
                 detail=icmp_error_name(int(icmp.type), int(icmp.code)))


def _icmp_ping(address: str, timeout: float) -> Reach:
    exe = shutil.which("ping")
    if not exe:
        return Reach(Outcome.unavailable("no raw-socket permission and no ping command"), ProbeKind.ICMP, address)
    argv = [exe, "-n", "-c", "1", "-W", str(max(1, int(round(timeout)))), address]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 2,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Reach(Outcome.failed(f"ping: {e}", "ping"), ProbeKind.ICMP, address)
    parsed = parse_ping(p.stdout + p.stderr)
    return Reach(Outcome(method="system ping (no raw-socket permission)"), ProbeKind.ICMP, address, **parsed)


def probe_icmp(address: str, timeout: float = ICMP_TIMEOUT) -> Reach:
    """One ICMP echo to `address`: answered, timeout, or an ICMP error with its sender."""
    if _can_raw():
        try:
            return _icmp_scapy(address, timeout)
        except (OSError, ImportError) as e:
            fallback = _icmp_ping(address, timeout)
            return dataclasses.replace(fallback, outcome=dataclasses.replace(
                fallback.outcome, reason=f"scapy failed ({e}); used the system ping"))
    return _icmp_ping(address, timeout)


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


def probe_tcp(address: str, port: int, timeout: float = TCP_TIMEOUT) -> Reach:
    """A TCP connect to address:port, then whether a service really answers."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    method = "connect() + HTTP exchange"
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    start = time.monotonic()
    try:
        sock.connect((address, port))
    except TimeoutError:
        sock.close()
        return Reach(Outcome(method=method), ProbeKind.TCP, address, port, ReachResult.TIMEOUT,
                     detail=f"no answer to the SYN within {timeout:g}s")
    except OSError as e:
        sock.close()
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
