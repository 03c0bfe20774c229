"""Survival analysis of a scored cohort: Kaplan-Meier by group, log-rank, Cox, concordance.

Built on lifelines.  Kaplan-Meier intervals are lifelines' default (Greenwood variance on the
log(-log) scale, as in Stata's ``sts list`` and R's ``conf.type="log-log"``).  Rows that
cannot enter an analysis (no time, no event flag, finding not determined, scoring error) are
counted with the reason and reported, never dropped silently.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

from rhabdo.cohort.cells import STATUS_SUFFIX
from rhabdo.cohort.score import ERROR_COLUMN, sniff_delimiter, table_format
from rhabdo.errors import CohortTableError, FieldProblem
from rhabdo.plotting import new_figure

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class KMPoint:
    time: float
    survival: float
    ci_low: float
    ci_high: float
    at_risk: int


@dataclass
class GroupCurve:
    group: str
    n: int
    events: int
    points: list[KMPoint]
    median: float | None
    #: The lifelines fitter the curve came from (for the numbers-at-risk table under a plot).
    fitter: Any = field(default=None, repr=False, compare=False)

    def at(self, t: float) -> KMPoint:
        """The estimate in force at time t (the last step at or before t)."""
        current = KMPoint(0.0, 1.0, 1.0, 1.0, self.n)
        for p in self.points:
            if p.time <= t:
                current = p
            else:
                break
        return current


@dataclass(frozen=True)
class LogRank:
    chi2: float
    degrees_of_freedom: int
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]


@dataclass(frozen=True)
class CoxTerm:
    term: str
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass
class CoxResult:
    terms: list[CoxTerm]
    concordance: float
    n: int
    events: int
    reference_levels: dict[str, str] = field(default_factory=dict)


@dataclass
class AnalysisData:
    """The rows that enter the analysis, and how many were left out and why."""

    frame: pd.DataFrame
    excluded: Counter[str]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a scored (or any) cohort table; every column as text except Parquet numerics."""
    p = Path(path)
    fmt = table_format(p)
    try:
        if fmt == "parquet":
            return pd.read_parquet(p)
        with p.open(encoding="utf-8-sig") as fh:
            delimiter = sniff_delimiter(fh.readline())
        return pd.read_csv(
            p,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=delimiter,
            encoding="utf-8-sig",
        )
    except FileNotFoundError:
        raise CohortTableError([FieldProblem("(file)", "file not found")], str(p)) from None
    except (ValueError, OSError) as exc:  # UnicodeDecodeError is a ValueError
        raise CohortTableError(
            [FieldProblem("(file)", f"cannot be read ({exc})")], str(p)
        ) from None


def _require(df: pd.DataFrame, column: str, what: str) -> None:
    if column not in df.columns:
        known = ", ".join(
            c for c in df.columns if not c.endswith((".status", ".candidates", ".needs"))
        )
        raise CohortTableError(
            [FieldProblem(column, f"no such {what} column; the table has: {known}")]
        )


def _event_flag(value: Any) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    return math.nan


