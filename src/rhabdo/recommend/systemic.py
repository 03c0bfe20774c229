"""Systemic therapy: the regimens with published activity, each checked against prior exposure.

At relapse or progression (a disease event is recorded) the options are the relapse regimens of
``regimens.yaml``, ordered by fit first (not failed, exposure limits respected, matching the
relapse group) and then by strength of evidence (randomised first), each with its trial results.
No regimen is standard at relapse (Heske 2021); the one randomised survival result is VIT over
VI in VIT-0910 (Defachelles 2021), so the base strength is *consider*.  Every option is checked
against what the patient has already received and how the disease behaved on it
(``rhabdo.exposure.history``):

* a regimen whose agents were all in a line the disease progressed or relapsed on (during it,
  within Mattke 2009's 6-month early-relapse interval after it, or with no response) is *avoid*;
  one repeating two or more agents of such a line is *caution*; when the dates do not tell, the
  check is indeterminate (*caution*) and names the fields; agents given without failure are
  shown, not penalised;
* a regimen meant for anthracycline- and alkylator-naive patients (COG ARST0121's favourable
  group) fits only when the record shows that naivety;
* cumulative doxorubicin-equivalent anthracycline against the IGHG thresholds (Armenian 2015);
* cumulative ifosfamide against the renal-risk thresholds (Skinner 1996, 2000), including how
  many cycles would reach the next one;
* alkylator load (CED) against the gonadal-risk figure (Green 2014).

A threshold whose knowledge entry has concern *caution* or *avoid* sets that strength; a check
that cannot be made because the exposure is unknown sets *caution* and says which case fields
would settle it.

For metastatic disease at diagnosis (no event yet) the standard protocols are shown with their
published outcomes for the patient's Oberlin score (finding ``score.oberlin``), maintenance,
and high-dose chemotherapy (not supported).

Recommendation ids: ``systemic.relapse_overview``, ``systemic.<regimen id>`` (e.g.
``systemic.vit``), ``systemic.metastatic_first_line``, ``systemic.hdct_autologous_rescue``.
Rule ids: ``recommend.systemic.v1`` (relapse) and ``recommend.systemic.metastatic.v1``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NamedTuple

from rhabdo.case.model import Case
from rhabdo.case.vocab import ChemotherapyAgent, Sex
from rhabdo.exposure.findings import (
    ALKYLATORS,
    ANTHRACYCLINES,
    amount_text,
    as_lower_bound,
    thresholds,
)
from rhabdo.exposure.history import INTERVAL_CITATION, TreatmentHistory, treatment_history
from rhabdo.exposure.late_effects import MALE_COUNSELLING, fertility_advice
from rhabdo.knowledge.base import Table
from rhabdo.knowledge.treatment import (
    DoseThresholdEntry,
    RegimenEntry,
    RegimenSetting,
    ThresholdConcern,
    ThresholdKind,
    TrialResult,
    regimens,
)
from rhabdo.prognosis.population import Membership, check_population
from rhabdo.recommend._build import gaps_of, join_words
from rhabdo.recommend._derived import per_entry
from rhabdo.recommend.figures import FigureSet, figure_sets, sets_details, sets_text, trial_text
from rhabdo.recommend.knowledge import CareEntry, care_entries
from rhabdo.recommend.wording import CAUTION
from rhabdo.results import (
    EvidenceGap,
    Finding,
    FindingStatus,
    Recommendation,
    RecommendationCategory,
    Strength,
    determined,
    recommendation,
)

RULE_RELAPSE = "recommend.systemic.v1"
RULE_METASTATIC = "recommend.systemic.metastatic.v1"
CATEGORY = RecommendationCategory.SYSTEMIC_THERAPY
OVERVIEW_CITATION = "heske_2021"

F_AGENTS = "exposure.agents_given"
F_ANTHRACYCLINE = "exposure.anthracycline_doxorubicin_equivalent"
F_IFOSFAMIDE = "exposure.ifosfamide"
F_CED = "exposure.ced"
F_CHEST_RT = "exposure.chest_radiation"
F_OBERLIN = "score.oberlin"
F_COG_GROUP = "relapse.cog_risk_group"
VIT_EVIDENCE = "care.randomised_evidence_relapse"


class CheckStatus:
    OK = "ok"
    NOTE = "note"
    CAUTION = "caution"
    AVOID = "avoid"
    INDETERMINATE = "indeterminate"


@dataclass(slots=True)
class ExposureCheck:
    """The result of checking one regimen against one kind of prior exposure."""

    name: str
    status: str
    reason: str
    finding: str
    citations: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "reason": self.reason,
            "finding": self.finding,
            "needs": self.needs,
        }


def _cites(rows: list[DoseThresholdEntry]) -> list[str]:
    return list(dict.fromkeys(c for t in rows for c in t.citations))


def _status_for(concern: ThresholdConcern) -> str:
    return {
        ThresholdConcern.NOTE: CheckStatus.NOTE,
        ThresholdConcern.CAUTION: CheckStatus.CAUTION,
        ThresholdConcern.AVOID: CheckStatus.AVOID,
    }[concern]


def _per_cycle_mg_m2(regimen: RegimenEntry, agents: tuple[ChemotherapyAgent, ...]) -> float | None:
    """Sum of the regimen's per-cycle mg/m2 of ``agents``; None if any dose is not per m2."""
    total = 0.0
    for a in regimen.agents:
        if a.agent in agents:
            per_cycle = a.dose_per_cycle_mg_m2
            if per_cycle is None:
                return None
            total += per_cycle
    return total


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=512)
def _agent_words(agents: frozenset[ChemotherapyAgent]) -> str:
    """The agents' labels, sorted (vocabulary only, so remembered for the process)."""
    return ", ".join(sorted(a.label for a in agents))


