"""Histology first (issue 13 §2) and unknown radiotherapy history (§3).

Sources: Ogawa 2021 (biopsy aggressively when imaging is atypical or a second cancer is
suspected); Heske 2021 (tissue confirmation of relapse is a general principle of care).
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import by_id, case, event

from rhabdo.engine import assess
from rhabdo.recommend import _facts as facts
from rhabdo.recommend import recommend
from rhabdo.recommend.histology import (
    CAUTION_CONDITION,
    CONDITION,
    WARNING_ID,
    histology_hold,
    make_conditional,
    rms_directed,
)
from rhabdo.recommend.wording import CAUTION
from rhabdo.results import Recommendation, RecommendationCategory, Strength, WarningSeverity

HELD = {RecommendationCategory.LOCAL_THERAPY, RecommendationCategory.SYSTEMIC_THERAPY}


@pytest.mark.parametrize("confirmed", [False, None])
def test_unconfirmed_histology_makes_rms_options_conditional(confirmed: bool | None) -> None:
    ev = event(histologically_confirmed=confirmed) if confirmed is not None else event()
    c = case(events=[ev])
    recs = recommend(c, {})
    held = [r for r in recs if r.category in HELD and r.strength is not Strength.AVOID]
    assert held
    for r in held:
        assert r.strength is not Strength.RECOMMENDED, r.id
        if r.strength is Strength.CAUTION:  # the caution leads, the condition follows it
            assert r.statement.startswith(CAUTION + CAUTION_CONDITION), r.id
        else:
            assert r.statement.startswith(CONDITION), r.id
        assert r.details["conditional_on"] == "histology_confirms_recurrent_rms"
    assert by_id(recs)["biopsy.confirm_recurrence"].strength is Strength.RECOMMENDED


def test_confirmed_histology_keeps_recommended_local_therapy() -> None:
    c = case(events=[event(histologically_confirmed=True)])
    recs = by_id(recommend(c, {}))
    assert recs["local_therapy.aggressive_multimodal"].strength is Strength.RECOMMENDED
    assert "biopsy.confirm_recurrence" not in recs
    assert assess(c).warnings == []


def test_warning_names_triggers_and_differential() -> None:
    c = case(
        patient={"known_predisposition": "li_fraumeni"},
        first_line={
            "chemotherapy": [{"agent": "vincristine"}, {"agent": "cyclophosphamide"}],
            "radiotherapy": [{"body_region": "thorax", "total_dose_gy": 41.4}],
        },
        events=[
            event(
                suspected_second_malignancy=True,
                atypical_imaging=True,
                sites=[{"extent": "local", "body_region": "thorax", "in_irradiated_field": True}],
            )
        ],
    )
    [w] = assess(c).warnings
    assert w.id == WARNING_ID and w.severity is WarningSeverity.ATTENTION
    for words in (
        "not recorded",
        "second malignancy is suspected",
        "atypical",
        "irradiated field",
        "radiation-associated sarcoma",
        "therapy-related myeloid neoplasm",
        "Li-Fraumeni",
    ):
        assert words in w.message, words
    assert "kratz_2017" in w.citations and "ogawa_2021" in w.citations


def test_no_event_no_hold() -> None:
    assert histology_hold(case(events=[])).held is False


# --- §3: an unrecorded radiotherapy history is never "not irradiated" -------------------


def _site(**kw: Any) -> dict[str, Any]:
    return {"extent": "local", "body_region": "thorax", **kw}


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ({}, None),  # empty list, radiotherapy_given not stated: unknown
        ({"radiotherapy_given": False}, False),
        ({"radiotherapy": [{"body_region": "pelvis", "total_dose_gy": 50.4}]}, False),
        ({"radiotherapy": [{"body_region": "thorax", "total_dose_gy": 36}]}, None),
        ({"radiotherapy": [{"total_dose_gy": 36}]}, None),  # region of the course unknown
    ],
)
def test_site_irradiation_from_the_record(
    first_line: dict[str, Any], expected: bool | None
) -> None:
    c = case(first_line=first_line, events=[event(sites=[_site()])])
    [f] = facts.site_irradiation(c)
    assert f.irradiated is expected, f.basis


def test_unrecorded_history_never_reads_as_unirradiated() -> None:
    c = case(events=[event(sites=[_site()], histologically_confirmed=True)])
    recs = by_id(recommend(c, {}))
    assert "local_therapy.radiotherapy" not in recs
    rec = recs["local_therapy.reirradiation"]
    assert rec.strength is Strength.CAUTION
    assert "first_line.radiotherapy_given" in rec.reason or "not recorded" in rec.reason


def test_rms_directed_suggestions_of_other_categories_wait_for_the_biopsy() -> None:
    """Early-phase/targeted suggestions and tumour-directed palliative treatment are held like
    local and systemic options; the palliative-care referral and goals of care are not."""
    sites = [
        {"extent": "distant", "metastatic_site": "lung", "symptoms": ["pain"]},
        {"extent": "distant", "metastatic_site": "bone"},
    ]
    c = case(
        events=[event(histologically_confirmed=None, suspected_second_malignancy=True, sites=sites)]
    )
    recs = by_id(recommend(c, {}))
    for rid in (
        "trials.early_phase",
        "molecular.targeted_overview",
        "palliative.symptom_radiotherapy",
        "palliative.minimally_invasive",
    ):
        r = recs[rid]
        assert r.statement.startswith(CONDITION), rid
        assert r.strength is not Strength.RECOMMENDED, rid
        assert r.details["conditional_on"] == "histology_confirms_recurrent_rms"
    for rid in ("palliative.referral", "palliative.goals_of_care"):
        r = recs[rid]
        assert not r.statement.startswith(CONDITION), rid
        assert "conditional_on" not in r.details
        assert r.strength is Strength.RECOMMENDED
        assert "If the biopsy confirms recurrent RMS, this is a poor-prognosis setting" in r.reason


@pytest.mark.parametrize(
    ("rid", "held"),
    [
        ("molecular.targeted_overview", True),
        ("molecular.biomarker.ras_pathway", True),
        ("palliative.symptom_radiotherapy", True),
        ("palliative.minimally_invasive", True),
        ("palliative.referral", False),
        ("palliative.goals_of_care", False),
        ("molecular.tumour_panel", False),
        ("molecular.germline", False),
        ("biopsy.confirm_recurrence", False),
    ],
)
def test_rms_directed(rid: str, held: bool) -> None:
    category = RecommendationCategory(
        {"molecular": "molecular_testing", "palliative": "palliative_care"}.get(
            rid.split(".")[0], rid.split(".")[0]
        )
    )
    rec = Recommendation(
        id=rid,
        category=category,
        statement="x.",
        strength=Strength.CONSIDER,
        reason="y",
        rule="test",
        citations=["heske_2021"],
    )
    assert rms_directed(rec) is held


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "Localised recurrence: plan.",
            "If the biopsy confirms recurrent RMS: localised recurrence",
        ),
        ("PAX3::FOXO1 fusion: no targeted.", "If the biopsy confirms recurrent RMS: PAX3::FOXO1"),
        ("TP53 mutation (tumour): no.", "If the biopsy confirms recurrent RMS: TP53 mutation"),
        ("VIT first.", "If the biopsy confirms recurrent RMS: VIT first"),
    ],
)
def test_condition_keeps_acronyms(statement: str, expected: str) -> None:
    """The condition lowercases the first word only when it is an ordinary word: a gene name
    or acronym keeps its capitals ('pAX3::FOXO1' and 'tP53' were shown before)."""
    rec = Recommendation(
        id="molecular.biomarker.x",
        category=RecommendationCategory.MOLECULAR_TESTING,
        statement=statement,
        strength=Strength.CONSIDER,
        reason="y",
        rule="test",
        citations=["heske_2021"],
    )
    c = case(events=[event(histologically_confirmed=None)])
    out = make_conditional(rec, histology_hold(c))
    assert out.statement.startswith(expected)
