"""The CLI's contract that needs no engine: start-up cost, help, bad arguments, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netdiag import __version__


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "netdiag", *args], capture_output=True, text=True, env=env)


def test_version_and_help_list_every_command():
    assert cli("--version").stdout.strip() == f"netdiag, version {__version__}"
    out = cli("--help").stdout
    for name in ("engine", "port", "ip", "ping", "listeners", "subnets", "firewall"):
        line = next(l for l in out.splitlines() if l.strip().startswith(name + " "))
        assert not line.rstrip().endswith("..."), line


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_startup_imports_nothing_heavy(flag):
    """The CLI starts fast: docker-py, psutil, tabulate and PyYAML load only in commands that use them."""
    code = ("import sys; from click.testing import CliRunner; from netdiag.cli import cli; "
            f"r = CliRunner().invoke(cli, ['{flag}']); assert r.exit_code == 0; "
            "print(sorted(m for m in ('docker', 'psutil', 'tabulate', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_bad_port_is_one_line_exit_2():
    p = cli("ping", "127.0.0.1", "--port", "http")
    assert p.returncode == 2
    assert p.stderr.strip() == "netdiag: 'http' is not a port: give a number from 1 to 65535"
    j = cli("port", "web", "70000", "--json")
    assert j.returncode == 2 and json.loads(j.stdout)["error"]["code"] == "bad-argument"


def test_usage_errors_are_one_line_exit_2():
    p = cli("ip")
    assert p.returncode == 2
    assert p.stderr == "netdiag: Missing argument 'CONTAINER'. (see: netdiag ip --help)\n"
    j = cli("why-unreachable", "web", "--bogus", "--json")
    assert j.returncode == 2 and json.loads(j.stdout)["error"]["code"] == "bad-argument"
    assert cli("nosuchcommand").stderr.count("\n") == 1


def test_ping_loopback_port_nobody_listens_on():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # free again: nothing listens there now
    p = cli("ping", "127.0.0.1", "--port", str(port), "--json")
    assert p.returncode == 0, p.stderr
    tcp = [a for a in json.loads(p.stdout)["attempts"] if a["kind"] == "tcp"][0]
    assert tcp["result"] == "refused"


def test_ping_loopback_service_that_answers():
    import http.server
    import threading

    srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    t = threading.Thread(target=srv.handle_request, daemon=True)
    t.start()
    try:
        p = cli("ping", "127.0.0.1", "--port", str(srv.server_port), "--json")
    finally:
        srv.server_close()
    tcp = [a for a in json.loads(p.stdout)["attempts"] if a["kind"] == "tcp"][0]
    assert tcp["result"] == "answered" and tcp["banner"].startswith("HTTP/1.0")


def test_a_daemon_that_goes_away_mid_run_is_daemon_unreachable(monkeypatch):
    """A connection error from docker-py's transport after the daemon was reached is not a bug of
    netdiag's: exit 3, daemon-unreachable, one line."""
    import requests
    from click.testing import CliRunner

    from netdiag import cli as cli_module

    def gone(*a, **k):
        raise requests.exceptions.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file'))")

    monkeypatch.setattr("netdiag.why.why_unreachable", gone)
    r = CliRunner().invoke(cli_module.cli, ["why-unreachable", "web", "--json"])
    assert r.exit_code == 3
    error = json.loads(r.stdout.splitlines()[0])["error"]
    assert error["code"] == "daemon-unreachable" and "stopped answering: ConnectionError" in error["message"]


@pytest.mark.parametrize("args", [
    ("why-unreachable", "web", "--timeout", "nan"), ("why-unreachable", "web", "--timeout", "0"),
    ("why-unreachable", "web", "--timeout", "inf"), ("why-unreachable", "web", "--port", "８０"),
    ("why-unreachable", "web", "--to", ""), ("why-unreachable", "web", "--to", "[::1"),
    ("why-unreachable", "web", "--from", "container:"), ("-H", "", "engine"), ("--context", "", "engine"),
    ("-H", "x", "--context", "y", "engine"), ("check", "--wait", "nan"), ("port", "web", "0"),
    ("explain", "/dev/zero"), ("rules", "ND"), ("why-unreachable",), ("nosuchcommand",),
])
def test_every_bad_argument_is_one_line_never_a_traceback(tmp_path, args):
    """Through the console entry point itself, as a user types it: exit 2 (or 3 where a daemon
    had to answer first), one line on stderr, no traceback."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    p = cli(*args, "--json", env=env)
    assert p.returncode in (2, 3), (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1, p.stderr


@pytest.mark.parametrize("args, said", [
    (("why-unreachable", "x:99999", "--from", "container:nope"), "DESTINATION 'x:99999': '99999' is not a port"),
    (("why-unreachable", "1.2.3.4/udp", "--from", "container:nope"), "a UDP attempt needs a port"),
    (("doctor", "--outbound", "db:http"), "--outbound 'db:http': 'http' is not a port"),
    (("why-unreachable", "web", "--port", "53/udp"), "--port '53/udp': netdiag diagnoses TCP ports into a "
                                                     "container; UDP only out of one"),
])
def test_bad_outbound_destinations_are_one_line_and_exit_2(args, said):
    p = cli(*args)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and said in p.stderr, p.stderr


def test_docker_py_is_imported_without_paramiko_until_an_ssh_endpoint_needs_it():
    """paramiko (and cryptography) cost 70 ms and 20 MiB at docker-py's import, for ssh:// only."""
    code = ("import sys\nfrom netdiag.engine_api import import_docker_py, _ssh_support\n"
            "import_docker_py()\nprint(sys.modules.get('paramiko') is not None)\n"
            "_ssh_support()\nimport docker.api.client as c\nprint(hasattr(c, 'SSHHTTPAdapter'))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.split() == ["False", "True"], p.stderr
