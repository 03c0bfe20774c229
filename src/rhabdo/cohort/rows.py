"""One cohort row -> one validated ``Case``, or an error naming the column and the problem.

Cells are trimmed; a blank cell (or one of the mapping's missing-value markers) means
*unknown* and leaves the case field unset.  Registry codes are translated through the
mapping; everything else (numbers, dates, booleans, codes) is checked by the case model
itself, so a cohort row and a case file obey exactly the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from rhabdo.case.io import problems_from_validation_error
from rhabdo.case.model import Case, Patient
from rhabdo.case.vocab import Extent
from rhabdo.cohort.columns import (
    COLUMNS,
    COLUMNS_BY_NAME,
    CONTENT_COLUMNS,
    ID_COLUMN,
    CellKind,
    ColumnMapping,
)
from rhabdo.errors import CaseValidationError, FieldProblem

Cell = Any
#: The content of a row without its identifier, in ``CONTENT_COLUMNS`` order.
RowKey = tuple[Cell, ...]

_PLACEHOLDER_ID = "row"


def normalise_cell(value: Cell, column: str, mapping: ColumnMapping) -> Cell:
    """Trim text, turn blanks and missing-value markers into None, translate registry codes."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a numeric column
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "" or value in mapping.missing_values:
            return None
    codes = mapping.codes.get(column)
    if codes:
        col = COLUMNS_BY_NAME[column]
        if col.kind is CellKind.CODE_LIST and isinstance(value, str):
            parts = [p.strip() for p in value.split(mapping.list_separator)]
            return mapping.list_separator.join(codes.get(p, p) for p in parts)
        return codes.get(str(value), value)
    return value


def row_key(row: Mapping[str, Cell], mapping: ColumnMapping) -> RowKey:
    """The normalised content of a row (identifier excluded): equal keys give equal findings."""
    return tuple(normalise_cell(row.get(name), name, mapping) for name in CONTENT_COLUMNS)


def _split(value: Cell, mapping: ColumnMapping) -> list[str]:
    text = str(value)
    if text == mapping.none_token:
        return []
    return [p.strip() for p in text.split(mapping.list_separator) if p.strip()]


def _plan() -> tuple[tuple[int, str, tuple[str, ...], bool], ...]:
    """Per content column: its position, its name, its path parts, whether it is a list."""
    plan = []
    for i, name in enumerate(CONTENT_COLUMNS):
        col = COLUMNS_BY_NAME[name]
        if col.path.startswith("events[0].") or name == "first_line_radiotherapy":
            continue
        plan.append((i, name, tuple(col.path.split(".")), col.kind is CellKind.CODE_LIST))
    return tuple(plan)


_PLAN = _plan()
_EVENT_FIELDS = tuple(
    (CONTENT_COLUMNS.index(c.name), c.path.removeprefix("events[0]."))
    for c in COLUMNS
    if c.path.startswith("events[0].")
    and c.name not in ("first_event_extent", "first_event_metastatic_sites")
)
_RT_INDEX = CONTENT_COLUMNS.index("first_line_radiotherapy")
_TRUE_TEXT = frozenset({"true", "1", "yes", "y", "t", "on"})


def case_document(
    key: RowKey, mapping: ColumnMapping, patient_id: str = _PLACEHOLDER_ID
) -> dict[str, Any]:
    """The nested case document a row describes (not yet validated)."""
    doc: dict[str, Any] = {"patient": {"id": patient_id}}
    for i, _name, parts, is_list in _PLAN:
        value = key[i]
        if value is None:
            continue
        node = doc
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _split(value, mapping) if is_list else value
    rt = key[_RT_INDEX]
    if rt is not None:
        # true: one course without details; false: none given; blank: not known (left out)
        if rt is True or str(rt).strip().lower() in _TRUE_TEXT:
            doc.setdefault("first_line", {})["radiotherapy"] = [{}]
        else:
            doc.setdefault("first_line", {})["radiotherapy_given"] = False
    event: dict[str, Any] = {field: key[i] for i, field in _EVENT_FIELDS if key[i] is not None}
    sites = _event_sites(key, mapping)
    if sites is not None:
        event["sites"] = sites
    if event:
        doc["events"] = [event]
    return doc


_EXTENT_INDEX = CONTENT_COLUMNS.index("first_event_extent")
_EVENT_METS_INDEX = CONTENT_COLUMNS.index("first_event_metastatic_sites")


