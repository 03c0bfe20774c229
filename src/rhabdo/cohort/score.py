"""Batch scoring: every row of a cohort table through the same rules as ``rhabdo assess``.

The table is read and written in batches (pyarrow), so memory stays flat whatever the number
of rows.  Two rows with the same normalised content (identifier excluded) are the same case
to every rule, so each distinct content is validated and scored once and the result reused:
validation is a pure function of the content, so this memoises it, it never skips it.  The
identifier of every row is still checked on its own.  Distinct contents can be scored in a
pool of worker processes.

A row that fails validation keeps its place in the output with an ``error`` naming the
registry's column and the problem; lines the CSV reader cannot split are reported the same
way.  Nothing is dropped.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rhabdo.case.model import Case, Patient
from rhabdo.cohort.cell_classes import CellClassing, core_cell_classes
from rhabdo.cohort.columns import CONTENT_COLUMNS, ID_COLUMN, IDENTIFYING_COLUMNS, ColumnMapping
from rhabdo.cohort.rows import (
    Cell,
    RowKey,
    case_from_key,
    check_patient_id,
    id_constraints,
    normalise_cell,
    rename_to_ours,
    row_error_text,
)
from rhabdo.errors import CaseValidationError, FieldProblem
from rhabdo.results import Finding, FindingStatus

FindingRule = Callable[[Case], Finding]

ROW_COLUMN = "row"
ERROR_COLUMN = "error"
STATUS_SUFFIX = ".status"
CANDIDATES_SUFFIX = ".candidates"
NEEDS_SUFFIX = ".needs"
DEFAULT_BATCH_ROWS = 65_536
DEFAULT_CACHE_SIZE = 50_000


def default_rules() -> tuple[FindingRule, ...]:
    """The engine's core finding rules (the same list ``rhabdo assess`` runs)."""
    from rhabdo.engine import CORE_FINDING_RULES

    return tuple(CORE_FINDING_RULES)


def probe_finding_ids(rules: Sequence[FindingRule]) -> list[str]:
    """The id of each rule's finding, learnt by running it on a case where nothing is known."""
    empty = Case(patient=Patient(id="probe"))
    return [rule(empty).id for rule in rules]


def value_text(value: Any) -> str:
    """A finding value as one cell: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def finding_columns(finding_ids: Sequence[str]) -> list[str]:
    """Output column names: per finding its value, status, candidates and needs."""
    out: list[str] = []
    for fid in finding_ids:
        out += [fid, fid + STATUS_SUFFIX, fid + CANDIDATES_SUFFIX, fid + NEEDS_SUFFIX]
    return out


def finding_cells(
    findings: Mapping[str, Finding], finding_ids: Sequence[str]
) -> tuple[str | None, ...]:
    """The output cells of one row's findings, in ``finding_columns`` order."""
    cells: list[str | None] = []
    for fid in finding_ids:
        f = findings.get(fid)
        if f is None:
            cells += [None, None, None, None]
            continue
        cells.append(value_text(f.value) if f.status is FindingStatus.DETERMINED else None)
        cells.append(f.status.value)
        cells.append(
            json.dumps([value_text(c) for c in f.candidates])
            if f.status is FindingStatus.INDETERMINATE
            else None
        )
        cells.append(";".join(f.needs) if f.needs else None)
    return tuple(cells)


def run_rules(case: Case, rules: Sequence[FindingRule]) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    for rule in rules:
        f = rule(case)
        findings[f.id] = f
    return findings


#: Scored content: (finding cells, None) or (None, error text).
Scored = tuple[tuple[str | None, ...] | None, str | None]


def score_key(
    key: RowKey, rules: Sequence[FindingRule], finding_ids: Sequence[str], mapping: ColumnMapping
) -> Scored:
    """Validate and score one distinct row content."""
    try:
        case = case_from_key(key, mapping)
    except CaseValidationError as exc:
        return None, row_error_text(exc, mapping)
    return finding_cells(run_rules(case, rules), finding_ids), None


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

    def __len__(self) -> int:
        return len(self.codes)

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