def check_history(regimen: RegimenEntry, history: TreatmentHistory) -> ExposureCheck:
    """Whether the disease already progressed or relapsed on this regimen's agents.

    A regimen the disease failed on is not offered again (*avoid*); repeating two or more agents
    of a failed line is *caution*; a line whose dates cannot place the recurrence leaves the
    check indeterminate (the cautious reading).  Interval: Mattke 2009's early relapse.
    """
    return _history_check(_regimen_static(regimen).agent_set, history)


def _history_check(
    agents: frozenset[ChemotherapyAgent], history: TreatmentHistory
) -> ExposureCheck:
    name = "treatment_history"
    if not history.known:
        return ExposureCheck(
            name,
            CheckStatus.INDETERMINATE,
            "The treatment history is not recorded, so whether the disease already progressed "
            "on these agents cannot be told.",
            F_AGENTS,
            needs=["first_line"],
        )
    failed = history.failed
    for line in failed:
        if agents and agents <= line.agents:
            return ExposureCheck(
                name,
                CheckStatus.AVOID,
                f"Not offered again: {line.why_failed(history.interval_months)}, and that line "
                f"contained all of its agents ({_agent_words(agents)}). A recurrence counts as "
                f"failure of a line when it came {history.interval_source}.",
                F_AGENTS,
                [INTERVAL_CITATION],
            )
    for line in failed:
        shared = agents & line.agents
        if len(shared) >= 2:
            return ExposureCheck(
                name,
                CheckStatus.CAUTION,
                f"{_first_upper(line.why_failed(history.interval_months))}; this regimen repeats "
                f"{_agent_words(shared)} from it.",
                F_AGENTS,
                [INTERVAL_CITATION],
            )
    unclear = next(
        (
            line
            for line in history.unclear
            if agents and (agents <= line.agents or len(agents & line.agents) >= 2)
        ),
        None,
    )
    if unclear is not None:
        return ExposureCheck(
            name,
            CheckStatus.INDETERMINATE,
            f"Whether the disease came back on {unclear.name} (which contained "
            f"{_agent_words(agents & unclear.agents)}) cannot be told from its dates or response.",
            F_AGENTS,
            [INTERVAL_CITATION],
            needs=[
                f"{unclear.path}.start_date",
                f"{unclear.path}.end_date",
                f"{unclear.path}.best_response",
            ],
        )
    given = agents & history.given_agents
    if not given:
        return ExposureCheck(name, CheckStatus.OK, "None of its agents given before.", F_AGENTS)
    failed_with = given & history.failed_agents
    text = f"Already given: {_agent_words(given)}"
    if failed_with:
        text += f" ({_agent_words(failed_with)} part of a line the disease came back on)"
    return ExposureCheck(name, CheckStatus.NOTE, text + ".", F_AGENTS)


_ANTHRACYCLINES_AND_ALKYLATORS = frozenset(ANTHRACYCLINES + ALKYLATORS)


def check_naive_fit(
    regimen: RegimenEntry, findings: Mapping[str, Finding], history: TreatmentHistory
) -> ExposureCheck | None:
    """A regimen for anthracycline- and alkylator-naive patients fits only when the record shows
    no prior anthracycline and no prior cyclophosphamide (the ARST0121 favourable group had no
    prior cyclophosphamide; its chemotherapy contained doxorubicin)."""
    if not regimen.for_anthracycline_alkylator_naive:
        return None
    name = "naive_fit"
    if not history.known:
        return ExposureCheck(
            name,
            CheckStatus.INDETERMINATE,
            "Meant for patients never given an anthracycline or an alkylator; the treatment "
            "history is not recorded.",
            F_AGENTS,
            needs=["first_line"],
        )
    prior = history.given_agents & _ANTHRACYCLINES_AND_ALKYLATORS
    if prior:
        return ExposureCheck(
            name,
            CheckStatus.CAUTION,
            f"Meant for anthracycline- and alkylator-naive patients; already given: "
            f"{_agent_words(prior)}.",
            F_AGENTS,
        )
    group = findings.get(F_COG_GROUP)
    if group is not None and group.is_determined and group.value == "favourable":
        text = (
            "Anthracycline- and alkylator-naive, in the favourable relapse group: "
            "the group this salvage was given to."
        )
    elif group is not None and group.is_determined:
        text = (
            "Anthracycline- and alkylator-naive; the relapse group is "
            f"{group.value}, so the favourable-group result does not apply to this patient."
        )
    else:
        text = (
            "Anthracycline- and alkylator-naive; whether the patient is in the favourable "
            "relapse group is not decided, so the favourable-group result may not apply."
        )
    return ExposureCheck(name, CheckStatus.OK, text, F_COG_GROUP)


