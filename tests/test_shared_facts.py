"""Facts worked out once: per assessment for a case (rhabdo.case.memo), per process for the
immutable knowledge.  What is remembered equals what is computed afresh, a different case gets
its own answer, and nothing handed out can be changed by one caller under another."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rhabdo.case.io import load_case
from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.case.vocab import Sex
from rhabdo.exposure.cumulative import agent_totals, line_paths
from rhabdo.exposure.findings import unrecorded_radiotherapy
from rhabdo.exposure.late_effects import preservation_options
from rhabdo.labels import field_label
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import gaps_of
from rhabdo.recommend.knowledge import care_entries
from rhabdo.recommend.local_therapy import dose_norms

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "tests" / "clinical" / "cases").rglob("*.yaml"))

PER_CASE: dict[str, Callable[[Case], Any]] = {
    "line_paths": line_paths,
    "unrecorded_radiotherapy": unrecorded_radiotherapy,
    "site_irradiation": facts.site_irradiation,
    "radiotherapy_courses": facts.radiotherapy_courses,
    "agents_given": facts.agents_given,
    "current_extent": facts.current_extent,
}


@pytest.mark.parametrize("ask", PER_CASE.values(), ids=list(PER_CASE))
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_per_case_facts_remembered_equal_fresh(ask: Callable[[Case], Any], path: Path) -> None:
    case = load_case(path)
    fresh = ask(case)
    with assessment_scope():
        assert ask(case) == fresh
        assert ask(case) == fresh


@pytest.mark.parametrize("ask", PER_CASE.values(), ids=list(PER_CASE))
def test_two_cases_in_one_scope_get_their_own_facts(ask: Callable[[Case], Any]) -> None:
    cases = [load_case(p) for p in EXAMPLES + SCENARIOS]
    fresh = [ask(c) for c in cases]
    assert len({repr(f) for f in fresh}) > 1, "the examples should differ in this fact"
    with assessment_scope():
        assert [ask(c) for c in cases] == fresh
        assert [ask(c) for c in reversed(cases)] == fresh[::-1]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_shared_facts_cannot_be_changed_by_a_caller(path: Path) -> None:
    case = load_case(path)
    with assessment_scope():
        assert isinstance(line_paths(case), tuple)
        assert isinstance(facts.site_irradiation(case), tuple)
        assert isinstance(facts.radiotherapy_courses(case), tuple)
        assert isinstance(facts.agents_given(case), frozenset)
        unrecorded = unrecorded_radiotherapy(case)
        unrecorded.append("changed")
        assert "changed" not in unrecorded_radiotherapy(case)
        for f in facts.site_irradiation(case):
            with pytest.raises(dataclasses.FrozenInstanceError):
                f.irradiated = True  # type: ignore[misc]


def test_agent_totals_are_frozen_and_hand_out_their_own_needs() -> None:
    for path in EXAMPLES:
        for total in agent_totals(load_case(path)).values():
            with pytest.raises(AttributeError):
                total.known_mg_m2 = 0.0  # type: ignore[misc]
            needs = total.needs
            needs.append("changed")
            assert "changed" not in total.needs
            assert total.known_mg_m2 == sum(
                c.mg_m2 for c in total.contributions if c.mg_m2 is not None
            )
            assert total.complete == all(c.mg_m2 is not None for c in total.contributions)


def test_knowledge_answers_are_handed_out_as_fresh_copies() -> None:
    norms = dose_norms()
    norms[0]["statement"] = "changed"
    norms.append({"entry": "changed"})
    assert dose_norms()[0]["statement"] != "changed"
    assert len(dose_norms()) == len(norms) - 1
    sentence, shown, needs = preservation_options(Sex.FEMALE, None)
    shown.clear()
    needs.clear()
    again = preservation_options(Sex.FEMALE, None)
    assert again[0] == sentence and again[1] and again[2] == ["current.tanner_stage"]


def test_an_entrys_evidence_gap_is_shared_but_immutable() -> None:
    entries = [e for e in care_entries() if e.evidence_gap or not e.verified]
    first, second = gaps_of(entries), gaps_of(entries)
    assert first == second and first is not second
    with pytest.raises(ValidationError):
        first[0].statement = "changed"  # type: ignore[misc]


def test_field_labels_name_each_cases_own_items() -> None:
    path = "first_line.chemotherapy[0].cumulative_dose"
    cases = [load_case(p) for p in EXAMPLES]
    cases = [c for c in cases if c.first_line and c.first_line.chemotherapy]
    names = {c.first_line.chemotherapy[0].display_name for c in cases if c.first_line}
    assert len(names) > 1
    for c in cases:
        assert c.first_line is not None
        assert f"({c.first_line.chemotherapy[0].display_name})" in field_label(path, c)
