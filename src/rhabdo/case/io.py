"""Reading a case from YAML or JSON, with errors that name the field and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rhabdo.case.model import Case
from rhabdo.errors import CaseValidationError, FieldProblem

_MAX_CASE_BYTES = 2_000_000


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def problems_from_validation_error(exc: ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into field/problem pairs a clinician can act on."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = _loc(loc)
        msg: str = err["msg"]
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = "unknown field (not part of the case format)"
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"unknown code {err.get('input')!r}; expected one of {expected}"
        elif kind == "value_error":
            # our validators phrase their own message as "field: problem"
            text = msg.removeprefix("Value error, ")
            head, sep, tail = text.partition(": ")
            if sep and " " not in head:
                field = f"{field}.{head}" if field else head
                msg = tail
            else:
                msg = text
        elif kind == "missing":
            msg = "required field is missing"
        problems.append(FieldProblem(field=field or "(case)", problem=msg))
    return problems


def parse_case(data: Any, source: str | None = None) -> Case:
    """Validate an already-parsed document (a dict) into a Case."""
    if not isinstance(data, dict):
        raise CaseValidationError(
            [FieldProblem("(case)", "the document must be a mapping of fields")], source
        )
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseValidationError(problems_from_validation_error(exc), source) from None


def parse_case_text(text: str, source: str = "<text>", fmt: str | None = None) -> Case:
    """Parse YAML or JSON text (JSON is valid YAML, but JSON errors read better)."""
    fmt = fmt or ("json" if source.endswith(".json") else "yaml")
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise CaseValidationError(
            [FieldProblem("(file)", f"not valid JSON: {exc.msg} at line {exc.lineno}")], source
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CaseValidationError(
            [FieldProblem("(file)", f"not valid YAML{where}")], source
        ) from None
    return parse_case(data, source)


def load_case(path: str | Path) -> Case:
    """Read and validate a case file (.yaml, .yml or .json)."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_CASE_BYTES:
            raise CaseValidationError(
                [FieldProblem("(file)", "file is too large for a case")], p.name
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseValidationError([FieldProblem("(file)", "file not found")], str(p)) from None
    except IsADirectoryError:
        raise CaseValidationError(
            [FieldProblem("(file)", "is a directory, not a file")], str(p)
        ) from None
    except UnicodeDecodeError:
        raise CaseValidationError([FieldProblem("(file)", "not UTF-8 text")], str(p)) from None
    except OSError as exc:
        raise CaseValidationError(
            [FieldProblem("(file)", f"cannot be read ({exc.strerror})")], str(p)
        ) from None
    return parse_case_text(text, source=p.name)


def case_to_dict(case: Case) -> dict[str, Any]:
    """The case as a plain JSON-able dict (unset optional fields left out)."""
    return case.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
