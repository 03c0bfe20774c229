"""Read a case from a FHIR R4 Bundle of mCODE (STU4) resources.

``case_from_bundle(bundle)`` validates the entries of the resource types it reads (``READ_TYPES``,
with the ``fhir.resources`` models) and skips, with a note, every other FHIR R4 type and every
withdrawn record (entered in error, refuted, cancelled); then the readers in
``rhabdo.interop.fhir_read`` (one module per kind of record: patient, diagnosis, events,
treatment, observations; units in ``rhabdo.interop.units``, codes in ``rhabdo.interop.codes``)
map what they understand onto the ``Case`` model:

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
* the latest Karnofsky or Lansky performance status;
* rhabdo's ``case-field`` extensions (``rhabdo.interop.fhir_casefields``): the fields mCODE has
  no element for.

A primary cancer that is not rhabdomyosarcoma is refused, naming the diagnosis found
(``rhabdo.interop.fhir_diagnosis``); a bundle without one imports with the diagnosis explicitly
unknown (``ImportResult.notes``).

Nothing is guessed.  A code that has no mapping is listed in ``ImportResult.unmapped`` with the
resource and the code; a resource that is read but not used is listed in ``skipped`` with the
reason; every case field filled records the resource it came from in ``provenance``.  A
malformed bundle (wrong resourceType, invalid resource, broken reference, unknown unit) raises
``CaseValidationError`` naming the resource and the element.  Code maps live in
``rhabdo.interop.codes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.interop import codes as c
from rhabdo.interop import fhir_casefields as casefields
from rhabdo.interop.fhir_read.common import (
    _CASE_FIELD_NOTE,
    _NOT_READ,
    _OUTPUT_TYPES,
    DIAGNOSIS_UNKNOWN,
    R4_RESOURCE_TYPES,
    READ_TYPES,
    SOURCE,
    ImportResult,
    ProvenanceEntry,
    Skipped,
    Unmapped,
    _codings,
    _Importer,
)
from rhabdo.interop.fhir_read.diagnosis import _genomics, _primary_condition, _staging
from rhabdo.interop.fhir_read.events import _events, _secondary_conditions, _tumour_sizes
from rhabdo.interop.fhir_read.observations import _performance
from rhabdo.interop.fhir_read.patient import _check_subjects, _patient, _patient_fields
from rhabdo.interop.fhir_read.treatment import _Lines, _treatment

__all__ = [
    "DIAGNOSIS_UNKNOWN",
    "MAPPED_FIELDS",
    "R4_RESOURCE_TYPES",
    "READ_TYPES",
    "SOURCE",
    "ImportResult",
    "ProvenanceEntry",
    "Skipped",
    "Unmapped",
    "case_from_bundle",
    "mapped_view",
]

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


# --- what was left ---------------------------------------------------------------------


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
