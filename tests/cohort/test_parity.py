"""The same patient gives identical findings through `rhabdo assess` and `rhabdo cohort score`."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from conftest import DATA, engine_available
from rhabdo.cli import cli
from rhabdo.cohort.cells import finding_cells, probe_finding_ids
from rhabdo.cohort.columns import ID_COLUMN
from rhabdo.cohort.rows import row_to_case
from rhabdo.cohort.survival import read_table

pytestmark = pytest.mark.skipif(not engine_available(), reason="rule engine not importable yet")

PAIRS = [
    ("PARITY-1", "parity-metastatic-relapse.yaml"),
    ("PARITY-2", "parity-localised-orbit.yaml"),
]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity") / "scored.csv"
    result = CliRunner().invoke(
        cli, ["cohort", "score", str(DATA / "parity_cohort.csv"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return read_table(out).set_index(ID_COLUMN)


@pytest.mark.parametrize(("patient", "case_file"), PAIRS)
def test_cli_assess_and_cli_cohort_score_agree(scored, patient, case_file):
    result = CliRunner().invoke(cli, ["assess", str(DATA / case_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    row = scored.loc[patient]
    assert isinstance(row["error"], float)  # NaN: no error
    from rhabdo.engine import CORE_FINDING_RULES

    for fid in probe_finding_ids(CORE_FINDING_RULES):
        f = findings[fid]
        assert row[fid + ".status"] == f["status"], fid
        if f["status"] == "determined":
            value = (
                f["value"]
                if isinstance(f["value"], str)
                else json.dumps(f["value"], sort_keys=True, separators=(",", ":"))
            )
            if isinstance(f["value"], bool):
                value = "true" if f["value"] else "false"
            assert row[fid] == value, fid
        needs = ";".join(f["needs"]) if f["needs"] else None
        assert (row[fid + ".needs"] if isinstance(row[fid + ".needs"], str) else None) == needs, fid


@pytest.mark.parametrize(("patient", "case_file"), PAIRS)
def test_case_file_and_row_make_the_same_case_and_cells(patient, case_file):
    from rhabdo.case.io import load_case
    from rhabdo.engine import CORE_FINDING_RULES, assess

    with (DATA / "parity_cohort.csv").open(newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r[ID_COLUMN] == patient)
    from_row = row_to_case(row)
    from_file = load_case(DATA / case_file)
    assert from_row == from_file
    ids = probe_finding_ids(CORE_FINDING_RULES)
    assert finding_cells(assess(from_row).findings, ids) == finding_cells(
        assess(from_file).findings, ids
    )


def test_every_small_cohort_row_scores_like_assess(tmp_path):
    from rhabdo.cohort.score import score_file
    from rhabdo.engine import CORE_FINDING_RULES, assess
    from rhabdo.errors import CaseValidationError

    out = tmp_path / "o.parquet"
    score_file(DATA / "small_cohort.csv", out, progress=False)
    scored = read_table(out).dropna(subset=[ID_COLUMN]).set_index(ID_COLUMN)
    ids = probe_finding_ids(CORE_FINDING_RULES)
    with (DATA / "small_cohort.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r[ID_COLUMN] and None not in r.values()]
    checked = 0
    for row in rows:
        try:
            case = row_to_case(row)
        except CaseValidationError:
            assert isinstance(scored.loc[row[ID_COLUMN], "error"], str)
            continue
        cells = finding_cells(assess(case).findings, ids)
        got = tuple(
            None if not isinstance(v, str) else v for v in scored.loc[row[ID_COLUMN], _cols(ids)]
        )
        assert got == cells, row[ID_COLUMN]
        checked += 1
    assert checked == 7


def _cols(ids: list[str]) -> list[str]:
    from rhabdo.cohort.cells import finding_columns

    return finding_columns(ids)