def _event_sites(key: RowKey, mapping: ColumnMapping) -> list[dict[str, Any]] | None:
    """Sites of the first event: one per extent, distant expanded by metastatic site."""
    extent_cell = key[_EXTENT_INDEX]
    met_cell = key[_EVENT_METS_INDEX]
    if extent_cell is None and met_cell is None:
        return None
    extents = _split(extent_cell, mapping) if extent_cell is not None else []
    mets = _split(met_cell, mapping) if met_cell is not None else []
    sites: list[dict[str, Any]] = []
    for extent in extents:
        if extent == Extent.DISTANT.value and mets:
            continue
        sites.append({"extent": extent})
    sites.extend({"extent": Extent.DISTANT.value, "metastatic_site": m} for m in mets)
    return sites


_PATH_TO_COLUMN = {c.path: c.name for c in COLUMNS}
_PATH_TO_COLUMN["events[0].sites.extent"] = "first_event_extent"
_PATH_TO_COLUMN["events[0].sites"] = "first_event_extent"
_PATH_TO_COLUMN["events[0].sites.metastatic_site"] = "first_event_metastatic_sites"
_PATH_TO_COLUMN["first_line.radiotherapy"] = "first_line_radiotherapy"
_INDEX = re.compile(r"\[(\d+)\]")


def column_for_path(path: str) -> str | None:
    """The column that fills a case field path (list indices inside a column are dropped)."""
    candidate = _INDEX.sub("", path)
    if candidate.startswith("events"):
        candidate = "events[0]" + candidate.removeprefix("events")
    while candidate:
        if candidate in _PATH_TO_COLUMN:
            return _PATH_TO_COLUMN[candidate]
        if "." not in candidate:
            return None
        candidate = candidate.rsplit(".", 1)[0]
    return None


def case_from_key(key: RowKey, mapping: ColumnMapping, patient_id: str = _PLACEHOLDER_ID) -> Case:
    """Validate a row's content into a Case; each problem names the column that caused it."""
    doc = case_document(key, mapping, patient_id)
    try:
        return Case.model_validate(doc)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc)
        raise CaseValidationError(
            [FieldProblem(column_for_path(p.field) or p.field, p.problem) for p in problems]
        ) from None


def row_error_text(exc: CaseValidationError, mapping: ColumnMapping) -> str:
    """One line for the error column: every problem, '; '-separated."""
    return "; ".join(f"{_display(p.field, mapping)}: {p.problem}" for p in exc.problems)


def _display(column: str, mapping: ColumnMapping) -> str:
    if column in COLUMNS_BY_NAME:
        theirs = mapping.source_name(column)
        return theirs if theirs == column else f"{theirs} ({column})"
    return column


def _id_constraints() -> tuple[re.Pattern[str], int, int]:
    """The case model's own constraints on ``patient.id`` (pattern and length)."""
    pattern, low, high = ".*", 0, 1 << 30
    for meta in Patient.model_fields["id"].metadata:
        pattern = getattr(meta, "pattern", None) or pattern
        low = getattr(meta, "min_length", None) or low
        high = getattr(meta, "max_length", None) or high
    return re.compile(pattern), low, high


_ID_PATTERN, _ID_MIN, _ID_MAX = _id_constraints()


def id_constraints() -> tuple[str, int, int]:
    """The identifier's pattern (regular expression text) and its fewest and most characters."""
    return _ID_PATTERN.pattern, _ID_MIN, _ID_MAX


def check_patient_id(value: Cell, mapping: ColumnMapping) -> str:
    """The identifier cell, validated by the case model's own rule for ``patient.id``.

    An identifier meeting the model's pattern and length is accepted directly; any other is
    passed to the model so that the error says exactly what the model says.
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        raise CaseValidationError([FieldProblem(ID_COLUMN, "required field is missing")])
    text = str(value).strip()
    if _ID_MIN <= len(text) <= _ID_MAX and _ID_PATTERN.match(text):
        return text
    try:
        Patient.model_validate({"id": text})
    except ValidationError as exc:
        problems = problems_from_validation_error(exc)
        raise CaseValidationError([FieldProblem(ID_COLUMN, p.problem) for p in problems]) from None
    return text


def row_to_case(row: Mapping[str, Cell], mapping: ColumnMapping | None = None) -> Case:
    """A whole row (our column names) -> Case, identifier included."""
    m = mapping or ColumnMapping()
    problems: list[FieldProblem] = []
    pid = _PLACEHOLDER_ID
    try:
        pid = check_patient_id(row.get(ID_COLUMN), m)
    except CaseValidationError as exc:
        problems.extend(exc.problems)
    try:
        case = case_from_key(row_key(row, m), m, pid)
    except CaseValidationError as exc:
        problems.extend(exc.problems)
        raise CaseValidationError(problems) from None
    if problems:
        raise CaseValidationError(problems)
    return case


def rename_to_ours(header: Sequence[str], mapping: ColumnMapping) -> dict[str, str]:
    """Registry header name -> our column name, for the columns the format knows."""
    reverse = mapping.reverse()
    return {h: reverse[h] for h in header if h in reverse}
