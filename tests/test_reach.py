"""The reach probes on loopback: a raw ICMP socket, the system ping without one, the ICMP packet
matching, and what a TCP exchange tells apart."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from netdiag.probes import reach
from netdiag.vocab import ReachResult


@pytest.mark.skipif(os.geteuid() != 0, reason="raw sockets need root")
@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_icmp_through_a_raw_socket(address):
    r = reach.probe_icmp(address)
    assert (r.outcome.method, r.result, r.responder) == ("raw ICMP socket", ReachResult.ANSWERED, address)


def test_icmp_without_raw_sockets_falls_back_to_ping_and_says_so(monkeypatch):
    def refused(address, timeout):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(reach, "_icmp_raw", refused)
    r = reach.probe_icmp("127.0.0.1")
    assert r.outcome.method == "system ping (no raw-socket permission)"
    assert (r.result, r.responder) == (ReachResult.ANSWERED, "127.0.0.1")


def _server(behaviour):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        conn, _ = srv.accept()
        behaviour(conn)

    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_accepted_then_closed_is_not_an_answer():
    """What docker-proxy does when nothing listens behind it."""
    srv = _server(lambda conn: conn.close())
    try:
        r = reach.probe_tcp("127.0.0.1", srv.getsockname()[1])
    finally:
        srv.close()
    assert r.result == ReachResult.CLOSED


def test_a_service_that_speaks_first_is_answered():
    srv = _server(lambda conn: (conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n"), conn.recv(100)))
    try:
        r = reach.probe_tcp("127.0.0.1", srv.getsockname()[1])
    finally:
        srv.close()
    assert (r.result, r.banner) == (ReachResult.ANSWERED, "SSH-2.0-OpenSSH_9.2")


def test_silence_and_refusal(monkeypatch):
    monkeypatch.setattr(reach, "REPLY_WAIT", 0.3)
    hold = threading.Event()
    srv = _server(lambda conn: hold.wait(2))
    try:
        assert reach.probe_tcp("127.0.0.1", srv.getsockname()[1]).result == ReachResult.SILENT
    finally:
        hold.set()
        port = srv.getsockname()[1]
        srv.close()
    start = time.monotonic()
    assert reach.probe_tcp("127.0.0.1", port).result == ReachResult.REFUSED
    assert time.monotonic() - start < 0.3  # a refusal is known at once: no wait on the ICMP error queue


def _ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    import struct

    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + payload


def test_icmp_matching_takes_only_answers_to_our_echo():
    """A router's error counts only when it quotes our echo (id, seq) to our address."""
    from netdiag.parsers.icmp import echo_request, match

    ours = echo_request(4, 4242, 1, b"netdiag")
    quoted = _ipv4("10.0.1.7", "172.17.0.29", 1, ours)[:28]
    net_unreachable = _ipv4("10.0.1.1", "10.0.1.7", 1, bytes([3, 0, 0, 0, 0, 0, 0, 0]) + quoted)
    assert match(4, net_unreachable, 4242, 1, "172.17.0.29") == ("error", 3, 0)
    assert match(4, net_unreachable, 4243, 1, "172.17.0.29") is None  # another run's echo
    assert match(4, net_unreachable, 4242, 1, "172.17.0.30") is None  # about another address
    reply = _ipv4("172.17.0.29", "10.0.1.7", 1, bytes([0, 0]) + ours[2:])
    assert match(4, reply, 4242, 1, "172.17.0.29") == ("reply", 0, 0)
    assert match(4, _ipv4("1.2.3.4", "10.0.1.7", 1, ours), 4242, 1, "172.17.0.29") is None  # an echo request
    assert match(4, b"short", 4242, 1, "172.17.0.29") is None
