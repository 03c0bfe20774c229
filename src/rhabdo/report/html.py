"""The tumour-board report as one self-contained HTML page (inline CSS and SVG, no network)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from rhabdo.case.model import Case
from rhabdo.labels import field_label, unit_label, words
from rhabdo.report.charts import Chart, prognosis_charts
from rhabdo.report.common import (
    References,
    candidates_text,
    finding_answer,
    finding_title,
    finding_value,
    findings_by_section,
    format_value,
    missing_line,
    needs_text,
    recommendations_by_category,
)
from rhabdo.report.figures import timeline_svg
from rhabdo.report.page_one import page_one
from rhabdo.report.summary import dates_line, diagnosis_summary
from rhabdo.report.text import DISCLAIMER
from rhabdo.report.timeline import timeline_spans, undated_items
from rhabdo.results import Assessment, Finding


def _finalize(value: Any) -> Any:
    """Every plain string the template prints reads in words: field paths become labels and
    doubled punctuation goes ('et al..').  Markup (the figures) is left as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return words(value)
    return value


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("rhabdo.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["fmtv"] = format_value
    env.filters["field_label"] = field_label
    return env


@dataclass(frozen=True)
class ExposureRow:
    finding: Finding
    total: str
    thresholds_reached: list[str]


def _threshold_text(t: dict[str, Any]) -> str:
    at_least = format_value(t.get("at_least"))
    unit = unit_label(str(t.get("unit") or ""))
    return f"≥ {at_least} {unit}: {t.get('meaning', '')}".strip()


def exposure_rows(assessment: Assessment) -> list[ExposureRow]:
    """Cumulative exposure with units and the published thresholds each total has reached."""
    rows = []
    for fid, f in assessment.findings.items():
        if not fid.startswith("exposure."):
            continue
        details = f.details if isinstance(f.details, dict) else {}
        total = finding_answer(f)
        reached_ids = set(details.get("thresholds_reached") or [])
        reached = [
            _threshold_text(t)
            for t in details.get("thresholds") or []
            if isinstance(t, dict) and t.get("id") in reached_ids
        ]
        rows.append(ExposureRow(finding=f, total=total, thresholds_reached=reached))
    return rows


@dataclass(frozen=True)
class RadiotherapyRow:
    line: str
    target: str
    region: str
    dose: str
    fractions: str
    dates: str


def radiotherapy_rows(case: Case) -> list[RadiotherapyRow]:
    rows = []
    for i, line in enumerate(case.all_treatment_lines()):
        line_name = "first line" if i == 0 and case.first_line else f"line {i + 1}"
        for rt in line.radiotherapy:
            target = rt.target_site or (rt.target.label if rt.target else "not recorded")
            dates = (
                " – ".join(d.isoformat() for d in (rt.start_date, rt.end_date) if d)
                or "not recorded"
            )
            rows.append(
                RadiotherapyRow(
                    line=line_name,
                    target=target,
                    region=rt.body_region.label if rt.body_region else "not recorded",
                    dose=f"{rt.total_dose_gy:g} Gy"
                    if rt.total_dose_gy is not None
                    else "not recorded",
                    fractions=str(rt.fractions) if rt.fractions is not None else "not recorded",
                    dates=dates,
                )
            )
    return rows


def report_context(case: Case, assessment: Assessment) -> dict[str, Any]:
    """Everything the template shows, computed once (the web page uses the same context)."""
    spans = timeline_spans(case)
    sections = [(t, fs) for t, fs in findings_by_section(assessment) if t != "Treatment exposure"]
    exposure = exposure_rows(assessment)
    charts: list[Chart] = prognosis_charts(assessment)
    return {
        "a": assessment,
        "prov": assessment.provenance,
        "summary": diagnosis_summary(case),
        "dates": dates_line(case, assessment),
        "timeline_svg": timeline_svg(spans) if spans else "",
        "undated": undated_items(case),
        "sections": sections,
        "exposure": exposure,
        "radiotherapy": radiotherapy_rows(case),
        "charts": charts,
        "p1": page_one(case, assessment, charts),
        "categories": recommendations_by_category(assessment),
        "refs": References(assessment),
        "title_of": finding_title,
        "answer": lambda f: finding_answer(f, case),
        "value_of": finding_value,
        "candidates_of": candidates_text,
        "needs_of": lambda f: needs_text(f, case),
        "missing_of": lambda m: missing_line(m, case),
        "disclaimer": DISCLAIMER,
    }


def render_html(case: Case, assessment: Assessment) -> str:
    return str(
        _environment().get_template("report.html.j2").render(**report_context(case, assessment))
    )
