"""When and how the disease came back: relapse timing, relapse type, refractory disease.

All three findings describe the **first** event (``case.events[0]``), because the published
first-relapse models (Chisholm 2011, Mazzoleni 2005, Pappo 1999, Mattke 2009) are built on it;
each finding names the event it describes in ``details["event"]``.

Months are counted as days / 30.4375 (the mean Gregorian month, 365.25 / 12).  The papers do
not state their own month convention; this one has no calendar bias and makes "18 months"
= 547.875 days, so 547 days is still "within 18 months" and 548 days is not.

Each model keeps its own clock (scoring-and-staging.md, conflict C18):
* Chisholm 2011 and Dantonello 2008 -- months from **diagnosis**;
* Mattke 2009 -- months from the **end of first-line therapy** (<=6, >6-12, >12);
* Mazzoleni 2005 -- recurrence **on** versus **off** first-line therapy;
* the issue's headline category -- on first-line therapy / within 18 months of the **start of
  treatment** / later.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case, DiseaseEvent, TreatmentLine
from rhabdo.case.vocab import EventKind, Extent
from rhabdo.prognosis.knowledge import threshold
from rhabdo.results import Finding, determined, indeterminate, not_applicable

DAYS_PER_MONTH = 30.4375
"""Mean Gregorian month in days (365.25 / 12): the month convention of every interval here."""

TIMING_RULE = "relapse.timing.v1"
TYPE_RULE = "relapse.type.v1"
REFRACTORY_RULE = "relapse.refractory.v1"

TIMING_CITATIONS = ["chisholm_2011", "mazzoleni_2005", "mattke_2009", "dantonello_2008"]
TYPE_CITATIONS = ["pappo_1999", "dantonello_2008", "mazzoleni_2005", "chisholm_2011"]
REFRACTORY_CITATIONS = ["pdq_rms_hp_2025", "minn_2010", "mazzoleni_2005"]


class RelapseTiming(StrEnum):
    """Headline timing of the first event."""

    ON_FIRST_LINE_THERAPY = "on_first_line_therapy"
    WITHIN_18_MONTHS = "within_18_months_of_treatment_start"
    LATER = "18_months_or_later"

    @property
    def label(self) -> str:
        return _TIMING_LABELS[self]


_TIMING_LABELS = {
    RelapseTiming.ON_FIRST_LINE_THERAPY: "during first-line therapy",
    RelapseTiming.WITHIN_18_MONTHS: "off therapy, within 18 months of the start of treatment",
    RelapseTiming.LATER: "off therapy, 18 months or more after the start of treatment",
}


class RelapseType(StrEnum):
    """Extent of the first event relative to the primary tumour.

    ``locoregional`` (local and regional nodes, nothing distant) is kept apart from ``combined``
    (local and/or regional *with* distant), as Dantonello 2008 does.
    """

    LOCAL = "local"
    REGIONAL = "regional"
    LOCOREGIONAL = "locoregional"
    METASTATIC = "metastatic"
    COMBINED = "combined"


class MattkeCategory(StrEnum):
    """Mattke 2009: time from the end of primary therapy to relapse."""

    EARLY = "early"  # <= 6 months
    INTERMEDIATE = "intermediate"  # > 6 to 12 months
    LATE = "late"  # > 12 months


# --- small pure helpers --------------------------------------------------------------------


def months_between(start: dt.date, end: dt.date) -> float:
    """Months from ``start`` to ``end`` by the days / 30.4375 convention."""
    return (end - start).days / DAYS_PER_MONTH


def first_event(case: Case) -> DiseaseEvent | None:
    return case.events[0] if case.events else None


def on_first_line_therapy(case: Case) -> bool | None:
    """Whether the first event happened while first-line therapy was being given.

    True when the event falls between the start and end of the first line (inclusive) or the
    line is still ongoing; False when it falls after the recorded end (or before the start);
    None when the dates do not decide it.
    """
    ev = first_event(case)
    line = case.first_line
    if ev is None or ev.date is None or line is None:
        return None
    if line.start_date is not None and ev.date < line.start_date:
        return False
    if line.end_date is not None:
        return ev.date <= line.end_date
    if line.ongoing:
        return True
    return None


def _needs_for_on_therapy(case: Case) -> list[str]:
    line: TreatmentLine | None = case.first_line
    if line is None:
        return ["first_line.start_date", "first_line.end_date"]
    return ["first_line.end_date"]


def months_from_diagnosis(case: Case) -> float | None:
    ev = first_event(case)
    if ev is None or ev.date is None or case.diagnosis.date is None:
        return None
    return months_between(case.diagnosis.date, ev.date)


def months_from_treatment_start(case: Case) -> float | None:
    ev = first_event(case)
    if (
        ev is None
        or ev.date is None
        or case.first_line is None
        or case.first_line.start_date is None
    ):
        return None
    return months_between(case.first_line.start_date, ev.date)


def months_from_end_of_first_line(case: Case) -> float | None:
    ev = first_event(case)
    if ev is None or ev.date is None or case.first_line is None or case.first_line.end_date is None:
        return None
    return months_between(case.first_line.end_date, ev.date)


def within_18_months_of_treatment_start(case: Case) -> bool | None:
    """Whether the first event came < 18 months after the start of first-line treatment."""
    return _within_18_months(case)[0]


def _within_18_months(case: Case) -> tuple[bool | None, str | None]:
    """Whether the first event came < 18 months after the start of first-line treatment, and
    how the known dates decide it when the start date itself is missing.

    Treatment never starts before diagnosis and never after its own end (the case model
    enforces diagnosis <= start <= end), so without the start date: an event < 18 months after
    diagnosis is < 18 months after the start, and an event >= 18 months after the **end** of
    first-line therapy is >= 18 months after the start.  Anything else stays unknown.
    """
    cut = threshold("relapse_timing.threshold.early_months")
    from_start = months_from_treatment_start(case)
    if from_start is not None:
        return from_start < cut, f"{from_start:.1f} months after the start of first-line treatment"
    from_dx = months_from_diagnosis(case)
    if from_dx is not None and from_dx < cut:
        return True, (
            f"{from_dx:.1f} months after diagnosis, hence less than {cut:g} months after the "
            "start of treatment (start date not recorded; treatment never starts before diagnosis)"
        )
    from_end = months_from_end_of_first_line(case)
    if from_end is not None and from_end >= cut:
        return False, (
            f"{from_end:.1f} months after the end of first-line therapy, hence at least {cut:g} "
            "months after its start (start date not recorded; treatment starts before it ends)"
        )
    return None, None


def mattke_category(months_after_end: float) -> MattkeCategory:
    """Mattke 2009 category from months after the end of primary therapy."""
    if months_after_end <= threshold("mattke_2009.threshold.early_months"):
        return MattkeCategory.EARLY
    if months_after_end <= threshold("mattke_2009.threshold.late_months"):
        return MattkeCategory.INTERMEDIATE
    return MattkeCategory.LATE


def _event_details(case: Case) -> dict[str, Any]:
    ev = first_event(case)
    assert ev is not None
    return {"index": 0, "kind": ev.kind.value, "of_events": len(case.events)}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


# --- relapse.timing --------------------------------------------------------------------------


def chisholm_under_18_months(case: Case) -> bool | None:
    """Chisholm 2011's timing factor: the first event < 18 months from diagnosis."""
    from_dx = months_from_diagnosis(case)
    if from_dx is None:
        return None
    return from_dx < threshold("chisholm_2011.threshold.relapse_months")


