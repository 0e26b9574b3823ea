"""Docker's own view: every network and container, reduced to what a diagnosis needs."""

from __future__ import annotations

from netdiag.facts import Container, Network, ServicePort, SwarmNode, SwarmService, SwarmTask
from netdiag.parsers.inspect import container_from_inspect, network_from_inspect, network_from_libpod
from netdiag.vocab import EngineProduct, Protocol, PublishMode

# Podman's own API, beside its Docker-compatible one: a version it accepts (4.0 and later)
LIBPOD_NETWORKS = "/v4.0.0/libpod/networks/json"


def probe_networks(api, product: EngineProduct = EngineProduct.DOCKER) -> tuple[Network, ...]:
    """Every network with its subnets, gateways, driver, internal flag and bridge device; from
    Podman, its own listing, which names the networks as its containers do and gives the bridges."""
    if product == EngineProduct.PODMAN:
        response = api.get(api.base_url + LIBPOD_NETWORKS)
        response.raise_for_status()
        return tuple(sorted((network_from_libpod(n) for n in response.json() if isinstance(n, dict)),
                            key=lambda n: n.name))
    nets = []
    for summary in api.networks():
        try:  # an overlay's verbose view adds its peers and the endpoints on every node
            nets.append(network_from_inspect(api.inspect_network(summary["Id"],
                                                                 verbose=summary.get("Driver") == "overlay")))
        except Exception:  # removed between list and inspect: the summary has the same fields
            nets.append(network_from_inspect(summary))
    return tuple(sorted(nets, key=lambda n: n.name))


INSPECTORS = 6  # inspect calls in flight at once: the daemon answers them in parallel


def probe_containers(api, ids: list[str] | None = None) -> tuple[Container, ...]:
    """The named containers (or all) from `docker inspect`, several inspected at once; one removed
    between the listing and its inspection is left out."""
    import concurrent.futures as cf

    import docker

    if ids is None:
        ids = [c["Id"] for c in api.containers(all=True)]

    def inspect(cid: str) -> Container | None:
        try:
            return container_from_inspect(api.inspect_container(cid))
        except docker.errors.NotFound:
            return None

    with cf.ThreadPoolExecutor(max_workers=max(1, min(INSPECTORS, len(ids)))) as pool:
        found = list(pool.map(inspect, ids))
    return tuple(c for c in found if c is not None)


def probe_services(api) -> tuple[tuple[SwarmService, ...], tuple[SwarmNode, ...]]:
    """The Swarm services with their published ports, endpoint mode, tasks and networks, and the
    nodes they run on (a manager's view)."""
    tasks: dict[str, list[SwarmTask]] = {}
    for t in api.tasks():
        status = t.get("Status") or {}
        tasks.setdefault(str(t.get("ServiceID", "")), []).append(SwarmTask(
            int(t.get("Slot") or 0), str(t.get("NodeID", "")), str(status.get("State", "")),
            str(t.get("DesiredState", "")), str(status.get("Err", "")), str(status.get("Timestamp", ""))))
    out = []
    for svc in api.services():
        spec = svc.get("Spec") or {}
        endpoint = svc.get("Endpoint") or {}
        ports = tuple(ServicePort(int(p.get("TargetPort") or 0), int(p.get("PublishedPort") or 0),
                                  Protocol(str(p.get("Protocol") or "tcp")),
                                  PublishMode(str(p.get("PublishMode") or "ingress")))
                      for p in endpoint.get("Ports") or (spec.get("EndpointSpec") or {}).get("Ports") or ()
                      if isinstance(p, dict))
        mode = str((spec.get("EndpointSpec") or {}).get("Mode") or "vip")
        replicated = (spec.get("Mode") or {}).get("Replicated")
        replicas = int(replicated.get("Replicas") or 0) if isinstance(replicated, dict) else None
        own = sorted(tasks.get(str(svc.get("ID", "")), []), key=lambda t: t.timestamp, reverse=True)
        attached = (spec.get("TaskTemplate") or {}).get("Networks") or spec.get("Networks") or ()
        networks = tuple(str(n.get("Target", "")) for n in attached if isinstance(n, dict) and n.get("Target"))
        out.append(SwarmService(str(svc.get("ID", "")), str(spec.get("Name", "")), mode, ports, replicas, tuple(own),
                                networks))
    return tuple(sorted(out, key=lambda s: s.name)), probe_nodes(api)


def probe_nodes(api) -> tuple[SwarmNode, ...]:
    """The swarm's nodes with their addresses and state (a manager's view)."""
    out = []
    for n in api.nodes():
        status = n.get("Status") or {}
        out.append(SwarmNode(str(n.get("ID", "")), str((n.get("Description") or {}).get("Hostname", "")),
                             str(status.get("Addr", "")), str(status.get("State", "")),
                             str((n.get("Spec") or {}).get("Availability", "")), bool(n.get("ManagerStatus"))))
    return tuple(sorted(out, key=lambda n: n.id))
