"""Page one: the self-sufficient summary a tumour board decides from (issue 17 §1).

``page_one(case, assessment)`` gathers, in words, what the first PDF page, the top of the HTML
report, the top of the web case page and the meeting presentation all show:

* the patient line, with the sites and pattern of the latest recurrence
* the input warnings (implausible values, unconfirmed histology)
* the classification (stage, group, risk groups, relapse timing and type)
* the prognosis headline with its population in words, and its chart
* the top systemic options by name, with what the patient has already had
* the top trials by name, with their verdict and what is still pending
* what is missing, in plain words, with what it would decide

The partial template ``page_one.html.j2`` renders it; any page can include it with the
``PageOne`` object bound to ``p1``.  Nothing here cuts a statement mid-sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rhabdo.case.model import Case, DiseaseEvent, EventSite
from rhabdo.case.vocab import EventKind
from rhabdo.knowledge import sources
from rhabdo.labels import (
    field_label,
    finding_label,
    number_label,
    unit_label,
    value_label,
    words,
)
from rhabdo.report.charts import Chart, prognosis_charts
from rhabdo.report.common import candidates_text
from rhabdo.report.summary import dates_line, diagnosis_summary
from rhabdo.results import (
    Assessment,
    Finding,
    FindingStatus,
    InputWarning,
    Recommendation,
    RecommendationCategory,
    Strength,
)

#: The classification shown on page one, in the order the board reads it.
CLASSIFICATION_IDS: tuple[str, ...] = (
    "stage.pretreatment",
    "group.clinical",
    "risk.cog",
    "risk.epssg",
    "score.oberlin",
    "relapse.timing",
    "relapse.type",
    "relapse.extent",
    "relapse.refractory",
    "relapse.cog_risk_group",
)
TOP_OPTIONS = 3
TOP_TRIALS = 3
TOP_MISSING = 4
TOP_PENDING = 2
_OPTION_STRENGTHS = (Strength.RECOMMENDED, Strength.CONSIDER, Strength.CAUTION)
_VERDICT_WORDS = {
    "eligible_on_known_data": "eligible on the data given",
    "possible_pending": "possibly eligible",
    "excluded": "excluded",
}


@dataclass(frozen=True)
class LabelledValue:
    label: str
    value: str
    undecided: bool = False


@dataclass(frozen=True)
class PrognosisLine:
    figure: str
    source: str
    population: str
    citations: list[str]


@dataclass(frozen=True)
class OptionLine:
    name: str
    strength: Strength
    notes: list[str]
    dose_lines: list[str]
    citations: list[str]
    rec_id: str

    @property
    def heading(self) -> str:
        """The option as page one leads with it: a caution option leads with the caution, so
        it cannot be read as a suggestion."""
        return f"Caution — {self.name}" if self.strength is Strength.CAUTION else self.name

    @property
    def qualifiers(self) -> list[str]:
        """What follows the heading: the strength (unless the heading already states it),
        then the notes."""
        lead = [] if self.strength is Strength.CAUTION else [self.strength.value]
        return [*lead, *self.notes]


@dataclass(frozen=True)
class TrialLine:
    name: str
    registry_id: str
    phase: str
    verdict: str
    pending: list[str]


@dataclass(frozen=True)
class MissingLine:
    field: str
    decides: str


#: Page one's prognosis when no published figure applies (text and HTML say the same).
NO_FIGURE = "No published survival figure after relapse applies with the data given."


@dataclass(frozen=True)
class PageOne:
    patient_id: str
    patient_line: str
    recurrence_line: str | None
    dates: str
    warnings: list[InputWarning]
    classification: list[LabelledValue]
    prognosis: list[PrognosisLine]
    chart: Chart | None
    options: list[OptionLine]
    more_options: int
    other_recommendations: list[tuple[str, int]]
    trials: list[TrialLine]
    trial_counts: str | None
    missing: list[MissingLine]
    more_missing: int
    citations: list[str] = field(default_factory=list)


# --- the patient line -------------------------------------------------------------------------


def _site_words(site: EventSite) -> str:
    where = site.metastatic_site.label if site.metastatic_site else site.extent.label
    if not site.location or site.location.lower() == where.lower():
        return where
    if site.location.lower().startswith(where.lower()):
        return site.location
    return f"{where} ({site.location})"


def recurrence_line(case: Case, assessment: Assessment) -> str | None:
    """'Relapse 2024-05: lung (multiple lung nodules), bone (thoracic spine T8) — metastatic
    (distant); during first-line therapy.'  The latest event; None without one."""
    if not case.events:
        return None
    ev: DiseaseEvent = case.events[-1]
    head = ev.kind.label.capitalize() + (f" {ev.date:%Y-%m-%d}" if ev.date else " (date unknown)")
    if len(case.events) > 1:
        head += f" (event {len(case.events)} of {len(case.events)})"
    sites = (
        ", ".join(_site_words(s) for s in ev.sites)
        if ev.sites
        else ("no sites recorded" if ev.sites is not None else "sites not yet known")
    )
    pattern, _ = recurrence_pattern(case, assessment)
    tail = f" — {'; '.join(pattern)}" if pattern else " — pattern and timing undecided"
    return f"{head}: {sites}{tail}."


