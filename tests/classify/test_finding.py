"""rhabdo.classify._finding -- the shared builder of classification findings.

No clinical values here: these tests pin the shape every classification rule relies on
(status, needs sorted and de-duplicated, the rule's citations and inputs on every answer).
"""

from __future__ import annotations

import pytest

from rhabdo.classify._finding import ClassificationRule, citations_of, histology_not_covered
from rhabdo.classify._inputs import NOT_CLASSIFIED
from rhabdo.classify.tables import EpssgSubgroupRow, StageRow, entries_of, entry
from rhabdo.results import FindingStatus

RULE = ClassificationRule(
    finding_id="test.finding",
    rule_id="test.rule",
    citations=["source_a", "source_b"],
    inputs_used=["diagnosis.primary_site"],
)


def test_determined_carries_the_rule_and_sorted_needs() -> None:
    f = RULE.determined(
        "II", needs=("b.field", "a.field", "b.field"), reason="Group II.", details={"x": 1}
    )
    assert f.status is FindingStatus.DETERMINED
    assert (f.id, f.rule, f.value) == ("test.finding", "test.rule", "II")
    assert f.needs == ["a.field", "b.field"]
    assert f.citations == ["source_a", "source_b"]
    assert f.inputs_used == ["diagnosis.primary_site"]
    assert f.details == {"x": 1}
    assert f.source_views == []
    assert f.candidates == []


def test_determined_without_needs_needs_nothing() -> None:
    assert RULE.determined(1, reason="Stage 1.", details={}).needs == []


def test_indeterminate_lists_candidates_and_sorted_needs() -> None:
    f = RULE.indeterminate([2, 3], needs=("z.field", "a.field"), reason="Stage 2 or 3.", details={})
    assert f.status is FindingStatus.INDETERMINATE
    assert f.value is None
    assert f.candidates == [2, 3]
    assert f.needs == ["a.field", "z.field"]
    assert (f.rule, f.citations) == ("test.rule", ["source_a", "source_b"])


def test_indeterminate_must_say_what_it_needs() -> None:
    with pytest.raises(ValueError, match="must say what it needs"):
        RULE.indeterminate([2, 3], needs=(), reason="Stage 2 or 3.", details={})


def test_not_applicable_uses_the_rule_citations_unless_replaced() -> None:
    own = RULE.not_applicable(reason="Not placed.", details={"outcome": "x"})
    assert own.status is FindingStatus.NOT_APPLICABLE
    assert own.citations == ["source_a", "source_b"]
    assert own.inputs_used == ["diagnosis.primary_site"]
    replaced = RULE.not_applicable(reason="Not placed.", details={}, citations=["gap_source"])
    assert replaced.citations == ["gap_source"]


def test_citations_of_keeps_first_appearance_order_without_repeats() -> None:
    expected: list[str] = []
    for table in (entries_of(StageRow), entries_of(EpssgSubgroupRow)):
        for e, _ in table:
            expected += [c for c in e.citations if c not in expected]
    found = citations_of(entries_of(StageRow), entries_of(EpssgSubgroupRow))
    assert found == expected
    assert len(found) == len(set(found))


@pytest.mark.parametrize("entry_id", ["histology.cog_histology", "histology.epssg_rms2005"])
def test_histology_not_covered_states_the_scheme_gap(entry_id: str) -> None:
    assert histology_not_covered(entry_id) == {
        "outcome": NOT_CLASSIFIED,
        "evidence_gap": entry(entry_id).evidence_gap,
    }
