"""Read a case from a FHIR R4 Bundle of mCODE (STU4) resources.

``case_from_bundle(bundle)`` validates every entry with the ``fhir.resources`` R4B models, then
maps the resources it understands onto the ``Case`` model:

* Patient (birth date, sex, our pseudonymous identifier);
* the primary cancer Condition (onset date, body site -> ``primary_site``, histology
  morphology extension -> ``histology``);
* staging Observations: IRS post-surgical clinical group (SNOMED CT 405916000), TNM T, N and M
  categories; tumour size (LOINC 21889-1);
* genomic-variant Observations for FOXO1 fusions and TP53 / MYOD1 variants;
* secondary cancer Conditions (metastatic sites at diagnosis, or distant sites of a relapse);
* cancer-disease-status Observations (relapse / progression events);
* treatment: CarePlans marking treatment lines (protocol, dates, ongoing, whether radiotherapy
  was given), body-surface area and weight Observations, cancer-related surgical Procedures,
  radiotherapy course summaries, MedicationRequest / MedicationAdministration for chemotherapy;
* the latest Karnofsky or Lansky performance status.

Nothing is guessed.  A code that has no mapping is listed in ``ImportResult.unmapped`` with the
resource and the code; a resource that is read but not used is listed in ``skipped`` with the
reason; every case field filled records the resource it came from in ``provenance``.  A
malformed bundle (wrong resourceType, invalid resource, broken reference, unknown unit) raises
``CaseValidationError`` naming the resource and the element.  Code maps live in
``rhabdo.interop.codes``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import (
    BodyRegion,
    ChemotherapyAgent,
    DoseUnit,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    Invasiveness,
    IRSGroup,
    Margin,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PerformanceScale,
    PrimarySite,
    RadiotherapyTarget,
    Sex,
)
from rhabdo.errors import FhirBundleError, FieldProblem
from rhabdo.interop import codes as c
from rhabdo.interop import fhir_casefields as casefields
from rhabdo.interop.fhir_diagnosis import Verdict, judge, looks_like_cancer
from rhabdo.interop.units import convert

SOURCE = "FHIR bundle"
_CASE_FIELD_NOTE = "rhabdo case-field extension"
DIAGNOSIS_UNKNOWN = (
    "no primary cancer Condition: the diagnosis is unknown (not stated in the bundle) and is "
    "not assumed to be rhabdomyosarcoma"
)

#: The case fields mapped onto mCODE / FHIR elements, as an allow-list (``[]`` = every item of
#: a list; ``lines`` = first_line and every later line).  Everything else in the case model
#: (anaplasia, the initial-surgery detail of the IRS group, family history, event flags, organ
#: function, goals of care, ...) has no mCODE element and travels in rhabdo's documented
#: ``case-field`` extension (``rhabdo.interop.fhir_casefields``), so the round trip is lossless.
MAPPED_FIELDS: dict[str, tuple[str, ...]] = {
    "patient": ("id", "sex", "date_of_birth"),
    "diagnosis": (
        "date",
        "primary_site",
        "primary_site_detail",
        "histology",
        "foxo1_fusion",
        "myod1",
        "tp53",
        "tp53_germline",
        "invasiveness",
        "max_diameter_cm",
        "regional_nodes",
        "distant_metastases",
        "irs_group_stated",
    ),
    "lines": (
        "protocol",
        "start_date",
        "end_date",
        "weight_kg",
        "body_surface_area_m2",
        "chemotherapy",
        "radiotherapy",
        "surgeries",
        "ongoing",
        "radiotherapy_given",
    ),
    "lines.chemotherapy[]": (
        "agent",
        "agent_name",
        "dose_per_administration",
        "dose_unit",
        "administrations",
        "cumulative_dose",
        "cumulative_dose_unit",
    ),
    "lines.radiotherapy[]": (
        "target",
        "target_site",
        "body_region",
        "total_dose_gy",
        "fractions",
        "start_date",
        "end_date",
        "brachytherapy",
    ),
    "lines.surgeries[]": ("date", "site", "margin"),
    "events[]": ("kind", "date", "sites", "max_diameter_cm"),
    "events[].sites[]": ("extent", "location", "metastatic_site", "body_region"),
    "current": ("performance",),
}


def _keep(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in MAPPED_FIELDS[key]}


def _mapped_line(line: dict[str, Any]) -> dict[str, Any]:
    out = _keep(line, "lines")
    for key in ("chemotherapy", "radiotherapy", "surgeries"):
        out[key] = [_keep(item, f"lines.{key}[]") for item in out.get(key, [])]
    return out


def mapped_view(case: Case) -> dict[str, Any]:
    """The case as a plain dict holding only the fields in ``MAPPED_FIELDS``.

    Two cases with equal mapped views are equal "for every field the mapping covers": this is
    what an import is compared with, and what a round trip must keep.  A known-empty list of
    event sites is not distinguishable from an unknown one in FHIR and reads as unknown.
    """
    data = case.model_dump(mode="json", exclude_none=True)
    out: dict[str, Any] = {
        "patient": _keep(data["patient"], "patient"),
        "diagnosis": _keep(data["diagnosis"], "diagnosis"),
        "later_lines": [_mapped_line(line) for line in data["later_lines"]],
        "events": [],
    }
    if data.get("first_line") is not None:
        out["first_line"] = _mapped_line(data["first_line"])
    for event in data["events"]:
        kept = _keep(event, "events[]")
        sites = [_keep(site, "events[].sites[]") for site in kept.pop("sites", None) or []]
        if sites:
            kept["sites"] = sites
        out["events"].append(kept)
    current = _keep(data.get("current") or {}, "current")
    if current:
        out["current"] = current
    return out


@dataclass(frozen=True)
class ProvenanceEntry:
    """One case field and the resource it was read from (``Type/id``)."""

    field: str
    resource: str
    note: str | None = None


@dataclass(frozen=True)
class Unmapped:
    """A code that could not be mapped: where it was, what it was, and why it was not used."""

    resource: str
    element: str
    system: str | None
    code: str | None
    reason: str

    def __str__(self) -> str:
        coded = f"{self.system}|{self.code}" if self.system or self.code else "(no code)"
        return f"{self.resource} {self.element}: {coded} -- {self.reason}"


@dataclass(frozen=True)
class Skipped:
    """A resource that was read but contributes nothing to the case, and why."""

    resource: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """The case, and for every field the resource it came from; what was not used, and why."""

    case: Case
    provenance: list[ProvenanceEntry] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: What the reader of the case must know about the import as a whole.
    notes: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """Provenance, unmapped codes and unused resources as plain JSON-able data."""
        return {
            "provenance": [
                {"field": p.field, "resource": p.resource, **({"note": p.note} if p.note else {})}
                for p in self.provenance
            ],
            "unmapped": [
                {
                    "resource": u.resource,
                    "element": u.element,
                    "system": u.system,
                    "code": u.code,
                    "reason": u.reason,
                }
                for u in self.unmapped
            ],
            "skipped": [{"resource": s.resource, "reason": s.reason} for s in self.skipped],
            "notes": list(self.notes),
        }

    def sources_of(self, field_path: str) -> list[str]:
        """The resources a case field (or any field below it) was read from."""
        return [
            p.resource
            for p in self.provenance
            if p.field == field_path
            or p.field.startswith(field_path + ".")
            or p.field.startswith(field_path + "[")
        ]


# --- small readers over fhir.resources objects ------------------------------------------


def _codings(concept: Any) -> list[Any]:
    if concept is None:
        return []
    return list(concept.coding or [])


def _codings_all(concepts: Iterable[Any] | None) -> list[Any]:
    out: list[Any] = []
    for concept in concepts or []:
        out.extend(_codings(concept))
    return out


def _has_code(concept: Any, system: str, code: str) -> bool:
    return any(cd.system == system and cd.code == code for cd in _codings(concept))


def _own(vocab: Any, concepts: Iterable[Any]) -> Any:
    for concept in concepts:
        for cd in _codings(concept):
            member = c.from_own_coding(vocab, cd.system, cd.code)
            if member is not None:
                return member
    return None


def _profiles(res: Any) -> list[str]:
    meta = getattr(res, "meta", None)
    return [str(p).split("|")[0] for p in (meta.profile or [])] if meta is not None else []


def _ext(res: Any, url: str) -> list[Any]:
    return [e for e in (getattr(res, "extension", None) or []) if e.url == url]


def _to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if len(str(value)) >= 10 else None
    except ValueError:
        return None


def _num(value: Any) -> float:
    return float(value)


def _shown_reference(text: str) -> str:
    """A reference as it may appear in a message: a Patient's id is never shown."""
    return "a Patient reference" if "Patient/" in text else repr(text)