def _determined(assessment: Assessment, fid: str) -> Finding | None:
    f = assessment.findings.get(fid)
    return f if f is not None and f.status is FindingStatus.DETERMINED else None


def recurrence_pattern(case: Case, assessment: Assessment) -> tuple[list[str], set[str]]:
    """The recurrence's pattern and timing, each said once in clinical words, and the finding
    ids that said it (page one's classification line leaves those out).

    The extent of the latest recurrence ('local recurrence', 'disseminated recurrence') says
    what the type of the first event would repeat ('local; local'), so the type is shown only
    when the extent is undecided, or when it adds a local or regional component to a distant
    one.  Type and timing describe the first event: after more than one event they are
    labelled so.
    """
    words: list[str] = []
    stated: set[str] = set()
    first = len(case.events) <= 1
    extent = _determined(assessment, "relapse.extent")
    kind = _determined(assessment, "relapse.type")
    timing = _determined(assessment, "relapse.timing")
    noun = (
        "progression"
        if case.events and case.events[-1].kind is EventKind.PROGRESSION
        else ("recurrence")
    )
    if extent is not None:
        what, _, why = _answer(extent).partition(" (")
        words.append(f"{what} {noun}" + (f" ({why}" if why else ""))
        stated.add(extent.id)
    if kind is not None:
        adds = extent is None or (kind.value == "combined" and extent.value == "disseminated")
        if adds or not first:
            words.append(_answer(kind) + ("" if first else " at the first event"))
        stated.add(kind.id)
    if timing is not None:
        words.append(_answer(timing) + ("" if first else " at the first event"))
        stated.add(timing.id)
    return words, stated


# --- classification ---------------------------------------------------------------------------


def _answer(f: Finding) -> str:
    """The answer in a few words; an undecided finding names its two candidates, or how many
    remain (the detail section lists them all)."""
    if f.status is FindingStatus.DETERMINED:
        return value_label(f.id, f.value, f.details if isinstance(f.details, dict) else None)
    if f.status is FindingStatus.NOT_APPLICABLE:
        return "not applicable"
    if 0 < len(f.candidates) <= 2:
        return f"undecided: {candidates_text(f)}"
    return f"undecided ({len(f.candidates)} possible)" if f.candidates else "undecided"


def classification(
    assessment: Assessment, stated: frozenset[str] = frozenset()
) -> list[LabelledValue]:
    """The classification findings, less those the recurrence line already ``stated``."""
    out = []
    for fid in CLASSIFICATION_IDS:
        f = assessment.findings.get(fid)
        if f is None or f.status is FindingStatus.NOT_APPLICABLE or fid in stated:
            continue
        out.append(
            LabelledValue(finding_label(fid), _answer(f), f.status is FindingStatus.INDETERMINATE)
        )
    return out


# --- prognosis --------------------------------------------------------------------------------


def _source_name(key: str) -> str:
    src = sources().get(key)
    if src is None:
        return key
    first = src.authors[0].split()[0] if src.authors else key
    return f"{first} {src.year}"


def _figure_population(model: dict[str, Any]) -> str:
    """The (sub)population the quoted figure was measured in, not the whole cohort the model
    came from (page one keeps the innermost group; the detail section gives the whole chain)."""
    words = str(model.get("population_words") or "")
    if words:
        return words.split(", within: ")[0]
    return str(model.get("population") or "population not stated")


def prognosis_lines(assessment: Assessment) -> tuple[list[PrognosisLine], list[str]]:
    """Each published figure that applies, with the population it was measured in."""
    f = assessment.findings.get("prognosis.relapse")
    if f is None or not isinstance(f.details, dict):
        return [], []
    lines: list[PrognosisLine] = []
    entries: list[str] = []
    for m in f.details.get("models") or []:
        if not (isinstance(m, dict) and m.get("applicable") and m.get("computable")):
            continue
        if not m.get("figure"):
            continue
        citation = str(m.get("citation") or m.get("model") or "")
        lines.append(
            PrognosisLine(
                figure=str(m["figure"]),
                source=_source_name(citation),
                population=_figure_population(m),
                citations=[citation] if citation else [],
            )
        )
        entries.extend(e for e in m.get("entries") or [] if isinstance(e, str))
    return lines, entries