def model_clocks(case: Case) -> dict[str, Any]:
    """Each model's own timing variable for the first event (None where not computable)."""
    from_dx = months_from_diagnosis(case)
    from_end = months_from_end_of_first_line(case)
    on_therapy = on_first_line_therapy(case)
    chisholm_early = chisholm_under_18_months(case)
    mattke: str | None = None
    if on_therapy is False and from_end is not None and from_end >= 0:
        mattke = mattke_category(from_end).value
    return {
        "chisholm_2011": {
            "clock": "months from diagnosis",
            "months": _round(from_dx),
            "under_18_months": chisholm_early,
        },
        "dantonello_2008": {"clock": "months from diagnosis", "months": _round(from_dx)},
        "mattke_2009": {
            "clock": "months from the end of first-line therapy",
            "months": _round(from_end) if on_therapy is False else None,
            "category": mattke,
        },
        "mazzoleni_2005": {"clock": "on or off first-line therapy", "on_therapy": on_therapy},
    }


def relapse_timing(case: Case) -> Finding:
    """When the first event happened: on first-line therapy, < 18 months, or later.

    The headline category follows the issue's definition (on first-line therapy / within 18
    months of the start of treatment / later); ``details["models"]`` keeps each model's own
    clock apart (Chisholm 2011 and Dantonello 2008 from diagnosis; Mattke 2009 from the end of
    therapy; Mazzoleni 2005 on vs off therapy).
    """
    fid = "relapse.timing"
    ev = first_event(case)
    if ev is None:
        return not_applicable(
            fid, reason="No relapse or progression is recorded.", rule=TIMING_RULE
        )
    inputs = ["events[0].date", "diagnosis.date", "first_line.start_date", "first_line.end_date"]
    base: dict[str, Any] = {"event": _event_details(case), "month_convention": "days / 30.4375"}
    if ev.date is None:
        return indeterminate(
            fid,
            candidates=[t.value for t in RelapseTiming],
            needs=["events[0].date"],
            reason="The date of the first event is not recorded.",
            rule=TIMING_RULE,
            citations=TIMING_CITATIONS,
            inputs_used=inputs,
            details=base,
        )
    on_therapy = on_first_line_therapy(case)
    within, inferred = _within_18_months(case)
    from_start = months_from_treatment_start(case)
    from_end = months_from_end_of_first_line(case)
    details = {
        **base,
        "on_first_line_therapy": on_therapy,
        "months_from_treatment_start": _round(from_start),
        "months_from_diagnosis": _round(months_from_diagnosis(case)),
        "months_from_end_of_first_line": _round(from_end) if on_therapy is False else None,
        "models": model_clocks(case),
    }
    interval = (
        f"{from_start:.1f} months after the start of first-line treatment"
        if from_start is not None
        else None
    )
    what = f"First event ({ev.kind.label})"
    if on_therapy is True:
        when = f", {interval}" if interval else ""
        details["label"] = RelapseTiming.ON_FIRST_LINE_THERAPY.label
        return determined(
            fid,
            RelapseTiming.ON_FIRST_LINE_THERAPY.value,
            reason=f"{what} occurred during first-line therapy{when}.",
            rule=TIMING_RULE,
            citations=TIMING_CITATIONS,
            inputs_used=inputs,
            details=details,
        )
    off_value: RelapseTiming | None = None
    if within is not None:
        off_value = RelapseTiming.WITHIN_18_MONTHS if within else RelapseTiming.LATER
    if on_therapy is False and off_value is not None:
        when = inferred or interval or ""
        ended = "after first-line therapy ended"
        if from_start is not None and from_start < 0:
            ended = "before first-line therapy started"
        details["label"] = off_value.label
        return determined(
            fid,
            off_value.value,
            reason=f"{what} occurred {ended}, {when}.",
            rule=TIMING_RULE,
            citations=TIMING_CITATIONS,
            inputs_used=inputs,
            details=details,
        )
    candidates: list[str] = []
    needs: list[str] = []
    if on_therapy is None:
        candidates.append(RelapseTiming.ON_FIRST_LINE_THERAPY.value)
        needs += _needs_for_on_therapy(case)
    if off_value is not None:
        candidates.append(off_value.value)
    else:
        candidates += [RelapseTiming.WITHIN_18_MONTHS.value, RelapseTiming.LATER.value]
        needs.append("first_line.start_date")
    return indeterminate(
        fid,
        candidates=candidates,
        needs=needs,
        reason=(
            f"{what}: the treatment dates do not decide whether it came on therapy "
            "or how long after the start of treatment."
        ),
        rule=TIMING_RULE,
        citations=TIMING_CITATIONS,
        inputs_used=inputs,
        details=details,
    )


