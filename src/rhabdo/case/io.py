"""Reading a case from YAML or JSON, with errors that name the field and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rhabdo.case.model import LIST_CAPS, Case
from rhabdo.errors import CaseValidationError, FieldProblem

_MAX_CASE_BYTES = 2_000_000

#: No case field lies deeper than this many levels (the case format is about 5 deep); a deeper
#: document is refused before validation so that nothing recurses through it.
MAX_NESTING = 32

DATE_HINT = "not a real date (YYYY-MM-DD)"
_DATE_ERRORS = frozenset(
    {"date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"}
)


class _CaseYamlLoader(yaml.SafeLoader):
    """YAML as a case is read: dates stay text (the case model checks them and names the
    field), and a key given twice in one mapping is an error, not a silent overwrite."""


_CaseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"key {key!r} is given twice (line {line})")
        self.key = key
        self.line = line


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise DuplicateKeyError(key, key_node.start_mark.line + 1)
        if isinstance(key, str | int | float | bool):
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


_CaseYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,  # type: ignore[arg-type]
)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CaseValidationError([FieldProblem(key, "this key is given twice")])
        out[key] = value
    return out


def nesting_depth(data: Any, limit: int = MAX_NESTING) -> int:
    """How many mappings and lists deep ``data`` goes (level by level: no recursion limit);
    the count stops at the first level past ``limit``."""
    level = [data] if isinstance(data, dict | list) else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        inner: list[Any] = []
        for node in level:
            values = node.values() if isinstance(node, dict) else node
            inner.extend([v for v in values if isinstance(v, dict | list)])
        level = inner
    return depth


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
        elif kind in _DATE_ERRORS:
            msg = f"{err.get('input')!r} is {DATE_HINT}"
        elif kind == "float_parsing" and field.endswith("_cm"):
            msg = f"{err.get('input')!r} is not a valid number: sizes are in cm (7 for 70 mm)"
        elif kind in {"float_parsing", "int_parsing"} and isinstance(err.get("input"), str):
            msg = f"{err.get('input')!r} is not a valid number (give the number alone, no unit)"
        elif kind == "too_long":
            msg = _too_long(field, err)
        problems.append(FieldProblem(field=field or "(case)", problem=msg))
    return problems


def _too_long(field: str, err: Any) -> str:
    """'at most 20 surgeries per treatment line (a limit of the case format); 5000 given'."""
    key = field_key_of(field)
    cap = LIST_CAPS.get(key) if key else None
    given = err.get("ctx", {}).get("actual_length")
    if cap is None:
        limit = err.get("ctx", {}).get("max_length")
        return f"too many items: at most {limit}; {given} given"
    return f"at most {cap.limit} {cap.items} (a limit of the case format); {given} given"


def field_key_of(field: str) -> str | None:
    from rhabdo.labels import field_key

    return field_key(field)


def parse_case(data: Any, source: str | None = None) -> Case:
    """Validate an already-parsed document (a dict) into a Case."""
    if not isinstance(data, dict):
        raise CaseValidationError(
            [FieldProblem("(case)", "the document must be a mapping of fields")], source
        )
    if "resourceType" in data:
        kind = data.get("resourceType")
        raise CaseValidationError(
            [
                FieldProblem(
                    "(file)",
                    f"this is a FHIR resource ({kind}), not a rhabdo case: "
                    "read it with `rhabdo fhir import`",
                )
            ],
            source,
        )
    if nesting_depth(data) > MAX_NESTING:
        raise CaseValidationError(
            [FieldProblem("(file)", f"nested more than {MAX_NESTING} levels deep; not a case")],
            source,
        )
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseValidationError(problems_from_validation_error(exc), source) from None


def parse_case_text(text: str, source: str = "<text>", fmt: str | None = None) -> Case:
    """Parse YAML or JSON text (JSON is valid YAML, but JSON errors read better)."""
    fmt = fmt or ("json" if source.endswith(".json") else "yaml")
    try:
        data = (
            json.loads(text, object_pairs_hook=_json_object)
            if fmt == "json"
            else yaml.load(text, Loader=_CaseYamlLoader)
        )
    except CaseValidationError as exc:
        raise CaseValidationError(exc.problems, source) from None
    except RecursionError:
        raise CaseValidationError(
            [FieldProblem("(file)", f"nested more than {MAX_NESTING} levels deep; not a case")],
            source,
        ) from None
    except DuplicateKeyError as exc:
        raise CaseValidationError(
            [FieldProblem(str(exc.key), f"given twice (line {exc.line}); give each field once")],
            source,
        ) from None
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
