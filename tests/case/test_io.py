"""Reading case files: every way a file can be wrong gives one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rhabdo.case.io import case_to_dict, load_case, parse_case
from rhabdo.case.schema import case_json_schema
from rhabdo.errors import CaseValidationError


def test_examples_load(example_path: Path) -> None:
    case = load_case(example_path)
    assert case.patient.id.startswith("EX-")


def test_json_and_yaml_give_the_same_case(example_path: Path, tmp_path: Path) -> None:
    case = load_case(example_path)
    as_json = tmp_path / "case.json"
    as_json.write_text(json.dumps(case_to_dict(case)))
    assert load_case(as_json) == case


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("bad.yaml", "patient: [unclosed", "not valid YAML"),
        ("bad.json", '{"patient": ', "not valid JSON"),
        ("list.yaml", "- a\n- b\n", "mapping"),
        ("empty.yaml", "", "mapping"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, content: str, words: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CaseValidationError, match=words):
        load_case(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CaseValidationError, match="file not found"):
        load_case(tmp_path / "nope.yaml")
    with pytest.raises(CaseValidationError, match="directory"):
        load_case(tmp_path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CaseValidationError, match="UTF-8"):
        load_case(path)


def test_schema_accepts_every_example(example_path: Path) -> None:
    import jsonschema
    import yaml

    schema = case_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = yaml.safe_load(example_path.read_text())
    # YAML dates are date objects; the schema speaks JSON, so round-trip through the model.
    jsonschema.validate(case_to_dict(parse_case(doc)), schema)


def test_schema_rejects_unknown_keys() -> None:
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"patient": {"id": "X"}, "unknown": 1}, case_json_schema())
