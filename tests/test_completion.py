"""Shell completion: commands, options, rule IDs and container names, and a slow daemon never
makes the shell wait."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from examples import lab


def complete(words: str, env_extra: dict | None = None) -> list[str]:
    """What bash completion offers for the last word of `words`."""
    parts = words.split(" ")
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1), _NETDIAG_COMPLETE="bash_complete",
               **(env_extra or {}))
    p = subprocess.run([sys.executable, "-m", "netdiag"], env=env, capture_output=True, text=True, timeout=30)
    return [line.split(",", 1)[1] for line in p.stdout.splitlines() if line.startswith("plain,")]


def test_commands_options_and_rules_complete():
    assert complete("netdiag why") == ["why-unreachable"]
    assert "--helper" in complete("netdiag why-unreachable web --h")
    assert complete("netdiag rules ND30") == ["ND301", "ND302", "ND303", "ND304", "ND305", "ND306", "ND307", "ND308"]
    assert complete("netdiag rules nd10") == ["ND101", "ND102", "ND103", "ND104", "ND105", "ND106", "ND107"]
    assert complete("netdiag rules wrong") == ["wrong-address"]
    assert complete("netdiag why-unreachable web --from h") == ["host"]


def test_a_daemon_that_never_answers_does_not_hold_the_shell():
    """A listener that accepts and says nothing: completion gives up within its second."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    start = time.monotonic()
    try:
        offered = complete("netdiag why-unreachable nd",
                           {"DOCKER_HOST": f"tcp://127.0.0.1:{server.getsockname()[1]}"})
    finally:
        server.close()
    assert offered == [] and time.monotonic() - start < 5


@pytest.mark.engine
def test_container_names_come_from_the_daemon(clean):
    lab.run("ndt-comp-one", cmd=("sleep", "60"))
    lab.run("ndt-comp-two", cmd=("sleep", "60"))
    assert complete("netdiag why-unreachable ndt-comp") == ["ndt-comp-one", "ndt-comp-two"]
    assert complete("netdiag listeners ndt-comp-t") == ["ndt-comp-two"]
    assert complete("netdiag why-unreachable x --from container:ndt-comp-o") == ["container:ndt-comp-one"]
