"""Helpers for the trial-matching tests: synthetic cases built from small dicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case

REPO = Path(__file__).resolve().parents[2]
CTGOV = REPO / "tests" / "data" / "ctgov"
EXAMPLES = REPO / "examples"

#: A synthetic relapsed case with every field the matcher reads (no real patient).
BASE_CASE: dict[str, Any] = {
    "schema_version": "1",
    "patient": {"id": "SYN-TRIALS-1", "sex": "female", "date_of_birth": "2012-03-01"},
    "diagnosis": {
        "date": "2020-03-01",
        "primary_site": "extremity",
        "histology": "alveolar",
        "foxo1_fusion": "pax3_foxo1",
        "distant_metastases": [],
    },
    "first_line": {
        "start_date": "2020-03-10",
        "end_date": "2021-03-01",
        "chemotherapy": [{"agent": "vincristine"}, {"agent": "ifosfamide"}],
        "radiotherapy": [
            {"target": "primary_tumour", "body_region": "lower_limb", "end_date": "2020-08-01"}
        ],
    },
    "events": [{"kind": "relapse", "date": "2022-01-10"}],
    "current": {
        "assessed_on": "2022-02-01",
        "performance": {"scale": "lansky", "score": 70},
        "measurable_disease": True,
        "organ_function": {
            "absolute_neutrophil_count_per_ul": 1200,
            "platelets_per_ul": 150000,
            "bilirubin_x_uln": 1.0,
            "alt_x_uln": 1.0,
            "creatinine_clearance_ml_min_1_73m2": 90,
            "lvef_percent": 60,
            "shortening_fraction_percent": 32,
        },
    },
}


def make_case(**changes: Any) -> Case:
    """BASE_CASE with dotted-path changes; a value of ``DELETE`` removes the key."""
    doc = copy.deepcopy(BASE_CASE)
    for path, value in changes.items():
        parts = path.split("__")
        target = doc
        for p in parts[:-1]:
            target = target.setdefault(p, {})
        if value is DELETE:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = value
    return parse_case(doc)


DELETE = object()