def _label(res: Any) -> str:
    """``Type/id`` of a resource; the Patient is named by type only, never by identifier."""
    if res.resource_type == "Patient":
        return "Patient"
    return f"{res.resource_type}/{res.id}" if res.id else res.resource_type


# --- the importer ----------------------------------------------------------------------


#: Every concrete resource type of FHIR R4 4.0.1 (the StructureDefinitions of kind "resource"
#: in the official hl7.fhir.r4.examples 4.0.1 package; see tests/data/public/fhir-packages).
R4_RESOURCE_TYPES = frozenset(
    {
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    }
)

#: The resource types the mapping reads; only these are validated (R4B models, whose
#: definitions of these types match R4 for every element read here).
READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "CarePlan",
        "Procedure",
        "MedicationRequest",
        "MedicationAdministration",
        "BodyStructure",
    }
)
#: Statuses that withdraw a record: it is not used, and the import says so.
_WITHDRAWN_STATUS: dict[str, frozenset[str]] = {
    "Observation": frozenset({"entered-in-error", "cancelled"}),
    "Procedure": frozenset({"entered-in-error", "not-done"}),
    "MedicationRequest": frozenset({"entered-in-error", "cancelled"}),
    "MedicationAdministration": frozenset({"entered-in-error", "not-done"}),
    "CarePlan": frozenset({"entered-in-error", "revoked"}),
}
_WITHDRAWN_VERIFICATION = frozenset({"entered-in-error", "refuted"})


def _withdrawn(resource: dict[str, Any]) -> str | None:
    """Why a record must not be used (entered in error, refuted, cancelled), or None."""
    rtype = str(resource.get("resourceType"))
    status = resource.get("status")
    if isinstance(status, str) and status in _WITHDRAWN_STATUS.get(rtype, frozenset()):
        return f"status is {status}"
    if rtype == "Condition":
        verification = resource.get("verificationStatus")
        codings = verification.get("coding", []) if isinstance(verification, dict) else []
        for coding in codings:
            if isinstance(coding, dict) and coding.get("code") in _WITHDRAWN_VERIFICATION:
                return f"verification status is {coding['code']}"
        clinical = resource.get("clinicalStatus")
        for coding in clinical.get("coding", []) if isinstance(clinical, dict) else []:
            if isinstance(coding, dict) and coding.get("code") == "entered-in-error":
                return "clinical status is entered-in-error"
    return None


class _Importer:
    """Holds the bundle's resources, the problems found and what has been mapped so far."""

    def __init__(self, bundle: Any) -> None:
        self.problems: list[FieldProblem] = []
        self.provenance: list[ProvenanceEntry] = []
        self.unmapped: list[Unmapped] = []
        self.skipped: list[Skipped] = []
        self.notes: list[str] = []
        #: case-field extensions of line CarePlans: (line index, path, value, resource),
        #: applied once every reader of the line has run (paths may reach into its items)
        self.line_fields: list[tuple[int, str, Any, Any]] = []
        self.resources: list[tuple[str, Any]] = []  # (entry path, resource)
        self.index: dict[str, Any] = {}
        self._parse_entries(bundle)

    # -- validation and references --

    def _parse_entries(self, bundle: Any) -> None:
        from fhir.resources.R4B import get_fhir_model_class
        from pydantic.v1 import ValidationError as V1ValidationError

        if not isinstance(bundle, dict):
            raise FhirBundleError([FieldProblem("(bundle)", "a FHIR Bundle must be a JSON object")])
        if bundle.get("resourceType") != "Bundle":
            raise FhirBundleError(
                [
                    FieldProblem(
                        "resourceType", f"expected 'Bundle', got {bundle.get('resourceType')!r}"
                    )
                ]
            )
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            raise FhirBundleError([FieldProblem("entry", "must be a list of entries")])
        for i, entry in enumerate(entries):
            where = f"entry[{i}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                self.problems.append(FieldProblem(f"{where}.resource", "missing or not an object"))
                continue
            rtype = resource.get("resourceType")
            shown = rtype if rtype == "Patient" else f"{rtype}/{resource.get('id', '?')}"
            label = f"{where} ({shown})"
            if rtype not in R4_RESOURCE_TYPES:
                self.problems.append(
                    FieldProblem(
                        f"{where}.resource.resourceType", f"unknown FHIR R4 resource type {rtype!r}"
                    )
                )
                continue
            if rtype not in READ_TYPES:
                # only what is read is validated: any other R4 type (R4-only ones included)
                # is skipped with a note instead of aborting the import
                reason = (
                    "rhabdo assessment output, not case input"
                    if rtype in _OUTPUT_TYPES
                    else f"{rtype} resources are not read"
                )
                self.skipped.append(Skipped(str(shown), reason))
                continue
            withdrawn = _withdrawn(resource)
            if withdrawn is not None:
                self.skipped.append(Skipped(str(shown), f"not used: {withdrawn}"))
                continue
            try:
                model = get_fhir_model_class(str(rtype))
            except KeyError:
                self.problems.append(
                    FieldProblem(
                        f"{where}.resource.resourceType", f"unknown FHIR resource type {rtype!r}"
                    )
                )
                continue
            try:
                res: Any = model.parse_obj(resource)
            except V1ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
                    self.problems.append(
                        FieldProblem(f"{label}.{loc}" if loc else label, err["msg"])
                    )
                continue
            except (TypeError, ValueError) as exc:
                self.problems.append(FieldProblem(label, str(exc)))
                continue
            self.resources.append((where, res))
            if res.id:
                self.index[f"{res.resource_type}/{res.id}"] = res
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str) and full_url:
                self.index[full_url] = res
        self._raise_if_problems()

    def _raise_if_problems(self) -> None:
        if self.problems:
            raise FhirBundleError(self.problems)

    def resolve(self, res: Any, element: str, ref: Any, types: tuple[str, ...]) -> Any:
        """Follow a reference this mapping depends on; a dangling one is a problem."""
        text = getattr(ref, "reference", None)
        if not text:
            return None
        target = self.index.get(text)
        if target is None and "/" not in text:
            for t in types:
                target = self.index.get(f"{t}/{text}")
                if target is not None:
                    break
        if target is None:
            self.problems.append(
                FieldProblem(
                    f"{_label(res)}.{element}",
                    f"reference {_shown_reference(text)} resolves to no resource in the bundle",
                )
            )
            return None
        if types and target.resource_type not in types:
            self.problems.append(
                FieldProblem(
                    f"{_label(res)}.{element}",
                    f"reference {_shown_reference(text)} points to a {target.resource_type}, "
                    f"expected {' or '.join(types)}",
                )
            )
            return None
        return target

    def of_type(self, *types: str) -> list[Any]:
        return [r for _, r in self.resources if r.resource_type in types]

    def note_unmapped(self, res: Any, element: str, codings: list[Any], reason: str) -> None:
        if not codings:
            self.unmapped.append(Unmapped(_label(res), element, None, None, reason))
        for cd in codings:
            self.unmapped.append(Unmapped(_label(res), element, cd.system, cd.code, reason))

    def date(self, res: Any, element: str, value: Any) -> dt.date | None:
        """A full date from a FHIR date/dateTime; a partial date is reported, not rounded."""
        if value is None:
            return None
        when = _to_date(value)
        if when is None:
            self.unmapped.append(
                Unmapped(_label(res), element, None, None, "partial date: a full date is needed")
            )
        return when

    def prov(self, field_path: str, res: Any, note: str | None = None) -> None:
        self.provenance.append(ProvenanceEntry(field_path, _label(res), note))

    def skip(self, res: Any, reason: str) -> None:
        self.skipped.append(Skipped(_label(res), reason))


