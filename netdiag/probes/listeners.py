"""The sockets listening inside a container's network namespace, without tools in the container.

Two ways, and the result says which was used:
- the daemon is local: read /proc/<State.Pid>/net/{tcp,tcp6,udp,udp6} from the host, and match
  socket inodes to the processes of that namespace (their /proc/<pid>/fd links);
- the daemon is elsewhere: `docker exec CONTAINER cat /proc/net/<file>` (needs `cat` in the image).
"""

from __future__ import annotations

import dataclasses
import os
import time

from netdiag.facts import Container, Listeners, Outcome, Socket
from netdiag.parsers.procnet import PROC_NET_FILES, listeners_from_files
from netdiag.probes.runner import read_text

PROCFS = os.environ.get("NETDIAG_PROCFS", "/proc")
EXEC_WAIT = 2.0  # seconds for a `docker exec cat` to report its exit
EXEC_TRIES = 4
NO_CAT = ("the container has no `cat`, so its sockets cannot be read through docker exec; "
          "run netdiag on the Docker host to read them from /proc")


def _inode_owners(netns: str) -> dict[int, tuple[int, str]]:
    """socket inode -> (pid, process name) for every process in the network namespace `netns`."""
    import psutil

    owners: dict[int, tuple[int, str]] = {}
    for pid_s in os.listdir(PROCFS):
        if not pid_s.isdigit():
            continue
        try:
            if os.readlink(f"{PROCFS}/{pid_s}/ns/net") != netns:
                continue
            fds = os.listdir(f"{PROCFS}/{pid_s}/fd")
        except OSError:
            continue
        name = ""
        for fd in fds:
            try:
                link = os.readlink(f"{PROCFS}/{pid_s}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                if not name:
                    try:
                        name = psutil.Process(int(pid_s)).name()
                    except psutil.Error:
                        name = "?"
                owners[int(link[8:-1])] = (int(pid_s), name)
    return owners


def _from_host(container: Container) -> Listeners:
    pid = container.state.pid
    files, raw = {}, {}
    for name, _, _ in PROC_NET_FILES:
        path = f"{PROCFS}/{pid}/net/{name}"
        try:
            files[name] = raw[path] = read_text(path)
        except FileNotFoundError:
            continue  # no IPv6 in this kernel
        except OSError as e:
            return Listeners(Outcome.unavailable(f"cannot read {path}: {e.strerror}", "host /proc"),
                             container.id)
    sockets = listeners_from_files(files)
    try:
        owners = _inode_owners(os.readlink(f"{PROCFS}/{pid}/ns/net"))
    except OSError:
        owners = {}
    sockets = [dataclasses.replace(s, pid=owners[s.inode][0], process=owners[s.inode][1])
               if s.inode in owners else s for s in sockets]
    return Listeners(Outcome(method=f"host /proc/{pid}/net"), container.id, tuple(sockets), raw)


def _exec_cat(api, container_id: str, path: str) -> tuple[int | None, str]:
    """(exit code, output) of `cat PATH` in the container; None when it did not finish in time.

    A /proc/net file always has its header line, so an empty output with exit 0 means the output
    was lost on the way (it happens with exec streams over tcp://): try again, a few times."""
    for _ in range(EXEC_TRIES):
        code, text = _exec_cat_once(api, container_id, path)
        if code != 0 or text.strip():
            return code, text
    return None, "the output of docker exec was lost (empty) several times"


def _exec_cat_once(api, container_id: str, path: str) -> tuple[int | None, str]:
    exec_id = api.exec_create(container_id, ["cat", path], stdout=True, stderr=True)["Id"]
    output = api.exec_start(exec_id, demux=True)
    deadline = time.monotonic() + EXEC_WAIT
    info = api.exec_inspect(exec_id)
    while info.get("Running") and time.monotonic() < deadline:  # the stream can end before the exit
        time.sleep(0.02)
        info = api.exec_inspect(exec_id)
    stdout = (output[0] or b"").decode("utf-8", "replace") if isinstance(output, tuple) else ""
    stderr = (output[1] or b"").decode("utf-8", "replace") if isinstance(output, tuple) else ""
    return (None if info.get("Running") else info.get("ExitCode")), stdout or stderr


def _from_exec(api, container: Container) -> Listeners:
    import docker

    files, raw = {}, {}
    method = "docker exec cat /proc/net"
    for name, _, _ in PROC_NET_FILES:
        path = f"/proc/net/{name}"
        try:
            code, text = _exec_cat(api, container.id, path)
        except docker.errors.APIError as e:
            reason = e.explanation or str(e)
            if "executable file not found" in str(reason):
                reason = NO_CAT
            return Listeners(Outcome.unavailable(str(reason), method), container.id)
        if code == 0:
            files[name] = raw[path] = text
        elif "executable file not found" in text or code == 127:
            return Listeners(Outcome.unavailable(NO_CAT, method), container.id)
        elif name != "tcp" and "No such file" in text:
            continue  # no IPv6 (or UDP) in this kernel: nothing to read there
        else:
            how = "did not finish" if code is None else f"exited {code}"
            return Listeners(Outcome.unavailable(f"`cat {path}` in the container {how}: "
                                                 f"{text.strip()[:200]}", method), container.id)
    return Listeners(Outcome(method=method), container.id, tuple(listeners_from_files(files)), raw)


def probe_listeners(api, container: Container, local: bool) -> Listeners:
    """The listening sockets in `container`'s namespace, from the host's /proc or via docker exec."""
    if not container.state.running or container.state.pid <= 0:
        return Listeners(Outcome.unavailable(
            f"the container is {container.state.status or 'not running'}: it has no sockets to read"),
            container.id)
    if container.network_mode == "host":
        note = "the container shares the host's network namespace: these are the host's sockets"
    else:
        note = ""
    if local and os.path.exists(f"{PROCFS}/{container.state.pid}/net/tcp"):
        result = _from_host(container)
    else:
        result = _from_exec(api, container)
    if note and result.outcome.ok:
        result = dataclasses.replace(result, outcome=dataclasses.replace(
            result.outcome, reason=note))
    return result


def listening_on(listeners: Listeners, port: int, protocol: str = "tcp") -> list[Socket]:
    return [s for s in listeners.sockets if s.port == port and s.protocol == protocol]
