"""Fixtures: the real engine, per-test cleanup of what a test made, and the laptop/VM lab."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from examples import lab


def _engine_problem() -> str:
    if os.geteuid() != 0:
        return "the real-engine tests need root (network namespaces, /proc of other processes)"
    if not shutil.which("docker"):
        return "no docker client on PATH"
    p = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if p.returncode != 0:
        return "no Docker engine answers: run scripts/setup.sh"
    return ""


@pytest.fixture(scope="session")
def engine():
    """The real engine, clean of anything an earlier run left; cleaned again at the end."""
    problem = _engine_problem()
    if problem:
        if os.environ.get("NETDIAG_REQUIRE_ENGINE"):
            pytest.fail(problem)
        pytest.skip(problem)
    lab.cleanup()
    yield
    lab.cleanup()


def remove_labelled(cli, *rm_options: str) -> None:
    """Remove the lab's labelled containers, then its networks, through `cli` (lab.docker or lab.podman)."""
    ids = cli("ps", "-aq", "--filter", f"label={lab.LABEL}", check=False).split()
    if ids:
        cli("rm", "-f", *rm_options, *ids, check=False)
    nets = cli("network", "ls", "-q", "--filter", f"label={lab.LABEL}", check=False).split()
    if nets:
        cli("network", "rm", *nets, check=False)


@pytest.fixture
def clean(engine):
    """Remove the containers and networks a test made, even when it fails."""
    yield
    remove_labelled(lab.docker)


@pytest.fixture(scope="session")
def laptop(engine):
    """The seed's topology: a laptop namespace whose daemon is 'remote' at 192.168.59.103."""
    try:
        lab.make_laptop()
        yield lab
    finally:
        for ns in (lab.LAPTOP, lab.ISP):
            lab.sh("ip", "netns", "del", ns, check=False)
        lab.sh("ip", "link", "del", "ndt-vm0", check=False)
        lab.stop_forwarder()


@pytest.fixture(scope="session")
def internet(engine):
    """The lab's far side: a web server and a DNS server in a namespace the Docker host routes to."""
    try:
        lab.make_internet()
        yield lab
    finally:
        lab.remove_internet()


@pytest.fixture(scope="session")
def second_host(engine):
    """A second Docker host: a dockerd in its own network namespace (examples/lab.py)."""
    try:
        lab.make_second_host()
        yield lab
    finally:
        lab.remove_second_host()


@pytest.fixture(scope="session")
def podman(engine):
    """Podman's Docker-compatible API on its own socket beside dockerd (examples/lab.py)."""
    try:
        lab.make_podman()
        yield lab
    finally:
        lab.remove_podman()


@pytest.fixture
def podman_clean(podman):
    """Remove the Podman pods, containers and networks a test made, even when it fails."""
    yield
    lab.remove_podman_pods()
    remove_labelled(lab.podman, "-t", "0")


@pytest.fixture(scope="session")
def rootless(engine):
    """Podman run by an unprivileged user, its Docker-compatible API on its own socket (examples/lab.py)."""
    try:
        lab.make_rootless_podman()
        yield lab
    finally:
        lab.remove_rootless_podman()


@pytest.fixture
def rootless_clean(rootless):
    """Remove the rootless Podman's containers and networks a test made, even when it fails."""
    yield
    remove_labelled(lab.rootless_podman, "-t", "0")


@pytest.fixture(scope="module")
def swarm(engine):
    """A single-node swarm on the lab's dockerd, left (and docker_gwbridge removed) afterwards."""
    try:
        lab.make_swarm()
        yield lab
    finally:
        ids = lab.docker("service", "ls", "-q", "--filter", f"label={lab.LABEL}", check=False).split()
        if ids:
            lab.sh("docker", "service", "rm", *ids, check=False)
        lab.remove_swarm()
