"""Biopsy rule (recommend.biopsy.v1).

Sources: Heske 2021 (tissue confirmation of relapse is a general principle); Ogawa 2021 (biopsy
aggressively for atypical imaging or a suspected second cancer; the 18-month timing category).
Late recurrence, irradiated field and exposure triggers are inferences (care.yaml, verified: false).
"""

from __future__ import annotations

import pytest
from recommend_helpers import assert_well_formed, by_id, case, event

from rhabdo.case.model import Case
from rhabdo.case.vocab import ChemotherapyAgent, PredispositionSyndrome
from rhabdo.recommend import _facts as facts
from rhabdo.recommend.biopsy import biopsy_recommendations
from rhabdo.results import Strength

CONFIRM = "biopsy.confirm_recurrence"
SMN_REVIEW = "biopsy.second_malignancy_review"


def triggers(c: Case) -> set[str]:
    recs = biopsy_recommendations(c, {})
    assert_well_formed(recs)
    return {t["entry"] for t in by_id(recs)[CONFIRM].details["triggers"]}


def test_no_event_no_biopsy() -> None:
    assert biopsy_recommendations(case(events=[]), {}) == []


def test_already_confirmed_no_biopsy() -> None:
    c = case(events=[event(histologically_confirmed=True)])
    assert biopsy_recommendations(c, {}) == []


def test_baseline_standard_priority() -> None:
    recs = by_id(biopsy_recommendations(case(), {}))
    rec = recs[CONFIRM]
    assert rec.strength is Strength.RECOMMENDED
    assert rec.details["priority"] == "standard"
    assert rec.statement.startswith("Confirm the recurrence histologically")
    assert "heske_2021" in rec.citations  # Heske 2021: tissue confirmation principle
    assert SMN_REVIEW not in recs


@pytest.mark.parametrize("value, present", [(True, True), (False, False)])
def test_atypical_imaging(value: bool, present: bool) -> None:
    c = case(events=[event(atypical_imaging=value)])
    assert ("care.biopsy_trigger.atypical_imaging" in triggers(c)) is present


def test_atypical_imaging_unknown_is_named() -> None:
    c = case(events=[event(atypical_imaging=None)])
    rec = by_id(biopsy_recommendations(c, {}))[CONFIRM]
    assert {
        "entry": "care.biopsy_trigger.atypical_imaging",
        "needs": "events[0].atypical_imaging",
    } in rec.details["unknown"]
    assert "events[0].atypical_imaging" in rec.reason


def test_suspected_second_malignancy_adds_pathology_review() -> None:
    c = case(events=[event(suspected_second_malignancy=True)])
    recs = by_id(biopsy_recommendations(c, {}))
    assert recs[CONFIRM].details["priority"] == "high"
    assert "strongly indicated" in recs[CONFIRM].statement
    assert recs[SMN_REVIEW].strength is Strength.CONSIDER


# Ogawa 2021: recurrence within 18 months of the start of treatment vs later.  Months are
# days / 30.4375, so 18 months = 547.875 days after first_line.start_date (2020-01-11).
@pytest.mark.parametrize(
    "event_date, late",
    [
        ("2020-06-01", False),
        ("2021-07-11", False),  # 547 days = 17.97 months
        ("2021-07-12", True),  # 548 days = 18.004 months
        ("2029-01-01", True),
    ],
)
def test_late_recurrence_threshold(event_date: str, late: bool) -> None:
    c = case(events=[event(date=event_date)])
    assert ("care.biopsy_trigger.late_recurrence" in triggers(c)) is late


def test_late_recurrence_is_flagged_as_inference() -> None:
    c = case(events=[event(date="2025-01-01")])
    rec = by_id(biopsy_recommendations(c, {}))[CONFIRM]
    assert "gap.care.biopsy_trigger.late_recurrence" in {g.id for g in rec.evidence_gaps}
    assert "inferences" in rec.reason


