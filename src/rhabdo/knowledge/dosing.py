"""Schema of the per-patient dosing knowledge (``knowledge/data/dosing.yaml``).

One table holds five kinds of rule, each with its source and its evidence status:

* ``max_single_dose`` -- the largest single dose a protocol allows for an agent dosed in one
  unit family (vincristine 1.5 mg/m2, max 2 mg);
* ``small_child`` -- what is known about dosing infants and children under 10 kg;
* ``organ_gate`` -- the organ-function range an agent was studied in (a case field and a
  bound), or, unverified, the organ function the team must check;
* ``supportive_care`` -- supportive care that belongs to an agent or a regimen in its source;
* ``plausible_range`` -- the per-administration range outside which a recorded dose is
  taken for a unit error (an engineering screen, not a dosing limit; its basis says so);
* ``plausible_age`` -- the ages at diagnosis the knowledge base covers (``low``/``high`` in
  years); outside them an input warning is shown;
* ``fertility_preservation`` -- the fertility-preservation method that fits one sex at one
  pubertal status (``sex``, ``pubertal_status``), for the late-effects advice.

Evidence status follows the fact sheets: ``verified`` (read in the source), ``secondary``
(seen only in a review, preprint or derivative page: shown as "requires protocol
confirmation", and a secondary cap is still applied, since a cap errs on the safe side) and
``unverified`` (an evidence gap, never a number).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from rhabdo.case.vocab import ChemotherapyAgent, Sex
from rhabdo.knowledge.base import KnowledgeEntry, Table, load_table
from rhabdo.knowledge.treatment import ThresholdConcern


class DosingKind(StrEnum):
    MAX_SINGLE_DOSE = "max_single_dose"
    SMALL_CHILD = "small_child"
    ORGAN_GATE = "organ_gate"
    SUPPORTIVE_CARE = "supportive_care"
    PLAUSIBLE_RANGE = "plausible_range"
    PLAUSIBLE_AGE = "plausible_age"
    FERTILITY_PRESERVATION = "fertility_preservation"


class EvidenceStatus(StrEnum):
    VERIFIED = "verified"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    EvidenceStatus.VERIFIED: "verified in the source",
    EvidenceStatus.SECONDARY: "secondary source: requires protocol confirmation",
    EvidenceStatus.UNVERIFIED: "not verified: evidence gap",
}


class PubertalStatus(StrEnum):
    """Pubertal status from the Tanner stage (``current.tanner_stage``): stage 1 is
    pre-pubertal and stage 5 adult by the scale's own definition; stages 2-4 are in puberty."""

    PRE_PUBERTAL = "pre_pubertal"
    IN_PUBERTY = "in_puberty"
    POST_PUBERTAL = "post_pubertal"

    @property
    def words(self) -> str:
        return self.value.replace("_", "-").replace("in-", "in ")

    @classmethod
    def from_tanner(cls, stage: int | None) -> PubertalStatus | None:
        """None when the stage is not recorded (never read as pre- or post-pubertal)."""
        if stage is None:
            return None
        if stage <= 1:
            return cls.PRE_PUBERTAL
        if stage >= 5:
            return cls.POST_PUBERTAL
        return cls.IN_PUBERTY


class UnitFamily(StrEnum):
    """How a dose scales: per body-surface area, per kilogram, or flat."""

    PER_M2 = "per_m2"
    PER_KG = "per_kg"
    FLAT = "flat"


class Organ(StrEnum):
    RENAL = "renal"
    HEPATIC = "hepatic"
    CARDIAC = "cardiac"


class OrganField(StrEnum):
    """Fields of ``current.organ_function`` that a gate can read."""

    CREATININE_CLEARANCE = "creatinine_clearance_ml_min_1_73m2"
    BILIRUBIN = "bilirubin_x_uln"
    ALT = "alt_x_uln"
    LVEF = "lvef_percent"
    SHORTENING_FRACTION = "shortening_fraction_percent"


