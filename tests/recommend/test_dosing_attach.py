"""Doses on the systemic-therapy recommendations, and in the text report.

Caps and gates: ``knowledge/data/dosing.yaml`` (vincristine max 2 mg, SECONDARY, EpSSG/COG as
reported in a preprint; FaR-RMS creatinine clearance >= 60 mL/min/1.73m2, NCT04625907).
"""

from __future__ import annotations

from tests.recommend.recommend_helpers import case

from rhabdo.engine import assess
from rhabdo.report.text import render_text
from rhabdo.results import (
    Assessment,
    DoseStatus,
    Recommendation,
    RecommendationCategory,
    Strength,
)


def _rec(assessment: Assessment, rec_id: str) -> Recommendation:
    return next(r for r in assessment.recommendations if r.id == rec_id)


def test_every_offered_regimen_carries_a_dose_line_per_agent() -> None:
    c = case(current={"weight_kg": 60, "body_surface_area_m2": 1.7})
    a = assess(c)
    systemic = [
        r
        for r in a.recommendations
        if r.category is RecommendationCategory.SYSTEMIC_THERAPY
        and r.id != "systemic.relapse_overview"
    ]
    assert systemic
    for r in systemic:
        if r.strength is Strength.AVOID:
            continue
        assert [d.agent for d in r.doses] == [x["agent"] for x in r.details["agents"]]
        assert all(d.status in (DoseStatus.COMPUTED, DoseStatus.CAPPED) for d in r.doses)
    vit = _rec(a, "systemic.vit")
    assert vit.doses[0].dose_mg == 2.0


def test_non_regimen_recommendations_carry_no_doses() -> None:
    a = assess(case(current={"weight_kg": 60, "body_surface_area_m2": 1.7}))
    assert _rec(a, "systemic.relapse_overview").doses == []
    assert all(
        not r.doses
        for r in a.recommendations
        if r.category is not RecommendationCategory.SYSTEMIC_THERAPY
    )


def test_missing_weight_and_bsa_are_named_on_each_dose() -> None:
    a = assess(case())
    for d in _rec(a, "systemic.vit").doses:
        assert d.status is DoseStatus.INDETERMINATE
        assert "current.body_surface_area_m2" in d.needs and "current.weight_kg" in d.needs


def test_organ_function_outside_the_studied_range_makes_the_option_caution() -> None:
    low = assess(
        case(
            current={
                "weight_kg": 60,
                "body_surface_area_m2": 1.7,
                "organ_function": {"creatinine_clearance_ml_min_1_73m2": 45},
            }
        )
    )
    ice = _rec(low, "systemic.ice")
    assert ice.strength is Strength.CAUTION
    assert "Organ function" in ice.reason and ">= 60" in ice.reason
    assert "far_rms_registry" in ice.citations
    ok = assess(
        case(
            current={
                "weight_kg": 60,
                "body_surface_area_m2": 1.7,
                "organ_function": {"creatinine_clearance_ml_min_1_73m2": 90},
            }
        )
    )
    assert "Organ function" not in _rec(ok, "systemic.ice").reason


def test_text_report_shows_the_dose_the_cap_and_the_supportive_care() -> None:
    c = case(current={"weight_kg": 60, "body_surface_area_m2": 1.7})
    text = render_text(c, assess(c))
    assert "dose: vincristine 1.5 mg/m2 x 1.7 m2 = 2.55 mg, capped at 2 mg" in text
    assert "requires protocol confirmation" in text
    assert "supportive care (verified): Filgrastim 5 micrograms/kg" in text
    assert "hepatic function: record bilirubin (× upper limit of normal) (studied range" in text
