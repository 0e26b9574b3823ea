"""Running independent probes at once, each bounded, each failure kept as a fact."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
from collections.abc import Callable

STEP_TIMEOUT = 5.0  # seconds, for one command or call


def run_concurrently(tasks: dict[str, Callable[[], object]], timeout: float = 15.0,
                     on_error: Callable[[str, str], object] | None = None) -> dict[str, object]:
    """Run each task in a thread; a task that raises or outlives `timeout` gets on_error(name, why)."""
    results: dict[str, object] = {}
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(8, len(tasks))))
    futures = {pool.submit(fn): name for name, fn in tasks.items()}
    try:
        for fut in cf.as_completed(futures, timeout=timeout):
            name = futures[fut]
            try:
                results[name] = fut.result()
            except Exception as e:  # a probe's failure is a fact, not a crash
                results[name] = on_error(name, f"{type(e).__name__}: {e}") if on_error else None
    except cf.TimeoutError:
        for name in futures.values():
            if name not in results:
                results[name] = on_error(name, f"timed out after {timeout:g}s") if on_error else None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def run_command(argv: list[str], timeout: float = STEP_TIMEOUT) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a read-only command; raises OSError or TimeoutExpired."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()
