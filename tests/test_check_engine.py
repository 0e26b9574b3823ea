"""check and doctor on the real engine: exit codes, JSON, JUnit (parsed), --wait, and a doctor
that finds exactly the broken containers."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from examples import lab
from examples.lab import netdiag
from tests.schemas import validate

pytestmark = pytest.mark.engine

ROOT = Path(lab.ROOT)
HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


@pytest.fixture
def stack(clean):
    """examples/ci/stack.sh, as docs/ci.md runs it, labelled so the lab's cleanup removes it."""
    taken = lab.docker("ps", "-a", "--filter", "name=^/(web|api|db)$", "--format", "{{.Names}} {{.Labels}}")
    assert lab.LABEL not in taken and not taken.strip(), f"containers named web/api/db exist already: {taken}"
    env = dict(os.environ, NETDIAG_LABEL=lab.LABEL, NETDIAG_DNS="127.0.0.1")
    try:
        lab.sh("bash", str(ROOT / "examples/ci/stack.sh"), env=env)
        lab.wait_listening("web", 80)
        lab.wait_listening("api", 80)
        yield
    finally:
        lab.sh("bash", str(ROOT / "examples/ci/stack.sh"), "down", env=env, check=False)


def test_the_documented_example_holds(stack, tmp_path):
    junit = tmp_path / "netdiag.xml"
    p = netdiag("check", "-f", str(ROOT / "examples/ci/netdiag.yml"), "--junit", str(junit), "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    document = json.loads(p.stdout)
    assert validate(document) == "check" and [r["status"] for r in document["results"]] == ["pass"] * 5
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "0", "0")


