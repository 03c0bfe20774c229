"""The eligibility model: a trial, its structured criteria, and what matching returns.

Criteria are data.  Every criterion key is declared here; a trial file that uses any other key
is rejected (``extra="forbid"``) so that a misspelt or unsupported criterion can never be
silently ignored.  Whatever a registry says that cannot be structured is kept verbatim in
``free_text`` and shown to the team as *needs review*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, NoReturn, SupportsIndex, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from rhabdo.case.vocab import (
    AlterationKind,
    BodyRegion,
    ChemotherapyAgent,
    FusionStatus,
    Histology,
    Sex,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiseaseSetting(StrEnum):
    """Where the patient is in the course of the disease (the trial's entry setting)."""

    NEWLY_DIAGNOSED_NON_METASTATIC = "newly_diagnosed_non_metastatic"
    NEWLY_DIAGNOSED_METASTATIC = "newly_diagnosed_metastatic"
    FIRST_RELAPSE = "first_relapse"
    SECOND_OR_LATER_RELAPSE = "second_or_later_relapse"
    REFRACTORY = "refractory"


class TrialPhase(StrEnum):
    """Phases as ClinicalTrials.gov API v2 names them (``designModule.phases``)."""

    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"
    NA = "NA"


class TrialStatus(StrEnum):
    """Overall recruitment status as ClinicalTrials.gov API v2 names it, plus UNKNOWN."""

    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"
    AVAILABLE = "AVAILABLE"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING"
    WITHHELD = "WITHHELD"
    UNKNOWN = "UNKNOWN"

    @property
    def is_open(self) -> bool:
        """True when the trial is (or soon will be) taking patients."""
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset(
    {
        TrialStatus.RECRUITING,
        TrialStatus.NOT_YET_RECRUITING,
        TrialStatus.ENROLLING_BY_INVITATION,
        TrialStatus.AVAILABLE,
    }
)


class CriterionOutcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NOT_ENOUGH_INFORMATION = "not_enough_information"


class Verdict(StrEnum):
    """Overall answer for one trial; the order is the order of plausibility."""

    ELIGIBLE_ON_KNOWN_DATA = "eligible_on_known_data"
    POSSIBLE_PENDING = "possible_pending"
    EXCLUDED = "excluded"

    @property
    def label(self) -> str:
        return _VERDICT_LABELS[self]


_VERDICT_LABELS = {
    Verdict.ELIGIBLE_ON_KNOWN_DATA: "eligible on known data",
    Verdict.POSSIBLE_PENDING: "possible, pending",
    Verdict.EXCLUDED: "excluded",
}


# --- criteria ---------------------------------------------------------------------------------


class AgeRange(_Strict):
    """Age limits in completed years on the day of matching.

    ``max_inclusive`` true means "up to and including ``max_years``" (e.g. "<= 21 years": a
    patient aged 21 and 300 days is in); false means "younger than ``max_years``".
    """

    min_years: Annotated[int, Field(ge=0, le=120)] | None = None
    max_years: Annotated[int, Field(ge=0, le=120)] | None = None
    max_inclusive: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min_years is None and self.max_years is None:
            raise ValueError("age: give min_years, max_years or both")
        both = self.min_years is not None and self.max_years is not None
        if both and self.max_years < self.min_years:  # type: ignore[operator]
            raise ValueError("age: max_years is below min_years")
        return self


class Biomarker(_Strict):
    """A tumour alteration a trial requires or excludes."""

    gene: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9.\-]*$")]
    alteration: AlterationKind
    note: str | None = None


class Threshold(_Strict):
    """A laboratory bound; ``inclusive`` says whether the bound value itself passes."""

    value: float
    inclusive: bool = True


class OrganFunctionLimits(_Strict):
    """Organ-function thresholds, one per field of ``current.organ_function``."""

    min_absolute_neutrophil_count_per_ul: Threshold | None = None
    min_platelets_per_ul: Threshold | None = None
    max_bilirubin_x_uln: Threshold | None = None
    max_alt_x_uln: Threshold | None = None
    min_creatinine_clearance_ml_min_1_73m2: Threshold | None = None
    min_lvef_percent: Threshold | None = None
    min_shortening_fraction_percent: Threshold | None = None


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a criterion value (lists and frozen models by content)."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, BaseModel):
        return (type(value).__name__, tuple(_freeze(v) for v in value.__dict__.values()))
    return value


