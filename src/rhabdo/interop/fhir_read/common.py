"""What every FHIR reader shares: the import result types, small readers over
``fhir.resources`` objects, and the importer that holds the bundle (validation of the types read,
withdrawn records, references, provenance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rhabdo.case.model import Case
from rhabdo.errors import FhirBundleError, FieldProblem
from rhabdo.interop import codes as c

SOURCE = "FHIR bundle"
_CASE_FIELD_NOTE = "rhabdo case-field extension"
DIAGNOSIS_UNKNOWN = (
    "no primary cancer Condition: the diagnosis is unknown (not stated in the bundle) and is "
    "not assumed to be rhabdomyosarcoma"
)


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
