"""Answers shared within one assessment (rhabdo.case.memo): remembered only inside a scope,
per case object and arguments, and the whole assessment reads the same with or without it."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rhabdo import engine
from rhabdo.case.io import load_case
from rhabdo.case.memo import assessment_scope, once_per_assessment
from rhabdo.case.model import Case
from rhabdo.classify._inputs import age_at_least_input, metastatic_input
from rhabdo.classify.extent import case_event_extent
from rhabdo.classify.group import local_group_input, main_group_input
from rhabdo.classify.nodes import regional_nodes_at_diagnosis
from rhabdo.classify.relapse import relapse_refractory, relapse_type
from rhabdo.classify.relapse_group import cog_relapse_group
from rhabdo.classify.risk_cog import cog_histology_risk
from rhabdo.engine import assess
from rhabdo.prognosis._subgroups import pappo_category
from rhabdo.prognosis.population import check_population

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CASE = load_case(EXAMPLES[0])
ON = date(2026, 1, 1)


def _counted() -> tuple[list[tuple[Any, ...]], Any]:
    calls: list[tuple[Any, ...]] = []

    @once_per_assessment
    def answer(case: Case, *args: Any) -> tuple[Any, ...]:
        calls.append((case.patient.id, *args))
        return (case.patient.id, *args)

    return calls, answer


def test_outside_a_scope_every_call_computes_afresh() -> None:
    calls, answer = _counted()
    answer(CASE, "x")
    answer(CASE, "x")
    assert len(calls) == 2


def test_inside_a_scope_each_case_and_argument_is_answered_once() -> None:
    calls, answer = _counted()
    other = load_case(EXAMPLES[1])
    with assessment_scope():
        first = answer(CASE, "x")
        assert answer(CASE, "x") is first
        answer(CASE, "y")
        answer(other, "x")
    assert calls == [(CASE.patient.id, "x"), (CASE.patient.id, "y"), (other.patient.id, "x")]


def test_an_equal_but_distinct_case_object_is_not_given_another_answer() -> None:
    calls, answer = _counted()
    twin = CASE.model_copy(deep=True)
    with assessment_scope():
        answer(CASE)
        answer(twin)
    assert len(calls) == 2


def test_a_none_answer_and_a_no_argument_answer_are_remembered_apart_from_others() -> None:
    calls: list[str] = []

    @once_per_assessment
    def nothing(case: Case) -> None:
        calls.append("nothing")

    @once_per_assessment
    def patient(case: Case, *args: Any) -> tuple[Any, ...]:
        calls.append("patient")
        return (case.patient.id, *args)

    with assessment_scope():
        assert nothing(CASE) is None
        assert nothing(CASE) is None
        assert patient(CASE) == (CASE.patient.id,)
        assert patient(CASE, ()) == (CASE.patient.id, ())  # an argument that is an empty tuple
        assert patient(CASE) == (CASE.patient.id,)
    assert calls == ["nothing", "patient", "patient"]


def test_a_scope_ends_with_its_block_and_scopes_nest_apart() -> None:
    calls, answer = _counted()
    with assessment_scope():
        answer(CASE)
        with assessment_scope():
            answer(CASE)
        answer(CASE)
    answer(CASE)
    assert len(calls) == 3


@pytest.mark.parametrize(
    "ask",
    [
        lambda c: relapse_type(c),
        lambda c: cog_relapse_group(c),
        lambda c: check_population(c, "arst0121"),
        lambda c: cog_histology_risk(c),
        lambda c: relapse_refractory(c),
        lambda c: pappo_category(c),
        lambda c: metastatic_input(c),
        lambda c: age_at_least_input(c, 10),
        lambda c: local_group_input(c),
        lambda c: main_group_input(c),
        lambda c: regional_nodes_at_diagnosis(c),
        lambda c: check_population(c, "pappo_1999.embryonal_stage1_or_group1.local"),
        lambda c: case_event_extent(c, len(c.events) - 1) if c.events else None,
    ],
    ids=[
        "relapse_type",
        "cog_relapse_group",
        "check_population",
        "cog_histology_risk",
        "relapse_refractory",
        "pappo_category",
        "metastatic_input",
        "age_at_least_input",
        "local_group_input",
        "main_group_input",
        "regional_nodes_at_diagnosis",
        "check_population_subgroup",
        "case_event_extent",
    ],
)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_remembered_answers_equal_fresh_ones(ask: Any, path: Path) -> None:
    case = load_case(path)
    fresh = ask(case)
    with assessment_scope():
        assert ask(case) == fresh
        assert ask(case) is ask(case)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_assessment_is_the_same_whether_or_not_answers_are_shared(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = load_case(path)
    shared = assess(case, assessed_on=ON).model_dump(mode="json")
    monkeypatch.setattr(engine, "assessment_scope", contextlib.nullcontext)
    fresh = assess(case, assessed_on=ON).model_dump(mode="json")
    assert shared == fresh
