"""Where the Docker daemon lives (this machine, a VM, another host) and how it is set up.

The place decides everything that follows: a container IP is routable from the client only when
the daemon is local, and a published port is reached on the daemon host's address.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import platform
import socket
import sys
from typing import Any
from urllib.parse import urlparse

from netdiag.engine_api import DaemonEndpoint
from netdiag.facts import Engine, Outcome
from netdiag.vocab import EngineProduct, Location, VmKind

VM_PRODUCTS = (
    # (substring of docker info's OperatingSystem / Name / KernelVersion, vm kind), products first:
    # Docker Desktop and Rancher Desktop on Windows run on the WSL2 kernel too
    ("boot2docker", VmKind.BOOT2DOCKER),
    ("docker desktop", VmKind.DOCKER_DESKTOP),
    ("colima", VmKind.COLIMA),
    ("rancher desktop", VmKind.RANCHER_DESKTOP),  # its WSL distribution's name
    ("rancher-desktop", VmKind.RANCHER_DESKTOP),  # its Lima VM's name: lima-rancher-desktop
    ("orbstack", VmKind.ORBSTACK),
    ("lima vm", VmKind.LIMA),  # Lima names its VMs lima-<instance> (lima-docker): see classify_location
    ("podman machine", VmKind.PODMAN_MACHINE),
    ("microsoft", VmKind.WSL2),
    ("wsl2", VmKind.WSL2),
)
# endpoints whose path names the product (the daemon's own name may not)
URL_PRODUCTS = (("colima", " colima"), ("docker-desktop", " docker desktop"), ("dockerDesktop", " docker desktop"),
                ("/.docker/run/docker.sock", " docker desktop"), ("/.docker/desktop/docker.sock", " docker desktop"),
                ("/.rd/docker.sock", " rancher-desktop"), ("/rancher-desktop/", " rancher-desktop"),
                ("/.orbstack/", " orbstack"), ("/.lima/", " lima vm"),
                ("podman/machine", " podman machine"), ("podman-machine", " podman machine"))


def endpoint_host(url: str) -> str:
    """The host part of a tcp:// or ssh:// endpoint, "" for a local socket."""
    parsed = urlparse(url)
    if parsed.scheme in ("unix", "npipe", ""):
        return ""
    return parsed.hostname or ""


