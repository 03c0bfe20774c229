"""Calibration table: each published figure next to the cohort's own estimate and interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

from rhabdo.cohort.published import PublishedFigure
from rhabdo.cohort.survival import km_by_group, prepare


@dataclass(frozen=True)
class CalibrationRow:
    finding: str
    finding_value: str
    label: str
    years: float
    published_percent: float
    citations: tuple[str, ...]
    n: int
    events: int
    cohort_percent: float | None
    ci_low_percent: float | None
    ci_high_percent: float | None

    @property
    def published_within_interval(self) -> bool | None:
        """Whether the published figure lies inside the cohort's 95% interval (None: no data)."""
        if self.ci_low_percent is None or self.ci_high_percent is None:
            return None
        return self.ci_low_percent <= self.published_percent <= self.ci_high_percent


def calibration_table(
    df: pd.DataFrame, figures: Sequence[PublishedFigure], time: str, event: str
) -> list[CalibrationRow]:
    """For each figure: the cohort's Kaplan-Meier estimate at the figure's time point.

    ``time`` must be in years (the unit of the published time points).
    """
    from rhabdo.errors import CohortTableError, FieldProblem

    prepare(df, time, event)  # names a missing or misspelt time/event column
    missing = sorted({f.finding for f in figures} - set(df.columns))
    if missing and len(missing) == len({f.finding for f in figures}):
        raise CohortTableError(
            [
                FieldProblem(
                    m, "no such finding column; score the cohort first (rhabdo cohort score)"
                )
                for m in missing
            ]
        )
    rows: list[CalibrationRow] = []
    by_finding: dict[str, list[PublishedFigure]] = {}
    for f in figures:
        by_finding.setdefault(f.finding, []).append(f)
    for finding, figs in by_finding.items():
        if finding not in df.columns:
            rows.extend(_empty(f) for f in figs)
            continue
        data = prepare(df, time, event, [finding])
        curves = {c.group: c for c in km_by_group(data, finding)} if len(data.frame) else {}
        for f in figs:
            curve = curves.get(f.finding_value)
            if curve is None:
                rows.append(_empty(f))
                continue
            point = curve.at(f.years)
            rows.append(
                CalibrationRow(
                    f.finding,
                    f.finding_value,
                    f.label,
                    f.years,
                    f.survival_percent,
                    f.citations,
                    curve.n,
                    curve.events,
                    100 * point.survival,
                    100 * point.ci_low,
                    100 * point.ci_high,
                )
            )
    return rows


def _empty(f: PublishedFigure) -> CalibrationRow:
    return CalibrationRow(
        f.finding,
        f.finding_value,
        f.label,
        f.years,
        f.survival_percent,
        f.citations,
        0,
        0,
        None,
        None,
        None,
    )


def calibration_frame(rows: Sequence[CalibrationRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "finding": r.finding,
                "value": r.finding_value,
                "published": r.label,
                "years": r.years,
                "published_percent": r.published_percent,
                "citations": ";".join(r.citations),
                "n": r.n,
                "events": r.events,
                "cohort_percent": r.cohort_percent,
                "ci_low_percent": r.ci_low_percent,
                "ci_high_percent": r.ci_high_percent,
                "published_within_ci": r.published_within_interval,
            }
            for r in rows
        ]
    )
