"""Matching one case against trials, criterion by criterion.

Each structured criterion is evaluated against the case and answers *met*, *not met* or
*not enough information*, with the case fields and values used as evidence.  A criterion the
case cannot decide is never treated as met or as not met.  The verdict for a trial is:

* ``excluded`` when at least one criterion is not met;
* ``possible_pending`` when none is unmet but at least one lacks information;
* ``eligible_on_known_data`` when every structured criterion is met.

Free-text criteria are never evaluated: they are listed as *needs review* for every verdict.

Treatment history: the lines recorded in the case (``first_line`` and ``later_lines``) are
taken as the complete history once ``first_line`` is recorded; with no line recorded, every
criterion about prior therapy lacks information.  The case format has no field for cell
therapy, so a prior CAR T-cell therapy is recognised as a chemotherapy entry with agent
``other`` whose ``agent_name`` says "CAR T" (or "CAR-T").  Disease setting follows the issue's
categories (newly diagnosed metastatic, first relapse, second or later relapse, refractory)
and is derived from the recorded events (see ``disease_settings``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, partial
from operator import itemgetter
from typing import Any, NamedTuple

from rhabdo.case.age import age_at_least, calendar_age_years
from rhabdo.case.model import Case, TreatmentLine
from rhabdo.case.vocab import (
    AlterationKind,
    ChemotherapyAgent,
    EventKind,
    FusionStatus,
    MutationStatus,
)
from rhabdo.collector import collector_paused
from rhabdo.trials.model import (
    AgeRange,
    Biomarker,
    CriterionOutcome,
    CriterionResult,
    DiseaseSetting,
    EligibilityCriteria,
    Evidence,
    OrganFunctionLimits,
    Threshold,
    Trial,
    TrialMatch,
    TrialStatus,
    Verdict,
    trusted_evidence,
    trusted_result,
)
from rhabdo.trials.screen import registry_answers

MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
UNKNOWN = CriterionOutcome.NOT_ENOUGH_INFORMATION

_CAR_T_NAME = re.compile(r"\bCAR[\s\-]?T\b", re.IGNORECASE)


@dataclass(frozen=True)
class MatchContext:
    """The case and the day eligibility is judged on (for ages and wash-out periods)."""

    case: Case
    on: dt.date | None
    country: str | None = None

    @cached_property
    def age(self) -> KnownAge | None:
        """The patient's age on the day judged, for every age criterion of the run."""
        if self.on is None:
            return None
        days = age_days_on(self.case, self.on)
        if days is None:
            return None
        born = self.case.patient.date_of_birth
        on_text = self.on.isoformat()
        # The date of birth is an identifier: evidence shows the age it gives, never the date.
        if born is not None:
            years = calendar_age_years(born, self.on)
            shown = f"{years} years on {on_text}"
            evidence = _ev(field="age (from patient.date_of_birth)", value=shown)
            return KnownAge(days, years, evidence, on_text)
        shown = f"about {days // 365} years on {on_text}"
        evidence = _ev(
            field="age (from patient.age_at_diagnosis_days and diagnosis.date)", value=shown
        )
        return KnownAge(days, None, evidence, on_text)


class KnownAge(NamedTuple):
    """Age on the day judged: in days, in completed calendar years when the date of birth is
    recorded, the evidence shown for it (one immutable Evidence, shared by the run's age
    criteria) and the day judged in words."""

    days: int
    years: int | None
    evidence: Evidence
    on_text: str

    def reached(self, years: int) -> bool | None:
        """Whether the patient had reached ``years`` of age; None when the age in days
        cannot decide (see ``rhabdo.case.age.age_at_least``)."""
        if self.years is not None:  # the date of birth is recorded: the calendar decides
            return self.years >= years
        return age_at_least(years, age_days=self.days)


def _result(
    key: str,
    requirement: str,
    outcome: CriterionOutcome,
    reason: str,
    evidence: list[Evidence] | None = None,
    needs: list[str] | None = None,
) -> CriterionResult:
    return trusted_result(
        key,
        requirement,
        outcome,
        reason,
        evidence or [],
        sorted(set(needs or [])) if outcome is UNKNOWN else [],
    )


