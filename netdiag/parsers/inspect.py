"""Docker's inspect data (containers, networks) as netdiag's facts.

Only what a diagnosis needs is kept: no environment, and command lines with secrets masked.
"""

from __future__ import annotations

from typing import Any

from netdiag.addr import is_ip
from netdiag.facts import Container, ContainerState, Endpoint, Network, OverlayEndpoint, PortBinding, member
from netdiag.redact import mask_argv, mask_value
from netdiag.vocab import ContainerStatus, Protocol


def _port_key(key: str) -> tuple[int, Protocol]:
    """"80/tcp" -> (80, tcp); ValueError for what is not a port and a protocol netdiag knows."""
    port, _, proto = key.partition("/")
    return int(port), Protocol(proto or "tcp")


def _bindings(ports: dict[str, Any] | None) -> tuple[PortBinding, ...]:
    out = []
    for key, binds in sorted((ports or {}).items()):
        try:
            port, proto = _port_key(key)
        except ValueError:
            continue
        if not binds:
            out.append(PortBinding(port, proto))
            continue
        for b in binds:
            hp = (b or {}).get("HostPort") or ""
            out.append(PortBinding(port, proto, (b or {}).get("HostIp") or "",
                                   int(hp) if str(hp).isdigit() else None))
    return tuple(out)


def bridge_device(net: dict[str, Any]) -> str:
    """The Linux bridge behind a bridge network: its option, docker0 for the default, else br-<id>."""
    if net.get("Driver") != "bridge":
        return ""
    opts = net.get("Options") or {}
    if opts.get("com.docker.network.bridge.name"):
        return str(opts["com.docker.network.bridge.name"])
    if net.get("Name") == "bridge":
        return "docker0"
    return "br-" + (net.get("Id") or "")[:12]


def network_from_inspect(net: dict[str, Any]) -> Network:
    ipam = (net.get("IPAM") or {}).get("Config") or []
    return Network(
        id=net.get("Id", ""),
        name=net.get("Name", ""),
        driver=net.get("Driver", ""),
        scope=net.get("Scope", ""),
        internal=bool(net.get("Internal")),
        subnets=tuple(c["Subnet"] for c in ipam if c.get("Subnet")),
        gateways=tuple(c["Gateway"] for c in ipam if c.get("Gateway")),
        ipv6=bool(net.get("EnableIPv6")),
        bridge=bridge_device(net),
        options={k: str(v) for k, v in (net.get("Options") or {}).items()},
        peers=tuple(str(p.get("IP", "")) for p in net.get("Peers") or () if isinstance(p, dict) and p.get("IP")),
        overlay_endpoints=overlay_endpoints(net),
        vips={str(name): str(svc["VIP"]).split("/")[0] for name, svc in (net.get("Services") or {}).items()
              if name and isinstance(svc, dict) and is_ip(str(svc.get("VIP", "")).split("/")[0])},
    )


def overlay_endpoints(net: dict[str, Any]) -> tuple[OverlayEndpoint, ...]:
    """The endpoints an overlay's verbose inspect lists under Services (tasks, and attached
    containers under the service ""), each with the address of the node it is on."""
    out = []
    for service in (net.get("Services") or {}).values():
        for task in (service or {}).get("Tasks") or ():
            if not isinstance(task, dict):
                continue
            address = str(task.get("EndpointIP", "")).split("/")[0]
            node = str((task.get("Info") or {}).get("Host IP", ""))
            if address and node:
                out.append(OverlayEndpoint(str(task.get("Name", "")), address, node))
    return tuple(sorted(out, key=lambda e: (e.node_address, e.address)))


def network_from_libpod(net: dict[str, Any]) -> Network:
    """A network as Podman's own API lists it (/libpod/networks/json): its real name (`podman`,
    which the compat listing calls `bridge`) and its bridge device (podman0, podman1...), which
    the compat listing leaves out."""
    subnets = [s for s in net.get("subnets") or () if isinstance(s, dict)]
    return Network(
        id=str(net.get("id", "")),
        name=str(net.get("name", "")),
        driver=str(net.get("driver", "")),
        scope="local",
        internal=bool(net.get("internal")),
        subnets=tuple(str(s["subnet"]) for s in subnets if s.get("subnet")),
        gateways=tuple(str(s["gateway"]) for s in subnets if s.get("gateway")),
        ipv6=bool(net.get("ipv6_enabled")),
        bridge=str(net.get("network_interface", "")) if net.get("driver") == "bridge" else "",
        options={str(k): str(v) for k, v in (net.get("options") or {}).items()},
    )


def container_from_inspect(c: dict[str, Any]) -> Container:
    state = c.get("State") or {}
    config = c.get("Config") or {}
    host = c.get("HostConfig") or {}
    settings = c.get("NetworkSettings") or {}
    endpoints = []
    for name, ep in sorted((settings.get("Networks") or {}).items()):
        ep = ep or {}
        endpoints.append(Endpoint(
            network=name,
            network_id=ep.get("NetworkID") or "",
            ipv4=ep.get("IPAddress") or "",
            prefix_len=int(ep.get("IPPrefixLen") or 0),
            ipv6=ep.get("GlobalIPv6Address") or "",
            gateway=ep.get("Gateway") or "",
            mac=ep.get("MacAddress") or "",
            aliases=tuple(ep.get("Aliases") or ()),
        ))
    command = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    labels = {k: mask_value(k, v) for k, v in (config.get("Labels") or {}).items()}
    return Container(
        id=c.get("Id", ""),
        name=(c.get("Name") or "").lstrip("/"),
        image=config.get("Image") or c.get("Image", ""),
        state=ContainerState(
            status=member(ContainerStatus, state.get("Status", ""), "State.Status"),
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            restarting=bool(state.get("Restarting")),
            oom_killed=bool(state.get("OOMKilled")),
            dead=bool(state.get("Dead")),
            exit_code=int(state.get("ExitCode") or 0),
            error=state.get("Error") or "",
            pid=int(state.get("Pid") or 0),
            started_at=state.get("StartedAt") or "",
            finished_at=state.get("FinishedAt") or "",
            restart_count=int(c.get("RestartCount") or 0),
        ),
        network_mode=host.get("NetworkMode") or "",
        exposed=tuple(sorted((config.get("ExposedPorts") or {}).keys(), key=_port_sort)),
        requested=_bindings(host.get("PortBindings")),
        published=tuple(b for b in _bindings(settings.get("Ports")) if b.host_port is not None),
        publish_all=bool(host.get("PublishAllPorts")),
        endpoints=tuple(endpoints),
        command=tuple(mask_argv([str(a) for a in command])),
        labels=labels,
        dns=tuple(str(a) for a in host.get("Dns") or ()),
        extra_hosts=tuple(str(a) for a in host.get("ExtraHosts") or ()),
    )


def _port_sort(key: str) -> tuple[int, str]:
    try:
        return _port_key(key)
    except ValueError:
        return (0, key)
