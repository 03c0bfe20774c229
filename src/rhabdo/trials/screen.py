"""What a trial's registry record decides before any eligibility criterion is read.

A clinician first asks whether a trial could take this patient at all:

* **conditions**: does the trial study rhabdomyosarcoma, soft-tissue sarcoma or solid tumours?
  A trial whose conditions could not include RMS (asthma, breast cancer, Ewing sarcoma) is
  excluded with that reason; a broad cancer condition ("Childhood Cancer") needs review; a
  trial with no conditions recorded is not screened on them.
* **recruitment on the day judged**: overall status and its dates.  Withdrawn, terminated,
  completed, suspended and active-not-recruiting trials are not offered; a trial that was not
  yet recruiting before its start date, or that opened after the day judged, is not offered
  either (a case assessed in 2023 is never offered a trial that opened in 2025).  A month-only
  start date that falls in the month judged cannot decide and is shown as such.
* **purpose**: an observational study, or an interventional one whose primary purpose is not
  treatment (supportive care, behavioural, screening ...), offers no treatment for the relapse.
* **country** (only when asked): a site in that country, with the site's recruitment status.

Each check answers met / not met / not enough information with its reason, like a criterion,
and counts in the verdict.  Source of the vocabulary: ClinicalTrials.gov API v2 record fields
``conditionsModule``, ``statusModule`` and ``designModule`` (https://clinicaltrials.gov/data-api/api).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from rhabdo.trials.model import (
    CriterionOutcome,
    CriterionResult,
    DateType,
    Evidence,
    PrimaryPurpose,
    StudyType,
    Trial,
    TrialStatus,
    date_span,
    frozen_evidence,
    frozen_result,
)

MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
UNKNOWN = CriterionOutcome.NOT_ENOUGH_INFORMATION

CONDITIONS = "registry_conditions"
RECRUITMENT = "registry_recruitment"
PURPOSE = "registry_purpose"
COUNTRY = "registry_country"

#: Every registry check key, in the order they are reported.
SCREEN_KEYS = (CONDITIONS, RECRUITMENT, PURPOSE, COUNTRY)


def _result(
    key: str, requirement: str, outcome: CriterionOutcome, reason: str, evidence: list[Evidence]
) -> CriterionResult:
    """A registry answer: kept once per process and handed to every caller, so it is frozen
    through and through (its lists refuse changes) and never needs copying."""
    return frozen_result(key, requirement, outcome, reason, evidence, [])


# --- conditions -------------------------------------------------------------------------------

_RMS = re.compile(r"(?<!non-)(?<!non )\brhabdomyosarcomas?\b")
_STS = re.compile(r"\bsoft[- ]tissue sarcomas?\b|\bsarcomas? ?, soft[- ]tissue\b")
_SOLID = re.compile(r"\bsolid (tumou?rs?|neoplasms?|malignan\w*|cancers?)\b")
_NON_RMS_STS = re.compile(r"\bnon[- ]?rhabdomyosarcoma|\bnrsts\b")
_MODIFIERS = frozenset(
    {
        "childhood",
        "pediatric",
        "paediatric",
        "adolescent",
        "young",
        "adult",
        "adults",
        "children",
        "recurrent",
        "refractory",
        "relapsed",
        "advanced",
        "metastatic",
        "unresectable",
        "malignant",
        "and",
        "or",
        "of",
        "in",
        "with",
    }
)
_BROAD = frozenset(
    {
        "cancer",
        "cancers",
        "neoplasm",
        "neoplasms",
        "tumor",
        "tumors",
        "tumour",
        "tumours",
        "malignancy",
        "malignancies",
        "sarcoma",
        "sarcomas",
        "oncology",
    }
)


class ConditionScope(StrEnum):
    """How one registry condition relates to rhabdomyosarcoma."""

    RMS = "rhabdomyosarcoma"
    STS = "soft-tissue sarcoma"
    SOLID = "solid tumours"
    BROAD = "broad"
    OTHER = "other"


_COVERING = frozenset({ConditionScope.RMS, ConditionScope.STS, ConditionScope.SOLID})


@lru_cache(maxsize=4096)
def condition_scope(condition: str) -> ConditionScope:
    """The scope of one condition: RMS, soft-tissue sarcoma, solid tumours, broad or other.

    "Sarcoma" alone (with modifiers such as "recurrent" or "childhood") is broad: it may or
    may not include RMS.  Named other sarcomas (Ewing, osteosarcoma) and non-RMS soft-tissue
    sarcoma are other.
    """
    text = " ".join(condition.lower().replace(",", " , ").split())
    if _RMS.search(text) and not _NON_RMS_STS.search(text):
        return ConditionScope.RMS
    if _NON_RMS_STS.search(text):
        return ConditionScope.OTHER
    if _STS.search(text):
        return ConditionScope.STS
    if _SOLID.search(text):
        return ConditionScope.SOLID
    words = set(re.findall(r"[a-z]+", text))
    if words & _BROAD and words <= _BROAD | _MODIFIERS:
        return ConditionScope.BROAD
    return ConditionScope.OTHER


def check_conditions(trial: Trial) -> CriterionResult | None:
    """Whether the trial's conditions could include RMS; None when none are recorded."""
    return _conditions_answer(tuple(trial.conditions))