def resolve_host(host: str) -> str:
    """An endpoint host as an address (a name is looked up, as the docker client would)."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        return socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)[0][4][0]
    except OSError:
        return ""


def classify_location(url: str, info: dict, local_addrs: set[str], env: dict,
                      host_address: str = "", client_kernel: str = "") -> tuple[Location, VmKind, str, list[str]]:
    """(location, vm kind, host address, evidence) from the endpoint and `docker info`. Pure.

    `host_address` is the endpoint host already resolved to an address (for tcp:// and ssh://);
    `client_kernel` is this machine's kernel release, when it is Linux.
    """
    evidence: list[str] = []
    blob = " ".join(str(info.get(k, "")) for k in ("OperatingSystem", "Name", "KernelVersion")).lower()
    blob += "".join(hint for part, hint in URL_PRODUCTS if part in url)
    if str(info.get("Name", "")).lower().startswith("lima-"):
        blob += " lima vm"
    vm_kind = next((kind for needle, kind in VM_PRODUCTS if needle in blob), VmKind.NONE)
    kernel = str(info.get("KernelVersion", ""))
    if vm_kind == VmKind.WSL2 and not endpoint_host(url) and client_kernel and kernel == client_kernel:
        # dockerd installed in the very WSL2 distro netdiag runs in: same kernel, same network
        evidence.append(f"dockerd runs on this machine's own kernel ({kernel}): a WSL2 distro with its own dockerd")
        vm_kind = VmKind.NONE
    if env.get("DOCKER_MACHINE_NAME") and not vm_kind:
        vm_kind = VmKind.DOCKER_MACHINE
        evidence.append(f"DOCKER_MACHINE_NAME={env['DOCKER_MACHINE_NAME']}")
    host = endpoint_host(url)
    if vm_kind:
        evidence.append(f"docker info: OperatingSystem {info.get('OperatingSystem', '?')!r}, "
                        f"kernel {info.get('KernelVersion', '?')!r}")
    if not host:
        evidence.append(f"the endpoint {url} is a socket on this machine")
        if vm_kind:
            return Location.VM, vm_kind, "127.0.0.1", evidence
        return Location.LOCAL, VmKind.NONE, "127.0.0.1", evidence
    addr = host_address or host
    try:
        is_loopback = ipaddress.ip_address(addr).is_loopback
    except ValueError:
        is_loopback = False
    if is_loopback or addr in local_addrs:
        evidence.append(f"the endpoint host {host} is an address of this machine")
        if vm_kind:
            return Location.VM, vm_kind, "127.0.0.1", evidence
        return Location.LOCAL, VmKind.NONE, "127.0.0.1", evidence
    evidence.append(f"the endpoint host {host} is not an address of this machine")
    if vm_kind:
        return Location.VM, vm_kind, addr, evidence
    return Location.REMOTE, VmKind.NONE, addr, evidence


def client_container(containers: list[dict], local_addrs: set[str],
                     bridge_gateways: set[str] | None = None) -> tuple[str, str] | None:
    """(name, gateway) of the running container, not in the host's network, whose address is one
    of this machine's: netdiag runs inside it, the daemon's socket mounted in. Pure.

    None when a bridge network's gateway is one of this machine's addresses: this machine is the
    Docker host (the bridges are its), and a container holding one of its addresses got it by
    mistake (a macvlan network's IPAM hands out the parent's own address unless told not to)."""
    if bridge_gateways and bridge_gateways & local_addrs:
        return None
    for c in containers:
        settings = c.get("NetworkSettings") or {}
        for net in (settings.get("Networks") or {}).values():
            net = net or {}
            if net.get("IPAddress") and net["IPAddress"] in local_addrs and net.get("Gateway"):
                return str((c.get("Names") or ["?"])[0]).lstrip("/"), str(net["Gateway"])
    return None


def _bridge_gateways(api) -> set[str]:
    """The gateways of the bridge networks: addresses of the Docker host's own bridges."""
    try:
        return {str(c.get("Gateway")) for n in api.networks() if n.get("Driver") == "bridge"
                for c in ((n.get("IPAM") or {}).get("Config") or []) if c.get("Gateway")}
    except Exception:  # the listing will fail again, and be reported, where it is needed
        return set()


def _containers(api) -> list[dict]:
    try:
        return list(api.containers())
    except Exception:  # the listing will fail again, and be reported, where it is needed
        return []


def probe_engine(api, endpoint: DaemonEndpoint, local_addrs: set[str], env: dict | None = None) -> Engine:
    """The daemon's place and settings, from the endpoint and `docker info` / `docker version`."""
    env = os.environ if env is None else env
    try:
        info = api.info()
        version = api.version()
    except Exception as e:  # the API client raises requests' and docker's errors alike
        return Engine(Outcome.failed(f"docker info failed: {e}"), endpoint.url, endpoint.chosen_by, endpoint.context)
    host = endpoint_host(endpoint.url)
    engine = engine_from_info(endpoint, info, version, local_addrs, env, resolve_host(host) if host else "",
                              platform.release() if sys.platform.startswith("linux") else "")
    if engine.product == EngineProduct.PODMAN:
        engine = dataclasses.replace(engine, libpod_rootless=_libpod_rootless(api))
    if engine.location == Location.LOCAL:
        inside = client_container(_containers(api), local_addrs, _bridge_gateways(api))
        if inside is not None:
            name, gateway = inside
            why = (f"netdiag runs inside {name}, a container of this daemon (its address is one of this machine's): "
                   f"the daemon's host is reached at {gateway}, the container's gateway")
            engine = dataclasses.replace(engine, location=Location.CONTAINER, host_address=gateway,
                                         location_evidence=engine.location_evidence + (why,))
    return engine


def engine_from_info(endpoint: DaemonEndpoint, info: dict, version: dict, local_addrs: set[str], env: dict,
                     host_address: str = "", client_kernel: str = "") -> Engine:
    """The Engine fact from `docker info` and `docker version` as the API returns them. Pure.

    `host_address` is the endpoint's host resolved to an address; `client_kernel` this machine's
    kernel release when it is Linux (see classify_location)."""
    location, vm_kind, address, evidence = classify_location(endpoint.url, info, local_addrs, env, host_address,
                                                             client_kernel)
    swarm = info.get("Swarm") if isinstance(info.get("Swarm"), dict) else {}
    return Engine(
        outcome=Outcome(method="docker info"),
        endpoint=endpoint.url,
        chosen_by=endpoint.chosen_by,
        context=endpoint.context,
        location=location,
        vm_kind=vm_kind,
        host_address=address,
        location_evidence=tuple(evidence),
        server_version=str(version.get("Version", "")),
        api_version=str(version.get("ApiVersion", "")),
        operating_system=str(info.get("OperatingSystem", "")),
        kernel_version=str(info.get("KernelVersion", "")),
        daemon_name=str(info.get("Name", "")),
        security_options=tuple(info.get("SecurityOptions") or ()),
        firewall_backend=firewall_backend(info),
        product=engine_product(version),
        ipv4_forwarding=info["IPv4Forwarding"] if isinstance(info.get("IPv4Forwarding"), bool) else None,
        swarm=str(swarm.get("LocalNodeState", "")),
        swarm_node_id=str(swarm.get("NodeID", "")),
        swarm_node_address=str(swarm.get("NodeAddr", "")),
    )


LIBPOD_INFO = "/v4.0.0/libpod/info"  # Podman's own info: whether it runs rootless


def _libpod_rootless(api) -> bool | None:
    """Whether Podman runs rootless, from its own info; None when that could not be read (an older
    Podman, a proxy that passes only Docker's API): not known, never taken for rootful."""
    try:
        response = api.get(api.base_url + LIBPOD_INFO, timeout=5)
        response.raise_for_status()
        return podman_rootless(response.json())
    except Exception:
        return None


def podman_rootless(libpod_info: Any) -> bool:
    """Whether Podman's own info (/libpod/info) says it runs rootless: host.security.rootless. Pure."""
    host = libpod_info.get("host") if isinstance(libpod_info, dict) else None
    security = host.get("security") if isinstance(host, dict) else None
    return isinstance(security, dict) and security.get("rootless") is True


def engine_product(version: dict) -> EngineProduct:
    """Podman when `docker version`'s components name its engine ("Podman Engine"), else Docker."""
    names = [str(c.get("Name", "")) for c in version.get("Components") or () if isinstance(c, dict)]
    return EngineProduct.PODMAN if any(n.lower().startswith("podman") for n in names) else EngineProduct.DOCKER


def firewall_backend(info: dict) -> str:
    """The firewall backend `docker info` reports (Docker 28.2+, API 1.49: FirewallBackend.Driver),
    "" from older engines, which use iptables."""
    backend = info.get("FirewallBackend")
    return str(backend.get("Driver", "")) if isinstance(backend, dict) else ""


DEFAULT_SOCKETS = ("unix:///var/run/docker.sock", "unix:///run/docker.sock")


def serving_dockerd(endpoint_url: str, argvs: list[list[str]]) -> list[str] | None:
    """The command line of the dockerd that answers `endpoint_url`, among this machine's dockerd
    processes: the one whose -H/--host names it (fd:// and no -H at all are the default socket);
    None when none does (another engine, a second dockerd, a rootless one): its settings are then
    not known, never another daemon's. Pure."""
    def hosts(argv: list[str]) -> list[str]:
        out = []
        for i, word in enumerate(argv):
            if word in ("-H", "--host") and i + 1 < len(argv):
                out.append(argv[i + 1])
            elif word.startswith(("-H=", "--host=")):
                out.append(word.split("=", 1)[1])
        return out

    wanted = {endpoint_url.rstrip("/")} | (set(DEFAULT_SOCKETS) if endpoint_url in DEFAULT_SOCKETS else set())
    for argv in argvs:
        listed = hosts(argv)
        served = set(listed) | (set(DEFAULT_SOCKETS) if not listed or "fd://" in listed else set())
        if wanted & {h.rstrip("/") for h in served}:
            return argv
    return None


def refine_local_settings(engine: Engine, dockerd_argv: list[str], daemon_json: str = "") -> Engine:
    """On a local engine: daemon settings from dockerd's command line and daemon.json text. Pure.

    `docker info` does not report userland-proxy or iptables; dockerd's flags and
    /etc/docker/daemon.json do.
    """
    try:
        settings = json.loads(daemon_json) if daemon_json.strip() else {}
    except ValueError:
        settings = {}
    if not isinstance(settings, dict):
        settings = {}
    flags = " ".join(dockerd_argv)

    def flag(name: str, default: bool | None) -> bool | None:
        if f"--{name}=false" in flags:
            return False
        if f"--{name}=true" in flags or f"--{name} " in flags + " ":
            return True
        if name in settings:
            return bool(settings[name])
        return default

    iptables = flag("iptables", True)
    proxy = flag("userland-proxy", True)  # dockerd's defaults
    ipv6 = flag("ipv6", False)
    return dataclasses.replace(engine, iptables=iptables, userland_proxy=proxy, ipv6=ipv6)
