"""Every --json output: one JSON object per command, whose `schema` names its shape and version
("netdiag.port/1"). Each shape is described by a JSON Schema under docs/schemas/ (the views'
written by `python -m netdiag.docgen` from their records, the diagnosis, check and error shapes by
hand); tests validate real outputs against them. The source text a probe read (`raw`) belongs in
bundles, not here.
"""

from __future__ import annotations

import json
from typing import Any

from netdiag.diagnosis import Diagnosis
from netdiag.facts import Engine, Firewall, to_dict
from netdiag.results import DoctorReport, Result
from netdiag.views import AddressView, ListenerReport, PingReport, PortView, SubnetReport

VERSION = 1
INTERNAL = frozenset({"raw"})

# the inspection commands and the record each one shows
VIEWS: dict[str, type] = {
    "engine": Engine, "port": PortView, "ip": AddressView, "ping": PingReport, "listeners": ListenerReport,
    "subnets": SubnetReport, "firewall": Firewall,
}


def schema_id(kind: str) -> str:
    return f"netdiag.{kind}/{VERSION}"


def public(obj: Any) -> Any:
    """A record as plain JSON values, without its internal fields."""
    return to_dict(obj, INTERNAL)


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)


def view_document(kind: str, view: Any) -> dict[str, Any]:
    return {"schema": schema_id(kind), **public(view)}


def diagnosis_document(d: Diagnosis) -> dict[str, Any]:
    """why-unreachable and explain: the contract of docs/contract.md."""
    return {"schema": schema_id("diagnosis"), **d.to_contract()}


def summary_document(rows: list[Any]) -> dict[str, Any]:
    """explain over a folder (or a bundle of several attempts): a row per bundle and container."""
    return {"schema": schema_id("explain-summary"), "bundles": [public(r) for r in rows]}


def check_document(results: list[Result], path: str) -> dict[str, Any]:
    return {"schema": schema_id("check"), "file": path, "results": [
        {"name": r.expectation.title, "kind": r.expectation.kind.value, "line": r.expectation.line,
         "status": r.status.value, "detail": r.detail,
         "diagnosis": diagnosis_document(r.diagnosis) if r.diagnosis else None} for r in results]}


def doctor_document(report: DoctorReport) -> dict[str, Any]:
    return {"schema": schema_id("doctor"), "containers": [public(r) for r in report.rows],
            "overlaps": list(report.overlaps), "outbound_to": report.outbound_to or None,
            "outbound": [public(r) for r in report.outbound]}


def rules_document(rules: list[Any]) -> dict[str, Any]:
    return {"schema": schema_id("rules"), "rules": [
        {"id": r.id, "code": r.code, "hop": r.hop.value if r.hop else None, "title": r.title,
         **{k.lower().replace(" ", "_"): v for k, v in r.sections().items()},
         "needs": r.needs_text()} for r in rules]}


def error_document(code: str, message: str) -> dict[str, Any]:
    return {"schema": schema_id("error"), "error": {"code": code, "message": message}}
