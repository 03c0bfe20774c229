"""Synthetic case builders for the recommendation tests (no real patient data)."""

from __future__ import annotations

import copy
from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.knowledge import resolve
from rhabdo.results import Finding, Recommendation, determined

BASE: dict[str, Any] = {
    "patient": {"id": "SYN-REC-1", "age_at_diagnosis_days": 2500},
    "diagnosis": {
        "date": "2020-01-01",
        "primary_site": "trunk",
        "histology": "embryonal",
        "foxo1_fusion": "negative",
        "distant_metastases": [],
    },
    "first_line": {
        "start_date": "2020-01-11",
        "end_date": "2020-10-01",
        "chemotherapy": [{"agent": "vincristine"}, {"agent": "dactinomycin"}],
    },
    "events": [
        {
            "kind": "relapse",
            "date": "2021-01-11",
            "sites": [{"extent": "local", "body_region": "thorax", "in_irradiated_field": False}],
            "atypical_imaging": False,
            "suspected_second_malignancy": False,
        }
    ],
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base``; a value of None deletes the key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def case(**changes: Any) -> Case:
    """The base case (a single local relapse 12 months after the start of VA) with changes."""
    return parse_case(merge(BASE, changes))


def event(**changes: Any) -> dict[str, Any]:
    """The base relapse event with changes."""
    return merge(BASE["events"][0], changes)


def by_id(recs: list[Recommendation]) -> dict[str, Recommendation]:
    return {r.id: r for r in recs}


def assert_well_formed(recs: list[Recommendation]) -> None:
    """Every recommendation has a reason and citations that resolve, and unique ids."""
    assert len({r.id for r in recs}) == len(recs)
    for r in recs:
        assert r.reason.strip()
        assert r.citations
        for key in r.citations:
            resolve(key)
        assert r.rule.startswith("recommend.")
        for gap in r.evidence_gaps:
            assert gap.statement.strip()


def fake_finding(fid: str, value: Any = "x") -> Finding:
    return determined(
        fid, value, reason=f"synthetic {fid}", rule="test.synthetic", citations=["ogawa_2021"]
    )
