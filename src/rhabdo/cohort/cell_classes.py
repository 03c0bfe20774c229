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

Dates are classed together, per row (``DateClassing``): the core rules read dates only
through the days and months between two of them (on the rules' own days-per-month
convention) compared with the day and month cut-offs of the knowledge base, through whether
one date comes before another, and through the calendar age in whole years between two of
them.  A row's dates are classed by the answers to all of those questions for every pair of
its dates, in both directions; so two rows whose dates differ but answer alike (a relapse
400 days after diagnosis in 2004 and 410 days after it in 2011) share one class.  A row whose
stated age in days disagrees with its two dates, or with a date or an age the model
rejects, keeps its exact cells so that its error is its own.

The classing describes the engine's core rules only; a scorer given other rules keys on
exact cells.  ``tests/cohort/test_cell_classes.py`` checks, over every day of age around
every cut-off and every size around every cut-off, that a cell and any other member of its
class give identical findings, and that dated cohorts built around every date cut-off score
identically with and without classes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from rhabdo.case.age import age_at_least
from rhabdo.case.model import Diagnosis, DiseaseEvent, Patient, TreatmentLine
from rhabdo.classify.relapse import DAYS_PER_MONTH
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


def _signed_with_zero(values: tuple[float, ...]) -> tuple[float, ...]:
    """The cut-offs, their negatives (a difference read the other way round) and zero."""
    return tuple(sorted({0.0, *values, *(-v for v in values)}))


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


#: Date columns classed together: column, model and field whose validator reads the cell.
DATE_FIELDS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("date_of_birth", Patient, "date_of_birth"),
    ("diagnosis_date", Diagnosis, "date"),
    ("first_line_start_date", TreatmentLine, "start_date"),
    ("first_line_end_date", TreatmentLine, "end_date"),
    ("first_event_date", DiseaseEvent, "date"),
)
AGE_DAYS_COLUMN = "age_at_diagnosis_days"
#: A date cell the model rejects (any real date's ordinal is positive).
REJECTED_DATE = -1
BLANK_DATE = 0


@dataclass(frozen=True)
class DateClassing:
    """How a row's dates are classed together (see the module docstring)."""

    columns: tuple[str, ...]
    adapters: tuple[TypeAdapter[Any], ...]
    years: tuple[int, ...]
    day_values: tuple[float, ...]
    month_values: tuple[float, ...]
    birth: int  # position of the date of birth in ``columns``
    diagnosis: int  # position of the diagnosis date

    def ordinal(self, position: int, cell: Cell) -> int:
        """The cell's proleptic Gregorian ordinal; ``REJECTED_DATE`` if the model rejects it."""
        ok, value = accepted_value(self.adapters[position], cell)
        if not ok or not isinstance(value, dt.date):
            return REJECTED_DATE
        return value.toordinal()

    def features(self, ordinals: np.ndarray) -> np.ndarray:
        """Per row (of ``BLANK_DATE``/ordinal columns): every answer the core rules can read."""
        present = ordinals != BLANK_DATE
        parts = [present.astype(np.int8)]
        year, month_day = _calendar_parts(ordinals)
        for i, j in combinations(range(len(self.columns)), 2):
            both = present[:, i] & present[:, j]
            days = np.where(both, ordinals[:, j] - ordinals[:, i], 0)
            months = days / DAYS_PER_MONTH  # the rules' own convention (relapse.months_between)
            answers = [np.sign(days)]
            for v in self.day_values:
                answers += [days < v, days <= v]
            for v in self.month_values:
                answers += [months < v, months <= v]
            forward = _calendar_years(year[:, i], month_day[:, i], year[:, j], month_day[:, j])
            backward = _calendar_years(year[:, j], month_day[:, j], year[:, i], month_day[:, i])
            for y in self.years:
                answers += [forward >= y, backward >= y]
            block = np.stack(answers, axis=1).astype(np.int8)
            parts.append(np.where(both[:, None], block, np.int8(0)))
        return np.ascontiguousarray(np.concatenate(parts, axis=1))


def _calendar_parts(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year and month*100+day of each ordinal (blank cells give harmless values)."""
    days = np.where(ordinals > 0, ordinals, 1) - dt.date(1970, 1, 1).toordinal()
    as_dates = days.astype("datetime64[D]")
    year = as_dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = as_dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (as_dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month * 100 + day


def _calendar_years(
    born_year: np.ndarray, born_md: np.ndarray, on_year: np.ndarray, on_md: np.ndarray
) -> np.ndarray:
    """Completed calendar years, exactly as ``rhabdo.case.age.calendar_age_years``."""
    years: np.ndarray = on_year - born_year - (on_md < born_md)
    return years


def date_classing(years: Sequence[int]) -> DateClassing:
    names = tuple(name for name, _model, _field in DATE_FIELDS)
    return DateClassing(
        columns=names,
        adapters=tuple(field_adapter(model, f) for _name, model, f in DATE_FIELDS),
        years=tuple(years),
        day_values=_signed_with_zero(_cutoffs("days")),
        month_values=_signed_with_zero(_cutoffs("months")),
        birth=names.index("date_of_birth"),
        diagnosis=names.index("diagnosis_date"),
    )


@cache
def core_date_classing() -> DateClassing | None:
    """The date classing that holds for the core rules (None if an age cut-off is fractional)."""
    years = age_cutoffs_years()
    return None if years is None else date_classing(years)


@dataclass(frozen=True)
class CellClasses:
    """Everything a scorer may class: single cells, and a row's dates together."""

    cells: tuple[CellClassing, ...] = ()
    dates: DateClassing | None = None


#: Key on exact cells only.
NO_CLASSES = CellClasses()


@cache
def core_classes() -> CellClasses:
    """The classes that hold for the engine's core finding rules."""
    return CellClasses(cells=core_cell_classes(), dates=core_date_classing())


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
