"""Category risk_review: the factors that drive prognosis, gathered in one place.

The seed paper (Ogawa 2021) asks the team to confirm, before treating a recurrence, the stage and
group at first diagnosis, the treatment history (chemotherapy, surgery and its completeness,
radiation dose) and the timing of recurrence (during treatment, within 18 months of the start of
treatment, or later); Heske 2021 adds an explicit assessment of post-relapse prognosis.  This rule
does not re-derive any of it: it summarises the stage, group, risk, relapse, Oberlin and
relapse-prognosis findings and the recorded treatment, and names what is still unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rhabdo.case.model import Case, TreatmentLine
from rhabdo.labels import field_label, finding_label, value_label
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.knowledge import care_entries
from rhabdo.results import (
    Finding,
    FindingStatus,
    JsonValue,
    Recommendation,
    RecommendationCategory,
    Strength,
)

RULE = "recommend.risk_review.v1"

#: The findings a risk review reads, in the order a tumour board goes through them.
CORE_IDS: tuple[str, ...] = (
    "stage.pretreatment",
    "group.clinical",
    "risk.cog",
    "risk.cog_histology",
    "risk.epssg",
    "relapse.timing",
    "relapse.type",
    "relapse.refractory",
    "score.oberlin",
    "prognosis.relapse",
)
PREFIXES: tuple[str, ...] = ("risk.", "relapse.")

#: Each status as the plain string the summary shows (an enum's .value is a slow lookup).
_STATUS_TEXT = {s: s.value for s in FindingStatus}
_UNDECIDED = FindingStatus.INDETERMINATE.value
_NOT_APPLICABLE = FindingStatus.NOT_APPLICABLE.value


def reviewed_finding_ids(findings: Mapping[str, Finding]) -> list[str]:
    """The core ids present, then any other ``risk.*``/``relapse.*`` finding, in order."""
    ids = [i for i in CORE_IDS if i in findings]
    ids += [i for i in findings if i.startswith(PREFIXES) and i not in ids]
    return ids


def _show(finding_id: str, value: Any) -> str:
    """A value in words (``rhabdo.labels``): '18_months_or_later' -> 'off therapy, 18 months
    or more after the start of treatment', 3 (stage) -> 'stage 3'."""
    if isinstance(value, dict):
        for key in ("label", "summary", "value", "stage", "group"):
            if key in value:
                return value_label(finding_id, value[key])
    return value_label(finding_id, value)


def finding_summary(f: Finding) -> dict[str, JsonValue]:
    """One line per finding: its answer, or what is still possible and what would decide it."""
    if f.status is FindingStatus.DETERMINED:
        shown = _show(f.id, f.value)
    elif f.status is FindingStatus.INDETERMINATE:
        shown = "undecided: " + (
            " or ".join(_show(f.id, c) for c in f.candidates) or "no candidates"
        )
    else:
        shown = "not applicable"
    return {
        "id": f.id,
        "label": finding_label(f.id),
        "status": _STATUS_TEXT[f.status],
        "shown": shown,
        "reason": f.reason,
        "needs": list(f.needs),
    }


def _line_summary(name: str, line: TreatmentLine) -> dict[str, JsonValue]:
    return {
        "line": name,
        "protocol": line.protocol,
        "agents": [c.display_name for c in line.chemotherapy],
        "radiotherapy": [
            {
                "site": rt.target_site or (rt.body_region.label if rt.body_region else None),
                "total_dose_gy": rt.total_dose_gy,
                "fractions": rt.fractions,
            }
            for rt in line.radiotherapy
        ],
        "surgeries": [
            {"site": s.site, "margin": s.margin.value if s.margin else None} for s in line.surgeries
        ],
    }


def treatment_history(case: Case) -> list[dict[str, JsonValue]]:
    lines = [("first line", case.first_line)] if case.first_line else []
    lines += [(f"later line {i + 1}", line) for i, line in enumerate(case.later_lines)]
    return [_line_summary(name, line) for name, line in lines if line is not None]


def treatment_phrase(case: Case, history: list[dict[str, JsonValue]] | None = None) -> str:
    """'first line (VAC): vincristine; RT head and neck 50.4 Gy' -- one clause per line
    (``history``: the case's ``treatment_history`` when the caller has it already)."""
    parts = []
    for item in treatment_history(case) if history is None else history:
        agents = item["agents"]
        assert isinstance(agents, list)
        rts = item["radiotherapy"]
        assert isinstance(rts, list)
        bits = [", ".join(str(a) for a in agents)] if agents else ["no chemotherapy recorded"]
        for rt in rts:
            assert isinstance(rt, dict)
            dose = f" {rt['total_dose_gy']:g} Gy" if rt.get("total_dose_gy") else ""
            bits.append(f"RT {rt.get('site') or 'site not stated'}{dose}")
        protocol = f" ({item['protocol']})" if item.get("protocol") else ""
        parts.append(f"{item['line']}{protocol}: " + "; ".join(bits))
    return " | ".join(parts) if parts else "no treatment history recorded"


def risk_review_recommendations(
    case: Case, findings: Mapping[str, Finding]
) -> list[Recommendation]:
    """Summarise stage/group at diagnosis, treatment history and relapse timing/type.

    Always produced: the summary is what the team reviews first (Ogawa 2021; Heske 2021).
    """
    entry = care_entries()["care.risk_review"]
    ids = reviewed_finding_ids(findings)
    summaries = [finding_summary(findings[i]) for i in ids]
    undecided = [s for s in summaries if s["status"] == _UNDECIDED]
    needs = sorted({n for s in undecided for n in s["needs"]})  # type: ignore[union-attr]
    history = treatment_history(case)
    missing: list[str] = []
    if case.first_line is None:
        missing.append("first_line (treatment history)")
    if not case.events and case.diagnosis.distant_metastases is None:
        missing.append("events (recurrence) or diagnosis.distant_metastases")
    missing_ids = [i for i in CORE_IDS if i not in findings]

    shown = [f"{s['label']}: {s['shown']}" for s in summaries if s["status"] != _NOT_APPLICABLE]
    if shown:
        statement = (
            "Review the factors that drive prognosis before deciding treatment: "
            + "; ".join(shown)
            + "."
        )
    else:
        statement = (
            "Review the factors that drive prognosis before deciding treatment "
            "(none could be derived yet)."
        )
    statement += f" Treatment so far: {treatment_phrase(case, history)}."
    reason_parts = [
        "Stage and group at diagnosis, treatment history and the timing and type of recurrence "
        "decide prognosis and options at relapse"
    ]
    if undecided:
        reason_parts.append(
            f"{len(undecided)} of them undecided "
            f"({join_words([str(s['label']) for s in undecided])}); "
            f"would decide: {'; '.join(field_label(n, case) for n in needs)}"
        )
    if missing:
        reason_parts.append("unknown: " + "; ".join(missing))
    finding_citations = [c for i in ids for c in findings[i].citations]
    return [
        build(
            id="risk_review.summary",
            category=RecommendationCategory.RISK_REVIEW,
            statement=statement,
            strength=Strength.RECOMMENDED,
            reason="; ".join(reason_parts) + ".",
            rule=RULE,
            entries=[entry],
            extra_citations=finding_citations,
            based_on_findings=ids,
            inputs_used=["diagnosis", "first_line", "later_lines", "events"],
            details={
                "findings": summaries,
                "treatment_history": history,
                "unknown": missing,
                "needs": needs,
                "findings_not_available": missing_ids,
                "relapse_timing_cut_months": entry.threshold_months,
            },
        )
    ]