_ev = trusted_evidence


# --- derived facts about the case -------------------------------------------------------------


def judgement_date(case: Case, on: dt.date | None = None) -> dt.date | None:
    """The day eligibility is judged on: the ``on`` argument, else ``current.assessed_on``."""
    if on is not None:
        return on
    return case.current.assessed_on if case.current else None


def age_days_on(case: Case, on: dt.date) -> int | None:
    """Age in days on ``on`` from the date of birth, or from the age at diagnosis."""
    if case.patient.date_of_birth is not None:
        return (on - case.patient.date_of_birth).days
    if case.patient.age_at_diagnosis_days is not None and case.diagnosis.date is not None:
        return case.patient.age_at_diagnosis_days + (on - case.diagnosis.date).days
    return None


def disease_settings(case: Case) -> tuple[set[DiseaseSetting] | None, list[str]]:
    """The disease settings the case is in, or None with the fields that would decide.

    With no recorded event the case is newly diagnosed: metastatic when distant metastases
    are listed, non-metastatic when the list is empty.  The first event is a first relapse
    when it is a relapse and refractory disease when it is progression (no response first).
    Two or more events make a second or later relapse; when the latest is a progression the
    case is refractory as well.  Categories: issue 5 (disease setting).
    """
    events = case.events
    if not events:
        mets = case.diagnosis.distant_metastases
        if mets is None:
            return None, ["diagnosis.distant_metastases"]
        if mets:
            return {DiseaseSetting.NEWLY_DIAGNOSED_METASTATIC}, []
        return {DiseaseSetting.NEWLY_DIAGNOSED_NON_METASTATIC}, []
    if len(events) == 1:
        if events[0].kind is EventKind.PROGRESSION:
            return {DiseaseSetting.REFRACTORY}, []
        return {DiseaseSetting.FIRST_RELAPSE}, []
    settings = {DiseaseSetting.SECOND_OR_LATER_RELAPSE}
    if events[-1].kind is EventKind.PROGRESSION:
        settings.add(DiseaseSetting.REFRACTORY)
    return settings, []


def _recorded_agents(case: Case) -> list[str]:
    names: list[str] = []
    for line in case.all_treatment_lines():
        for exp in line.chemotherapy:
            names.append(
                exp.agent_name
                if exp.agent is ChemotherapyAgent.OTHER and exp.agent_name
                else exp.agent.value
            )
    return names


def _history_recorded(case: Case) -> bool:
    return case.first_line is not None or bool(case.later_lines)


def _history_not_recorded(key: str, requirement: str) -> CriterionResult:
    """The answer to a prior-therapy criterion when no treatment line is recorded: with no
    history there is nothing to count or search, so the criterion lacks information."""
    return _result(
        key,
        requirement,
        UNKNOWN,
        "no treatment line recorded",
        needs=["first_line", "later_lines"],
    )


def _named_treatment_lines(case: Case) -> list[tuple[str, TreatmentLine]]:
    """The recorded treatment lines in order, each with the case path that names it."""
    return ([("first_line", case.first_line)] if case.first_line else []) + [
        (f"later_lines[{i}]", ln) for i, ln in enumerate(case.later_lines)
    ]


# --- one evaluator per criterion key ----------------------------------------------------------


def _age_requirement(age: AgeRange) -> str:
    """The words of an age range (knowledge only: made once per range)."""
    return _age_words(age.min_years, age.max_years, age.max_inclusive)


@cache
def _age_words(min_years: int | None, max_years: int | None, max_inclusive: bool) -> str:
    """The words of an age range, kept by its three numbers (hashing them is cheaper than
    hashing the model)."""

    def years(n: int) -> str:
        return f"{n} year" if n == 1 else f"{n} years"

    parts = []
    if min_years is not None:
        parts.append(f"at least {years(min_years)}")
    if max_years is not None:
        parts.append(
            f"at most {years(max_years)}" if max_inclusive else f"younger than {years(max_years)}"
        )
    return "age " + " and ".join(parts)


