"""Where the daemon lives, from the endpoint and `docker info`: every case the field has."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netdiag.engine_api import DaemonEndpoint, resolve_endpoint
from netdiag.facts import Engine, Outcome
from netdiag.probes.engine import classify_location, refine_local_settings, serving_dockerd
from netdiag.vocab import Location, VmKind

LINUX = {"OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "Name": "vm", "KernelVersion": "6.1.0"}


@pytest.mark.parametrize("url, info, local, env, resolved, want", [
    ("unix:///var/run/docker.sock", LINUX, set(), {}, "", (Location.LOCAL, "", "127.0.0.1")),
    ("tcp://192.168.59.103:2376", {"OperatingSystem": "Boot2Docker 1.7.0 (TCL 6.3)", "Name": "boot2docker"},
     {"10.0.1.7"}, {}, "192.168.59.103", (Location.VM, "boot2docker", "192.168.59.103")),
    ("tcp://192.168.59.103:2375", LINUX, {"192.168.59.3"}, {}, "192.168.59.103", (Location.REMOTE, "", "192.168.59.103")),
    ("unix:///Users/me/.docker/run/docker.sock", {"OperatingSystem": "Docker Desktop", "Name": "docker-desktop"},
     set(), {}, "", (Location.VM, "docker-desktop", "127.0.0.1")),
    ("unix:///Users/me/.colima/default/docker.sock", {"OperatingSystem": "Ubuntu 24.04", "Name": "colima"},
     set(), {}, "", (Location.VM, "colima", "127.0.0.1")),
    ("unix:///var/run/docker.sock", {"OperatingSystem": "Ubuntu", "KernelVersion": "5.15.90.1-microsoft-standard-WSL2"},
     set(), {}, "", (Location.VM, "wsl2", "127.0.0.1")),
    ("tcp://127.0.0.1:2375", LINUX, set(), {}, "127.0.0.1", (Location.LOCAL, "", "127.0.0.1")),
    ("tcp://10.1.2.3:2376", LINUX, {"10.1.2.3"}, {}, "10.1.2.3", (Location.LOCAL, "", "127.0.0.1")),
    ("ssh://deploy@10.20.0.5", LINUX, {"10.0.1.7"}, {}, "10.20.0.5", (Location.REMOTE, "", "10.20.0.5")),
    ("tcp://192.168.99.100:2376", LINUX, set(), {"DOCKER_MACHINE_NAME": "default"}, "192.168.99.100",
     (Location.VM, "docker-machine", "192.168.99.100")),
])
def test_classify_location(url, info, local, env, resolved, want):
    location, vm_kind, host, evidence = classify_location(url, info, local, env, resolved)
    assert (location, vm_kind, host) == want
    assert evidence


def test_endpoint_precedence(tmp_path, monkeypatch):
    assert resolve_endpoint({"DOCKER_HOST": "tcp://1.2.3.4:2375", "DOCKER_CONTEXT": "x"}).chosen_by == "DOCKER_HOST"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert resolve_endpoint({}).url == "unix:///var/run/docker.sock"


def test_docker_context_is_followed(tmp_path, monkeypatch):
    import hashlib
    import json

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "b2d"}))
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"b2d").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "b2d", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": "tcp://192.168.59.103:2376",
                                                                         "SkipTLSVerify": False}}}))
    ep = resolve_endpoint({})
    assert (ep.url, ep.chosen_by, ep.context) == ("tcp://192.168.59.103:2376", "docker context", "b2d")
    ep = resolve_endpoint({"DOCKER_CONTEXT": "b2d"})
    assert ep.chosen_by == "DOCKER_CONTEXT"


def test_missing_context_is_daemon_unreachable(tmp_path, monkeypatch):
    from netdiag.errors import CannotDiagnose

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(CannotDiagnose, match="docker context 'nope' \\(DOCKER_CONTEXT\\) does not exist"):
        resolve_endpoint({"DOCKER_CONTEXT": "nope"})


def test_daemon_settings_from_flags_and_daemon_json():
    e = Engine(Outcome(), location=Location.LOCAL)
    r = refine_local_settings(e, ["dockerd", "--userland-proxy=false"], '{"ipv6": true}')
    assert (r.iptables, r.userland_proxy, r.ipv6) == (True, False, True)
    r = refine_local_settings(e, ["dockerd"], '{"iptables": false}')
    assert r.iptables is False and r.userland_proxy is True
    assert refine_local_settings(e, ["dockerd"], "not json").ipv6 is False


@pytest.fixture
def command_line(monkeypatch):
    """engine_api's choice from -H/--context, undone after the test."""
    from netdiag import engine_api

    monkeypatch.setattr(engine_api, "chosen_on_command_line", None)
    return engine_api


