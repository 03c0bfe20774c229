"""The survival analysis as files: tables (CSV), a figure (PNG/SVG) and an HTML summary."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
from jinja2 import Environment, select_autoescape

from rhabdo.cohort.calibration import CalibrationRow
from rhabdo.cohort.survival import (
    CoxResult,
    GroupCurve,
    KMPoint,
    LogRank,
    km_table,
    plot_km,
    time_unit_of,
)
from rhabdo.labels import finding_label


@dataclass
class SurvivalReport:
    title: str
    time_column: str
    event_column: str
    by: str | None
    curves: list[GroupCurve]
    excluded: Counter[str]
    time_points: list[float]
    logrank: LogRank | None = None
    cox: CoxResult | None = None
    concordance: tuple[str, float] | None = None
    calibration: list[CalibrationRow] | None = None
    time_unit: str | None = None

    @property
    def time_label(self) -> str:
        """'time from relapse (months)': the axis says what is measured and in what unit."""
        unit = time_unit_of(self.time_column, self.time_unit)
        return f"{self.time_column} ({unit or 'unit not stated'})"

    @property
    def group_label(self) -> str | None:
        return finding_label(self.by) if self.by else None


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ r.title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9rem}
</style></head><body>
<h1>{{ r.title }}</h1>
<p class="note">Time: <code>{{ r.time_column }}</code>; event: <code>{{ r.event_column }}</code>;
groups: <code>{{ r.by or "all patients" }}</code>. Kaplan-Meier with 95% intervals
(Greenwood, log(-log) scale). Synthetic or registry data; not a clinical recommendation.</p>
<section id="kaplan-meier"><h2>Kaplan-Meier estimates</h2>
<table><tr><th>group</th><th>n</th><th>events</th><th>median</th>
{% for t in r.time_points %}<th>S({{ "%g"|format(t) }}) [95% CI]</th>{% endfor %}</tr>
{% for c in r.curves %}<tr><td>{{ c.group }}</td><td>{{ c.n }}</td><td>{{ c.events }}</td>
<td>{{ "%.2f"|format(c.median) if c.median is not none else "not reached" }}</td>
{% for t in r.time_points %}{% set p = c.at(t) %}<td>{{ "%.1f%%"|format(100*p.survival) }}
[{{ "%.1f"|format(100*p.ci_low) }}-{{ "%.1f"|format(100*p.ci_high) }}]</td>{% endfor %}</tr>{% endfor %}
</table>{% if figure %}<img alt="Kaplan-Meier curves" src="data:{{ figure_mime }};base64,{{ figure }}">{% endif %}
</section>
{% if r.excluded %}<section id="excluded"><h2>Rows not analysed</h2><table><tr><th>reason</th><th>rows</th></tr>
{% for k, v in r.excluded.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table></section>{% endif %}
{% if r.logrank %}<section id="log-rank"><h2>Log-rank test</h2>
<p>chi-square {{ "%.3f"|format(r.logrank.chi2) }} on {{ r.logrank.degrees_of_freedom }} df, p = {{ "%.3g"|format(r.logrank.p_value) }}</p>
<table><tr><th>group</th><th>observed</th><th>expected</th></tr>
{% for g, o in r.logrank.observed.items() %}<tr><td>{{ g }}</td><td>{{ o }}</td><td>{{ "%.2f"|format(r.logrank.expected[g]) }}</td></tr>{% endfor %}
</table></section>{% endif %}
{% if r.cox %}<section id="cox"><h2>Cox proportional-hazards model</h2>
<p class="note">n = {{ r.cox.n }}, events = {{ r.cox.events }}, concordance {{ "%.3f"|format(r.cox.concordance) }};
reference levels: {% for k, v in r.cox.reference_levels.items() %}{{ k }} = {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
<table><tr><th>term</th><th>hazard ratio</th><th>95% CI</th><th>p</th></tr>
{% for t in r.cox.terms %}<tr><td>{{ t.term }}</td><td>{{ "%.2f"|format(t.hazard_ratio) }}</td>
<td>{{ "%.2f"|format(t.ci_low) }}-{{ "%.2f"|format(t.ci_high) }}</td><td>{{ "%.3g"|format(t.p_value) }}</td></tr>{% endfor %}
</table></section>{% endif %}
{% if r.concordance %}<section id="concordance"><h2>Concordance</h2>
<p>Harrell's C of <code>{{ r.concordance[0] }}</code> (higher score = worse): {{ "%.3f"|format(r.concordance[1]) }}</p></section>{% endif %}
{% if r.calibration %}<section id="calibration"><h2>Published figures and this cohort</h2>
<table><tr><th>finding = value</th><th>published</th><th>years</th><th>published %</th><th>n</th><th>cohort % [95% CI]</th><th>within CI</th><th>source</th></tr>
{% for row in r.calibration %}<tr><td>{{ row.finding }} = {{ row.finding_value }}</td><td>{{ row.label }}</td><td>{{ "%g"|format(row.years) }}</td>
<td>{{ "%g"|format(row.published_percent) }}</td><td>{{ row.n }}</td>
<td>{% if row.cohort_percent is not none %}{{ "%.1f"|format(row.cohort_percent) }} [{{ "%.1f"|format(row.ci_low_percent) }}-{{ "%.1f"|format(row.ci_high_percent) }}]{% else %}no patients{% endif %}</td>
<td>{{ {True: "yes", False: "no", None: "-"}[row.published_within_interval] }}</td><td>{{ row.citations|join(", ") }}</td></tr>{% endfor %}
</table></section>{% endif %}
</body></html>
"""  # noqa: E501 - HTML template lines