class PriorTotal(NamedTuple):
    """A prior cumulative total checked against the verified thresholds of one kind.

    This part is the same for every regimen of a case; ``against`` adds the regimen's own part
    (how many of its cycles would reach the next threshold) and the text that follows.  An
    immutable tuple (made for every case, and cheaper to make than a frozen dataclass)."""

    name: str
    finding_id: str
    unit_divisor: float
    unit: str
    status: str
    parts: tuple[str, ...]
    citations: tuple[str, ...]
    needs: tuple[str, ...] = ()
    prior: float = 0.0
    #: The next threshold, when the regimen's cycles can be counted towards it.
    next_threshold: DoseThresholdEntry | None = None
    #: Said after the comparison (a related exposure, a counselling point).
    after: str = ""

    def against(self, regimen: RegimenEntry, per_cycle: float | None) -> ExposureCheck:
        """The check for ``regimen``, which adds ``per_cycle`` (mg/m2) per cycle."""
        status = self.status
        parts = self.parts
        nxt = self.next_threshold
        if nxt is not None and nxt.at_least is not None and per_cycle is not None and per_cycle > 0:
            unit = self.unit
            per_cycle_unit = per_cycle / self.unit_divisor
            cycles = max(1, math.ceil((nxt.at_least - self.prior) / per_cycle_unit))
            if nxt.strictly_above and self.prior + cycles * per_cycle_unit <= nxt.at_least:
                cycles += 1
            parts = (
                *parts,
                f"each cycle of {regimen.name} adds {per_cycle_unit:g} {unit}, so {cycles} "
                f"cycle(s) would reach {nxt.at_least:g} {unit} ({nxt.meaning.strip().rstrip('.')})",
            )
            if cycles <= 1 and nxt.concern is not ThresholdConcern.NOTE:
                status = _worse(status, CheckStatus.CAUTION)
            else:
                status = _worse(status, CheckStatus.NOTE)
        return ExposureCheck(
            self.name,
            status,
            "; ".join(parts) + "." + self.after,
            self.finding_id,
            list(self.citations),
            list(self.needs),
        )


@cache
def _threshold_citations(kind: ThresholdKind) -> tuple[str, ...]:
    return tuple(_cites(thresholds(kind)))


def prior_total(
    name: str,
    kind: ThresholdKind,
    finding_id: str,
    finding: Finding | None,
    unit_divisor: float,
    unit: str,
    label: str,
    after: str = "",
    also_needs: tuple[str, ...] = (),
) -> PriorTotal:
    """Compare the prior cumulative dose of ``finding`` with the verified thresholds of
    ``kind`` (an unknown or uncountable total leaves the check indeterminate); ``after`` is said
    after the comparison and ``also_needs`` are fields it asks for besides the finding's."""
    cites = _threshold_citations(kind)
    if finding is None or finding.status is not FindingStatus.DETERMINED:
        return PriorTotal(
            name,
            finding_id,
            unit_divisor,
            unit,
            CheckStatus.INDETERMINATE,
            (f"Prior {label} not known, so the {label} thresholds cannot be checked",),
            cites,
            (*(finding.needs if finding else ("first_line",)), *also_needs),
            after=after,
        )
    prior = float(finding.value) / unit_divisor
    lower_bound = bool(finding.details.get("lower_bound"))
    if lower_bound and prior <= 0:
        # nothing countable: 'at least 0' says nothing, and must not read as 'none given'
        return PriorTotal(
            name,
            finding_id,
            unit_divisor,
            unit,
            CheckStatus.INDETERMINATE,
            (
                f"Prior {label} not known: the agents were given but no dose that can be "
                f"counted is recorded, so the {label} thresholds cannot be checked",
            ),
            cites,
            (*finding.needs, *also_needs),
            after=after,
        )
    rows = thresholds(kind)
    crossed = [t for t in rows if t.reached_by(prior)]
    pending = [t for t in rows if not t.reached_by(prior)]
    status = CheckStatus.OK
    bound = "at least " if lower_bound else ""
    parts: list[str] = [f"Prior {label} {bound}{amount_text(prior)} {unit}"]
    if crossed:
        worst = max(crossed, key=lambda t: _CONCERN_ORDER[t.concern])
        status = _status_for(worst.concern)
        parts.append(f"has reached {worst.at_least:g} {unit}: {worst.meaning.strip().rstrip('.')}")
    nxt = pending[0] if pending else None
    if nxt is not None and nxt.at_least is not None and lower_bound:
        status = _worse(status, CheckStatus.INDETERMINATE)
        parts.append(
            f"this is a lower bound (some agents could not be converted), so whether "
            f"{nxt.at_least:g} {unit} is reached cannot be told"
        )
        nxt = None
    return PriorTotal(
        name,
        finding_id,
        unit_divisor,
        unit,
        status,
        tuple(parts),
        tuple(_cites(crossed)) or cites,
        also_needs,
        prior=prior,
        next_threshold=nxt,
        after=after,
    )


_CONCERN_ORDER = {c: i for i, c in enumerate(ThresholdConcern)}


def _cumulative_check(
    name: str,
    kind: ThresholdKind,
    finding_id: str,
    finding: Finding | None,
    per_cycle: float | None,
    unit_divisor: float,
    unit: str,
    label: str,
    regimen: RegimenEntry,
) -> ExposureCheck:
    """Compare prior cumulative dose (+ this regimen) with the verified thresholds of ``kind``."""
    total = prior_total(name, kind, finding_id, finding, unit_divisor, unit, label)
    return total.against(regimen, per_cycle)


_SEVERITY = (
    CheckStatus.OK,
    CheckStatus.NOTE,
    CheckStatus.INDETERMINATE,
    CheckStatus.CAUTION,
    CheckStatus.AVOID,
)


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY.index(a) >= _SEVERITY.index(b) else b


def _anthracycline_prior(findings: Mapping[str, Finding]) -> PriorTotal:
    chest = findings.get(F_CHEST_RT)
    after = ""
    if chest is not None and chest.is_determined and float(chest.value) > 0:
        after = f" Prior chest radiotherapy {float(chest.value):g} Gy adds to the cardiac risk."
    return prior_total(
        "anthracycline",
        ThresholdKind.ANTHRACYCLINE_CARDIAC,
        F_ANTHRACYCLINE,
        # epirubicin/idarubicin have no IGHG ratio: their total is a lower bound, still checked
        as_lower_bound(findings.get(F_ANTHRACYCLINE)),
        1.0,
        "mg/m2",
        "doxorubicin-equivalent anthracycline",
        after,
    )


def check_anthracycline(
    regimen: RegimenEntry, findings: Mapping[str, Finding]
) -> ExposureCheck | None:
    static = _regimen_static(regimen)
    if not static.anthracycline:
        return None
    return _anthracycline_prior(findings).against(regimen, static.anthracycline_per_cycle)


