"""Write a case, and an assessment of it, as a FHIR R4 Bundle of mCODE (STU4) resources.

``case_to_bundle(case)`` writes the case as the same resources ``fhir_import`` reads, so that
case -> FHIR -> case keeps every field the mapping covers.  ``assessment_to_bundle(case,
assessment)`` adds the assessment:

* each Finding as an Observation (code = the finding id in rhabdo's finding code system,
  method = the rule, value or data-absent reason, candidates/needs as components, reason as
  a note, citations as references in an extension);
* prognostic findings (Oberlin score, relapse models) as RiskAssessment resources;
* the recommendations as a RequestGroup (one action per recommendation, citations as
  RelatedArtifacts resolved with ``rhabdo.knowledge.resolve``), reached from a
  GuidanceResponse that also carries the evidence gaps and missing inputs as notes.

Every resource references the patient.  References are ``urn:uuid:`` full URLs derived
deterministically from the patient id and a local key, so the same case always gives the
same bundle.  The bundle is validated with the ``fhir.resources`` R4B models before it is
returned.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from rhabdo.case.model import (
    Case,
    ChemotherapyExposure,
    DiseaseEvent,
    RadiotherapyCourse,
    Surgery,
    TreatmentLine,
)
from rhabdo.case.vocab import (
    FusionStatus,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PerformanceScale,
)
from rhabdo.interop import codes as c
from rhabdo.interop import fhir_casefields as casefields
from rhabdo.interop.extensions import EXT_CITATION
from rhabdo.interop.fhir_diagnosis import RMS_CODING
from rhabdo.interop.fhir_import import MAPPED_FIELDS
from rhabdo.knowledge import resolve
from rhabdo.results import Assessment, Finding, FindingStatus, Recommendation

_NAMESPACE = uuid.UUID("6f1c3c52-8a53-4a8e-9a8e-2f7f1b3f7a10")
STRENGTH_SYSTEM = c.RHABDO_BASE + "CodeSystem/recommendation-strength"
ENGINE_MODULE_URI = c.RHABDO_BASE + "engine"

#: The finding written as an mCODE RhabdomyosarcomaRiskAssessment (the COG risk group).
COG_RISK_FINDING = "risk.cog"
#: Findings whose value is a prognostic figure or score: written as RiskAssessment.
PROGNOSTIC_MARKERS = ("oberlin", "prognos", "survival")


class _Writer:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.entries: list[dict[str, Any]] = []
        self.patient_ref = self.ref("patient")
        self.carried = casefields.Carried()

    def url(self, key: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, f"{self.case.patient.id}/{key}"))

    def ref(self, key: str) -> dict[str, str]:
        return {"reference": self.url(key)}

    def add(self, key: str, resource: dict[str, Any]) -> dict[str, str]:
        resource = {"resourceType": resource.pop("resourceType"), "id": _fhir_id(key), **resource}
        self.entries.append({"fullUrl": self.url(key), "resource": resource})
        return self.ref(key)

    def bundle(self) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "id": _fhir_id("bundle-" + str(uuid.uuid5(_NAMESPACE, self.case.patient.id))),
            "type": "collection",
            "entry": self.entries,
        }


def _fhir_id(key: str) -> str:
    """A FHIR id ([A-Za-z0-9.-], at most 64 characters) for a local key."""
    cleaned = "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in key)
    return cleaned[:64]


def _concept(*codings: dict[str, str] | None, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    present = [cd for cd in codings if cd]
    if present:
        out["coding"] = present
    if text:
        out["text"] = text
    return out


def _absent(reason: str) -> dict[str, str]:
    """The core data-absent-reason extension."""
    return {"url": c.EXT_DATA_ABSENT_REASON, "valueCode": reason}


def _meta(profile: str) -> dict[str, Any]:
    return {"profile": [profile]}


_IRS_TNM_METHOD = {
    "system": c.STAGING_METHOD_SYSTEM,
    "code": "irs-pretreatment-tnm",
    "display": "IRS/COG pretreatment TNM staging of rhabdomyosarcoma",
}


def _category(code: str) -> dict[str, Any]:
    return _concept({"system": c.OBSERVATION_CATEGORY, "code": code})


def _quantity(value: float, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": ucum, "system": c.UCUM, "code": ucum}


# --- case -> resources -------------------------------------------------------------------


def case_to_bundle(case: Case) -> dict[str, Any]:
    """The case as a FHIR R4 collection Bundle of mCODE resources (validated)."""
    w = _Writer(case)
    _write_case(w)
    return _validated(w.bundle())


def _write_case(w: _Writer) -> None:
    case = w.case
    p = case.patient
    w.carried = casefields.carried(case.model_dump(mode="json", exclude_none=True), MAPPED_FIELDS)
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": _meta(c.PROFILE_PATIENT),
        "identifier": [{"system": c.PATIENT_ID_SYSTEM, "value": p.id}],
        # rhabdo never holds names: US Core asks for a name, so it is marked as withheld
        "name": [{"extension": [_absent("masked")]}],
        # US Core asks for a gender; an unrecorded sex is written as "unknown" (read back as
        # unrecorded, never as a sex)
        "gender": p.sex.value if p.sex is not None else "unknown",
    }
    if w.carried.patient:
        patient["extension"] = [casefields.extension(k, v) for k, v in w.carried.patient]
    if p.date_of_birth is not None:
        patient["birthDate"] = p.date_of_birth.isoformat()
    w.add("patient", patient)

    dx = case.diagnosis
    primary_ref = _write_primary(w)
    dx_date = dx.date.isoformat() if dx.date else None

    def observation(key: str, code: dict[str, Any], profile: str, **extra: Any) -> dict[str, str]:
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "meta": _meta(profile),
            "status": "final",
            "code": code,
            "subject": w.patient_ref,
        }
        if primary_ref is not None:
            res["focus"] = [primary_ref]
        if dx_date:
            res["effectiveDateTime"] = dx_date
        res.update(extra)
        return w.add(key, res)

    if dx.irs_group_stated is not None:
        snomed = c.IRS_GROUP_SNOMED.get(dx.irs_group_stated)
        observation(
            "irs-group",
            _concept(c.IRS_GROUP_OBSERVABLE.coding()),
            c.PROFILE_CANCER_STAGE,
            category=[_category("exam")],
            valueCodeableConcept=_concept(
                c.own_coding(dx.irs_group_stated), snomed.coding() if snomed else None
            ),
        )
    staging = {"category": [_category("exam")], "method": _concept(_IRS_TNM_METHOD)}
    if dx.invasiveness is not None:
        observation(
            "tnm-t",
            _concept(c.TNM_T_CLINICAL.coding()),
            c.PROFILE_TNM_T,
            valueCodeableConcept=_concept(c.own_coding(dx.invasiveness)),
            **staging,
        )
    if dx.regional_nodes is not None:
        observation(
            "tnm-n",
            _concept(c.TNM_N_CLINICAL.coding()),
            c.PROFILE_TNM_N,
            valueCodeableConcept=_concept(
                c.own_coding(dx.regional_nodes),
                c.AJCC_CN0.coding() if dx.regional_nodes is NodalStatus.N0 else None,
            ),
            **staging,
        )
    if dx.distant_metastases is not None:
        m = "M1" if dx.distant_metastases else "M0"
        observation(
            "tnm-m",
            _concept(c.TNM_M_CLINICAL.coding()),
            c.PROFILE_TNM_M,
            **staging,
            valueCodeableConcept=_concept(
                {"system": c.M_CATEGORY_SYSTEM, "code": m, "display": m},
                c.AJCC_CM0.coding() if m == "M0" else None,
            ),
        )
        for site in dx.distant_metastases:
            _write_secondary(w, f"metastasis-{site.value}", site, dx_date, primary_ref)
    if dx.max_diameter_cm is not None:
        observation(
            "tumour-size",
            _concept(c.TUMOR_SIZE.coding()),
            c.PROFILE_TUMOR_SIZE,
            focus=[_write_tumour(w, "tumour-primary", w.url("primary-cancer"), primary_ref)],
            component=[
                {
                    "code": _concept(c.TUMOR_LONGEST_DIMENSION.coding()),
                    "valueQuantity": _quantity(dx.max_diameter_cm, "cm"),
                }
            ],
        )
    _write_genomics(w, observation)
    _write_lines(w)
    _write_events(w, primary_ref)
    _write_performance(w)


def _write_tumour(
    w: _Writer, key: str, belongs_to: str, primary_ref: dict[str, str] | None
) -> dict[str, str]:
    """An mCODE Tumor BodyStructure for a measured lesion.

    Its identifier's value is the full URL of the record the lesion belongs to (the primary
    Condition, or the disease-status Observation of a relapse), so a reader can tell which
    size is which without relying on dates.
    """
    dx = w.case.diagnosis
    snomed = c.PRIMARY_SITE_TO_SNOMED.get(dx.primary_site) if dx.primary_site else None
    body: dict[str, Any] = {
        "resourceType": "BodyStructure",
        "meta": _meta(c.PROFILE_TUMOR),
        "identifier": [
            {
                "use": "usual",
                "type": _concept(
                    {"system": "http://hl7.org/fhir/resource-types", "code": "BodyStructure"}
                ),
                "system": c.TUMOUR_IDENTIFIER_SYSTEM,
                "value": belongs_to,
            }
        ],
        "location": _concept(
            snomed.coding() if snomed else None,
            text=dx.primary_site_detail
            or (dx.primary_site.label if dx.primary_site else None)
            or "tumour site",
        ),
        "patient": w.patient_ref,
    }
    if primary_ref is not None:
        body["extension"] = [{"url": c.EXT_RELATED_CONDITION, "valueReference": primary_ref}]
    return w.add(key, body)


def _write_performance(w: _Writer) -> None:
    current = w.case.current
    if current is None or current.performance is None:
        return
    karnofsky = current.performance.scale is PerformanceScale.KARNOFSKY
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": _meta(c.PROFILE_KARNOFSKY if karnofsky else c.PROFILE_LANSKY),
        "status": "final",
        "category": [_concept({"system": c.OBSERVATION_CATEGORY, "code": "survey"})],
        "code": _concept((c.KARNOFSKY if karnofsky else c.LANSKY).coding()),
        "subject": w.patient_ref,
        "valueInteger": current.performance.score,
    }
    if current.assessed_on is not None:
        obs["effectiveDateTime"] = current.assessed_on.isoformat()
    w.add("performance-status", obs)


def _write_secondary(
    w: _Writer,
    key: str,
    site: MetastaticSite,
    onset: str | None,
    primary_ref: dict[str, str] | None,
) -> None:
    icd = c.METASTATIC_SITE_TO_ICD10CM.get(site)
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "meta": _meta(c.PROFILE_SECONDARY),
        "category": [_concept({"system": c.CONDITION_CATEGORY, "code": "problem-list-item"})],
        "code": _concept(
            c.own_coding(site), icd.coding() if icd else None, c.METASTATIC_NEOPLASM.coding()
        ),
        "subject": w.patient_ref,
    }
    if onset:
        condition["onsetDateTime"] = onset
    if primary_ref is not None:
        condition["extension"] = [{"url": c.EXT_CONDITION_RELATED, "valueReference": primary_ref}]
    w.add(key, condition)


def _write_primary(w: _Writer) -> dict[str, str]:
    """The primary cancer Condition: always written, since a rhabdo case is a
    rhabdomyosarcoma case and an importer must not have to assume it."""
    dx = w.case.diagnosis
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "meta": _meta(c.PROFILE_PRIMARY),
        "clinicalStatus": _concept({"system": c.CONDITION_CLINICAL, "code": "active"}),
        "category": [_concept({"system": c.CONDITION_CATEGORY, "code": "problem-list-item"})],
        "code": _concept(RMS_CODING, text="Rhabdomyosarcoma"),
        "subject": w.patient_ref,
    }
    if dx.date is not None:
        condition["onsetDateTime"] = dx.date.isoformat()
    if dx.primary_site is not None or dx.primary_site_detail:
        snomed = c.PRIMARY_SITE_TO_SNOMED.get(dx.primary_site) if dx.primary_site else None
        condition["bodySite"] = [
            _concept(
                c.own_coding(dx.primary_site) if dx.primary_site else None,
                snomed.coding() if snomed else None,
                text=dx.primary_site_detail,
            )
        ]
    if dx.histology is not None:
        icdo = c.HISTOLOGY_TO_ICDO3.get(dx.histology)
        condition["extension"] = [
            {
                "url": c.EXT_HISTOLOGY,
                "valueCodeableConcept": _concept(
                    c.own_coding(dx.histology), icdo.coding() if icdo else None
                ),
            }
        ]
    return w.add("primary-cancer", condition)


def _write_genomics(w: _Writer, observation: Any) -> None:
    dx = w.case.diagnosis

    def gene(code: c.Code) -> dict[str, Any]:
        return {
            "code": _concept(c.GENE_STUDIED.coding()),
            "valueCodeableConcept": _concept(code.coding()),
        }

    def source(code: c.Code) -> dict[str, Any]:
        return {
            "code": _concept(c.GENOMIC_SOURCE_CLASS.coding()),
            "valueCodeableConcept": _concept(code.coding()),
        }

    if dx.foxo1_fusion is not None:
        fusion = dx.foxo1_fusion
        genes = [gene(c.HGNC_FOXO1)]
        if fusion is FusionStatus.PAX3_FOXO1:
            genes.insert(0, gene(c.HGNC_PAX3))
        elif fusion is FusionStatus.PAX7_FOXO1:
            genes.insert(0, gene(c.HGNC_PAX7))
        presence = {True: c.PRESENT, False: c.ABSENT, None: None}[fusion.is_fusion_positive]
        observation(
            "variant-foxo1",
            _concept(c.GENETIC_VARIANT_ASSESSMENT.coding()),
            c.PROFILE_GENOMIC_VARIANT,
            category=[_category("laboratory")],
            **_variant_value(c.own_coding(fusion), presence),
            component=[*genes, source(c.SOMATIC)],
        )
    for key, status, hgnc, origin in (
        ("variant-myod1", dx.myod1, c.HGNC_MYOD1, c.SOMATIC),
        ("variant-tp53-somatic", dx.tp53, c.HGNC_TP53, c.SOMATIC),
        ("variant-tp53-germline", dx.tp53_germline, c.HGNC_TP53, c.GERMLINE),
    ):
        if status is None:
            continue
        presence = {MutationStatus.MUTATED: c.PRESENT, MutationStatus.WILD_TYPE: c.ABSENT}.get(
            status
        )
        observation(
            key,
            _concept(c.GENETIC_VARIANT_ASSESSMENT.coding()),
            c.PROFILE_GENOMIC_VARIANT,
            category=[_category("laboratory")],
            **_variant_value(c.own_coding(status), presence),
            component=[gene(hgnc), source(origin)],
        )


def _variant_value(own: dict[str, str], presence: c.Code | None) -> dict[str, Any]:
    """A variant's value: Present/Absent from the required LOINC answer list, with our own
    coding beside it; a test not done has no value but a data-absent reason."""
    if presence is None:
        return {
            "dataAbsentReason": _concept(
                {"system": c.DATA_ABSENT_REASON, "code": "not-performed"}, own
            )
        }
    return {"valueCodeableConcept": _concept(presence.coding(), own)}


def _write_lines(w: _Writer) -> list[dict[str, str]]:
    refs = []
    for number, line in enumerate(w.case.all_treatment_lines(), start=1):
        refs.append(_write_line(w, number, line))
    return refs


def _write_line(w: _Writer, number: int, line: TreatmentLine) -> dict[str, str]:
    plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "extension": [
            {"url": c.EXT_LINE_NUMBER, "valuePositiveInt": number},
            *(casefields.extension(k, v) for k, v in w.carried.lines[number - 1]),
        ],
        "status": {True: "active", False: "completed", None: "unknown"}[line.ongoing],
        "intent": "plan",
        "category": [
            _concept(
                {
                    "system": c.TREATMENT_LINE_SYSTEM,
                    "code": "first-line" if number == 1 else "later-line",
                    "display": "first-line treatment"
                    if number == 1
                    else "treatment for relapse or progression",
                }
            )
        ],
        "subject": w.patient_ref,
    }
    if line.protocol:
        plan["title"] = line.protocol
    if line.radiotherapy_given is not None:
        # "no radiotherapy in this line" must travel explicitly: an absent course is not a "no"
        plan["activity"] = [
            {
                "detail": {
                    "code": _concept(c.RADIOTHERAPY_COURSE.coding()),
                    "status": "completed" if line.radiotherapy_given else "not-started",
                    "doNotPerform": not line.radiotherapy_given,
                }
            }
        ]
    period = {}
    if line.start_date:
        period["start"] = line.start_date.isoformat()
    if line.end_date:
        period["end"] = line.end_date.isoformat()
    if period:
        plan["period"] = period
    plan_ref = w.add(f"line-{number}", plan)
    for key, code, value, unit in (
        ("bsa", c.BODY_SURFACE_AREA, line.body_surface_area_m2, "m2"),
        ("weight", c.BODY_WEIGHT, line.weight_kg, "kg"),
    ):
        if value is None:
            continue
        measurement: dict[str, Any] = {
            "resourceType": "Observation",
            "basedOn": [plan_ref],
            "status": "final",
            "category": [_concept({"system": c.OBSERVATION_CATEGORY, "code": "vital-signs"})],
            "code": _concept(code.coding()),
            "subject": w.patient_ref,
            "valueQuantity": _quantity(value, unit),
        }
        if key == "bsa":
            measurement["meta"] = _meta(c.PROFILE_BSA)
        if line.start_date:
            measurement["effectiveDateTime"] = line.start_date.isoformat()
        w.add(f"line-{number}-{key}", measurement)
    for k, exposure in enumerate(line.chemotherapy):
        _write_exposure(w, f"line-{number}-chemo-{k + 1}", exposure, plan_ref)
    for k, course in enumerate(line.radiotherapy):
        _write_radiotherapy(w, f"line-{number}-rt-{k + 1}", course, plan_ref)
    for k, surgery in enumerate(line.surgeries):
        _write_surgery(w, f"line-{number}-surgery-{k + 1}", surgery, plan_ref)
    return plan_ref


def _write_exposure(
    w: _Writer, key: str, exposure: ChemotherapyExposure, plan_ref: dict[str, str]
) -> None:
    rxnorm = c.AGENT_TO_RXNORM.get(exposure.agent)
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "meta": _meta(c.PROFILE_MED_REQUEST),
        "status": "completed",
        "intent": "order",
        # us-core-21: an order names its requester; rhabdo does not hold who prescribed
        "requester": {"extension": [_absent("unknown")]},
        "medicationCodeableConcept": _concept(
            c.own_coding(exposure.agent),
            rxnorm.coding() if rxnorm else None,
            text=exposure.display_name,
        ),
        "subject": w.patient_ref,
        "basedOn": [plan_ref],
    }
    extensions: list[dict[str, Any]] = []
    dosage: dict[str, Any] = {}
    if exposure.dose_per_administration is not None and exposure.dose_unit is not None:
        dosage["doseAndRate"] = [
            {
                "doseQuantity": _quantity(
                    exposure.dose_per_administration, c.DOSE_UNIT_TO_UCUM[exposure.dose_unit]
                )
            }
        ]
        if exposure.dose_unit in c.BSA_NORMALISED_UNITS:
            extensions.append(
                {
                    "url": c.EXT_NORMALIZATION_BASIS,
                    "valueCodeableConcept": _concept(c.BODY_SURFACE_AREA_BASIS.coding()),
                }
            )
    if exposure.administrations is not None:
        dosage["timing"] = {"repeat": {"count": exposure.administrations}}
    if dosage:
        request["dosageInstruction"] = [dosage]
    if exposure.cumulative_dose is not None and exposure.cumulative_dose_unit is not None:
        extensions.append(
            {
                "url": c.EXT_CUMULATIVE_DOSE,
                "valueQuantity": _quantity(
                    exposure.cumulative_dose, c.DOSE_UNIT_TO_UCUM[exposure.cumulative_dose_unit]
                ),
            }
        )
    if extensions:
        request["extension"] = extensions
    w.add(key, request)


def _write_radiotherapy(
    w: _Writer, key: str, course: RadiotherapyCourse, plan_ref: dict[str, str]
) -> None:
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "meta": _meta(c.PROFILE_RT_COURSE),
        "basedOn": [plan_ref],
        "status": "completed",
        "code": _concept(c.RADIOTHERAPY_COURSE.coding()),
        "subject": w.patient_ref,
    }
    extensions: list[dict[str, Any]] = []
    volume: list[dict[str, Any]] = []
    if course.total_dose_gy is not None:
        # mCODE fixes the unit of the delivered dose to cGy
        volume.append(
            {
                "url": "totalDoseDelivered",
                "valueQuantity": _quantity(round(course.total_dose_gy * 100, 6), "cGy"),
            }
        )
    if course.fractions is not None:
        volume.append({"url": "fractionsDelivered", "valueUnsignedInt": course.fractions})
    if volume:
        target = _write_rt_volume(w, key + "-volume", course)
        extensions.append(
            {
                "url": c.EXT_RT_DOSE_TO_VOLUME,
                "extension": [{"url": "volume", "valueReference": target}, *volume],
            }
        )
    if course.brachytherapy is not None:
        extensions.append({"url": c.EXT_BRACHYTHERAPY, "valueBoolean": course.brachytherapy})
    if extensions:
        procedure["extension"] = extensions
    period = {}
    if course.start_date:
        period["start"] = course.start_date.isoformat()
    if course.end_date:
        period["end"] = course.end_date.isoformat()
    if period:
        procedure["performedPeriod"] = period
    else:
        # us-core-7: a completed procedure states when it was performed; rhabdo has no date
        procedure["_performedDateTime"] = {"extension": [_absent("unknown")]}
    if course.body_region is not None or course.target_site:
        procedure["bodySite"] = [
            _concept(
                c.own_coding(course.body_region) if course.body_region else None,
                text=course.target_site,
            )
        ]
    if course.target is not None:
        procedure["reasonCode"] = [_concept(c.own_coding(course.target))]
    w.add(key, procedure)


def _write_rt_volume(w: _Writer, key: str, course: RadiotherapyCourse) -> dict[str, str]:
    """The mCODE RadiotherapyVolume the dose was delivered to."""
    shown = course.target_site or (course.body_region.label if course.body_region else None)
    body: dict[str, Any] = {
        "resourceType": "BodyStructure",
        "meta": _meta(c.PROFILE_RT_VOLUME),
        "description": shown or "radiotherapy target volume",
        "patient": w.patient_ref,
    }
    return w.add(key, body)


def _write_surgery(w: _Writer, key: str, surgery: Surgery, plan_ref: dict[str, str]) -> None:
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "meta": _meta(c.PROFILE_SURGERY),
        "basedOn": [plan_ref],
        "status": "completed",
        "category": _concept(c.SURGICAL_PROCEDURE.coding()),
        "code": _concept(text=surgery.site or "cancer-related surgery"),
        "subject": w.patient_ref,
    }
    if surgery.date is not None:
        procedure["performedDateTime"] = surgery.date.isoformat()
    if surgery.site:
        procedure["bodySite"] = [_concept(text=surgery.site)]
    if surgery.margin is not None:
        procedure["outcome"] = _concept(c.own_coding(surgery.margin))
    w.add(key, procedure)


def _write_events(w: _Writer, primary_ref: dict[str, str] | None) -> None:
    for k, event in enumerate(w.case.events, start=1):
        _write_event(w, k, event, primary_ref)


def _write_event(
    w: _Writer, k: int, event: DiseaseEvent, primary_ref: dict[str, str] | None
) -> None:
    status: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": _meta(c.PROFILE_DISEASE_STATUS),
        "status": "final",
        "code": _concept(c.DISEASE_STATUS.coding()),
        "subject": w.patient_ref,
        "valueCodeableConcept": _concept(c.own_coding(event.kind), c.STATUS_WORSENED.coding()),
    }
    if primary_ref is not None:
        status["focus"] = [primary_ref]
    if w.carried.events[k - 1]:
        status["extension"] = [casefields.extension(p, v) for p, v in w.carried.events[k - 1]]
    if event.date is not None:
        status["effectiveDateTime"] = event.date.isoformat()
    components = []
    for site in event.sites or []:
        icd = (
            c.METASTATIC_SITE_TO_ICD10CM.get(site.metastatic_site) if site.metastatic_site else None
        )
        value = _concept(
            c.own_coding(site.metastatic_site) if site.metastatic_site else None,
            icd.coding() if icd else None,
            c.own_coding(site.body_region) if site.body_region else None,
            text=site.location,
        )
        component: dict[str, Any] = {"code": _concept(c.own_coding(site.extent))}
        if value:
            component["valueCodeableConcept"] = value
        components.append(component)
    if components:
        status["component"] = components
    status_ref = w.add(f"event-{k}", status)
    if event.date is not None and w.case.diagnosis.date is not None:
        # distant sites also as mCODE secondary cancer Conditions, dated on the event, so that
        # EHRs that know no rhabdo codes still see where the cancer spread
        distant = [s.metastatic_site for s in event.sites or [] if s.metastatic_site is not None]
        for met_site in dict.fromkeys(distant):
            _write_secondary(
                w,
                f"event-{k}-metastasis-{met_site.value}",
                met_site,
                event.date.isoformat(),
                primary_ref,
            )
    if event.max_diameter_cm is not None:
        size: dict[str, Any] = {
            "resourceType": "Observation",
            "meta": _meta(c.PROFILE_TUMOR_SIZE),
            "status": "final",
            "code": _concept(c.TUMOR_SIZE.coding()),
            "subject": w.patient_ref,
            "focus": [_write_tumour(w, f"event-{k}-tumour", status_ref["reference"], primary_ref)],
            "component": [
                {
                    "code": _concept(c.TUMOR_LONGEST_DIMENSION.coding()),
                    "valueQuantity": _quantity(event.max_diameter_cm, "cm"),
                }
            ],
        }
        if event.date is not None:
            size["effectiveDateTime"] = event.date.isoformat()
        w.add(f"event-{k}-tumour-size", size)


# --- assessment -> resources -------------------------------------------------------------


def assessment_to_bundle(case: Case, assessment: Assessment) -> dict[str, Any]:
    """The case and its assessment as one FHIR R4 collection Bundle (validated).

    Findings become Observations (prognostic ones RiskAssessments); recommendations become a
    RequestGroup with cited RelatedArtifacts, reached from a GuidanceResponse.
    """
    if assessment.patient_id != case.patient.id:
        raise ValueError("assessment.patient_id: the assessment is not of this case")
    w = _Writer(case)
    _write_case(w)
    finding_refs = []
    for finding in assessment.findings.values():
        if _is_prognostic(finding):
            # R4 GuidanceResponse.reasonReference cannot point at a RiskAssessment; the
            # RiskAssessment names the same patient and the engine module
            _write_risk(w, finding, assessment)
        else:
            finding_refs.append(_write_finding(w, finding, assessment))
    group_ref = _write_request_group(w, assessment.recommendations)
    notes = [{"text": f"Evidence gap: {gap.statement}"} for gap in assessment.evidence_gaps]
    notes += [
        {"text": f"Missing input: {m.field} (would decide {', '.join(m.would_decide)})"}
        for m in assessment.missing_inputs
    ]
    guidance: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "moduleUri": ENGINE_MODULE_URI,
        "status": "success",
        "subject": w.patient_ref,
        "occurrenceDateTime": assessment.provenance.assessed_on,
        "reasonReference": finding_refs,
        "result": group_ref,
        "identifier": [
            {
                "system": ENGINE_MODULE_URI,
                "value": f"engine {assessment.provenance.engine_version}; "
                f"knowledge {assessment.provenance.knowledge_version}",
            }
        ],
    }
    if notes:
        guidance["note"] = notes
    w.add("guidance", guidance)
    return _validated(w.bundle())


def _is_prognostic(finding: Finding) -> bool:
    text = f"{finding.id} {finding.rule}".lower()
    return any(marker in text for marker in PROGNOSTIC_MARKERS)


def _citation_extensions(keys: list[str]) -> list[dict[str, Any]]:
    return [
        {"url": EXT_CITATION, "valueString": f"[{key}] {resolve(key).reference()}"} for key in keys
    ]


def _value_elements(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueQuantity": {"value": value}}
    if isinstance(value, str):
        return {"valueString": value}
    return {"valueString": json.dumps(value, sort_keys=True, default=str)}


def _finding_base(w: _Writer, finding: Finding) -> dict[str, Any]:
    return {
        "subject": w.patient_ref,
        "code": _concept(
            {"system": c.FINDING_CODE_SYSTEM, "code": finding.id, "display": finding.id}
        ),
        "method": _concept(
            {"system": c.RULE_CODE_SYSTEM, "code": finding.rule, "display": finding.rule}
        ),
        "note": [{"text": finding.reason}],
    }


def _write_finding(w: _Writer, finding: Finding, assessment: Assessment) -> dict[str, str]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            _concept({"system": c.OBSERVATION_CATEGORY, "code": "exam"}, text="rhabdo finding")
        ],
        "effectiveDateTime": assessment.provenance.assessed_on,
        **_finding_base(w, finding),
    }
    if finding.status is FindingStatus.DETERMINED:
        obs.update(_value_elements(finding.value))
    else:
        reason = "unknown" if finding.status is FindingStatus.INDETERMINATE else "not-applicable"
        obs["dataAbsentReason"] = _concept(
            {"system": c.DATA_ABSENT_REASON, "code": reason}, text=finding.status.value
        )
    components = [
        {"code": _concept(text="candidate"), **_value_elements(candidate)}
        for candidate in finding.candidates
    ]
    components += [{"code": _concept(text="needs"), "valueString": need} for need in finding.needs]
    components += [
        {"code": _concept(text="input used"), "valueString": used} for used in finding.inputs_used
    ]
    if components:
        obs["component"] = components
    if finding.citations:
        obs["extension"] = _citation_extensions(finding.citations)
    if finding.id == COG_RISK_FINDING:
        _as_rms_risk_assessment(obs, finding)
    return w.add(f"finding-{finding.id}", obs)


def _as_rms_risk_assessment(obs: dict[str, Any], finding: Finding) -> None:
    """The COG risk group as an mCODE RhabdomyosarcomaRiskAssessment (risk type NCIt C148010;
    values from mcode-rhabdomyosarcoma-assessment-value-vs), beside rhabdo's own finding code.
    A value outside that value set keeps the plain finding form rather than claim the profile."""
    value = c.RMS_RISK_VALUES.get(str(finding.value)) if finding.value is not None else None
    if finding.status is FindingStatus.DETERMINED and value is None:
        return
    obs["meta"] = _meta(c.PROFILE_RMS_RISK)
    obs["code"] = _concept(c.RMS_RISK_ASSESSMENT.coding(), *obs["code"]["coding"])
    if value is not None:
        for key in [k for k in obs if k.startswith("value")]:
            del obs[key]
        obs["valueCodeableConcept"] = _concept(value.coding(), text=str(finding.value))


def _write_risk(w: _Writer, finding: Finding, assessment: Assessment) -> dict[str, str]:
    base = _finding_base(w, finding)
    risk: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final" if finding.status is FindingStatus.DETERMINED else "preliminary",
        "subject": base["subject"],
        "code": base["code"],
        "method": base["method"],
        "note": base["note"],
        "occurrenceDateTime": assessment.provenance.assessed_on,
    }
    if finding.status is FindingStatus.DETERMINED:
        outcome = (
            finding.value
            if isinstance(finding.value, str)
            else json.dumps(finding.value, sort_keys=True, default=str)
        )
        risk["prediction"] = [{"outcome": _concept(text=outcome), "rationale": finding.reason}]
    else:
        needs = ", ".join(finding.needs)
        risk["note"] = [
            *base["note"],
            {"text": f"{finding.status.value}; needs: {needs}" if needs else finding.status.value},
        ]
    if finding.details:
        risk["note"] = [
            *risk["note"],
            {"text": "details: " + json.dumps(finding.details, sort_keys=True, default=str)},
        ]
    if finding.citations:
        risk["extension"] = _citation_extensions(finding.citations)
    return w.add(f"risk-{finding.id}", risk)


def _related_artifacts(keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for key in keys:
        source = resolve(key)
        artifact: dict[str, Any] = {
            "type": "citation",
            "label": key,
            "display": source.short(),
            "citation": source.reference(),
        }
        if source.doi:
            artifact["url"] = f"https://doi.org/{source.doi}"
        elif source.pmid:
            artifact["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{source.pmid}/"
        elif source.url:
            artifact["url"] = source.url
        out.append(artifact)
    return out


def _write_request_group(w: _Writer, recommendations: list[Recommendation]) -> dict[str, str]:
    actions = []
    for rec in recommendations:
        action: dict[str, Any] = {
            "id": _fhir_id(rec.id),
            "title": rec.statement,
            "description": rec.reason,
            "code": [
                _concept(
                    {
                        "system": c.RECOMMENDATION_CATEGORY_SYSTEM,
                        "code": rec.category.value,
                        "display": rec.category.label,
                    }
                ),
                _concept(
                    {
                        "system": STRENGTH_SYSTEM,
                        "code": rec.strength.value,
                        "display": rec.strength.value,
                    }
                ),
                _concept({"system": c.RULE_CODE_SYSTEM, "code": rec.rule, "display": rec.rule}),
            ],
            "documentation": _related_artifacts(rec.citations),
        }
        if rec.evidence_gaps:
            action["textEquivalent"] = " ".join(
                f"Evidence gap: {g.statement}" for g in rec.evidence_gaps
            )
        # rqg-1: an action has a resource or sub-actions; the resource is the proposal itself
        action["resource"] = w.add(
            f"recommendation-{rec.id}",
            {
                "resourceType": "Task",
                "status": "draft",
                "intent": "proposal",
                "code": _concept(
                    {
                        "system": c.RECOMMENDATION_CATEGORY_SYSTEM,
                        "code": rec.category.value,
                        "display": rec.category.label,
                    }
                ),
                "description": rec.statement,
                "for": w.patient_ref,
            },
        )
        actions.append(action)
    group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "status": "draft",
        "intent": "proposal",
        "subject": w.patient_ref,
    }
    if actions:
        group["action"] = actions
    return w.add("recommendations", group)


def _validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """Check the bundle against the fhir.resources R4B models; a failure is a bug here."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.parse_obj(bundle)
    return bundle