@lru_cache(maxsize=4096)
def _conditions_answer(conditions: tuple[str, ...]) -> CriterionResult | None:
    """The conditions check for one list of conditions (knowledge only: kept per process)."""
    if not conditions:
        return None
    requirement = "conditions studied include rhabdomyosarcoma"
    scopes = {c: condition_scope(c) for c in conditions}
    evidence = [frozen_evidence("conditions", list(conditions))]
    covering = sorted(
        {
            s
            for s in scopes.values()
            if s in (ConditionScope.RMS, ConditionScope.STS, "solid tumours")
        }
    )
    if covering:
        return _result(
            CONDITIONS, requirement, MET, "the trial studies " + " and ".join(covering), evidence
        )
    broad = [c for c, s in scopes.items() if s == ConditionScope.BROAD]
    if broad:
        return _result(
            CONDITIONS,
            requirement,
            UNKNOWN,
            f"broad condition(s) ({'; '.join(broad)}): check whether RMS is included",
            evidence,
        )
    return _result(
        CONDITIONS,
        requirement,
        NOT_MET,
        f"the trial's conditions ({'; '.join(conditions)}) could not include rhabdomyosarcoma",
        evidence,
    )


# --- recruitment on the day judged ------------------------------------------------------------

_CLOSED = frozenset(
    {
        TrialStatus.WITHDRAWN,
        TrialStatus.TERMINATED,
        TrialStatus.COMPLETED,
        TrialStatus.SUSPENDED,
        TrialStatus.ACTIVE_NOT_RECRUITING,
        TrialStatus.NO_LONGER_AVAILABLE,
        TrialStatus.TEMPORARILY_NOT_AVAILABLE,
        TrialStatus.WITHHELD,
        TrialStatus.APPROVED_FOR_MARKETING,
    }
)
_RECRUITING = frozenset(
    {TrialStatus.RECRUITING, TrialStatus.ENROLLING_BY_INVITATION, TrialStatus.AVAILABLE}
)


class RecruitmentRecord(NamedTuple):
    """The registry fields recruitment is judged from: equal records get equal answers."""

    status: TrialStatus
    status_as_of: str | None
    start_date: str | None
    start_date_type: DateType | None
    why_stopped: str | None

    @classmethod
    def of(cls, trial: Trial) -> RecruitmentRecord:
        return cls(
            trial.status,
            trial.status_as_of,
            trial.start_date,
            trial.start_date_type,
            trial.why_stopped,
        )


def _status_words(record: RecruitmentRecord) -> str:
    words = record.status.value.lower().replace("_", " ")
    return f"{words} as of {record.status_as_of}" if record.status_as_of else words


