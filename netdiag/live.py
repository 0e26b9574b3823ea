"""The live source: a running engine, probed read-only, into one Snapshot of facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
import threading

from netdiag import __version__
from netdiag.context import daemon_place
from netdiag.engine_api import connect, find_container, resolve_endpoint, sudo_notice
from netdiag.errors import BadInput, CannotDiagnose
from netdiag.facts import Container, Engine, Firewall, HostNet, Listeners, Outcome, PortHolders, Snapshot
from netdiag.probes.engine import probe_engine, refine_local_settings, serving_dockerd
from netdiag.probes.hostnet import local_addresses, probe_hostnet
from netdiag.probes.runner import read_text, run_concurrently
from netdiag.rules import planned_facts
from netdiag.shared_namespace import namespace_mates, on_owners_network, owner_ref
from netdiag.vocab import EngineProduct, Fact, HostRole, Location

DAEMON_JSON = "/etc/docker/daemon.json"


def _dockerd_argvs() -> list[list[str]]:
    """The command lines of this machine's dockerd processes."""
    import psutil

    return [p.info.get("cmdline") or [] for p in psutil.process_iter(["name", "cmdline"])
            if p.info.get("name") == "dockerd"]


def _daemon_json(argv: list[str]) -> str:
    path = DAEMON_JSON
    for i, word in enumerate(argv):
        if word.startswith("--config-file="):
            path = word.split("=", 1)[1]
        elif word == "--config-file" and i + 1 < len(argv):
            path = argv[i + 1]
    try:
        return read_text(path)
    except OSError:
        return ""


