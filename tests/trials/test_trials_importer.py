"""The ClinicalTrials.gov API v2 importer on well-formed and malformed (synthetic) records."""

from __future__ import annotations

import pytest

from rhabdo.case.vocab import Sex
from rhabdo.trials import TrialImportError, import_ctgov, import_ctgov_file
from rhabdo.trials.importer import parse_registry_age, split_eligibility_text
from rhabdo.trials.model import DateType, TrialPhase, TrialStatus

from .trials_helpers import CTGOV


def test_well_formed_search_response() -> None:
    first, _ = import_ctgov_file(CTGOV / "synthetic_studies.json")
    assert first.registry_id == "NCT99000001"
    assert first.title == "Synthetic Study of Drug X in Relapsed Rhabdomyosarcoma"
    assert first.acronym == "SYNTH-X"
    assert first.sponsor == "Synthetic Children's Oncology Consortium"
    assert first.phases == [TrialPhase.PHASE1, TrialPhase.PHASE2]
    assert first.status is TrialStatus.RECRUITING
    assert first.status_as_of == "2026-05"  # a month-only date stays month precision
    assert (first.start_date, first.start_date_type) == ("2025-01-15", DateType.ACTUAL)
    assert first.countries == ["Italy", "Netherlands"]
    assert first.conditions == ["Rhabdomyosarcoma", "Relapsed Rhabdomyosarcoma"]
    assert (first.criteria.age.min_years, first.criteria.age.max_years) == (1, 30)
    assert first.criteria.age.max_inclusive  # registry maximum ages are inclusive
    assert first.criteria.sexes is None  # "ALL"
    assert first.criteria.free_text == [
        "Inclusion: Histologically confirmed rhabdomyosarcoma",
        "Inclusion: Relapsed or refractory disease after at least one prior regimen",
        "Inclusion: Lansky or Karnofsky score >= 60",
        "Exclusion: Prior treatment with drug X",
        "Exclusion: Pregnancy",
    ]
    # nothing is structured from the prose
    assert first.criteria.min_performance_score is None
    assert first.citations == []


def test_ages_in_months_are_kept_for_review_not_rounded() -> None:
    _, second = import_ctgov_file(CTGOV / "synthetic_studies.json")
    assert second.criteria.age is None  # 6 Months is not a whole year; N/A is no limit
    assert (
        second.criteria.free_text[0]
        == "Registry minimumAge: 6 Months (not a whole number of years)"
    )
    assert second.criteria.sexes == [Sex.FEMALE]
    assert second.phases == []
    assert second.status is TrialStatus.NOT_YET_RECRUITING
    assert second.status_as_of == "2026-02-10"
    assert second.countries is None


def test_single_record() -> None:
    (trial,) = import_ctgov_file(CTGOV / "single_study.json")
    assert trial.registry_id == "NCT99000003"
    assert trial.criteria.sexes == [Sex.MALE]
    assert (trial.criteria.age.min_years, trial.criteria.age.max_years) == (12, 21)
    assert trial.status is TrialStatus.COMPLETED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21 Years", (21, None)),
        ("1 Year", (1, None)),
        ("24 Months", (2, None)),
        ("N/A", (None, None)),
        ("18 Months", (None, "Registry minimumAge: 18 Months (not a whole number of years)")),
    ],
)
def test_parse_registry_age(text: str, expected: tuple[object, object]) -> None:
    assert (
        parse_registry_age(text, "NCT99000001", "protocolSection.eligibilityModule.minimumAge")
        == expected
    )


def test_split_eligibility_text_sections_and_bullets() -> None:
    text = "Inclusion Criteria:\n\n* a\n  - b\n2. c\nExclusion Criteria:\n• d\n"
    assert split_eligibility_text(text) == [
        "Inclusion: a",
        "Inclusion: b",
        "Inclusion: c",
        "Exclusion: d",
    ]


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("malformed_missing_nctid.json", "identificationModule.nctId: required field is missing"),
        (
            "malformed_bad_age.json",
            "NCT99000004: protocolSection.eligibilityModule.minimumAge: cannot read age",
        ),
        ("malformed_not_json.json", "not valid JSON"),
        ("absent.json", "file not found"),
    ],
)
def test_malformed_files(fixture: str, message: str) -> None:
    with pytest.raises(TrialImportError, match=message.replace(".", r"\.")):
        import_ctgov_file(CTGOV / fixture)


def _record(**modules: object) -> dict[str, object]:
    ps: dict[str, object] = {
        "identificationModule": {"nctId": "NCT99000009", "briefTitle": "Synthetic"},
        "statusModule": {"overallStatus": "RECRUITING"},
    }
    ps.update(modules)
    return {"protocolSection": ps}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("text", "expected a study record"),
        ({"studies": []}, "no study records"),
        ({"studies": "x"}, "expected a list"),
        ([{"no": "protocol"}], "protocolSection: required field is missing"),
        ([_record(identificationModule={"nctId": "12345", "briefTitle": "x"})], "not an NCT id"),
        ([_record(statusModule={"overallStatus": "OPEN"})], "unknown status 'OPEN'"),
        ([_record(statusModule={})], "overallStatus: required field is missing"),
        ([_record(designModule={"phases": "PHASE1"})], "designModule.phases: expected list"),
        ([_record(designModule={"phases": ["PHASE9"]})], "unknown phase 'PHASE9'"),
        ([_record(eligibilityModule={"sex": "ANY"})], "unknown sex 'ANY'"),
        (
            [_record(eligibilityModule={"minimumAge": "30 Years", "maximumAge": "5 Years"})],
            "max_years is below",
        ),
        (
            [
                _record(
                    statusModule={"overallStatus": "RECRUITING", "statusVerifiedDate": "May 2026"}
                )
            ],
            "not a date",
        ),
        ([_record(), _record()], "the same study appears twice"),
    ],
)
def test_malformed_records(document: object, message: str) -> None:
    with pytest.raises(TrialImportError, match=message):
        import_ctgov(document)