@dataclass
class EncodedColumn:
    """One column of a batch: its distinct normalised cells and, per row, which one."""

    values: list[Cell]  # distinct normalised cells; the last is None (blank)
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
        cell_classes: Sequence[CellClassing] | None = None,
        max_codes: int = DEFAULT_MAX_CODES,
    ) -> None:
        self.rules = tuple(rules) if rules is not None else default_rules()
        if cell_classes is None:
            # the classes describe the core rules only; other rules key on exact cells
            cell_classes = core_cell_classes() if rules is None else ()
        self.cell_classes = {c.column: c for c in cell_classes}
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
            return EncodedColumn([None], zeros, zeros, zeros)
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
        return EncodedColumn(values, index, exact[index], keyed[index])

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
        return keys

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
            self._cache[key] = scored
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


# --- files ---------------------------------------------------------------------------


def table_format(path: str | Path) -> str:
    """'csv' or 'parquet' from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise CaseValidationError(
        [FieldProblem("(file)", f"unknown table format {suffix!r}; use .csv or .parquet")],
        str(path),
    )


@dataclass
class UnreadableLine:
    line: int | None
    problem: str


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except FileNotFoundError:
        raise CaseValidationError([FieldProblem("(file)", "file not found")], str(path)) from None
    except UnicodeDecodeError:
        raise CaseValidationError([FieldProblem("(file)", "not UTF-8 text")], str(path)) from None
    if not header:
        raise CaseValidationError([FieldProblem("(file)", "empty file: no header row")], str(path))
    return [h.strip() for h in header]


def read_batches(
    path: str | Path,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    unreadable: list[UnreadableLine] | None = None,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], int | None]:
    """Open a CSV or Parquet table for streaming: its schema, its batches and its row count.

    CSV cells are read as text (the case model parses them, so that a cell that is not a
    number is reported as such, not coerced).  Lines with the wrong number of cells are
    recorded in ``unreadable`` and reading continues.
    """
    p = Path(path)
    fmt = table_format(p)
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(p)
        except FileNotFoundError:
            raise CaseValidationError([FieldProblem("(file)", "file not found")], str(p)) from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise CaseValidationError(
                [FieldProblem("(file)", f"not a Parquet file ({exc})")], str(p)
            ) from None
        return pf.schema_arrow, pf.iter_batches(batch_size=batch_rows), pf.metadata.num_rows
    header = _csv_header(p)
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise CaseValidationError(
            [FieldProblem("(header)", f"duplicate column(s): {', '.join(dup)}")], str(p)
        )
    sink = unreadable if unreadable is not None else []

    def on_invalid(row: Any) -> str:
        sink.append(
            UnreadableLine(
                getattr(row, "number", None),
                f"line has {row.actual_columns} cells, the header has {row.expected_columns}",
            )
        )
        return "skip"

    reader = pacsv.open_csv(
        p,
        read_options=pacsv.ReadOptions(
            column_names=header,
            skip_rows=1,
            block_size=4 << 20,
            use_threads=False,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=False
        ),
    )
    return reader.schema, _at_most(reader, batch_rows), None


def _at_most(batches: Any, rows: int) -> Iterator[pa.RecordBatch]:
    """Re-slice batches so that none holds more than ``rows`` rows."""
    for batch in batches:
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


class TableWriter:
    """Writes output batches to CSV or Parquet as they are produced."""

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.format = table_format(self.path)
        self.schema = schema
        self._writer: Any
        try:
            if self.format == "parquet":
                self._writer = pq.ParquetWriter(self.path, schema)
            else:
                self._writer = pacsv.CSVWriter(self.path, schema)
        except OSError as exc:
            raise CaseValidationError(
                [FieldProblem("(output)", f"cannot write ({exc})")], str(self.path)
            ) from None

    def write(self, batch: pa.RecordBatch) -> None:
        if self.format == "parquet":
            self._writer.write_batch(batch)
        else:
            self._writer.write(batch)

    def close(self) -> None:
        self._writer.close()


def _progress(total: int | None, enabled: bool | None) -> Any:
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, unit="rows", unit_scale=True, disable=not show, desc="scoring")


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    rules: Sequence[FindingRule] | None = None,
    mapping: ColumnMapping | None = None,
    workers: int = 1,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> ScoreSummary:
    """Score a CSV/Parquet cohort into a CSV/Parquet table of findings, streaming in batches.

    Output columns: ``row`` (1-based position in the input), the identifier, ``error``, per
    finding its value/status/candidates/needs, then every input column the format does not
    know (outcome columns, for example) unchanged.  The date of birth is never written.
    """
    m = mapping or ColumnMapping()
    unreadable: list[UnreadableLine] = []
    schema, batches, total = read_batches(input_path, batch_rows, unreadable)
    rename = rename_to_ours(schema.names, m)
    if ID_COLUMN not in rename.values():
        raise CaseValidationError(
            [FieldProblem(m.source_name(ID_COLUMN), "required column is missing from the table")],
            str(input_path),
        )
    passthrough = [n for n in schema.names if n not in rename and n not in IDENTIFYING_COLUMNS]
    with CohortScorer(rules, m, workers=workers) as scorer:
        meta = [ROW_COLUMN, m.source_name(ID_COLUMN), ERROR_COLUMN]
        fcols = scorer.output_finding_columns
        clash = sorted(set(passthrough) & set(meta + fcols))
        if clash:
            raise CaseValidationError(
                [
                    FieldProblem(c, "input column has the name of an output column; rename it")
                    for c in clash
                ],
                str(input_path),
            )
        out_schema = pa.schema(
            [
                pa.field(ROW_COLUMN, pa.int64()),
                pa.field(meta[1], pa.string()),
                pa.field(ERROR_COLUMN, pa.string()),
            ]
            + [pa.field(c, pa.string()) for c in fcols]
            + [schema.field(n) for n in passthrough]
        )
        writer = TableWriter(output_path, out_schema)
        row_offset = 0
        reported = 0
        try:
            with _progress(total, progress) as bar:
                for batch in batches:
                    n = batch.num_rows
                    cols = {ours: batch.column(theirs) for theirs, ours in rename.items()}
                    scored = scorer.score_batch(cols, n)
                    arrays: list[pa.Array] = [
                        pa.array(range(row_offset + 1, row_offset + n + 1), pa.int64()),
                        scored.ids,
                        scored.errors,
                        *scored.findings,
                    ]
                    arrays += [batch.column(name) for name in passthrough]
                    writer.write(pa.RecordBatch.from_arrays(arrays, schema=out_schema))
                    row_offset += n
                    bar.update(n)
                    while reported < len(unreadable):
                        writer.write(_unreadable_batch(unreadable[reported], out_schema))
                        reported += 1
                        scorer.summary.unreadable_lines += 1
                        scorer.summary.rows += 1
                        scorer.summary.errors += 1
            while reported < len(unreadable):
                writer.write(_unreadable_batch(unreadable[reported], out_schema))
                reported += 1
                scorer.summary.unreadable_lines += 1
                scorer.summary.rows += 1
                scorer.summary.errors += 1
        except pa.ArrowInvalid as exc:
            raise CaseValidationError(
                [FieldProblem("(file)", f"cannot be read: {exc}")], str(input_path)
            ) from None
        finally:
            writer.close()
        return scorer.summary


def _unreadable_batch(line: UnreadableLine, schema: pa.Schema) -> pa.RecordBatch:
    where = f"line {line.line}" if line.line is not None else "a line"
    values: dict[str, Any] = {name: [None] for name in schema.names}
    values[ERROR_COLUMN] = [f"(row): {where} could not be read: {line.problem}"]
    return pa.RecordBatch.from_pydict(values, schema=schema)
