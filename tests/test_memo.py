"""Per-snapshot results: computed once for a snapshot, never served for another one."""

from __future__ import annotations

import dataclasses

from netdiag.memo import KEEP, per_snapshot
from tests.builders import local


def test_a_result_is_kept_for_its_snapshot_only():
    calls = []

    @per_snapshot
    def count(snapshot, extra):
        calls.append(extra)
        return len(snapshot.containers) + extra

    a = local()
    b = dataclasses.replace(a)  # equal, but another snapshot
    assert count(a, 1) == count(a, 1) == 2 and calls == [1]
    assert count(b, 1) == 2 and calls == [1, 1]
    assert count(a, 2) == 3 and calls == [1, 1, 2]
    for _ in range(KEEP):  # older snapshots make way for newer ones
        count(local(), 0)
    count(a, 1)
    assert calls[-1] == 1