#: Distinct criterion values seen so far, each numbered once.  Equal values share a number,
#: so a matcher can cache one answer per number; an int hashes far faster than the nested
#: tuple it stands for.  Grows only with the number of *distinct* criterion values loaded.
_VALUE_NUMBERS: dict[Any, int] = {}


def criterion_value_number(key: str, value: Any) -> int | None:
    """A process-wide number for (criterion key, value); None when the value is unhashable."""
    frozen = (key, _freeze(value))
    try:
        number = _VALUE_NUMBERS.get(frozen)
    except TypeError:
        return None
    if number is None:
        number = _VALUE_NUMBERS.setdefault(frozen, len(_VALUE_NUMBERS))
    return number


class EligibilityCriteria(_Strict):
    """Structured eligibility.  Each key left out means the trial sets no such limit."""

    age: AgeRange | None = None
    sexes: list[Sex] | None = None
    histologies: list[Histology] | None = Field(
        default=None, description="The patient's histology must be one of these."
    )
    excluded_histologies: list[Histology] | None = None
    fusion_statuses: list[FusionStatus] | None = Field(
        default=None, description="The FOXO1 fusion status must be one of these."
    )
    disease_settings: list[DiseaseSetting] | None = None
    measurable_disease_required: bool | None = None
    required_biomarkers: list[Biomarker] | None = None
    excluded_biomarkers: list[Biomarker] | None = None
    min_prior_regimens: Annotated[int, Field(ge=0, le=20)] | None = None
    max_prior_regimens: Annotated[int, Field(ge=0, le=20)] | None = None
    required_prior_agents: list[ChemotherapyAgent] | None = None
    excluded_prior_agents: list[ChemotherapyAgent] | None = None
    prior_car_t_excluded: bool | None = None
    excluded_prior_radiotherapy_regions: list[BodyRegion] | None = None
    min_performance_score: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="Lansky (<16 years) or Karnofsky score, at least this."
    )
    organ_function: OrganFunctionLimits | None = None
    min_days_since_last_therapy: Annotated[int, Field(ge=0, le=3650)] | None = None
    free_text: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Criteria that cannot be structured; always shown as needs review.",
    )

    #: (key, value, value number) for every criterion set, in declaration order; built once
    #: per criteria object so that matching thousands of trials stays cheap.
    _plan: tuple[tuple[str, Any, Any], ...] = PrivateAttr(default=())

    def model_post_init(self, __context: Any) -> None:
        plan = []
        for key, value in self.__dict__.items():
            if value is None or key == "free_text" or (isinstance(value, list) and not value):
                continue
            plan.append((key, value, criterion_value_number(key, value)))
        self._plan = tuple(plan)

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> EligibilityCriteria:
        """A copy whose plan follows the updated values (pydantic copies private state as is)."""
        copied = super().model_copy(update=update, deep=deep)
        copied.model_post_init(None)
        return copied

    @property
    def plan(self) -> tuple[tuple[str, Any, Any], ...]:
        """The criteria set on this trial as (key, value, value number), in declared order."""
        return self._plan

    @model_validator(mode="after")
    def _coherent(self) -> EligibilityCriteria:
        if (
            self.min_prior_regimens is not None
            and self.max_prior_regimens is not None
            and self.max_prior_regimens < self.min_prior_regimens
        ):
            raise ValueError("max_prior_regimens: below min_prior_regimens")
        if self.histologies and self.excluded_histologies:
            both = set(self.histologies) & set(self.excluded_histologies)
            if both:
                raise ValueError(f"excluded_histologies: also required: {sorted(both)}")
        return self


#: The criterion keys in the order the matcher reports them.
CRITERION_KEYS: tuple[str, ...] = tuple(
    k for k in EligibilityCriteria.model_fields if k != "free_text"
)


# --- registry dates and sites -------------------------------------------------------------------


def _date_text(value: Any) -> Any:
    """A date written in YAML (parsed as a date) back to its ISO text; text as given."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


#: A registry date at the precision the registry gives: "2024-02" (month) or "2024-02-15".
#: A month-only date stays a month; it is never widened to the first day.
RegistryDate = Annotated[
    str,
    BeforeValidator(_date_text),
    Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"),
]


def date_span(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day a registry date may mean ("2024-02" -> 1 to 29 February 2024)."""
    if len(text) == 7:
        first = dt.date.fromisoformat(text + "-01")
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return first, following - dt.timedelta(days=1)
    day = dt.date.fromisoformat(text)
    return day, day