# --- relapse.type ----------------------------------------------------------------------------


def relapse_type_from_extents(extents: set[Extent]) -> RelapseType:
    """Local / regional / locoregional / metastatic / combined from the extents involved."""
    distant = Extent.DISTANT in extents
    local = Extent.LOCAL in extents
    regional = Extent.REGIONAL in extents
    if distant:
        return RelapseType.COMBINED if (local or regional) else RelapseType.METASTATIC
    if local and regional:
        return RelapseType.LOCOREGIONAL
    return RelapseType.LOCAL if local else RelapseType.REGIONAL


@once_per_assessment
def relapse_type(case: Case) -> Finding:
    """How the first event came back: local, regional, locoregional, metastatic or combined.

    Single vs multiple sites counts the sites listed for the event (each listed site is one
    site).  Categories as used by Pappo 1999, Dantonello 2008, Mazzoleni 2005 (systemic) and
    Chisholm 2011 (metastatic relapse).
    """
    fid = "relapse.type"
    ev = first_event(case)
    if ev is None:
        return not_applicable(fid, reason="No relapse or progression is recorded.", rule=TYPE_RULE)
    base: dict[str, Any] = {"event": _event_details(case)}
    if not ev.sites:
        return indeterminate(
            fid,
            candidates=[t.value for t in RelapseType],
            needs=["events[0].sites"],
            reason="The sites of the first event are not recorded.",
            rule=TYPE_RULE,
            citations=TYPE_CITATIONS,
            inputs_used=["events[0].sites"],
            details=base,
        )
    extents = {s.extent for s in ev.sites}
    kind = relapse_type_from_extents(extents)
    multiplicity = "single" if len(ev.sites) == 1 else "multiple"
    distant_organs = sorted({s.metastatic_site.value for s in ev.sites if s.metastatic_site})
    details = {
        **base,
        "multiplicity": multiplicity,
        "site_count": len(ev.sites),
        "extents": sorted(e.value for e in extents),
        "distant_organs": distant_organs,
        "metastatic": kind in (RelapseType.METASTATIC, RelapseType.COMBINED),
    }
    return determined(
        fid,
        kind.value,
        reason=(
            f"First event ({ev.kind.label}): {kind.value} "
            f"{'progression' if ev.kind is EventKind.PROGRESSION else 'recurrence'} at "
            f"{multiplicity} site{'s' if multiplicity == 'multiple' else ''} "
            f"({len(ev.sites)} listed)."
        ),
        rule=TYPE_RULE,
        citations=TYPE_CITATIONS,
        inputs_used=["events[0].sites"],
        details=details,
    )


