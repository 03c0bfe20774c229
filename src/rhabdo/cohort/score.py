"""Batch scoring of a cohort file: every row through the same rules as ``rhabdo assess``.

The table is read and written in batches (pyarrow), so memory stays flat whatever the number
of rows; each batch goes through one ``CohortScorer`` (``rhabdo.cohort.scorer``), whose cache
is shared by the whole table.

A row that fails validation keeps its place in the output with an ``error`` naming the
registry's column and the problem; lines the CSV reader cannot split are reported the same
way.  Nothing is dropped.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rhabdo.cohort.cells import FindingRule
from rhabdo.cohort.columns import (
    COLUMNS_BY_NAME,
    ID_COLUMN,
    IDENTIFYING_COLUMNS,
    CellKind,
    ColumnMapping,
)
from rhabdo.cohort.rows import rename_to_ours
from rhabdo.cohort.scorer import CohortScorer, ScoreSummary
from rhabdo.errors import CohortTableError, FieldProblem

ROW_COLUMN = "row"
ERROR_COLUMN = "error"
DEFAULT_BATCH_ROWS = 65_536

# --- files ---------------------------------------------------------------------------


def table_format(path: str | Path) -> str:
    """'csv' or 'parquet' from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise CohortTableError(
        [FieldProblem("(file)", f"unknown table format {suffix!r}; use .csv or .parquet")],
        str(path),
    )


@dataclass
class UnreadableLine:
    line: int | None
    problem: str


#: Delimiters a cohort CSV may use: comma, and the semicolon or tab that spreadsheet programs
#: write in locales where the comma is the decimal mark.
DELIMITERS = (",", ";", "\t")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the candidate that splits it into the most cells
    (a comma when none splits it)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_header(path: Path) -> tuple[list[str], str]:
    """The header row and the delimiter; a UTF-8 byte-order mark (as Excel writes) is dropped."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise CohortTableError([FieldProblem("(file)", "file not found")], str(path)) from None
    except UnicodeDecodeError:
        raise CohortTableError([FieldProblem("(file)", "not UTF-8 text")], str(path)) from None
    delimiter = sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), None)
    if not header or not first.strip():
        raise CohortTableError([FieldProblem("(file)", "empty file: no header row")], str(path))
    return [h.strip() for h in header], delimiter


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
            raise CohortTableError([FieldProblem("(file)", "file not found")], str(p)) from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise CohortTableError(
                [FieldProblem("(file)", f"not a Parquet file ({exc})")], str(p)
            ) from None
        return pf.schema_arrow, pf.iter_batches(batch_size=batch_rows), pf.metadata.num_rows
    header, delimiter = _csv_header(p)
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise CohortTableError(
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
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=False
        ),
    )
    return reader.schema, _at_most(reader, batch_rows), None


def date_columns(rename: dict[str, str]) -> list[str]:
    """The input columns (their names) that hold dates."""
    return [
        theirs
        for theirs, ours in rename.items()
        if ours in COLUMNS_BY_NAME and COLUMNS_BY_NAME[ours].kind is CellKind.DATE
    ]


def reformat_dates(column: pa.Array, date_format: str) -> pa.Array:
    """Dates written as ``date_format`` (strptime codes, e.g. %d/%m/%Y) rewritten as
    YYYY-MM-DD.  A cell that does not fit the format is kept as written, so that the case
    model rejects it with the column named; it never becomes blank (unknown)."""
    import pyarrow.compute as pc

    text = column.cast(pa.string())
    parsed = pc.strptime(text, format=date_format, unit="s", error_is_null=True)
    iso = pc.strftime(parsed, format="%Y-%m-%d")
    return pc.if_else(pc.is_null(parsed), text, iso)


def check_date_style(batch: pa.RecordBatch, columns: list[str], source: str) -> None:
    """One clear message when a date column is written in another style (15/03/2022, as
    spreadsheets do), instead of an error on every row."""
    for name in columns:
        cells = [c for c in batch.column(name).to_pylist() if isinstance(c, str) and c.strip()]
        bad = [c for c in cells if not ISO_DATE.match(c.strip())]
        if cells and len(bad) * 2 > len(cells):
            raise CohortTableError(
                [
                    FieldProblem(
                        name,
                        f"dates must be YYYY-MM-DD (found {bad[0]!r}); convert the column or "
                        "give the format, e.g. --date-format %d/%m/%Y",
                    )
                ],
                source,
            )


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
            raise CohortTableError(
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
    date_format: str | None = None,
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
        raise CohortTableError(
            [FieldProblem(m.source_name(ID_COLUMN), "required column is missing from the table")],
            str(input_path),
        )
    passthrough = [n for n in schema.names if n not in rename and n not in IDENTIFYING_COLUMNS]
    dates = date_columns(rename)
    with CohortScorer(rules, m, workers=workers) as scorer:
        meta = [ROW_COLUMN, m.source_name(ID_COLUMN), ERROR_COLUMN]
        fcols = scorer.output_finding_columns
        clash = sorted(set(passthrough) & set(meta + fcols))
        if clash:
            raise CohortTableError(
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
                for index, batch in enumerate(batches):
                    n = batch.num_rows
                    if date_format is not None:
                        batch = _with_dates(batch, dates, date_format)
                    elif index == 0:
                        check_date_style(batch, dates, str(input_path))
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
            raise CohortTableError(
                [FieldProblem("(file)", f"cannot be read: {exc}")], str(input_path)
            ) from None
        finally:
            writer.close()
        return scorer.summary


def _with_dates(batch: pa.RecordBatch, columns: list[str], date_format: str) -> pa.RecordBatch:
    arrays = [
        reformat_dates(batch.column(i), date_format) if name in columns else batch.column(i)
        for i, name in enumerate(batch.schema.names)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _unreadable_batch(line: UnreadableLine, schema: pa.Schema) -> pa.RecordBatch:
    where = f"line {line.line}" if line.line is not None else "a line"
    values: dict[str, Any] = {name: [None] for name in schema.names}
    values[ERROR_COLUMN] = [f"(row): {where} could not be read: {line.problem}"]
    return pa.RecordBatch.from_pydict(values, schema=schema)