def render_html(report: SurvivalReport, figure_path: Path | None = None) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    figure = mime = None
    if figure_path is not None and figure_path.exists():
        figure = base64.b64encode(figure_path.read_bytes()).decode("ascii")
        mime = "image/svg+xml" if figure_path.suffix.lower() == ".svg" else "image/png"
    return env.from_string(_TEMPLATE).render(r=report, figure=figure, figure_mime=mime)


def write_report(
    report: SurvivalReport, out_dir: str | Path, figure_format: str = "png"
) -> list[Path]:
    """Write km.csv, logrank.csv, cox.csv, km.<png|svg> and summary.html into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    km_path = out / "km.csv"
    km_table(report.curves).to_csv(km_path, index=False)
    written.append(km_path)
    if report.logrank is not None:
        lr = report.logrank
        p = out / "logrank.csv"
        pd.DataFrame(
            [
                {
                    "group": g,
                    "observed": lr.observed[g],
                    "expected": lr.expected[g],
                    "chi2": lr.chi2,
                    "df": lr.degrees_of_freedom,
                    "p_value": lr.p_value,
                }
                for g in lr.observed
            ]
        ).to_csv(p, index=False)
        written.append(p)
    if report.cox is not None:
        p = out / "cox.csv"
        pd.DataFrame([t.__dict__ for t in report.cox.terms]).to_csv(p, index=False)
        written.append(p)
    fig = out / f"km.{figure_format}"
    plot_km(
        report.curves,
        fig,
        title=report.title,
        time_label=report.time_label,
        group_label=report.group_label,
    )
    written.append(fig)
    html = out / "summary.html"
    html.write_text(render_html(report, fig), encoding="utf-8")
    written.append(html)
    return written


def _point_text(t: float, p: KMPoint) -> str:
    return f"S({t:g})={100 * p.survival:.1f}% [{100 * p.ci_low:.1f}-{100 * p.ci_high:.1f}]"


def text_summary(report: SurvivalReport) -> str:
    """A short plain-text summary for the terminal."""
    lines = [report.title]
    for c in report.curves:
        at = "; ".join(_point_text(t, c.at(t)) for t in report.time_points)
        lines.append(f"  {c.group}: n={c.n} events={c.events} {at}")
    if report.excluded:
        lines.append(
            "  not analysed: " + ", ".join(f"{k} ({v})" for k, v in report.excluded.items())
        )
    if report.logrank:
        lines.append(
            f"  log-rank chi2={report.logrank.chi2:.3f} df={report.logrank.degrees_of_freedom} "
            f"p={report.logrank.p_value:.3g}"
        )
    if report.cox:
        for t in report.cox.terms:
            lines.append(
                f"  Cox {t.term}: HR {t.hazard_ratio:.2f} "
                f"[{t.ci_low:.2f}-{t.ci_high:.2f}] p={t.p_value:.3g}"
            )
    if report.concordance:
        lines.append(f"  C-index of {report.concordance[0]}: {report.concordance[1]:.3f}")
    return "\n".join(lines)


def default_time_points(curves: Sequence[GroupCurve]) -> list[float]:
    longest = max((p.time for c in curves for p in c.points), default=0.0)
    return [t for t in (1.0, 3.0, 5.0) if t <= longest] or [longest]
