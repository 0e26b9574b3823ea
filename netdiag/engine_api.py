"""Connecting to the Docker daemon the way the docker CLI does, and finding containers.

The endpoint comes from DOCKER_HOST, else DOCKER_CONTEXT, else the current docker context
(~/.docker/config.json), else the local socket. Every failure to connect becomes one
`daemon-unreachable` error that says where netdiag looked and why it failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from netdiag.errors import BadInput, CannotDiagnose

API_TIMEOUT = 5  # seconds, for every call to the daemon
DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class DaemonEndpoint:
    """Where the client reaches the daemon, and what chose it."""

    url: str
    chosen_by: str  # DOCKER_HOST | DOCKER_CONTEXT | docker context | default
    context: str = ""
    tls: object = None


# the daemon named on the command line (-H URL or --context NAME), before any environment
chosen_on_command_line: tuple[str, str] | None = None


def choose(option: str, value: str) -> None:
    """-H/--host or --context, as the command line gave it: it wins over the environment, as with docker."""
    global chosen_on_command_line
    chosen_on_command_line = (option, value)


def resolve_endpoint(env: dict | None = None, chosen: tuple[str, str] | None = None) -> DaemonEndpoint:
    """Where the docker CLI would connect, and what decided it: -H, --context (`chosen`, else the
    command line's), DOCKER_HOST, DOCKER_CONTEXT, the current docker context, the local socket."""
    env = os.environ if env is None else env
    option, value = chosen or chosen_on_command_line or ("", "")
    if option == "-H":
        return DaemonEndpoint(value, "-H", tls=_tls_from_env(env, value))
    if not option and env.get("DOCKER_HOST"):
        return DaemonEndpoint(env["DOCKER_HOST"], "DOCKER_HOST", tls=_tls_from_env(env, env["DOCKER_HOST"]))
    name = value if option else env.get("DOCKER_CONTEXT", "")
    chosen_by = option or "DOCKER_CONTEXT"
    import_docker_py()
    _find_contexts_where_docker_does()
    if not name:
        from docker.context.config import get_current_context_name

        name = get_current_context_name()
        chosen_by = "docker context"
    if name and name != "default":
        from docker.context import ContextAPI

        try:
            ctx = ContextAPI.get_context(name)
        except Exception as e:  # docker-py raises its own errors for broken context files
            raise CannotDiagnose("daemon-unreachable", f"docker context {name!r} ({chosen_by}) cannot be read: {e}")
        if ctx is None:
            raise CannotDiagnose("daemon-unreachable", f"docker context {name!r} ({chosen_by}) does not exist")
        return DaemonEndpoint(ctx.Host or DEFAULT_SOCKET, chosen_by, name, ctx.TLSConfig)
    return DaemonEndpoint(DEFAULT_SOCKET, "default")


_context_dir_fixed = False


def _find_contexts_where_docker_does() -> None:
    """docker-py looks for contexts next to config.json, and, when there is none, in ./contexts
    (docker-py issues 2622 and 3190, open); the docker CLI looks in DOCKER_CONFIG or ~/.docker
    either way. Point docker-py's one function for it there, once, read at each call (so that a
    DOCKER_CONFIG set later still counts)."""
    global _context_dir_fixed
    if _context_dir_fixed:
        return
    from docker.context import config
    from docker.utils.config import find_config_file

    def get_context_dir() -> str:
        found = find_config_file()
        folder = os.path.dirname(found) if found else (os.environ.get("DOCKER_CONFIG") or
                                                       os.path.join(os.path.expanduser("~"), ".docker"))
        return os.path.join(folder, "contexts")

    config.get_context_dir = get_context_dir
    _context_dir_fixed = True


def _tls_from_env(env, url: str):
    """TLS for a tcp:// daemon as the docker CLI sets it from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
    (docker-py's own reading of them), else None."""
    if not url.startswith(("tcp://", "https://")) or not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH")):
        return None
    from docker.utils import kwargs_from_env

    try:
        return kwargs_from_env(environment=dict(env)).get("tls")
    except Exception as e:  # docker-py raises its own errors for missing certificate files
        raise CannotDiagnose("daemon-unreachable", f"the TLS settings for {url} (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) "
                                                   f"cannot be used: {e}") from None


def context_names() -> list[str]:
    """Every docker context of this user, the default one first (docker context ls)."""
    from docker.context import ContextAPI

    _find_contexts_where_docker_does()
    try:
        return [c.Name for c in ContextAPI.contexts()]
    except Exception as e:  # docker-py raises its own errors for broken context files
        raise CannotDiagnose("daemon-unreachable", f"the docker contexts cannot be read: {e}") from None


def context_of_user(home: str) -> tuple[str, str] | None:
    """(name, daemon URL) of the docker context that is current for the user whose home this is,
    or None when it is the default one (or unreadable). Read with docker-py's own context code,
    pointed at that user's ~/.docker."""
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name

    _find_contexts_where_docker_does()
    saved = os.environ.get("DOCKER_CONFIG")
    os.environ["DOCKER_CONFIG"] = os.path.join(home, ".docker")
    try:
        name = get_current_context_name()
        if not name or name == "default":
            return None
        ctx = ContextAPI.get_context(name)
        return (name, ctx.Host or DEFAULT_SOCKET) if ctx is not None else None
    except Exception:  # a broken file of another user's: nothing to warn about with certainty
        return None
    finally:
        if saved is None:
            os.environ.pop("DOCKER_CONFIG", None)
        else:
            os.environ["DOCKER_CONFIG"] = saved


def sudo_notice(endpoint: DaemonEndpoint, env: dict, home_of=None) -> str:
    """Under sudo, which daemon netdiag asks, and the one SUDO_USER's docker context names when it
    is another (sudo drops DOCKER_HOST and reads root's contexts); "" when not under sudo."""
    user = env.get("SUDO_USER")
    if not user or os.geteuid() != 0:
        return ""
    said = f"under sudo, asking the daemon at {endpoint.url} (from {endpoint.chosen_by})"
    if endpoint.chosen_by not in ("default", "docker context"):
        return said
    try:
        import pwd

        home = home_of(user) if home_of else pwd.getpwnam(user).pw_dir
    except (KeyError, OSError):
        return said
    theirs = context_of_user(home)
    if theirs is None or theirs[1] == endpoint.url:
        return said
    return (f"{said}; {user}'s docker context {theirs[0]!r} points at {theirs[1]}: add --context {theirs[0]} "
            f"(or -H {theirs[1]}) to diagnose that daemon")


def _reason(exc: Exception) -> str:
    text = str(exc)
    lowered = text.lower()
    if "permission denied" in lowered:
        return "permission denied (is this user in the docker group?)"
    if "no such file" in lowered or "filenotfounderror" in lowered:
        return "no socket there (is dockerd running?)"
    if "connection refused" in lowered:
        return "connection refused (nothing listens there)"
    if "timed out" in lowered or "timeout" in lowered:
        return f"no answer within {API_TIMEOUT}s"
    return text.splitlines()[0][:300] if text else type(exc).__name__


def import_docker_py():
    """docker-py, imported without paramiko: docker-py imports it (and cryptography) with itself,
    for ssh:// only, 70 ms and 20 MiB that every other endpoint would pay. An ssh:// client gets
    it when it is made (`_ssh_support`)."""
    import sys

    if "docker" not in sys.modules and "paramiko" not in sys.modules:
        sys.modules["paramiko"] = None  # type: ignore[assignment]  # import paramiko now raises ImportError
        try:
            import docker  # noqa: F401
        finally:
            del sys.modules["paramiko"]
    import docker

    return docker


def _ssh_support() -> None:
    """docker-py's ssh:// adapter, when docker-py was imported without paramiko."""
    import docker.api.client as client

    if not hasattr(client, "SSHHTTPAdapter"):
        from docker.transport.sshconn import SSHHTTPAdapter

        client.SSHHTTPAdapter = SSHHTTPAdapter  # type: ignore[attr-defined]


def connect(endpoint: DaemonEndpoint | None = None):
    """A docker-py low-level APIClient for the endpoint, or a daemon-unreachable error."""
    import requests

    docker = import_docker_py()
    endpoint = endpoint or resolve_endpoint()
    where = f"{endpoint.url} (from {endpoint.chosen_by}{' ' + endpoint.context if endpoint.context else ''})"
    try:
        kwargs = {"base_url": endpoint.url, "timeout": API_TIMEOUT, "version": "auto"}
        if endpoint.tls:
            kwargs["tls"] = endpoint.tls
        if endpoint.url.startswith("ssh://"):
            kwargs["use_ssh_client"] = True
            _ssh_support()
        own_ca = endpoint.tls is not None and bool(getattr(endpoint.tls, "ca_cert", None))
        api = (_client_trusting_its_ca() if own_ca else docker.APIClient)(**kwargs)
        if endpoint.url.startswith("unix://"):
            api.trust_env = False  # no proxy applies to a local socket: skip reading the environment per call
        api.ping()
        return api
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError, ValueError) as e:
        raise CannotDiagnose("daemon-unreachable", f"cannot reach the Docker daemon at {where}: {_reason(e)}")


