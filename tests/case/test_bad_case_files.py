"""Case files that used to crash or mislead (issue 17 §6, issue 16 §3): each gets one clear
line naming the field and the fix, on the command line and from the parser, never a traceback."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rhabdo.case.io import MAX_NESTING, parse_case_text
from rhabdo.case.model import LIST_CAPS
from rhabdo.cli import cli
from rhabdo.errors import CaseValidationError

BASE = "patient: {id: X-1}\n"
PDF_ARGS = ("assess", "--format", "pdf")

BAD_YAML = {
    "impossible-day": (
        BASE + "diagnosis:\n  date: 2022-02-30\n",
        "diagnosis.date",
        "not a real date (YYYY-MM-DD)",
    ),
    "impossible-month": (
        BASE + "diagnosis:\n  date: 2022-13-01\n",
        "diagnosis.date",
        "not a real date (YYYY-MM-DD)",
    ),
    "day-first": (
        BASE + "diagnosis:\n  date: 15/03/2022\n",
        "diagnosis.date",
        "not a real date (YYYY-MM-DD)",
    ),
    "no-leading-zeros": (
        BASE + "events:\n  - kind: relapse\n    date: 2022-3-5\n",
        "events[0].date",
        "not a real date (YYYY-MM-DD)",
    ),
    "size-in-mm": (
        BASE + "diagnosis:\n  max_diameter_cm: 70 mm\n",
        "diagnosis.max_diameter_cm",
        "sizes are in cm",
    ),
    "duplicate-key": (BASE + "patient: {id: X-2}\n", "patient", "given twice (line 2)"),
    "duplicate-nested-key": (
        BASE + "diagnosis:\n  histology: embryonal\n  histology: alveolar\n",
        "histology",
        "given twice (line 4)",
    ),
    "fhir-bundle": (
        '{"resourceType": "Bundle", "type": "collection"}\n',
        "(file)",
        "rhabdo fhir import",
    ),
    "nested-2000-flow": (
        "a: " + "[" * 2000 + "]" * 2000 + "\n",
        "(file)",
        f"more than {MAX_NESTING} levels",
    ),
    "nested-1500-block": (
        "".join(" " * i + f"k{i}:\n" for i in range(1500)),
        "(file)",
        f"more than {MAX_NESTING} levels",
    ),
    "5000-surgeries": (
        BASE + "first_line:\n  surgeries:\n" + "    - {site: chest wall}\n" * 5000,
        "first_line.surgeries",
        f"at most {LIST_CAPS['TreatmentLine.surgeries'].limit} surgeries per treatment line",
    ),
    "too-many-events": (
        BASE + "events:\n" + "  - {kind: relapse}\n" * 31,
        "events",
        "at most 30 relapse or progression events",
    ),
}


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_parser_names_the_field_and_the_fix(name: str) -> None:
    text, field, hint = BAD_YAML[name]
    with pytest.raises(CaseValidationError) as err:
        parse_case_text(text, f"{name}.yaml")
    assert any(p.field == field and hint in p.problem for p in err.value.problems), str(err.value)


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_validate_prints_one_clear_error(name: str, tmp_path: Path) -> None:
    text, field, hint = BAD_YAML[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert f"{field}: " in result.stderr and hint in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        '{"a":' * 2000 + "1" + "}" * 2000,
        '{"patient": {"id": "X"}, "patient": {"id": "Y"}}',
    ],
    ids=["nested-2000", "duplicate-key"],
)
def test_json_case_files_too(text: str) -> None:
    with pytest.raises(CaseValidationError):
        parse_case_text(text, "case.json")


def test_a_real_date_still_reads() -> None:
    case = parse_case_text(BASE + "diagnosis:\n  date: 2022-03-05\n")
    assert case.diagnosis.date is not None and case.diagnosis.date.isoformat() == "2022-03-05"


def test_every_list_cap_is_enforced_by_the_model() -> None:
    from rhabdo.case.schema import case_json_schema

    schema = str(case_json_schema())
    for cap in LIST_CAPS.values():
        assert f"'maxItems': {cap.limit}" in schema


def test_assess_refuses_to_write_pdf_to_a_terminal() -> None:
    """Run in a real pseudo-terminal: the PDF would be binary noise on the screen."""
    example = Path(__file__).resolve().parents[2] / "examples" / "local-relapse-paratesticular.yaml"
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from rhabdo.cli import main; main()", *PDF_ARGS, str(example)],
            stdout=child,
            stderr=subprocess.PIPE,
            timeout=120,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            check=False,
        )
    finally:
        os.close(child)
        os.close(main)
    assert proc.returncode == 2
    assert b"give -o FILE.pdf" in proc.stderr
