"""Palliative-care rule (recommend.palliative.v1).

Sources: PDQ (palliative care central whether or not disease-directed therapy continues;
short-course palliative RT relieved pain in 85% of 213 children); Heske 2021 (goals of care);
Ogawa 2021 (minimally invasive and palliative treatment for disseminated or multiple recurrence).
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import assert_well_formed, by_id, case, event

from rhabdo.case.model import Case
from rhabdo.recommend.knowledge import care_entries
from rhabdo.recommend.palliative import palliative_recommendations
from rhabdo.results import Recommendation, Strength

POOR = [
    {
        "events": [
            event(
                sites=[
                    {"extent": "distant", "metastatic_site": "lung", "lesions": "multiple_diffuse"},
                    {"extent": "local"},
                ]
            )
        ]
    },
    {"events": [event(date="2020-12-01"), event(date="2021-06-01")]},
    {"events": [event(kind="progression", date="2020-05-01")]},
    {"diagnosis": {"distant_metastases": ["bone"]}},
]


def recs_for(c: Case) -> dict[str, Recommendation]:
    recs = palliative_recommendations(c, {})
    assert_well_formed(recs)
    return by_id(recs)


def test_palliative_radiotherapy_figures() -> None:
    figures = care_entries()["care.palliative_radiotherapy"].figures
    assert figures == {"series_n": 213, "pain_relief_percent": 85, "max_fractions": 10}  # PDQ


def test_no_event_nothing() -> None:
    assert palliative_recommendations(case(events=[]), {}) == []


@pytest.mark.parametrize(
    "changes", POOR, ids=["disseminated", "second", "progression", "metastatic-dx"]
)
def test_poor_prognosis(changes: dict[str, Any]) -> None:
    recs = recs_for(case(**changes))
    assert recs["palliative.referral"].strength is Strength.RECOMMENDED
    assert recs["palliative.goals_of_care"].strength is Strength.RECOMMENDED
    assert recs["palliative.symptom_radiotherapy"].strength is Strength.CONSIDER
    assert recs["palliative.minimally_invasive"].strength is Strength.CONSIDER
    assert "ogawa_2021" in recs["palliative.referral"].citations


def test_single_late_local_relapse() -> None:
    recs = recs_for(case())
    assert set(recs) == {"palliative.referral", "palliative.goals_of_care"}
    assert recs["palliative.referral"].strength is Strength.CONSIDER
    assert recs["palliative.goals_of_care"].strength is Strength.RECOMMENDED


@pytest.mark.parametrize("changes", [{}, *POOR])
def test_always_alongside_anti_cancer_options(changes: dict[str, Any]) -> None:
    for rec in recs_for(case(**changes)).values():
        if rec.id in ("palliative.referral", "palliative.goals_of_care"):
            assert "alongside" in rec.statement


def test_no_palliative_guideline_gap_shown() -> None:
    gaps = {g.id for g in recs_for(case())["palliative.referral"].evidence_gaps}
    assert "gap.care.palliative_involvement" in gaps


def test_unknown_sites_named() -> None:
    rec = recs_for(case(events=[event(sites=None)]))["palliative.referral"]
    assert "events[0].sites" in rec.details["needs"]
