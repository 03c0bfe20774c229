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
from rhabdo.report.page_one import NO_FIGURE, page_one
from rhabdo.report.summary import dates_line, diagnosis_summary
from rhabdo.results import (
    Assessment,
    GateStatus,
    OrganGateResult,
    PatientDose,
    Recommendation,
)

WIDTH = 100
DISCLAIMER = (
    "rhabdo supports, and does not replace, the judgement of the treating team. "
    "Every figure is the published figure of the population named; check it against the source."
)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(words(text), width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def _bullet(text: str) -> str:
    """A list item whose continuation lines hang under its text, so one item reads as one."""
    return textwrap.fill(words(text), width=WIDTH, initial_indent="  - ", subsequent_indent="    ")


def _summary_lines(case: Case, assessment: Assessment) -> list[str]:
    """Page one in text, after the warnings: the decision summary (``report.page_one``)."""
    p1 = page_one(case, assessment)
    lines: list[str] = ["SUMMARY"]
    if p1.recurrence_line:
        lines.append(_wrap(p1.recurrence_line, "  "))
    lines.append(_wrap("; ".join(f"{c.label}: {c.value}" for c in p1.classification), "  "))
    for p in p1.prognosis:
        lines.append(_wrap(f"Prognosis: {p.figure} ({p.source}) -- in {p.population}.", "  "))
    if not p1.prognosis and case.events:
        lines.append(_wrap(f"Prognosis: {NO_FIGURE}", "  "))
    for o in p1.options:
        lines.append(_wrap(f"Option: {o.heading} -- {'; '.join(o.qualifiers)}", "  "))
        lines += [_wrap(d, "      ") for d in o.dose_lines]
    for t in p1.trials:
        pending = f"; pending: {'; '.join(t.pending)}" if t.pending else ""
        lines.append(_wrap(f"Trial: {t.name} {t.registry_id} -- {t.verdict}{pending}", "  "))
    for m in p1.missing:
        lines.append(_wrap(f"Missing: {m.field} -- would decide {m.decides}", "  "))
    lines.append("")
    return lines


def gate_line(g: OrganGateResult, refs: References) -> str | None:
    """One organ-function gate in a line; None when the value is within the studied range."""
    cite = refs.marker(g.citations)
    if g.status is GateStatus.WITHIN:
        return None
    if g.status is GateStatus.UNKNOWN:
        bound = f" (studied range {g.studied_range})" if g.studied_range else ""
        return f"{g.organ} function: record {g.field}{bound} {cite}".rstrip()
    if g.status is GateStatus.NO_VERIFIED_THRESHOLD:
        if g.value is None:
            return None  # not recorded and not needed: a verified gate on this organ decides
        return f"{g.organ} function: {g.field} {g.value:g}; no verified threshold {cite}".rstrip()
    return f"{g.organ} function [{g.status.value}]: {g.reason} {cite}".rstrip()


def dose_lines(d: PatientDose, refs: References) -> list[str]:
    """One patient dose: the computed figure (or why not), its rules, and its organ gates."""
    pad = "          "
    lines = [_wrap(f"dose: {d.text}", "        ")]
    for r in d.rules:
        lines.append(_wrap(f"rule ({r.evidence_status}): {r.text} {refs.marker(r.citations)}", pad))
    for g in d.gates:
        text = gate_line(g, refs)
        if text is not None:
            lines.append(_wrap(text, pad))
    return lines


def recommendation_lines(r: Recommendation, refs: References) -> list[str]:
    """A recommendation with its reason, this patient's doses, supportive care and gaps."""
    lines = [
        _wrap(f"[{r.strength.value}] {r.statement}", "    "),
        _wrap(f"{r.reason} {refs.marker(r.citations)}".rstrip(), "        "),
    ]
    for d in r.doses:
        lines += dose_lines(d, refs)
    for s in r.supportive_care:
        lines.append(
            _wrap(
                f"supportive care ({s.evidence_status}): {s.text} {refs.marker(s.citations)}",
                "        ",
            )
        )
    for gap in r.evidence_gaps:
        lines.append(_wrap(f"evidence gap: {gap.statement}", "        "))
    return lines


def warning_lines(assessment: Assessment) -> list[str]:
    """Warnings about the record itself, for the top of the text (before any finding)."""
    if not assessment.warnings:
        return []
    lines = ["WARNINGS (check the record before reading on)"]
    for w in assessment.warnings:
        fields = f" Record to check: {'; '.join(w.fields)}." if w.fields else ""
        lines.append(_wrap(f"{w.severity.value}: {w.message}{fields}", "  ! "))
    return [*lines, ""]


def render_text(case: Case, assessment: Assessment) -> str:
    refs = References(assessment)
    lines = [
        f"rhabdo assessment -- patient {assessment.patient_id}",
        diagnosis_summary(case),
        dates_line(case, assessment),
        "",
        *warning_lines(assessment),
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
                lines += recommendation_lines(r, refs)
        lines.append("")
    if assessment.missing_inputs:
        lines.append("MISSING INFORMATION (would decide open findings)")
        for m in assessment.missing_inputs:
            lines.append(_bullet(missing_line(m, case)))
        lines.append("")
    if assessment.evidence_gaps:
        lines.append("EVIDENCE GAPS")
        for g in assessment.evidence_gaps:
            lines.append(_bullet(g.statement))
        lines.append("")
    if refs.items:
        lines.append("REFERENCES")
        for ref in refs.items:
            lines.append(_wrap(f"[{ref.number}] {ref.text}", "  "))
        lines.append("")
    lines.append(_wrap(DISCLAIMER, ""))
    return "\n".join(lines) + "\n"
