"""Registry checks before any criterion (issue 15 §4): conditions, recruitment on the day
judged (overall status and its dates), study purpose, sites by country; month precision.

Every registry record here is SYNTHETIC (invented ids NCT990001xx, written to the documented
ClinicalTrials.gov API v2 shape), to reach each branch; the same checks run on real v2 records
(vendored with their receipts) in test_trials_real_records.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner

from rhabdo.trials import import_ctgov, match_trial, match_trials
from rhabdo.trials.model import (
    CriterionOutcome,
    DateType,
    PrimaryPurpose,
    StudyType,
    Trial,
    TrialStatus,
    Verdict,
    date_span,
)
from rhabdo.trials.screen import (
    ConditionScope,
    check_conditions,
    check_country,
    check_purpose,
    check_recruitment,
    condition_scope,
)

from .trials_helpers import make_case

MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
UNKNOWN = CriterionOutcome.NOT_ENOUGH_INFORMATION


def _trial(**values: Any) -> Trial:
    base: dict[str, Any] = {
        "registry_id": "NCT99000100",
        "title": "Synthetic",
        "status": "RECRUITING",
        "conditions": ["Rhabdomyosarcoma"],
    }
    base.update(values)
    return Trial.model_validate(base)


@pytest.mark.parametrize(
    ("condition", "scope"),
    [
        ("Rhabdomyosarcoma", ConditionScope.RMS),
        ("Childhood Alveolar Rhabdomyosarcoma", ConditionScope.RMS),
        ("Recurrent Embryonal Rhabdomyosarcoma", ConditionScope.RMS),
        ("Soft Tissue Sarcoma", ConditionScope.STS),
        ("Childhood Soft-tissue Sarcomas", ConditionScope.STS),
        ("Sarcoma, Soft Tissue", ConditionScope.STS),
        ("Recurrent Malignant Solid Neoplasm", ConditionScope.SOLID),
        ("Pediatric Solid Tumor", ConditionScope.SOLID),
        ("Sarcoma", ConditionScope.BROAD),
        ("Childhood Cancer", ConditionScope.BROAD),
        ("Refractory Malignant Neoplasm", ConditionScope.BROAD),
        ("Non-Rhabdomyosarcoma Soft Tissue Sarcoma", ConditionScope.OTHER),
        ("Ewing Sarcoma", ConditionScope.OTHER),
        ("Osteosarcoma", ConditionScope.OTHER),
        ("Breast Cancer", ConditionScope.OTHER),
        ("Asthma", ConditionScope.OTHER),
        ("Caregiver Stress", ConditionScope.OTHER),
    ],
)
def test_condition_scope(condition: str, scope: ConditionScope) -> None:
    assert condition_scope(condition) is scope


@pytest.mark.parametrize(
    ("conditions", "outcome"),
    [
        (["Ewing Sarcoma", "Rhabdomyosarcoma"], MET),
        (["Neuroblastoma", "Solid Tumor"], MET),
        (["Childhood Cancer"], UNKNOWN),
        (["Asthma"], NOT_MET),
        (["Ewing Sarcoma", "Osteosarcoma"], NOT_MET),
    ],
)
def test_a_trial_that_could_not_include_rms_is_excluded_with_the_reason(
    conditions: list[str], outcome: CriterionOutcome
) -> None:
    result = check_conditions(_trial(conditions=conditions))
    assert result is not None and result.outcome is outcome
    if outcome is NOT_MET:
        assert "could not include rhabdomyosarcoma" in result.reason
        assert conditions[0] in result.reason


def test_a_trial_without_conditions_is_not_screened_on_them() -> None:
    assert check_conditions(_trial(conditions=[])) is None


D2023 = dt.date(2023, 6, 1)


@pytest.mark.parametrize(
    ("values", "on", "outcome", "words"),
    [
        ({"status": "WITHDRAWN"}, D2023, NOT_MET, "withdrawn"),
        ({"status": "TERMINATED", "why_stopped": "slow accrual"}, D2023, NOT_MET, "slow accrual"),
        ({"status": "COMPLETED"}, D2023, NOT_MET, "completed"),
        ({"status": "SUSPENDED"}, D2023, NOT_MET, "suspended"),
        ({"status": "ACTIVE_NOT_RECRUITING"}, D2023, NOT_MET, "active not recruiting"),
        ({"status": "UNKNOWN"}, D2023, UNKNOWN, "not known"),
        ({"status": "RECRUITING", "start_date": "2025-03-01"}, D2023, NOT_MET, "opens 2025-03"),
        ({"status": "RECRUITING", "start_date": "2025-03"}, D2023, NOT_MET, "after the day"),
        ({"status": "RECRUITING", "start_date": "2023-06"}, D2023, UNKNOWN, "month judged"),
        ({"status": "RECRUITING", "start_date": "2021-01-10"}, D2023, MET, "open since"),
        (
            {"status": "NOT_YET_RECRUITING", "start_date": "2024-01-01"},
            D2023,
            NOT_MET,
            "after the day",
        ),
        (
            {"status": "NOT_YET_RECRUITING", "start_date": "2022-01-01"},
            D2023,
            UNKNOWN,
            "has passed",
        ),
        ({"status": "NOT_YET_RECRUITING"}, D2023, UNKNOWN, "start date not recorded"),
        ({"status": "RECRUITING", "status_as_of": "2025-06-26"}, D2023, UNKNOWN, "after the day"),
        ({"status": "RECRUITING", "status_as_of": "2022-05"}, D2023, MET, "as of 2022-05"),
        ({"status": "RECRUITING"}, None, MET, "recruiting"),
        ({"status": "COMPLETED"}, None, NOT_MET, "completed"),
        ({"status": "NOT_YET_RECRUITING"}, None, UNKNOWN, "no date"),
    ],
)
def test_status_and_its_dates_decide_whether_the_trial_was_open(
    values: dict[str, Any], on: dt.date | None, outcome: CriterionOutcome, words: str
) -> None:
    result = check_recruitment(_trial(**values), on)
    assert result.outcome is outcome, result.reason
    assert words in result.reason


@pytest.mark.parametrize("status", list(TrialStatus))
def test_every_status_has_a_recruitment_answer(status: TrialStatus) -> None:
    result = check_recruitment(_trial(status=status.value), D2023)
    expected = {
        TrialStatus.RECRUITING: MET,
        TrialStatus.ENROLLING_BY_INVITATION: MET,
        TrialStatus.AVAILABLE: MET,
        TrialStatus.NOT_YET_RECRUITING: UNKNOWN,
        TrialStatus.UNKNOWN: UNKNOWN,
    }.get(status, NOT_MET)
    assert result.outcome is expected


def test_a_case_assessed_in_2023_never_gets_a_trial_that_opened_in_2025() -> None:
    opened_2025 = _trial(registry_id="NCT99000101", start_date="2025-02", start_date_type="ACTUAL")
    case = make_case(current__assessed_on="2023-09-01")
    m = match_trial(case, opened_2025)
    assert m.verdict is Verdict.EXCLUDED
    assert any(c.outcome is NOT_MET and "opens 2025-02" in c.reason for c in m.registry_checks)
    later = match_trial(case, opened_2025, on=dt.date(2025, 4, 1))
    assert later.verdict is Verdict.ELIGIBLE_ON_KNOWN_DATA


@pytest.mark.parametrize(
    ("values", "outcome"),
    [
        ({"study_type": "OBSERVATIONAL"}, NOT_MET),
        ({"primary_purpose": "SUPPORTIVE_CARE"}, NOT_MET),
        ({"primary_purpose": "HEALTH_SERVICES_RESEARCH"}, NOT_MET),
        ({"primary_purpose": "TREATMENT"}, MET),
        ({"study_type": "INTERVENTIONAL"}, None),
        ({}, None),
    ],
)
def test_a_study_that_offers_no_treatment_is_excluded(
    values: dict[str, Any], outcome: CriterionOutcome | None
) -> None:
    result = check_purpose(_trial(**values))
    assert (result.outcome if result else None) is outcome


def _record(nct: str, **modules: Any) -> dict[str, Any]:
    """A SYNTHETIC API v2 study record."""
    section: dict[str, Any] = {
        "identificationModule": {"nctId": nct, "briefTitle": f"Synthetic study {nct}"},
        "statusModule": {"overallStatus": "RECRUITING", "statusVerifiedDate": "2023-01"},
        "conditionsModule": {"conditions": ["Rhabdomyosarcoma"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "designInfo": {"primaryPurpose": "TREATMENT"},
        },
    }
    section.update(modules)
    return {"protocolSection": section}


def test_the_reported_failure_a_behavioural_study_and_a_withdrawn_trial_are_not_offered() -> None:
    """Issue 15 §4: a behavioural study and a WITHDRAWN trial came out "eligible on known data"
    for a relapsed RMS patient.  Both are excluded now, each with its reason."""
    trials = import_ctgov(
        {
            "studies": [
                _record(
                    "NCT99000110",
                    conditionsModule={"conditions": ["Caregiver Stress", "Quality of Life"]},
                    designModule={
                        "studyType": "INTERVENTIONAL",
                        "designInfo": {"primaryPurpose": "SUPPORTIVE_CARE"},
                    },
                ),
                _record(
                    "NCT99000111",
                    statusModule={
                        "overallStatus": "WITHDRAWN",
                        "whyStopped": "No participants enrolled",
                        "statusVerifiedDate": "2022-11",
                    },
                ),
                _record(
                    "NCT99000112",
                    statusModule={
                        "overallStatus": "RECRUITING",
                        "statusVerifiedDate": "2023-01",
                        "startDateStruct": {"date": "2021-03", "type": "ACTUAL"},
                    },
                ),
            ]
        }
    )
    matches = {m.trial.registry_id: m for m in match_trials(make_case(), trials)}
    behavioural = matches["NCT99000110"]
    assert behavioural.verdict is Verdict.EXCLUDED
    reasons = " ".join(c.reason for c in behavioural.registry_checks)
    assert "could not include rhabdomyosarcoma" in reasons and "supportive care" in reasons
    withdrawn = matches["NCT99000111"]
    assert withdrawn.verdict is Verdict.EXCLUDED
    assert any("No participants enrolled" in c.reason for c in withdrawn.registry_checks)
    assert matches["NCT99000112"].verdict is Verdict.ELIGIBLE_ON_KNOWN_DATA


def test_month_only_dates_stay_month_precision() -> None:
    (trial,) = import_ctgov(
        _record(
            "NCT99000120",
            statusModule={
                "overallStatus": "RECRUITING",
                "statusVerifiedDate": "2024-02",
                "startDateStruct": {"date": "2024-02", "type": "ESTIMATED"},
                "completionDateStruct": {"date": "2027-12", "type": "ESTIMATED"},
            },
        )
    )
    assert (trial.status_as_of, trial.start_date, trial.completion_date) == (
        "2024-02",
        "2024-02",
        "2027-12",
    )
    assert trial.start_date_type is DateType.ESTIMATED
    assert trial.study_type is StudyType.INTERVENTIONAL
    assert trial.primary_purpose is PrimaryPurpose.TREATMENT
    assert date_span("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert date_span("2023-12") == (dt.date(2023, 12, 1), dt.date(2023, 12, 31))
    assert date_span("2024-02-10") == (dt.date(2024, 2, 10), dt.date(2024, 2, 10))
    doc = match_trial(make_case(), trial, on=dt.date(2024, 5, 1)).to_dict()
    assert doc["status_as_of"] == "2024-02" and doc["start_date"] == "2024-02"


@pytest.mark.parametrize("text", ["2024-13", "2024-02-30", "24-02", "February 2024"])
def test_an_impossible_registry_date_is_refused(text: str) -> None:
    from rhabdo.trials import TrialImportError

    with pytest.raises(TrialImportError, match="startDateStruct"):
        import_ctgov(
            _record(
                "NCT99000121",
                statusModule={"overallStatus": "RECRUITING", "startDateStruct": {"date": text}},
            )
        )


SITES = {
    "locations": [
        {
            "facility": "Synthetic Children's Hospital",
            "city": "Leeds",
            "country": "United Kingdom",
            "status": "RECRUITING",
            "contacts": [
                {"name": "Synthetic Contact", "role": "CONTACT", "phone": "000", "email": "x@y.z"}
            ],
        },
        {
            "facility": "Synthetic Klinikum",
            "city": "Stuttgart",
            "country": "Germany",
            "status": "NOT_YET_RECRUITING",
        },
    ]
}


def test_sites_are_kept_with_their_status_and_public_contacts() -> None:
    (trial,) = import_ctgov(_record("NCT99000130", contactsLocationsModule=SITES))
    assert trial.countries == ["Germany", "United Kingdom"]
    assert trial.sites is not None
    leeds, stuttgart = trial.sites
    assert (leeds.facility, leeds.city, leeds.country, leeds.status) == (
        "Synthetic Children's Hospital",
        "Leeds",
        "United Kingdom",
        TrialStatus.RECRUITING,
    )
    assert leeds.contacts[0].email == "x@y.z" and leeds.contacts[0].role == "CONTACT"
    assert stuttgart.status is TrialStatus.NOT_YET_RECRUITING and stuttgart.contacts == []


@pytest.mark.parametrize(
    ("country", "outcome", "words"),
    [
        ("United Kingdom", MET, "1 site(s)"),
        ("united kingdom", MET, "1 site(s)"),
        ("Germany", NOT_MET, "not recruiting"),
        ("France", NOT_MET, "no site in France"),
    ],
)
def test_filtering_by_country(country: str, outcome: CriterionOutcome, words: str) -> None:
    (trial,) = import_ctgov(_record("NCT99000131", contactsLocationsModule=SITES))
    result = check_country(trial, country)
    assert result.outcome is outcome and words in result.reason


@pytest.mark.parametrize(
    ("countries", "outcome"),
    [(["Germany", "United Kingdom"], MET), (["Germany"], UNKNOWN), (None, UNKNOWN)],
)
def test_curated_country_lists_may_be_incomplete(
    countries: list[str] | None, outcome: CriterionOutcome
) -> None:
    assert check_country(_trial(countries=countries), "United Kingdom").outcome is outcome


def test_cli_match_by_country(tmp_path: Any) -> None:
    from rhabdo.cli import cli as main

    from .trials_helpers import EXAMPLES

    runner = CliRunner()
    case = str(EXAMPLES / "relapse-after-metastatic-alveolar.yaml")
    result = runner.invoke(
        main, ["trials", "match", case, "--country", "Germany", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    checks = {
        m["registry_id"]: [c for c in m["registry_checks"] if c["criterion"] == "registry_country"]
        for m in doc["matches"]
    }
    assert checks["NCT04625907"][0]["outcome"] == "met"  # FaR-RMS: German sites (CWS)
    assert checks["NCT07222735"][0]["outcome"] == "not_enough_information"  # US list only
    text = runner.invoke(main, ["trials", "match", case, "--country", "Germany"])
    assert "a site in Germany" in text.output
    blank = runner.invoke(main, ["trials", "match", case, "--country", " "])
    assert blank.exit_code != 0 and "--country" in blank.output and "Traceback" not in blank.output


def test_the_bundled_completed_arst0921_is_never_offered() -> None:
    m = next(m for m in match_trials(make_case()) if m.trial.registry_id == "NCT01222715")
    assert m.verdict is Verdict.EXCLUDED
    assert any("completed" in c.reason for c in m.registry_checks)
