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
from rhabdo.case.vocab import SiteSymptom
from rhabdo.recommend.knowledge import care_entries
from rhabdo.recommend.palliative import (
    EMERGENCY_WARNING_ID,
    emergency_warnings,
    palliative_recommendations,
)
from rhabdo.results import Recommendation, Strength, WarningSeverity

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


# --- palliative radiotherapy by symptomatic site (Tsang 2021 guideline; PDQ for pain) -----------


def _disseminated(*sites: dict[str, Any], **ev: Any) -> Case:
    """Lung + bone (two organ systems: disseminated) with the given site fields merged in."""
    base = [
        {"extent": "distant", "metastatic_site": "lung", "body_region": "thorax"},
        {"extent": "distant", "metastatic_site": "bone", "body_region": "pelvis"},
    ]
    merged = [{**b, **s} for b, s in zip(base, sites, strict=False)] + base[len(sites) :]
    return case(events=[event(sites=merged, **ev)])


def test_painful_bone_lesion_single_fraction_or_short_course() -> None:
    """Tsang 2021: 8 Gy x1 for a simple, uncomplicated bone metastasis with short life
    expectancy; 20 Gy in 5 fractions for other indications."""
    rec = recs_for(_disseminated({"symptoms": []}, {"symptoms": ["pain"]}))[
        "palliative.symptom_radiotherapy"
    ]
    assert "bone (pain): 8 Gy in one fraction if it is a simple, uncomplicated" in rec.statement
    assert "otherwise 20 Gy in 5 fractions may be used" in rec.statement
    assert "lung" not in rec.statement  # recorded without symptoms
    assert {"tsang_2021", "pdq_rms_hp_2025"} <= set(rec.citations)
    assert rec.details["sites"][0]["plan"] == "no_symptoms"
    assert rec.details["sites"][1]["plan"] == "treat"


def test_cord_compression_gets_the_short_course() -> None:
    rec = recs_for(_disseminated({}, {"symptoms": ["pain", "spinal_cord_compression"]}))[
        "palliative.symptom_radiotherapy"
    ]
    assert "bone (pain and spinal cord compression): 20 Gy in 5 fractions" in rec.statement
    assert "8 Gy" not in rec.statement


@pytest.mark.parametrize(
    ("symptom", "cited"),
    [
        ("pain", True),
        ("spinal_cord_compression", True),
        ("superior_vena_cava_syndrome", True),
        ("bleeding", True),
        ("airway_obstruction", False),
        ("neurological", False),
        ("other", False),
    ],
)
def test_each_symptom_at_a_site_no_source_names(symptom: str, cited: bool) -> None:
    """A local site is not one of the guideline's metastatic sites, so only a cited symptom
    (PDQ: pain; Tsang 2021: cord compression, SVC syndrome, bleeding) makes it an indication."""
    c = case(
        events=[event(sites=[{"extent": "local", "symptoms": [symptom]}])],
        diagnosis={"distant_metastases": ["bone"]},  # a poor-prognosis setting
    )
    rec = recs_for(c)["palliative.symptom_radiotherapy"]
    plan = rec.details["sites"][0]["plan"]
    assert plan == ("treat" if cited else "radiation_oncologist")
    if not cited:
        assert "no verified source names this indication; for the radiation oncologist" in (
            rec.statement
        )
        assert "gap.care.palliative_radiotherapy_indications" in {g.id for g in rec.evidence_gaps}


@pytest.mark.parametrize("site", ["bone_marrow", "csf", "pleura", "peritoneum"])
def test_diffuse_disease_is_no_focal_target(site: str) -> None:
    c = case(events=[event(sites=[{"extent": "distant", "metastatic_site": site}])])
    rec = recs_for(c)["palliative.symptom_radiotherapy"]
    assert rec.statement.startswith("Not a focal radiotherapy target (diffuse disease):")
    assert "symptoms" not in " ".join(rec.inputs_used).replace("events", "")