def case_from_bundle(bundle: dict[str, Any]) -> ImportResult:
    """Map a FHIR R4 / mCODE STU4 Bundle onto a Case, recording where each field came from."""
    imp = _Importer(bundle)
    used: set[int] = set()

    patient_res = _patient(imp, used)
    _check_subjects(imp, patient_res)
    imp._raise_if_problems()

    data: dict[str, Any] = {"patient": _patient_fields(imp, patient_res)}
    diagnosis: dict[str, Any] = {}
    primary = _primary_condition(imp, diagnosis, used)
    if primary is None:
        imp.notes.append(DIAGNOSIS_UNKNOWN)
    _staging(imp, diagnosis, used)
    _genomics(imp, diagnosis, used)
    events, status_obs = _events(imp, used)
    _secondary_conditions(imp, diagnosis, events, status_obs, used)
    _tumour_sizes(imp, diagnosis, events, status_obs, primary, used)
    lines = _treatment(imp, diagnosis, events, used)
    for idx, path, value, res in imp.line_fields:
        casefields.assign(lines[idx], path, value)
        imp.prov(f"{_Lines.name(idx)}.{path}", res, _CASE_FIELD_NOTE)
    performance = _performance(imp, used)
    imp._raise_if_problems()
    if performance is not None:
        data["current"] = {"performance": performance}

    _mark_described_structures(imp, used)
    for _, res in imp.resources:
        if id(res) not in used and res is not patient_res:
            _explain_unused(imp, res)

    data["diagnosis"] = diagnosis
    for path, value in casefields.read(patient_res.extension):
        casefields.assign(data, path, value)
        imp.prov(path, patient_res, _CASE_FIELD_NOTE)
    order = sorted(range(len(events)), key=lambda i: events[i].get("date") or "9999")
    remap = {old: new for new, old in enumerate(order)}
    data["events"] = [events[i] for i in order]
    imp.provenance = [
        ProvenanceEntry(_renumber_event(p.field, remap), p.resource, p.note) for p in imp.provenance
    ]
    if lines:
        data["first_line"] = lines[0]
        data["later_lines"] = lines[1:]
    case = parse_case(data, SOURCE)
    return ImportResult(
        case=case,
        provenance=imp.provenance,
        unmapped=imp.unmapped,
        skipped=imp.skipped,
        notes=imp.notes,
    )


