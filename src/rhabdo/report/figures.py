"""Figures as SVG text (vector in HTML and in the PDF): the disease timeline (matplotlib's SVG
backend) and the published-outcome bar charts (plain SVG, a few rectangles per chart, so that a
report with many published series still renders quickly).  No network, no files.

The prognosis chart draws only the published figures that a finding carries (one bar per
published category, the patient's category highlighted); it never draws a curve the source did
not publish.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from rhabdo.plotting import new_figure
from rhabdo.report.timeline import Lane, Span

_LANE_ORDER = [Lane.EVENTS, Lane.SURGERY, Lane.RADIOTHERAPY, Lane.CHEMOTHERAPY]
_COLOURS = {
    Lane.CHEMOTHERAPY: "#4c72b0",
    Lane.RADIOTHERAPY: "#dd8452",
    Lane.SURGERY: "#55a868",
    Lane.EVENTS: "#c44e52",
}


def _to_svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
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
    last = max([s.end_month or s.start_month for s in spans] + [1.0])
    rows = _rows(spans)
    with new_figure({"font.size": 9}, figsize=(9.5, 0.55 * len(rows) + 0.9)) as fig:
        return _draw_timeline(fig, rows, last)


def _draw_timeline(fig: Any, rows: list[tuple[str, list[Span]]], last: float) -> str:
    ax = fig.subplots()
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


def _shorten(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def outcome_bars_svg(title: str, measure: str, bars: list[PublishedBar]) -> str:
    """One horizontal bar per published category (its published percentage), the patient's
    categories highlighted.  Plain SVG: bars are drawn exactly to the published values on a
    0-100% axis; nothing is interpolated or extrapolated."""
    char_w = 6.3  # mean advance of an 11 px DejaVu Sans character
    longest = max((len(b.label) for b in bars), default=10)
    label_w = int(max(80.0, min(380.0, longest * char_w + 10)))
    max_chars = longest if longest * char_w + 10 <= label_w else int((label_w - 10) / char_w)
    plot_w, row_h, top = 230, 20, 26
    height = top + row_h * len(bars) + 30
    width = label_w + plot_w + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" font-size="11" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i, b in enumerate(bars):
        y = top + i * row_h
        bar_w = plot_w * max(0.0, min(b.percent, 100.0)) / 100
        colour = "#c44e52" if b.highlighted else "#b0b7c3"
        weight = ' font-weight="bold"' if b.highlighted else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end"{weight}>'
            f"{escape(_shorten(b.label, max_chars))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w:.1f}" height="{row_h - 6}" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + bar_w + 4:.1f}" y="{y + 13}"{weight}>{b.percent:g}%</text>'
        )
    axis_y = top + row_h * len(bars) + 2
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="#555"/>'
    )
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#555"/>'
            f'<text x="{x:.1f}" y="{axis_y + 15}" text-anchor="middle" font-size="9">{tick}</text>'
        )
    parts.append(
        f'<text x="{label_w + plot_w / 2:.1f}" y="{axis_y + 27}" text-anchor="middle" '
        f'font-size="9">{escape(measure)}</text></svg>'
    )
    return "".join(parts)