def test_unrecorded_symptoms_name_the_field() -> None:
    rec = recs_for(_disseminated())["palliative.symptom_radiotherapy"]
    assert "not recorded for lung and bone" in rec.statement
    assert "record events[0].sites[0].symptoms, events[0].sites[1].symptoms" in rec.reason
    assert "events[0]" not in rec.statement  # a statement is shown whole, in words
    assert rec.strength is Strength.CONSIDER


def test_no_symptoms_anywhere_no_radiotherapy() -> None:
    recs = recs_for(_disseminated({"symptoms": []}, {"symptoms": []}))
    assert "palliative.symptom_radiotherapy" not in recs
    assert recs["palliative.referral"].strength is Strength.RECOMMENDED


def test_irradiated_field_noted() -> None:
    rec = recs_for(_disseminated({}, {"symptoms": ["pain"], "in_irradiated_field": True}))[
        "palliative.symptom_radiotherapy"
    ]
    assert "in a previously irradiated field: re-irradiation, weigh the prior dose" in (
        rec.statement
    )


def test_sites_unknown_asks_for_them() -> None:
    c = case(events=[event(sites=None), event(date="2021-06-01", sites=None)])
    rec = recs_for(c)["palliative.symptom_radiotherapy"]
    assert "the sites of the recurrence are not recorded" in rec.statement
    assert "record events[1].sites with their symptoms" in rec.reason


# --------------------------------------------------------------- spinal cord compression emergency


@pytest.mark.parametrize("symptom", list(SiteSymptom))
def test_only_cord_compression_is_an_emergency(symptom: SiteSymptom) -> None:
    c = case(events=[event(sites=[{"extent": "local", "symptoms": [symptom.value]}])])
    warnings = emergency_warnings(c)
    if symptom is SiteSymptom.SPINAL_CORD_COMPRESSION:
        (w,) = warnings
        assert w.id == EMERGENCY_WARNING_ID and w.severity is WarningSeverity.EMERGENCY
        assert w.fields == ["events[0].sites[0].symptoms"]
        assert {"tantawy_2013", "de_martino_2019", "tsang_2021"} <= set(w.citations)
        assert "an emergency" in w.message and "Not RMS-specific" in w.message
    else:
        assert warnings == []


def test_cord_compression_names_every_site_it_is_recorded_at() -> None:
    c = _disseminated(
        {"symptoms": ["pain"]},
        {"symptoms": ["spinal_cord_compression"], "location": "T10 epidural"},
    )
    (w,) = emergency_warnings(c)
    assert w.fields == ["events[0].sites[1].symptoms"]
    assert w.message.startswith("Spinal cord compression recorded (bone (T10 epidural)): an")


@pytest.mark.parametrize("symptoms", [None, []])
def test_unrecorded_or_no_symptoms_raise_no_emergency(symptoms: list[str] | None) -> None:
    c = case(events=[event(sites=[{"extent": "local", "symptoms": symptoms}])])
    assert emergency_warnings(c) == []


def test_the_emergency_stands_while_histology_is_unconfirmed() -> None:
    """An emergency does not wait for the biopsy: the warning is there whatever is held."""
    c = case(
        events=[
            event(
                histologically_confirmed=False,
                sites=[{"extent": "local", "symptoms": ["spinal_cord_compression"]}],
            )
        ]
    )
    assert [w.id for w in emergency_warnings(c)] == [EMERGENCY_WARNING_ID]


def test_no_recurrence_no_emergency() -> None:
    assert emergency_warnings(case(events=[])) == []


def test_emergency_entry_figures() -> None:
    """Tantawy 2013 (abstract): 24 children, 83.3% emergency steroids, median delay 42 days."""
    e = care_entries()["care.spinal_cord_compression_emergency"]
    assert e.figures == {
        "series_n": 24,
        "emergency_steroids_percent": 83.3,
        "median_delay_to_diagnosis_days": 42,
    }
    assert e.citations == ["tantawy_2013", "de_martino_2019"]