def prepare(df: pd.DataFrame, time: str, event: str, findings: Sequence[str] = ()) -> AnalysisData:
    """Keep rows with a valid time, event flag and every named finding determined."""
    _require(df, time, "time")
    _require(df, event, "event")
    for f in findings:
        _require(df, f, "finding")
    excluded: Counter[str] = Counter()
    out = pd.DataFrame(index=df.index)
    out["time"] = pd.to_numeric(df[time], errors="coerce")
    out["event"] = df[event].map(_event_flag)
    keep = pd.Series(True, index=df.index)
    if ERROR_COLUMN in df.columns:
        bad = df[ERROR_COLUMN].notna() & (df[ERROR_COLUMN].astype(str) != "")
        excluded["row failed validation"] += int((bad & keep).sum())
        keep &= ~bad
    bad_time = out["time"].isna() | (out["time"] < 0)
    excluded[f"{time} missing, not a number or negative"] += int((bad_time & keep).sum())
    keep &= ~bad_time
    bad_event = out["event"].isna()
    excluded[f"{event} missing or not 0/1"] += int((bad_event & keep).sum())
    keep &= ~bad_event
    for f in findings:
        status_col = f + STATUS_SUFFIX
        if status_col in df.columns:
            status = df[status_col].astype(str)
            for s in sorted(set(status[keep & (status != "determined")])):
                excluded[f"{f} {s}"] += int((keep & (status == s)).sum())
            keep &= status == "determined"
        missing = df[f].isna()
        excluded[f"{f} empty"] += int((keep & missing).sum())
        keep &= ~missing
        out[f] = df[f].astype(str)
    return AnalysisData(out[keep].copy(), Counter({k: v for k, v in excluded.items() if v}))


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def km_by_group(data: AnalysisData, by: str | None) -> list[GroupCurve]:
    """Kaplan-Meier estimate with 95% intervals, one curve per value of ``by`` (or overall)."""
    from lifelines import KaplanMeierFitter

    frame = data.frame
    groups = (
        [(v, frame[frame[by] == v]) for v in sorted(frame[by].unique(), key=_sort_key)]
        if by
        else [("all", frame)]
    )
    curves = []
    for label, sub in groups:
        kmf = KaplanMeierFitter(alpha=0.05)
        kmf.fit(sub["time"], sub["event"], label=str(label))
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_survival_function_
        table = kmf.event_table
        points = []
        for t in sf.index:
            if t == 0 and table.loc[t, "observed"] == 0:
                continue
            if table.loc[t, "observed"] == 0:
                continue
            points.append(
                KMPoint(
                    float(t),
                    float(sf.loc[t]),
                    float(ci.iloc[:, 0].loc[t]),
                    float(ci.iloc[:, 1].loc[t]),
                    int(table.loc[t, "at_risk"]),
                )
            )
        median = kmf.median_survival_time_
        curves.append(
            GroupCurve(
                str(label),
                len(sub),
                int(sub["event"].sum()),
                points,
                None if not np.isfinite(median) else float(median),
                fitter=kmf,
            )
        )
    return curves


def observed_expected(frame: pd.DataFrame, by: str) -> tuple[dict[str, int], dict[str, float]]:
    """Observed and log-rank expected events per group (Mantel-Haenszel)."""
    labels = sorted(frame[by].unique(), key=_sort_key)
    times = np.sort(frame.loc[frame["event"] == 1, "time"].unique())
    expected = dict.fromkeys(labels, 0.0)
    t_all = frame["time"].to_numpy()
    e_all = frame["event"].to_numpy()
    g_all = frame[by].to_numpy()
    for t in times:
        at_risk = t_all >= t
        deaths = (t_all == t) & (e_all == 1)
        n, d = int(at_risk.sum()), int(deaths.sum())
        for g in labels:
            expected[g] += d * int((at_risk & (g_all == g)).sum()) / n
    observed = {g: int(frame.loc[frame[by] == g, "event"].sum()) for g in labels}
    return observed, expected


def logrank(data: AnalysisData, by: str) -> LogRank:
    """Log-rank test of equal survival across the groups of ``by``."""
    from lifelines.statistics import multivariate_logrank_test

    frame = data.frame
    if frame[by].nunique() < 2:
        raise CohortTableError([FieldProblem(by, "the log-rank test needs at least two groups")])
    res = multivariate_logrank_test(frame["time"], frame[by], frame["event"])
    observed, expected = observed_expected(frame, by)
    return LogRank(
        float(res.test_statistic),
        int(res.degrees_of_freedom),
        float(res.p_value),
        observed,
        expected,
    )


