"""A short-lived helper container that reads another container's sockets for it, by consent.

When the daemon runs elsewhere and the container has no `cat`, nothing in it can show its
/proc/net. With `--helper IMAGE` the user allows netdiag to start one container from an image
already on the daemon, in the target's network namespace (`--network container:TARGET`), running
`cat /proc/net/tcp ...`: the files show the target's sockets. It is labelled netdiag.helper=1,
reads only, and is removed at once, also when it fails. netdiag never pulls an image.
"""

from __future__ import annotations

from netdiag.facts import Container, Listeners, Outcome
from netdiag.parsers.procnet import PROC_NET_FILES, listeners_from_files, split_cat

HELPER_LABEL = "netdiag.helper"
HELPER_TIMEOUT = 15


def read_with_helper(api, container: Container, image: str, udp: bool = True) -> Listeners:
    import docker

    method = f"helper container from {image} in {container.name}'s network namespace"
    paths = [f"/proc/net/{name}" for name, proto, _ in PROC_NET_FILES if udp or proto == "tcp"]
    try:
        helper = api.create_container(
            image, command=paths, entrypoint=["cat"], labels={HELPER_LABEL: "1"},
            host_config=api.create_host_config(network_mode=f"container:{container.id}"))["Id"]
    except docker.errors.ImageNotFound:
        return Listeners(Outcome.unavailable(f"the helper image {image} is not on the daemon "
                                             "(netdiag pulls nothing)", method), container.id)
    except docker.errors.APIError as e:
        return Listeners(Outcome.unavailable(f"the helper could not be created: {e.explanation or e}", method),
                         container.id)
    try:
        api.start(helper)
        code = api.wait(helper, timeout=HELPER_TIMEOUT).get("StatusCode")
        out = api.logs(helper, stdout=True, stderr=False).decode("utf-8", "replace")
        err = api.logs(helper, stdout=False, stderr=True).decode("utf-8", "replace")
    except (docker.errors.APIError, OSError) as e:  # requests' timeouts are OSErrors too
        return Listeners(Outcome.unavailable(f"the helper failed: {e}", method), container.id)
    finally:
        try:
            api.remove_container(helper, force=True)
        except docker.errors.APIError:
            pass
    raw = split_cat(out, paths, err)
    if "/proc/net/tcp" not in raw:
        return Listeners(Outcome.unavailable(f"the helper ({image}) exited {code}: {(err or out).strip()[:200]}",
                                             method), container.id)
    files = {path.rsplit("/", 1)[1]: text for path, text in raw.items()}
    return Listeners(Outcome(method=method), container.id, tuple(listeners_from_files(files)), raw)
