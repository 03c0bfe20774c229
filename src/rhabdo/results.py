"""Typed results: what every rule returns and what an assessment is made of.

A ``Finding`` answers one question about the case (its stage, its relapse timing, its Oberlin
score).  A ``Recommendation`` says what the team might do, and why.  Both carry the rule that
produced them, the inputs they used, a one-line reason and citation keys that resolve in the
sources registry (``rhabdo.knowledge``).  An ``Assessment`` gathers them with provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

JsonValue = Any

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
# pydantic's instance slots, set through their descriptors (no attribute-name look-up)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _instance(model: type[M], values: dict[str, Any], given: set[str]) -> M:
    """An instance of ``model`` holding ``values`` (every field, in declaration order) as
    they are: what pydantic's own ``model_construct`` ends with, without its per-field loop."""
    m = _new(model)
    _set_dict(m, values)
    _set_fields_set(m, given)
    _set_extra(m, None)
    _set_private(m, None)
    return m


@dataclass(frozen=True)
class _Shape:
    """What ``trusted`` needs to know of a model: its fields in declaration order with their
    plain defaults, the fields with a default factory, and the required fields."""

    defaults: dict[str, Any]  # every field; for a factory or required field, overwritten on build
    factories: dict[str, Callable[[], Any]]
    required: frozenset[str]


_SHAPES: dict[type[BaseModel], _Shape] = {}


def _shape(model: type[BaseModel]) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is not None:
        return shape
    if model.__pydantic_post_init__ or model.__private_attributes__:
        raise TypeError(f"{model.__name__} needs pydantic's own construction")
    if model.model_config.get("extra") == "allow":
        raise TypeError(f"{model.__name__} accepts extra fields")
    fields = model.model_fields
    shape = _Shape(
        defaults={name: f.default for name, f in fields.items()},
        factories={
            name: f.default_factory  # type: ignore[misc]
            for name, f in fields.items()
            if f.default_factory is not None
        },
        required=frozenset(name for name, f in fields.items() if f.is_required()),
    )
    _SHAPES[model] = shape
    return shape


def trusted(model: type[M], /, **fields: Any) -> M:
    """``model`` built from values rhabdo has already typed, without validating them again.

    Validation belongs at the edges, where a case, a request or a knowledge file comes in;
    the results the rules assemble from that typed data are checked by mypy, and validating
    them again cost a sixth of an assessment.  So every value given must already have its
    field's type (an enum member, not its string; a float, not an int, for a float field; a
    list, not a tuple) and must be the result's own (a fresh list or dict, not one a caller
    still holds).  Fields not given take their default, an unknown or missing field is a
    ``TypeError``, and a result that breaks its model's invariant (a determined finding
    without a value, a recommendation without a citation) is handed to the validating
    constructor, which raises the usual ``ValidationError``.
    """
    shape = _shape(model)
    values = shape.defaults.copy()  # declaration order, which the JSON output follows
    values.update(fields)
    if len(values) != len(shape.defaults):
        raise TypeError(
            f"{model.__name__}: unknown fields {sorted(set(values) - set(shape.defaults))}"
        )
    if not shape.required <= fields.keys():
        raise TypeError(f"{model.__name__}: {sorted(shape.required - fields.keys())} required")
    for name in shape.factories.keys() - fields.keys():
        values[name] = shape.factories[name]()
    return _checked(model, values, fields)


def _checked(model: type[M], values: dict[str, Any], fields: dict[str, Any]) -> M:
    """The instance, or (when it breaks its model's invariant) the validating constructor's
    ``ValidationError``."""
    m = _instance(model, values, set(fields))
    problem = _INVARIANTS.get(model)
    if problem is not None and problem(m) is not None:
        return model(**fields)
    return m


class _Result(BaseModel):
    """A result type: immutable, no unknown keys, and copied without pydantic's detour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """As pydantic's: a shallow copy with ``update`` applied unvalidated (deep copies are
        left to pydantic)."""
        if deep:
            return super().model_copy(update=update, deep=True)
        values = self.__dict__.copy()
        given = self.__pydantic_fields_set__.copy()
        if update:
            values.update(update)
            given.update(update)
        return _instance(type(self), values, given)


class FindingStatus(StrEnum):
    DETERMINED = "determined"
    INDETERMINATE = "indeterminate"
    NOT_APPLICABLE = "not_applicable"


class SourceView(_Result):
    """What one source says about this patient when sources disagree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    citation: str
    value: JsonValue
    reason: str