def headline_chart(
    assessment: Assessment, entries: list[str], charts: list[Chart] | None = None
) -> Chart | None:
    """The chart of the headline figure, else the first published chart that applies."""
    charts = prognosis_charts(assessment) if charts is None else charts
    for entry in entries:
        for c in charts:
            if entry in c.entry_ids:
                return c
    return charts[0] if charts else None


# --- options ----------------------------------------------------------------------------------


def short_name(rec: Recommendation) -> str:
    """'Vincristine + irinotecan + temozolomide (VIT)' -> 'VIT (vincristine + irinotecan +
    temozolomide)'; a name without an abbreviation as it is."""
    name = rec.details.get("name") if isinstance(rec.details, dict) else None
    if not isinstance(name, str):
        return _first_sentence(rec.statement)
    m = re.fullmatch(r"(.+?)\s*\(([A-Z][A-Za-z0-9/+ -]{1,15})\)", name)
    if m:
        return f"{m.group(2)} ({m.group(1)[:1].lower()}{m.group(1)[1:]})"
    return name


def _first_sentence(text: str) -> str:
    """The first whole sentence (never cut inside one)."""
    m = re.match(r"(.+?[.!?])(\s+[A-Z(]|\s*$)", text.strip(), flags=re.S)
    return m.group(1) if m else text.strip()


def _option_notes(rec: Recommendation, assessment: Assessment) -> list[str]:
    notes: list[str] = []
    checks = rec.details.get("exposure_checks") if isinstance(rec.details, dict) else None
    for check in checks or []:
        if not isinstance(check, dict) or check.get("status") in {"ok", "clear", "none"}:
            continue
        kind = check.get("check")
        fid = check.get("finding")
        f = assessment.findings.get(fid) if isinstance(fid, str) else None
        if kind == "agents_already_given":
            text = str(check.get("reason") or "").removeprefix("Already given: ").rstrip(".")
            notes.append(f"already given: {text}" if text else "some agents already given")
        elif (
            f is not None
            and f.status is FindingStatus.DETERMINED
            and f.id != "exposure.agents_given"
        ):
            short = {"exposure.ced": "CED"}.get(f.id, finding_label(f.id))
            notes.append(f"prior {short} {_answer(f)}")
        elif f is not None and f.status is FindingStatus.INDETERMINATE:
            short = {"exposure.ced": "CED"}.get(f.id, finding_label(f.id))
            known = candidates_text(f) if f.candidates else "not known"
            notes.append(f"prior {short} {known}")
        elif check.get("reason"):
            notes.append(_first_sentence(words(str(check["reason"]))))
    # Notes are joined with "; " after the option, so none keeps its own full stop.
    return [n.removesuffix(".") for n in notes]


def _dose_lines(rec: Recommendation) -> list[str]:
    """The patient's own doses where the recommendation carries them (per-patient dosing)."""
    doses = getattr(rec, "patient_doses", None) or getattr(rec, "doses", None)
    if doses is None and isinstance(rec.details, dict):
        doses = rec.details.get("patient_doses")
    lines = []
    for d in doses or []:
        text = getattr(d, "text", None) or getattr(d, "summary", None)
        if isinstance(d, dict):
            text = d.get("text") or d.get("summary")
        if text is None:
            agent = _get(d, "agent")
            amount = _get(d, "dose") or _get(d, "dose_mg") or _get(d, "amount")
            unit = _get(d, "unit") or _get(d, "dose_unit") or ""
            if agent is not None and isinstance(amount, int | float):
                name = getattr(agent, "label", agent)
                text = f"{name} {number_label(amount)} {unit_label(str(unit))}".strip()
        if text and "needs" not in str(text):
            lines.append(str(text))
    return lines


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def option_lines(assessment: Assessment) -> tuple[list[OptionLine], int]:
    """The systemic options in the order the evidence ranks them, strongest first."""
    systemic = [
        r
        for r in assessment.recommendations
        if r.category is RecommendationCategory.SYSTEMIC_THERAPY
        and r.strength in _OPTION_STRENGTHS
        and isinstance(r.details, dict)
        and r.details.get("regimen")
    ]
    order: list[str] = []
    for r in assessment.recommendations:
        listed = r.details.get("options_in_order") if isinstance(r.details, dict) else None
        if isinstance(listed, list):
            order += [str(x) for x in listed]
    rank = {reg: i for i, reg in enumerate(order)}
    systemic.sort(
        key=lambda r: (
            _OPTION_STRENGTHS.index(r.strength),
            rank.get(str(r.details.get("regimen")), len(rank)),
        )
    )
    lines = [
        OptionLine(
            name=short_name(r),
            strength=r.strength,
            notes=_option_notes(r, assessment),
            dose_lines=_dose_lines(r),
            citations=list(r.citations),
            rec_id=r.id,
        )
        for r in systemic[:TOP_OPTIONS]
    ]
    return lines, max(0, len(systemic) - TOP_OPTIONS)


