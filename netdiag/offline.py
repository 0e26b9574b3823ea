"""`explain` on bundles: one bundle and one attempt, or a summary over many."""

from __future__ import annotations

import os

from netdiag.bundle import Bundle, load
from netdiag.diagnosis import AttemptSpec, Diagnosis
from netdiag.errors import BadInput, NetdiagError
from netdiag.reasoner import parse_origin
from netdiag.results import BundleRow
from netdiag.why import explain, find


def spec_for(bundle: Bundle, ref: str | None, port: int | None, to: str, origin: str | None) -> AttemptSpec:
    """The attempt to explain: the flags given, else the one recorded for that container."""
    if ref is None:
        if len(bundle.attempts) != 1:
            raise BadInput("bad-argument", f"this bundle records {len(bundle.attempts) or 'no'} attempts: "
                                           "name a container")
        recorded = bundle.attempts[0]
    else:
        target = find(bundle.snapshot, ref)
        recorded = next((a for a in bundle.attempts if a.container == target.id), AttemptSpec(target.id))
    if port is None and not to and origin is None:
        return recorded
    if not recorded.container:  # an attempt out of a container: what is not given stays as recorded
        return AttemptSpec("", port, to or recorded.to, parse_origin(origin or recorded.origin))
    return AttemptSpec(recorded.container, port, to or "", parse_origin(origin or "host"))


def explain_one(bundle: Bundle, ref: str | None, port: int | None = None, to: str = "",
                origin: str | None = None) -> Diagnosis:
    return explain(bundle.snapshot, spec_for(bundle, ref, port, to, origin))


def bundle_files(folder: str) -> list[str]:
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((".json", ".gz")))
    except OSError as e:
        raise BadInput("bad-bundle", f"{folder}: the folder cannot be read: {e.strerror or e}")
    return [os.path.join(folder, n) for n in names]


def summary(paths: list[str]) -> list[BundleRow]:
    """One row per recorded attempt of each bundle; a bad bundle is a row with its error."""
    rows = []
    for path in paths:
        name = os.path.basename(path)
        try:
            bundle = load(path)
            engine = bundle.snapshot.engine
            host = engine.context or engine.endpoint  # as doctor names a daemon of a fleet
            for spec in bundle.attempts:
                d = explain(bundle.snapshot, spec)
                who = d.container or f"{d.attempt.origin} -> {d.attempt.to_text}"  # an outbound attempt
                rows.append(BundleRow(name, who, d.verdict, tuple(c.code for c in d.causes), host=host))
        except NetdiagError as e:
            rows.append(BundleRow(name, "", None, (), e.message))
    return rows
