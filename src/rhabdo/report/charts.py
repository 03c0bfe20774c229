"""Published-outcome charts for the prognostic findings that apply to the patient.

Each chart shows one published series -- the figures one source gives for the categories of one
measure at one time point (e.g. 3-year EFS by number of Oberlin factors) -- with the patient's
category highlighted (or every category still possible, when a finding is indeterminate).  Only
figures stored in ``knowledge/data/prognosis.yaml`` are drawn; no curve the source did not
publish is ever drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rhabdo.prognosis.knowledge import EntryKind, PrognosisEntry, prognosis_table
from rhabdo.report.figures import PublishedBar, outcome_bars_svg
from rhabdo.results import Assessment, Finding, FindingStatus


@dataclass(frozen=True)
class Chart:
    svg: str
    caption: str
    citations: list[str]
    entry_ids: list[str]


def _is_percent_outcome(e: PrognosisEntry) -> bool:
    return (
        e.kind is EntryKind.OUTCOME and e.value is not None and (e.unit or "").startswith("percent")
    )


def oberlin_entry_ids(f: Finding) -> set[str]:
    """The published entries that describe this patient's Oberlin category (or categories)."""
    if f.status is FindingStatus.NOT_APPLICABLE:
        return set()
    scores = [f.value] if f.status is FindingStatus.DETERMINED else list(f.candidates)
    ids = {f"oberlin_2008.efs3.factors_{s}" for s in scores if isinstance(s, int)}
    cut_points = f.details.get("cut_points") if isinstance(f.details, dict) else None
    if isinstance(cut_points, dict):
        for cp in cut_points.values():
            if isinstance(cp, dict):
                ids.update(_strings([cp.get("entry")]))
                ids.update(_strings(cp.get("entries") or []))
    return ids


def relapse_entry_ids(f: Finding) -> set[str]:
    models = f.details.get("models") if isinstance(f.details, dict) else None
    ids: set[str] = set()
    for m in models or []:
        if isinstance(m, dict) and m.get("applicable") and m.get("computable"):
            ids.update(_strings(m.get("entries") or []))
    return ids


def _strings(items: Iterable[Any]) -> set[str]:
    return {i for i in items if isinstance(i, str)}


def series_charts(highlight: set[str]) -> list[Chart]:
    """One chart per published series that contains a highlighted entry."""
    table = prognosis_table()
    by_series: dict[tuple[str, str, str], list[PrognosisEntry]] = {}
    for e in table:
        if _is_percent_outcome(e):
            key = (e.model, e.measure or "", e.time_point or "")
            by_series.setdefault(key, []).append(e)
    charts = []
    for (model, measure, time_point), entries in by_series.items():
        if not any(e.id in highlight for e in entries):
            continue
        bars = [
            PublishedBar(
                label=e.group or e.label, percent=float(e.value or 0), highlighted=e.id in highlight
            )
            for e in entries
        ]
        first = entries[0]
        citations = list(dict.fromkeys(c for e in entries for c in e.citations))
        title = f"{measure}, {time_point}" if time_point else measure
        caption = (
            f"{first.population or model}: published {measure} at "
            f"{time_point or 'the stated time'} "
            "by category; highlighted: this patient's category"
            + (" (every category still possible)" if sum(b.highlighted for b in bars) > 1 else "")
            + "."
        )
        svg = outcome_bars_svg(title.capitalize(), f"{measure} (%)", bars)
        charts.append(
            Chart(svg=svg, caption=caption, citations=citations, entry_ids=[e.id for e in entries])
        )
    return charts


def prognosis_charts(assessment: Assessment) -> list[Chart]:
    highlight: set[str] = set()
    oberlin = assessment.findings.get("score.oberlin")
    if oberlin is not None:
        highlight |= oberlin_entry_ids(oberlin)
    relapse = assessment.findings.get("prognosis.relapse")
    if relapse is not None:
        highlight |= relapse_entry_ids(relapse)
    return series_charts(highlight)
