"""Importing FHIR R4 / mCODE STU4 bundles into cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir_helpers import (
    EXAMPLES_DIR,
    FIXTURES,
    PATIENT,
    RMS_MORPHOLOGY,
    SUBJECT,
    SYNTHETIC,
    as_rms,
    bundle,
    coding,
    load_fixture,
    observation,
)

from rhabdo.case.io import load_case
from rhabdo.case.vocab import (
    ChemotherapyAgent,
    DoseUnit,
    EventKind,
    FusionStatus,
    IRSGroup,
    MetastaticSite,
    MutationStatus,
)
from rhabdo.errors import CaseValidationError
from rhabdo.interop import codes as c
from rhabdo.interop.fhir_import import case_from_bundle, mapped_view

NON_RMS_FIXTURES = {
    "mcode-basic-john-anyperson": "Non-small cell",
    "mcode-extended-example-pediatric-brian-l": "B-cell acute lymphoblastic leukemia",
    "mcode-tumor-size-breast": "morphology",
}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_is_a_valid_r4_bundle_and_imports(path: Path) -> None:
    data = load_fixture(path.name)
    Bundle.parse_obj(data)
    if path.stem in NON_RMS_FIXTURES:
        data = as_rms(data)
    result = case_from_bundle(data)
    assert result.case.patient.id
    assert result.provenance, "every import records where its fields came from"


@pytest.mark.parametrize("path", SYNTHETIC, ids=lambda p: p.stem)
def test_synthetic_bundles_import_as_their_example_case(path: Path) -> None:
    """Each synthetic EHR-style bundle equals its example case for every mapped field."""
    example = load_case(EXAMPLES_DIR / (path.stem.removeprefix("synthetic-") + ".yaml"))
    result = case_from_bundle(load_fixture(path.name))
    assert mapped_view(result.case) == mapped_view(example)
    assert result.unmapped == []


@pytest.mark.parametrize("name,found", sorted(NON_RMS_FIXTURES.items()))
def test_a_non_rms_primary_is_refused_naming_the_diagnosis(name: str, found: str) -> None:
    text = _problems(load_fixture(name + ".json"))
    assert found in text and "rhabdo assesses rhabdomyosarcoma only" in text


def test_synthetic_bundles_cover_at_least_three_examples() -> None:
    assert len(SYNTHETIC) >= 3


# --- the mCODE STU4 examples ---------------------------------------------------------


def test_irs_clinical_group_ia_example() -> None:
    """EX_Staging_Other.fsh: 405916000 with value 405957007 is IRS group IA."""
    result = case_from_bundle(load_fixture("mcode-rhabdomyosarcoma-clinical-group-stage-IA.json"))
    assert result.case.diagnosis.irs_group_stated is IRSGroup.IA
    assert result.sources_of("diagnosis.irs_group_stated") == [
        "Observation/rhabdomyosarcoma-clinical-group-stage-IA"
    ]
    assert result.case.diagnosis.distant_metastases is None  # unknown, not "none"


def test_pediatric_bsa_dosed_example_counts_administrations_not_requests() -> None:
    """EX_ExtendedExample_Pediatric.fsh: four requests, each fulfilled by one administration."""
    result = case_from_bundle(as_rms(load_fixture("mcode-extended-example-pediatric-brian-l.json")))
    line = result.case.first_line
    assert line is not None
    given = {
        (e.agent, e.agent_name, e.dose_per_administration, e.dose_unit, e.administrations)
        for e in line.chemotherapy
    }
    assert given == {
        (ChemotherapyAgent.CYCLOPHOSPHAMIDE, None, 105.96, DoseUnit.MG, 1),
        (ChemotherapyAgent.IDARUBICIN, None, 5.4, DoseUnit.MG, 1),
        (ChemotherapyAgent.VINCRISTINE, None, 2.0, DoseUnit.MG, 1),
        (ChemotherapyAgent.OTHER, "predniSONE", 36.01, DoseUnit.MG, 1),
    }
    skipped = {s.resource: s.reason for s in result.skipped}
    assert (
        "fulfilled"
        in skipped["MedicationRequest/cancer-related-medication-request-cyclophosphamide-brian-l"]
    )
    assert (
        "not a relapse or progression"
        in skipped["Observation/cancer-disease-status-improved-brian-l"]
    )
    unmapped = {(u.resource, u.code) for u in result.unmapped}
    assert (
        "MedicationAdministration/cancer-related-medication-admin-prednisone-brian-l",
        "8640",
    ) in unmapped
    assert ("Observation/gx-genomic-variant-fusion-ETV6-RUNX1-brian-l", "HGNC:3495") in unmapped
    assert ("Procedure/us-core-procedure-lumbar-puncture-brian-l", "277762005") in unmapped
    assert ("Observation/hemoglobin-brian-l", "718-7") in unmapped
    assert result.case.events == []


def test_radiotherapy_course_summary_example_gives_one_course_per_volume_in_gray() -> None:
    """EX_Radiotherapy.fsh: 6000 cGy / 30 and 5000 cGy / 25 fractions."""
    result = case_from_bundle(load_fixture("mcode-radiotherapy-course-summary.json"))
    line = result.case.first_line
    assert line is not None
    assert [(rt.total_dose_gy, rt.fractions) for rt in line.radiotherapy] == [
        (60.0, 30),
        (50.0, 25),
    ]
    assert {str(rt.start_date) for rt in line.radiotherapy} == {"2018-08-15"}
    reasons = {(u.element, u.code) for u in result.unmapped}
    assert ("reasonCode", "C50.811") in reasons
    assert ("bodySite", "78904004") in reasons


def test_tumour_size_after_diagnosis_without_a_relapse_is_reported_not_guessed() -> None:
    """EX_TumorSize.fsh: a pathology size a month after onset is neither diagnostic nor relapse."""
    result = case_from_bundle(as_rms(load_fixture("mcode-tumor-size-breast.json")))
    assert result.case.diagnosis.max_diameter_cm is None
    assert any(u.resource == "Observation/tumor-size-pathology" for u in result.unmapped)
    assert {u.code for u in result.unmapped} >= {"80248007"}


def test_basic_example_reads_am0_and_reports_ajcc_t_and_n() -> None:
    """EX_Basic.fsh: cM0 -> no distant metastases; AJCC cT3/cN3 are not IRS T/N categories."""
    result = case_from_bundle(as_rms(load_fixture("mcode-basic-john-anyperson.json")))
    dx = result.case.diagnosis
    assert dx.distant_metastases == []
    assert dx.invasiveness is None and dx.regional_nodes is None
    codes = {u.code for u in result.unmapped}
    assert {"1228938002", "1229984001", "HGNC:1014", "94225005", "399537006"} <= codes
    line = result.case.first_line
    assert line is not None and len(line.surgeries) == 1


# --- mapping details -------------------------------------------------------------------


def _primary(**rest: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "dx",
        "meta": {"profile": [c.PROFILE_PRIMARY]},
        "subject": SUBJECT,
        "code": RMS_MORPHOLOGY,
        "onsetDateTime": "2020-01-10",
        **rest,
    }


def test_a_patient_alone_gives_a_case_where_everything_is_unknown() -> None:
    case = case_from_bundle(bundle(PATIENT)).case
    dx = case.diagnosis
    assert dx.primary_site is None and dx.histology is None and dx.foxo1_fusion is None
    assert dx.distant_metastases is None
    assert case.first_line is None and case.events == []


def test_patient_identifier_in_the_rhabdo_system_is_preferred() -> None:
    patient = {**PATIENT, "identifier": [{"system": c.PATIENT_ID_SYSTEM, "value": "CASE_42"}]}
    assert case_from_bundle(bundle(patient)).case.patient.id == "CASE_42"


@pytest.mark.parametrize(
    ("gender", "sex"),
    [("male", "male"), ("female", "female"), ("other", "other"), ("unknown", None)],
)
def test_gender(gender: str, sex: str | None) -> None:
    case = case_from_bundle(bundle({**PATIENT, "gender": gender})).case
    assert (case.patient.sex.value if case.patient.sex else None) == sex


@pytest.mark.parametrize(
    ("snomed", "site"),
    [
        ("363654007", "orbit"),
        ("71836000", "parameningeal"),
        ("89837001", "bladder"),
        ("41216001", "prostate"),
    ],
)
def test_primary_site_from_snomed_body_site(snomed: str, site: str) -> None:
    cond = _primary(bodySite=[coding(c.SNOMED, snomed)])
    # a prostate primary in a female patient is refused (issue 14): the boy's record here
    patient = {**PATIENT, "gender": "male"} if site == "prostate" else PATIENT
    case = case_from_bundle(bundle(patient, cond)).case
    assert case.diagnosis.primary_site is not None and case.diagnosis.primary_site.value == site


def test_histology_from_icdo3_without_a_slash() -> None:
    cond = _primary(
        extension=[{"url": c.EXT_HISTOLOGY, "valueCodeableConcept": coding(c.ICDO3, "89203")}]
    )
    case = case_from_bundle(bundle(PATIENT, cond)).case
    assert case.diagnosis.histology is not None and case.diagnosis.histology.value == "alveolar"


def _variant(
    rid: str, genes: list[str], value: str | None, source: str | None = None, **rest: Any
) -> dict[str, Any]:
    comps = [
        {"code": coding(c.LOINC, "48018-6"), "valueCodeableConcept": coding(c.HGNC, g)}
        for g in genes
    ]
    if source:
        comps.append(
            {"code": coding(c.LOINC, "48002-0"), "valueCodeableConcept": coding(c.LOINC, source)}
        )
    extra = {"valueCodeableConcept": coding(c.LOINC, value)} if value else {}
    return observation(rid, coding(c.LOINC, "69548-6"), component=comps, **extra, **rest)


@pytest.mark.parametrize(
    ("genes", "value", "fusion"),
    [
        (["HGNC:8617", "HGNC:3819"], "LA9633-4", FusionStatus.PAX3_FOXO1),
        (["HGNC:8621", "HGNC:3819"], "LA9633-4", FusionStatus.PAX7_FOXO1),
        (["HGNC:1234", "HGNC:3819"], "LA9633-4", FusionStatus.OTHER_FOXO1),
        (["HGNC:3819"], "LA9634-2", FusionStatus.NEGATIVE),
    ],
)
def test_foxo1_fusion(genes: list[str], value: str, fusion: FusionStatus) -> None:
    case = case_from_bundle(bundle(PATIENT, _variant("v", genes, value, "LA6684-0"))).case
    assert case.diagnosis.foxo1_fusion is fusion


def test_foxo1_not_performed_is_not_tested() -> None:
    obs = _variant(
        "v", ["HGNC:3819"], None, dataAbsentReason=coding(c.DATA_ABSENT_REASON, "not-performed")
    )
    assert (
        case_from_bundle(bundle(PATIENT, obs)).case.diagnosis.foxo1_fusion
        is FusionStatus.NOT_TESTED
    )


def test_foxo1_present_without_a_partner_is_reported_not_guessed() -> None:
    result = case_from_bundle(bundle(PATIENT, _variant("v", ["HGNC:3819"], "LA9633-4")))
    assert result.case.diagnosis.foxo1_fusion is None
    assert [u.resource for u in result.unmapped] == ["Observation/v"]


@pytest.mark.parametrize(
    ("source", "value", "field", "status"),
    [
        ("LA6684-0", "LA9633-4", "tp53", MutationStatus.MUTATED),
        ("LA6684-0", "LA9634-2", "tp53", MutationStatus.WILD_TYPE),
        ("LA6683-2", "LA9633-4", "tp53_germline", MutationStatus.MUTATED),
        ("LA6683-2", "LA9634-2", "tp53_germline", MutationStatus.WILD_TYPE),
    ],
)
def test_tp53_somatic_and_germline(
    source: str, value: str, field: str, status: MutationStatus
) -> None:
    case = case_from_bundle(bundle(PATIENT, _variant("v", ["HGNC:11998"], value, source))).case
    assert getattr(case.diagnosis, field) is status


def test_tp53_without_a_source_class_is_reported() -> None:
    result = case_from_bundle(bundle(PATIENT, _variant("v", ["HGNC:11998"], "LA9633-4")))
    assert result.case.diagnosis.tp53 is None and result.case.diagnosis.tp53_germline is None
    assert result.unmapped and result.unmapped[0].resource == "Observation/v"


def test_myod1_variant() -> None:
    case = case_from_bundle(
        bundle(PATIENT, _variant("v", ["HGNC:7611"], "LA9633-4", "LA6684-0"))
    ).case
    assert case.diagnosis.myod1 is MutationStatus.MUTATED


def _size(rid: str, value: float, unit: str, date: str, **rest: Any) -> dict[str, Any]:
    return observation(
        rid,
        coding(c.LOINC, "21889-1"),
        effectiveDateTime=date,
        component=[
            {
                "code": coding(c.LOINC, "33728-7"),
                "valueQuantity": {"value": value, "unit": unit, "system": c.UCUM, "code": unit},
            }
        ],
        **rest,
    )


@pytest.mark.parametrize(
    ("value", "unit", "cm"), [(62, "mm", 6.2), (6.2, "cm", 6.2), (50, "mm", 5.0)]
)
def test_tumour_size_units(value: float, unit: str, cm: float) -> None:
    case = case_from_bundle(bundle(PATIENT, _primary(), _size("s", value, unit, "2020-01-10"))).case
    assert case.diagnosis.max_diameter_cm == pytest.approx(cm)


def _status(rid: str, date: str, kind: str | None, **rest: Any) -> dict[str, Any]:
    codings = [{"system": c.SNOMED, "code": "271299001"}]
    if kind:
        codings.append({"system": EventKind.code_system(), "code": kind})
    return observation(
        rid,
        coding(c.LOINC, "97509-4"),
        effectiveDateTime=date,
        valueCodeableConcept={"coding": codings},
        **rest,
    )


def test_worsening_without_relapse_or_progression_is_reported() -> None:
    result = case_from_bundle(bundle(PATIENT, _primary(), _status("st", "2021-01-01", None)))
    assert result.case.events == []
    assert result.unmapped[0].code == "271299001"


def test_secondary_condition_on_a_relapse_date_becomes_a_distant_site_of_that_event() -> None:
    secondary = {
        "resourceType": "Condition",
        "id": "met",
        "meta": {"profile": [c.PROFILE_SECONDARY]},
        "subject": SUBJECT,
        "code": coding(c.ICD10CM, "C78.7"),
        "onsetDateTime": "2021-03-01",
    }
    result = case_from_bundle(
        bundle(PATIENT, _primary(), _status("st", "2021-03-01", "relapse"), secondary)
    )
    event = result.case.events[0]
    assert event.kind is EventKind.RELAPSE
    assert event.sites is not None and event.sites[0].metastatic_site is MetastaticSite.LIVER
    assert result.case.diagnosis.distant_metastases is None
    assert result.sources_of("events[0].sites") == ["Condition/met"]


def test_events_are_ordered_by_date() -> None:
    result = case_from_bundle(
        bundle(
            PATIENT,
            _primary(),
            _status("late", "2022-05-01", "progression"),
            _status("early", "2021-03-01", "relapse"),
        )
    )
    assert [e.kind for e in result.case.events] == [EventKind.RELAPSE, EventKind.PROGRESSION]
    assert result.sources_of("events[0]") == ["Observation/early"]


def test_treatment_after_a_relapse_goes_to_a_later_line_by_date() -> None:
    def admin(rid: str, date: str) -> dict[str, Any]:
        return {
            "resourceType": "MedicationAdministration",
            "id": rid,
            "status": "completed",
            "medicationCodeableConcept": coding(c.RXNORM, "11202"),
            "subject": SUBJECT,
            "effectiveDateTime": date,
            "dosage": {"dose": {"value": 1.5, "unit": "mg/m2", "system": c.UCUM, "code": "mg/m2"}},
        }

    result = case_from_bundle(
        bundle(
            PATIENT,
            _primary(),
            _status("st", "2021-03-01", "relapse"),
            admin("a1", "2020-02-01"),
            admin("a2", "2020-02-08"),
            admin("a3", "2021-04-01"),
        )
    )
    case = result.case
    assert case.first_line is not None and case.first_line.chemotherapy[0].administrations == 2
    assert case.later_lines[0].chemotherapy[0].administrations == 1


# --- malformed bundles -------------------------------------------------------------------


def _problems(data: Any) -> str:
    with pytest.raises(CaseValidationError) as info:
        case_from_bundle(data)
    return str(info.value)


def test_not_a_bundle() -> None:
    assert "resourceType: expected 'Bundle', got 'Patient'" in _problems(PATIENT)
    assert "must be a JSON object" in _problems([PATIENT])


def test_unknown_resource_type_names_the_entry() -> None:
    text = _problems(bundle(PATIENT, {"resourceType": "Banana", "id": "b"}))
    assert "entry[1].resource.resourceType" in text and "Banana" in text
    assert "unknown FHIR R4 resource type" in text


def test_invalid_resource_names_the_resource_and_the_field() -> None:
    text = _problems(
        bundle(PATIENT, {"resourceType": "Observation", "id": "o1", "code": {"text": "x"}})
    )
    assert "entry[1] (Observation/o1).status" in text


def test_broken_subject_reference() -> None:
    obs = observation("o1", coding(c.LOINC, "21889-1"), subject={"reference": "Patient/nobody"})
    text = _problems(bundle(PATIENT, obs))
    assert "Observation/o1.subject" in text and "resolves to no resource" in text
    assert "nobody" not in text  # a patient's id is never shown


def test_broken_request_reference() -> None:
    admin = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "completed",
        "medicationCodeableConcept": coding(c.RXNORM, "11202"),
        "subject": SUBJECT,
        "effectiveDateTime": "2020-02-01",
        "request": {"reference": "MedicationRequest/gone"},
    }
    assert "MedicationAdministration/a1.request" in _problems(bundle(PATIENT, admin))


def test_broken_focus_reference() -> None:
    size = _size("s", 4, "cm", "2020-01-10", focus=[{"reference": "Condition/missing"}])
    assert "Observation/s.focus[0]" in _problems(bundle(PATIENT, _primary(), size))


@pytest.mark.parametrize("count", [0, 2])
def test_exactly_one_patient(count: int) -> None:
    patients = [{**PATIENT, "id": f"p{k + 1}"} for k in range(count)]
    assert "exactly one Patient" in _problems(bundle(*patients))


def test_unknown_tumour_size_unit() -> None:
    text = _problems(bundle(PATIENT, _primary(), _size("s", 4, "[in_i]", "2020-01-10")))
    assert "Observation/s.valueQuantity.unit" in text and "'[in_i]'" in text


def test_unknown_dose_unit() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": coding(c.RXNORM, "3002"),
        "subject": SUBJECT,
        "authoredOn": "2020-02-01",
        "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablets"}}]}],
    }
    assert "unknown dose unit 'tablets'" in _problems(bundle(PATIENT, request))


def test_unknown_radiation_dose_unit() -> None:
    rt = {
        "resourceType": "Procedure",
        "id": "rt",
        "status": "completed",
        "code": coding(c.SNOMED, "1217123003"),
        "subject": SUBJECT,
        "extension": [
            {
                "url": c.EXT_RT_DOSE_TO_VOLUME,
                "extension": [
                    {"url": "totalDoseDelivered", "valueQuantity": {"value": 5, "unit": "rad"}}
                ],
            }
        ],
    }
    assert "unknown radiation dose unit 'rad'" in _problems(bundle(PATIENT, rt))


def test_m0_contradicted_by_metastases_at_diagnosis() -> None:
    m0 = observation(
        "m", coding(c.LOINC, "21907-1"), valueCodeableConcept=coding(c.SNOMED, "1229901006")
    )
    met = {
        "resourceType": "Condition",
        "id": "met",
        "meta": {"profile": [c.PROFILE_SECONDARY]},
        "subject": SUBJECT,
        "code": coding(c.ICD10CM, "C78.0"),
    }
    assert "M0 stated" in _problems(bundle(PATIENT, m0, met))


def test_errors_never_show_the_birth_date() -> None:
    text = _problems(bundle(PATIENT, {"resourceType": "Observation", "id": "o1"}))
    assert "2015-06-01" not in text


@pytest.mark.parametrize(
    ("code", "scale"),
    [(coding(c.LOINC, "89243-0"), "karnofsky"), (coding(c.NCIT, "C38144"), "lansky")],
)
def test_latest_performance_status_is_read(code: dict[str, Any], scale: str) -> None:
    early = observation("ps1", code, effectiveDateTime="2021-01-01", valueInteger=50)
    late = observation("ps2", code, effectiveDateTime="2021-06-01", valueInteger=80)
    result = case_from_bundle(bundle(PATIENT, late, early))
    performance = result.case.current.performance if result.case.current else None
    assert performance is not None
    assert (performance.scale.value, performance.score) == (scale, 80)
    assert [s.resource for s in result.skipped] == ["Observation/ps1"]


def test_a_performance_score_off_the_scale_is_an_error() -> None:
    obs = observation("ps", coding(c.LOINC, "89243-0"), valueInteger=85)
    assert "Observation/ps.valueInteger" in _problems(bundle(PATIENT, obs))


@pytest.mark.parametrize(
    ("code", "value", "unit", "field", "expected"),
    [
        ("8277-6", 1.1, "m2", "body_surface_area_m2", 1.1),
        ("29463-7", 31.5, "kg", "weight_kg", 31.5),
        ("29463-7", 31500, "g", "weight_kg", 31.5),
    ],
)
def test_body_measurements_go_to_the_line(
    code: str, value: float, unit: str, field: str, expected: float
) -> None:
    obs = observation(
        "m",
        coding(c.LOINC, code),
        effectiveDateTime="2020-02-01",
        valueQuantity={"value": value, "unit": unit, "system": c.UCUM, "code": unit},
    )
    line = case_from_bundle(bundle(PATIENT, _primary(), obs)).case.first_line
    assert line is not None and getattr(line, field) == pytest.approx(expected)


@pytest.mark.parametrize(
    "code,unit,value,expected",
    [
        ("29463-7", "[lb_av]", 154, 69.853225),
        ("29463-7", "g", 70000, 70.0),
        ("8277-6", "m^2", 1.2, 1.2),
        ("8277-6", "cm2", 12000, 1.2),
    ],
)
def test_a_body_measurement_is_converted_by_ucum(
    code: str, unit: str, value: float, expected: float
) -> None:
    plan = {
        "resourceType": "CarePlan",
        "id": "l1",
        "status": "completed",
        "intent": "plan",
        "subject": SUBJECT,
        "period": {"start": "2020-01-01"},
    }
    obs = observation(
        "m",
        coding(c.LOINC, code),
        valueQuantity={"value": value, "unit": unit, "system": c.UCUM, "code": unit},
        effectiveDateTime="2020-01-01",
        basedOn=[{"reference": "CarePlan/l1"}],
    )
    case = case_from_bundle(bundle(PATIENT, plan, obs)).case
    assert case.first_line is not None
    measured = (
        case.first_line.weight_kg if code == "29463-7" else (case.first_line.body_surface_area_m2)
    )
    assert measured == pytest.approx(expected)


def test_a_body_measurement_in_a_unit_that_does_not_convert_is_noted_not_fatal() -> None:
    obs = observation("m", coding(c.LOINC, "29463-7"), valueQuantity={"value": 70, "unit": "cm"})
    result = case_from_bundle(bundle(PATIENT, obs))
    assert any("'cm' does not convert to kg" in u.reason for u in result.unmapped)


@pytest.mark.parametrize(
    "resource,reason",
    [
        ({"resourceType": "Observation", "status": "entered-in-error"}, "entered-in-error"),
        ({"resourceType": "Observation", "status": "cancelled"}, "cancelled"),
        (
            {
                "resourceType": "Condition",
                "verificationStatus": coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted"
                ),
            },
            "refuted",
        ),
        (
            {
                "resourceType": "Condition",
                "verificationStatus": coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "entered-in-error",
                ),
            },
            "entered-in-error",
        ),
        ({"resourceType": "MedicationRequest", "status": "cancelled"}, "cancelled"),
        ({"resourceType": "Procedure", "status": "entered-in-error"}, "entered-in-error"),
    ],
)
def test_withdrawn_records_are_not_used_and_the_import_says_so(
    resource: dict[str, Any], reason: str
) -> None:
    res = {"id": "w1", "subject": SUBJECT, "code": {"text": "x"}, **resource}
    result = case_from_bundle(bundle(PATIENT, res))
    assert [s.reason for s in result.skipped if s.resource.endswith("/w1")] == [
        f"not used: {'verification ' if resource['resourceType'] == 'Condition' else ''}"
        f"status is {reason}"
    ]


def test_an_r4_only_resource_type_is_skipped_with_a_note_not_fatal() -> None:
    r4_only = {"resourceType": "EffectEvidenceSynthesis", "id": "e1", "status": "draft"}
    result = case_from_bundle(bundle(PATIENT, r4_only))
    assert [(s.resource, s.reason) for s in result.skipped] == [
        ("EffectEvidenceSynthesis/e1", "EffectEvidenceSynthesis resources are not read")
    ]


def test_the_report_is_plain_data() -> None:
    result = case_from_bundle(as_rms(load_fixture("mcode-tumor-size-breast.json")))
    report = result.report()
    assert {
        "field": "diagnosis.date",
        "resource": "Condition/primary-cancer-condition-breast",
    } in report["provenance"]
    assert any(u["code"] == "80248007" for u in report["unmapped"])
    assert report["skipped"] == []


def test_a_partial_onset_date_is_reported_not_rounded() -> None:
    result = case_from_bundle(bundle(PATIENT, _primary(onsetDateTime="2020-01")))
    assert result.case.diagnosis.date is None
    assert ("Condition/dx", "onsetDateTime") in {(u.resource, u.element) for u in result.unmapped}


def test_errors_never_show_the_patient_id() -> None:
    text = _problems(bundle({"resourceType": "Patient", "id": "MRN-0042", "birthDate": "soon"}))
    assert "entry[0] (Patient).birthDate" in text
    assert "MRN-0042" not in text
