"""Typed results: what every rule returns and what an assessment is made of.

A ``Finding`` answers one question about the case (its stage, its relapse timing, its Oberlin
score).  A ``Recommendation`` says what the team might do, and why.  Both carry the rule that
produced them, the inputs they used, a one-line reason and citation keys that resolve in the
sources registry (``rhabdo.knowledge``).  An ``Assessment`` gathers them with provenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

JsonValue = Any


class FindingStatus(StrEnum):
    DETERMINED = "determined"
    INDETERMINATE = "indeterminate"
    NOT_APPLICABLE = "not_applicable"


class SourceView(BaseModel):
    """What one source says about this patient when sources disagree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    citation: str
    value: JsonValue
    reason: str


class Finding(BaseModel):
    """One answer about the case, with its basis.

    ``value`` is set only when ``status`` is determined.  When indeterminate, ``candidates``
    lists the values still possible and ``needs`` the case fields that would decide.
    ``details`` holds structured extras (factors present, published figures) that renderers
    may show; ``source_views`` lists the answer of each source where sources disagree.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    status: FindingStatus
    value: JsonValue = None
    candidates: list[JsonValue] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    reason: str
    rule: str
    citations: list[str] = Field(default_factory=list)
    inputs_used: list[str] = Field(default_factory=list)
    details: dict[str, JsonValue] = Field(default_factory=dict)
    source_views: list[SourceView] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> Finding:
        if self.status is FindingStatus.DETERMINED and self.value is None:
            raise ValueError(f"{self.id}: a determined finding needs a value")
        if self.status is FindingStatus.INDETERMINATE:
            if self.value is not None:
                raise ValueError(f"{self.id}: an indeterminate finding has no value")
            if not self.needs:
                raise ValueError(f"{self.id}: an indeterminate finding must say what it needs")
        if not self.reason.strip():
            raise ValueError(f"{self.id}: every finding needs a reason")
        return self

    @property
    def is_determined(self) -> bool:
        return self.status is FindingStatus.DETERMINED


def determined(
    id: str,
    value: JsonValue,
    *,
    reason: str,
    rule: str,
    citations: list[str],
    needs: Iterable[str] = (),
    inputs_used: list[str] | None = None,
    details: dict[str, JsonValue] | None = None,
    source_views: list[SourceView] | None = None,
) -> Finding:
    """A decided value; ``needs`` are the fields that would settle a detail below it (a
    subgroup, a subset)."""
    return Finding(
        id=id,
        status=FindingStatus.DETERMINED,
        value=value,
        needs=sorted(set(needs)),
        reason=reason,
        rule=rule,
        citations=citations,
        inputs_used=inputs_used or [],
        details=details or {},
        source_views=source_views or [],
    )


def indeterminate(
    id: str,
    *,
    candidates: list[JsonValue],
    needs: list[str],
    reason: str,
    rule: str,
    citations: list[str],
    inputs_used: list[str] | None = None,
    details: dict[str, JsonValue] | None = None,
    source_views: list[SourceView] | None = None,
) -> Finding:
    return Finding(
        id=id,
        status=FindingStatus.INDETERMINATE,
        candidates=candidates,
        needs=sorted(set(needs)),
        reason=reason,
        rule=rule,
        citations=citations,
        inputs_used=inputs_used or [],
        details=details or {},
        source_views=source_views or [],
    )


def not_applicable(
    id: str,
    *,
    reason: str,
    rule: str,
    citations: list[str] | None = None,
    inputs_used: list[str] | None = None,
    details: dict[str, JsonValue] | None = None,
) -> Finding:
    return Finding(
        id=id,
        status=FindingStatus.NOT_APPLICABLE,
        reason=reason,
        rule=rule,
        citations=citations or [],
        inputs_used=inputs_used or [],
        details=details or {},
    )


class RecommendationCategory(StrEnum):
    """The categories of the seed papers, in the order a tumour board works through them."""

    RISK_REVIEW = "risk_review"
    WORK_UP = "work_up"
    BIOPSY = "biopsy"
    LOCAL_THERAPY = "local_therapy"
    SYSTEMIC_THERAPY = "systemic_therapy"
    MOLECULAR_TESTING = "molecular_testing"
    CLINICAL_TRIALS = "clinical_trials"
    PALLIATIVE_CARE = "palliative_care"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    RecommendationCategory.RISK_REVIEW: "Risk review",
    RecommendationCategory.WORK_UP: "Work-up of the recurrence",
    RecommendationCategory.BIOPSY: "Biopsy",
    RecommendationCategory.LOCAL_THERAPY: "Local therapy",
    RecommendationCategory.SYSTEMIC_THERAPY: "Systemic therapy",
    RecommendationCategory.MOLECULAR_TESTING: "Molecular testing",
    RecommendationCategory.CLINICAL_TRIALS: "Clinical trials",
    RecommendationCategory.PALLIATIVE_CARE: "Palliative care and quality of life",
}


class Strength(StrEnum):
    RECOMMENDED = "recommended"
    CONSIDER = "consider"
    CAUTION = "caution"
    AVOID = "avoid"


class EvidenceGap(BaseModel):
    """Something the evidence does not settle, stated plainly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    statement: str
    knowledge_entry: str | None = None


