"""Trial screening on REAL ClinicalTrials.gov API v2 records (issue 15 §4), vendored unchanged
from a public repository with their capture receipts: tests/data/public/ctgov-v2/PROVENANCE.md.

What a real record decides here: its conditions (could the study include RMS?), its overall
status and start date on the day judged, month-precision dates, the study type, and its sites by
country.  None of these records is an RMS study (none could be found), so for a relapsed RMS case
every one of them must be excluded, each for a stated registry reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from functools import cache
from pathlib import Path

import pytest

from rhabdo.trials import import_ctgov, match_trials
from rhabdo.trials.model import CriterionOutcome, Trial, TrialStatus, Verdict, date_span
from rhabdo.trials.screen import (
    ConditionScope,
    check_conditions,
    check_country,
    check_purpose,
    check_recruitment,
    condition_scope,
)

from .trials_helpers import make_case

REAL = Path(__file__).resolve().parents[1] / "data" / "public" / "ctgov-v2"
FILES = sorted(REAL.glob("*.json"))
MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
UNKNOWN = CriterionOutcome.NOT_ENOUGH_INFORMATION


@cache
def _trials() -> dict[str, Trial]:
    out: dict[str, Trial] = {}
    for path in FILES:
        for trial in import_ctgov(json.loads(path.read_text(encoding="utf-8"))):
            out[trial.registry_id] = trial
    return out


def _trial(nct: str) -> Trial:
    return _trials()[nct]


def test_the_vendored_records_are_the_receipted_bytes() -> None:
    provenance = (REAL / "PROVENANCE.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"\| `([^`]+\.json)` \|.*\| `([0-9a-f]{64})` \|", provenance))
    assert set(rows) == {p.name for p in FILES}
    for path in FILES:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == rows[path.name], path.name


def test_every_real_record_imports() -> None:
    trials = _trials()
    assert len(trials) == 19
    assert all(re.fullmatch(r"NCT\d{8}", nct) for nct in trials)
    statuses = {t.status for t in trials.values()}
    assert statuses == {
        TrialStatus.TERMINATED,
        TrialStatus.COMPLETED,
        TrialStatus.ACTIVE_NOT_RECRUITING,
        TrialStatus.NOT_YET_RECRUITING,
        TrialStatus.ENROLLING_BY_INVITATION,
        TrialStatus.RECRUITING,
    }


@pytest.mark.parametrize(("nct", "start"), [("NCT02576665", "2016-07"), ("NCT01525901", "2012-02")])
def test_a_month_only_start_date_stays_month_precision(nct: str, start: str) -> None:
    trial = _trial(nct)
    assert trial.start_date == start
    first, last = date_span(start)
    assert (first.day, last.month) == (1, first.month)
    assert last.day >= 28


@pytest.mark.parametrize(
    ("condition", "scope"),
    [
        ("Sarcoma", ConditionScope.BROAD),
        ("IDH1 Mutated Solid Tumors", ConditionScope.SOLID),
        ("Locally Advanced Solid Neoplasm", ConditionScope.SOLID),
        ("Phelan-McDermid Syndrome", ConditionScope.OTHER),
        ("Non-small Cell Lung Cancer", ConditionScope.OTHER),
        ("Ocular Melanoma", ConditionScope.OTHER),
        ("Genetic Disease", ConditionScope.OTHER),
    ],
)
def test_the_scope_of_real_registry_conditions(condition: str, scope: ConditionScope) -> None:
    assert any(condition in t.conditions for t in _trials().values()), "a real condition"
    assert condition_scope(condition) is scope


@pytest.mark.parametrize("nct", sorted(_trials()))
def test_every_real_record_gets_a_condition_verdict_with_its_conditions(nct: str) -> None:
    trial = _trial(nct)
    result = check_conditions(trial)
    assert result is not None
    covering = any(
        condition_scope(c) in (ConditionScope.RMS, ConditionScope.STS, ConditionScope.SOLID)
        for c in trial.conditions
    )
    assert result.outcome is (MET if covering else NOT_MET)
    if not covering:
        assert "could not include rhabdomyosarcoma" in result.reason


def test_a_terminated_basket_trial_with_sarcoma_is_not_offered() -> None:
    """NCT02576665 (Toca 6): its conditions include "Sarcoma" and solid tumours, but it was
    TERMINATED: not offered on any day."""
    trial = _trial("NCT02576665")
    assert check_conditions(trial).outcome is MET  # type: ignore[union-attr]
    for day in (dt.date(2015, 1, 1), dt.date(2017, 1, 1), dt.date(2026, 8, 1)):
        result = check_recruitment(trial, day)
        assert result.outcome is NOT_MET
        assert "terminated" in result.reason


def test_a_trial_that_opened_later_is_not_offered_on_an_earlier_day() -> None:
    """NCT07281079 opened 2025-11-12: a case judged in 2023 cannot be offered it."""
    trial = _trial("NCT07281079")
    assert trial.status is TrialStatus.RECRUITING
    before = check_recruitment(trial, dt.date(2023, 6, 1))
    assert before.outcome is NOT_MET and "after the day judged" in before.reason
    assert check_recruitment(trial, dt.date(2026, 8, 1)).outcome is MET


def test_not_yet_recruiting_is_judged_against_its_planned_start() -> None:
    """NCT07119606: NOT_YET_RECRUITING, planned start 2025-09-01."""
    trial = _trial("NCT07119606")
    assert check_recruitment(trial, dt.date(2025, 8, 1)).outcome is NOT_MET
    after = check_recruitment(trial, dt.date(2026, 8, 1))
    assert after.outcome is UNKNOWN and "check whether it has opened" in after.reason


@pytest.mark.parametrize(
    "status",
    [TrialStatus.TERMINATED, TrialStatus.COMPLETED, TrialStatus.ACTIVE_NOT_RECRUITING],
)
def test_closed_real_trials_are_not_offered(status: TrialStatus) -> None:
    closed = [t for t in _trials().values() if t.status is status]
    assert closed
    for trial in closed:
        assert check_recruitment(trial, dt.date(2026, 8, 1)).outcome is NOT_MET


def test_a_real_observational_study_offers_no_treatment() -> None:
    result = check_purpose(_trial("NCT06604689"))
    assert result is not None and result.outcome is NOT_MET
    assert "observational" in result.reason


def test_sites_by_country_on_a_real_record() -> None:
    trial = _trial("NCT02576665")
    assert trial.sites is not None and len(trial.sites) == 3
    assert {s.country for s in trial.sites} == {"United States"}
    assert {s.city for s in trial.sites} == {"Denver", "Miami", "Houston"}
    assert check_country(trial, "United States").outcome is MET
    abroad = check_country(trial, "France")
    assert abroad.outcome is NOT_MET and "sites in United States" in abroad.reason


def test_records_without_locations_leave_the_country_unknown() -> None:
    trial = _trial("NCT07281079")
    assert not trial.sites
    assert check_country(trial, "United States").outcome is UNKNOWN


def test_no_real_non_rms_record_is_offered_to_a_relapsed_rms_case() -> None:
    matches = match_trials(make_case(), list(_trials().values()), on=dt.date(2026, 8, 1))
    assert len(matches) == 19
    for match in matches:
        assert match.verdict is Verdict.EXCLUDED, match.trial.registry_id
        failed = [c for c in match.registry_checks + match.criteria if c.outcome is NOT_MET]
        assert failed, f"{match.trial.registry_id}: excluded for a stated reason"
    # the one real record that studies solid tumours and recruits (NCT04114136, MSI-high solid
    # tumours) passes every registry check and is excluded by its age criterion (>= 18 years;
    # BASE_CASE is a child), not by a registry check
    basket = next(m for m in matches if m.trial.registry_id == "NCT04114136")
    assert all(c.outcome is MET for c in basket.registry_checks)
    assert any(c.outcome is NOT_MET and "age" in c.requirement.lower() for c in basket.criteria)
