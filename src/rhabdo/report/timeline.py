"""The disease course as data: every dated item placed in months from first diagnosis.

Kept apart from drawing so that the placement can be tested exactly and the figure code stays
thin.  Months are days / 30.4375 (the mean Gregorian month), the same convention everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rhabdo.case.model import Case

DAYS_PER_MONTH = 30.4375


class Lane(StrEnum):
    CHEMOTHERAPY = "Chemotherapy"
    RADIOTHERAPY = "Radiotherapy"
    SURGERY = "Surgery"
    EVENTS = "Diagnosis & events"


@dataclass(frozen=True)
class Span:
    lane: Lane
    label: str
    start_month: float
    end_month: float | None  # None: a single point in time; open-ended if ongoing
    ongoing: bool = False


def months_between(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_MONTH


def timeline_spans(case: Case) -> list[Span]:
    """Every dated item of the case; undated ones are left out (``undated_items`` names them)."""
    dx = case.diagnosis.date
    if dx is None:
        return []
    spans = [Span(Lane.EVENTS, "Diagnosis", 0.0, None)]
    for i, line in enumerate(case.all_treatment_lines()):
        name = line.protocol or ("first line" if i == 0 and case.first_line else f"line {i + 1}")
        if line.start_date:
            end = months_between(dx, line.end_date) if line.end_date else None
            spans.append(
                Span(
                    Lane.CHEMOTHERAPY,
                    name,
                    months_between(dx, line.start_date),
                    end,
                    bool(line.ongoing),
                )
            )
        for rt in line.radiotherapy:
            if rt.start_date:
                dose = f" {rt.total_dose_gy:g} Gy" if rt.total_dose_gy else ""
                site = rt.target_site or (rt.body_region.label if rt.body_region else "RT")
                end = months_between(dx, rt.end_date) if rt.end_date else None
                spans.append(
                    Span(Lane.RADIOTHERAPY, f"{site}{dose}", months_between(dx, rt.start_date), end)
                )
        for s in line.surgeries:
            if s.date:
                margin = f" ({s.margin.value})" if s.margin else ""
                spans.append(
                    Span(
                        Lane.SURGERY,
                        f"{s.site or 'surgery'}{margin}",
                        months_between(dx, s.date),
                        None,
                    )
                )
    for ev in case.events:
        if ev.date:
            spans.append(
                Span(Lane.EVENTS, ev.kind.value.capitalize(), months_between(dx, ev.date), None)
            )
    return spans


def undated_items(case: Case) -> list[str]:
    """Items the timeline cannot place, so the report can say they are missing from it."""
    out = []
    if case.diagnosis.date is None:
        out.append("date of diagnosis (no timeline can be drawn)")
    for i, line in enumerate(case.all_treatment_lines()):
        if line.start_date is None and (line.chemotherapy or line.protocol):
            out.append(f"start of treatment line {i + 1}")
        out.extend(
            f"radiotherapy course {j + 1} of line {i + 1}"
            for j, rt in enumerate(line.radiotherapy)
            if rt.start_date is None
        )
    out.extend(
        f"event {i + 1} ({ev.kind.value})" for i, ev in enumerate(case.events) if ev.date is None
    )
    return out