def check_recruitment(trial: Trial, on: dt.date | None) -> CriterionResult:
    """Whether the trial was taking patients on ``on``, from its overall status and dates."""
    return _recruitment_answer(RecruitmentRecord.of(trial), on)


@lru_cache(maxsize=4096)
def _recruitment_answer(record: RecruitmentRecord, on: dt.date | None) -> CriterionResult:
    """The recruitment check for one registry record and day (knowledge and a date: kept per
    process)."""
    requirement = "recruiting on the day judged" if on else "recruiting"
    evidence = [frozen_evidence("overall status", record.status.value)]
    if record.status_as_of:
        evidence.append(frozen_evidence("status as of", record.status_as_of))
    if record.start_date:
        kind = f" ({record.start_date_type.value.lower()})" if record.start_date_type else ""
        evidence.append(frozen_evidence("start date" + kind, record.start_date))
    status = _status_words(record)
    if record.status in _CLOSED:
        why = f" ({record.why_stopped})" if record.why_stopped else ""
        return _result(RECRUITMENT, requirement, NOT_MET, f"{status}{why}: not offered", evidence)
    if record.status is TrialStatus.UNKNOWN:
        return _result(RECRUITMENT, requirement, UNKNOWN, "recruitment status not known", evidence)
    if on is None:
        if record.status in _RECRUITING:
            return _result(RECRUITMENT, requirement, MET, status, evidence)
        return _result(
            RECRUITMENT, requirement, UNKNOWN, f"{status}; no date to judge on", evidence
        )
    if record.start_date is not None:
        first, last = date_span(record.start_date)
        if on < first:
            return _result(
                RECRUITMENT,
                requirement,
                NOT_MET,
                f"opens {record.start_date}, after the day judged ({on.isoformat()}): not offered",
                evidence,
            )
        if on <= last:
            return _result(
                RECRUITMENT,
                requirement,
                UNKNOWN,
                f"opens in {record.start_date}, the month judged; the day is not recorded",
                evidence,
            )
        if record.status is TrialStatus.NOT_YET_RECRUITING:
            return _result(
                RECRUITMENT,
                requirement,
                UNKNOWN,
                f"{status}; the planned start ({record.start_date}) has passed: check whether "
                "it has opened",
                evidence,
            )
        estimated = record.start_date_type is DateType.ESTIMATED
        note = " (estimated start)" if estimated else ""
        return _result(
            RECRUITMENT,
            requirement,
            MET,
            f"{status}; open since {record.start_date}{note}",
            evidence,
        )
    if record.status is TrialStatus.NOT_YET_RECRUITING:
        return _result(
            RECRUITMENT, requirement, UNKNOWN, f"{status}; start date not recorded", evidence
        )
    if record.status_as_of and date_span(record.status_as_of)[0] > on:
        return _result(
            RECRUITMENT,
            requirement,
            UNKNOWN,
            f"{status}, after the day judged; the start date is not recorded, so whether it "
            "was open then is unknown",
            evidence,
        )
    return _result(RECRUITMENT, requirement, MET, status, evidence)


# --- purpose ----------------------------------------------------------------------------------


def check_purpose(trial: Trial) -> CriterionResult | None:
    """Whether the study treats the disease; None when type and purpose are not recorded."""
    return _purpose_answer(trial.study_type, trial.primary_purpose)


@lru_cache(maxsize=256)
def _purpose_answer(
    study_type: StudyType | None, primary_purpose: PrimaryPurpose | None
) -> CriterionResult | None:
    """The purpose check for one study type and purpose (knowledge only: kept per process)."""
    requirement = "a treatment trial"
    if study_type is StudyType.OBSERVATIONAL:
        return _result(
            PURPOSE,
            requirement,
            NOT_MET,
            "an observational study: it offers no treatment",
            [frozen_evidence("study type", study_type.value)],
        )
    if primary_purpose is None:
        return None
    evidence = [frozen_evidence("primary purpose", primary_purpose.value)]
    if primary_purpose is PrimaryPurpose.TREATMENT:
        return _result(PURPOSE, requirement, MET, "primary purpose: treatment", evidence)
    words = primary_purpose.value.lower().replace("_", " ")
    return _result(
        PURPOSE,
        requirement,
        NOT_MET,
        f"primary purpose: {words}, not treatment of the disease",
        evidence,
    )