def _eval_age(ctx: MatchContext, age: AgeRange) -> CriterionResult:
    requirement = _age_requirement(age)
    if ctx.on is None:
        return _result(
            "age",
            requirement,
            UNKNOWN,
            "no assessment date, so current age is unknown",
            needs=["current.assessed_on"],
        )
    known = ctx.age
    if known is None:
        return _result(
            "age",
            requirement,
            UNKNOWN,
            "age is not recorded",
            needs=["patient.date_of_birth", "patient.age_at_diagnosis_days", "diagnosis.date"],
        )
    evidence = [known.evidence]
    checks: list[bool | None] = []
    if age.min_years is not None:
        checks.append(known.reached(age.min_years))
    if age.max_years is not None:
        over = known.reached(age.max_years + 1 if age.max_inclusive else age.max_years)
        checks.append(None if over is None else not over)
    if False in checks:
        return _result(
            "age", requirement, NOT_MET, f"age on {known.on_text} is outside the range", evidence
        )
    if None in checks:
        return _result(
            "age",
            requirement,
            UNKNOWN,
            "age in days falls on a leap-day boundary; the date of birth decides",
            evidence,
            needs=["patient.date_of_birth"],
        )
    return _result("age", requirement, MET, f"age on {known.on_text} is within the range", evidence)


def _eval_sexes(ctx: MatchContext, sexes: list[object]) -> CriterionResult:
    requirement = "sex: " + ", ".join(str(s) for s in sexes)
    sex = ctx.case.patient.sex
    if sex is None:
        return _result("sexes", requirement, UNKNOWN, "sex is not recorded", needs=["patient.sex"])
    ev = [_ev(field="patient.sex", value=sex.value)]
    ok = sex in sexes
    return _result("sexes", requirement, MET if ok else NOT_MET, f"sex is {sex}", ev)


def _eval_histologies(
    ctx: MatchContext, listed: list[object], *, excluded: bool
) -> CriterionResult:
    """Whether the histology is one the trial lists (``histologies``) or one it rules out
    (``excluded_histologies``)."""
    key = "excluded_histologies" if excluded else "histologies"
    names = ", ".join(str(h) for h in listed)
    requirement = ("histology not: " if excluded else "histology one of: ") + names
    h = ctx.case.diagnosis.histology
    if h is None:
        return _result(
            key, requirement, UNKNOWN, "histology is not recorded", needs=["diagnosis.histology"]
        )
    ev = [_ev(field="diagnosis.histology", value=h.value)]
    ok = h not in listed if excluded else h in listed
    return _result(key, requirement, MET if ok else NOT_MET, f"histology is {h.label}", ev)


def _eval_fusion(ctx: MatchContext, allowed: list[FusionStatus]) -> CriterionResult:
    requirement = "FOXO1 fusion status one of: " + ", ".join(allowed)
    f = ctx.case.diagnosis.foxo1_fusion
    if f is None or (f is FusionStatus.NOT_TESTED and f not in allowed):
        return _result(
            "fusion_statuses",
            requirement,
            UNKNOWN,
            "FOXO1 fusion status is not known",
            [_ev(field="diagnosis.foxo1_fusion", value=f.value if f else None)],
            needs=["diagnosis.foxo1_fusion"],
        )
    ev = [_ev(field="diagnosis.foxo1_fusion", value=f.value)]
    return _result("fusion_statuses", requirement, MET if f in allowed else NOT_MET, f.label, ev)


def _eval_settings(ctx: MatchContext, allowed: list[DiseaseSetting]) -> CriterionResult:
    requirement = "disease setting one of: " + ", ".join(allowed)
    settings, needs = disease_settings(ctx.case)
    ev = [_ev(field="events", value=[e.kind.value for e in ctx.case.events])]
    if settings is None:
        return _result(
            "disease_settings",
            requirement,
            UNKNOWN,
            "no event recorded and metastatic status at diagnosis unknown",
            ev,
            needs,
        )
    names = sorted(settings)
    ok = bool(settings & set(allowed))
    return _result(
        "disease_settings",
        requirement,
        MET if ok else NOT_MET,
        "disease setting: " + ", ".join(names),
        ev,
    )


