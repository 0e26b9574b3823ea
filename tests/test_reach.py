"""The reach probes on loopback: scapy with raw sockets, the system ping without, and what a TCP
exchange tells apart."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from netdiag.probes import reach
from netdiag.vocab import ReachResult


@pytest.mark.skipif(os.geteuid() != 0, reason="raw sockets need root")
def test_icmp_through_scapy():
    r = reach.probe_icmp("127.0.0.1")
    assert (r.outcome.method, r.result, r.responder, r.icmp_type) == ("scapy", ReachResult.ANSWERED, "127.0.0.1", 0)


def test_icmp_without_raw_sockets_falls_back_to_ping_and_says_so(monkeypatch):
    monkeypatch.setattr(reach, "_can_raw", lambda: False)
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
    assert reach.probe_tcp("127.0.0.1", port).result == ReachResult.REFUSED
