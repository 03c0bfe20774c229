"""Import of real records: the mCODE 4.0.0 and FHIR R4 published examples (vendored unchanged
in substance under tests/data/public/fhir-packages, see PROVENANCE.md there), and what mCODE
senders actually send: the IG's HGNC URI, "worsened" disease status, a primary cancer without
the mCODE profile, conflicting results."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir_helpers import PATIENT, RMS_MORPHOLOGY, SUBJECT, bundle, coding, observation

from rhabdo.case.vocab import EventKind, FusionStatus
from rhabdo.errors import CaseValidationError
from rhabdo.interop import codes as c
from rhabdo.interop.fhir_import import DIAGNOSIS_UNKNOWN, case_from_bundle

PACKAGES = Path(__file__).resolve().parents[1] / "data" / "public" / "fhir-packages"
MCODE_EXAMPLES = PACKAGES / "hl7.fhir.us.mcode-4.0.0" / "example"
R4_EXAMPLES = PACKAGES / "hl7.fhir.r4.examples-4.0.1" / "example"
PUBLISHED_BUNDLES = sorted(MCODE_EXAMPLES.glob("Bundle-*.json")) + sorted(
    R4_EXAMPLES.glob("Bundle-*.json")
)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(CaseValidationError) as info:
        case_from_bundle(data)
    return str(info.value)


def test_published_bundles_are_vendored() -> None:
    assert len(PUBLISHED_BUNDLES) >= 5


@pytest.mark.parametrize("path", PUBLISHED_BUNDLES, ids=lambda p: p.stem)
def test_every_published_bundle_imports_or_is_refused_for_a_stated_reason(path: Path) -> None:
    try:
        result = case_from_bundle(_load(path))
    except CaseValidationError as exc:
        assert str(exc).strip(), "a refusal states its reason"
        return
    # imported: nothing in the published examples is an RMS primary, so the diagnosis must be
    # explicitly unknown -- never assumed
    assert DIAGNOSIS_UNKNOWN in result.notes


def test_the_igs_breast_cancer_patient_bundle_is_refused_naming_the_diagnosis() -> None:
    text = _refusal(_load(MCODE_EXAMPLES / "Bundle-mcode-patient-bundle-jenny-m.json"))
    assert "Primary malignant neoplasm of female left breast" in text
    assert "rhabdo assesses rhabdomyosarcoma only" in text


@pytest.mark.parametrize(
    "name,found",
    [
        ("Condition-primary-cancer-condition-breast.json", "morphology"),
        ("Condition-primary-cancer-condition-brian-l.json", "B-cell acute lymphoblastic"),
        ("Condition-primary-cancer-condition-cll.json", "Chronic lymphoid leukemia"),
        ("Condition-primary-cancer-condition-nsclc.json", "Non-small cell lung cancer"),
    ],
)
def test_the_igs_non_rms_primaries_are_refused(name: str, found: str) -> None:
    condition = _load(MCODE_EXAMPLES / name)
    patient = {"resourceType": "Patient", "id": condition["subject"]["reference"].split("/")[1]}
    assert found in _refusal(bundle(patient, condition))


@pytest.mark.parametrize(
    "code",
    [
        coding(c.ICD10CM, "C91.00"),  # acute lymphoblastic leukaemia
        {
            "coding": [
                {
                    "system": c.SNOMED,
                    "code": "254637007",
                    "display": "Non-small cell lung cancer (disorder)",
                }
            ]
        },
        coding(c.ICDO3, "8500/3"),  # ductal carcinoma
    ],
)
def test_a_primary_cancer_without_the_mcode_profile_is_recognised_by_its_code(
    code: dict[str, Any],
) -> None:
    condition = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": code}
    assert "is not rhabdomyosarcoma" in _refusal(bundle(PATIENT, condition))


def test_an_rms_primary_without_the_mcode_profile_is_read() -> None:
    condition = {
        "resourceType": "Condition",
        "id": "dx",
        "subject": SUBJECT,
        "code": RMS_MORPHOLOGY,
        "onsetDateTime": "2020-02-03",
    }
    result = case_from_bundle(bundle(PATIENT, condition))
    assert str(result.case.diagnosis.date) == "2020-02-03"
    assert result.notes == []


def test_a_generic_cancer_code_without_morphology_does_not_pass_as_rms() -> None:
    condition = {
        "resourceType": "Condition",
        "id": "dx",
        "subject": SUBJECT,
        "meta": {"profile": [c.PROFILE_PRIMARY]},
        "code": coding(c.SNOMED, "363346000"),
    }
    assert "does not say it is a rhabdomyosarcoma" in _refusal(bundle(PATIENT, condition))


def test_no_cancer_diagnosis_leaves_the_diagnosis_explicitly_unknown() -> None:
    result = case_from_bundle(bundle(PATIENT))
    assert result.notes == [DIAGNOSIS_UNKNOWN]
    assert result.report()["notes"] == [DIAGNOSIS_UNKNOWN]


def _fusion(rid: str, system: str, present: bool) -> dict[str, Any]:
    answer = c.PRESENT if present else c.ABSENT
    return observation(
        rid,
        coding(c.LOINC, "69548-6"),
        valueCodeableConcept=coding(answer.system, answer.code),
        component=[
            {"code": coding(c.LOINC, "48018-6"), "valueCodeableConcept": coding(system, g)}
            for g in ("HGNC:8617", "HGNC:3819")
        ],
    )


@pytest.mark.parametrize("system", ["http://www.genenames.org", "http://www.genenames.org/geneId"])
def test_foxo1_fusion_is_read_under_either_hgnc_uri(system: str) -> None:
    primary = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": RMS_MORPHOLOGY}
    result = case_from_bundle(bundle(PATIENT, primary, _fusion("f1", system, True)))
    assert result.case.diagnosis.foxo1_fusion is FusionStatus.PAX3_FOXO1


def test_conflicting_foxo1_results_are_indeterminate_with_both_shown() -> None:
    primary = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": RMS_MORPHOLOGY}
    result = case_from_bundle(
        bundle(
            PATIENT,
            primary,
            _fusion("f1", c.HGNC, True),
            _fusion("f2", c.HGNC, False),
        )
    )
    assert result.case.diagnosis.foxo1_fusion is None
    reasons = [u.reason for u in result.unmapped if "conflicting FOXO1" in u.reason]
    assert len(reasons) == 2
    assert "Observation/f1" in reasons[0] and "Observation/f2" in reasons[0]


def _worsened(date: str | None) -> dict[str, Any]:
    obs = observation(
        "st",
        coding(c.LOINC, "97509-4"),
        valueCodeableConcept=coding(c.SNOMED, "271299001"),
    )
    if date:
        obs["effectiveDateTime"] = date
    return obs


def _plan(status: str, start: str, end: str | None) -> dict[str, Any]:
    plan = {
        "resourceType": "CarePlan",
        "id": "l1",
        "status": status,
        "intent": "plan",
        "subject": SUBJECT,
        "period": {"start": start, **({"end": end} if end else {})},
    }
    return plan


@pytest.mark.parametrize(
    "plan,kind",
    [
        (_plan("active", "2020-01-01", None), EventKind.PROGRESSION),
        (_plan("completed", "2020-01-01", "2021-06-30"), EventKind.PROGRESSION),
        (_plan("completed", "2020-01-01", "2020-12-31"), EventKind.RELAPSE),
    ],
)
def test_disease_status_worsened_is_a_progression_or_relapse_with_its_date(
    plan: dict[str, Any], kind: EventKind
) -> None:
    primary = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": RMS_MORPHOLOGY}
    result = case_from_bundle(bundle(PATIENT, primary, plan, _worsened("2021-03-01")))
    assert [(e.kind, str(e.date)) for e in result.case.events] == [(kind, "2021-03-01")]


def test_worsened_without_a_date_is_reported_not_guessed() -> None:
    primary = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": RMS_MORPHOLOGY}
    plan = _plan("completed", "2020-01-01", "2020-12-31")
    result = case_from_bundle(bundle(PATIENT, primary, plan, _worsened(None)))
    assert result.case.events == []
    assert any("without a date" in u.reason for u in result.unmapped)


def test_an_entered_in_error_fusion_result_is_not_used() -> None:
    primary = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": RMS_MORPHOLOGY}
    wrong = copy.deepcopy(_fusion("f2", c.HGNC, False))
    wrong["status"] = "entered-in-error"
    result = case_from_bundle(bundle(PATIENT, primary, _fusion("f1", c.HGNC, True), wrong))
    assert result.case.diagnosis.foxo1_fusion is FusionStatus.PAX3_FOXO1
    assert ("Observation/f2", "not used: status is entered-in-error") in {
        (s.resource, s.reason) for s in result.skipped
    }


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        (coding(c.ICD10CM, "C91.00"), "another cancer"),
        (coding(c.SNOMED, "999999999"), "not stated"),  # a SNOMED code we cannot read
        (coding(c.ICD10CM, "C49.2"), "not stated"),  # a site without a morphology
        ({"text": "Embryonal rhabdomyosarcoma"}, "rhabdomyosarcoma"),
        (RMS_MORPHOLOGY, "rhabdomyosarcoma"),
    ],
    ids=["icd10-leukaemia", "unknown-snomed", "icd10-site-only", "text", "icd-o-3"],
)
def test_the_gate_never_reads_an_unknown_code_as_another_cancer(
    code: dict[str, Any], verdict: str
) -> None:
    from rhabdo.interop.fhir_diagnosis import judge

    condition = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "code": code}
    assert judge(condition).verdict == verdict


def test_a_non_rms_refusal_is_not_reported_as_an_invalid_bundle() -> None:
    from rhabdo.errors import NotRhabdomyosarcoma

    condition = {
        "resourceType": "Condition",
        "id": "dx",
        "subject": SUBJECT,
        "code": coding(c.ICD10CM, "C91.00"),
    }
    with pytest.raises(NotRhabdomyosarcoma) as info:
        case_from_bundle(bundle(PATIENT, condition))
    text = str(info.value)
    assert text.startswith("no rhabdomyosarcoma diagnosis in this record: the primary cancer")
    assert "\n" not in text and "invalid" not in text
    assert "Condition/dx.code" in text
    assert [p.field for p in info.value.problems] == ["Condition/dx.code"]
