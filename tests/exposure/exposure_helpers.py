"""Synthetic cases for the exposure tests (no real patient data)."""

from __future__ import annotations

from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.exposure import exposure_findings
from rhabdo.results import Finding


def make_case(
    chemo: list[dict[str, Any]] | None = None,
    *,
    weight_kg: float | None = 30.0,
    bsa_m2: float | None = 1.0,
    radiotherapy: list[dict[str, Any]] | None = None,
    later_lines: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    first_line: bool = True,
    radiotherapy_given: bool | None = None,
) -> Case:
    doc: dict[str, Any] = {
        "patient": {"id": "SYN-EXP-1", "age_at_diagnosis_days": 3000},
        "diagnosis": {"date": "2020-01-01"},
        "later_lines": later_lines or [],
        "events": events or [],
    }
    if first_line:
        line: dict[str, Any] = {
            "chemotherapy": chemo or [],
            "radiotherapy": radiotherapy or [],
        }
        if radiotherapy_given is not None:
            line["radiotherapy_given"] = radiotherapy_given
        if weight_kg is not None:
            line["weight_kg"] = weight_kg
        if bsa_m2 is not None:
            line["body_surface_area_m2"] = bsa_m2
        doc["first_line"] = line
    return parse_case(doc)


def findings_of(case: Case) -> dict[str, Finding]:
    return {f.id: f for f in exposure_findings(case)}
