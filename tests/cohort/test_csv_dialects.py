"""Cohort CSVs as spreadsheets write them (issue 17 §6): a byte-order mark, semicolon or tab
delimiters, day-first dates; and a cohort in which no row could be scored fails."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from rhabdo.cli import cli

DATA = Path(__file__).resolve().parents[1] / "data" / "cohort"
SMALL = DATA / "small_cohort.csv"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["cohort", *args])


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rewrite(src: Path, dst: Path, *, delimiter: str = ",", bom: bool = False) -> Path:
    with src.open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    with dst.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(table)
    return dst


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("ref") / "scored.csv"
    result = run("score", str(SMALL), "-o", str(out))
    assert result.exit_code == 0, result.output
    return rows_of(out)


@pytest.mark.parametrize(
    ("delimiter", "bom"),
    [(",", True), (";", False), (";", True), ("\t", False), ("\t", True)],
    ids=["bom", "semicolon", "semicolon-bom", "tab", "tab-bom"],
)
def test_spreadsheet_dialects_score_like_the_plain_file(
    delimiter: str, bom: bool, reference: list[dict[str, str]], tmp_path: Path
) -> None:
    src = rewrite(SMALL, tmp_path / "cohort.csv", delimiter=delimiter, bom=bom)
    out = tmp_path / "scored.csv"
    result = run("score", str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert rows_of(out) == reference


@pytest.mark.parametrize(("delimiter", "bom"), [(";", True), ("\t", False)])
def test_survival_reads_spreadsheet_dialects(delimiter: str, bom: bool, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    assert run("score", str(SMALL), "-o", str(scored)).exit_code == 0
    src = rewrite(scored, tmp_path / "dialect.csv", delimiter=delimiter, bom=bom)
    result = run("survival", str(src), "--time", "efs_years", "--event", "efs_event")
    assert result.exit_code == 0, result.output


DATED = (
    "honest_broker_subject_id,histology,primary_site,diagnosis_date,first_event_kind,"
    "first_event_date\n"
    "D1,embryonal,orbit,15/03/2022,relapse,20/09/2023\n"
    "D2,alveolar,extremity,01/02/2021,,\n"
)


def test_day_first_dates_give_one_message_naming_the_format(tmp_path: Path) -> None:
    src = tmp_path / "dated.csv"
    src.write_text(DATED)
    result = run("score", str(src), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "diagnosis_date: dates must be YYYY-MM-DD (found '15/03/2022')" in result.stderr
    assert "--date-format" in result.stderr


def test_date_format_option_reads_them(tmp_path: Path) -> None:
    src = tmp_path / "dated.csv"
    src.write_text(DATED)
    out = tmp_path / "out.csv"
    result = run("score", str(src), "-o", str(out), "--date-format", "%d/%m/%Y")
    assert result.exit_code == 0, result.output
    rows = rows_of(out)
    assert [r["error"] for r in rows] == ["", ""]


def test_a_date_that_does_not_fit_the_format_is_an_error_not_a_blank(tmp_path: Path) -> None:
    src = tmp_path / "dated.csv"
    src.write_text(DATED.replace("01/02/2021", "2021-31-31"))
    out = tmp_path / "out.csv"
    result = run("score", str(src), "-o", str(out), "--date-format", "%d/%m/%Y")
    assert result.exit_code == 0, result.output
    rows = rows_of(out)
    assert rows[0]["error"] == ""
    assert "diagnosis_date" in rows[1]["error"] and "YYYY-MM-DD" in rows[1]["error"]


def test_no_row_scored_exits_non_zero(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("honest_broker_subject_id,histology\nB1,not_a_histology\nB2,also_wrong\n")
    result = run("score", str(src), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1
    assert "no row of bad.csv could be scored" in result.stderr