def other_recommendations(assessment: Assessment) -> list[tuple[str, int]]:
    """Recommended actions outside systemic therapy, counted per category."""
    out = []
    for cat in RecommendationCategory:
        if cat in (RecommendationCategory.SYSTEMIC_THERAPY, RecommendationCategory.RISK_REVIEW):
            continue
        n = sum(
            1
            for r in assessment.recommendations
            if r.category is cat and r.strength in (Strength.RECOMMENDED, Strength.AVOID)
        )
        if n:
            out.append((cat.label, n))
    return out


# --- trials -----------------------------------------------------------------------------------


def _trial_name(top: dict[str, Any]) -> str:
    if top.get("acronym"):
        return str(top["acronym"])
    title = str(top.get("title") or top.get("registry_id") or "trial")
    head = title.split(":")[0].strip()
    if len(head) <= 70:
        return head
    return head[:70].rsplit(" ", 1)[0] + " …"


def trial_lines(assessment: Assessment) -> tuple[list[TrialLine], str | None]:
    for r in assessment.recommendations:
        matching = r.details.get("matching") if isinstance(r.details, dict) else None
        if not isinstance(matching, dict):
            continue
        lines = []
        for top in (matching.get("top") or [])[:TOP_TRIALS]:
            if not isinstance(top, dict):
                continue
            pending = [words(str(p)) for p in top.get("pending") or []]
            if len(pending) > TOP_PENDING:
                pending = [*pending[:TOP_PENDING], f"{len(pending) - TOP_PENDING} more"]
            if not pending and top.get("pending_count"):
                n = int(top["pending_count"])
                pending = [f"{n} criterion{'' if n == 1 else 'a'} not decidable from the case"]
            lines.append(
                TrialLine(
                    name=_trial_name(top),
                    registry_id=str(top.get("registry_id") or ""),
                    phase=str(top.get("phase") or ""),
                    verdict=_VERDICT_WORDS.get(str(top.get("verdict")), str(top.get("verdict"))),
                    pending=pending,
                )
            )
        counts = matching.get("counts") or {}
        summary = ", ".join(
            f"{n} {_VERDICT_WORDS.get(str(k), str(k))}" for k, n in counts.items() if n
        )
        return lines, (
            f"of {matching.get('total', 0)} trials listed: {summary}" if summary else None
        )
    return [], None


# --- missing ----------------------------------------------------------------------------------


def missing_lines(case: Case, assessment: Assessment) -> tuple[list[MissingLine], int]:
    """What is missing, most consequential first (the field that decides most findings)."""
    ordered = sorted(assessment.missing_inputs, key=lambda m: -len(m.would_decide))
    lines = [
        MissingLine(
            field=field_label(m.field, case),
            decides=", ".join(finding_label(i) for i in m.would_decide),
        )
        for m in ordered[:TOP_MISSING]
    ]
    return lines, max(0, len(ordered) - TOP_MISSING)


# --- the whole page ---------------------------------------------------------------------------


def page_one(case: Case, assessment: Assessment, charts: list[Chart] | None = None) -> PageOne:
    """The summary; ``charts`` are the published-outcome charts when already drawn."""
    prognosis, entries = prognosis_lines(assessment)
    options, more_options = option_lines(assessment)
    trials, trial_counts = trial_lines(assessment)
    missing, more_missing = missing_lines(case, assessment)
    return PageOne(
        patient_id=assessment.patient_id,
        patient_line=diagnosis_summary(case),
        recurrence_line=recurrence_line(case, assessment),
        dates=dates_line(case, assessment),
        warnings=list(assessment.warnings),
        classification=classification(
            assessment,
            frozenset(recurrence_pattern(case, assessment)[1]) if case.events else frozenset(),
        ),
        prognosis=prognosis,
        chart=headline_chart(assessment, entries, charts),
        options=options,
        more_options=more_options,
        other_recommendations=other_recommendations(assessment),
        trials=trials,
        trial_counts=trial_counts,
        missing=missing,
        more_missing=more_missing,
    )
