"""Batch scoring: good rows all scored, bad rows all reported, CSV and Parquet both ways."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from standin import STANDIN_RULES

from rhabdo.cohort.cells import finding_cells, finding_columns, run_rules
from rhabdo.cohort.columns import load_mapping
from rhabdo.cohort.rows import row_to_case
from rhabdo.cohort.score import score_file
from rhabdo.cohort.scorer import CohortScorer
from rhabdo.cohort.survival import read_table
from rhabdo.errors import CaseValidationError

GOOD = ["C001", "C002", "C003", "C004", "C005", "C006", "C012"]
BAD = {
    "C007": "primary_site: unknown code 'kidney_typo'",
    "C008": "max_diameter_cm: Input should be greater than 0",
    None: "honest_broker_subject_id: required field is missing",
    "C011": "distant_metastases: a site is listed twice",
}


def _score(
    data_dir: Path, tmp_path: Path, out_name: str, src: Path | None = None, **kw: object
) -> pd.DataFrame:
    out = tmp_path / out_name
    score_file(src or data_dir / "small_cohort.csv", out, rules=STANDIN_RULES, progress=False, **kw)  # type: ignore[arg-type]
    return read_table(out)


@pytest.mark.parametrize("out_name", ["scored.csv", "scored.parquet"])
def test_malformed_rows_never_stop_the_run_and_are_each_reported(data_dir, tmp_path, out_name):
    df = _score(data_dir, tmp_path, out_name)
    assert len(df) == 12  # 11 readable rows + 1 unreadable line, none dropped
    ok = df[df["error"].isna()]
    assert sorted(ok["honest_broker_subject_id"]) == GOOD
    assert set(ok["score.oberlin.status"]) <= {"determined", "indeterminate", "not_applicable"}
    errors = df[df["error"].notna()]
    assert len(errors) == 5
    texts = list(errors["error"])
    for fragment in BAD.values():
        assert sum(fragment in t for t in texts) == 1, fragment
    assert sum("line 10 could not be read" in t for t in texts) == 1
    # a bad row has no finding values
    assert errors["score.oberlin.status"].isna().all()


def test_output_columns_values_status_candidates_needs(data_dir, tmp_path):
    df = _score(data_dir, tmp_path, "o.csv").set_index("honest_broker_subject_id")
    assert list(df.columns[:2]) == ["row", "error"]
    assert set(finding_columns(["score.oberlin"])) <= set(df.columns)
    assert df.loc["C002", "score.oberlin"] == "4"
    assert df.loc["C002", "score.oberlin.status"] == "determined"
    assert df.loc["C006", "score.oberlin.status"] == "indeterminate"
    assert df.loc["C006", "score.oberlin.candidates"] == '["0", "1", "2", "3", "4"]'
    assert df.loc["C006", "score.oberlin.needs"] == "diagnosis.distant_metastases"
    assert df.loc["C001", "score.oberlin.status"] == "not_applicable"
    # outcome columns pass through unchanged
    assert df.loc["C002", "efs_years"] == "0.9"


def test_date_of_birth_is_never_written(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "honest_broker_subject_id,date_of_birth,diagnosis_date\nP1,2015-03-04,2020-01-01\n"
    )
    df = _score(tmp_path, tmp_path, "o.csv", src=src)
    assert "date_of_birth" not in df.columns
    assert "2015-03-04" not in (tmp_path / "o.csv").read_text()


@pytest.mark.parametrize("out_name", ["o.parquet", "o.csv"])
def test_parquet_input_with_typed_columns(tmp_path, out_name):
    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {
                "honest_broker_subject_id": ["A1", "A2"],
                "age_at_diagnosis_days": [4000, None],
                "primary_site": ["extremity", "orbit"],
                "distant_metastases": ["lung;bone", "none"],
                "efs_years": [1.5, 3.0],
            }
        ),
        src,
    )
    df = _score(tmp_path, tmp_path, out_name, src=src)
    assert [v if isinstance(v, str) else None for v in df["score.oberlin"]] == ["3", None]
    if out_name.endswith(".parquet"):
        assert df["efs_years"].dtype.kind == "f"  # typed pass-through columns keep their type
    else:
        assert list(df["efs_years"]) == ["1.5", "3"]


def test_registry_mapping(data_dir, tmp_path):
    df = _score(
        data_dir,
        tmp_path,
        "o.csv",
        src=data_dir / "registry_cohort.csv",
        mapping=load_mapping(data_dir / "registry_mapping.yaml"),
    ).set_index("subject")
    assert df.loc["R01", "score.oberlin"] == "3"
    assert df.loc["R02", "score.oberlin.status"] == "not_applicable"
    assert df.loc["R03", "error"].startswith("gender (sex): unknown code 'X'")


def test_same_content_gives_same_cells_and_is_scored_once():
    scorer = CohortScorer(STANDIN_RULES)
    cols = {
        "honest_broker_subject_id": ["A", "B", "C"],
        "primary_site": ["orbit", "orbit", "trunk"],
        "distant_metastases": ["lung", "lung", "lung"],
        "age_at_diagnosis_days": ["100"] * 3,
    }
    ids, errors, cells = scorer.score_columns(cols, 3)
    assert ids == ["A", "B", "C"] and errors == [None] * 3
    assert cells[0] == cells[1] != cells[2]
    assert scorer.summary.distinct_contents == 2


def test_cells_equal_a_direct_run_of_the_rules():
    row = {
        "honest_broker_subject_id": "Z9",
        "primary_site": "trunk",
        "distant_metastases": "lung;bone",
        "age_at_diagnosis_days": "5000",
    }
    scorer = CohortScorer(STANDIN_RULES)
    _ids, _errors, cells = scorer.score_columns({k: [v] for k, v in row.items()}, 1)
    direct = finding_cells(run_rules(row_to_case(row), STANDIN_RULES), scorer.finding_ids)
    assert cells[0] == direct


def test_worker_pool_gives_the_same_output_as_one_process(tmp_path):
    src = tmp_path / "many.csv"
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "honest_broker_subject_id",
                "age_at_diagnosis_days",
                "primary_site",
                "distant_metastases",
            ]
        )
        sites = ["orbit", "trunk", "extremity"]
        mets = ["none", "lung", "lung;bone;bone_marrow", ""]
        for i in range(6000):
            w.writerow([f"P{i}", str(i), sites[i % 3], mets[i % 4]])
    one = tmp_path / "one.parquet"
    two = tmp_path / "two.parquet"
    score_file(src, one, rules=STANDIN_RULES, progress=False, batch_rows=2500)
    score_file(src, two, rules=STANDIN_RULES, progress=False, batch_rows=2500, workers=2)
    assert pq.read_table(one).equals(pq.read_table(two))


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        ("sex,histology\nmale,embryonal\n", "in.csv", "required column is missing"),
        ("", "in.csv", "no header row"),
        ("honest_broker_subject_id,sex,sex\nA,male,male\n", "in.csv", "duplicate column"),
        ("honest_broker_subject_id\nA\n", "in.xlsx", "unknown table format"),
        ("honest_broker_subject_id,error\nA,x\n", "in.csv", "name of an output column"),
        ("not parquet", "in.parquet", "not a Parquet file"),
    ],
)
def test_unusable_tables_are_rejected_with_a_clear_error(tmp_path, content, name, fragment):
    src = tmp_path / name
    src.write_text(content)
    with pytest.raises(CaseValidationError) as info:
        score_file(src, tmp_path / "o.csv", rules=STANDIN_RULES, progress=False)
    assert fragment in str(info.value)


def test_missing_input_file(tmp_path):
    with pytest.raises(CaseValidationError, match="file not found"):
        score_file(tmp_path / "nope.csv", tmp_path / "o.csv", rules=STANDIN_RULES, progress=False)


def test_cache_is_bounded_so_memory_does_not_grow_with_rows():
    scorer = CohortScorer(STANDIN_RULES, cache_size=10)
    for start in range(0, 100, 20):
        ids = [f"P{i}" for i in range(start, start + 20)]
        ages = [str(i) for i in range(start, start + 20)]
        scorer.score_columns({"honest_broker_subject_id": ids, "age_at_diagnosis_days": ages}, 20)
        assert len(scorer._cache) <= 10 + 20
    assert scorer.summary.rows == 100 and scorer.summary.scored == 100