def test_clock_falls_back_to_diagnosis() -> None:
    c = case(first_line={"start_date": None}, events=[event(date="2021-08-01")])
    months, clock = facts.months_from_treatment_start(c, c.events[0])
    assert clock == "diagnosis" and months is not None and months > 18


def test_event_date_unknown_named() -> None:
    c = case(events=[event(date=None)])
    rec = by_id(biopsy_recommendations(c, {}))[CONFIRM]
    assert "events[0].date" in [u["needs"] for u in rec.details["unknown"]]


@pytest.mark.parametrize("in_field, present", [(True, True), (False, False)])
def test_irradiated_field(in_field: bool, present: bool) -> None:
    c = case(events=[event(sites=[{"extent": "local", "in_irradiated_field": in_field}])])
    assert ("care.biopsy_trigger.irradiated_field" in triggers(c)) is present


def test_irradiated_field_unknown_with_same_region_course() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "thorax", "total_dose_gy": 41.4}]},
        events=[event(sites=[{"extent": "local", "body_region": "thorax"}])],
    )
    rec = by_id(biopsy_recommendations(c, {}))[CONFIRM]
    assert "care.biopsy_trigger.irradiated_field" in [u["entry"] for u in rec.details["unknown"]]


RISK_AGENTS = facts.ALKYLATING_AGENTS | facts.EPIPODOPHYLLOTOXINS | facts.ANTHRACYCLINES


@pytest.mark.parametrize(
    "agent", [a for a in ChemotherapyAgent if a is not ChemotherapyAgent.OTHER]
)
def test_exposure_counts_only_for_late_recurrence(agent: ChemotherapyAgent) -> None:
    chemo = [{"agent": agent.value}]
    late = case(first_line={"chemotherapy": chemo}, events=[event(date="2025-01-01")])
    early = case(first_line={"chemotherapy": chemo}, events=[event(date="2020-06-01")])
    expected = agent in RISK_AGENTS
    assert ("care.biopsy_trigger.second_malignancy_risk" in triggers(late)) is expected
    assert "care.biopsy_trigger.second_malignancy_risk" not in triggers(early)


def test_radiotherapy_is_an_exposure() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "pelvis", "total_dose_gy": 36}]},
        events=[event(date="2025-01-01")],
    )
    assert "care.biopsy_trigger.second_malignancy_risk" in triggers(c)


@pytest.mark.parametrize("syndrome", list(PredispositionSyndrome))
def test_known_predisposition_triggers_at_any_time(syndrome: PredispositionSyndrome) -> None:
    c = case(patient={"known_predisposition": syndrome.value}, events=[event(date="2020-06-01")])
    recs = by_id(biopsy_recommendations(c, {}))
    assert "care.biopsy_trigger.second_malignancy_risk" in {
        t["entry"] for t in recs[CONFIRM].details["triggers"]
    }
    assert SMN_REVIEW in recs


@pytest.mark.parametrize("family, present", [(True, True), (False, False), (None, False)])
def test_family_history(family: bool | None, present: bool) -> None:
    c = case(patient={"family_history_of_cancer": family})
    assert ("care.biopsy_trigger.second_malignancy_risk" in triggers(c)) is present


def test_late_exposed_in_field_gets_pathology_review() -> None:
    c = case(
        first_line={
            "chemotherapy": [{"agent": "cyclophosphamide"}],
            "radiotherapy": [{"body_region": "thorax"}],
        },
        events=[event(date="2027-01-01", sites=[{"extent": "local", "in_irradiated_field": True}])],
    )
    assert SMN_REVIEW in by_id(biopsy_recommendations(c, {}))


def test_late_exposed_but_typical_and_outside_field_no_pathology_review() -> None:
    c = case(
        first_line={"chemotherapy": [{"agent": "cyclophosphamide"}]},
        events=[event(date="2027-01-01")],
    )
    recs = by_id(biopsy_recommendations(c, {}))
    assert recs[CONFIRM].details["priority"] == "high"
    assert SMN_REVIEW not in recs