def _eval_measurable(ctx: MatchContext, required: bool) -> CriterionResult:
    requirement = "measurable disease" if required else "no measurable-disease requirement"
    if not required:
        return _result(
            "measurable_disease_required", requirement, MET, "the trial does not require it"
        )
    m = ctx.case.current.measurable_disease if ctx.case.current else None
    if m is None:
        return _result(
            "measurable_disease_required",
            requirement,
            UNKNOWN,
            "measurable disease is not recorded",
            needs=["current.measurable_disease"],
        )
    ev = [_ev(field="current.measurable_disease", value=m)]
    return _result(
        "measurable_disease_required",
        requirement,
        MET if m else NOT_MET,
        "measurable disease present" if m else "no measurable disease",
        ev,
    )


def biomarker_status(case: Case, marker: Biomarker) -> tuple[bool | None, str]:
    """Whether the case's tumour has ``marker``: True/False when tested, None when unknown.

    FOXO1 fusion, MYOD1 and TP53 mutations are read from their own diagnosis fields; other
    genes from ``diagnosis.tumour_alterations``.  Returns the field read as well.
    """
    dx = case.diagnosis
    if marker.gene == "FOXO1" and marker.alteration is AlterationKind.FUSION:
        f = dx.foxo1_fusion
        return (None if f is None else f.is_fusion_positive), "diagnosis.foxo1_fusion"
    if marker.alteration is AlterationKind.MUTATION and marker.gene in ("TP53", "MYOD1"):
        field = "tp53" if marker.gene == "TP53" else "myod1"
        status: MutationStatus | None = getattr(dx, field)
        if status is None or status is MutationStatus.NOT_TESTED:
            return None, f"diagnosis.{field}"
        return status is MutationStatus.MUTATED, f"diagnosis.{field}"
    if dx.tumour_alterations is None:
        return None, "diagnosis.tumour_alterations"
    for alt in dx.tumour_alterations:
        if alt.gene == marker.gene and alt.alteration is marker.alteration:
            return alt.detected, "diagnosis.tumour_alterations"
    return None, "diagnosis.tumour_alterations"


def _eval_biomarkers(
    ctx: MatchContext, markers: list[Biomarker], *, required: bool
) -> CriterionResult:
    key = "required_biomarkers" if required else "excluded_biomarkers"
    names = [f"{m.gene} {m.alteration}" for m in markers]
    requirement = ("tumour has: " if required else "tumour does not have: ") + ", ".join(names)
    unknown_fields: list[str] = []
    evidence: list[Evidence] = []
    failed: list[str] = []
    for m, name in zip(markers, names, strict=True):
        present, field = biomarker_status(ctx.case, m)
        evidence.append(_ev(f"{field}[{name}]", present))
        if present is None:
            unknown_fields.append(field)
        elif present is not required:
            failed.append(name)
    if failed:
        what = "not detected" if required else "detected"
        return _result(key, requirement, NOT_MET, f"{', '.join(failed)} {what}", evidence)
    if unknown_fields:
        return _result(
            key, requirement, UNKNOWN, "biomarker status not recorded", evidence, unknown_fields
        )
    return _result(key, requirement, MET, "biomarker status fits", evidence)


def _eval_regimens(ctx: MatchContext, bound: int, *, minimum: bool) -> CriterionResult:
    key = "min_prior_regimens" if minimum else "max_prior_regimens"
    requirement = f"{'at least' if minimum else 'at most'} {bound} prior treatment regimen(s)"
    case = ctx.case
    count = len(case.all_treatment_lines())
    if not _history_recorded(case):
        return _history_not_recorded(key, requirement)
    ev = [_ev(field="first_line + later_lines", value=count)]
    ok = count >= bound if minimum else count <= bound
    return _result(
        key, requirement, MET if ok else NOT_MET, f"{count} treatment line(s) recorded", ev
    )


