"""What the classification inputs remember, and that it is keyed correctly.

An exploration's outcome table and the site and histology inputs depend only on the values
still possible and on the (immutable) knowledge, so they are worked out once per process; the
fields an exploration says it needs always come from the inputs of the call itself.  Each
cached answer is immutable, and two different cases in one process get their own answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from classify_case_builder import UNSET, known_case

from rhabdo.classify._inputs import (
    Input,
    explore,
    histology_class_input,
    site_class_input,
)
from rhabdo.classify.sites import CURRENT_SCHEME
from rhabdo.classify.stage import pretreatment_stage


def _over(v: Mapping[str, Any]) -> bool:
    return bool(v["a"]) or bool(v["b"])


def test_an_exploration_names_the_fields_of_its_own_inputs() -> None:
    """Same values still possible, different fields that would decide: the outcome table is
    shared, the needs are not."""
    first = explore({"a": Input((False, True), ("x.first",)), "b": Input((False,))}, _over)
    second = explore({"a": Input((False, True), ("x.second",)), "b": Input((False,))}, _over)
    assert first.outcomes == second.outcomes == (False, True)
    assert first.needs == ("x.first",)
    assert second.needs == ("x.second",)


def test_different_values_give_different_explorations() -> None:
    known = explore({"a": Input((True,)), "b": Input((False,))}, _over)
    open_ = explore({"a": Input((False,)), "b": Input((False, True), ("y",))}, _over)
    assert known.outcomes == (True,) and known.needs == ()
    assert open_.outcomes == (False, True) and open_.mattering_inputs == ("b",)


def test_two_cases_in_one_process_are_staged_apart() -> None:
    small = pretreatment_stage(known_case(primary_site="bladder", max_diameter_cm=3.0))
    large = pretreatment_stage(known_case(primary_site="bladder", max_diameter_cm=7.0))
    unknown = pretreatment_stage(known_case(primary_site="bladder", max_diameter_cm=UNSET))
    assert (small.value, large.value) == (2, 3)
    assert unknown.candidates == [2, 3] and unknown.needs == ["diagnosis.max_diameter_cm"]
    assert pretreatment_stage(known_case(primary_site="bladder")).value == 2


def test_site_and_histology_inputs_follow_each_case() -> None:
    orbit = site_class_input(known_case(primary_site="orbit"), CURRENT_SCHEME)
    bladder = site_class_input(known_case(primary_site="bladder"), CURRENT_SCHEME)
    assert orbit.value.orbit and orbit.value.favourable
    assert not bladder.value.favourable
    unknown = site_class_input(known_case(primary_site=UNSET), CURRENT_SCHEME)
    assert unknown.needs == ("diagnosis.primary_site",)
    alveolar = histology_class_input(known_case(histology="alveolar"), "cog_histology")
    embryonal = histology_class_input(known_case(histology="embryonal"), "cog_histology")
    assert (alveolar.value, embryonal.value) == ("alveolar", "embryonal")


def test_a_remembered_input_cannot_be_changed() -> None:
    given = site_class_input(known_case(primary_site="orbit"), CURRENT_SCHEME)
    with pytest.raises(dataclasses.FrozenInstanceError):
        given.note = "changed"  # type: ignore[misc]
    assert isinstance(given.values, tuple) and isinstance(given.needs, tuple)
    assert site_class_input(known_case(primary_site="orbit"), CURRENT_SCHEME).note == given.note
