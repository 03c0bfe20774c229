"""Treatment lines: CarePlans, body measurements, procedures (surgery, radiotherapy) and
chemotherapy (MedicationRequest / MedicationAdministration)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rhabdo.case.vocab import (
    BodyRegion,
    ChemotherapyAgent,
    DoseUnit,
    Margin,
    RadiotherapyTarget,
)
from rhabdo.errors import FieldProblem
from rhabdo.interop import codes as c
from rhabdo.interop import fhir_casefields as casefields
from rhabdo.interop.fhir_read.common import (
    _codings,
    _codings_all,
    _ext,
    _has_code,
    _Importer,
    _label,
    _num,
    _own,
    _profiles,
    _to_date,
)
from rhabdo.interop.fhir_read.observations import _measured

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