def _ifosfamide_prior(findings: Mapping[str, Finding], case: Case) -> PriorTotal:
    organ = case.current.organ_function if case.current else None
    crcl = organ.creatinine_clearance_ml_min_1_73m2 if organ else None
    return prior_total(
        "ifosfamide_renal",
        ThresholdKind.IFOSFAMIDE_RENAL,
        F_IFOSFAMIDE,
        findings.get(F_IFOSFAMIDE),
        1000.0,
        "g/m2",
        "ifosfamide",
        f" Current creatinine clearance {crcl:g} mL/min/1.73m2." if crcl is not None else "",
        () if crcl is not None else ("current.organ_function.creatinine_clearance_ml_min_1_73m2",),
    )


def _ifosfamide_check(
    regimen: RegimenEntry, static: _RegimenStatic, prior: PriorTotal
) -> ExposureCheck:
    check = prior.against(regimen, static.ifosfamide_per_cycle)
    if static.platinum:
        check.reason += " The regimen also contains a platinum agent."
    return check


def check_ifosfamide(
    regimen: RegimenEntry, findings: Mapping[str, Finding], case: Case
) -> ExposureCheck | None:
    static = _regimen_static(regimen)
    if not static.ifosfamide:
        return None
    return _ifosfamide_check(regimen, static, _ifosfamide_prior(findings, case))


class _GonadalAdvice(NamedTuple):
    """The alkylator-load check of a patient who is not male: the same for every regimen."""

    reason: str
    citations: tuple[str, ...]
    needs: tuple[str, ...]


def _alkylator_prior(
    findings: Mapping[str, Finding], case: Case | None
) -> PriorTotal | _GonadalAdvice:
    sex = case.patient.sex if case is not None else Sex.MALE
    if sex is not Sex.MALE:
        # the CED semen figures are male data: a girl gets ovarian advice, unknown sex both
        ced = findings.get(F_CED)
        advice, cites = fertility_advice(sex or Sex.OTHER)
        prior = f" {ced.reason}" if ced is not None else ""
        return _GonadalAdvice(
            f"Gonadotoxic (alkylator).{prior} {advice}",
            tuple(cites),
            ("patient.sex",) if sex is None else (),
        )
    ced = findings.get(F_CED)
    if ced is not None and ced.status is FindingStatus.INDETERMINATE and ced.candidates:
        # a lower bound that reaches a threshold has reached it
        ced = determined(
            F_CED,
            ced.candidates[0]["at_least_mg_m2"],
            reason=ced.reason,
            rule=ced.rule,
            citations=ced.citations,
            details=ced.details | {"lower_bound": True},
        )
    bound = f" {ced.reason}" if ced is not None and ced.details.get("lower_bound") else ""
    return prior_total(
        "alkylator_load",
        ThresholdKind.CED_GONADAL,
        F_CED,
        ced,
        1.0,
        "mg/m2",
        "cyclophosphamide-equivalent dose",
        f"{bound} {MALE_COUNSELLING}",
    )


def _alkylator_check(
    regimen: RegimenEntry, static: _RegimenStatic, prior: PriorTotal | _GonadalAdvice
) -> ExposureCheck:
    if isinstance(prior, _GonadalAdvice):
        return ExposureCheck(
            "alkylator_load",
            CheckStatus.NOTE,
            prior.reason,
            F_CED,
            list(prior.citations),
            list(prior.needs),
        )
    check = prior.against(regimen, static.cyclophosphamide_per_cycle)
    if check.status == CheckStatus.INDETERMINATE:
        # gonadal risk is a counselling point, not a reason to hold back an option
        check.status = CheckStatus.NOTE
    check.citations.append("mulder_2021_male_fp")
    return check


def check_alkylator_load(
    regimen: RegimenEntry, findings: Mapping[str, Finding], case: Case | None = None
) -> ExposureCheck | None:
    static = _regimen_static(regimen)
    if not static.alkylator:
        return None
    return _alkylator_check(regimen, static, _alkylator_prior(findings, case))


@dataclass(frozen=True)
class PriorExposure:
    """What every exposure check reads from one case: the same for each of its regimens, so
    worked out once for all of them."""

    findings: Mapping[str, Finding]
    history: TreatmentHistory
    anthracycline: PriorTotal
    ifosfamide: PriorTotal
    alkylator: PriorTotal | _GonadalAdvice
    #: Whether the relapse group is determined favourable (the order of the options).
    favourable: bool


def prior_exposure(
    findings: Mapping[str, Finding], case: Case, history: TreatmentHistory | None = None
) -> PriorExposure:
    """The case's prior exposure as the checks read it (``history`` when the caller has it)."""
    if history is None:
        history = treatment_history(case)
    group = findings.get(F_COG_GROUP)
    return PriorExposure(
        findings=findings,
        history=history,
        anthracycline=_anthracycline_prior(findings),
        ifosfamide=_ifosfamide_prior(findings, case),
        alkylator=_alkylator_prior(findings, case),
        favourable=group is not None and group.is_determined and group.value == "favourable",
    )


def _checks(
    regimen: RegimenEntry, static: _RegimenStatic, prior: PriorExposure
) -> list[ExposureCheck]:
    checks = [_history_check(static.agent_set, prior.history)]
    if static.naive:
        naive = check_naive_fit(regimen, prior.findings, prior.history)
        if naive is not None:
            checks.append(naive)
    if static.anthracycline:
        checks.append(prior.anthracycline.against(regimen, static.anthracycline_per_cycle))
    if static.ifosfamide:
        checks.append(_ifosfamide_check(regimen, static, prior.ifosfamide))
    if static.alkylator:
        checks.append(_alkylator_check(regimen, static, prior.alkylator))
    return checks


