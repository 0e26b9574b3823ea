"""Naming a container as docker accepts it (a name, a full id, or an id prefix that is unique), or
as Compose does: a service name, resolved within a project (`--project`, else the project of the
current directory) when several projects have that service; or a Swarm service (SERVICE or
SERVICE.N): its task's container on this node."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from netdiag.errors import BadInput
from netdiag.vocab import PROJECT_LABEL, SERVICE_LABEL, SWARM_SERVICE_LABEL, SWARM_TASK_LABEL

NUMBER_LABEL = "com.docker.compose.container-number"

project_on_command_line = ""  # --project NAME


@dataclass(frozen=True)
class Candidate:
    """A container as naming sees it: its id, its names, and its Compose labels."""

    id: str
    names: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    running: bool = True

    @property
    def name(self) -> str:
        return (self.names or ["?"])[0].lstrip("/")


def default_project(env: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """The Compose project a service name is looked up in: --project, COMPOSE_PROJECT_NAME, or the
    current directory's name as Compose normalises it (lowercase letters, digits, - and _)."""
    env = os.environ if env is None else env
    if project_on_command_line:
        return project_on_command_line
    if env.get("COMPOSE_PROJECT_NAME"):
        return env["COMPOSE_PROJECT_NAME"]
    return re.sub(r"[^a-z0-9_-]", "", os.path.basename(cwd or os.getcwd()).lower())


def match(items: list[Candidate], ref: str, project: str | None = None) -> str:
    """The id among the candidates that `ref` names; container-not-found (exit 2) otherwise."""
    ref = ref.strip().lstrip("/")
    if not ref:
        raise BadInput("container-not-found", "no container named: give a name, an id or an id prefix")
    for c in items:
        if c.id == ref or ref in [n.lstrip("/") for n in c.names]:
            return c.id
    prefixed = [c for c in items if c.id.startswith(ref.lower())]
    if len(prefixed) == 1:
        return prefixed[0].id
    if len(prefixed) > 1:
        listed = ", ".join(f"{c.id[:12]} ({c.name})" for c in prefixed[:10])
        raise BadInput("container-not-found", f"{ref!r} is ambiguous: it matches {listed}")
    return _service(items, ref, default_project() if project is None else project)


def _service(items: list[Candidate], service: str, project: str) -> str:
    """A Compose service's container: the only one, or the one of `project`; its first replica."""
    found = [c for c in items if c.labels.get(SERVICE_LABEL) == service]
    if not found:
        task = _swarm_task(items, service)
        if task is not None:
            return task
        raise BadInput("container-not-found", f"no container matches {service!r} (by name, id, id prefix, "
                                              "Compose service or Swarm service)")
    projects = sorted({c.labels.get(PROJECT_LABEL, "") for c in found})
    if len(projects) > 1:
        if project not in projects:
            listed = ", ".join(f"{c.name} (project {c.labels.get(PROJECT_LABEL, '?')})" for c in found[:10])
            raise BadInput("container-not-found", f"service {service!r} is in several Compose projects: {listed}; "
                                                  "name one with --project or by container name")
        found = [c for c in found if c.labels.get(PROJECT_LABEL) == project]
    return min(found, key=_replica).id  # as `docker compose exec` does: replica 1


def _swarm_task(items: list[Candidate], ref: str) -> str | None:
    """The container of a Swarm service's task on this node: SERVICE (its lowest running slot) or
    SERVICE.N (slot N), running ones first; None when the node runs no task of it."""
    service, _, slot = ref.rpartition(".") if re.fullmatch(r".+\.\d{1,5}", ref) else (ref, "", "")
    tasks = [c for c in items if c.labels.get(SWARM_SERVICE_LABEL) == service
             and (not slot or c.labels.get(SWARM_TASK_LABEL, "").split(".")[-2:-1] == [slot])]
    if not tasks:
        return None
    return min(tasks, key=lambda c: (not c.running, _slot(c))).id


def _slot(c: Candidate) -> int:
    parts = c.labels.get(SWARM_TASK_LABEL, "").split(".")
    return int(parts[-2]) if len(parts) >= 3 and parts[-2].isascii() and parts[-2].isdigit() else 0


def _replica(c: Candidate) -> int:
    number = c.labels.get(NUMBER_LABEL, "")
    return int(number) if number.isascii() and number.isdigit() and len(number) < 6 else 0
