"""Validating --json outputs against the JSON Schemas of docs/schemas/."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


@lru_cache(maxsize=1)
def _registry():
    from referencing import Registry, Resource

    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.schema.json")]
    return Registry().with_resources(resources)


def validate(document: dict) -> str:
    """The document's kind, after checking it against the schema its `schema` field names."""
    from jsonschema import Draft202012Validator

    kind, _, version = document["schema"].removeprefix("netdiag.").partition("/")
    assert version == "1", document["schema"]
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    Draft202012Validator(schema, registry=_registry()).validate(document)
    return kind
