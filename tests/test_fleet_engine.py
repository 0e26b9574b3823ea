"""Several daemons at once, on the lab's two real Docker hosts (and one address where none answers)."""

from __future__ import annotations

import json

import pytest

from examples import lab
from examples.lab import netdiag

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")
DOWN = "tcp://198.18.9.2:2999"  # the second host's address, a port where no daemon listens


def test_doctor_over_two_daemons_and_one_that_is_down(clean, second_host):
    lab.run("ndt-f1", "-p", "80", cmd=HTTPD)
    lab.wait_listening("ndt-f1", 80)
    lab.host2("run", "-d", "--name", "ndt-f2", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "5000", lab.IMAGE,
              *HTTPD)
    try:
        p = netdiag("doctor", "-H", "unix:///var/run/docker.sock", "-H", lab.HOST2_TCP, "-H", DOWN, "--json")
        doc = json.loads(p.stdout)
        from tests.schemas import validate

        assert validate(doc) == "doctor"
        rows = {(r["host"], r["container"]): r for r in doc["containers"]}
        assert rows[("unix:///var/run/docker.sock", "ndt-f1")]["verdict"] == "reachable"
        assert rows[(lab.HOST2_TCP, "ndt-f2")]["verdict"] == "unreachable"
        assert "nothing-listening" in rows[(lab.HOST2_TCP, "ndt-f2")]["causes"]
        down = rows[(DOWN, "")]
        assert down["causes"] == ["daemon-unreachable"] and down["verdict"] == "unknown"
        assert p.returncode == 1  # ndt-f2 is broken; the daemon that is down does not end the run
        assert not any(h == lab.HOST2_TCP and c == "ndt-f1" for h, c in rows)  # each daemon its own containers
        text = netdiag("doctor", "-H", "unix:///var/run/docker.sock", "-H", lab.HOST2_TCP).stdout
        assert text.splitlines()[0].split()[:2] == ["daemon", "container"]
    finally:
        lab.host2("rm", "-f", "ndt-f2", check=False)