class DoseStatus(StrEnum):
    """How far this patient's dose could be worked out.

    ``computed``: from the protocol figure and the current weight or body-surface area;
    ``capped``: computed, then limited to the protocol's maximum single dose;
    ``indeterminate``: a field it needs is missing (``needs`` names it);
    ``not_computed``: deliberately not computed (an infant or a child under 10 kg, whose
    protocol rule applies; or a source that gives no dose)."""

    COMPUTED = "computed"
    CAPPED = "capped"
    INDETERMINATE = "indeterminate"
    NOT_COMPUTED = "not_computed"


class GateStatus(StrEnum):
    """An organ-function value against the range an agent was studied in."""

    WITHIN = "within"
    CAUTION = "caution"
    AVOID = "avoid"
    UNKNOWN = "unknown"
    NO_VERIFIED_THRESHOLD = "no_verified_threshold"


class DoseRuleApplied(BaseModel):
    """A dosing rule shown beside a dose: a cap, a small-child rule, supportive care."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    text: str
    evidence_status: str
    citations: list[str] = Field(default_factory=list)


class OrganGateResult(BaseModel):
    """One organ-function check of one agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    organ: str
    field: str
    value: float | None
    studied_range: str | None
    status: GateStatus
    reason: str
    evidence_status: str
    citations: list[str] = Field(default_factory=list)


class PatientDose(BaseModel):
    """One agent of a regimen, dosed for this patient (per administration), with its basis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    regimen: str
    agent: str
    protocol_dose: float | None
    protocol_unit: str | None
    schedule: str
    status: DoseStatus
    dose_mg: float | None = None
    uncapped_dose_mg: float | None = None
    text: str
    needs: list[str] = Field(default_factory=list)
    rules: list[DoseRuleApplied] = Field(default_factory=list)
    gates: list[OrganGateResult] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    category: RecommendationCategory
    statement: str
    strength: Strength
    reason: str
    rule: str
    citations: list[str]
    based_on_findings: list[str] = Field(default_factory=list)
    inputs_used: list[str] = Field(default_factory=list)
    evidence_gaps: list[EvidenceGap] = Field(default_factory=list)
    details: dict[str, JsonValue] = Field(default_factory=dict)
    doses: list[PatientDose] = Field(
        default_factory=list,
        description="Systemic therapy: each agent dosed for this patient (rhabdo.exposure.dosing).",
    )
    supportive_care: list[DoseRuleApplied] = Field(
        default_factory=list, description="Supportive care that belongs to the regimen's source."
    )

    @model_validator(mode="after")
    def _has_basis(self) -> Recommendation:
        if not self.reason.strip():
            raise ValueError(f"{self.id}: every recommendation needs a reason")
        if not self.citations:
            raise ValueError(f"{self.id}: every recommendation needs at least one citation")
        return self


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine_version: str
    knowledge_version: str
    assessed_on: str = Field(description="ISO date the assessment was produced.")
    rules: list[str] = Field(default_factory=list)


class MissingInput(BaseModel):
    """A case field that, if known, would decide something still open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    would_decide: list[str]


class WarningSeverity(StrEnum):
    """How a warning reads: ``caution`` for a value that is possible but very unlikely (check
    it), ``attention`` for a condition that changes how everything below it reads (histology
    of the recurrence not confirmed), ``emergency`` for a recorded condition that must be acted
    on now, before any tumour board (spinal cord compression).  Impossible input never gets
    here: it is refused."""

    CAUTION = "caution"
    ATTENTION = "attention"
    EMERGENCY = "emergency"


class InputWarning(BaseModel):
    """Something about the case a reader must see before believing the rest: an implausible
    but possible value, an unconfirmed histology.  Shown at the top of every rendering."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    message: str
    severity: WarningSeverity = WarningSeverity.CAUTION
    fields: list[str] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    warnings: list[InputWarning] = Field(default_factory=list)
    findings: dict[str, Finding]
    recommendations: list[Recommendation] = Field(default_factory=list)
    missing_inputs: list[MissingInput] = Field(default_factory=list)
    evidence_gaps: list[EvidenceGap] = Field(default_factory=list)
    provenance: Provenance

    def finding(self, finding_id: str) -> Finding:
        return self.findings[finding_id]

    def citation_keys(self) -> list[str]:
        """Every citation key used, in order of first appearance (for numbered references)."""
        seen: dict[str, None] = {}
        for f in self.findings.values():
            for key in f.citations:
                seen.setdefault(key, None)
            for view in f.source_views:
                seen.setdefault(view.citation, None)
        for r in self.recommendations:
            for key in r.citations:
                seen.setdefault(key, None)
            for d in r.doses:
                for key in d.citations:
                    seen.setdefault(key, None)
            for s in r.supportive_care:
                for key in s.citations:
                    seen.setdefault(key, None)
        return list(seen)
