"""The sockets listening inside a container's network namespace, without tools in the container.

Two ways, and the result says which was used:
- the daemon is local: read /proc/<State.Pid>/net/{tcp,tcp6,udp,udp6} from the host, and match
  socket inodes to the processes of that namespace (their /proc/<pid>/fd links);
- the daemon is elsewhere: `docker exec CONTAINER cat /proc/net/<file>` (needs `cat` in the image).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time

from netdiag.facts import Container, Listeners, Outcome
from netdiag.parsers.procnet import PROC_NET_FILES, listeners_from_files, split_cat
from netdiag.probes.execs import run_exec
from netdiag.probes.runner import read_text
from netdiag.vocab import NetMode

PROCFS = os.environ.get("NETDIAG_PROCFS", "/proc")
NO_CAT = ("the container has no `cat`, so its sockets cannot be read through docker exec; "
          "run netdiag on the Docker host to read them from /proc")


_INDEX: dict = {"at": 0.0, "pids": {}}
_INDEX_LOCK = threading.Lock()
INDEX_TTL = 2.0  # seconds: one scan of /proc serves every container probed at once


def _pids_by_netns() -> dict[str, list[int]]:
    """network namespace -> pids in it, from one scan of /proc (shared for INDEX_TTL seconds)."""
    with _INDEX_LOCK:
        if time.monotonic() - _INDEX["at"] < INDEX_TTL:
            return _INDEX["pids"]
        pids: dict[str, list[int]] = {}
        for pid_s in os.listdir(PROCFS):
            if pid_s.isdigit():
                try:
                    pids.setdefault(os.readlink(f"{PROCFS}/{pid_s}/ns/net"), []).append(int(pid_s))
                except OSError:
                    continue
        _INDEX.update(at=time.monotonic(), pids=pids)
        return pids


def _inode_owners(netns: str) -> dict[int, tuple[int, str]]:
    """socket inode -> (pid, process name) for every process in the network namespace `netns`."""
    import psutil

    owners: dict[int, tuple[int, str]] = {}
    for pid in _pids_by_netns().get(netns, []):
        try:
            fds = os.listdir(f"{PROCFS}/{pid}/fd")
        except OSError:
            continue
        name = ""
        for fd in fds:
            try:
                link = os.readlink(f"{PROCFS}/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                if not name:
                    try:
                        name = psutil.Process(pid).name()
                    except psutil.Error:
                        name = "?"
                owners[int(link[8:-1])] = (pid, name)
    return owners


def _files(udp: bool):
    return [f for f in PROC_NET_FILES if udp or f[1] == "tcp"]


def _from_host(container: Container, udp: bool) -> Listeners:
    """sock_diag inside the container's namespace when netdiag may enter it (root), else /proc."""
    pid = container.state.pid
    if os.geteuid() == 0:
        from netdiag.probes import sockdiag

        try:
            sockets, raw = sockdiag.listening(f"{PROCFS}/{pid}/ns/net", udp)
        except OSError:
            pass  # no setns here (a container without CAP_SYS_ADMIN): read /proc instead
        else:
            return _with_owners(Listeners(Outcome(method=f"sock_diag in /proc/{pid}/ns/net"), container.id,
                                          tuple(sockets), raw), pid)
    files, raw = {}, {}
    for name, _, _ in _files(udp):
        path = f"{PROCFS}/{pid}/net/{name}"
        try:
            files[name] = raw[path] = read_text(path)
        except FileNotFoundError:
            continue  # no IPv6 in this kernel
        except OSError as e:
            return Listeners(Outcome.unavailable(f"cannot read {path}: {e.strerror}", "host /proc"),
                             container.id)
    return _with_owners(Listeners(Outcome(method=f"host /proc/{pid}/net"), container.id,
                                  tuple(listeners_from_files(files)), raw), pid)


def _with_owners(found: Listeners, pid: int) -> Listeners:
    """The sockets with the processes that hold them (matched by socket inode)."""
    try:
        owners = _inode_owners(os.readlink(f"{PROCFS}/{pid}/ns/net"))
    except OSError:
        return found
    return dataclasses.replace(found, sockets=tuple(
        dataclasses.replace(s, pid=owners[s.inode][0], process=owners[s.inode][1]) if s.inode in owners else s
        for s in found.sockets))


def _from_exec(api, container: Container, udp: bool) -> Listeners:
    """`docker exec cat /proc/net/tcp /proc/net/tcp6 ...` in the container."""
    import docker

    method = "docker exec cat /proc/net"
    paths = [f"/proc/net/{name}" for name, _, _ in _files(udp)]
    try:
        code, out, err = run_exec(api, container.id, ["cat", *paths])
    except docker.errors.APIError as e:
        reason = str(e.explanation or e)
        return Listeners(Outcome.unavailable(NO_CAT if "executable file not found" in reason else reason, method),
                         container.id)
    if "executable file not found" in out + err or code in (126, 127):
        return Listeners(Outcome.unavailable(NO_CAT, method), container.id)
    raw = split_cat(out, paths, err)
    if "/proc/net/tcp" not in raw:
        how = "did not finish" if code is None else f"exited {code}"
        return Listeners(Outcome.unavailable(f"`cat /proc/net/tcp` in the container {how}: "
                                             f"{(err or out).strip()[:200]}", method), container.id)
    files = {path.rsplit("/", 1)[1]: text for path, text in raw.items()}
    return Listeners(Outcome(method=method), container.id, tuple(listeners_from_files(files)), raw)


def probe_listeners(api, container: Container, local: bool, udp: bool = True, helper: str = "") -> Listeners:
    """The listening sockets in `container`'s namespace: from the host (sock_diag, or /proc) when
    the daemon is local, else through docker exec, else (only when the user names an image with
    `helper`) through a short-lived helper container in its namespace.

    Each /proc/net file costs the kernel a walk of its whole socket table, whatever the namespace
    holds: a diagnosis, which is about TCP, leaves the UDP files out (`udp=False`)."""
    if not container.state.running or container.state.pid <= 0:
        return Listeners(Outcome.unavailable(
            f"the container is {container.state.status or 'not running'}: it has no sockets to read"),
            container.id)
    if container.mode == NetMode.HOST:
        note = "the container shares the host's network namespace: these are the host's sockets"
    else:
        note = ""
    if local and os.path.exists(f"{PROCFS}/{container.state.pid}/net/tcp"):
        result = _from_host(container, udp)
    else:
        result = _from_exec(api, container, udp)
        if helper and not result.outcome.ok:
            from netdiag.probes.helper import read_with_helper

            result = read_with_helper(api, container, helper, udp)
    if note and result.outcome.ok:
        result = dataclasses.replace(result, outcome=dataclasses.replace(
            result.outcome, reason=note))
    return result