# --- country ----------------------------------------------------------------------------------


def check_country(trial: Trial, country: str) -> CriterionResult:
    """Whether the trial has a site in ``country`` (and whether that site recruits)."""
    requirement = f"a site in {country}"
    wanted = country.strip().casefold()
    if trial.sites:
        here = [s for s in trial.sites if (s.country or "").casefold() == wanted]
        if not here:
            listed = sorted({s.country for s in trial.sites if s.country})
            return _result(
                COUNTRY,
                requirement,
                NOT_MET,
                f"no site in {country} (sites in {', '.join(listed) or 'no stated country'})",
                [frozen_evidence("site countries", listed)],
            )
        names = [", ".join(p for p in (s.facility, s.city) if p) or "site" for s in here]
        open_here = [
            n for n, s in zip(names, here, strict=True) if s.status in (None, *_RECRUITING)
        ]
        evidence = [frozen_evidence(f"sites in {country}", names)]
        if not open_here:
            return _result(
                COUNTRY,
                requirement,
                NOT_MET,
                f"site(s) in {country} are not recruiting",
                evidence,
            )
        return _result(
            COUNTRY, requirement, MET, f"{len(open_here)} site(s) in {country}", evidence
        )
    if trial.countries is not None:
        evidence = [frozen_evidence("countries", list(trial.countries))]
        if any(c.casefold() == wanted for c in trial.countries):
            return _result(COUNTRY, requirement, MET, f"sites in {country}", evidence)
        return _result(
            COUNTRY,
            requirement,
            UNKNOWN,
            f"no verified site in {country}; the country list may be incomplete",
            evidence,
        )
    return _result(COUNTRY, requirement, UNKNOWN, "the trial's countries are not recorded", [])


class Screened(NamedTuple):
    """A trial's registry answers (frozen, shared), with how many are not met and how many
    lack information: what they add to the verdict, counted once with them."""

    checks: tuple[CriterionResult, ...]
    unmet: int
    pending: int


#: (id of a trial, day judged, country) -> (that trial, its registry answers); see
#: ``registry_answers``.
_ANSWERS: dict[tuple[int, dt.date | None, str | None], tuple[Trial, Screened]] = {}
_ANSWERS_LIMIT = 65_536


def registry_answers(trial: Trial, on: dt.date | None, country: str | None) -> Screened:
    """Every registry check that applies to ``trial``, in the order of ``SCREEN_KEYS``, worked
    out once per process: they read only the trial's record, which is knowledge and never
    changes once validated, and they are frozen, so every caller is handed the same objects.
    Each is kept with its trial and compared by identity (as the per-assessment memo does with
    cases), so another trial never receives them."""
    key = (id(trial), on, country)
    hit = _ANSWERS.get(key)
    if hit is not None and hit[0] is trial:
        return hit[1]
    answers = (
        _conditions_answer(tuple(trial.conditions)),
        _recruitment_answer(RecruitmentRecord.of(trial), on),
        _purpose_answer(trial.study_type, trial.primary_purpose),
        check_country(trial, country) if country else None,
    )
    found = tuple(a for a in answers if a is not None)
    screened = Screened(
        found,
        sum(1 for a in found if a.outcome is NOT_MET),
        sum(1 for a in found if a.outcome is UNKNOWN),
    )
    if len(_ANSWERS) >= _ANSWERS_LIMIT:
        _ANSWERS.clear()
    _ANSWERS[key] = (trial, screened)
    return screened


def screen(trial: Trial, on: dt.date | None, country: str | None) -> list[CriterionResult]:
    """Every registry check that applies to ``trial``, in the order of ``SCREEN_KEYS`` (see
    ``registry_answers``); the list is the caller's, the frozen answers in it are shared."""
    return list(registry_answers(trial, on, country).checks)