def _client_trusting_its_ca():
    """docker-py's APIClient that verifies the daemon against the CA of its TLS settings only:
    requests would otherwise verify against REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (a corporate
    bundle) whenever they are set, from the very first call (the API version), and fail."""
    import docker

    class Client(docker.APIClient):
        def _retrieve_server_version(self):
            self.trust_env = False
            return super()._retrieve_server_version()

    return Client


def _swarm_service_without_task(api, ref: str) -> None:
    """A Swarm service of that name with no task container on this node is named as such."""
    import docker
    import requests

    try:
        services = [s for s in api.services(filters={"name": ref}) if (s.get("Spec") or {}).get("Name") == ref]
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return  # not a swarm manager, or the daemon went away: the container's own error stands
    if not services:
        return
    replicated = ((services[0].get("Spec") or {}).get("Mode") or {}).get("Replicated")
    asked = f"{replicated.get('Replicas', 0)} replica(s) asked for" if isinstance(replicated, dict) else "global"
    elsewhere = _running_elsewhere(api, services[0])
    raise BadInput("container-not-found", f"Swarm service {ref!r} runs no task on this node ({asked}){elsewhere}: "
                                          f"see docker service ps {ref}; a task's container is diagnosed where it runs")


def _running_elsewhere(api, service: dict) -> str:
    """", its tasks run on node NAME (ADDR); published in host mode, only there: ADDR:PORT", or "":
    where the service can be reached or diagnosed instead."""
    import docker
    import requests

    try:
        tasks = [t for t in api.tasks(filters={"service": service.get("ID", "")})
                 if (t.get("Status") or {}).get("State") == "running"]
        nodes = {n.get("ID"): n for n in api.nodes()} if tasks else {}
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return ""
    where = []
    for t in tasks:
        n = nodes.get(t.get("NodeID")) or {}
        addr = str((n.get("Status") or {}).get("Addr", ""))
        name = str((n.get("Description") or {}).get("Hostname", "")) or str(t.get("NodeID", ""))[:12]
        if addr and (name, addr) not in where:
            where.append((name, addr))
    if not where:
        return ""
    text = ", its tasks run on " + ", ".join(f"node {name} ({addr})" for name, addr in where)
    ports = [p for p in (service.get("Endpoint") or {}).get("Ports") or () if p.get("PublishMode") == "host"]
    if ports:
        text += "; published in host mode, only there: " + ", ".join(
            f"{addr}:{p.get('PublishedPort')}" for _, addr in where for p in ports)
    return text


def find_container(api, ref: str) -> dict:
    """The container `ref` names: a name, a full id or an unambiguous id prefix, as docker accepts.

    Returns the inspect data; unknown or ambiguous refs are a `container-not-found` error (exit 2).
    """
    import docker

    from netdiag.refs import Candidate, match

    try:
        listing = api.containers(all=True)
    except docker.errors.APIError as e:
        raise CannotDiagnose("daemon-unreachable", f"the Docker daemon did not list containers: {e}")
    try:
        cid = match([Candidate(c["Id"], list(c.get("Names") or ()), dict(c.get("Labels") or {}),
                               c.get("State") == "running") for c in listing], ref)
    except BadInput:
        _swarm_service_without_task(api, ref)
        raise
    try:
        return api.inspect_container(cid)
    except docker.errors.NotFound:
        raise BadInput("container-not-found", f"container {ref!r} was removed while netdiag looked at it")