def test_some_hold_some_fail(clean, tmp_path):
    lab.network("ndt-net-chk")
    lab.run("ndt-chk-ok", "-p", "80", cmd=HTTPD)
    lab.run("ndt-chk-empty", "-p", "5000", cmd=HTTPD)
    lab.run("ndt-chk-db", "-p", "5432", cmd=("httpd", "-f", "-p", "5432", "-h", "/www"))
    lab.wait_listening("ndt-chk-ok", 80)
    lab.wait_listening("ndt-chk-empty", 80)
    yml = tmp_path / "netdiag.yml"
    yml.write_text("version: 1\nexpect:\n"
                   "  - reachable: {container: ndt-chk-ok, port: 80}\n"
                   "  - reachable: {container: ndt-chk-empty, port: 5000}\n"
                   "  - not-published: {container: ndt-chk-db}\n"
                   "  - on-network: {container: ndt-chk-ok, network: ndt-net-chk}\n"
                   "  - reachable: {container: ndt-chk-missing, port: 80}\n")
    junit = tmp_path / "out.xml"
    p = netdiag("check", "-f", str(yml), "--json", "--junit", str(junit))
    assert p.returncode == 1, p.stderr
    document = json.loads(p.stdout)
    assert validate(document) == "check" and document["file"] == str(yml)
    results = document["results"]
    assert [r["status"] for r in results] == ["pass", "fail", "fail", "fail", "fail"]
    assert [c["code"] for c in results[1]["diagnosis"]["causes"]] == ["nothing-listening"]
    assert results[2]["detail"].startswith("ndt-chk-db publishes 5432/tcp on 0.0.0.0:")
    assert "no container matches 'ndt-chk-missing'" in results[4]["detail"]
    cases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    assert len(cases) == 5 and [c.get("line") for c in cases] == ["3", "4", "5", "6", "7"]
    failure = cases[1].find("failure")
    assert failure is not None and "[nothing-listening]" in failure.text and "docker run -p" in failure.text
    assert cases[0].find("failure") is None

    summary = tmp_path / "summary.md"
    gha = netdiag("check", "-f", str(yml), env_extra={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    errors = [line for line in gha.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 4 and errors[0].startswith(f"::error file={yml},line=4,title=")
    table = summary.read_text().splitlines()
    assert table[0] == f"### netdiag check ({yml}): 1 of 5 hold"
    assert table[4].startswith("| 3 | ndt-chk-ok port 80 reachable from host | pass | reachable at ")
    assert table[5].startswith("| 4 | ndt-chk-empty port 5000 reachable from host | fail | nothing-listening: ")


def test_wait_until_the_app_listens(clean, tmp_path):
    lab.run("ndt-late", "-p", "80", cmd=("sh", "-c", "sleep 3; exec httpd -f -p 80 -h /www"))
    yml = tmp_path / "netdiag.yml"
    yml.write_text("version: 1\nexpect:\n  - reachable: {container: ndt-late, port: 80}\n")
    start = time.monotonic()
    p = netdiag("check", "-f", str(yml), "--wait", "30")
    assert p.returncode == 0, p.stdout + p.stderr
    assert time.monotonic() - start >= 2.5
    assert "waiting (" in p.stderr and "ndt-late port 80 reachable from host" in p.stderr


def test_wait_times_out_with_the_diagnosis(clean, tmp_path):
    lab.run("ndt-never", "-p", "8080", cmd=HTTPD)
    lab.wait_listening("ndt-never", 80)
    yml = tmp_path / "netdiag.yml"
    yml.write_text("version: 1\nexpect:\n  - reachable: {container: ndt-never, port: 8080}\n")
    start = time.monotonic()
    p = netdiag("check", "-f", str(yml), "--wait", "4")
    elapsed = time.monotonic() - start
    assert p.returncode == 1 and elapsed < 15, elapsed
    assert "UNREACHABLE: ndt-never port 8080" in p.stdout
    assert "[nothing-listening]" in p.stdout and "docker run -p" in p.stdout


def test_bad_file_is_exit_2_naming_the_line(engine, tmp_path):
    yml = tmp_path / "netdiag.yml"
    yml.write_text("version: 1\nexpect:\n  - reachable: {container: web, port: eighty}\n")
    p = netdiag("check", "-f", str(yml))
    assert p.returncode == 2 and p.stderr.strip() == \
        f"netdiag: {yml}:3: reachable: 'eighty' is not a port: give a number from 1 to 65535"
    assert netdiag("check", "-f", str(tmp_path / "missing.yml")).returncode == 2


def test_doctor_finds_exactly_the_broken_ones(clean):
    lab.network("ndt-net-doc")
    lab.run("ndt-doc-ok1", "-p", "80", cmd=HTTPD)
    lab.run("ndt-doc-ok2", "--network", "ndt-net-doc", cmd=HTTPD)
    lab.run("ndt-doc-empty", "-p", "5000", cmd=HTTPD)
    lab.run("ndt-doc-lo", "-p", "80", cmd=("httpd", "-f", "-p", "127.0.0.1:80", "-h", "/www"))
    lab.run("ndt-doc-dead", "-p", "80", cmd=("sh", "-c", "exit 2"))
    lab.run("ndt-doc-job", cmd=("true",))
    for name in ("ndt-doc-ok1", "ndt-doc-ok2", "ndt-doc-empty", "ndt-doc-lo"):
        lab.wait_listening(name, 80)
    lab.sh("docker", "wait", "ndt-doc-dead", "ndt-doc-job")
    p = netdiag("doctor", "--json")
    assert p.returncode == 1, p.stderr
    document = json.loads(p.stdout)
    assert validate(document) == "doctor"
    rows = {r["container"]: r for r in document["containers"] if r["container"].startswith("ndt-doc")}
    broken = {name for name, r in rows.items() if r["verdict"] not in ("reachable", None)}
    assert broken == {"ndt-doc-empty", "ndt-doc-lo", "ndt-doc-dead"}
    assert rows["ndt-doc-empty"]["causes"] == ["nothing-listening"]
    assert rows["ndt-doc-lo"]["causes"] == ["listening-on-loopback"]
    assert rows["ndt-doc-dead"]["causes"] == ["container-not-running"]
    assert rows["ndt-doc-job"]["verdict"] is None
    assert rows["ndt-doc-ok2"]["verdict"] == "reachable"