def _eval_agents(
    ctx: MatchContext, agents: list[ChemotherapyAgent], *, required: bool
) -> CriterionResult:
    key = "required_prior_agents" if required else "excluded_prior_agents"
    names = ", ".join(agents)
    requirement = ("prior treatment with: " if required else "no prior treatment with: ") + names
    case = ctx.case
    if not _history_recorded(case):
        return _history_not_recorded(key, requirement)
    given = {e.agent for line in case.all_treatment_lines() for e in line.chemotherapy}
    ev = [_ev(field="first_line/later_lines chemotherapy", value=_recorded_agents(case))]
    if required:
        missing = [a for a in agents if a not in given]
        if missing:
            return _result(
                key, requirement, NOT_MET, "not among recorded agents: " + ", ".join(missing), ev
            )
        return _result(key, requirement, MET, "all required agents recorded", ev)
    found = [a for a in agents if a in given]
    if found:
        return _result(key, requirement, NOT_MET, "previously given: " + ", ".join(found), ev)
    return _result(key, requirement, MET, "none of these agents recorded", ev)


def _eval_car_t(ctx: MatchContext, excluded: bool) -> CriterionResult:
    requirement = "no prior CAR T-cell therapy" if excluded else "no CAR T-cell restriction"
    if not excluded:
        return _result("prior_car_t_excluded", requirement, MET, "the trial does not restrict it")
    case = ctx.case
    if not _history_recorded(case):
        return _history_not_recorded("prior_car_t_excluded", requirement)
    names = [n for n in _recorded_agents(case) if _CAR_T_NAME.search(n)]
    ev = [_ev(field="first_line/later_lines chemotherapy (agent 'other')", value=names)]
    if names:
        return _result(
            "prior_car_t_excluded", requirement, NOT_MET, "prior CAR T-cell therapy recorded", ev
        )
    return _result("prior_car_t_excluded", requirement, MET, "no CAR T-cell therapy recorded", ev)


def _eval_rt_regions(ctx: MatchContext, regions: list[object]) -> CriterionResult:
    key = "excluded_prior_radiotherapy_regions"
    requirement = "no prior radiotherapy to: " + ", ".join(str(r) for r in regions)
    case = ctx.case
    if not _history_recorded(case):
        return _history_not_recorded(key, requirement)
    unknown: list[str] = []
    hit: list[str] = []
    seen: list[str] = []
    for name, line in _named_treatment_lines(case):
        for j, rt in enumerate(line.radiotherapy):
            if rt.body_region is None:
                unknown.append(f"{name}.radiotherapy[{j}].body_region")
                continue
            seen.append(rt.body_region.value)
            if rt.body_region in regions:
                hit.append(rt.body_region.value)
    ev = [_ev(field="radiotherapy body_region", value=seen)]
    if hit:
        return _result(
            key, requirement, NOT_MET, "previously irradiated: " + ", ".join(sorted(set(hit))), ev
        )
    if unknown:
        return _result(
            key, requirement, UNKNOWN, "a radiotherapy course has no body region", ev, unknown
        )
    return _result(key, requirement, MET, "no radiotherapy to these regions recorded", ev)


def _eval_performance(ctx: MatchContext, minimum: int) -> CriterionResult:
    requirement = f"Lansky/Karnofsky performance score at least {minimum}"
    perf = ctx.case.current.performance if ctx.case.current else None
    if perf is None:
        return _result(
            "min_performance_score",
            requirement,
            UNKNOWN,
            "performance status not recorded",
            needs=["current.performance"],
        )
    ev = [_ev(field="current.performance", value=f"{perf.scale} {perf.score}")]
    ok = perf.score >= minimum
    return _result(
        "min_performance_score",
        requirement,
        MET if ok else NOT_MET,
        f"{perf.scale.label} score {perf.score}",
        ev,
    )


