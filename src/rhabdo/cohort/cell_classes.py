"""Cells the core finding rules cannot tell apart, so that a cohort is scored once per class.

A registry table of a million patients holds thousands of different ages in days and
hundreds of different tumour sizes, but the core rules ask only a few questions of them:
the age is read only as "had the patient reached N years at diagnosis?" for the age cut-offs
of the knowledge base, and a size only as "is it below / at most C cm?" for its size
cut-offs.  Two cells that give the same answer to every such question are the same to every
core rule, so the cohort scorer keys its cache on the answers instead of the raw cell.

Three guards keep this exact:

* Only a cell the case model accepts is classed; a rejected cell keeps its exact value, so
  its error is reported in the model's own words.
* The cut-offs are every threshold of the knowledge base with that unit (the rules read
  theirs from the same tables), so a cut-off added to the knowledge is picked up here.  A
  non-whole number of years, which ``age_at_least`` cannot ask about, turns classing off
  for the age column rather than guess.
* The age in days is classed only when the row lacks the date of birth or the diagnosis
  date: with both dates the calendar decides the age, and the stated days must agree with
  them, so that row keeps its exact days.

The classing describes the engine's core rules only; a scorer given other rules keys on
exact cells.  ``tests/cohort/test_cell_classes.py`` checks, over every day of age around
every cut-off and every size around every cut-off, that a cell and any other member of its
class give identical findings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from rhabdo.case.age import age_at_least
from rhabdo.case.model import Diagnosis, DiseaseEvent, Patient
from rhabdo.classify.tables import Threshold, entries_of
from rhabdo.prognosis.knowledge import EntryKind, prognosis_table

Cell = Any


@dataclass(frozen=True)
class CellClassing:
    """How one column's accepted cells are grouped into classes the rules cannot tell apart.

    ``classify`` returns the class of a normalised cell, or None to keep the exact cell
    (a cell the model rejects).  When every column in ``exact_when_filled`` is filled in a
    row, that row keeps the exact cell.
    """

    column: str
    classify: Callable[[Cell], Hashable | None]
    exact_when_filled: tuple[str, ...] = ()
    description: str = ""


def field_adapter(model: type[BaseModel], field_name: str) -> TypeAdapter[Any]:
    """A validator for one model field, with exactly the field's own type and constraints."""
    info = model.model_fields[field_name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation)


def accepted_value(adapter: TypeAdapter[Any], cell: Cell) -> tuple[bool, Any]:
    """(True, value) when the field accepts the cell, (False, None) when it rejects it."""
    try:
        return True, adapter.validate_python(cell)
    except ValidationError:
        return False, None


def _cutoffs(unit: str) -> tuple[float, ...]:
    """Every threshold value with ``unit`` in the classification and prognosis knowledge."""
    values = {rule.value for _entry, rule in entries_of(Threshold) if rule.unit == unit}
    values |= {
        e.value
        for e in prognosis_table()
        if e.kind is EntryKind.THRESHOLD and e.unit == unit and e.value is not None
    }
    return tuple(sorted(values))


def age_cutoffs_years() -> tuple[int, ...] | None:
    """The whole-year age cut-offs, or None when one is not a whole number of years."""
    years = _cutoffs("years")
    if any(y != int(y) or y < 0 for y in years):
        return None
    return tuple(int(y) for y in years)


def size_cutoffs_cm() -> tuple[float, ...]:
    return _cutoffs("cm")


def age_days_classing(years: tuple[int, ...]) -> CellClassing:
    adapter = field_adapter(Patient, "age_at_diagnosis_days")

    def classify(cell: Cell) -> Hashable | None:
        ok, days = accepted_value(adapter, cell)
        if not ok or days is None:
            return None
        return ("age_at_least_years", tuple(age_at_least(y, age_days=days) for y in years))

    return CellClassing(
        "age_at_diagnosis_days",
        classify,
        exact_when_filled=("date_of_birth", "diagnosis_date"),
        description=f"age in days, by whether {', '.join(map(str, years))} years were reached",
    )


def size_classing(column: str, model: type[BaseModel], cutoffs: tuple[float, ...]) -> CellClassing:
    adapter = field_adapter(model, "max_diameter_cm")

    def classify(cell: Cell) -> Hashable | None:
        ok, size = accepted_value(adapter, cell)
        if not ok or size is None:
            return None
        return ("size_vs_cm", tuple((size < c, size <= c) for c in cutoffs))

    return CellClassing(
        column,
        classify,
        description=f"size, by its side of {', '.join(f'{c:g}' for c in cutoffs)} cm",
    )


@cache
def core_cell_classes() -> tuple[CellClassing, ...]:
    """The classings that hold for the engine's core finding rules."""
    sizes = size_cutoffs_cm()
    classings = [
        size_classing("max_diameter_cm", Diagnosis, sizes),
        size_classing("first_event_max_diameter_cm", DiseaseEvent, sizes),
    ]
    years = age_cutoffs_years()
    if years is not None:
        classings.append(age_days_classing(years))
    return tuple(classings)
