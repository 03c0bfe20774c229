"""`rhabdo cohort ...` through click's CliRunner: results, files, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import DATA, engine_available
from rhabdo.cli import cli
from rhabdo.cohort.survival import read_table

pytestmark = pytest.mark.skipif(not engine_available(), reason="rule engine not importable yet")


def run(*args: str):
    return CliRunner().invoke(cli, ["cohort", *args])


def assert_clean_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fragment in result.output, result.output


@pytest.fixture(scope="module")
def synthetic_scored(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    raw, scored = d / "syn.csv", d / "scored.parquet"
    assert run("synth", "--n", "4000", "-o", str(raw), "--seed", "9").exit_code == 0
    result = run("score", str(raw), "-o", str(scored), "--no-progress")
    assert result.exit_code == 0, result.output
    return scored


def test_score_reports_counts_and_writes_every_row(tmp_path):
    out = tmp_path / "o.csv"
    result = run("score", str(DATA / "small_cohort.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "12 rows: 7 scored, 5 with errors" in result.output
    assert len(read_table(out)) == 12


def test_score_with_registry_mapping(tmp_path):
    out = tmp_path / "o.parquet"
    result = run(
        "score",
        str(DATA / "registry_cohort.csv"),
        "-o",
        str(out),
        "--mapping",
        str(DATA / "registry_mapping.yaml"),
    )
    assert result.exit_code == 0, result.output
    df = read_table(out).set_index("subject")
    assert df.loc["R01", "score.oberlin.status"] == "determined"


@pytest.mark.parametrize(
    ("args", "fragment", "document"),
    [
        (["score", "missing.csv", "-o", "o.csv"], "file not found", "invalid cohort table"),
        (
            ["score", "{data}/small_cohort.csv", "-o", "o.xlsx"],
            "unknown table format",
            "invalid cohort table",
        ),
        (
            ["score", "{data}/registry_cohort.csv", "-o", "o.csv"],
            "required column is missing",
            "invalid cohort table",
        ),
        (
            [
                "score",
                "{data}/small_cohort.csv",
                "-o",
                "o.csv",
                "--mapping",
                "{data}/small_cohort.csv",
            ],
            "must be a mapping",
            "invalid mapping file",
        ),
        (
            ["score", "{data}/small_cohort.csv", "-o", "o.csv", "--mapping", "nomap.yaml"],
            "file not found",
            "invalid mapping file",
        ),
        (["score", "{data}/small_cohort.csv"], "Missing option", None),
        (["synth", "--n", "0", "-o", "x.csv"], "Invalid value", None),
        (
            ["survival", "{data}/small_cohort.csv", "--time", "weeks", "--event", "efs_event"],
            "weeks: no such time column",
            "invalid cohort table",
        ),
        (
            [
                "survival",
                "{data}/small_cohort.csv",
                "--time",
                "efs_years",
                "--event",
                "efs_event",
                "--by",
                "stage",
            ],
            "stage: no such finding column",
            "invalid cohort table",
        ),
        (
            ["compare", "{data}/small_cohort.csv", "--time", "efs_years", "--event", "nope"],
            "nope: no such event column",
            "invalid cohort table",
        ),
    ],
)
def test_bad_input_gives_a_clear_error_without_traceback(
    tmp_path, monkeypatch, args, fragment, document
):
    """The error names the problem and, for a file the user supplied, which kind of document
    it is (never "invalid case": a cohort command reads no case document)."""
    monkeypatch.chdir(tmp_path)
    result = run(*[a.replace("{data}", str(DATA)) for a in args])
    assert_clean_error(result, fragment)
    if document is not None:
        assert document in result.output
    assert "invalid case" not in result.output


def test_survival_tables_figure_and_html(synthetic_scored, tmp_path):
    out = tmp_path / "report"
    result = run(
        "survival",
        str(synthetic_scored),
        "--time",
        "efs_years",
        "--event",
        "efs_event",
        "--by",
        "score.oberlin",
        "--cox",
        "score.oberlin",
        "--score",
        "score.oberlin",
        "--at",
        "3",
        "-o",
        str(out),
        "--figure-format",
        "svg",
    )
    assert result.exit_code == 0, result.output
    assert "log-rank chi2=" in result.output and "C-index of score.oberlin" in result.output
    assert "not analysed: " in result.output and "score.oberlin not_applicable (" in result.output
    for name in ("km.csv", "logrank.csv", "cox.csv", "km.svg", "summary.html"):
        assert (out / name).stat().st_size > 0, name
    svg = (out / "km.svg").read_text()
    # the finding's label, the time unit and the numbers-at-risk table, as journals print them
    assert "Survival by Oberlin score (metastatic at diagnosis)" in svg
    assert "efs_years (years)" in svg
    assert "At risk" in svg
    html = (out / "summary.html").read_text()
    for section in (
        'id="kaplan-meier"',
        'id="log-rank"',
        'id="cox"',
        'id="concordance"',
        'id="excluded"',
        "data:image/svg+xml;base64,",
    ):
        assert section in html


def test_survival_png_figure(synthetic_scored, tmp_path):
    out = tmp_path / "r"
    result = run(
        "survival",
        str(synthetic_scored),
        "--time",
        "efs_years",
        "--event",
        "efs_event",
        "--by",
        "risk.epssg",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert (out / "km.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_lists_published_figure_next_to_cohort_estimate(synthetic_scored, tmp_path):
    out = tmp_path / "cal.csv"
    result = run(
        "compare",
        str(synthetic_scored),
        "--time",
        "efs_years",
        "--event",
        "efs_event",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    df = read_table(out)
    assert list(df["published_percent"].astype(float)) == [50.0, 42.0, 18.0, 12.0, 5.0]
    assert set(df["citations"]) == {"oberlin_2008"}
    assert df["cohort_percent"].notna().all()
    text = run("compare", str(synthetic_scored), "--time", "efs_years", "--event", "efs_event")
    assert "Oberlin score 2: 3-year EFS" in text.output