def _references(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _mark_described_structures(imp: _Importer, used: set[int]) -> None:
    """A BodyStructure that only describes a used record (the tumour a size was measured on,
    a radiotherapy volume) is part of that record, not a resource left unread."""
    for _, res in imp.resources:
        if id(res) not in used:
            continue
        for ref in _references(res.dict()):
            target = imp.index.get(ref)
            if target is not None and target.resource_type == "BodyStructure":
                used.add(id(target))


def _renumber_event(field_path: str, remap: dict[int, int]) -> str:
    if not field_path.startswith("events["):
        return field_path
    head, _, tail = field_path[len("events[") :].partition("]")
    return f"events[{remap.get(int(head), int(head))}]{tail}"


# --- patient ---------------------------------------------------------------------------


def _patient(imp: _Importer, used: set[int]) -> Any:
    patients = imp.of_type("Patient")
    if len(patients) != 1:
        raise FhirBundleError(
            [
                FieldProblem(
                    "entry", f"the bundle must hold exactly one Patient, found {len(patients)}"
                )
            ]
        )
    used.add(id(patients[0]))
    return patients[0]


_SUBJECT_ELEMENTS = ("subject", "patient")


def _check_subjects(imp: _Importer, patient: Any) -> None:
    """Every resource about a patient must be about the bundle's patient."""
    for _, res in imp.resources:
        for element in _SUBJECT_ELEMENTS:
            ref = getattr(res, element, None) if res.resource_type != "Patient" else None
            if ref is None or not hasattr(ref, "reference") or not ref.reference:
                continue
            target = imp.resolve(res, element, ref, ())
            if target is not None and target is not patient:
                imp.problems.append(
                    FieldProblem(
                        f"{_label(res)}.{element}",
                        f"refers to {_shown_reference(ref.reference)}, not the bundle's Patient",
                    )
                )


def _patient_fields(imp: _Importer, res: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pid = next(
        (
            ident.value
            for ident in (res.identifier or [])
            if ident.system == c.PATIENT_ID_SYSTEM and ident.value
        ),
        None,
    )
    out["id"] = pid or res.id
    if not out["id"]:
        imp.problems.append(
            FieldProblem(
                f"{_label(res)}.id", "the Patient has neither an id nor a rhabdo identifier"
            )
        )
        imp._raise_if_problems()
    imp.prov("patient.id", res)
    if res.gender in ("male", "female", "other"):
        out["sex"] = Sex(res.gender).value
        imp.prov("patient.sex", res)
    if res.birthDate is not None:
        born = _to_date(res.birthDate)
        if born is None:
            imp.note_unmapped(res, "birthDate", [], "birth date is not a full date")
        else:
            out["date_of_birth"] = born.isoformat()
            imp.prov("patient.date_of_birth", res)
    return out


# --- primary cancer --------------------------------------------------------------------


def _is_primary(res: Any) -> bool:
    """An mCODE primary cancer Condition, or one recognised by its code without the profile."""
    return (
        c.PROFILE_PRIMARY in _profiles(res)
        or bool(_ext(res, c.EXT_HISTOLOGY))
        or looks_like_cancer(res)
    )


def _secondary_site(res: Any) -> tuple[MetastaticSite | None, list[Any]]:
    """The metastatic site of a secondary cancer Condition and the codings considered."""
    considered = _codings(res.code) + _codings_all(res.bodySite)
    own = _own(MetastaticSite, [res.code, *(res.bodySite or [])])
    if own is not None:
        return own, considered
    for cd in _codings(res.code):
        if cd.system == c.ICD10CM and cd.code in c.METASTATIC_SITE_FROM_ICD10CM:
            return c.METASTATIC_SITE_FROM_ICD10CM[cd.code], considered
        if cd.system == c.SNOMED and cd.code in c.METASTATIC_SITE_FROM_SNOMED_DISORDER:
            return c.METASTATIC_SITE_FROM_SNOMED_DISORDER[cd.code], considered
    for cd in _codings_all(res.bodySite):
        if cd.system == c.SNOMED and cd.code in c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE:
            return c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE[cd.code], considered
    return None, considered


def _is_secondary(res: Any) -> bool:
    if c.PROFILE_SECONDARY in _profiles(res):
        return True
    if _own(MetastaticSite, [res.code]) is not None:
        return True
    return any(
        (cd.system == c.ICD10CM and (cd.code or "").startswith(("C77", "C78", "C79", "C7B")))
        or (
            cd.system == c.SNOMED
            and cd.code
            in ({c.METASTATIC_NEOPLASM.code} | set(c.METASTATIC_SITE_FROM_SNOMED_DISORDER))
        )
        for cd in _codings(res.code)
    )


def _primary_condition(imp: _Importer, dx: dict[str, Any], used: set[int]) -> Any:
    primaries = [r for r in imp.of_type("Condition") if _is_primary(r) and not _is_secondary(r)]
    if not primaries:
        return None
    res = primaries[0]
    for other in primaries[1:]:
        used.add(id(other))
        imp.skip(other, "a second primary cancer Condition; only the first is read")
    used.add(id(res))
    evidence = judge(res, [ext.valueCodeableConcept for ext in _ext(res, c.EXT_HISTOLOGY)])
    if evidence.verdict is not Verdict.RMS:
        why = (
            "is not rhabdomyosarcoma"
            if evidence.verdict is Verdict.OTHER
            else "does not say it is a rhabdomyosarcoma (send the ICD-O-3 morphology, "
            "8900-8920, or a rhabdomyosarcoma diagnosis code)"
        )
        imp.problems.append(
            FieldProblem(
                f"{_label(res)}.code",
                f"the primary cancer, {evidence.found}, {why}; rhabdo assesses "
                "rhabdomyosarcoma only",
            )
        )
        imp._raise_if_problems()
    imp.prov("diagnosis", res, f"rhabdomyosarcoma: {evidence.found}")
    onset = imp.date(res, "onsetDateTime", res.onsetDateTime)
    if onset is not None:
        dx["date"] = onset.isoformat()
        imp.prov("diagnosis.date", res)
    site = _own(PrimarySite, res.bodySite or [])
    if site is None:
        for cd in _codings_all(res.bodySite):
            if cd.system == c.SNOMED and cd.code in c.PRIMARY_SITE_FROM_SNOMED:
                site = c.PRIMARY_SITE_FROM_SNOMED[cd.code]
                break
    if site is not None:
        dx["primary_site"] = site.value
        imp.prov("diagnosis.primary_site", res)
    elif res.bodySite:
        imp.note_unmapped(
            res, "bodySite", _codings_all(res.bodySite), "body site has no primary-site mapping"
        )
    detail = next((bs.text for bs in (res.bodySite or []) if bs.text), None)
    if detail:
        dx["primary_site_detail"] = detail[:200]
        imp.prov("diagnosis.primary_site_detail", res)
    for ext in _ext(res, c.EXT_HISTOLOGY):
        concept = ext.valueCodeableConcept
        histology = _own(Histology, [concept])
        if histology is None:
            for cd in _codings(concept):
                if (
                    cd.system == c.ICDO3
                    and cd.code
                    and c.normalise_icdo3(cd.code) in c.HISTOLOGY_FROM_ICDO3
                ):
                    histology = c.HISTOLOGY_FROM_ICDO3[c.normalise_icdo3(cd.code)]
                    break
        if histology is not None:
            dx["histology"] = histology.value
            imp.prov("diagnosis.histology", res)
        else:
            imp.note_unmapped(
                res,
                "extension[histologyMorphologyBehavior]",
                _codings(concept),
                "morphology has no histology mapping",
            )
    return res


# --- staging ---------------------------------------------------------------------------


def _obs_code_in(res: Any, code_set: frozenset[str]) -> bool:
    return any(cd.code in code_set for cd in _codings(res.code))


def _staging(imp: _Importer, dx: dict[str, Any], used: set[int]) -> None:
    for res in imp.of_type("Observation"):
        value = res.valueCodeableConcept
        if _has_code(res.code, c.SNOMED, c.IRS_GROUP_OBSERVABLE.code):
            used.add(id(res))
            group = _own(IRSGroup, [value])
            if group is None:
                group = next(
                    (
                        g
                        for g, code in c.IRS_GROUP_SNOMED.items()
                        if _has_code(value, code.system, code.code)
                    ),
                    None,
                )
            if group is None:
                imp.note_unmapped(
                    res,
                    "valueCodeableConcept",
                    _codings(value),
                    "IRS clinical group value not mapped",
                )
            else:
                dx["irs_group_stated"] = group.value
                imp.prov("diagnosis.irs_group_stated", res)
        elif _obs_code_in(res, c.TNM_T_CODES):
            used.add(id(res))
            t = _own(Invasiveness, [value])
            if t is None:
                imp.note_unmapped(
                    res, "valueCodeableConcept", _codings(value), "T category value not mapped"
                )
            else:
                dx["invasiveness"] = t.value
                imp.prov("diagnosis.invasiveness", res)
        elif _obs_code_in(res, c.TNM_N_CODES):
            used.add(id(res))
            n = _own(NodalStatus, [value])
            if n is None:
                imp.note_unmapped(
                    res, "valueCodeableConcept", _codings(value), "N category value not mapped"
                )
            else:
                dx["regional_nodes"] = n.value
                imp.prov("diagnosis.regional_nodes", res)
        elif _obs_code_in(res, c.TNM_M_CODES):
            used.add(id(res))
            m = next((cd.code for cd in _codings(value) if cd.system == c.M_CATEGORY_SYSTEM), None)
            if m is None and _has_code(value, c.AJCC_CM0.system, c.AJCC_CM0.code):
                m = "M0"
            if m in ("M0", "M1"):
                dx.setdefault("_m_category", (m, res))
            else:
                imp.note_unmapped(
                    res, "valueCodeableConcept", _codings(value), "M category value not mapped"
                )


# --- genomics --------------------------------------------------------------------------


def _is_genomic(res: Any) -> bool:
    return c.PROFILE_GENOMIC_VARIANT in _profiles(res) or _has_code(
        res.code, c.GENETIC_VARIANT_ASSESSMENT.system, c.GENETIC_VARIANT_ASSESSMENT.code
    )


def _genomics(imp: _Importer, dx: dict[str, Any], used: set[int]) -> None:
    fusions: list[tuple[FusionStatus, Any]] = []
    _variants(imp, dx, used, fusions)
    distinct = {fusion for fusion, _ in fusions}
    if len(distinct) == 1:
        dx["foxo1_fusion"] = fusions[0][0].value
        for _, res in fusions:
            imp.prov("diagnosis.foxo1_fusion", res)
    elif len(distinct) > 1:
        # conflicting results are reported, never resolved by order or by preference
        shown = "; ".join(f"{fusion.label} ({_label(res)})" for fusion, res in fusions)
        for _, res in fusions:
            imp.note_unmapped(
                res,
                "valueCodeableConcept",
                [],
                f"conflicting FOXO1 results: {shown}; the fusion status is left indeterminate",
            )


def _variants(
    imp: _Importer,
    dx: dict[str, Any],
    used: set[int],
    fusions: list[tuple[FusionStatus, Any]],
) -> None:
    for res in imp.of_type("Observation"):
        if not _is_genomic(res):
            continue
        used.add(id(res))
        genes: set[str] = set()
        source: str | None = None
        for comp in res.component or []:
            for cd in _codings(comp.valueCodeableConcept):
                if cd.system in c.HGNC_SYSTEMS and cd.code:
                    genes.add(cd.code)
                if cd.system == c.LOINC and cd.code in (c.SOMATIC.code, c.GERMLINE.code):
                    source = cd.code
        value = res.valueCodeableConcept
        present: bool | None = None
        if _has_code(value, c.PRESENT.system, c.PRESENT.code):
            present = True
        elif _has_code(value, c.ABSENT.system, c.ABSENT.code):
            present = False
        not_done = _has_code(res.dataAbsentReason, c.DATA_ABSENT_REASON, "not-performed")

        if c.HGNC_FOXO1.code in genes:
            fusion = _own(FusionStatus, [value])
            if fusion is None and not_done:
                fusion = FusionStatus.NOT_TESTED
            if fusion is None and present is False:
                fusion = FusionStatus.NEGATIVE
            if fusion is None and present:
                partners = genes - {c.HGNC_FOXO1.code}
                if partners == {c.HGNC_PAX3.code}:
                    fusion = FusionStatus.PAX3_FOXO1
                elif partners == {c.HGNC_PAX7.code}:
                    fusion = FusionStatus.PAX7_FOXO1
                elif partners and not partners & {c.HGNC_PAX3.code, c.HGNC_PAX7.code}:
                    fusion = FusionStatus.OTHER_FOXO1
            if fusion is None:
                imp.note_unmapped(
                    res,
                    "valueCodeableConcept",
                    _codings(value),
                    "FOXO1 result without a stated partner gene or presence value",
                )
            else:
                fusions.append((fusion, res))
            continue

        field_name: str | None = None
        if genes == {c.HGNC_MYOD1.code}:
            field_name = "myod1"
        elif genes == {c.HGNC_TP53.code}:
            if source == c.GERMLINE.code:
                field_name = "tp53_germline"
            elif source == c.SOMATIC.code:
                field_name = "tp53"
            else:
                imp.note_unmapped(
                    res,
                    "component[genomic-source-class]",
                    [],
                    "TP53 result without somatic/germline source",
                )
                continue
        if field_name is None:
            imp.note_unmapped(
                res,
                "component[gene-studied]",
                [
                    cd
                    for comp in res.component or []
                    for cd in _codings(comp.valueCodeableConcept)
                    if cd.system in c.HGNC_SYSTEMS
                ],
                "gene(s) not part of the case model",
            )
            continue
        status = _own(MutationStatus, [value])
        if status is None and not_done:
            status = MutationStatus.NOT_TESTED
        if status is None and present is not None:
            status = MutationStatus.MUTATED if present else MutationStatus.WILD_TYPE
        if status is None:
            imp.note_unmapped(
                res, "valueCodeableConcept", _codings(value), "variant result value not mapped"
            )
        else:
            dx[field_name] = status.value
            imp.prov(f"diagnosis.{field_name}", res)


# --- disease events and metastases -----------------------------------------------------


def _is_disease_status(res: Any) -> bool:
    return c.PROFILE_DISEASE_STATUS in _profiles(res) or _has_code(
        res.code, c.DISEASE_STATUS.system, c.DISEASE_STATUS.code
    )


def _event_site(comp: Any) -> dict[str, Any] | None:
    extent = _own(Extent, [comp.code])
    if extent is None:
        return None
    site: dict[str, Any] = {"extent": extent.value}
    value = comp.valueCodeableConcept
    if value is not None:
        if value.text:
            site["location"] = value.text[:200]
        met = _own(MetastaticSite, [value])
        if met is None:
            for cd in _codings(value):
                if cd.system == c.ICD10CM and cd.code in c.METASTATIC_SITE_FROM_ICD10CM:
                    met = c.METASTATIC_SITE_FROM_ICD10CM[cd.code]
        if met is not None and extent is Extent.DISTANT:
            site["metastatic_site"] = met.value
        region = _own(BodyRegion, [value])
        if region is not None:
            site["body_region"] = region.value
    return site


def _events(imp: _Importer, used: set[int]) -> tuple[list[dict[str, Any]], dict[int, int]]:
    events: list[dict[str, Any]] = []
    by_obs: dict[int, int] = {}
    for res in imp.of_type("Observation"):
        if not _is_disease_status(res):
            continue
        used.add(id(res))
        value = res.valueCodeableConcept
        kind = _own(EventKind, [value])
        note: str | None = None
        if kind is None and _has_code(value, c.STATUS_WORSENED.system, c.STATUS_WORSENED.code):
            kind, note = _worsened_kind(
                imp, imp.date(res, "effectiveDateTime", res.effectiveDateTime)
            )
            if kind is None:
                imp.note_unmapped(res, "valueCodeableConcept", _codings(value), note)
                continue
        if kind is None:
            if any(
                cd.system == c.SNOMED and cd.code in c.STATUS_NOT_AN_EVENT for cd in _codings(value)
            ):
                imp.skip(res, "disease status is not a relapse or progression")
            else:
                imp.note_unmapped(
                    res,
                    "valueCodeableConcept",
                    _codings(value),
                    "disease status does not say whether this is a relapse or a progression",
                )
            continue
        event: dict[str, Any] = {"kind": kind.value}
        when = imp.date(res, "effectiveDateTime", res.effectiveDateTime)
        if when is not None:
            event["date"] = when.isoformat()
        idx = len(events)
        sites = []
        for j, comp in enumerate(res.component or []):
            site = _event_site(comp)
            if site is None:
                imp.note_unmapped(
                    res, f"component[{j}].code", _codings(comp.code), "not an event-site extent"
                )
            else:
                sites.append(site)
        if sites:
            event["sites"] = sites
        for path, value in casefields.read(res.extension):
            casefields.assign(event, path, value)
            imp.prov(f"events[{len(events)}].{path}", res, _CASE_FIELD_NOTE)
        events.append(event)
        by_obs[id(res)] = idx
        imp.prov(f"events[{idx}]", res, note)
    return events, by_obs


def _worsened_kind(imp: _Importer, when: dt.date | None) -> tuple[EventKind | None, str]:
    """A disease status "worsened" (SNOMED CT 271299001) is a progression when it is dated
    while a treatment plan was running, a relapse when dated after every plan had ended;
    without a date or plan periods it cannot be told, and is reported."""
    if when is None:
        return None, "worsened without a date: cannot tell relapse from progression"
    running = ended = False
    for plan in imp.of_type("CarePlan"):
        period = plan.period
        start = _to_date(period.start) if period is not None else None
        end = _to_date(period.end) if period is not None else None
        if start is None or start > when:
            continue
        if (end is None and plan.status == "active") or (end is not None and when <= end):
            running = True
        elif end is not None:
            ended = True
    if running:
        return EventKind.PROGRESSION, "disease worsened (271299001) while treatment was running"
    if ended:
        return EventKind.RELAPSE, "disease worsened (271299001) after treatment had ended"
    return None, (
        "worsened, but no dated treatment plan tells relapse (after therapy) from progression "
        "(on therapy)"
    )


def _secondary_conditions(
    imp: _Importer,
    dx: dict[str, Any],
    events: list[dict[str, Any]],
    status_obs: dict[int, int],
    used: set[int],
) -> None:
    dx_date = dx.get("date")
    at_diagnosis: list[str] = []
    for res in imp.of_type("Condition"):
        if not _is_secondary(res):
            continue
        used.add(id(res))
        site, considered = _secondary_site(res)
        if site is None:
            imp.note_unmapped(res, "code", considered, "secondary cancer site not mapped")
            continue
        onset = imp.date(res, "onsetDateTime", res.onsetDateTime)
        if onset is None or dx_date is None or onset.isoformat() <= dx_date:
            if site.value not in at_diagnosis:
                at_diagnosis.append(site.value)
            imp.prov("diagnosis.distant_metastases", res)
            continue
        match = [i for i, ev in enumerate(events) if ev.get("date") == onset.isoformat()]
        if not match:
            imp.note_unmapped(
                res,
                "onsetDateTime",
                considered,
                "metastasis found after diagnosis with no disease-status event on that date",
            )
            continue
        event = events[match[0]]
        sites = event.setdefault("sites", [])
        if not any(s.get("metastatic_site") == site.value for s in sites):
            sites.append({"extent": Extent.DISTANT.value, "metastatic_site": site.value})
        imp.prov(f"events[{match[0]}].sites", res)

    m = dx.pop("_m_category", None)
    if at_diagnosis:
        dx["distant_metastases"] = at_diagnosis
        if m is not None and m[0] == "M0":
            imp.problems.append(
                FieldProblem(
                    f"{_label(m[1])}.valueCodeableConcept",
                    "M0 stated, but metastatic Conditions are present at diagnosis",
                )
            )
    elif m is not None:
        code, res = m
        if code == "M0":
            dx["distant_metastases"] = []
            imp.prov("diagnosis.distant_metastases", res)
        else:
            imp.note_unmapped(
                res,
                "valueCodeableConcept",
                [],
                "M1 stated but no metastatic site given; sites left unknown",
            )


def _size_cm(imp: _Importer, res: Any) -> float | None:
    quantity = None
    for comp in res.component or []:
        if _has_code(comp.code, c.TUMOR_LONGEST_DIMENSION.system, c.TUMOR_LONGEST_DIMENSION.code):
            quantity = comp.valueQuantity
    if quantity is None:
        quantity = res.valueQuantity
    if quantity is None or quantity.value is None:
        imp.note_unmapped(res, "component[tumorLongestDimension]", [], "no longest dimension given")
        return None
    unit = quantity.code or quantity.unit
    if unit not in c.TUMOR_SIZE_UNITS_TO_CM:
        imp.problems.append(
            FieldProblem(
                f"{_label(res)}.valueQuantity.unit",
                f"unknown tumour size unit {unit!r}; expected cm or mm",
            )
        )
        return None
    return round(_num(quantity.value) * c.TUMOR_SIZE_UNITS_TO_CM[unit], 6)


def _tumour_belongs_to(imp: _Importer, body: Any) -> Any:
    """The record a tumour BodyStructure belongs to: rhabdo's identifier names it by full URL
    (primary Condition or disease-status Observation); else mCODE's related condition."""
    for ident in body.identifier or []:
        if ident.system == c.TUMOUR_IDENTIFIER_SYSTEM and ident.value in imp.index:
            return imp.index[ident.value]
    for url in (c.EXT_RELATED_CONDITION, c.EXT_CONDITION_RELATED):
        for ext in _ext(body, url):
            ref = ext.valueReference
            if ref is not None and ref.reference in imp.index:
                return imp.index[ref.reference]
    return None


def _tumour_sizes(
    imp: _Importer,
    dx: dict[str, Any],
    events: list[dict[str, Any]],
    status_obs: dict[int, int],
    primary: Any,
    used: set[int],
) -> None:
    for res in imp.of_type("Observation"):
        if not (
            _has_code(res.code, c.TUMOR_SIZE.system, c.TUMOR_SIZE.code)
            or c.PROFILE_TUMOR_SIZE in _profiles(res)
        ):
            continue
        used.add(id(res))
        size = _size_cm(imp, res)
        if size is None:
            continue
        target: str | None = None
        for j, ref in enumerate(res.focus or []):
            if (ref.reference or "").startswith(
                "BodyStructure/"
            ) and ref.reference not in imp.index:
                continue  # a tumour described elsewhere: the date decides below
            focus = imp.resolve(
                res, f"focus[{j}]", ref, ("Condition", "Observation", "BodyStructure")
            )
            if focus is not None and focus.resource_type == "BodyStructure":
                focus = _tumour_belongs_to(imp, focus)
            if focus is not None and focus is primary:
                target = "diagnosis"
            elif focus is not None and id(focus) in status_obs:
                target = f"events[{status_obs[id(focus)]}]"
        when = _to_date(res.effectiveDateTime)
        if target is None and when is not None:
            matches = [i for i, ev in enumerate(events) if ev.get("date") == when.isoformat()]
            if matches:
                target = f"events[{matches[0]}]"
            elif dx.get("date") is not None and when.isoformat() <= dx["date"]:
                target = "diagnosis"
        if target is None:
            imp.note_unmapped(
                res,
                "effectiveDateTime",
                [],
                "cannot tell whether this size is the size at diagnosis or at a relapse",
            )
            continue
        holder = dx if target == "diagnosis" else events[int(target[len("events[") : -1])]
        if "max_diameter_cm" in holder and holder["max_diameter_cm"] != size:
            imp.note_unmapped(
                res,
                "component[tumorLongestDimension]",
                [],
                f"conflicts with an earlier size for {target}",
            )
            continue
        holder["max_diameter_cm"] = size
        imp.prov(f"{target}.max_diameter_cm", res)


# --- treatment -------------------------------------------------------------------------


def _line_number(res: Any) -> int | None:
    for ext in _ext(res, c.EXT_LINE_NUMBER):
        value = ext.valuePositiveInt
        if value is not None:
            return int(value)
    return None


def _is_line_plan(res: Any) -> bool:
    return any(cd.system == c.TREATMENT_LINE_SYSTEM for cd in _codings_all(res.category))


def _dose_unit(imp: _Importer, res: Any, element: str, quantity: Any) -> DoseUnit | None:
    unit = quantity.code if quantity.code else quantity.unit
    if quantity.system not in (None, c.UCUM) and quantity.code:
        unit = quantity.unit
    found = c.DOSE_UNIT_FROM_UCUM.get(str(unit)) if unit else None
    if found is None:
        imp.problems.append(FieldProblem(f"{_label(res)}.{element}", f"unknown dose unit {unit!r}"))
    return found


def _agent(imp: _Importer, res: Any) -> tuple[ChemotherapyAgent, str | None] | None:
    concept = res.medicationCodeableConcept
    if concept is None:
        imp.note_unmapped(
            res, "medication", [], "medication given by reference; only coded medications are read"
        )
        return None
    agent = _own(ChemotherapyAgent, [concept])
    if agent is None:
        agent = next(
            (
                c.AGENT_FROM_RXNORM[cd.code]
                for cd in _codings(concept)
                if cd.system == c.RXNORM and cd.code in c.AGENT_FROM_RXNORM
            ),
            None,
        )
    if agent is not None and agent is not ChemotherapyAgent.OTHER:
        return agent, None
    name = concept.text or next((cd.display for cd in _codings(concept) if cd.display), None)
    if agent is None:
        imp.note_unmapped(
            res,
            "medicationCodeableConcept",
            _codings(concept),
            "drug not in the agent vocabulary; kept as 'other'",
        )
    if not name:
        return None
    return ChemotherapyAgent.OTHER, name[:100]


class _Lines:
    """The treatment lines being built, and how a resource finds its line.

    A resource belongs to the line whose CarePlan it is ``basedOn`` (directly or through the
    MedicationRequest it fulfils).  Without such a reference its date decides: before or on the
    first relapse/progression date it is first-line, after event *k* it is later line *k*.  A
    resource with neither is reported, not placed.
    """

    def __init__(self, imp: _Importer, events: list[dict[str, Any]]) -> None:
        self.imp = imp
        self.lines: list[dict[str, Any]] = []
        self.plan_index: dict[int, int] = {}
        self.event_dates = sorted(ev["date"] for ev in events if ev.get("date"))

    @staticmethod
    def name(idx: int) -> str:
        return "first_line" if idx == 0 else f"later_lines[{idx - 1}]"

    def add_plan(self, res: Any, line: dict[str, Any]) -> None:
        self.plan_index[id(res)] = len(self.lines)
        self.imp.prov(self.name(len(self.lines)), res)
        self.lines.append(line)

    def line_for(self, res: Any, when: dt.date | None, based_on: list[Any]) -> int | None:
        for j, ref in enumerate(based_on):
            plan = self.imp.resolve(res, f"basedOn[{j}]", ref, ("CarePlan", "MedicationRequest"))
            if plan is not None and plan.resource_type == "MedicationRequest":
                return self.line_for(plan, when, list(plan.basedOn or []))
            if plan is not None and id(plan) in self.plan_index:
                return self.plan_index[id(plan)]
        if not self.event_dates:
            idx = 0
        elif when is None:
            self.imp.skip(
                res, "no date and no treatment-line reference: cannot be placed in a treatment line"
            )
            return None
        else:
            idx = sum(1 for d in self.event_dates if d < when.isoformat())
        while len(self.lines) <= idx:
            self.lines.append({})
        return idx

    def add(
        self, idx: int, key: str, item: dict[str, Any], res: Any, note: str | None = None
    ) -> None:
        bucket = self.lines[idx].setdefault(key, [])
        self.imp.prov(f"{self.name(idx)}.{key}[{len(bucket)}]", res, note)
        bucket.append(item)


def _treatment(
    imp: _Importer, dx: dict[str, Any], events: list[dict[str, Any]], used: set[int]
) -> list[dict[str, Any]]:
    """Treatment lines from CarePlans, body measurements, procedures and medications."""
    lines = _Lines(imp, events)
    _line_plans(imp, lines, used)
    _body_measurements(imp, lines, used)
    _procedures(imp, lines, used)
    _chemotherapy(imp, lines, used)
    return lines.lines


def _line_plans(imp: _Importer, lines: _Lines, used: set[int]) -> None:
    plans = [r for r in imp.of_type("CarePlan") if _is_line_plan(r)]
    plans.sort(key=lambda r: _line_number(r) or 10_000)
    for res in plans:
        used.add(id(res))
        line: dict[str, Any] = {}
        if res.title:
            line["protocol"] = res.title[:200]
        start = imp.date(res, "period.start", res.period.start) if res.period is not None else None
        end = imp.date(res, "period.end", res.period.end) if res.period is not None else None
        if start is not None:
            line["start_date"] = start.isoformat()
        if end is not None:
            line["end_date"] = end.isoformat()
        if res.status in ("active", "completed"):
            line["ongoing"] = res.status == "active"
        for activity in res.activity or []:
            detail = activity.detail
            if detail is not None and _has_code(
                detail.code, c.RADIOTHERAPY_COURSE.system, c.RADIOTHERAPY_COURSE.code
            ):
                line["radiotherapy_given"] = not bool(detail.doNotPerform)
        lines.add_plan(res, line)
        idx = lines.plan_index[id(res)]
        for path, value in casefields.read(res.extension):
            imp.line_fields.append((idx, path, value, res))


def _body_measurements(imp: _Importer, lines: _Lines, used: set[int]) -> None:
    """Body-surface area and weight used for dosing: one value per line."""
    for res in imp.of_type("Observation"):
        is_bsa = _has_code(res.code, c.BODY_SURFACE_AREA.system, c.BODY_SURFACE_AREA.code)
        if not (is_bsa or _has_code(res.code, c.BODY_WEIGHT.system, c.BODY_WEIGHT.code)):
            continue
        used.add(id(res))
        measure, target = ("body_surface_area_m2", "m2") if is_bsa else ("weight_kg", "kg")
        value = _measured(imp, res, target)
        if value is None:
            continue
        idx = lines.line_for(res, _to_date(res.effectiveDateTime), list(res.basedOn or []))
        if idx is None:
            continue
        line = lines.lines[idx]
        if measure in line and line[measure] != value:
            imp.note_unmapped(
                res, "valueQuantity", [], f"a second, different {measure} for this line"
            )
            continue
        line[measure] = value
        imp.prov(f"{lines.name(idx)}.{measure}", res)


def _procedure_site_text(res: Any) -> str | None:
    text = next((bs.text for bs in (res.bodySite or []) if bs.text), None)
    if text is None:
        text = next(
            (
                cd.display
                for cd in _codings_all(res.bodySite)
                if cd.display and not (cd.system or "").startswith(c.RHABDO_BASE)
            ),
            None,
        )
    return text[:200] if text else None


def _procedures(imp: _Importer, lines: _Lines, used: set[int]) -> None:
    """Radiotherapy course summaries and cancer-related surgical procedures."""
    for res in imp.of_type("Procedure"):
        is_rt = _has_code(
            res.code, c.RADIOTHERAPY_COURSE.system, c.RADIOTHERAPY_COURSE.code
        ) or c.PROFILE_RT_COURSE in _profiles(res)
        is_surgery = c.PROFILE_SURGERY in _profiles(res) or _has_code(
            res.category, c.SURGICAL_PROCEDURE.system, c.SURGICAL_PROCEDURE.code
        )
        if not (is_rt or is_surgery):
            continue
        used.add(id(res))
        start = _to_date(res.performedDateTime) or (
            _to_date(res.performedPeriod.start) if res.performedPeriod else None
        )
        idx = lines.line_for(res, start, list(res.basedOn or []))
        if idx is None:
            continue
        if is_rt:
            for course, note in _radiotherapy_courses(imp, res, start):
                lines.add(idx, "radiotherapy", course, res, note)
        else:
            lines.add(idx, "surgeries", _surgery(imp, res, start), res)


def _surgery(imp: _Importer, res: Any, start: dt.date | None) -> dict[str, Any]:
    surgery: dict[str, Any] = {}
    if start:
        surgery["date"] = start.isoformat()
    site = _procedure_site_text(res)
    if site:
        surgery["site"] = site
    margin = _own(Margin, [res.outcome] if res.outcome else [])
    if margin is not None:
        surgery["margin"] = margin.value
    elif _codings(res.outcome):
        imp.note_unmapped(res, "outcome", _codings(res.outcome), "outcome is not a margin code")
    if _codings(res.code):
        imp.note_unmapped(
            res, "code", _codings(res.code), "the kind of operation is not part of the case model"
        )
    return surgery


def _radiotherapy_courses(
    imp: _Importer, res: Any, start: dt.date | None
) -> list[tuple[dict[str, Any], str | None]]:
    """One course per dose-delivered-to-volume entry (mCODE RadiotherapyCourseSummary)."""
    base: dict[str, Any] = {}
    target = _own(RadiotherapyTarget, list(res.reasonCode or []))
    if target is not None:
        base["target"] = target.value
    elif res.reasonCode:
        imp.note_unmapped(
            res, "reasonCode", _codings_all(res.reasonCode), "not a radiotherapy target code"
        )
    site = _procedure_site_text(res)
    if site:
        base["target_site"] = site
    region = _own(BodyRegion, list(res.bodySite or []))
    if region is not None:
        base["body_region"] = region.value
    elif _codings_all(res.bodySite):
        imp.note_unmapped(
            res, "bodySite", _codings_all(res.bodySite), "body site has no body-region mapping"
        )
    end = _to_date(res.performedPeriod.end) if res.performedPeriod else None
    if start:
        base["start_date"] = start.isoformat()
    if end:
        base["end_date"] = end.isoformat()
    for ext in _ext(res, c.EXT_BRACHYTHERAPY):
        if ext.valueBoolean is not None:
            base["brachytherapy"] = bool(ext.valueBoolean)
    volumes = _ext(res, c.EXT_RT_DOSE_TO_VOLUME)
    if not volumes:
        return [(base, None)]
    courses = []
    for k, vol in enumerate(volumes):
        course = dict(base)
        for sub in vol.extension or []:
            if sub.url == "totalDoseDelivered" and sub.valueQuantity is not None:
                dose = _radiation_dose_gy(imp, res, k, sub.valueQuantity)
                if dose is not None:
                    course["total_dose_gy"] = dose
            elif sub.url == "fractionsDelivered" and sub.valueUnsignedInt is not None:
                course["fractions"] = int(sub.valueUnsignedInt)
        courses.append((course, f"dose-delivered-to-volume [{k}]" if len(volumes) > 1 else None))
    return courses


def _radiation_dose_gy(imp: _Importer, res: Any, k: int, quantity: Any) -> float | None:
    unit = quantity.code or quantity.unit
    if unit not in c.RADIATION_DOSE_UNITS_TO_GY or quantity.value is None:
        imp.problems.append(
            FieldProblem(
                f"{_label(res)}.extension[doseDeliveredToVolume][{k}].totalDoseDelivered",
                f"unknown radiation dose unit {unit!r}; expected Gy or cGy",
            )
        )
        return None
    return round(_num(quantity.value) * c.RADIATION_DOSE_UNITS_TO_GY[unit], 6)


def _chemotherapy(imp: _Importer, lines: _Lines, used: set[int]) -> None:
    """MedicationAdministrations are counted; the requests they fulfil are superseded."""
    order = {id(res): n for n, (_, res) in enumerate(imp.resources)}
    administrations = imp.of_type("MedicationAdministration")
    fulfilled: set[int] = set()
    for res in administrations:
        if res.request is not None:
            req = imp.resolve(res, "request", res.request, ("MedicationRequest",))
            if req is not None:
                fulfilled.add(id(req))
    pending: list[tuple[int, int, dict[str, Any], Any, str | None]] = []
    for res in imp.of_type("MedicationRequest"):
        used.add(id(res))
        if id(res) in fulfilled:
            imp.skip(
                res, "fulfilled by MedicationAdministration resources, which are counted instead"
            )
            continue
        placed = _requested_exposure(imp, lines, res)
        if placed is not None:
            pending.append((order[id(res)], placed[0], placed[1], res, placed[2]))
    for (idx, agent_code, agent_name, dose, unit), given in _grouped_administrations(
        imp, lines, administrations, used
    ).items():
        exposure: dict[str, Any] = {"agent": agent_code, "administrations": len(given)}
        if agent_name:
            exposure["agent_name"] = agent_name
        if dose is not None:
            exposure["dose_per_administration"] = dose
            exposure["dose_unit"] = unit
        summary = f"{len(given)} MedicationAdministration resources: " + ", ".join(
            _label(r) for r in given
        )
        pending.append((order[id(given[0])], idx, exposure, given[0], summary))
    for _, line_idx, item, source, remark in sorted(pending, key=lambda entry: entry[0]):
        lines.add(line_idx, "chemotherapy", item, source, remark)


def _requested_exposure(
    imp: _Importer, lines: _Lines, res: Any
) -> tuple[int, dict[str, Any], str | None] | None:
    """One exposure from a MedicationRequest: dose, count (timing.repeat.count), cumulative dose."""
    agent = _agent(imp, res)
    if agent is None:
        return None
    dosage = (res.dosageInstruction or [None])[0]
    repeat = dosage.timing.repeat if dosage is not None and dosage.timing is not None else None
    when = (
        _to_date(repeat.boundsPeriod.start) if repeat is not None and repeat.boundsPeriod else None
    )
    idx = lines.line_for(res, when or _to_date(res.authoredOn), list(res.basedOn or []))
    if idx is None:
        return None
    exposure: dict[str, Any] = {"agent": agent[0].value}
    if agent[1]:
        exposure["agent_name"] = agent[1]
    if dosage is not None:
        dose_q = next(
            (dr.doseQuantity for dr in dosage.doseAndRate or [] if dr.doseQuantity is not None),
            None,
        )
        if dose_q is not None and dose_q.value is not None:
            unit = _dose_unit(imp, res, "dosageInstruction[0].doseAndRate[0].doseQuantity", dose_q)
            if unit is not None:
                exposure["dose_per_administration"] = _num(dose_q.value)
                exposure["dose_unit"] = unit.value
    if repeat is not None and repeat.count:
        exposure["administrations"] = int(repeat.count)
    for ext in _ext(res, c.EXT_CUMULATIVE_DOSE):
        q = ext.valueQuantity
        if q is not None and q.value is not None:
            unit = _dose_unit(imp, res, "extension[cumulative-dose]", q)
            if unit is not None:
                exposure["cumulative_dose"] = _num(q.value)
                exposure["cumulative_dose_unit"] = unit.value
    note = None
    if _ext(res, c.EXT_NORMALIZATION_BASIS):
        note = "dose normalised to body-surface area (normalizationBasis)"
    return idx, exposure, note


def _grouped_administrations(
    imp: _Importer, lines: _Lines, administrations: list[Any], used: set[int]
) -> dict[tuple[Any, ...], list[Any]]:
    """Administrations grouped by (line, agent, name, dose, unit): each group is one exposure."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for res in administrations:
        used.add(id(res))
        agent = _agent(imp, res)
        if agent is None:
            continue
        when = _to_date(res.effectiveDateTime) or (
            _to_date(res.effectivePeriod.start) if res.effectivePeriod is not None else None
        )
        idx = lines.line_for(res, when, [res.request] if res.request is not None else [])
        if idx is None:
            continue
        dose_value: float | None = None
        unit_value: str | None = None
        dose = res.dosage.dose if res.dosage is not None else None
        if dose is not None and dose.value is not None:
            unit = _dose_unit(imp, res, "dosage.dose", dose)
            if unit is not None:
                dose_value, unit_value = _num(dose.value), unit.value
        grouped.setdefault((idx, agent[0].value, agent[1], dose_value, unit_value), []).append(res)
    return grouped


def _measured(imp: _Importer, res: Any, target: str) -> float | None:
    """A quantity converted to ``target`` by UCUM; a unit that does not convert is noted and
    the value not used (the rest of the bundle still imports)."""
    quantity = res.valueQuantity
    if quantity is None or quantity.value is None:
        imp.note_unmapped(res, "valueQuantity", [], "no value")
        return None
    unit = quantity.code or quantity.unit
    value = convert(_num(quantity.value), unit, target)
    if value is None:
        imp.note_unmapped(
            res, "valueQuantity", [], f"unit {unit!r} does not convert to {target}; value not used"
        )
    return value


def _performance(imp: _Importer, used: set[int]) -> dict[str, Any] | None:
    """The latest Karnofsky or Lansky score (mCODE performance-status profiles)."""
    found: list[tuple[str, Any, PerformanceScale]] = []
    for res in imp.of_type("Observation"):
        profiles = _profiles(res)
        if c.PROFILE_KARNOFSKY in profiles or _has_code(
            res.code, c.KARNOFSKY.system, c.KARNOFSKY.code
        ):
            scale = PerformanceScale.KARNOFSKY
        elif c.PROFILE_LANSKY in profiles or any(
            cd.code == c.LANSKY.code for cd in _codings(res.code)
        ):
            scale = PerformanceScale.LANSKY
        else:
            continue
        used.add(id(res))
        score = res.valueInteger
        if score is None or not 0 <= int(score) <= 100 or int(score) % 10:
            imp.problems.append(
                FieldProblem(
                    f"{_label(res)}.valueInteger", f"{scale.label} score must be 0-100 in tens"
                )
            )
            continue
        when = _to_date(res.effectiveDateTime)
        found.append((when.isoformat() if when else "", res, scale))
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    for _, older, _ in found[:-1]:
        imp.skip(older, "an earlier performance status; the latest is used")
    _, res, scale = found[-1]
    imp.prov("current.performance", res)
    return {"scale": scale.value, "score": int(res.valueInteger)}


# --- what was left ---------------------------------------------------------------------

_NOT_READ = {
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Encounter",
    "DiagnosticReport",
    "Specimen",
    "BodyStructure",
    "FamilyMemberHistory",
    "Group",
    "Provenance",
    "Device",
}
_OUTPUT_TYPES = {"RiskAssessment", "GuidanceResponse", "RequestGroup", "Task"}


def _explain_unused(imp: _Importer, res: Any) -> None:
    rtype = res.resource_type
    if rtype in _OUTPUT_TYPES or (
        rtype == "Observation"
        and any(cd.system == c.FINDING_CODE_SYSTEM for cd in _codings(res.code))
    ):
        imp.skip(res, "rhabdo assessment output, not case input")
    elif rtype == "Condition":
        imp.note_unmapped(
            res, "code", _codings(res.code), "not a primary or secondary cancer Condition"
        )
    elif rtype == "Observation":
        imp.note_unmapped(
            res, "code", _codings(res.code), "observation code is not part of the mapping"
        )
    elif rtype == "Procedure":
        imp.note_unmapped(
            res,
            "code",
            _codings(res.code),
            "procedure is neither cancer surgery nor a radiotherapy course",
        )
    elif rtype in _NOT_READ:
        imp.skip(res, f"{rtype} resources are not read")
    else:
        imp.skip(res, f"{rtype} is not part of the mapping")
