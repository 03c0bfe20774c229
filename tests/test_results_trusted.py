"""rhabdo.results: results built from typed data without validating them again.

``trusted`` and the finding builders skip pydantic's validation; these tests pin that what they
build is indistinguishable from the validated result (same values, types, field order, fields
set), that each result owns its lists and dicts, that the model invariants still hold, and that
``model_copy`` on a result behaves as pydantic's.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rhabdo.results import (
    Assessment,
    EvidenceGap,
    Finding,
    FindingStatus,
    MissingInput,
    Provenance,
    Recommendation,
    RecommendationCategory,
    SourceView,
    Strength,
    determined,
    indeterminate,
    not_applicable,
    recommendation,
    trusted,
)

REC: dict[str, Any] = {
    "id": "biopsy.confirm_recurrence",
    "category": RecommendationCategory.BIOPSY,
    "statement": "Biopsy the recurrence.",
    "strength": Strength.RECOMMENDED,
    "reason": "Tissue confirmation.",
    "rule": "recommend.biopsy.v1",
    "citations": ["heske_2021"],
    "evidence_gaps": [EvidenceGap(id="gap.x", statement="Not settled.")],
    "details": {"priority": "high"},
}


def _same(built: Any, validated: Any) -> None:
    assert type(built) is type(validated)
    assert list(built.__dict__) == list(validated.__dict__)  # declaration order: JSON key order
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()
    for name, value in validated.__dict__.items():
        assert type(built.__dict__[name]) is type(value)


def test_trusted_equals_the_validated_model_with_defaults_filled() -> None:
    _same(trusted(Recommendation, **REC), Recommendation(**REC))
    _same(
        trusted(MissingInput, field="a.b", would_decide=["x"]),
        MissingInput(field="a.b", would_decide=["x"]),
    )
    prov = {"engine_version": "1", "knowledge_version": "k", "assessed_on": "2026-01-01"}
    _same(trusted(Provenance, **prov), Provenance(**prov))


def test_trusted_fills_each_default_factory_afresh() -> None:
    a, b = trusted(Recommendation, **REC), trusted(Recommendation, **REC)
    assert a.doses == [] and a.doses is not b.doses
    assert a.based_on_findings is not b.based_on_findings


def test_trusted_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TypeError, match="unknown fields"):
        trusted(MissingInput, field="a", would_decide=[], colour="red")
    with pytest.raises(TypeError, match=r"would_decide.*required"):
        trusted(MissingInput, field="a")


def test_trusted_keeps_the_recommendation_invariant() -> None:
    with pytest.raises(ValidationError, match="needs at least one citation"):
        trusted(Recommendation, **(REC | {"citations": []}))
    with pytest.raises(ValidationError, match="needs a reason"):
        trusted(Recommendation, **(REC | {"reason": " "}))


@pytest.mark.parametrize(
    ("build", "fields"),
    [
        (
            lambda: determined(
                "x",
                3.5,
                reason="r",
                rule="x.v1",
                citations=["a"],
                needs=["b", "a", "b"],
                inputs_used=["p"],
                details={"k": 1},
                source_views=[SourceView(citation="a", value=1, reason="r")],
            ),
            {
                "id": "x",
                "status": FindingStatus.DETERMINED,
                "value": 3.5,
                "needs": ["a", "b"],
                "reason": "r",
                "rule": "x.v1",
                "citations": ["a"],
                "inputs_used": ["p"],
                "details": {"k": 1},
                "source_views": [SourceView(citation="a", value=1, reason="r")],
            },
        ),
        (
            lambda: indeterminate(
                "x", candidates=[1, 2], needs=["b"], reason="r", rule="x.v1", citations=[]
            ),
            {
                "id": "x",
                "status": FindingStatus.INDETERMINATE,
                "candidates": [1, 2],
                "needs": ["b"],
                "reason": "r",
                "rule": "x.v1",
                "citations": [],
            },
        ),
        (
            lambda: not_applicable("x", reason="r", rule="x.v1"),
            {"id": "x", "status": FindingStatus.NOT_APPLICABLE, "reason": "r", "rule": "x.v1"},
        ),
    ],
)
def test_finding_builders_equal_the_validated_finding(build: Any, fields: dict[str, Any]) -> None:
    built = build()
    validated = Finding(**fields)
    assert list(built.__dict__) == list(validated.__dict__)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()


def test_finding_builders_copy_what_the_caller_still_holds() -> None:
    citations, inputs, details, candidates = ["a"], ["p"], {"k": 1}, [1]
    f = determined(
        "x", 1, reason="r", rule="x.v1", citations=citations, inputs_used=inputs, details=details
    )
    g = indeterminate(
        "y", candidates=candidates, needs=["n"], reason="r", rule="x.v1", citations=citations
    )
    citations.append("b")
    inputs.append("q")
    details["k"] = 2
    candidates.append(2)
    assert (f.citations, f.inputs_used, f.details) == (["a"], ["p"], {"k": 1})
    assert (g.citations, g.candidates) == (["a"], [1])


def test_finding_builders_keep_the_finding_invariant() -> None:
    with pytest.raises(ValidationError, match="needs a value"):
        determined("x", None, reason="r", rule="x.v1", citations=[])
    with pytest.raises(ValidationError, match="must say what it needs"):
        indeterminate("x", candidates=[], needs=[], reason="r", rule="x.v1", citations=[])
    with pytest.raises(ValidationError, match="needs a reason"):
        not_applicable("x", reason="  ", rule="x.v1")


def test_results_stay_frozen() -> None:
    f = determined("x", 1, reason="r", rule="x.v1", citations=[])
    with pytest.raises(ValidationError):
        f.reason = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        trusted(Recommendation, **REC).statement = "changed"  # type: ignore[misc]


def test_model_copy_is_pydantics_shallow_copy() -> None:
    rec = trusted(Recommendation, **REC)
    copy = rec.model_copy(update={"statement": "Caution: biopsy."})
    assert copy.statement == "Caution: biopsy." and rec.statement == "Biopsy the recurrence."
    assert copy.model_fields_set == rec.model_fields_set | {"statement"}
    assert copy.evidence_gaps is rec.evidence_gaps  # shallow, as pydantic's
    assert list(copy.__dict__) == list(rec.__dict__)
    deep = rec.model_copy(deep=True)
    assert deep == rec and deep.details is not rec.details


def test_a_trusted_assessment_round_trips_through_validation() -> None:
    f = determined("x", 1, reason="r", rule="x.v1", citations=["a"])
    a = trusted(
        Assessment,
        patient_id="p",
        findings={f.id: f},
        recommendations=[trusted(Recommendation, **REC)],
        provenance=trusted(Provenance, engine_version="1", knowledge_version="k", assessed_on="d"),
    )
    assert Assessment.model_validate_json(a.model_dump_json()) == a


def test_recommendation_builder_equals_the_validated_recommendation() -> None:
    built = recommendation(**REC)
    validated = Recommendation(**REC)
    assert list(built.__dict__) == list(validated.__dict__)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    held = REC["evidence_gaps"]
    assert built.evidence_gaps is not held and built.details is not REC["details"]
    with pytest.raises(ValidationError, match="needs at least one citation"):
        recommendation(**(REC | {"citations": []}))


@pytest.mark.parametrize("blank", ["", " ", "\n\t ", "\u00a0"])
def test_builders_refuse_a_blank_reason_as_validation_does(blank: str) -> None:
    """The builders check their invariant on the values they hold (``_blank``), before any
    instance exists: a reason of white space alone is refused like an empty one."""
    with pytest.raises(ValidationError, match="needs a reason"):
        determined("x", 1, reason=blank, rule="x.v1", citations=[])
    with pytest.raises(ValidationError, match="needs a reason"):
        indeterminate("x", candidates=[], needs=["n"], reason=blank, rule="x.v1", citations=[])
    with pytest.raises(ValidationError, match="needs a reason"):
        recommendation(**(REC | {"reason": blank}))


def test_each_built_result_has_its_own_fields_set() -> None:
    """The builders copy one prepared set of field names: never one set shared by results."""
    a = determined("a", 1, reason="r", rule="x.v1", citations=[])
    b = determined("b", 2, reason="r", rule="x.v1", citations=[])
    assert a.model_fields_set == b.model_fields_set == set(a.__dict__)
    assert a.model_fields_set is not b.model_fields_set
    r, s = recommendation(**REC), recommendation(**REC)
    assert r.model_fields_set == set(r.__dict__) and r.model_fields_set is not s.model_fields_set