class DateType(StrEnum):
    """Whether a registry date has happened (ACTUAL) or is planned (ESTIMATED)."""

    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"


class StudyType(StrEnum):
    """``designModule.studyType`` of ClinicalTrials.gov API v2."""

    INTERVENTIONAL = "INTERVENTIONAL"
    OBSERVATIONAL = "OBSERVATIONAL"
    EXPANDED_ACCESS = "EXPANDED_ACCESS"


class PrimaryPurpose(StrEnum):
    """``designModule.designInfo.primaryPurpose`` of ClinicalTrials.gov API v2."""

    TREATMENT = "TREATMENT"
    PREVENTION = "PREVENTION"
    DIAGNOSTIC = "DIAGNOSTIC"
    ECT = "ECT"
    SUPPORTIVE_CARE = "SUPPORTIVE_CARE"
    SCREENING = "SCREENING"
    HEALTH_SERVICES_RESEARCH = "HEALTH_SERVICES_RESEARCH"
    BASIC_SCIENCE = "BASIC_SCIENCE"
    DEVICE_FEASIBILITY = "DEVICE_FEASIBILITY"
    OTHER = "OTHER"


class SiteContact(_Strict):
    """A contact the registry lists publicly for a site (as given; nothing inferred)."""

    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class TrialSite(_Strict):
    """One site of a trial: where it is and whether it recruits, as the registry lists it."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: TrialStatus | None = Field(default=None, description="The site's recruitment status.")
    contacts: list[SiteContact] = Field(default_factory=list)


# --- trials -----------------------------------------------------------------------------------


class Trial(_Strict):
    """One registered trial with its structured criteria and where each fact came from."""

    registry_id: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")]
    title: Annotated[str, Field(min_length=3)]
    acronym: str | None = None
    sponsor: str | None = None
    phases: list[TrialPhase] = Field(default_factory=list)
    status: TrialStatus
    status_as_of: RegistryDate | None = Field(
        default=None, description="The date the status was read or verified in the source."
    )
    start_date: RegistryDate | None = Field(
        default=None, description="When the trial opened (ACTUAL) or plans to (ESTIMATED)."
    )
    start_date_type: DateType | None = None
    completion_date: RegistryDate | None = None
    completion_date_type: DateType | None = None
    why_stopped: str | None = None
    study_type: StudyType | None = None
    primary_purpose: PrimaryPurpose | None = None
    countries: list[str] | None = Field(
        default=None, description="Countries with sites; None when not verified."
    )
    sites: list[TrialSite] | None = Field(
        default=None, description="Sites as the registry lists them; None when not read."
    )
    conditions: list[str] = Field(default_factory=list)
    criteria: EligibilityCriteria = Field(default_factory=EligibilityCriteria)
    citations: list[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]] = Field(default_factory=list)
    provenance: str | None = Field(
        default=None, description="Where the facts were read (pages, dates), in plain words."
    )
    last_reviewed: dt.date | None = None
    url: str | None = None

    @property
    def phase_label(self) -> str:
        """E.g. "phase 1/2", "early phase 1", "phase not stated"."""
        return phase_words(tuple(self.phases))


@lru_cache(maxsize=256)
def phase_words(phases: tuple[TrialPhase, ...]) -> str:
    """The words for a list of phases (knowledge only: made once per list)."""
    if not phases:
        return "phase not stated"
    if phases == (TrialPhase.NA,):
        return "phase not applicable"
    numbers = [p.value.removeprefix("EARLY_").removeprefix("PHASE") for p in phases]
    early = "early " if TrialPhase.EARLY_PHASE1 in phases else ""
    return f"{early}phase " + "/".join(n for n in numbers if n != "NA")


# --- results ----------------------------------------------------------------------------------

_Built = TypeVar("_Built", bound=BaseModel)


class Evidence(_Strict):
    """Which case field was read, and the value found there (None = not recorded)."""

    field: str
    value: str | int | float | bool | list[str] | None


class CriterionResult(_Strict):
    criterion: str
    requirement: str = Field(description="What the trial asks, in words.")
    outcome: CriterionOutcome
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list, description="Case fields that would decide.")


_new_instance = object.__new__
_set_dict = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _trusted(cls: type[_Built], values: dict[str, Any]) -> _Built:
    """``cls.model_construct(**values)`` for values that name every field and were built by
    this package: the same instance state, without pydantic's per-field alias and default
    look-ups, which cost several times the object itself (a test checks the two agree)."""
    instance = _new_instance(cls)
    _set_dict(instance, "__dict__", values)
    _set_fields_set(instance, set(values))
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance


def trusted_evidence(field: str, value: str | int | float | bool | list[str] | None) -> Evidence:
    """Evidence built by the matcher (not parsed from input), so not validated again."""
    return _trusted(Evidence, {"field": field, "value": value})


def trusted_result(
    criterion: str,
    requirement: str,
    outcome: CriterionOutcome,
    reason: str,
    evidence: list[Evidence],
    needs: list[str],
) -> CriterionResult:
    """A criterion result built by the matcher (not parsed from input), so not validated
    again: matching 10,000 trials must stay well under 100 ms."""
    return _trusted(
        CriterionResult,
        {
            "criterion": criterion,
            "requirement": requirement,
            "outcome": outcome,
            "reason": reason,
            "evidence": evidence,
            "needs": needs,
        },
    )


_Item = TypeVar("_Item")


class FrozenList(list[_Item]):
    """A list that refuses every change.

    A result kept once per process and handed to every caller (a registry check) holds its
    evidence, needs and list values in these, so that no caller can change what the next one
    receives, and nothing has to be copied per caller.  It reads, compares and serialises as
    the list it is; a copy (``copy.copy``, ``deepcopy``, ``model_copy(deep=True)``, pickling)
    is an ordinary list the caller owns.
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("this list is shared by every caller and cannot be changed; copy it")

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> tuple[type[list[_Item]], tuple[list[_Item]]]:
        return list, (list(self),)

    def __reduce_ex__(
        self, protocol: SupportsIndex
    ) -> tuple[type[list[_Item]], tuple[list[_Item]]]:
        return self.__reduce__()