class Live:
    """A connection to the engine and the client's own network facts."""

    def __init__(self, env: dict | None = None, helper: str = "", chosen: tuple[str, str] | None = None):
        """`chosen`: ("-H", URL) or ("--context", NAME) for this daemon, instead of the command line's."""
        self.helper = helper  # an image the user allows netdiag to start a helper container from
        self._host: tuple[Firewall, HostNet, PortHolders] | None = None  # what the host helper read
        self._lock = threading.Lock()
        self.endpoint = resolve_endpoint(env, chosen)
        notice = sudo_notice(self.endpoint, os.environ if env is None else env)
        if notice:
            print(f"netdiag: {notice}", file=sys.stderr)
        self.api = connect(self.endpoint)
        self.client = probe_hostnet("client")
        engine = probe_engine(self.api, self.endpoint, local_addresses(self.client), env)
        if not engine.outcome.ok:  # without knowing where the daemon runs, no rule can be trusted
            raise CannotDiagnose("daemon-unreachable", f"the Docker daemon at {self.endpoint.url} answered, but "
                                                       f"{engine.outcome.reason}")
        if engine.location == Location.LOCAL:
            argv = serving_dockerd(self.endpoint.url, _dockerd_argvs()) \
                if engine.product == EngineProduct.DOCKER and not engine.rootless else None
            if argv is not None:  # else another engine's, or a dockerd not found: its settings stay unknown
                engine = refine_local_settings(engine, argv, _daemon_json(argv))
            if engine.swarm == "active":  # the routing mesh and service VIPs need the kernel's IPVS
                engine = dataclasses.replace(engine, ipvs=os.path.exists("/proc/net/ip_vs"))
        self.engine: Engine = engine

    @property
    def local(self) -> bool:
        return self.engine.location == Location.LOCAL

    def container(self, ref: str) -> Container:
        from netdiag.parsers.inspect import container_from_inspect

        return container_from_inspect(find_container(self.api, ref))

    def on_its_network(self, ref: str) -> Container:
        """The container, as its traffic sees it: one in another container's network namespace
        with that container's networks, addresses and published ports (when it still exists)."""
        c = self.container(ref)
        if not owner_ref(c):
            return c
        try:
            owner = self.container(owner_ref(c))
        except BadInput:  # the owner is gone: the container has nothing but its loopback
            return c
        return on_owners_network(c, owner)

    def networks(self):
        from netdiag.probes.objects import probe_networks

        return probe_networks(self.api, self.engine.product)

    def services(self):
        from netdiag.probes.objects import probe_services

        return probe_services(self.api)

    def containers(self, ids=None):
        from netdiag.probes.objects import probe_containers

        return probe_containers(self.api, ids)

    def listeners(self, container: Container, udp: bool = True) -> Listeners:
        from netdiag.probes.listeners import probe_listeners

        return probe_listeners(self.api, container, self.local, udp, self.helper)

    def firewall(self) -> Firewall:
        from netdiag.probes.firewall import probe_firewall, read_iptables_save

        if not self.local:
            if self.helper:
                return self._host_helper()[0]
            return Firewall(Outcome.unavailable(self._elsewhere("its firewall and forwarding state") +
                                                "; --helper IMAGE allows a helper container to read them there"))
        return probe_firewall(read_iptables_save())

    def port_holders(self, firewall: Firewall | None = None) -> PortHolders:
        from netdiag.probes.firewall import read_iptables_save
        from netdiag.probes.ports import probe_port_holders

        if not self.local:
            if self.helper:
                return self._host_helper()[2]
            return PortHolders(Outcome.unavailable(self._elsewhere("who holds its ports") +
                                                   "; --helper IMAGE allows a helper container to read them there"))
        if firewall is not None:
            return probe_port_holders(True, firewall.chains, firewall.iptables_outcome)
        outcome, text = read_iptables_save()
        from netdiag.parsers.iptables import parse_iptables_save

        return probe_port_holders(True, tuple(parse_iptables_save(text)) if text else (), outcome)

    def docker_host(self) -> HostNet | None:
        """The Docker host's interfaces and routes: None when it is this machine (see `client`)."""
        if self.local:
            return None
        if self.helper:
            return self._host_helper()[1]
        return HostNet(Outcome.unavailable(self._elsewhere("its interfaces and routes")), HostRole.DOCKER_HOST)

    def _host_helper(self) -> tuple[Firewall, HostNet, PortHolders]:
        """The Docker host's firewall, network and port holders, read once per run by the consented helper."""
        with self._lock:
            if self._host is None:
                from netdiag.probes.hosthelper import read_docker_host

                self._host = read_docker_host(self.api, self.helper)
            return self._host

    def _elsewhere(self, what: str) -> str:
        return f"{daemon_place(self.engine)}: {what} cannot be read from here"

    def snapshot(self, refs: list[str] | None = None, listen: list[Container] | None = None,
                 holders: bool | None = None) -> Snapshot:
        """Everything the rules need, probes run concurrently; each failure kept as a fact.

        `refs` limits the containers (default: all); `listen` limits whose sockets are read
        (default: every running container of the snapshot), with those that share a network
        namespace with one of them. Who holds the host's ports (every
        process's sockets: the costliest probe) is read when `holders` says so, or by default
        when a rule that can fire for one of the containers declares that it needs or uses it.
        """
        containers = tuple(self.container(r) for r in refs) if refs else self.containers()
        watched = [c for c in containers if listen is None or c.id in {x.id for x in listen}]
        watched += namespace_mates(containers, watched)  # whether a joiner was left in an old namespace
        if holders is None:
            holders = any(Fact.PORT_HOLDERS in planned_facts(c) for c in containers)
        tasks = {"networks": self.networks, "firewall": self.firewall}
        if self.engine.swarm == "active":
            tasks["services"] = self.services
        for c in watched:
            tasks[f"listeners:{c.id}"] = (lambda c=c: self.listeners(c, udp=False))
        results = run_concurrently(tasks, timeout=20, on_error=lambda name, why: Outcome.failed(why))
        networks = results["networks"]
        firewall = results["firewall"]
        services = results.get("services", Outcome.unavailable("the engine is not in a swarm"))
        if isinstance(firewall, Outcome):
            firewall = Firewall(firewall)
        listeners = []
        for c in watched:
            found = results[f"listeners:{c.id}"]
            listeners.append(Listeners(found, c.id) if isinstance(found, Outcome) else found)
        return Snapshot(
            engine=self.engine,
            client=self.client,
            docker_host=self.docker_host(),
            networks=() if isinstance(networks, Outcome) else networks,
            networks_outcome=networks if isinstance(networks, Outcome) else Outcome(method="docker network inspect"),
            containers=containers,
            listeners=tuple(listeners),
            port_holders=self.port_holders(firewall) if holders else PortHolders(Outcome.unavailable(
                "not read: no rule that can fire here needs it")),
            firewall=firewall,
            services=() if isinstance(services, Outcome) else services[0],
            nodes=() if isinstance(services, Outcome) else services[1],
            services_outcome=services if isinstance(services, Outcome) else Outcome(
                method="docker service inspect, docker node ls"),
            netdiag_version=__version__,
            created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        )
