"""Every --json output is one object whose `schema` names its documented shape, and each validates
against its JSON Schema (docs/schemas/); here the offline outputs, the live ones in the engine tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from netdiag.cli import cli
from tests.schemas import validate

BUNDLES = Path(__file__).resolve().parent.parent / "examples" / "bundles"


def run_json(*args: str) -> tuple[int, dict]:
    r = CliRunner().invoke(cli, [*args, "--json"])
    return r.exit_code, json.loads(r.stdout)


@pytest.mark.parametrize("args, kind, exit_code", [
    (("explain", str(BUNDLES / "seed-ping-container-ip.json")), "diagnosis", 1),
    (("explain", str(BUNDLES / "healthy-published-port.json")), "diagnosis", 0),
    (("explain", str(BUNDLES)), "explain-summary", 1),
    (("rules",), "rules", 0),
    (("rules", "ND302"), "rules", 0),
    (("explain", "/nonexistent/bundle.json"), "error", 2),
    (("rules", "ND999"), "error", 2),
])
def test_offline_outputs_validate_against_their_schema(args, kind, exit_code):
    code, doc = run_json(*args)
    assert code == exit_code
    assert validate(doc) == kind


def test_an_error_document_names_its_code():
    _, doc = run_json("explain", "/nonexistent/bundle.json")
    assert doc["schema"] == "netdiag.error/1" and doc["error"]["code"] == "bad-bundle"


def test_the_schema_rejects_an_output_that_drifted():
    """The schemas are strict: a renamed or extra field, or a value outside a vocabulary, fails."""
    from jsonschema import ValidationError

    _, doc = run_json("explain", str(BUNDLES / "seed-ping-container-ip.json"))
    for broken in ({**doc, "verdict": "maybe"}, {**doc, "extra": 1},
                   {**doc, "causes": [{**doc["causes"][0], "code": "no-such-code"}]}):
        with pytest.raises(ValidationError):
            validate(broken)
