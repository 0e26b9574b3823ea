"""Swarm services on the real engine: a single-node swarm on the lab's dockerd, whose kernel has no
IPVS (LAB.md), so the routing mesh cannot work there; host-mode publishing can. Each case is
checked against what a client really gets first."""

from __future__ import annotations

import pytest

from examples import lab
from tests.test_why_engine import cause, codes, why

pytestmark = pytest.mark.engine

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def gets(port: int) -> str:
    """What this machine gets from 127.0.0.1:port (the truth the diagnosis must agree with)."""
    import socket

    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return s.recv(64).decode(errors="replace").split("\r")[0] or "closed"
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()


def test_a_port_of_the_routing_mesh_on_a_kernel_without_ipvs(swarm):
    """Published through the routing mesh (the default), the port stays silent; by the service's
    name, netdiag names the missing IPVS and the host-mode publish that works."""
    lab.service("ndt-mesh", "--publish", "18090:80", cmd=HTTPD)
    try:
        assert not gets(18090).startswith("HTTP/1")
        d = why("ndt-mesh", expect=1)
        assert codes(d) == ["ipvs-missing"], d["causes"]
        c = cause(d, "ipvs-missing")
        assert c["summary"] == ("127.0.0.1:18090 is published by Swarm's routing mesh, which this kernel cannot run: "
                                "it has no IPVS")
        assert "service ndt-mesh publishes 80/tcp on 18090 in ingress mode (the routing mesh), endpoint mode vip" \
            in c["evidence"]
        assert c["fix"][1] == ("or publish in host mode: docker service update --publish-rm 18090 --publish-add "
                               "mode=host,published=18090,target=80 ndt-mesh")
        assert d["target"]["container"].startswith("ndt-mesh.1.")
        assert "port-not-published" not in codes(d)
    finally:
        lab.sh("docker", "service", "rm", "ndt-mesh", check=False)


def test_host_mode_publishing_answers_and_is_healthy(swarm):
    """The decoy: published in host mode, the node running the task binds the port itself."""
    lab.service("ndt-hostpub", "--publish", "mode=host,published=18091,target=80", cmd=HTTPD)
    try:
        assert gets(18091).startswith("HTTP/1")
        d = why("ndt-hostpub.1", expect=0)
        assert d["verdict"] == "reachable" and not d["causes"] and "127.0.0.1:18091" in d["works"]
    finally:
        lab.sh("docker", "service", "rm", "ndt-hostpub", check=False)


def test_a_service_whose_tasks_keep_failing(swarm):
    """The task's command exits: the swarm replaces it again and again; by the service's name,
    its last task's container, exited, and no-running-task with the tasks' errors."""
    lab.service("ndt-failing", cmd=("sh", "-c", "exit 3"), wait=False)
    try:
        import time

        for _ in range(50):  # until a task has failed and left its container
            if "Exited" in lab.docker("ps", "-a", "--filter", "label=com.docker.swarm.service.name=ndt-failing",
                                      "--format", "{{.Status}}"):
                break
            time.sleep(0.1)
        d = why("ndt-failing", "--port", "80", expect=1)
        c = cause(d, "no-running-task")
        assert any(e.startswith("task ndt-failing.1: failed: task: non-zero exit (3)") for e in c["evidence"]), c
        assert "container-not-running" in codes(d)
    finally:
        lab.sh("docker", "service", "rm", "ndt-failing", check=False)


def test_a_service_with_no_task_on_this_node(swarm):
    lab.service("ndt-zero", "--replicas", "0", cmd=HTTPD)
    try:
        p = lab.netdiag("why-unreachable", "ndt-zero")
        assert p.returncode == 2
        assert p.stderr.strip() == ("netdiag: Swarm service 'ndt-zero' runs no task on this node (0 replica(s) asked "
                                    "for): see docker service ps ndt-zero; a task's container is diagnosed where it "
                                    "runs")
    finally:
        lab.sh("docker", "service", "rm", "ndt-zero", check=False)
