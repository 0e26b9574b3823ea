"""A short-lived helper container that reads another container's sockets for it, by consent.

When the daemon runs elsewhere and the container has no `cat`, nothing in it can show its
/proc/net. With `--helper IMAGE` the user allows netdiag to start one container from an image
already on the daemon, in the target's network namespace (`--network container:TARGET`), running
`cat /proc/net/tcp ...`: the files show the target's sockets. It is labelled netdiag.helper=1,
reads only, and is removed at once, also when it fails. netdiag never pulls an image.

Each helper also carries this run's id (label netdiag.run): when netdiag is interrupted (Ctrl-C,
SIGTERM) or times out while a helper runs, `remove_helpers` removes every container of the run,
including one whose creation the interruption cut short.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from netdiag.facts import Container, Listeners, Outcome
from netdiag.parsers.procnet import PROC_NET_FILES, listeners_from_files, split_cat

HELPER_LABEL = "netdiag.helper"
RUN_LABEL = "netdiag.run"
RUN_ID = uuid.uuid4().hex
HELPER_TIMEOUT = 15
_apis: list[Any] = []  # the daemons (API clients) this run started helpers on
_lock = threading.Lock()


def remove_helpers(wait: float = 5.0) -> None:
    """Remove every helper container of this run, on every daemon it used, within `wait` seconds."""
    def remove() -> None:
        with _lock:
            apis = list(_apis)
        for api in apis:
            try:
                for c in api.containers(all=True, filters={"label": f"{RUN_LABEL}={RUN_ID}"}):
                    api.remove_container(c["Id"], force=True)
            except Exception:  # the daemon may be the reason for the interruption: best effort
                continue

    t = threading.Thread(target=remove, daemon=True)
    t.start()
    t.join(wait)


class HelperUnavailable(Exception):
    """The helper could not run: the message says why."""


def run_helper(api, image: str, argv: list[str], network_mode: str, entrypoint: list[str] | None = None,
               host_root: bool = False) -> tuple[int | None, str, str]:
    """(exit code, stdout, stderr) of `argv` in a short-lived helper container from `image` with
    that network mode (container:ID, or host); with `host_root`, the Docker host's root file
    system mounted read-only at /host, CAP_NET_ADMIN (to run the host's own iptables-save and
    nft there, reading) and CAP_SYS_PTRACE (for its ss to name the processes holding sockets).
    Removed at once. HelperUnavailable otherwise."""
    import docker

    with _lock:
        if api not in _apis:
            _apis.append(api)
    try:
        extra = dict(binds={"/": {"bind": "/host", "mode": "ro"}},
                     cap_add=["NET_ADMIN", "SYS_PTRACE"]) if host_root else {}
        helper = api.create_container(
            image, command=argv, entrypoint=entrypoint, labels={HELPER_LABEL: "1", RUN_LABEL: RUN_ID},
            volumes=["/host"] if host_root else None,
            host_config=api.create_host_config(network_mode=network_mode, **extra))["Id"]
    except docker.errors.ImageNotFound:
        raise HelperUnavailable(f"the helper image {image} is not on the daemon (netdiag pulls nothing)") from None
    except docker.errors.APIError as e:
        raise HelperUnavailable(f"the helper could not be created: {e.explanation or e}") from None
    try:
        api.start(helper)
        code = api.wait(helper, timeout=HELPER_TIMEOUT).get("StatusCode")
        out = api.logs(helper, stdout=True, stderr=False).decode("utf-8", "replace")
        err = api.logs(helper, stdout=False, stderr=True).decode("utf-8", "replace")
    except (docker.errors.APIError, OSError) as e:  # requests' timeouts are OSErrors too
        raise HelperUnavailable(f"the helper failed: {e}") from None
    finally:
        try:
            api.remove_container(helper, force=True)
        except docker.errors.APIError:
            pass
    return code, out, err


def read_with_helper(api, container: Container, image: str, udp: bool = True) -> Listeners:

    method = f"helper container from {image} in {container.name}'s network namespace"
    paths = [f"/proc/net/{name}" for name, proto, _ in PROC_NET_FILES if udp or proto == "tcp"]
    try:
        code, out, err = run_helper(api, image, paths, f"container:{container.id}", ["cat"])
    except HelperUnavailable as e:
        return Listeners(Outcome.unavailable(str(e), method), container.id)
    raw = split_cat(out, paths, err)
    if "/proc/net/tcp" not in raw:
        return Listeners(Outcome.unavailable(f"the helper ({image}) exited {code}: {(err or out).strip()[:200]}",
                                             method), container.id)
    files = {path.rsplit("/", 1)[1]: text for path, text in raw.items()}
    return Listeners(Outcome(method=method), container.id, tuple(listeners_from_files(files)), raw)