# --- relapse.refractory ----------------------------------------------------------------------


REFRACTORY_DEFINITION = (
    "Refractory here means progression during first-line therapy without a prior response "
    "(the first event is a progression dated within first-line therapy). A relapse after a "
    "response is not refractory, even when it comes during therapy (for example on "
    "maintenance): that is relapse on therapy, shown with the timing of relapse."
)
REFRACTORY_EVIDENCE_GAP = (
    "No consensus definition of refractory RMS was found: PDQ 2025 only says progressive "
    "disease may indicate refractoriness, and the definition used by the COG and EpSSG relapse "
    "trials (VIT-0910 enrolled relapsed and refractory patients as separate strata) was not read."
)


@once_per_assessment
def relapse_refractory(case: Case) -> Finding:
    """Whether the disease was refractory: the first event is progression during first-line therapy.

    Definition chosen (issue 13 section 7): refractory = progression without a prior response,
    during first-line therapy.  Sources: PDQ 2025 (progressive disease that keeps growing may
    indicate refractoriness); Mazzoleni 2005 keeps recurrence on therapy after complete
    remission as its own factor ("recurrence on therapy"), which ``relapse.timing`` reports;
    Minn 2010's early treatment failure (< 120 days from study entry, approximated by the start
    of first-line therapy) is flagged in ``details``.  No consensus definition exists
    (scoring-and-staging.md 5.6; relapse-dosing-late-effects.md 10.1), so the definition and
    that gap are shown in every reason and in ``details``.
    """
    fid = "relapse.refractory"
    ev = first_event(case)
    if ev is None:
        return not_applicable(
            fid, reason="No relapse or progression is recorded.", rule=REFRACTORY_RULE
        )
    inputs = ["events[0].kind", "events[0].date", "first_line.start_date", "first_line.end_date"]
    details: dict[str, Any] = {
        "event": _event_details(case),
        "definition": REFRACTORY_DEFINITION,
        "evidence_gap": REFRACTORY_EVIDENCE_GAP,
    }
    if ev.kind is EventKind.RELAPSE:
        return determined(
            fid,
            False,
            reason=(
                "The first event is a relapse after response, "
                f"not progression during first-line therapy. {REFRACTORY_DEFINITION}"
            ),
            rule=REFRACTORY_RULE,
            citations=REFRACTORY_CITATIONS,
            inputs_used=inputs,
            details=details,
        )
    on_therapy = on_first_line_therapy(case) if ev.date is not None else None
    days_from_start: int | None = None
    if (
        ev.date is not None
        and case.first_line is not None
        and case.first_line.start_date is not None
    ):
        days_from_start = (ev.date - case.first_line.start_date).days
    early_days = threshold("minn_2010.threshold.early_failure_days")
    early_failure = None
    if on_therapy and days_from_start is not None:
        early_failure = 0 <= days_from_start < early_days
    details.update(
        {
            "on_first_line_therapy": on_therapy,
            "days_from_treatment_start": days_from_start,
            "early_failure_minn_2010": early_failure,
        }
    )
    if on_therapy is None:
        needs = ["events[0].date"] if ev.date is None else _needs_for_on_therapy(case)
        return indeterminate(
            fid,
            candidates=[True, False],
            needs=needs,
            reason=(
                "The first event is a progression, but the dates do not show whether it "
                f"happened during first-line therapy. {REFRACTORY_DEFINITION}"
            ),
            rule=REFRACTORY_RULE,
            citations=REFRACTORY_CITATIONS,
            inputs_used=inputs,
            details=details,
        )
    if on_therapy:
        extra = (
            f" within {early_days:g} days of its start (early failure as in Minn 2010)"
            if early_failure
            else ""
        )
        reason = (
            f"The first event is progression during first-line therapy{extra}: refractory disease. "
            f"{REFRACTORY_DEFINITION}"
        )
    else:
        reason = (
            "The first event is a progression outside the dates of first-line "
            f"therapy, not refractory disease. {REFRACTORY_DEFINITION}"
        )
    return determined(
        fid,
        on_therapy,
        reason=reason,
        rule=REFRACTORY_RULE,
        citations=REFRACTORY_CITATIONS,
        inputs_used=inputs,
        details=details,
    )