_ORGAN_FIELDS: dict[str, tuple[str, bool]] = {
    "min_absolute_neutrophil_count_per_ul": ("absolute_neutrophil_count_per_ul", True),
    "min_platelets_per_ul": ("platelets_per_ul", True),
    "max_bilirubin_x_uln": ("bilirubin_x_uln", False),
    "max_alt_x_uln": ("alt_x_uln", False),
    "min_creatinine_clearance_ml_min_1_73m2": ("creatinine_clearance_ml_min_1_73m2", True),
    "min_lvef_percent": ("lvef_percent", True),
    "min_shortening_fraction_percent": ("shortening_fraction_percent", True),
}


def passes_threshold(value: float, threshold: Threshold, *, is_minimum: bool) -> bool:
    """Whether a laboratory value passes a lower (``is_minimum``) or upper bound."""
    if is_minimum:
        return value >= threshold.value if threshold.inclusive else value > threshold.value
    return value <= threshold.value if threshold.inclusive else value < threshold.value


class _OrganLimit(NamedTuple):
    """One organ-function limit a trial sets, with the words that do not depend on the case."""

    field: str
    """The field of ``current.organ_function`` it reads."""
    path: str
    """That field's case path (shown as evidence, or as what would decide)."""
    threshold: Threshold
    is_minimum: bool
    bound: str
    """The bound in words, e.g. ``">= 75000"``."""


#: id of a set of organ-function limits -> (those limits, their parts, the requirement words):
#: knowledge only, so worked out once per process; kept with the limits and compared by
#: identity (hashing the nested model costs more than the words), like the registry answers.
_ORGAN_PLANS: dict[int, tuple[OrganFunctionLimits, tuple[_OrganLimit, ...], str]] = {}
_ORGAN_PLANS_LIMIT = 4_096


def _organ_plan(limits: OrganFunctionLimits) -> tuple[tuple[_OrganLimit, ...], str]:
    """The limits set, in ``_ORGAN_FIELDS`` order, and the requirement in words."""
    hit = _ORGAN_PLANS.get(id(limits))
    if hit is not None and hit[0] is limits:
        return hit[1], hit[2]
    parts: list[_OrganLimit] = []
    for limit_name, (field, is_min) in _ORGAN_FIELDS.items():
        threshold: Threshold | None = getattr(limits, limit_name)
        if threshold is None:
            continue
        op = (
            (">=" if threshold.inclusive else ">")
            if is_min
            else ("<=" if threshold.inclusive else "<")
        )
        bound = f"{op} {threshold.value:g}"
        parts.append(
            _OrganLimit(field, f"current.organ_function.{field}", threshold, is_min, bound)
        )
    requirement = "organ function: " + "; ".join(f"{p.field} {p.bound}" for p in parts)
    if len(_ORGAN_PLANS) >= _ORGAN_PLANS_LIMIT:
        _ORGAN_PLANS.clear()
    _ORGAN_PLANS[id(limits)] = (limits, tuple(parts), requirement)
    return tuple(parts), requirement


def _eval_organ(ctx: MatchContext, limits: OrganFunctionLimits) -> CriterionResult:
    organ = ctx.case.current.organ_function if ctx.case.current else None
    parts, requirement = _organ_plan(limits)
    evidence: list[Evidence] = []
    failed: list[str] = []
    needs: list[str] = []
    for part in parts:
        value: float | None = getattr(organ, part.field) if organ else None
        evidence.append(_ev(part.path, value))
        if value is None:
            needs.append(part.path)
        elif not passes_threshold(value, part.threshold, is_minimum=part.is_minimum):
            failed.append(f"{part.field} {value:g} (needs {part.bound})")
    if failed:
        return _result(
            "organ_function", requirement, NOT_MET, "outside limits: " + "; ".join(failed), evidence
        )
    if needs:
        return _result(
            "organ_function",
            requirement,
            UNKNOWN,
            "organ-function values not recorded",
            evidence,
            needs,
        )
    return _result(
        "organ_function", requirement, MET, "all recorded values within limits", evidence
    )


