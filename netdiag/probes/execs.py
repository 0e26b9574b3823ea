"""`docker exec` of one command in a container, through the API: its exit code, output and errors.

dockerd can close an exec's output stream a moment before it records the exit (more often on a
loaded machine, and over tcp://): the exit code is read once the exec no longer runs, waiting a
little for it, and is None when it still runs by then.
"""

from __future__ import annotations

import time

EXEC_WAIT = 2.0  # seconds for an exec to report its exit once its output has ended


def run_exec(api, container_id: str, argv: list[str]) -> tuple[int | None, str, str]:
    """(exit code or None, stdout, stderr) of argv run in the container."""
    exec_id = api.exec_create(container_id, argv, stdout=True, stderr=True)["Id"]
    output = api.exec_start(exec_id, demux=True)
    deadline = time.monotonic() + EXEC_WAIT
    info = api.exec_inspect(exec_id)
    while info.get("Running") and time.monotonic() < deadline:
        time.sleep(0.02)
        info = api.exec_inspect(exec_id)
    out, err = output if isinstance(output, tuple) else (b"", b"")
    return ((None if info.get("Running") else info.get("ExitCode")),
            (out or b"").decode("utf-8", "replace"), (err or b"").decode("utf-8", "replace"))
