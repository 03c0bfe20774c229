"""The published JSON Schema of the case format."""

from __future__ import annotations

from typing import Any

from rhabdo.case.model import SCHEMA_VERSION, Case


def case_json_schema() -> dict[str, Any]:
    schema = Case.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://rhabdo.org/schema/case/v{SCHEMA_VERSION}.json"
    schema["title"] = "rhabdo case"
    return schema