def _eval_washout(ctx: MatchContext, days_needed: int) -> CriterionResult:
    key = "min_days_since_last_therapy"
    requirement = f"at least {days_needed} days since the last anticancer therapy"
    case = ctx.case
    if not _history_recorded(case):
        return _history_not_recorded(key, requirement)
    ends: list[dt.date] = []
    needs: list[str] = []
    for name, line in _named_treatment_lines(case):
        if line.ongoing:
            return _result(
                key,
                requirement,
                UNKNOWN,
                f"{name} is ongoing; the wash-out counts from its end",
                [_ev(field=f"{name}.ongoing", value=True)],
                [f"{name}.end_date"],
            )
        if line.end_date is None:
            needs.append(f"{name}.end_date")
        else:
            ends.append(line.end_date)
        ends.extend(rt.end_date for rt in line.radiotherapy if rt.end_date)
    if needs:
        return _result(key, requirement, UNKNOWN, "end of therapy not recorded", needs=needs)
    if ctx.on is None:
        return _result(
            key, requirement, UNKNOWN, "no assessment date", needs=["current.assessed_on"]
        )
    last = max(ends)
    days = (ctx.on - last).days
    ev = [
        _ev(field="last therapy end date", value=last.isoformat()),
        _ev(field="days_since", value=days),
    ]
    if days >= days_needed:
        return _result(key, requirement, MET, f"{days} days since the last therapy", ev)
    ready = last + dt.timedelta(days=days_needed)
    return _result(
        key,
        requirement,
        NOT_MET,
        f"only {days} days since the last therapy (eligible from {ready})",
        ev,
    )


#: An evaluator reads the case for one criterion value (its type is the criterion's own).
Evaluator = Callable[[MatchContext, Any], CriterionResult]

#: One evaluator per criterion key; a test checks this covers ``CRITERION_KEYS`` exactly.
EVALUATORS: dict[str, Evaluator] = {
    "age": _eval_age,
    "sexes": _eval_sexes,
    "histologies": partial(_eval_histologies, excluded=False),
    "excluded_histologies": partial(_eval_histologies, excluded=True),
    "fusion_statuses": _eval_fusion,
    "disease_settings": _eval_settings,
    "measurable_disease_required": _eval_measurable,
    "required_biomarkers": partial(_eval_biomarkers, required=True),
    "excluded_biomarkers": partial(_eval_biomarkers, required=False),
    "min_prior_regimens": partial(_eval_regimens, minimum=True),
    "max_prior_regimens": partial(_eval_regimens, minimum=False),
    "required_prior_agents": partial(_eval_agents, required=True),
    "excluded_prior_agents": partial(_eval_agents, required=False),
    "prior_car_t_excluded": _eval_car_t,
    "excluded_prior_radiotherapy_regions": _eval_rt_regions,
    "min_performance_score": _eval_performance,
    "organ_function": _eval_organ,
    "min_days_since_last_therapy": _eval_washout,
}


# --- matching ---------------------------------------------------------------------------------


#: outcome -> (is unmet, is pending), looked up once per new criterion value
_CODES = {MET: (0, 0), NOT_MET: (1, 0), UNKNOWN: (0, 1)}

#: For one case: criterion-value number -> (result, is unmet, is pending).  Many trials share a
#: criterion value (the same age range, the same performance threshold), and for one case the
#: answer depends only on the value, so each distinct value is evaluated once per case.
_Cache = dict[int | None, tuple[CriterionResult, int, int]]


def evaluate_criteria(ctx: MatchContext, criteria: EligibilityCriteria) -> list[CriterionResult]:
    """Evaluate every structured criterion the trial sets, in the declared order."""
    return [EVALUATORS[key](ctx, value) for key, value, _ in criteria.plan]


