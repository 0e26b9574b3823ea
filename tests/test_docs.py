"""The docs carry what the code says: a stale rule catalog or contract table fails here."""

from __future__ import annotations

from netdiag import docgen


def test_rules_md_is_current():
    assert (docgen.DOCS / "rules.md").read_text() == docgen.rules_md(), "run: python -m netdiag.docgen"


def test_contract_cause_codes_are_current():
    current = (docgen.DOCS / "contract.md").read_text()
    assert docgen.contract_md(current) == current, "run: python -m netdiag.docgen"
    assert "| ND302 | `ip-not-routable` | client |" in current


def test_json_schemas_are_current():
    on_disk = {p: p.read_text() for p in docgen.SCHEMAS.glob("*.schema.json")}
    assert on_disk == docgen.schema_files(), "run: python -m netdiag.docgen"


def test_every_schema_is_a_valid_json_schema():
    import json

    from jsonschema import Draft202012Validator

    for p in docgen.SCHEMAS.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(p.read_text()))