class Finding(_Result):
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
        problem = _finding_problem(self)
        if problem is not None:
            raise ValueError(problem)
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
    return _finding(
        value is not None and not _blank(reason),
        {
            "id": id,
            "status": FindingStatus.DETERMINED,
            "value": value,
            "candidates": [],
            "needs": sorted(set(needs)) if needs else [],
            "reason": reason,
            "rule": rule,
            "citations": list(citations),
            "inputs_used": list(inputs_used) if inputs_used else [],
            "details": dict(details) if details else {},
            "source_views": list(source_views) if source_views else [],
        },
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
    return _finding(
        bool(needs) and not _blank(reason),
        {
            "id": id,
            "status": FindingStatus.INDETERMINATE,
            "value": None,
            "candidates": list(candidates),
            "needs": sorted(set(needs)),
            "reason": reason,
            "rule": rule,
            "citations": list(citations),
            "inputs_used": list(inputs_used) if inputs_used else [],
            "details": dict(details) if details else {},
            "source_views": list(source_views) if source_views else [],
        },
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
    return _finding(
        not _blank(reason),
        {
            "id": id,
            "status": FindingStatus.NOT_APPLICABLE,
            "value": None,
            "candidates": [],
            "needs": [],
            "reason": reason,
            "rule": rule,
            "citations": list(citations) if citations else [],
            "inputs_used": list(inputs_used) if inputs_used else [],
            "details": dict(details) if details else {},
            "source_views": [],
        },
    )


def _finding(coherent: bool, values: dict[str, Any]) -> Finding:
    """A finding from the builders above: every field, in declaration order, each the
    finding's own copy (what validation made), so ``Finding`` need not validate them again.
    ``coherent``: the builder checked its own fields against ``_finding_problem``."""
    if not coherent:
        return Finding(**values)  # raises the ValidationError that names the problem
    return _instance(Finding, values, _FINDING_FIELDS.copy())


def _blank(text: str) -> bool:
    """Whether ``text`` is empty or only white space (``not text.strip()``, without a copy)."""
    return not text or text.isspace()


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


class EvidenceGap(_Result):
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


class DoseRuleApplied(_Result):
    """A dosing rule shown beside a dose: a cap, a small-child rule, supportive care."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    text: str
    evidence_status: str
    citations: list[str] = Field(default_factory=list)


class OrganGateResult(_Result):
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


class PatientDose(_Result):
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


class Recommendation(_Result):
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
        problem = _recommendation_problem(self)
        if problem is not None:
            raise ValueError(problem)
        return self


def _finding_problem(f: Finding) -> str | None:
    """What makes a finding incoherent, if anything."""
    if f.status is FindingStatus.DETERMINED and f.value is None:
        return f"{f.id}: a determined finding needs a value"
    if f.status is FindingStatus.INDETERMINATE:
        if f.value is not None:
            return f"{f.id}: an indeterminate finding has no value"
        if not f.needs:
            return f"{f.id}: an indeterminate finding must say what it needs"
    if _blank(f.reason):
        return f"{f.id}: every finding needs a reason"
    return None


def _recommendation_problem(r: Recommendation) -> str | None:
    """What leaves a recommendation without a basis, if anything."""
    if _blank(r.reason):
        return f"{r.id}: every recommendation needs a reason"
    if not r.citations:
        return f"{r.id}: every recommendation needs at least one citation"
    return None


_FINDING_FIELDS = set(Finding.model_fields)
_RECOMMENDATION_FIELDS = set(Recommendation.model_fields)

#: The invariant each result type keeps beyond its field types (checked on trusted results too).
_INVARIANTS: dict[type[BaseModel], Callable[[Any], str | None]] = {
    Finding: _finding_problem,
    Recommendation: _recommendation_problem,
}


def recommendation(
    *,
    id: str,
    category: RecommendationCategory,
    statement: str,
    strength: Strength,
    reason: str,
    rule: str,
    citations: list[str],
    based_on_findings: list[str] | None = None,
    inputs_used: list[str] | None = None,
    evidence_gaps: list[EvidenceGap] | None = None,
    details: dict[str, JsonValue] | None = None,
    doses: list[PatientDose] | None = None,
    supportive_care: list[DoseRuleApplied] | None = None,
) -> Recommendation:
    """A Recommendation from typed parts, each copied (as validation would), without
    validating them again; one without a reason or citation raises ``ValidationError``."""
    values = {
        "id": id,
        "category": category,
        "statement": statement,
        "strength": strength,
        "reason": reason,
        "rule": rule,
        "citations": list(citations),
        "based_on_findings": list(based_on_findings) if based_on_findings else [],
        "inputs_used": list(inputs_used) if inputs_used else [],
        "evidence_gaps": list(evidence_gaps) if evidence_gaps else [],
        "details": dict(details) if details else {},
        "doses": list(doses) if doses else [],
        "supportive_care": list(supportive_care) if supportive_care else [],
    }
    if _blank(reason) or not citations:  # what _recommendation_problem checks
        return Recommendation(**values)  # raises the ValidationError that names the problem
    return _instance(Recommendation, values, _RECOMMENDATION_FIELDS.copy())


class Provenance(_Result):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine_version: str
    knowledge_version: str
    assessed_on: str = Field(description="ISO date the assessment was produced.")
    rules: list[str] = Field(default_factory=list)


class MissingInput(_Result):
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


class InputWarning(_Result):
    """Something about the case a reader must see before believing the rest: an implausible
    but possible value, an unconfirmed histology.  Shown at the top of every rendering."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    message: str
    severity: WarningSeverity = WarningSeverity.CAUTION
    fields: list[str] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)


class Assessment(_Result):
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
