"""Faults on the real engine: a container killed or paused mid-diagnosis, a frozen daemon, an API
that never answers, an interrupted --helper, and many diagnoses at once. netdiag ends within its
bounds, with the reason, never with a false verdict or a leftover helper."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from examples import lab
from examples.lab import netdiag

pytestmark = pytest.mark.engine
HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def popen(*args: str, ns: str | None = None, env_extra: dict | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(env_extra or {})
    argv = [sys.executable, "-m", "netdiag", *args]
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=lab.ROOT)


def honest(p: subprocess.CompletedProcess) -> dict:
    """A verdict that claims no more than was seen: reachable only with an answer, never an internal error."""
    assert p.returncode in (0, 1, 3), p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc.get("error", {}).get("code") != "internal-error", doc
    if doc.get("verdict") == "reachable":
        assert doc["works"], doc
    return doc


@pytest.mark.parametrize("fault", ["kill", "pause"])
def test_a_container_killed_or_paused_mid_diagnosis(clean, fault):
    lab.run("ndt-fault", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-fault", 80)
    start = time.monotonic()
    proc = popen("why-unreachable", "ndt-fault", "--json")
    time.sleep(0.15)
    lab.docker(fault, "ndt-fault")
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if fault == "pause":
            lab.docker("unpause", "ndt-fault", check=False)
    assert time.monotonic() - start < 30
    honest(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    after = json.loads(netdiag("why-unreachable", "ndt-fault", "--json").stdout) if fault == "kill" else None
    if after is not None:
        assert after["verdict"] == "unreachable" and after["causes"][0]["code"] == "container-not-running"


def _dockerd_pid() -> int:
    out = lab.sh("pgrep", "-x", "dockerd").stdout.split()
    assert out, "no dockerd"
    return int(out[0])


def test_a_frozen_daemon_is_unknown_with_the_reason_within_the_api_timeout(clean):
    lab.run("ndt-frozen", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-frozen", 80)
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        p = netdiag("why-unreachable", "ndt-frozen", "--json", timeout=60)
        took = time.monotonic() - start
    finally:
        os.kill(pid, signal.SIGCONT)
    assert p.returncode == 3 and took < 15, (took, p.stdout, p.stderr)
    assert json.loads(p.stdout)["error"]["code"] == "daemon-unreachable"
    assert "no answer within 5s" in p.stderr


def test_a_daemon_frozen_mid_run_never_gives_a_false_verdict(clean):
    lab.run("ndt-frozen2", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-frozen2", 80)
    pid = _dockerd_pid()
    proc = popen("why-unreachable", "ndt-frozen2", "--json")
    time.sleep(0.3)
    os.kill(pid, signal.SIGSTOP)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        os.kill(pid, signal.SIGCONT)
    if proc.returncode == 3 and '"error"' in out:
        assert json.loads(out)["error"]["code"] == "daemon-unreachable"
    else:
        honest(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def test_an_api_that_never_answers_ends_within_the_timeout():
    """A socket that accepts and stays silent, where the daemon should be."""
    folder = tempfile.mkdtemp(prefix="ndt-silent-")
    path = str(Path(folder) / "docker.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    try:
        start = time.monotonic()
        p = netdiag("why-unreachable", "web", "--json", env_extra={"DOCKER_HOST": f"unix://{path}"})
        took = time.monotonic() - start
    finally:
        stop.set()
        server.close()
    assert p.returncode == 3 and took < 12, (took, p.stderr)
    assert json.loads(p.stdout)["error"]["code"] == "daemon-unreachable"


@pytest.fixture
def slow_helper_image(engine):
    """A helper image whose `cat` takes a minute: the helper is surely running when the signal comes."""
    name = "netdiag-lab/slowcat:1"
    if lab.sh("docker", "image", "inspect", name, check=False).returncode != 0:
        folder = tempfile.mkdtemp(prefix="ndt-slowcat-")
        os.makedirs(f"{folder}/bin")
        lab.sh("cp", "/bin/busybox", f"{folder}/bin/busybox")
        os.symlink("busybox", f"{folder}/bin/sh")
        os.symlink("busybox", f"{folder}/bin/sleep")
        Path(f"{folder}/bin/cat").write_text("#!/bin/sh\nsleep 60\n")
        os.chmod(f"{folder}/bin/cat", 0o755)
        tar = subprocess.Popen(["tar", "-C", folder, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", name], stdin=tar.stdout, check=True, capture_output=True)
        tar.wait()
        lab.sh("rm", "-rf", folder)
    yield name


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_helper_is_removed(clean, laptop, slow_helper_image, sig):
    lab.run("ndt-nocat-i", image=lab.BARE, cmd=("httpd", "-f", "-p", "8085", "-h", "/www"))
    proc = popen("listeners", "ndt-nocat-i", "--helper", slow_helper_image, ns=lab.LAPTOP,
                 env_extra={"DOCKER_HOST": lab.DOCKER_TCP})
    deadline = time.monotonic() + 20
    while not lab.docker("ps", "-q", "--filter", "label=netdiag.helper"):
        assert time.monotonic() < deadline and proc.poll() is None, "the helper never started"
        time.sleep(0.05)
    proc.send_signal(sig)
    start = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err)
    assert time.monotonic() - start < 10
    assert lab.docker("ps", "-aq", "--filter", "label=netdiag.helper") == ""


def test_twenty_diagnoses_at_once_agree_with_one_alone(clean):
    lab.run("ndt-many-ok", "-p", "80", cmd=HTTPD)
    lab.run("ndt-many-empty", "-p", "5000", cmd=HTTPD)
    lab.wait_listening("ndt-many-ok", 80)
    lab.wait_listening("ndt-many-empty", 80)

    def summary(name: str) -> tuple:
        d = json.loads(netdiag("why-unreachable", name, "--json", timeout=120).stdout)
        return d["verdict"], [c["code"] for c in d["causes"]], [h["status"] for h in d["path"]]

    alone = {n: summary(n) for n in ("ndt-many-ok", "ndt-many-empty")}
    with ThreadPoolExecutor(max_workers=20) as pool:
        names = ["ndt-many-ok", "ndt-many-empty"] * 10
        together = list(pool.map(summary, names))
    assert together == [alone[n] for n in names]
    assert alone["ndt-many-ok"][0] == "reachable" and alone["ndt-many-empty"][1] == ["nothing-listening"]


def _restart_dockerd() -> None:
    """Stop dockerd as a service manager would (SIGTERM, wait), and start it again as scripts/setup.sh does."""
    pid = _dockerd_pid()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = open("/var/log/netdiag-dockerd.log", "ab")
    subprocess.Popen([a.decode() for a in argv], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    deadline = time.monotonic() + 60
    while lab.sh("docker", "info", check=False).returncode != 0:
        assert time.monotonic() < deadline, "dockerd did not come back"
        time.sleep(0.3)


def test_a_daemon_restarted_mid_run(clean):
    """The daemon goes away while netdiag works, and comes back: an honest answer or the reason."""
    lab.run("ndt-restart", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-restart", 80)
    proc = popen("why-unreachable", "ndt-restart", "--json")
    time.sleep(0.2)
    try:
        _restart_dockerd()
    finally:
        out, err = proc.communicate(timeout=60)
    if proc.returncode == 3 and '"error"' in out:
        assert json.loads(out)["error"]["code"] in ("daemon-unreachable", "container-not-found"), out
    else:
        honest(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    after = json.loads(netdiag("why-unreachable", "ndt-restart", "--json").stdout)
    assert after["verdict"] == "unreachable" and after["causes"][0]["code"] == "container-not-running"