def exposure_checks(
    regimen: RegimenEntry,
    findings: Mapping[str, Finding],
    case: Case,
    history: TreatmentHistory | None = None,
) -> list[ExposureCheck]:
    """Every check that applies to ``regimen``, in a fixed order.

    ``history`` is the case's ``treatment_history`` when the caller has it already (it is the
    same for every regimen of a case)."""
    return _checks(regimen, _regimen_static(regimen), prior_exposure(findings, case, history))


def strength_from_checks(
    checks: list[ExposureCheck], base: Strength = Strength.CONSIDER
) -> Strength:
    statuses = {c.status for c in checks}
    if CheckStatus.AVOID in statuses:
        return Strength.AVOID
    if CheckStatus.CAUTION in statuses or CheckStatus.INDETERMINATE in statuses:
        return Strength.CAUTION
    return base


@dataclass(frozen=True)
class _TrialStatic:
    """A trial's JSON view without its figures (knowledge only).  The dicts are only ever
    copied into a caller's own dict, never handed out."""

    trial: TrialResult
    head: Mapping[str, Any]
    tail: Mapping[str, Any]
    #: All of its figures, grouped by population.
    sets: tuple[FigureSet, ...]


@per_entry
def _trial_static(trial: TrialResult) -> _TrialStatic:
    return _TrialStatic(
        trial=trial,
        head={
            "trial": trial.name,
            "registry_id": trial.registry_id,
            "design": trial.design.value,
            "population": trial.population,
            "patients": trial.patients,
        },
        tail={"toxicity": trial.toxicity, "caveat": trial.caveat, "citation": trial.citation},
        sets=figure_sets(trial, trial.outcomes),
    )


def trial_summary(
    trial: TrialResult, case: Case, oberlin: list[int] | None = None
) -> dict[str, Any]:
    """The trial for the JSON view; its figures only from populations that include the
    patient (``recommend.figures``), the others named with the reason."""
    return _trial_summary(_trial_static(trial), case, oberlin)


def _trial_summary(static: _TrialStatic, case: Case, oberlin: list[int] | None) -> dict[str, Any]:
    sets = static.sets
    if oberlin is not None:
        trial = static.trial
        sets = figure_sets(
            trial,
            [
                o
                for o in trial.outcomes
                if o.oberlin_min is None or any(o.applies_to_oberlin(s) for s in oberlin)
            ],
        )
    quoted, populations = sets_details(case, sets)
    return {**static.head, "outcomes": quoted, "populations": populations, **static.tail}


@dataclass(frozen=True)
class _RegimenStatic:
    """What the options read from one regimen entry, derived once per process."""

    agent_set: frozenset[ChemotherapyAgent]
    anthracycline: bool
    ifosfamide: bool
    alkylator: bool
    platinum: bool
    #: mg/m2 per cycle of the agents each cumulative check counts (None: not dosed per m2).
    anthracycline_per_cycle: float | None
    ifosfamide_per_cycle: float | None
    cyclophosphamide_per_cycle: float | None
    #: Meant for anthracycline- and alkylator-naive patients (``check_naive_fit``).
    naive: bool
    recommendation_id: str
    citations: tuple[str, ...]
    summary: str
    evidence_rank: int
    evidence_words: str
    #: The details before the trials (only ever copied into a caller's own dicts).
    head: Mapping[str, Any]
    agents: tuple[Mapping[str, Any], ...]
    tail: Mapping[str, Any]
    gaps: tuple[EvidenceGap, ...]
    #: The lead trial and its first two figures (``_best_result``), if any trial has figures.
    lead: tuple[TrialResult, tuple[FigureSet, ...]] | None
    trials: tuple[_TrialStatic, ...]


@per_entry
def _regimen_static(regimen: RegimenEntry) -> _RegimenStatic:
    lead = next(((t, figure_sets(t, t.outcomes[:2])) for t in regimen.trials if t.outcomes), None)
    agents = regimen.agent_set
    return _RegimenStatic(
        agent_set=agents,
        anthracycline=bool(agents & set(ANTHRACYCLINES)),
        ifosfamide=ChemotherapyAgent.IFOSFAMIDE in agents,
        alkylator=bool(agents & set(ALKYLATORS)),
        platinum=bool(agents & {ChemotherapyAgent.CARBOPLATIN, ChemotherapyAgent.CISPLATIN}),
        anthracycline_per_cycle=_per_cycle_mg_m2(regimen, ANTHRACYCLINES),
        ifosfamide_per_cycle=_per_cycle_mg_m2(regimen, (ChemotherapyAgent.IFOSFAMIDE,)),
        cyclophosphamide_per_cycle=_per_cycle_mg_m2(regimen, (ChemotherapyAgent.CYCLOPHOSPHAMIDE,)),
        naive=regimen.for_anthracycline_alkylator_naive,
        recommendation_id=f"systemic.{regimen.id}",
        citations=tuple(regimen.citations),
        summary=regimen.summary.strip(),
        evidence_rank=regimen.evidence_level.rank,
        evidence_words=regimen.evidence_level.label,
        head={
            "regimen": regimen.id,
            "name": regimen.name,
            "setting": regimen.setting.value,
            "evidence_level": regimen.evidence_level.value,
        },
        agents=tuple(
            {
                "agent": a.agent.value,
                "dose": a.dose,
                "dose_unit": a.dose_unit.value if a.dose_unit else None,
                "schedule": a.schedule,
            }
            for a in regimen.agents
        ),
        tail={"cycle_length_days": regimen.cycle_length_days, "max_cycles": regimen.max_cycles},
        gaps=tuple(_regimen_and_trial_gaps(regimen)),
        lead=lead,
        trials=tuple(_trial_static(t) for t in regimen.trials),
    )


