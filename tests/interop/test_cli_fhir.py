"""``rhabdo fhir import`` and ``rhabdo fhir export``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from fhir_helpers import EXAMPLES_DIR, FHIR_DIR, as_rms, load_fixture

from rhabdo.case.io import load_case, parse_case
from rhabdo.cli import cli
from rhabdo.interop.fhir_import import case_from_bundle, mapped_view

SYNTHETIC = FHIR_DIR / "synthetic-regional-relapse-alveolar-extremity.json"
EXAMPLE = EXAMPLES_DIR / "regional-relapse-alveolar-extremity.yaml"


def test_import_writes_a_case_file_equal_to_the_example(tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    result = CliRunner().invoke(cli, ["fhir", "import", str(SYNTHETIC), "-o", str(out)])
    assert result.exit_code == 0, result.output
    case = parse_case(yaml.safe_load(out.read_text(encoding="utf-8")))
    assert mapped_view(case) == mapped_view(load_case(EXAMPLE))
    assert "imported" in result.stderr and "0 unmapped code(s)" in result.stderr


def test_import_as_json_and_lists_unmapped_codes(tmp_path: Path) -> None:
    out = tmp_path / "case.json"
    bundle = tmp_path / "brian-l-as-rms.json"
    bundle.write_text(
        json.dumps(as_rms(load_fixture("mcode-extended-example-pediatric-brian-l.json"))),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["fhir", "import", str(bundle), "-o", str(out), "--provenance"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["patient"]["id"] == "cancer-patient-brian-l"
    assert (
        "unmapped: MedicationAdministration/cancer-related-medication-admin-prednisone-brian-l"
        in result.stderr
    )
    assert "first_line.chemotherapy[0] <- MedicationAdministration/" in result.stderr
    assert "2021-01-01" not in result.stderr  # no birth date in the report


def test_import_of_a_non_rms_record_says_it_has_no_rms_diagnosis(tmp_path: Path) -> None:
    """The IG's breast-cancer patient bundle (hl7.fhir.us.mcode 4.0.0, vendored): one line that
    names the diagnosis found, not a malformed-bundle report."""
    published = (
        Path(__file__).resolve().parents[1]
        / "data/public/fhir-packages/hl7.fhir.us.mcode-4.0.0/example"
        / "Bundle-mcode-patient-bundle-jenny-m.json"
    )
    result = CliRunner().invoke(cli, ["fhir", "import", str(published)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    (line,) = lines
    assert line.startswith(f"error: {published}: no rhabdomyosarcoma diagnosis in this record")
    assert "invalid FHIR bundle" not in line
    assert "Primary malignant neoplasm of female left breast" in line
    assert "is not rhabdomyosarcoma" in line
    assert "Traceback" not in result.output


def test_import_of_a_malformed_bundle_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Patient", "id": "x"}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["fhir", "import", str(bad)])
    assert result.exit_code == 2
    assert "resourceType: expected 'Bundle'" in result.stderr
    assert "Traceback" not in result.output


def test_import_of_a_missing_or_broken_file_fails_cleanly(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["fhir", "import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "file not found" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = runner.invoke(cli, ["fhir", "import", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_export_case_only_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(
        cli, ["fhir", "export", str(EXAMPLE), "--case-only", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    back = case_from_bundle(json.loads(out.read_text(encoding="utf-8")))
    assert mapped_view(back.case) == mapped_view(load_case(EXAMPLE))


def test_export_with_assessment(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(
        cli, ["fhir", "export", str(EXAMPLE), "--assessed-on", "2023-04-10", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    types = {
        e["resource"]["resourceType"] for e in json.loads(out.read_text(encoding="utf-8"))["entry"]
    }
    assert {"Patient", "GuidanceResponse", "RequestGroup"} <= types


def test_export_rejects_a_bad_date_and_a_bad_case(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["fhir", "export", str(EXAMPLE), "--assessed-on", "soon"])
    assert result.exit_code == 2 and "--assessed-on" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("patient: {id: A1}\ndiagnosis: {primary_site: elbow}\n", encoding="utf-8")
    result = runner.invoke(cli, ["fhir", "export", str(bad), "--case-only"])
    assert result.exit_code == 2 and "diagnosis.primary_site" in result.stderr
