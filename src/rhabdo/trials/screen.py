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
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache

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
    return CriterionResult.model_construct(
        criterion=key,
        requirement=requirement,
        outcome=outcome,
        reason=reason,
        evidence=evidence,
        needs=[],
    )


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
    if not trial.conditions:
        return None
    requirement = "conditions studied include rhabdomyosarcoma"
    scopes = {c: condition_scope(c) for c in trial.conditions}
    evidence = [Evidence.model_construct(field="conditions", value=list(trial.conditions))]
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
        f"the trial's conditions ({'; '.join(trial.conditions)}) could not include "
        "rhabdomyosarcoma",
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


def _status_words(trial: Trial) -> str:
    words = trial.status.value.lower().replace("_", " ")
    return f"{words} as of {trial.status_as_of}" if trial.status_as_of else words


def check_recruitment(trial: Trial, on: dt.date | None) -> CriterionResult:
    """Whether the trial was taking patients on ``on``, from its overall status and dates."""
    requirement = "recruiting on the day judged" if on else "recruiting"
    evidence = [Evidence.model_construct(field="overall status", value=trial.status.value)]
    if trial.status_as_of:
        evidence.append(Evidence.model_construct(field="status as of", value=trial.status_as_of))
    if trial.start_date:
        kind = f" ({trial.start_date_type.value.lower()})" if trial.start_date_type else ""
        evidence.append(Evidence.model_construct(field="start date" + kind, value=trial.start_date))
    status = _status_words(trial)
    if trial.status in _CLOSED:
        why = f" ({trial.why_stopped})" if trial.why_stopped else ""
        return _result(RECRUITMENT, requirement, NOT_MET, f"{status}{why}: not offered", evidence)
    if trial.status is TrialStatus.UNKNOWN:
        return _result(RECRUITMENT, requirement, UNKNOWN, "recruitment status not known", evidence)
    if on is None:
        if trial.status in _RECRUITING:
            return _result(RECRUITMENT, requirement, MET, status, evidence)
        return _result(
            RECRUITMENT, requirement, UNKNOWN, f"{status}; no date to judge on", evidence
        )
    if trial.start_date is not None:
        first, last = date_span(trial.start_date)
        if on < first:
            return _result(
                RECRUITMENT,
                requirement,
                NOT_MET,
                f"opens {trial.start_date}, after the day judged ({on.isoformat()}): not offered",
                evidence,
            )
        if on <= last:
            return _result(
                RECRUITMENT,
                requirement,
                UNKNOWN,
                f"opens in {trial.start_date}, the month judged; the day is not recorded",
                evidence,
            )
        if trial.status is TrialStatus.NOT_YET_RECRUITING:
            return _result(
                RECRUITMENT,
                requirement,
                UNKNOWN,
                f"{status}; the planned start ({trial.start_date}) has passed: check whether "
                "it has opened",
                evidence,
            )
        estimated = trial.start_date_type is DateType.ESTIMATED
        note = " (estimated start)" if estimated else ""
        return _result(
            RECRUITMENT,
            requirement,
            MET,
            f"{status}; open since {trial.start_date}{note}",
            evidence,
        )
    if trial.status is TrialStatus.NOT_YET_RECRUITING:
        return _result(
            RECRUITMENT, requirement, UNKNOWN, f"{status}; start date not recorded", evidence
        )
    if trial.status_as_of and date_span(trial.status_as_of)[0] > on:
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
    requirement = "a treatment trial"
    if trial.study_type is StudyType.OBSERVATIONAL:
        return _result(
            PURPOSE,
            requirement,
            NOT_MET,
            "an observational study: it offers no treatment",
            [Evidence.model_construct(field="study type", value=trial.study_type.value)],
        )
    if trial.primary_purpose is None:
        return None
    evidence = [
        Evidence.model_construct(field="primary purpose", value=trial.primary_purpose.value)
    ]
    if trial.primary_purpose is PrimaryPurpose.TREATMENT:
        return _result(PURPOSE, requirement, MET, "primary purpose: treatment", evidence)
    words = trial.primary_purpose.value.lower().replace("_", " ")
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
                [Evidence.model_construct(field="site countries", value=listed)],
            )
        names = [", ".join(p for p in (s.facility, s.city) if p) or "site" for s in here]
        open_here = [
            n for n, s in zip(names, here, strict=True) if s.status in (None, *_RECRUITING)
        ]
        evidence = [Evidence.model_construct(field=f"sites in {country}", value=names)]
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
        evidence = [Evidence.model_construct(field="countries", value=list(trial.countries))]
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


#: key of a registry check -> its result, for one matching run (see ``screen``)
ScreenCache = dict[tuple[object, ...], CriterionResult | None]


def screen(
    trial: Trial, on: dt.date | None, country: str | None, cache: ScreenCache | None = None
) -> list[CriterionResult]:
    """Every registry check that applies to ``trial``, in the order of ``SCREEN_KEYS``.

    ``cache`` (one per matching run, i.e. one day judged and one country) keeps each answer by
    the registry fields it reads, so thousands of trials sharing a status or a condition list
    are checked once.
    """
    if cache is None:
        cache = {}
    keys: list[tuple[tuple[object, ...], Callable[[], CriterionResult | None]]] = [
        ((CONDITIONS, tuple(trial.conditions)), lambda: check_conditions(trial)),
        (
            (
                RECRUITMENT,
                trial.status,
                trial.status_as_of,
                trial.start_date,
                trial.start_date_type,
                trial.why_stopped,
            ),
            lambda: check_recruitment(trial, on),
        ),
        ((PURPOSE, trial.study_type, trial.primary_purpose), lambda: check_purpose(trial)),
    ]
    if country:
        keys.append(((COUNTRY, trial.registry_id), lambda: check_country(trial, country)))
    out = []
    for key, check in keys:
        if key in cache:
            result = cache[key]
        else:
            result = cache[key] = check()
        if result is not None:
            out.append(result)
    return out
