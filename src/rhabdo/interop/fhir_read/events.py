"""Disease events: disease-status Observations (relapse, progression, 'worsened'), secondary
cancer Conditions and tumour sizes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rhabdo.case.vocab import (
    BodyRegion,
    EventKind,
    Extent,
    MetastaticSite,
)
from rhabdo.errors import FieldProblem
from rhabdo.interop import codes as c
from rhabdo.interop import fhir_casefields as casefields
from rhabdo.interop.fhir_read.common import (
    _CASE_FIELD_NOTE,
    _codings,
    _ext,
    _has_code,
    _Importer,
    _label,
    _num,
    _own,
    _profiles,
    _to_date,
)
from rhabdo.interop.fhir_read.diagnosis import _is_secondary, _secondary_site

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