def regimen_details(
    regimen: RegimenEntry,
    case: Case,
    checks: list[ExposureCheck] | None = None,
    oberlin: list[int] | None = None,
) -> dict[str, Any]:
    return _regimen_details(_regimen_static(regimen), case, checks, oberlin)


def _regimen_details(
    static: _RegimenStatic,
    case: Case,
    checks: list[ExposureCheck] | None = None,
    oberlin: list[int] | None = None,
) -> dict[str, Any]:
    details: dict[str, Any] = {
        **static.head,
        "agents": [{**a} for a in static.agents],
        **static.tail,
        "trials": [_trial_summary(t, case, oberlin) for t in static.trials],
    }
    if checks is not None:
        details["exposure_checks"] = [c.as_dict() for c in checks]
    return details


def _regimen_and_trial_gaps(regimen: RegimenEntry) -> list[EvidenceGap]:
    """The regimen's own evidence gap (``_build.gaps_of``), then one per trial with a caveat
    or an unverified result."""
    gaps = gaps_of([regimen])
    for i, t in enumerate(regimen.trials):
        if t.caveat or not t.verified:
            gaps.append(
                EvidenceGap(
                    id=f"gap.{regimen.id}.trial{i + 1}",
                    statement=f"{t.name}: {t.caveat or 'result not verified'}",
                    knowledge_entry=regimen.id,
                )
            )
    return gaps


def _regimen_gaps(regimen: RegimenEntry) -> list[EvidenceGap]:
    """The regimen's own evidence gaps and those of its trials (a fresh list)."""
    return list(_regimen_static(regimen).gaps)


def _best_result(regimen: RegimenEntry, case: Case) -> str:
    """The lead trial's first two figures, quoted only from a population that includes the
    patient (otherwise the population they come from, in words)."""
    return _lead_text(_regimen_static(regimen), case)


def _lead_text(static: _RegimenStatic, case: Case) -> str:
    if static.lead is not None:
        return sets_text(case, *static.lead)
    return static.summary.rstrip(".")


#: Each exposure check in the words of a caution statement ("only after weighing ...").
CHECK_WORDS = {
    "treatment_history": "how the disease behaved on these agents before",
    "naive_fit": "prior anthracycline and alkylator exposure (meant for naive patients)",
    "anthracycline": "cumulative anthracycline and cardiac risk",
    "ifosfamide_renal": "cumulative ifosfamide and renal risk",
    "alkylator_load": "alkylator load and fertility",
}

#: Each exposure check's name as the reason says it.
CHECK_TITLES = {name: name.replace("_", " ") for name in CHECK_WORDS}

#: Check statuses that make an option *caution* or *avoid*; said first in its reason.
_FLAGGED = frozenset({CheckStatus.CAUTION, CheckStatus.AVOID, CheckStatus.INDETERMINATE})


def option_statement(
    regimen: RegimenEntry, strength: Strength, flagged: list[ExposureCheck]
) -> str:
    """The option's statement, led by its strength: 'Do not offer X' (avoid), 'Caution — X,
    only after weighing ...' (caution; never 'Consider', so it cannot read as a suggestion), or
    'Consider X' -- then the regimen's summary."""
    return _statement(regimen, _regimen_static(regimen).summary, strength, flagged)


def _statement(
    regimen: RegimenEntry, summary: str, strength: Strength, flagged: list[ExposureCheck]
) -> str:
    if strength is Strength.AVOID:
        return f"Do not offer {regimen.name}. {summary}"
    if strength is Strength.CAUTION:
        concerns = [
            CHECK_WORDS[c.name] + (" (not known)" if c.status == CheckStatus.INDETERMINATE else "")
            for c in flagged
            if c.status in (CheckStatus.CAUTION, CheckStatus.INDETERMINATE)
        ]
        weigh = join_words(concerns) if concerns else "the concerns given in the reason"
        return f"{CAUTION}{regimen.name}, only after weighing {weigh}. {summary}"
    return f"Consider {regimen.name}. {summary}"


def relapse_option(
    regimen: RegimenEntry,
    findings: Mapping[str, Finding],
    case: Case,
    history: TreatmentHistory | None = None,
) -> Recommendation:
    """One relapse regimen as a recommendation, with its exposure checks and trial results."""
    return _relapse_option(
        regimen, _regimen_static(regimen), case, prior_exposure(findings, case, history)
    )


def _relapse_option(
    regimen: RegimenEntry, static: _RegimenStatic, case: Case, prior: PriorExposure
) -> Recommendation:
    checks = _checks(regimen, static, prior)
    flagged: list[ExposureCheck] = []
    said_first = [f"{static.evidence_words} evidence; {_lead_text(static, case)}."]
    said_after: list[str] = []
    citations = list(static.citations)
    based_on: list[str] = []
    needs: set[str] = set()
    for c in checks:
        if c.status in _FLAGGED:
            flagged.append(c)
            said_first.append(f"{CHECK_TITLES[c.name]}: {c.reason}")
        elif c.status == CheckStatus.NOTE or c.name != "treatment_history":
            # a clean treatment history goes without saying
            said_after.append(f"{CHECK_TITLES[c.name]}: {c.reason}")
        citations += c.citations
        based_on.append(c.finding)
        needs.update(c.needs)
    strength = strength_from_checks(flagged)
    reason = " ".join(said_first + said_after)
    return recommendation(
        id=static.recommendation_id,
        category=CATEGORY,
        statement=_statement(regimen, static.summary, strength, flagged),
        strength=strength,
        reason=reason,
        rule=RULE_RELAPSE,
        citations=list(dict.fromkeys(citations)),
        based_on_findings=list(dict.fromkeys(based_on)),
        inputs_used=sorted(needs),
        evidence_gaps=list(static.gaps),
        details=_regimen_details(static, case, checks),
    )


