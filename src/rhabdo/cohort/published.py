"""Published outcome figures per finding value, for synthetic cohorts and calibration tables.

``knowledge/data/cohort_calibration.yaml`` says which finding value each published figure
belongs to (``score.oberlin`` = 2 -> ``oberlin_2008.efs3.factors_2``) and at how many years;
the figure itself is read from the prognosis knowledge (``prognosis.yaml``), never copied.
A target whose figure is missing or unverified is listed as a gap, not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import KnowledgeEntry, load_table

CALIBRATION_FILE = "cohort_calibration.yaml"


class CalibrationTarget(KnowledgeEntry):
    """Which published figure describes the patients with one finding value."""

    finding: Annotated[str, Field(pattern=r"^[a-z0-9_.]+$")]
    finding_value: str
    prognosis_entry: str
    endpoint: Literal["efs", "os"]
    years: Annotated[float, Field(gt=0, le=30)]


@dataclass(frozen=True)
class PublishedFigure:
    """A published survival proportion for the patients with one finding value."""

    finding: str
    finding_value: str
    endpoint: str
    years: float
    survival_percent: float
    label: str
    source_entry: str
    citations: tuple[str, ...]
    ci_low_percent: float | None = None
    ci_high_percent: float | None = None

    @property
    def survival(self) -> float:
        return self.survival_percent / 100.0


@dataclass(frozen=True)
class FigureGap:
    target: str
    problem: str


def calibration_targets() -> list[CalibrationTarget]:
    return list(load_table(CALIBRATION_FILE, CalibrationTarget))


def published_figures(
    targets: Sequence[CalibrationTarget] | None = None,
) -> tuple[list[PublishedFigure], list[FigureGap]]:
    """Resolve each calibration target against the prognosis knowledge."""
    from rhabdo.prognosis.knowledge import prognosis_table

    try:
        table = prognosis_table()
    except KnowledgeBaseError as exc:
        return [], [FigureGap("prognosis.yaml", str(exc))]
    figures: list[PublishedFigure] = []
    gaps: list[FigureGap] = []
    for t in targets if targets is not None else calibration_targets():
        entry = table.by_id.get(t.prognosis_entry)
        if entry is None:
            gaps.append(FigureGap(t.id, f"prognosis entry {t.prognosis_entry!r} not found"))
            continue
        if entry.value is None or not entry.verified or entry.unit != "percent":
            gaps.append(FigureGap(t.id, f"{t.prognosis_entry}: no verified percentage"))
            continue
        figures.append(
            PublishedFigure(
                finding=t.finding,
                finding_value=t.finding_value,
                endpoint=t.endpoint,
                years=t.years,
                survival_percent=entry.value,
                label=entry.label,
                source_entry=entry.id,
                citations=tuple(dict.fromkeys([*entry.citations, *t.citations])),
                ci_low_percent=entry.ci_low,
                ci_high_percent=entry.ci_high,
            )
        )
    return figures, gaps