def frozen_evidence(field: str, value: str | int | float | bool | list[str] | None) -> Evidence:
    """Evidence that no caller can change (a list value is frozen): for shared results."""
    if isinstance(value, list):
        value = FrozenList(value)
    return _trusted(Evidence, {"field": field, "value": value})


def frozen_result(
    criterion: str,
    requirement: str,
    outcome: CriterionOutcome,
    reason: str,
    evidence: list[Evidence],
    needs: list[str],
) -> CriterionResult:
    """A result that no caller can change, so one object may serve every caller: frozen
    fields, frozen lists, and evidence that must already be frozen (``frozen_evidence``)."""
    return trusted_result(
        criterion, requirement, outcome, reason, FrozenList(evidence), FrozenList(needs)
    )


@dataclass(slots=True)
class TrialMatch:
    """The match of one case against one trial.

    A plain dataclass rather than a pydantic model: a match is built by the matcher (never
    parsed from input) and building 10,000 of them must be cheap.  Treat it as read-only.
    """

    trial: Trial
    verdict: Verdict
    criteria: list[CriterionResult]
    pending_count: int
    """Structured criteria without enough information."""
    needs_review: list[str]
    """Free-text criteria the team must check by hand."""
    needs: list[str] = field(default_factory=list)
    """Case fields that would decide the pending criteria."""
    unmet_count: int = 0
    registry_checks: list[CriterionResult] = field(default_factory=list)
    """What the registry record decides before any criterion: conditions, recruitment on the
    day judged, study purpose, and (when asked) a site in a country; counted in the verdict."""

    @property
    def unmet(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.outcome is CriterionOutcome.NOT_MET]

    @property
    def pending(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.outcome is CriterionOutcome.NOT_ENOUGH_INFORMATION]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary: the trial's identity, the verdict and every criterion."""
        t = self.trial
        return {
            "registry_id": t.registry_id,
            "acronym": t.acronym,
            "title": t.title,
            "phases": [p.value for p in t.phases],
            "status": t.status.value,
            "status_as_of": t.status_as_of,
            "start_date": t.start_date,
            "start_date_type": t.start_date_type.value if t.start_date_type else None,
            "countries": t.countries,
            "sites": (
                [s.model_dump(mode="json", exclude_none=True) for s in t.sites]
                if t.sites is not None
                else None
            ),
            "verdict": self.verdict.value,
            "registry_checks": [r.model_dump(mode="json") for r in self.registry_checks],
            "pending_count": self.pending_count,
            "unmet_count": self.unmet_count,
            "needs": self.needs,
            "criteria": [r.model_dump(mode="json") for r in self.criteria],
            "needs_review": self.needs_review,
            "citations": t.citations,
            "url": t.url,
        }
