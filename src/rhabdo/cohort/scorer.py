"""The batch scorer: every row of a batch through the rules, each distinct content once.

Two rows with the same normalised content (identifier excluded) are the same case to every
rule, so each distinct content is validated and scored once and the result reused:
validation is a pure function of the content, so this memoises it and skips nothing.  With
the core rules, contents are compared by classes of cells the rules cannot tell apart
(``rhabdo.cohort.cell_classes``).  The identifier of every row is still checked on its own.
New contents can be scored in a pool of worker processes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rhabdo.case.model import Patient
from rhabdo.cohort.cell_classes import (
    AGE_DAYS_COLUMN,
    BLANK_DATE,
    NO_CLASSES,
    REJECTED_DATE,
    CellClasses,
    CellClassing,
    DateClassing,
    accepted_value,
    core_classes,
    field_adapter,
)
from rhabdo.cohort.cells import (
    FindingRule,
    Scored,
    default_rules,
    finding_columns,
    probe_finding_ids,
    score_key,
)
from rhabdo.cohort.columns import CONTENT_COLUMNS, ID_COLUMN, ColumnMapping
from rhabdo.cohort.rows import (
    Cell,
    RowKey,
    check_patient_id,
    id_constraints,
    normalise_cell,
    row_error_text,
)
from rhabdo.errors import CaseValidationError

DEFAULT_CACHE_SIZE = 200_000

# --- worker processes ---------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _init_worker(rules: Sequence[FindingRule], ids: Sequence[str], mapping: ColumnMapping) -> None:
    _worker_state.update(rules=rules, ids=ids, mapping=mapping)


def _score_chunk(keys: list[RowKey]) -> list[Scored]:
    s = _worker_state
    return [score_key(k, s["rules"], s["ids"], s["mapping"]) for k in keys]


# --- the scorer ----------------------------------------------------------------------


@dataclass
class ScoreSummary:
    rows: int = 0
    scored: int = 0
    errors: int = 0
    unreadable_lines: int = 0
    distinct_contents: int = 0
    finding_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "scored": self.scored,
            "errors": self.errors,
            "unreadable_lines": self.unreadable_lines,
            "distinct_contents": self.distinct_contents,
        }


@dataclass
class BatchScore:
    """One batch scored, column by column: identifiers, errors, then the finding cells."""

    ids: pa.Array
    errors: pa.Array
    findings: list[pa.Array]


_AGE_ADAPTER = field_adapter(Patient, "age_at_diagnosis_days")
_REJECTED_AGE = -2


def _stated_days(cell: Cell) -> int:
    """The stated age in days the model accepts, or ``_REJECTED_AGE``."""
    ok, days = accepted_value(_AGE_ADAPTER, cell)
    return int(days) if ok and days is not None else _REJECTED_AGE


#: Codes held for all columns before the codes and the cache are emptied together.
DEFAULT_MAX_CODES = 500_000
_TRIM = " \t\n\r\x0b\x0c"  # ASCII whitespace: a subset of what str.strip removes


class ColumnCodes:
    """Small integer codes for one column's cells, shared by every batch of a table.

    Code 0 is a blank cell.  An exact code stands for one normalised cell (its type and
    value); a class code for every accepted cell of one class (see ``cell_classes``).
    """

    def __init__(self, column: str, classing: CellClassing | None) -> None:
        self.column = column
        self.classing = classing
        self.codes: dict[Hashable, int] = {}
        self._class_of: dict[int, int] = {}
        self._derived: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.codes)

    def per_row(self, col: EncodedColumn, compute: Callable[[Cell], int], blank: int) -> np.ndarray:
        """Per row of ``col``: a number computed once per distinct cell (``blank`` if blank).

        A column has one such number (a date's ordinal, an accepted age in days): the memo is
        keyed on the cell alone.
        """
        per_value = np.empty(len(col.values), dtype=np.int64)
        for i, (value, exact) in enumerate(zip(col.values, col.value_codes.tolist(), strict=True)):
            found = blank if exact == 0 else self._derived.get(exact)
            if found is None:
                found = self._derived[exact] = compute(value)
            per_value[i] = found
        by_row: np.ndarray = per_value[col.index]
        return by_row

    def code(self, token: Hashable) -> int:
        """The code of a token other than a cell (a class of a whole row's dates)."""
        return self._code(("+", token))

    def _code(self, token: Hashable) -> int:
        code = self.codes.get(token)
        if code is None:
            code = self.codes[token] = len(self.codes) + 1
        return code

    def exact(self, value: Cell) -> int:
        return 0 if value is None else self._code(("=", type(value), value))

    def classed(self, value: Cell, exact: int) -> int:
        """The class code of a normalised cell; its exact code when it is not classed."""
        if self.classing is None or exact == 0:
            return exact
        code = self._class_of.get(exact)
        if code is None:
            found = self.classing.classify(value)
            code = exact if found is None else self._code(("~", found))
            self._class_of[exact] = code
        return code

    def clear(self) -> None:
        self.codes.clear()
        self._class_of.clear()
        self._derived.clear()


@dataclass
class EncodedColumn:
    """One column of a batch: its distinct normalised cells and, per row, which one."""

    values: list[Cell]  # distinct normalised cells; the last is None (blank)
    value_codes: np.ndarray  # per distinct cell: its exact code
    index: np.ndarray  # per row: position in ``values``
    exact: np.ndarray  # per row: exact code
    key: np.ndarray  # per row: the code the cache is keyed on (class code where classed)


def _as_arrow(values: Sequence[Any] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


class CohortScorer:
    """Scores batches of rows; reuse one scorer for a whole table so its cache is shared.

    Each batch is encoded column by column (one code per distinct cell, or per class of
    cells the rules cannot tell apart), rows with equal codes are found with one sort, and
    only contents not seen before are validated and run through the rules.  Per-row work
    stays in Arrow and NumPy.
    """

    def __init__(
        self,
        rules: Sequence[FindingRule] | None = None,
        mapping: ColumnMapping | None = None,
        *,
        workers: int = 1,
        cache_size: int = DEFAULT_CACHE_SIZE,
        classes: CellClasses | None = None,
        max_codes: int = DEFAULT_MAX_CODES,
    ) -> None:
        self.rules = tuple(rules) if rules is not None else default_rules()
        if classes is None:
            # the classes describe the core rules only; other rules key on exact cells
            classes = core_classes() if rules is None else NO_CLASSES
        self.cell_classes = {c.column: c for c in classes.cells}
        self.date_classing = classes.dates
        self.mapping = mapping or ColumnMapping()
        self.finding_ids = probe_finding_ids(self.rules)
        self.workers = max(1, workers)
        self.cache_size = cache_size
        self.max_codes = max_codes
        self._cache: dict[bytes, Scored] = {}
        self._codes = {
            name: ColumnCodes(name, self.cell_classes.get(name)) for name in CONTENT_COLUMNS
        }
        self._pool: ProcessPoolExecutor | None = None
        self.summary = ScoreSummary(finding_ids=list(self.finding_ids))

    def __enter__(self) -> CohortScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    @property
    def output_finding_columns(self) -> list[str]:
        return finding_columns(self.finding_ids)

    def _score_new(self, keys: list[RowKey]) -> list[Scored]:
        if self.workers == 1 or len(keys) < 2_000:
            return [score_key(k, self.rules, self.finding_ids, self.mapping) for k in keys]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                initializer=_init_worker,
                initargs=(self.rules, self.finding_ids, self.mapping),
            )
        size = -(-len(keys) // (self.workers * 4))
        chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
        out: list[Scored] = []
        for part in self._pool.map(_score_chunk, chunks):
            out.extend(part)
        return out

    # --- encoding ------------------------------------------------------------------------

    def _encode(self, name: str, array: pa.Array | None, n_rows: int) -> EncodedColumn:
        if array is None or pa.types.is_null(array.type):
            zeros = np.zeros(n_rows, dtype=np.int32)
            return EncodedColumn([None], np.zeros(1, dtype=np.int32), zeros, zeros, zeros)
        encoded = array.dictionary_encode()
        raw = encoded.dictionary.to_pylist()
        index = pc.fill_null(encoded.indices, len(raw)).to_numpy(zero_copy_only=False)
        values = [normalise_cell(v, name, self.mapping) for v in raw] + [None]
        codes = self._codes[name]
        exact = np.fromiter((codes.exact(v) for v in values), np.int32, len(values))
        keyed = np.fromiter(
            (codes.classed(v, int(e)) for v, e in zip(values, exact, strict=True)),
            np.int32,
            len(values),
        )
        return EncodedColumn(values, exact, index, exact[index], keyed[index])

    def _row_keys(self, encoded: dict[str, EncodedColumn], n_rows: int) -> np.ndarray:
        """Per row, the codes the cache is keyed on (one int32 per content column)."""
        keys = np.empty((n_rows, len(CONTENT_COLUMNS)), dtype=np.int32)
        for j, name in enumerate(CONTENT_COLUMNS):
            col = encoded[name]
            classing = self.cell_classes.get(name)
            if classing is not None and classing.exact_when_filled:
                filled = np.ones(n_rows, dtype=bool)
                for other in classing.exact_when_filled:
                    filled &= encoded[other].exact != 0
                keys[:, j] = np.where(filled, col.exact, col.key)
            else:
                keys[:, j] = col.key
        if self.date_classing is not None and n_rows:
            self._class_dates(keys, encoded, self.date_classing)
        return keys

    def _class_dates(
        self, keys: np.ndarray, encoded: dict[str, EncodedColumn], dates: DateClassing
    ) -> None:
        """Replace the date codes of each eligible row by the code of its dates' class."""
        ordinals = np.empty((keys.shape[0], len(dates.columns)), dtype=np.int64)
        for k, name in enumerate(dates.columns):
            ordinals[:, k] = self._codes[name].per_row(
                encoded[name], partial(dates.ordinal, k), BLANK_DATE
            )
        stated = self._codes[AGE_DAYS_COLUMN].per_row(encoded[AGE_DAYS_COLUMN], _stated_days, -1)
        born, diagnosed = ordinals[:, dates.birth], ordinals[:, dates.diagnosis]
        both = (born > 0) & (diagnosed > 0)
        agree = both & (stated >= 0) & (stated == diagnosed - born)
        eligible = (
            (ordinals != BLANK_DATE).any(axis=1)
            & ~(ordinals == REJECTED_DATE).any(axis=1)
            & (stated != _REJECTED_AGE)
            & ~(both & (stated >= 0) & ~agree)  # a disagreeing age keeps its own error
        )
        rows = np.flatnonzero(eligible)
        if rows.size == 0:
            return
        features = dates.features(ordinals[rows])
        packed = features.view(np.dtype((np.void, features.shape[1]))).ravel()
        unique, inverse = np.unique(packed, return_inverse=True)
        first = self._codes[dates.columns[0]]
        group = np.fromiter(
            (first.code(("dates", u)) for u in unique.tolist()), np.int32, len(unique)
        )
        positions = [CONTENT_COLUMNS.index(name) for name in dates.columns]
        keys[rows, positions[0]] = group[inverse.ravel()]
        for position in positions[1:]:
            keys[rows, position] = 0
        agreeing = rows[agree[rows]]
        if agreeing.size:
            age_code = self._codes[AGE_DAYS_COLUMN].code("agrees with the two dates")
            keys[agreeing, CONTENT_COLUMNS.index(AGE_DAYS_COLUMN)] = age_code

    # --- identifiers ---------------------------------------------------------------------

    def _identifiers(self, array: pa.Array | None, n_rows: int) -> tuple[pa.Array, dict[int, str]]:
        """Valid identifiers (null where invalid) and, per invalid row, its error text."""
        m = self.mapping
        problems: dict[int, str] = {}
        if array is None:
            array = pa.nulls(n_rows, pa.string())
        if pa.types.is_string(array.type) and ID_COLUMN not in m.codes:
            pattern, low, high = id_constraints()
            text = pc.utf8_trim(array, _TRIM)
            length = pc.utf8_length(text)
            ok = pc.and_(
                pc.and_(pc.greater_equal(length, low), pc.less_equal(length, high)),
                pc.match_substring_regex(text, pattern),
            )
            if m.missing_values:
                markers = pa.array(sorted(m.missing_values), pa.string())
                ok = pc.and_(ok, pc.invert(pc.is_in(text, value_set=markers)))
            ok = pc.fill_null(ok, False)
            ids = pc.if_else(ok, text, pa.scalar(None, pa.string()))
            doubtful = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
        else:
            ids = pa.nulls(n_rows, pa.string())
            doubtful = np.arange(n_rows)
        if len(doubtful) == 0:
            return ids, problems
        raw = array.take(pa.array(doubtful)).to_pylist()
        rescued: dict[int, str] = {}
        for row, value in zip(doubtful.tolist(), raw, strict=True):
            try:
                rescued[row] = check_patient_id(normalise_cell(value, ID_COLUMN, m), m)
            except CaseValidationError as exc:
                problems[row] = row_error_text(exc, m)
        if rescued:
            id_list = ids.to_pylist()
            for row, pid in rescued.items():
                id_list[row] = pid
            ids = pa.array(id_list, pa.string())
        return ids, problems

    # --- scoring -------------------------------------------------------------------------

    def score_batch(
        self, columns: Mapping[str, pa.Array | pa.ChunkedArray | Sequence[Any]], n_rows: int
    ) -> BatchScore:
        """Score one batch given as our-column-name -> cells (Arrow arrays or sequences)."""
        arrays = {name: _as_arrow(values) for name, values in columns.items()}
        encoded = {name: self._encode(name, arrays.get(name), n_rows) for name in CONTENT_COLUMNS}
        width = len(self.output_finding_columns)
        keys = self._row_keys(encoded, n_rows)
        packed = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        unique, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        distinct: list[bytes] = unique.tolist()
        new: dict[bytes, RowKey] = {}
        for key, row in zip(distinct, first.tolist(), strict=True):
            if key not in self._cache and key not in new:
                new[key] = tuple(
                    encoded[name].values[encoded[name].index[row]] for name in CONTENT_COLUMNS
                )
        self.summary.distinct_contents += len(new)
        for key, scored in zip(new, self._score_new(list(new.values())), strict=True):
            cells, error = scored
            # the same few texts recur in every entry: keep one copy of each
            self._cache[key] = (
                tuple(None if c is None else sys.intern(c) for c in cells) if cells else cells,
                error,
            )
        results = [self._cache[key] for key in distinct]
        take = pa.array(inverse.ravel(), pa.int64())
        errors = pa.array([err for _cells, err in results], pa.string()).take(take)
        blank_row = (None,) * width
        by_column = zip(*(blank_row if c is None else c for c, _err in results), strict=True)
        findings = [pa.array(column, pa.string()).take(take) for column in by_column]
        if not results:
            findings = [pa.nulls(0, pa.string()) for _ in range(width)]
        ids, id_problems = self._identifiers(arrays.get(ID_COLUMN), n_rows)
        if id_problems:
            texts = errors.to_pylist()
            for row, text in id_problems.items():
                texts[row] = text if texts[row] is None else f"{text}; {texts[row]}"
            errors = pa.array(texts, pa.string())
            bad = np.zeros(n_rows, dtype=bool)
            bad[list(id_problems)] = True
            mask = pa.array(bad)
            empty = pa.scalar(None, pa.string())
            findings = [pc.if_else(mask, empty, f) for f in findings]
        n_errors = n_rows - errors.null_count
        self.summary.rows += n_rows
        self.summary.errors += n_errors
        self.summary.scored += n_rows - n_errors
        if (
            len(self._cache) > self.cache_size
            or sum(map(len, self._codes.values())) > self.max_codes
        ):
            # bounded: memory stays flat on tables of any length (codes and cache go together)
            self._cache.clear()
            for codes in self._codes.values():
                codes.clear()
        return BatchScore(ids=ids, errors=errors, findings=findings)

    def score_columns(
        self, columns: Mapping[str, Sequence[Any]], n_rows: int
    ) -> tuple[list[str | None], list[str | None], list[tuple[str | None, ...] | None]]:
        """``score_batch`` as Python lists: identifiers, error texts and per-row finding cells."""
        batch = self.score_batch(columns, n_rows)
        errors: list[str | None] = batch.errors.to_pylist()
        columns_out = [f.to_pylist() for f in batch.findings]
        cells: list[tuple[str | None, ...] | None] = [
            None if errors[i] is not None else tuple(c[i] for c in columns_out)
            for i in range(n_rows)
        ]
        return batch.ids.to_pylist(), errors, cells
