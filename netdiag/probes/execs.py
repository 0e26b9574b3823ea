"""`docker exec` of one command in a container, through the API: its exit code, output and errors.

The output is read whole from the HTTP response's own buffered reader. docker-py's exec_start
reads the socket beneath that reader, past the bytes http.client already took in with the
upgrade's headers: a short command's output, sent in the same segment, is then lost (over tcp://
one exec in five on a quiet machine; docker-py issue 3332).

dockerd can close an exec's output stream a moment before it records the exit (more often on a
loaded machine, and over tcp://): the exit code is read once the exec no longer runs, waiting a
little for it, and is None when it still runs by then.
"""

from __future__ import annotations

import time

from netdiag.parsers.execstream import demultiplex

EXEC_WAIT = 2.0  # seconds for an exec to report its exit once its output has ended


def run_exec(api, container_id: str, argv: list[str]) -> tuple[int | None, str, str]:
    """(exit code or None, stdout, stderr) of argv run in the container."""
    exec_id = api.exec_create(container_id, argv, stdout=True, stderr=True)["Id"]
    out, err = demultiplex(_exec_output(api, exec_id))
    deadline = time.monotonic() + EXEC_WAIT
    info = api.exec_inspect(exec_id)
    while info.get("Running") and time.monotonic() < deadline:
        time.sleep(0.02)
        info = api.exec_inspect(exec_id)
    return ((None if info.get("Running") else info.get("ExitCode")),
            out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _exec_output(api, exec_id: str) -> bytes:
    """The exec's multiplexed output, started as docker-py's exec_start starts it and read to its
    end from the response's buffered reader (not the socket under it: see the module's note)."""
    res = api._post_json(api._url("/exec/{0}/start", exec_id), headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                         data={"Tty": False, "Detach": False}, stream=True)
    try:
        api._raise_for_status(res)
        return res.raw._fp.fp.read()
    finally:
        res.close()
