"""The plain-text assessment a clinician reads at the tumour board (``rhabdo assess``)."""

from __future__ import annotations

import textwrap

from rhabdo.case.model import Case
from rhabdo.labels import words
from rhabdo.report.common import (
    References,
    finding_answer,
    finding_title,
    findings_by_section,
    format_value,
    missing_line,
    recommendations_by_category,
)
from rhabdo.report.page_one import page_one
from rhabdo.report.summary import dates_line, diagnosis_summary
from rhabdo.results import Assessment

WIDTH = 100
DISCLAIMER = (
    "rhabdo supports, and does not replace, the judgement of the treating team. "
    "Every figure is the published figure of the population named; check it against the source."
)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(words(text), width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def _summary_lines(case: Case, assessment: Assessment) -> list[str]:
    """Page one in text: warnings first, then the decision summary (``report.page_one``)."""
    p1 = page_one(case, assessment)
    lines: list[str] = []
    if p1.warnings:
        lines.append("CHECK BEFORE READING ON")
        lines += [_wrap(f"{w.severity.value}: {w.message}", "  ! ") for w in p1.warnings]
        lines.append("")
    lines.append("SUMMARY")
    if p1.recurrence_line:
        lines.append(_wrap(p1.recurrence_line, "  "))
    lines.append(_wrap("; ".join(f"{c.label}: {c.value}" for c in p1.classification), "  "))
    for p in p1.prognosis:
        lines.append(_wrap(f"Prognosis: {p.figure} ({p.source}) -- in {p.population}.", "  "))
    for o in p1.options:
        lines.append(_wrap(f"Option: {o.name} -- {'; '.join([o.strength.value, *o.notes])}", "  "))
        lines += [_wrap(d, "      ") for d in o.dose_lines]
    for t in p1.trials:
        pending = f"; pending: {'; '.join(t.pending)}" if t.pending else ""
        lines.append(_wrap(f"Trial: {t.name} {t.registry_id} -- {t.verdict}{pending}", "  "))
    for m in p1.missing:
        lines.append(_wrap(f"Missing: {m.field} -- would decide {m.decides}", "  "))
    lines.append("")
    return lines


def render_text(case: Case, assessment: Assessment) -> str:
    refs = References(assessment)
    lines = [
        f"rhabdo assessment -- patient {assessment.patient_id}",
        diagnosis_summary(case),
        dates_line(case, assessment),
        "",
        *_summary_lines(case, assessment),
    ]
    for title, findings in findings_by_section(assessment):
        lines.append(title.upper())
        for f in findings:
            lines.append(_wrap(f"{finding_title(f)}: {finding_answer(f, case)}", "  "))
            lines.append(_wrap(f"{f.reason} {refs.marker(f.citations)}".rstrip(), "      "))
            for view in f.source_views:
                lines.append(
                    _wrap(
                        f"per {refs.marker([view.citation])}: "
                        f"{format_value(view.value, f.id)} -- {view.reason}",
                        "      ",
                    )
                )
        lines.append("")
    cats = recommendations_by_category(assessment)
    if cats:
        lines.append("RECOMMENDATIONS")
        for cat, recs in cats:
            lines.append(f"  {cat.label}")
            for r in recs:
                lines.append(_wrap(f"[{r.strength.value}] {r.statement}", "    "))
                lines.append(_wrap(f"{r.reason} {refs.marker(r.citations)}".rstrip(), "        "))
                for gap in r.evidence_gaps:
                    lines.append(_wrap(f"evidence gap: {gap.statement}", "        "))
        lines.append("")
    if assessment.missing_inputs:
        lines.append("MISSING INFORMATION (would decide open findings)")
        for m in assessment.missing_inputs:
            lines.append(_wrap(missing_line(m, case), "  - "))
        lines.append("")
    if assessment.evidence_gaps:
        lines.append("EVIDENCE GAPS")
        for g in assessment.evidence_gaps:
            lines.append(_wrap(g.statement, "  - "))
        lines.append("")
    if refs.items:
        lines.append("REFERENCES")
        for ref in refs.items:
            lines.append(_wrap(f"[{ref.number}] {ref.text}", "  "))
        lines.append("")
    lines.append(_wrap(DISCLAIMER, ""))
    return "\n".join(lines) + "\n"
