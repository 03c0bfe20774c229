"""Work the matcher shares: registry answers kept per process (per trial, day and country),
the patient's age kept per matching run, and results built without re-validation.  Each
shared answer must reach only its own trial and case, and what a caller is handed must be
its own or frozen (changing it cannot reach the cache or another caller).  Synthetic trials
and cases only."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from collections.abc import Callable
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
    frozen_evidence,
    frozen_result,
    phase_words,
    trusted_evidence,
    trusted_result,
)
from rhabdo.trials.screen import registry_answers, screen

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


def test_a_frozen_result_refuses_every_change_and_copies_as_its_own() -> None:
    shared = frozen_result(
        "registry_conditions",
        "conditions studied include rhabdomyosarcoma",
        MET,
        "the trial studies rhabdomyosarcoma",
        [frozen_evidence("conditions", ["Rhabdomyosarcoma"]), frozen_evidence("x", 1)],
        [],
    )
    before = shared.model_dump()
    conditions = shared.evidence[0].value
    assert isinstance(conditions, list)
    changes: list[Callable[[], object]] = [
        lambda: shared.evidence.append(shared.evidence[1]),
        lambda: shared.evidence.clear(),
        lambda: shared.evidence.pop(),
        lambda: shared.evidence.__setitem__(0, shared.evidence[1]),
        lambda: shared.evidence.__delitem__(0),
        lambda: shared.needs.extend(["x"]),
        lambda: shared.needs.insert(0, "x"),
        lambda: shared.needs.__iadd__(["x"]),
        lambda: conditions.append("Asthma"),
        lambda: conditions.sort(),
        lambda: conditions.reverse(),
        lambda: conditions.remove("Rhabdomyosarcoma"),
        lambda: conditions.__imul__(2),
    ]
    for change in changes:
        with pytest.raises(TypeError):
            change()
    with pytest.raises(ValidationError):
        shared.evidence = []  # type: ignore[misc]
    assert shared.model_dump() == before
    assert shared.model_dump(mode="json")["evidence"][0]["value"] == ["Rhabdomyosarcoma"]
    # a copy is the caller's own: ordinary lists, changes stay in the copy
    for mine in (
        shared.model_copy(deep=True),
        copy.deepcopy(shared),
        pickle.loads(pickle.dumps(shared)),
    ):
        assert mine == shared
        mine.evidence[0].value.append("Asthma")  # type: ignore[union-attr]
        mine.needs.append("x")
    assert shared.model_dump() == before


def test_changing_a_registry_check_is_refused_and_reaches_no_one() -> None:
    trial = _trial()
    first = screen(trial, ON, None)
    first.clear()  # the list of checks is the caller's own
    for check in screen(trial, ON, None):
        with pytest.raises(TypeError):
            check.evidence.clear()
        with pytest.raises(TypeError):
            check.needs.append("tampered")
    (conditions,) = [c for c in screen(trial, ON, None) if "conditions" in c.criterion]
    with pytest.raises(TypeError):
        conditions.evidence[0].value.append("Asthma")  # type: ignore[union-attr]
    again = screen(trial, ON, None)
    assert [c.model_dump() for c in again] == [c.model_dump() for c in screen(_trial(), ON, None)]
    assert all(c.evidence and not c.needs for c in again)
    assert again[0].evidence[0].value == ["Rhabdomyosarcoma"]


def test_matches_share_the_frozen_registry_checks_but_not_the_list() -> None:
    trials = [_trial()]
    first = match_trials(make_case(), trials)[0]
    second = match_trials(make_case(patient__date_of_birth="1990-03-01"), trials)[0]
    assert first.registry_checks is not second.registry_checks
    assert [c.model_dump() for c in first.registry_checks] == [
        c.model_dump() for c in second.registry_checks
    ]
    first.registry_checks.clear()
    assert second.registry_checks
    with pytest.raises(TypeError):
        second.registry_checks[0].evidence.clear()


def test_country_answers_are_frozen_too() -> None:
    sites = [{"facility": "H", "city": "Madrid", "country": "Spain", "status": "RECRUITING"}]
    for checks in (
        screen(_trial(sites=sites), ON, "Spain"),
        screen(_trial(sites=sites), ON, "Peru"),
        screen(_trial(countries=["Spain"]), ON, "Spain"),
    ):
        country = checks[-1]
        assert country.criterion == "registry_country"
        with pytest.raises(TypeError):
            country.evidence[0].value.append("x")  # type: ignore[union-attr]


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


def test_trials_with_the_same_record_share_one_check() -> None:
    a = screen(_trial(registry_id="NCT99000201"), ON, None)
    b = screen(_trial(registry_id="NCT99000202"), ON, None)
    assert a[0] is b[0]
    assert screen(_trial(registry_id="NCT99000203", conditions=["Asthma"]), ON, None)[0] is not a[0]


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


def test_organ_limits_words_follow_each_trial() -> None:
    """The words of a set of organ-function limits are kept per process: each trial's own
    limits give its own requirement, and every case is judged against them afresh."""
    strict = _trial(criteria={"organ_function": {"min_platelets_per_ul": {"value": 100000}}})
    loose = _trial(
        criteria={
            "organ_function": {
                "min_platelets_per_ul": {"value": 50000, "inclusive": False},
                "max_bilirubin_x_uln": {"value": 1.5},
            }
        }
    )
    low = make_case(current__organ_function={"platelets_per_ul": 75000, "bilirubin_x_uln": 1})
    for _ in range(2):
        (s,) = match_trials(low, [strict])[0].criteria
        (lo,) = match_trials(low, [loose])[0].criteria
        assert s.requirement == "organ function: platelets_per_ul >= 100000"
        assert lo.requirement == (
            "organ function: platelets_per_ul > 50000; bilirubin_x_uln <= 1.5"
        )
        assert s.outcome is NOT_MET and lo.outcome is MET
    (unknown,) = match_trials(make_case(current__organ_function=None), [loose])[0].criteria
    assert unknown.needs == [
        "current.organ_function.bilirubin_x_uln",
        "current.organ_function.platelets_per_ul",
    ]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"conditions": ["Asthma"], "status": "COMPLETED"},
        {"conditions": ["Childhood Cancer"], "status": "UNKNOWN"},
        {"start_date": "2022-02"},
        {"study_type": "OBSERVATIONAL"},
    ],
)
def test_registry_counts_kept_with_the_answers_match_them(values: dict[str, Any]) -> None:
    """The unmet and pending counts kept with a trial's registry answers are those answers'
    own, so the verdict counts each check exactly once."""
    trial = _trial(**values)
    for on, country in ((ON, None), (ON, "Spain"), (None, None)):
        checks, unmet, pending = registry_answers(trial, on, country)
        assert unmet == sum(c.outcome is NOT_MET for c in checks)
        assert pending == sum(c.outcome is CriterionOutcome.NOT_ENOUGH_INFORMATION for c in checks)
        assert list(checks) == screen(trial, on, country)