def _match(ctx: MatchContext, cache: _Cache, trial: Trial) -> TrialMatch:
    results = []
    unmet = pending = 0
    needs: list[str] = []
    # the private dict directly: pydantic's attribute hook costs more than the lookup
    for key, value, number in trial.criteria.__pydantic_private__["_plan"]:  # type: ignore[index]
        entry = cache.get(number)
        if entry is None:
            r = EVALUATORS[key](ctx, value)
            entry = (r, *_CODES[r.outcome])
            if number is not None:
                cache[number] = entry
        result, is_unmet, is_pending = entry
        results.append(result)
        unmet += is_unmet
        if is_pending:
            pending += 1
            needs += result.needs
    checks, checks_unmet, checks_pending = registry_answers(trial, ctx.on, ctx.country)
    unmet += checks_unmet
    pending += checks_pending
    if unmet:
        verdict = Verdict.EXCLUDED
    elif pending:
        verdict = Verdict.POSSIBLE_PENDING
    else:
        verdict = Verdict.ELIGIBLE_ON_KNOWN_DATA
    return TrialMatch(
        trial=trial,
        verdict=verdict,
        criteria=results,
        pending_count=pending,
        needs_review=trial.criteria.free_text,
        needs=sorted(set(needs)) if needs else [],
        unmet_count=unmet,
        registry_checks=list(checks),
    )


def verdict_for(results: Sequence[CriterionResult]) -> Verdict:
    """Excluded if any criterion is unmet; pending if any lacks information; else eligible."""
    if any(r.outcome is NOT_MET for r in results):
        return Verdict.EXCLUDED
    if any(r.outcome is UNKNOWN for r in results):
        return Verdict.POSSIBLE_PENDING
    return Verdict.ELIGIBLE_ON_KNOWN_DATA


def match_trial(
    case: Case, trial: Trial, *, on: dt.date | None = None, country: str | None = None
) -> TrialMatch:
    """Match one case against one trial (registry checks first, then each criterion)."""
    return _match(MatchContext(case=case, on=judgement_date(case, on), country=country), {}, trial)


_OPEN = frozenset(s for s in TrialStatus if s.is_open)
_VERDICT_RANK = {
    Verdict.ELIGIBLE_ON_KNOWN_DATA: 0,
    Verdict.POSSIBLE_PENDING: 1,
    Verdict.EXCLUDED: 2,
}


def plausibility_key(m: TrialMatch) -> tuple[int, int, int, int, int, str]:
    """Sort key, most plausible first: verdict, fewest unmet and pending items, open trials
    before closed ones, fewest free-text items to review, then registry id (stable)."""
    return (
        _VERDICT_RANK[m.verdict],
        m.unmet_count,
        m.pending_count,
        0 if m.trial.status in _OPEN else 1,
        len(m.needs_review),
        m.trial.registry_id,
    )


def match_trials(
    case: Case,
    trials: Sequence[Trial] | None = None,
    *,
    on: dt.date | None = None,
    country: str | None = None,
) -> list[TrialMatch]:
    """Match a case against trials (None: the bundled set), most plausible first.

    ``on`` is the day eligibility and recruitment are judged on (age, wash-out, whether the
    trial was open); default ``current.assessed_on``.  ``country`` adds the check that the
    trial has a recruiting site there (see ``rhabdo.trials.screen``).
    """
    if trials is None:
        from rhabdo.trials.registry import load_trials

        trials = load_trials()
    ctx = MatchContext(case=case, on=judgement_date(case, on), country=country)
    cache: _Cache = {}
    keyed = []
    # The loop allocates many small, acyclic result objects; letting the cyclic collector run
    # in the middle of it costs more than the loop itself, and it frees nothing here.
    with collector_paused():
        for i, trial in enumerate(trials):
            m = _match(ctx, cache, trial)
            rank = 2 if m.unmet_count else 1 if m.pending_count else 0
            is_open = 0 if trial.status in _OPEN else 1
            key = (
                rank,
                m.unmet_count,
                m.pending_count,
                is_open,
                len(m.needs_review),
                trial.registry_id,
            )
            keyed.append((key, i, m))  # the index breaks ties without comparing matches
    keyed.sort(key=itemgetter(0, 1))  # same order as plausibility_key
    return [m for _, _, m in keyed]
