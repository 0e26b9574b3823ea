"""The docs carry what the code says: a stale rule catalog or contract table fails here."""

from __future__ import annotations

from netdiag import docgen


def test_rules_md_is_current():
    assert (docgen.DOCS / "rules.md").read_text() == docgen.rules_md(), "run: python -m netdiag.docgen"


def test_contract_cause_codes_are_current():
    current = (docgen.DOCS / "contract.md").read_text()
    assert docgen.contract_md(current) == current, "run: python -m netdiag.docgen"
    assert "| ND302 | `ip-not-routable` | client |" in current