def cardiac_summary(findings: Mapping[str, Finding]) -> tuple[str, list[str]]:
    """One sentence on prior anthracycline and chest radiotherapy against the IGHG thresholds.

    None of the relapse regimens contains an anthracycline, but anthracycline-based salvage is
    sometimes used; the team should see where the patient stands (Armenian 2015).
    """
    f = as_lower_bound(findings.get(F_ANTHRACYCLINE))
    if f is None:
        return "", []
    rows = thresholds(ThresholdKind.ANTHRACYCLINE_CARDIAC)
    if f.status is not FindingStatus.DETERMINED:
        return (
            " Prior anthracycline exposure is unknown, so any anthracycline-based salvage "
            "cannot be checked against the cardiac thresholds.",
            _cites(rows),
        )
    value = float(f.value)
    if value <= 0:
        return "", []
    crossed = [t for t in rows if t.reached_by(value)]
    bound = "at least " if f.details.get("lower_bound") else ""
    text = f" Prior doxorubicin-equivalent anthracycline is {bound}{value:g} mg/m2"
    if crossed:
        top = crossed[-1]
        text += f" (reached {top.at_least:g} mg/m2: {top.meaning.strip().rstrip('.')})"
    chest = findings.get(F_CHEST_RT)
    if chest is not None and chest.is_determined and float(chest.value) > 0:
        text += f"; prior chest radiotherapy {float(chest.value):g} Gy"
    return text + ".", _cites(crossed or rows)


VIT_POPULATION = "vit0910"


@per_entry
def _vit_os_stats(evidence: CareEntry) -> str:
    """The VIT-0910 overall-survival statistics in words (knowledge only)."""
    fig = evidence.figures
    return (
        f"adjusted hazard ratio for death {fig['os_adjusted_hazard_ratio']}, 95% CI "
        f"{fig['os_hr_ci_low']}-{fig['os_hr_ci_high']}, P={fig['os_p_value']}; SECONDARY: the "
        "final JCO 2021 statistics as quoted by PDQ 2025"
    )


def _vit_os_text(case: Case) -> str:
    """The VIT-0910 overall-survival result with its evidence label (care.yaml), and whose
    figure it is: the trial's population when it includes the patient, otherwise named as
    another population's (``prognosis.population``)."""
    stats = _vit_os_stats(care_entries()[VIT_EVIDENCE])
    check = check_population(case, VIT_POPULATION)
    if check.membership is Membership.MEMBER:
        return f"{stats}; population: {check.words()}"
    if check.membership is Membership.NOT_MEMBER:
        return (
            f"hazard ratio not quoted as this patient's: it comes from another population "
            f"({check.words()}): " + "; ".join(check.excluded_by)
        )
    return (
        f"hazard ratio not quoted: it describes {check.words()} and applies only if "
        + "; ".join(check.undecided)
    )


def relapse_overview(
    options: list[RegimenEntry],
    not_offered: list[RegimenEntry],
    case: Case,
    findings: Mapping[str, Finding] | None = None,
) -> Recommendation:
    cardiac, cardiac_cites = cardiac_summary(findings or {})
    vit_evidence = care_entries()[VIT_EVIDENCE]
    return recommendation(
        id="systemic.relapse_overview",
        category=CATEGORY,
        statement=(
            "There is no standard second-line regimen: choose among the options below (ordered "
            "by fit to this patient -- not failed before, exposure limits respected, matching "
            "the relapse group -- then by strength of evidence), and strongly consider a "
            "clinical trial."
        ),
        strength=Strength.RECOMMENDED,
        reason=(
            "Randomised evidence at relapse: VIT-0910 randomised vincristine + irinotecan (VI) "
            "against VI + temozolomide (VIT) and reported longer overall survival with VIT "
            f"({_vit_os_text(case)}); ARST0921 selected temsirolimus over bevacizumab with "
            "vinorelbine/cyclophosphamide on event-free survival. Neither makes a regimen "
            "standard for every patient."
        )
        + cardiac,
        rule=RULE_RELAPSE,
        citations=list(
            dict.fromkeys(
                [
                    OVERVIEW_CITATION,
                    *vit_evidence.citations,
                    *(c for r in options for c in r.citations),
                    *cardiac_cites,
                ]
            )
        ),
        based_on_findings=[F_ANTHRACYCLINE, F_CHEST_RT] if cardiac else [],
        evidence_gaps=gaps_of([vit_evidence, *not_offered]),
        details={
            "options_in_order": [r.id for r in options],
            "order": "fit (not failed, exposure limits, relapse group), then evidence",
            "not_offered": [{"regimen": r.id, "why": r.summary.strip()} for r in not_offered],
        },
    )


def _oberlin_scores(findings: Mapping[str, Finding]) -> tuple[list[int] | None, str]:
    f = findings.get(F_OBERLIN)
    if f is None:
        return None, "the Oberlin score is not available"
    if f.is_determined and isinstance(f.value, int):
        return [f.value], f"Oberlin score {f.value}"
    if f.status is FindingStatus.INDETERMINATE:
        cands = [c for c in f.candidates if isinstance(c, int)]
        if cands:
            return (
                cands,
                f"Oberlin score {' or '.join(str(c) for c in cands)} (needs {', '.join(f.needs)})",
            )
        return None, f"the Oberlin score is undetermined (needs {', '.join(f.needs)})"
    return None, "the Oberlin score does not apply"