def test_host_and_context_options_win_over_the_environment(tmp_path, monkeypatch, command_line):
    import hashlib
    import json

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"lab").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "lab", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": "tcp://192.168.59.103:2375"}}}))
    env = {"DOCKER_HOST": "tcp://10.9.9.9:2375", "DOCKER_CONTEXT": "other"}
    command_line.choose("--context", "lab")
    ep = resolve_endpoint(env)
    assert (ep.url, ep.chosen_by, ep.context) == ("tcp://192.168.59.103:2375", "--context", "lab")
    command_line.choose("-H", "ssh://deploy@build-07")
    assert (resolve_endpoint(env).url, resolve_endpoint(env).chosen_by) == ("ssh://deploy@build-07", "-H")


def test_host_and_context_on_the_command_line(tmp_path, command_line):
    from click.testing import CliRunner

    from netdiag.cli import cli

    r = CliRunner().invoke(cli, ["-H", f"unix://{tmp_path}/none.sock", "engine", "--json"])
    assert r.exit_code == 3 and f"unix://{tmp_path}/none.sock (from -H)" in r.output
    r = CliRunner().invoke(cli, ["-H", "tcp://x:1", "--context", "y", "engine"])
    assert r.exit_code == 2 and "give -H or --context, not both" in r.output


@pytest.mark.skipif(os.geteuid() != 0, reason="the notice is for netdiag under sudo, as root")
def test_under_sudo_the_daemon_is_named_and_the_users_own_context_pointed_out(tmp_path):
    import hashlib
    import json

    from netdiag.engine_api import DaemonEndpoint, sudo_notice

    docker = tmp_path / ".docker"
    meta = docker / "contexts" / "meta" / hashlib.sha256(b"colima").hexdigest()
    meta.mkdir(parents=True)
    (docker / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    (meta / "meta.json").write_text(json.dumps({"Name": "colima", "Metadata": {}, "Endpoints": {
        "docker": {"Host": "unix:///home/alice/.colima/default/docker.sock"}}}))
    root_default = DaemonEndpoint("unix:///var/run/docker.sock", "default")
    said = sudo_notice(root_default, {"SUDO_USER": "alice"}, home_of=lambda user: str(tmp_path))
    assert said == ("under sudo, asking the daemon at unix:///var/run/docker.sock (from default); alice's docker "
                    "context 'colima' points at unix:///home/alice/.colima/default/docker.sock: add --context "
                    "colima (or -H unix:///home/alice/.colima/default/docker.sock) to diagnose that daemon")
    chosen = DaemonEndpoint("tcp://192.168.59.103:2375", "-H")
    assert sudo_notice(chosen, {"SUDO_USER": "alice"}, home_of=lambda user: str(tmp_path)) == (
        "under sudo, asking the daemon at tcp://192.168.59.103:2375 (from -H)")
    assert sudo_notice(root_default, {}) == ""
    assert os.environ.get("DOCKER_CONFIG") != str(docker)  # the user's config was only borrowed


def test_the_firewall_backend_comes_from_docker_info():
    import json
    from pathlib import Path

    from netdiag.probes.engine import firewall_backend

    info = json.loads((Path(__file__).parent / "data" / "docker-info-nftables.json").read_text())
    assert firewall_backend(info) == "nftables"
    assert firewall_backend({"Name": "old"}) == ""  # engines before 28.2 use iptables and do not say


def test_netdiag_inside_a_container_of_the_daemon():
    from netdiag.probes.engine import client_container

    ps = [{"Names": ["/web"], "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.3",
                                                                          "Gateway": "172.17.0.1"}}}},
          {"Names": ["/ci-job"], "NetworkSettings": {"Networks": {"build": {"IPAddress": "172.18.0.7",
                                                                           "Gateway": "172.18.0.1"}}}},
          {"Names": ["/hostnet"], "NetworkSettings": {"Networks": {"host": {"IPAddress": "", "Gateway": ""}}}}]
    assert client_container(ps, {"127.0.0.1", "172.18.0.7"}) == ("ci-job", "172.18.0.1")
    assert client_container(ps, {"127.0.0.1", "172.17.0.1", "10.0.2.15"}) is None  # the Docker host itself
    # a macvlan container handed the host's own LAN address (its IPAM does not know the LAN): the
    # Docker host still owns its bridges' gateways, so netdiag is not inside that container
    mv = [{"Names": ["/pihole"], "NetworkSettings": {"Networks": {"lan": {"IPAddress": "192.168.1.10",
                                                                         "Gateway": "192.168.1.254"}}}}]
    assert client_container(mv, {"127.0.0.1", "192.168.1.10", "172.17.0.1"}, {"172.17.0.1"}) is None
    assert client_container(mv, {"127.0.0.1", "192.168.1.10"}, {"172.17.0.1"}) == ("pihole", "192.168.1.254")


