"""Results computed once per snapshot: indexes and derived facts that every container's diagnosis
would otherwise compute again (doctor diagnoses hundreds over one snapshot). Pure.

A snapshot holds dicts, so it cannot be a dictionary key; results are kept by its identity, with
the snapshot itself held beside them so that an identity is never reused while its entry lives.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
KEEP = 4  # snapshots whose results are kept at once
_cache: OrderedDict[int, tuple[object, dict[Any, Any]]] = OrderedDict()
_lock = threading.Lock()


def per_snapshot(fn: Callable[..., R]) -> Callable[..., R]:
    """Memoise `fn(snapshot, *args)` for the few most recent snapshots."""

    @functools.wraps(fn)
    def wrapper(snapshot: object, *args: Any) -> R:
        key = (fn.__qualname__, args)
        with _lock:
            entry = _cache.get(id(snapshot))
            if entry is not None and entry[0] is snapshot and key in entry[1]:
                _cache.move_to_end(id(snapshot))
                return entry[1][key]  # type: ignore[no-any-return]
        value = fn(snapshot, *args)
        with _lock:
            entry = _cache.get(id(snapshot))
            if entry is None or entry[0] is not snapshot:
                entry = (snapshot, {})
                _cache[id(snapshot)] = entry
            entry[1][key] = value
            _cache.move_to_end(id(snapshot))
            while len(_cache) > KEEP:
                _cache.popitem(last=False)
        return value

    return wrapper
