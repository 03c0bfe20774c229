"""The CDS Hooks 2.0 JSON Schemas shipped in ``service/schemas/`` and their validators.

The schemas are written from the specification text in ``shared/fixtures/cds-hooks-2.0``;
tests validate the specification's own JSON examples against them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "schemas"

#: name -> file of every schema.
SCHEMA_FILES = {
    "common": "common.schema.json",
    "discovery-response": "cds-discovery-response.schema.json",
    "request": "cds-request.schema.json",
    "patient-view-context": "patient-view-context.schema.json",
    "response": "cds-response.schema.json",
    "feedback": "cds-feedback.schema.json",
}


def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / SCHEMA_FILES[name]).read_text("utf-8"))
    return data


@cache
def validator(name: str) -> Any:
    """A compiled Draft 2020-12 validator; ``common.schema.json`` references resolve locally."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    base = "https://rhabdo.org/schemas/cds-hooks-2.0/"
    resources = []
    for key in SCHEMA_FILES:
        schema = load_schema(key)
        resources.append((schema["$id"], Resource.from_contents(schema)))
        if key == "common":
            resources.append((base + "common.schema.json", Resource.from_contents(schema)))
    registry: Any = Registry().with_resources(resources)
    return Draft202012Validator(load_schema(name), registry=registry)


def problems(name: str, document: Any) -> list[str]:
    """Every way ``document`` breaks schema ``name``, as 'path: message' lines (empty if valid)."""
    out = []
    for err in sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in err.absolute_path) or "(document)"
        out.append(f"{path}: {err.message}")
    return out
