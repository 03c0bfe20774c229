"""`rhabdo assess`, `validate` and `schema`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rhabdo.cli import cli

CORE_IDS = {
    "stage.pretreatment",
    "group.clinical",
    "risk.cog",
    "risk.cog_histology",
    "risk.epssg",
    "relapse.timing",
    "relapse.type",
    "relapse.extent",
    "relapse.refractory",
    "score.oberlin",
    "prognosis.relapse",
}
RHABDO = str(Path(sys.executable).with_name("rhabdo"))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_assess_text(example_path: Path) -> None:
    code, out, _ = invoke("assess", str(example_path), "--assessed-on", "2026-11-22")
    assert code == 0
    assert "rhabdo assessment -- patient EX-" in out
    for heading in (
        "DISEASE AT FIRST DIAGNOSIS",
        "RECOMMENDATIONS",
        "REFERENCES",
        "does not replace",
    ):
        assert heading in out
    assert "[1]" in out  # numbered sources


def test_assess_json(example_path: Path) -> None:
    code, out, _ = invoke(
        "assess", str(example_path), "--format", "json", "--assessed-on", "2026-11-22"
    )
    assert code == 0
    doc = json.loads(out)
    assert set(doc["findings"]) >= CORE_IDS
    assert all(
        k.startswith(("exposure.", "late_effects.")) for k in set(doc["findings"]) - CORE_IDS
    )
    assert doc["provenance"]["engine_version"] and doc["provenance"]["knowledge_version"]
    assert doc["provenance"]["assessed_on"] == "2026-11-22"
    for fid, f in doc["findings"].items():
        assert f["id"] == fid and f["reason"] and f["rule"]
    assert isinstance(doc["recommendations"], list)


def test_assess_html_to_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, _ = invoke(
        "assess", "examples/metastatic-at-diagnosis-trunk.yaml", "--format", "html", "-o", str(out)
    )
    assert code == 0 and out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "patient: {id: X}\ndiagnosis: {primary_site: nose}\n",
            "diagnosis.primary_site: unknown code 'nose'",
        ),
        ("patient: {id: X}\ndiagnosis: {max_diameter_cm: large}\n", "diagnosis.max_diameter_cm"),
        (
            "patient: {id: X}\ndiagnosis: {date: 2020-01-01}\n"
            "events: [{kind: relapse, date: 2019-01-01}]\n",
            "events[0].date",
        ),
        (
            "patient: {id: X}\nfirst_line: {start_date: 2020-05-01, end_date: 2020-01-01}\n",
            "first_line.end_date",
        ),
        ("patient: {id: X}\nsurname: Smith\n", "surname: unknown field"),
        ("patient: [broken\n", "not valid YAML"),
        ("just text\n", "mapping"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_field(
    tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(content)
    proc = subprocess.run([RHABDO, "assess", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    proc = subprocess.run(
        [RHABDO, "assess", str(tmp_path / "none.yaml")], capture_output=True, text=True
    )
    assert (
        proc.returncode == 2 and "file not found" in proc.stderr and "Traceback" not in proc.stderr
    )
    proc = subprocess.run([RHABDO, "assess", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_bad_option_values() -> None:
    code, _, err = invoke(
        "assess", "examples/local-relapse-paratesticular.yaml", "--assessed-on", "yesterday"
    )
    assert code == 2 and "--assessed-on" in err
    code, _, err = invoke(
        "assess", "examples/local-relapse-paratesticular.yaml", "--format", "docx"
    )
    assert code == 2 and "docx" in err


def test_validate_reports_each_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("patient: {id: X}\ndiagnosis: {histology: unusual}\n")
    code, out, err = invoke("validate", "examples/local-relapse-paratesticular.yaml", str(bad))
    assert code == 2
    assert "local-relapse-paratesticular.yaml: valid" in out
    assert "diagnosis.histology" in err


def test_schema_is_json_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    doc = json.loads(out)
    assert doc["$schema"].startswith("https://json-schema.org/")
    assert doc["additionalProperties"] is False
    assert "patient" in doc["required"]


def test_help_lists_every_command() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in ("assess", "validate", "schema", "kb", "trials", "fhir", "cohort", "serve"):
        assert name in out


def test_missing_optional_dependency_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an extra installed, a command says which extra to install -- no traceback."""
    import rhabdo.report.html as html_module
    from rhabdo.cli import main

    def missing() -> None:
        raise ModuleNotFoundError("No module named 'jinja2'", name="jinja2")

    monkeypatch.setattr(html_module, "_environment", missing)
    with pytest.raises(SystemExit) as info:
        main(["assess", "examples/local-relapse-paratesticular.yaml", "--format", "html"])
    assert info.value.code == 2
