"""Schemas of the treatment knowledge: regimens, dose thresholds and biomarkers.

The data live in ``knowledge/data/regimens.yaml``, ``dose_thresholds.yaml`` and
``biomarkers.yaml``; the facts come from ``shared/clinical/treatment-and-evidence.md``
(sections 1, 2, 5, 6 and 7), keeping only what was verified in a source.  Where the evidence is
missing the entry says so (``verified: false`` and ``evidence_gap``) instead of carrying a
number.  Loaders here are thin and cached; nothing is read at import time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.knowledge.base import CitationKey, KnowledgeEntry, Table, load_table


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegimenSetting(StrEnum):
    RELAPSE = "relapse"
    FIRST_LINE_METASTATIC = "first_line_metastatic"
    MAINTENANCE = "maintenance"


class EvidenceLevel(StrEnum):
    """Descriptive labels of the design behind a result (not a formal grading system)."""

    PHASE_3_RANDOMISED = "phase_3_randomised"
    PHASE_2_RANDOMISED = "phase_2_randomised"
    PROSPECTIVE_SINGLE_ARM = "prospective_single_arm"
    PHASE_1_2 = "phase_1_2"
    POOLED_ANALYSIS = "pooled_analysis"
    RETROSPECTIVE = "retrospective"
    SYSTEMATIC_REVIEW = "systematic_review"
    CASE_REPORT = "case_report"
    NO_RMS_DATA = "no_rms_data"

    @property
    def rank(self) -> int:
        """Lower is stronger; used to order options by strength of evidence."""
        return list(EvidenceLevel).index(self)

    @property
    def label(self) -> str:
        return _EVIDENCE_LABELS[self]


_EVIDENCE_LABELS = {
    EvidenceLevel.PHASE_3_RANDOMISED: "randomised phase III",
    EvidenceLevel.PHASE_2_RANDOMISED: "randomised phase II",
    EvidenceLevel.PROSPECTIVE_SINGLE_ARM: "prospective single-arm",
    EvidenceLevel.PHASE_1_2: "phase I/II",
    EvidenceLevel.POOLED_ANALYSIS: "pooled analysis",
    EvidenceLevel.RETROSPECTIVE: "retrospective",
    EvidenceLevel.SYSTEMATIC_REVIEW: "systematic review",
    EvidenceLevel.CASE_REPORT: "case report",
    EvidenceLevel.NO_RMS_DATA: "no RMS-specific data",
}


class OutcomeMeasure(StrEnum):
    OBJECTIVE_RESPONSE = "objective_response"
    BEST_RESPONSE = "best_response"
    EFS = "event_free_survival"
    FFS = "failure_free_survival"
    PFS = "progression_free_survival"
    DFS = "disease_free_survival"
    OS = "overall_survival"
    MEDIAN_PFS = "median_progression_free_survival"
    MEDIAN_OS = "median_overall_survival"


class AgentDose(_Part):
    """One agent of a regimen: dose per administration and administrations per cycle."""

    agent: ChemotherapyAgent
    agent_name: str | None = Field(default=None, description="For agents coded 'other'.")
    dose: Annotated[float, Field(gt=0)] | None = None
    dose_unit: DoseUnit | None = None
    schedule: str = Field(description="Days of the cycle, route, in the source's words.")
    administrations_per_cycle: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _unit_with_dose(self) -> AgentDose:
        if self.dose is not None and self.dose_unit is None:
            raise ValueError("dose_unit: required with dose")
        return self

    @property
    def dose_per_cycle_mg_m2(self) -> float | None:
        """Dose per cycle in mg/m2 when the dose is body-surface based, else None."""
        if self.dose is None or self.administrations_per_cycle is None:
            return None
        factor = {DoseUnit.MG_M2: 1.0, DoseUnit.G_M2: 1000.0, DoseUnit.MCG_M2: 0.001}.get(
            self.dose_unit  # type: ignore[arg-type]
        )
        return None if factor is None else self.dose * factor * self.administrations_per_cycle


class Outcome(_Part):
    """One published figure: a measure, the group it applies to, its value and time point."""

    measure: OutcomeMeasure
    group: str = Field(description="Arm or subgroup the figure applies to.")
    percent: Annotated[float, Field(ge=0, le=100)] | None = None
    months: Annotated[float, Field(gt=0)] | None = Field(default=None, description="For medians.")
    time_point_years: Annotated[float, Field(gt=0)] | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: Annotated[int, Field(ge=1)] | None = None
    oberlin_min: Annotated[int, Field(ge=0, le=4)] | None = Field(
        default=None, description="Lowest Oberlin score of the subgroup this figure applies to."
    )
    oberlin_max: Annotated[int, Field(ge=0, le=4)] | None = None
    note: str | None = None
    population_id: str | None = Field(
        default=None,
        description="The population (populations.yaml) this figure describes, when narrower "
        "than its trial's.",
    )

    @model_validator(mode="after")
    def _one_value(self) -> Outcome:
        if (self.percent is None) == (self.months is None):
            raise ValueError("percent: give exactly one of percent or months")
        if (self.oberlin_min is None) != (self.oberlin_max is None):
            raise ValueError("oberlin_max: give both oberlin_min and oberlin_max, or neither")
        if (
            self.oberlin_min is not None
            and self.oberlin_max is not None
            and self.oberlin_min > self.oberlin_max
        ):
            raise ValueError("oberlin_max: must not be below oberlin_min")
        return self

    def applies_to_oberlin(self, score: int) -> bool:
        return (
            self.oberlin_min is not None
            and self.oberlin_max is not None
            and (self.oberlin_min <= score <= self.oberlin_max)
        )

    def text(self) -> str:
        value = f"{self.percent:g}%" if self.percent is not None else f"{self.months:g} months"
        at = f" at {self.time_point_years:g} yr" if self.time_point_years else ""
        ci = (
            f" (95% CI {self.ci_low:g}-{self.ci_high:g})"
            if self.ci_low is not None and self.ci_high is not None
            else ""
        )
        return f"{self.measure.value.replace('_', ' ')}{at} {value}{ci} [{self.group}]"


class TrialResult(_Part):
    """A study that tested a regimen, with what it found."""

    name: str
    registry_id: str | None = None
    design: EvidenceLevel
    population: str
    population_id: str | None = Field(
        default=None,
        description="The population (populations.yaml) the trial's figures describe; required "
        "when it reports outcomes.",
    )
    patients: Annotated[int, Field(ge=1)] | None = None
    outcomes: list[Outcome] = Field(default_factory=list)
    toxicity: str | None = None
    citation: CitationKey
    verified: bool = True
    caveat: str | None = None

    @model_validator(mode="after")
    def _figures_have_a_population(self) -> TrialResult:
        if self.outcomes and self.population_id is None:
            raise ValueError("population_id: required for a trial that reports outcomes")
        return self

    def population_of(self, outcome: Outcome) -> str:
        """The population id ``outcome`` describes (its own, or the trial's)."""
        pid = outcome.population_id or self.population_id
        if pid is None:
            raise ValueError("population_id: required for a trial that reports outcomes")
        return pid


class RegimenEntry(KnowledgeEntry):
    """A systemic regimen and the evidence behind it."""

    name: str
    setting: RegimenSetting
    agents: list[AgentDose] = Field(default_factory=list)
    cycle_length_days: Annotated[int, Field(ge=1)] | None = None
    max_cycles: Annotated[int, Field(ge=1)] | None = None
    evidence_level: EvidenceLevel
    summary: str
    trials: list[TrialResult] = Field(default_factory=list)
    offered_for_relapse: bool = Field(
        default=True, description="False for approaches whose published evidence shows no benefit."
    )
    for_anthracycline_alkylator_naive: bool = Field(
        default=False,
        description="True for salvage meant for patients never given an anthracycline or an "
        "alkylator (the COG ARST0121 favourable group).",
    )

    @property
    def agent_set(self) -> frozenset[ChemotherapyAgent]:
        return frozenset(a.agent for a in self.agents)


class ThresholdKind(StrEnum):
    ANTHRACYCLINE_EQUIVALENCE = "anthracycline_equivalence"
    ANTHRACYCLINE_CARDIAC = "anthracycline_cardiac"
    CHEST_RT_CARDIAC = "chest_rt_cardiac"
    DEXRAZOXANE = "dexrazoxane"
    IFOSFAMIDE_RENAL = "ifosfamide_renal"
    CED_EQUIVALENCE = "ced_equivalence"
    CED_GONADAL = "ced_gonadal"
    CARDIAC_SURVEILLANCE_ANTHRACYCLINE = "cardiac_surveillance_anthracycline"
    CARDIAC_SURVEILLANCE_CHEST_RT = "cardiac_surveillance_chest_rt"


class ThresholdConcern(StrEnum):
    """How much a crossed threshold should weigh on a further exposure."""

    NOTE = "note"
    CAUTION = "caution"
    AVOID = "avoid"


class DoseThresholdEntry(KnowledgeEntry):
    """A conversion factor (``factor``) or a cumulative-dose threshold (``at_least``)."""

    kind: ThresholdKind
    agent: ChemotherapyAgent | None = None
    factor: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Multiply the agent's mg/m2 by this to convert."
    )
    factor_ci: tuple[float, float] | None = None
    at_least: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Threshold reached when the cumulative dose is >= this value."
    )
    strictly_above: bool = Field(
        default=False, description="Reached only when the dose exceeds at_least (source says '>')."
    )
    unit: str = Field(pattern=r"^(mg/m2|g/m2|Gy|ratio)$")
    concern: ThresholdConcern = ThresholdConcern.NOTE
    interval_years: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Surveillance interval from this threshold (cardiac)."
    )
    meaning: str

    @model_validator(mode="after")
    def _value_or_gap(self) -> DoseThresholdEntry:
        if self.verified and self.factor is None and self.at_least is None:
            raise ValueError("factor: a verified entry needs a factor or an at_least threshold")
        if not self.verified and not self.evidence_gap:
            raise ValueError("evidence_gap: an unverified entry must say what is missing")
        return self

    def reached_by(self, value: float) -> bool:
        """Whether a cumulative ``value`` (in this entry's unit) reaches the threshold."""
        if self.at_least is None:
            return False
        return value > self.at_least if self.strictly_above else value >= self.at_least


class TargetedResult(_Part):
    """A targeted option for an alteration and how it did -- negative results included."""

    approach: str
    result: str
    design: EvidenceLevel
    active: bool | None = Field(
        description="True: activity shown; False: no activity; None: no results yet."
    )
    registry_id: str | None = None
    citation: CitationKey


class BiomarkerEntry(KnowledgeEntry):
    alteration: str
    applies_when: list[str] = Field(
        default_factory=list,
        description="Case conditions that make this biomarker relevant, as 'field=value' strings.",
    )
    genes: list[Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9.\-]*$")]] = Field(
        default_factory=list,
        description="HGNC symbols: a detected tumour alteration in one of them makes it relevant.",
    )
    prognosis: str
    targeted: list[TargetedResult] = Field(default_factory=list)


def regimens() -> Table[RegimenEntry]:
    return load_table("regimens.yaml", RegimenEntry)


def dose_thresholds() -> Table[DoseThresholdEntry]:
    return load_table("dose_thresholds.yaml", DoseThresholdEntry)


def biomarkers() -> Table[BiomarkerEntry]:
    return load_table("biomarkers.yaml", BiomarkerEntry)
