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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rhabdo.case.model import Case, Patient
from rhabdo.cohort.columns import CONTENT_COLUMNS, ID_COLUMN, IDENTIFYING_COLUMNS, ColumnMapping
from rhabdo.cohort.rows import (
    RowKey,
    case_from_key,
    check_patient_id,
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


class CohortScorer:
    """Scores batches of rows; reuse one scorer for a whole table so its cache is shared."""

    def __init__(
        self,
        rules: Sequence[FindingRule] | None = None,
        mapping: ColumnMapping | None = None,
        *,
        workers: int = 1,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.rules = tuple(rules) if rules is not None else default_rules()
        self.mapping = mapping or ColumnMapping()
        self.finding_ids = probe_finding_ids(self.rules)
        self.workers = max(1, workers)
        self.cache_size = cache_size
        self._cache: dict[RowKey, Scored] = {}
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

    def score_columns(
        self, columns: Mapping[str, Sequence[Any]], n_rows: int, *, normalised: bool = False
    ) -> tuple[list[str | None], list[str | None], list[tuple[str | None, ...] | None]]:
        """Score one batch given as our-column-name -> cells.

        Returns the identifiers (None when invalid), the error texts and the finding cells of
        each row, in row order.  ``normalised`` says the cells already went through
        ``normalise_cell`` (as ``arrow_column_cells`` does).
        """
        m = self.mapping
        content: list[Sequence[Any]] = []
        for name in CONTENT_COLUMNS:
            if name not in columns:
                content.append([None] * n_rows)
            elif normalised:
                content.append(columns[name])
            else:
                content.append([normalise_cell(v, name, m) for v in columns[name]])
        keys: list[RowKey] = list(zip(*content, strict=True))
        new = list(dict.fromkeys(k for k in keys if k not in self._cache))
        self.summary.distinct_contents += len(new)
        for k, scored in zip(new, self._score_new(new), strict=True):
            self._cache[k] = scored
        raw_ids = columns.get(ID_COLUMN, [None] * n_rows)
        ids: list[str | None] = []
        errors: list[str | None] = []
        cells: list[tuple[str | None, ...] | None] = []
        for raw_id, key in zip(raw_ids, keys, strict=True):
            problems: list[str] = []
            pid: str | None = None
            try:
                pid = check_patient_id(normalise_cell(raw_id, ID_COLUMN, m), m)
            except CaseValidationError as exc:
                problems.append(row_error_text(exc, m))
            found, error = self._cache[key]
            if error is not None:
                problems.append(error)
            ids.append(pid)
            if problems:
                errors.append("; ".join(problems))
                cells.append(None)
                self.summary.errors += 1
            else:
                errors.append(None)
                cells.append(found)
                self.summary.scored += 1
        self.summary.rows += n_rows
        if len(self._cache) > self.cache_size:
            self._cache.clear()  # bounded: memory stays flat on tables of any length
        return ids, errors, cells


# --- files ---------------------------------------------------------------------------


def arrow_column_cells(
    array: pa.Array | pa.ChunkedArray, column: str, mapping: ColumnMapping
) -> list[Any]:
    """One column's cells, normalised as ``normalise_cell`` does, trimming text in Arrow."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        trimmed = pc.utf8_trim_whitespace(array)
        blank = pc.equal(trimmed, "")
        for marker in mapping.missing_values:
            blank = pc.or_(blank, pc.equal(trimmed, marker))
        values: list[Any] = pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed).to_pylist()
        if column in mapping.codes:
            return [normalise_cell(v, column, mapping) for v in values]
        return values
    return [normalise_cell(v, column, mapping) for v in array.to_pylist()]


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
                    cols = {
                        ours: arrow_column_cells(batch.column(theirs), ours, m)
                        for theirs, ours in rename.items()
                    }
                    ids, errors, cells = scorer.score_columns(cols, n, normalised=True)
                    arrays: list[pa.Array] = [
                        pa.array(range(row_offset + 1, row_offset + n + 1), pa.int64()),
                        pa.array(ids, pa.string()),
                        pa.array(errors, pa.string()),
                    ]
                    width = len(fcols)
                    columns_out = (
                        list(
                            zip(
                                *[c if c is not None else (None,) * width for c in cells],
                                strict=True,
                            )
                        )
                        if n
                        else [() for _ in range(width)]
                    )
                    arrays += [pa.array(list(col), pa.string()) for col in columns_out]
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