class DosingEntry(KnowledgeEntry):
    kind: DosingKind
    evidence_status: EvidenceStatus
    agents: list[ChemotherapyAgent] = Field(default_factory=list)
    regimens: list[str] = Field(
        default_factory=list, description="Regimen ids the rule belongs to (empty: any regimen)."
    )
    unit_family: UnitFamily | None = Field(
        default=None,
        description="max_single_dose: the dosing the cap belongs to (none: any); "
        "plausible_range: the family low/high are stated in.",
    )
    max_mg: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="max_single_dose: the largest single dose, mg."
    )
    organ: Organ | None = None
    field: OrganField | None = None
    at_least: float | None = Field(default=None, description="organ_gate: studied range >= this.")
    at_most: float | None = Field(default=None, description="organ_gate: studied range <= this.")
    strictly: bool = Field(default=False, description="organ_gate: the bound itself is outside.")
    concern: ThresholdConcern = ThresholdConcern.CAUTION
    below_weight_kg: Annotated[float, Field(gt=0)] | None = None
    below_age_months: Annotated[int, Field(gt=0)] | None = None
    low: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="plausible_range: lowest plausible dose per administration "
        "(mg/m2, mg/kg or mg by unit_family).",
    )
    high: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="plausible_range: highest plausible dose per administration."
    )
    sex: Sex | None = Field(default=None, description="fertility_preservation: male or female.")
    pubertal_status: PubertalStatus | None = Field(
        default=None, description="fertility_preservation: the pubertal status it fits."
    )
    text: str = Field(description="What the rule says, in the source's terms.")

    @model_validator(mode="after")
    def _coherent(self) -> DosingEntry:
        if (self.evidence_status is EvidenceStatus.UNVERIFIED) == self.verified:
            raise ValueError("verified: false exactly when evidence_status is unverified")
        if not self.verified and not self.evidence_gap:
            raise ValueError("evidence_gap: an unverified entry must say what is missing")
        k = self.kind
        if k is DosingKind.MAX_SINGLE_DOSE and (self.max_mg is None or not self.agents):
            raise ValueError("max_mg: a cap needs agents and max_mg")
        if k is DosingKind.ORGAN_GATE:
            if self.organ is None or self.field is None or not self.agents:
                raise ValueError("field: an organ gate needs agents, organ and field")
            if self.verified and self.at_least is None and self.at_most is None:
                raise ValueError("at_least: a verified organ gate needs a bound")
        if k is DosingKind.PLAUSIBLE_RANGE and (
            self.low is None or self.high is None or self.unit_family is None or not self.agents
        ):
            raise ValueError("high: a plausible range needs agents, unit_family, low and high")
        if k is DosingKind.PLAUSIBLE_AGE and (self.low is None or self.high is None):
            raise ValueError("high: a plausible age range needs low and high (years)")
        if k is DosingKind.FERTILITY_PRESERVATION and (
            self.sex not in (Sex.MALE, Sex.FEMALE) or self.pubertal_status is None
        ):
            raise ValueError(
                "sex: a fertility-preservation entry needs sex (male/female) and status"
            )
        return self

    def applies_to(self, agent: ChemotherapyAgent, regimen_id: str | None) -> bool:
        return agent in self.agents and (
            not self.regimens or regimen_id is None or regimen_id in self.regimens
        )

    def within(self, value: float) -> bool:
        """Whether an organ-function ``value`` lies inside the studied range."""
        if self.at_least is not None and (
            value <= self.at_least if self.strictly else value < self.at_least
        ):
            return False
        return not (
            self.at_most is not None
            and (value >= self.at_most if self.strictly else value > self.at_most)
        )

    def bound_text(self) -> str:
        unit = _FIELD_UNITS[self.field] if self.field else ""
        parts = []
        if self.at_least is not None:
            parts.append(f"{'>' if self.strictly else '>='} {self.at_least:g}{unit}")
        if self.at_most is not None:
            parts.append(f"{'<' if self.strictly else '<='} {self.at_most:g}{unit}")
        return " and ".join(parts)


_FIELD_UNITS = {
    OrganField.CREATININE_CLEARANCE: " mL/min/1.73m2",
    OrganField.BILIRUBIN: " x ULN",
    OrganField.ALT: " x ULN",
    OrganField.LVEF: "%",
    OrganField.SHORTENING_FRACTION: "%",
}


def dosing_rules() -> Table[DosingEntry]:
    return load_table("dosing.yaml", DosingEntry)


def rules_of(kind: DosingKind) -> list[DosingEntry]:
    return [e for e in dosing_rules() if e.kind is kind]
