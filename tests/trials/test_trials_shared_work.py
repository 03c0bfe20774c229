"""Work the matcher shares: registry answers kept per process (per trial, day and country),
the patient's age kept per matching run, and results built without re-validation.  Each
shared answer must reach only its own trial and case, and what a caller is handed must be its
own (changing it cannot reach the cache or another caller).  Synthetic trials and cases only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from rhabdo.trials import match_trials
from rhabdo.trials.model import (
    CriterionOutcome,
    CriterionResult,
    Evidence,
    Trial,
    TrialPhase,
    own_copy,
    phase_words,
    trusted_evidence,
    trusted_result,
)
from rhabdo.trials.screen import screen

from .trials_helpers import make_case

MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
ON = dt.date(2022, 2, 1)


def _trial(**values: Any) -> Trial:
    base: dict[str, Any] = {
        "registry_id": "NCT99000200",
        "title": "Synthetic",
        "status": "RECRUITING",
        "start_date": "2020-01-01",
        "conditions": ["Rhabdomyosarcoma"],
        "criteria": {"age": {"min_years": 1, "max_years": 21}},
    }
    base.update(values)
    return Trial.model_validate(base)


def test_trusted_results_equal_model_construct() -> None:
    ev = [trusted_evidence("patient.sex", "female")]
    built = trusted_result("sexes", "sex: female", MET, "sex is female", ev, [])
    expected = CriterionResult.model_construct(
        criterion="sexes",
        requirement="sex: female",
        outcome=MET,
        reason="sex is female",
        evidence=[Evidence.model_construct(field="patient.sex", value="female")],
        needs=[],
    )
    assert built == expected
    assert built.model_dump(mode="json") == expected.model_dump(mode="json")
    assert built.model_fields_set == expected.model_fields_set
    assert ev[0].model_fields_set == {"field", "value"}
    with pytest.raises(ValidationError):  # frozen, as a validated result is
        built.reason = "changed"  # type: ignore[misc]


def test_own_copy_has_its_own_lists() -> None:
    shared = trusted_result(
        "registry_conditions",
        "conditions studied include rhabdomyosarcoma",
        MET,
        "the trial studies rhabdomyosarcoma",
        [trusted_evidence("conditions", ["Rhabdomyosarcoma"]), trusted_evidence("x", 1)],
        [],
    )
    mine = own_copy(shared)
    assert mine == shared and mine is not shared
    assert mine.evidence is not shared.evidence and mine.needs is not shared.needs
    assert mine.evidence[0].value is not shared.evidence[0].value
    mine.evidence[0].value.append("Asthma")  # type: ignore[union-attr]
    mine.evidence.clear()
    mine.needs.append("x")
    assert shared.evidence[0].value == ["Rhabdomyosarcoma"] and shared.needs == []


def test_changing_a_registry_check_does_not_reach_the_next_caller() -> None:
    trial = _trial()
    first = screen(trial, ON, None)
    for check in first:
        check.evidence.clear()
        check.needs.append("tampered")
    (conditions_before,) = [c for c in screen(trial, ON, None) if "conditions" in c.criterion]
    conditions_before.evidence[0].value.append("Asthma")  # type: ignore[union-attr]
    again = screen(trial, ON, None)
    assert [c.model_dump() for c in again] == [c.model_dump() for c in screen(_trial(), ON, None)]
    assert all(c.evidence and not c.needs for c in again)
    assert again[0].evidence[0].value == ["Rhabdomyosarcoma"]


def test_registry_answers_follow_each_trial_and_day() -> None:
    """Same registry id, different records (a user's file and the bundled copy): each trial
    gets the answers its own record gives; another day gets its own answer too."""
    rms = _trial()
    asthma = _trial(conditions=["Asthma"])
    closed = _trial(status="COMPLETED")
    assert screen(rms, ON, None)[0].outcome is MET
    assert screen(asthma, ON, None)[0].outcome is NOT_MET
    assert screen(closed, ON, None)[1].outcome is NOT_MET
    assert screen(rms, ON, None)[1].outcome is MET
    assert screen(rms, dt.date(2019, 6, 1), None)[1].outcome is NOT_MET  # before it opened
    in_spain = screen(_trial(countries=["Spain"]), ON, "Spain")
    in_peru = screen(_trial(countries=["Spain"]), ON, "Peru")
    assert [c.criterion for c in in_spain][-1] == "registry_country"
    assert in_spain[-1].outcome is MET and in_peru[-1].outcome is not MET


def test_one_run_shares_a_check_between_trials_with_the_same_record() -> None:
    cache: dict[int, Any] = {}
    a = screen(_trial(registry_id="NCT99000201"), ON, None, cache)
    b = screen(_trial(registry_id="NCT99000202"), ON, None, cache)
    assert a[0] is b[0]
    assert a[0] is not screen(_trial(registry_id="NCT99000203"), ON, None)[0]


def test_each_case_gets_its_own_age() -> None:
    """The age is kept for one matching run only: two patients in one process each get theirs."""
    trials = [_trial()]
    child = match_trials(make_case(), trials)[0]
    adult = match_trials(make_case(patient__date_of_birth="1990-03-01"), trials)[0]
    (child_age,) = [c for c in child.criteria if c.criterion == "age"]
    (adult_age,) = [c for c in adult.criteria if c.criterion == "age"]
    assert child_age.outcome is MET and adult_age.outcome is NOT_MET
    assert child_age.evidence[0].value == "9 years on 2022-02-01"
    assert adult_age.evidence[0].value == "31 years on 2022-02-01"


def test_phase_words_match_the_property() -> None:
    assert phase_words(()) == "phase not stated"
    assert phase_words((TrialPhase.PHASE1, TrialPhase.PHASE2)) == "phase 1/2"
    assert _trial(phases=["EARLY_PHASE1"]).phase_label == "early phase 1"
