"""Compose projects on the real engine, made with Debian's docker-compose (1.29, v1 naming
project_service_1): services as targets, and two projects that share no network."""

from __future__ import annotations

import contextlib
import json
import os
import shutil

import pytest

from examples import lab
from examples.lab import netdiag

pytestmark = pytest.mark.engine

PROJECTS = os.path.join(os.path.dirname(__file__), "data", "compose")


@contextlib.contextmanager
def project(name: str, folder: str):
    """`docker-compose up -d` of tests/data/compose/FOLDER as project NAME; `down` afterwards."""
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is missing: run scripts/setup.sh")
    argv = [exe, "-p", name, "-f", os.path.join(PROJECTS, folder, "docker-compose.yml")]
    try:
        lab.sh(*argv, "up", "-d", timeout=120)
        yield
    finally:
        lab.sh(*argv, "down", "--timeout", "1", check=False, timeout=120)


def test_two_projects_share_no_network_and_the_fix_is_compose(clean):
    with project("ndtshop", "shop"), project("ndtblog", "blog"):
        lab.wait_listening("ndtshop_web_1", 80)
        p = netdiag("--project", "ndtshop", "why-unreachable", "web", "--from", "container:ndtblog_worker_1",
                    "--to", "web:80", "--json")
        d = json.loads(p.stdout)
        assert p.returncode == 1, d
        c = next(c for c in d["causes"] if c["code"] == "different-networks")
        assert "Compose projects: ndtblog_worker_1 is in ndtblog, ndtshop_web_1 in ndtshop; each project has its " \
               "own networks" in c["evidence"]
        assert c["fix"][0] == ("in project ndtblog's compose file: under services: worker: networks: [default, "
                               "ndtshop_default], and at the top: networks: ndtshop_default: external: true; then "
                               "use web:80")
        # the service name, as Compose users say it, finds the project's container
        ip = json.loads(netdiag("--project", "ndtshop", "ip", "web", "--json").stdout)
        assert ip["container"]["name"] == "ndtshop_web_1", ip