def metastatic_protocol(
    regimen: RegimenEntry, findings: Mapping[str, Finding], case: Case
) -> Recommendation:
    """A first-line protocol for metastatic RMS with the figures for the patient's Oberlin
    score, each quoted only from a population that includes the patient."""
    scores, score_text = _oberlin_scores(findings)
    by_score = [
        trial_text(case, t, chosen)
        for t in regimen.trials
        if (
            chosen := [
                o
                for o in t.outcomes
                if scores is not None and any(o.applies_to_oberlin(s) for s in scores)
            ]
        )
    ]
    if by_score:
        result = f"Published outcome for {score_text}: " + "; ".join(by_score) + "."
    else:
        overall = [
            trial_text(case, t, chosen)
            for t in regimen.trials
            if (chosen := [o for o in t.outcomes if o.oberlin_min is None][:2])
        ]
        result = f"With {score_text}, the overall figures apply: " + "; ".join(overall) + "."
    return recommendation(
        id=f"systemic.{regimen.id}",
        category=CATEGORY,
        statement=f"{regimen.name}. {regimen.summary.strip()}",
        strength=Strength.CONSIDER,
        reason=f"{regimen.evidence_level.label} evidence. {result}",
        rule=RULE_METASTATIC,
        citations=list(regimen.citations),
        based_on_findings=[F_OBERLIN],
        evidence_gaps=_regimen_gaps(regimen),
        details=regimen_details(regimen, case, None, scores),
    )


@per_entry
def _extrapolated_gap(r: RegimenEntry) -> EvidenceGap:
    return EvidenceGap(
        id=f"gap.{r.id}.extrapolated",
        statement="The randomised benefit was shown in non-metastatic high-risk RMS; "
        "its use in metastatic disease is extrapolated.",
        knowledge_entry=r.id,
    )


def metastatic_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    table = regimens()
    protocols = [
        r
        for r in table
        if r.setting is RegimenSetting.FIRST_LINE_METASTATIC and r.offered_for_relapse
    ]
    protocols.sort(key=lambda r: r.evidence_level.rank)
    recs = [
        recommendation(
            id="systemic.metastatic_first_line",
            category=CATEGORY,
            statement=(
                "Treat with a standard multi-agent protocol for metastatic RMS, with local "
                "therapy to the "
                "primary and, where feasible, all metastatic sites, followed by maintenance."
            ),
            strength=Strength.RECOMMENDED,
            reason="Outcomes of the standard protocols depend strongly on the number of "
            "Oberlin risk factors.",
            rule=RULE_METASTATIC,
            citations=list(dict.fromkeys(c for r in protocols for c in r.citations)),
            based_on_findings=[F_OBERLIN],
        )
    ]
    recs += [metastatic_protocol(r, findings, case) for r in protocols]
    for r in table:
        if r.setting is RegimenSetting.MAINTENANCE:
            recs.append(
                recommendation(
                    id=f"systemic.{r.id}",
                    category=CATEGORY,
                    statement=f"After intensive treatment, {r.name.lower()}. {r.summary.strip()}",
                    strength=Strength.RECOMMENDED,
                    reason=f"{r.evidence_level.label} evidence; {_best_result(r, case)}.",
                    rule=RULE_METASTATIC,
                    citations=list(r.citations),
                    evidence_gaps=[*_regimen_gaps(r), _extrapolated_gap(r)],
                    details=regimen_details(r, case),
                )
            )
        elif r.setting is RegimenSetting.FIRST_LINE_METASTATIC and not r.offered_for_relapse:
            recs.append(
                recommendation(
                    id=f"systemic.{r.id}",
                    category=CATEGORY,
                    statement=f"{r.name} is not supported as standard treatment; "
                    "use it only within a trial.",
                    strength=Strength.AVOID,
                    reason=r.summary.strip(),
                    rule=RULE_METASTATIC,
                    citations=list(r.citations),
                    evidence_gaps=_regimen_gaps(r),
                    details=regimen_details(r, case),
                )
            )
    return recs


_STRENGTH_FIT = {
    Strength.RECOMMENDED: 0,
    Strength.CONSIDER: 0,
    Strength.CAUTION: 1,
    Strength.AVOID: 2,
}


def _fit_key(static: _RegimenStatic, rec: Recommendation, favourable: bool) -> tuple[int, int, int]:
    """Order of the options: fit first (not failed, exposure limits respected), then the
    relapse group (a favourable-group regimen first for a naive patient whose relapse group is
    ``favourable``), then the evidence."""
    matches = 0 if (static.naive and favourable) else 1
    return (_STRENGTH_FIT[rec.strength], matches, static.evidence_rank)


@dataclass(frozen=True)
class _RelapseRegimens:
    """The relapse regimens of one regimens table, offered or not (knowledge only)."""

    offered: tuple[tuple[RegimenEntry, _RegimenStatic], ...]
    not_offered: tuple[RegimenEntry, ...]


@per_entry
def _relapse_regimens(table: Table[RegimenEntry]) -> _RelapseRegimens:
    relapse = [r for r in table if r.setting is RegimenSetting.RELAPSE]
    return _RelapseRegimens(
        offered=tuple((r, _regimen_static(r)) for r in relapse if r.offered_for_relapse),
        not_offered=tuple(r for r in relapse if not r.offered_for_relapse),
    )


def systemic_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """Systemic options for the case: relapse regimens, or first-line metastatic protocols."""
    if case.current_event is not None:
        relapse = _relapse_regimens(regimens())
        prior = prior_exposure(findings, case)
        ordered = sorted(
            [(r, static, _relapse_option(r, static, case, prior)) for r, static in relapse.offered],
            key=lambda option: _fit_key(option[1], option[2], prior.favourable),
        )
        overview = relapse_overview(
            [r for r, _, _ in ordered], list(relapse.not_offered), case, findings
        )
        return [overview, *(rec for _, _, rec in ordered)]
    if case.diagnosis.distant_metastases:
        return metastatic_recommendations(case, findings)
    return []