def cox(data: AnalysisData, covariates: Sequence[str]) -> CoxResult:
    """Cox proportional-hazards model on categorical findings (first level as reference)."""
    from lifelines import CoxPHFitter

    frame = data.frame
    design = frame[["time", "event"]].copy()
    refs: dict[str, str] = {}
    for cov in covariates:
        levels = sorted(frame[cov].unique(), key=_sort_key)
        if len(levels) < 2:
            raise CohortTableError([FieldProblem(cov, "a Cox covariate needs at least two values")])
        refs[cov] = levels[0]
        for level in levels[1:]:
            design[f"{cov}={level}"] = (frame[cov] == level).astype(float)
    cph = CoxPHFitter()
    cph.fit(design, duration_col="time", event_col="event")
    s = cph.summary
    terms = [
        CoxTerm(
            str(name),
            float(s.loc[name, "exp(coef)"]),
            float(s.loc[name, "exp(coef) lower 95%"]),
            float(s.loc[name, "exp(coef) upper 95%"]),
            float(s.loc[name, "p"]),
        )
        for name in s.index
    ]
    return CoxResult(
        terms, float(cph.concordance_index_), len(frame), int(frame["event"].sum()), refs
    )


def concordance(data: AnalysisData, score: str, higher_is_worse: bool = True) -> float:
    """Harrell's C of a numeric score against the outcome (0.5 = no discrimination)."""
    from lifelines.utils import concordance_index

    values = pd.to_numeric(data.frame[score], errors="coerce")
    if values.isna().any():
        raise CohortTableError([FieldProblem(score, "the score has values that are not numbers")])
    predicted = -values if higher_is_worse else values
    return float(concordance_index(data.frame["time"], predicted, data.frame["event"]))


def km_table(curves: Sequence[GroupCurve]) -> pd.DataFrame:
    rows = [
        {
            "group": c.group,
            "time": p.time,
            "at_risk": p.at_risk,
            "survival": p.survival,
            "ci_low": p.ci_low,
            "ci_high": p.ci_high,
        }
        for c in curves
        for p in c.points
    ]
    return pd.DataFrame(rows, columns=["group", "time", "at_risk", "survival", "ci_low", "ci_high"])


def time_unit_of(column: str, stated: str | None = None) -> str | None:
    """The unit of a time column: as stated, else from its name ('efs_years' -> 'years')."""
    if stated:
        return stated
    for unit in ("days", "weeks", "months", "years"):
        if column.lower().endswith(unit):
            return unit
    return None


def plot_km(
    curves: Sequence[GroupCurve],
    path: str | Path,
    *,
    title: str,
    time_label: str,
    group_label: str | None = None,
) -> None:
    """Step plot of each curve with its 95% band and a numbers-at-risk table under the axes
    (lifelines ``add_at_risk_counts``), as journals print them; PNG or SVG by the file name.
    Labels are plain text (no math parsing) and the figure is always released."""
    import matplotlib

    matplotlib.use("Agg")
    from lifelines.plotting import add_at_risk_counts

    rows = len(curves)
    with new_figure(figsize=(7.5, 4.8 + 0.22 * rows)) as fig:
        ax = fig.subplots()
        for c in curves:
            times = [0.0] + [p.time for p in c.points]
            surv = [1.0] + [p.survival for p in c.points]
            low = [1.0] + [p.ci_low for p in c.points]
            high = [1.0] + [p.ci_high for p in c.points]
            name = f"{group_label}: {c.group}" if group_label else c.group
            (line,) = ax.step(times, surv, where="post", label=f"{name} (n={c.n})")
            ax.fill_between(times, low, high, step="post", alpha=0.15, color=line.get_color())
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        ax.set_xlabel(time_label)
        ax.set_ylabel("proportion without the event")
        ax.set_title(title)
        ax.legend(loc="best", fontsize="small")
        fitters = [c.fitter for c in curves if c.fitter is not None]
        if len(fitters) == len(curves) and fitters:
            add_at_risk_counts(
                *fitters,
                labels=[c.group for c in curves],
                rows_to_show=["At risk"],
                ax=ax,
                fig=fig,
            )
        fig.tight_layout()
        fig.savefig(Path(path), format=Path(path).suffix.lstrip(".").lower() or "png")
