"""docs/cohort-format.md lists every column exactly as the code defines it."""

from __future__ import annotations

from pathlib import Path

from rhabdo.cohort.columns import COLUMNS

DOC = Path(__file__).parents[2] / "docs" / "cohort-format.md"


def test_every_column_is_documented_with_its_case_field_and_kind():
    text = DOC.read_text(encoding="utf-8")
    for c in COLUMNS:
        assert f"| `{c.name}` | `{c.path}` | {c.kind.value} |" in text, c.name


def test_only_verified_pcdc_names_are_claimed():
    text = DOC.read_text(encoding="utf-8")
    claimed = [
        line for line in text.splitlines() if line.startswith("| `") and line.endswith("| yes |")
    ]
    assert {line.split("`")[1] for line in claimed} == {
        c.name for c in COLUMNS if c.pcdc_name_verified
    }
