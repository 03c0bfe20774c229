"""``rhabdo trials`` via click's CliRunner: good input; bad input exits non-zero with a message."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from rhabdo.cli import cli

from .trials_helpers import CTGOV, EXAMPLES

CASE = str(EXAMPLES / "relapse-after-metastatic-alveolar.yaml")


def run(*args: str):
    return CliRunner().invoke(cli, ["trials", *args])


def assert_clean_failure(result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for f in fragments:
        assert f in result.output


def test_match_text() -> None:
    result = run("match", CASE)
    assert result.exit_code == 0, result.output
    assert "judged on 2024-06-10" in result.output
    # 3CAR: B7-H3 not recorded, and recruiting only as of 2025-06-26 with no start date
    assert "NCT04897321" in result.output and "possible, pending 2 item(s)" in result.output
    assert "[NOT MET]" in result.output and "[needs review]" in result.output
    assert "2008-10-11" not in result.output  # the date of birth is never shown


def test_match_json() -> None:
    result = run("match", CASE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    verdicts = {m["registry_id"]: m["verdict"] for m in doc["matches"]}
    assert verdicts["NCT06865664"] == "excluded"
    assert doc["matches"][0]["verdict"] != "excluded"


def test_match_on_date_and_output_file(tmp_path) -> None:
    out = tmp_path / "m.json"
    result = run("match", CASE, "--on", "2030-01-01", "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["judged_on"] == "2030-01-01"


def test_match_against_a_trial_file(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "trials": [
                    {
                        "registry_id": "NCT99999997",
                        "title": "Synthetic",
                        "status": "RECRUITING",
                        "criteria": {"min_performance_score": 90},
                    }
                ]
            }
        )
    )
    result = run("match", CASE, "--trials", str(path))
    assert result.exit_code == 0, result.output
    assert "NCT99999997" in result.output and "Verdict: excluded" in result.output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("match", "no-such-case.yaml"), ("error:", "file not found")),
        (("match", CASE, "--on", "yesterday"), ("error:", "--on: not a date")),
        (("match", CASE, "--format", "pdf"), ("Invalid value",)),
    ],
)
def test_match_bad_input(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_clean_failure(run(*args), *fragments)


def test_match_bad_case_names_the_field(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema_version: '1'\npatient: {id: SYN-1}\ncurrent: {measurable_disease: perhaps}\n"
    )
    assert_clean_failure(run("match", str(bad)), "current.measurable_disease")


def test_match_trial_file_with_unknown_criterion_key(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "trials": [
                    {
                        "registry_id": "NCT99999996",
                        "title": "Synthetic",
                        "status": "RECRUITING",
                        "criteria": {"max_ecog": 1},
                    }
                ]
            }
        )
    )
    assert_clean_failure(
        run("match", CASE, "--trials", str(path)), "NCT99999996", "unknown criterion key 'max_ecog'"
    )


def test_import_then_match(tmp_path) -> None:
    out = tmp_path / "imported.yaml"
    result = run("import", str(CTGOV / "synthetic_studies.json"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "imported 2 trial(s)" in result.output
    listed = run("list", "--trials", str(out))
    assert listed.exit_code == 0 and "NCT99000001" in listed.output
    matched = run("match", CASE, "--trials", str(out), "--format", "json")
    assert matched.exit_code == 0, matched.output
    doc = json.loads(matched.output)
    assert {m["registry_id"] for m in doc["matches"]} == {"NCT99000001", "NCT99000002"}
    first = next(m for m in doc["matches"] if m["registry_id"] == "NCT99000001")
    # The case is judged on 2024-06-10; the study opened on 2025-01-15: not offered.
    assert first["verdict"] == "excluded"
    (recruitment,) = [c for c in first["registry_checks"] if c["outcome"] == "not_met"]
    assert "opens 2025-01-15, after the day judged (2024-06-10)" in recruitment["reason"]
    later = json.loads(
        run("match", CASE, "--trials", str(out), "--format", "json", "--on", "2026-06-01").output
    )
    first = next(m for m in later["matches"] if m["registry_id"] == "NCT99000001")
    assert first["verdict"] == "eligible_on_known_data"  # age 17 in 1-30; all else is free text
    assert first["start_date"] == "2025-01-15"
    assert len(first["needs_review"]) == 5


@pytest.mark.parametrize(
    ("fixture", "fragment"),
    [
        ("malformed_missing_nctid.json", "nctId: required field is missing"),
        ("malformed_not_json.json", "not valid JSON"),
        ("nothing-here.json", "file not found"),
    ],
)
def test_import_bad_input(fixture: str, fragment: str) -> None:
    assert_clean_failure(run("import", str(CTGOV / fixture)), "error:", fragment)


def test_list_bundled() -> None:
    result = run("list")
    assert result.exit_code == 0
    for rid in (
        "NCT04625907",
        "NCT06865664",
        "NCT04897321",
        "NCT07172958",
        "NCT07222735",
        "NCT01222715",
    ):
        assert rid in result.output
    assert "as of 2025-06-26" in result.output
    as_json = run("list", "--format", "json")
    assert len(json.loads(as_json.output)["trials"]) == 6