# docker info fields as each product reports them (Name, OperatingSystem, KernelVersion), with the
# endpoint its client uses; sources: the products' documentation of their socket paths, and the
# VM names Lima gives (lima-<instance>, Rancher Desktop's lima-rancher-desktop)
@pytest.mark.parametrize("url, info, client_kernel, want", [
    ("unix:///Users/me/.rd/docker.sock", {"Name": "lima-rancher-desktop", "OperatingSystem": "Alpine Linux v3.18",
                                          "KernelVersion": "6.1.64-0-virt"}, "", (Location.VM, "rancher-desktop")),
    ("unix:///Users/me/.lima/docker/sock/docker.sock", {"Name": "lima-docker", "OperatingSystem": "Ubuntu 24.04 LTS",
                                                        "KernelVersion": "6.8.0-31-generic"}, "", (Location.VM, "lima")),
    ("unix:///Users/me/.local/share/containers/podman/machine/podman.sock",
     {"Name": "localhost.localdomain", "OperatingSystem": "fedora", "KernelVersion": "6.8.7-300.fc40.aarch64"}, "",
     (Location.VM, "podman-machine")),
    ("unix:///run/user/1000/podman/podman.sock", {"Name": "laptop", "OperatingSystem": "fedora",
                                                  "KernelVersion": "6.8.7-300.fc40.x86_64"}, "6.8.7-300.fc40.x86_64",
     (Location.LOCAL, "")),  # rootless podman on Linux: this machine
    ("unix:///var/run/docker.sock", {"Name": "DESKTOP-1", "OperatingSystem": "Ubuntu 22.04.4 LTS",
                                     "KernelVersion": "5.15.153.1-microsoft-standard-WSL2"},
     "5.15.153.1-microsoft-standard-WSL2", (Location.LOCAL, "")),  # dockerd in this WSL2 distro
    ("unix:///var/run/docker.sock", {"Name": "docker-desktop", "OperatingSystem": "Docker Desktop",
                                     "KernelVersion": "5.15.153.1-microsoft-standard-WSL2"},
     "5.15.153.1-microsoft-standard-WSL2", (Location.VM, "docker-desktop")),  # Desktop's distro, not this one
    ("unix:///var/run/docker.sock", {"Name": "alima-build", "OperatingSystem": "Debian", "KernelVersion": "6.1.0"},
     "6.1.0", (Location.LOCAL, "")),  # a host whose name merely contains "lima"
])
def test_products_placed_by_their_signals(url, info, client_kernel, want):
    location, vm_kind, _, evidence = classify_location(url, info, set(), {}, "", client_kernel)
    assert (location, vm_kind) == want and evidence


# --- each product on a recorded `docker info`, through the same code as a live run ----------------

INFO_DIR = Path(__file__).parent / "data" / "docker-info"


@pytest.mark.parametrize("name", sorted(p.stem for p in INFO_DIR.glob("*.json")))
def test_placement_on_recorded_docker_info(name):
    """Where the daemon lives, where its published ports answer, and whether container addresses
    reach the client, for each product's `docker info` (its source named in the file)."""
    from netdiag.context import Context
    from netdiag.diagnosis import Attempt
    from netdiag.facts import PortBinding, Snapshot
    from netdiag.probes.engine import engine_from_info
    from netdiag.vocab import Origin, Protocol
    from tests.builders import web

    case = json.loads((INFO_DIR / f"{name}.json").read_text())
    assert case["source"]
    endpoint = DaemonEndpoint(case["endpoint"], "docker context")
    engine = engine_from_info(endpoint, case["info"], {"Version": case["info"].get("ServerVersion", "")}, set(), {},
                              case.get("resolved", ""), case["client_kernel"])
    want = case["expect"]
    assert (engine.location, engine.vm_kind, engine.host_address) == (
        Location(want["location"]), VmKind(want["vm_kind"]), want["host_address"]), engine.location_evidence
    assert engine.rootless is want.get("rootless", False)
    target = web()
    snapshot = Snapshot(engine, containers=(target,))
    ctx = Context(snapshot, target, Attempt(origin=Origin.parse("host")))
    wildcard = PortBinding(80, Protocol.TCP, "0.0.0.0", 32768)
    assert (ctx.public_address(wildcard) == "127.0.0.1") is want["published_on_localhost"]
    assert ctx.reaches_container_ips is want["container_ips_routed"]


SYSTEMD = ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"]
SECOND = ["dockerd", "--data-root=/srv/d2", "-H", "unix:///run/d2/docker.sock", "-H", "tcp://198.18.9.2:2376",
          "--userland-proxy=false"]


@pytest.mark.parametrize("url, want", [
    ("unix:///var/run/docker.sock", SYSTEMD),  # fd://: systemd's socket, the default path
    ("unix:///run/docker.sock", SYSTEMD),
    ("unix:///run/d2/docker.sock", SECOND),
    ("unix:///var/tmp/podman.sock", None),  # another engine: none of these daemons' settings
])
def test_the_settings_read_are_those_of_the_dockerd_that_answers(url, want):
    assert serving_dockerd(url, [SECOND, SYSTEMD]) == want
    assert serving_dockerd("unix:///var/run/docker.sock", [["dockerd"]]) == ["dockerd"]  # no -H: the default
