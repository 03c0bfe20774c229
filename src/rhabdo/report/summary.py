"""One-line descriptions of the case for headers (no identifiers beyond the pseudonymous id)."""

from __future__ import annotations

import datetime as dt

from rhabdo.case.model import Case
from rhabdo.results import Assessment


def age_in_words(days: int | None) -> str:
    if days is None:
        return "age unknown"
    if days < 365:
        return f"{days // 30} months"
    return f"{days / 365.25:.1f} years"


def diagnosis_summary(case: Case) -> str:
    """'8.2-year-old male; embryonal RMS, paratesticular, 4 cm, N0, M0; diagnosed 2021-05'."""
    d = case.diagnosis
    parts = [age_in_words(case.age_at_diagnosis_days) + " at diagnosis"]
    if case.patient.sex:
        parts[0] += f", {case.patient.sex.label}"
    tumour = [d.histology.label if d.histology else "histology unknown"]
    tumour.append(d.primary_site.label if d.primary_site else "site unknown")
    if d.foxo1_fusion:
        tumour.append(d.foxo1_fusion.label)
    if d.max_diameter_cm is not None:
        tumour.append(f"{d.max_diameter_cm:g} cm")
    if d.regional_nodes:
        tumour.append(d.regional_nodes.value)
    if d.distant_metastases is not None:
        tumour.append(
            "M1 (" + ", ".join(s.label for s in d.distant_metastases) + ")"
            if d.distant_metastases
            else "M0"
        )
    parts.append(", ".join(tumour))
    if d.date:
        parts.append(f"diagnosed {d.date:%Y-%m}")
    if case.events:
        kinds = ", ".join(
            f"{e.kind.value} {e.date:%Y-%m}" if e.date else e.kind.value for e in case.events
        )
        parts.append(kinds)
    return "; ".join(parts)


def case_date(case: Case) -> tuple[dt.date, str] | None:
    """The date the case describes: the recorded assessment date of the current state, else
    the latest date recorded anywhere in the case (with which one it is)."""
    if case.current and case.current.assessed_on:
        return case.current.assessed_on, "case date"
    dates = [d for d in _recorded_dates(case) if d is not None]
    return (max(dates), "latest date in the case") if dates else None


def _recorded_dates(case: Case) -> list[dt.date | None]:
    out: list[dt.date | None] = [case.diagnosis.date]
    out += [e.date for e in case.events]
    for line in case.all_treatment_lines():
        out += [line.start_date, line.end_date]
        out += [rt.end_date or rt.start_date for rt in line.radiotherapy]
        out += [s.date for s in line.surgeries]
    return out


def dates_line(case: Case, assessment: Assessment) -> str:
    """'assessed as of 2023-12-01 (case date) · generated 2026-12-07 · engine 0.1.0 ·
    knowledge 2026.11.22' -- the two dates never look alike."""
    prov = assessment.provenance
    found = case_date(case)
    as_of = (
        f"assessed as of {found[0].isoformat()} ({found[1]})"
        if found
        else "assessed with no date recorded in the case"
    )
    return (
        f"{as_of} · generated {prov.assessed_on} · engine {prov.engine_version} · "
        f"knowledge {prov.knowledge_version}"
    )
