"""Figures as SVG text (vector in HTML and in the PDF): the disease timeline and the
published-outcome chart.  Drawn with matplotlib's Agg-free SVG backend; no network, no files.

The prognosis chart draws only the published figures that a finding carries (one bar per
published category, the patient's category highlighted); it never draws a curve the source did
not publish.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from rhabdo.report.timeline import Lane, Span

_LANE_ORDER = [Lane.EVENTS, Lane.SURGERY, Lane.RADIOTHERAPY, Lane.CHEMOTHERAPY]
_COLOURS = {
    Lane.CHEMOTHERAPY: "#4c72b0",
    Lane.RADIOTHERAPY: "#dd8452",
    Lane.SURGERY: "#55a868",
    Lane.EVENTS: "#c44e52",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("svg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "svg.hashsalt": "rhabdo",
        }
    )
    return plt


def _to_svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE for inline use
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)


def _rows(spans: list[Span]) -> list[tuple[str, list[Span]]]:
    """One row per lane for point events; one row per course for bars, so labels never collide."""
    rows: list[tuple[str, list[Span]]] = []
    for lane in _LANE_ORDER:
        points = [s for s in spans if s.lane is lane and s.end_month is None and not s.ongoing]
        bars = [s for s in spans if s.lane is lane and not (s.end_month is None and not s.ongoing)]
        if points:
            rows.append((lane.value, points))
        for i, bar in enumerate(bars):
            name = lane.value if len(bars) == 1 and not points else f"{lane.value} {i + 1}"
            rows.append((name, [bar]))
    return rows


def timeline_svg(spans: list[Span]) -> str:
    """Lanes of treatment and events drawn to scale in months from diagnosis."""
    plt = _pyplot()
    last = max([s.end_month or s.start_month for s in spans] + [1.0])
    rows = _rows(spans)
    fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(rows) + 0.9))
    for y, (_, row) in enumerate(rows):
        for s in row:
            colour = _COLOURS[s.lane]
            if s.end_month is None and not s.ongoing:
                marker = "v" if s.lane is Lane.EVENTS and s.start_month > 0 else "o"
                ax.plot([s.start_month], [y], marker=marker, color=colour, markersize=8)
                ax.annotate(
                    s.label,
                    (s.start_month, y),
                    xytext=(0, 7),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7.5,
                )
            else:
                end = s.end_month if s.end_month is not None else last
                ax.barh(
                    y,
                    end - s.start_month,
                    left=s.start_month,
                    height=0.45,
                    color=colour,
                    alpha=0.85,
                    hatch="//" if s.ongoing else None,
                )
                ax.annotate(
                    s.label + (" (ongoing)" if s.ongoing else ""),
                    (s.start_month, y),
                    xytext=(0, 8),
                    textcoords="offset points",
                    fontsize=7.5,
                )
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax.set_ylim(-0.6, len(rows) - 0.2)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, last * 1.05 + 0.5)
    ax.set_xlabel("months from first diagnosis")
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig)


@dataclass(frozen=True)
class PublishedBar:
    label: str
    percent: float
    highlighted: bool


def outcome_bars_svg(title: str, measure: str, bars: list[PublishedBar], source: str) -> str:
    """One horizontal bar per published category (its published percentage); the patient's
    categories highlighted.  Nothing is interpolated or extrapolated."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 0.42 * len(bars) + 1.1))
    ys = list(range(len(bars)))
    colours = ["#c44e52" if b.highlighted else "#b0b7c3" for b in bars]
    ax.barh(ys, [b.percent for b in bars], color=colours, height=0.6)
    for y, b in zip(ys, bars, strict=True):
        ax.annotate(
            f"{b.percent:g}%",
            (b.percent, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            fontweight="bold" if b.highlighted else "normal",
        )
    ax.set_yticks(ys, [b.label for b in bars])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(measure)
    ax.set_title(title, fontsize=9, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_svg(fig)
