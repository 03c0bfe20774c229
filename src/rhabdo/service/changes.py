"""What changed between two versions of a case, field by field, in clinical words.

The two stored documents are flattened to ``path -> value`` (``events[1].date``), and every
path whose value differs is one change; a value absent from a version is *unknown* there,
never "no".  Lists of codes (metastatic sites) compare as one value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from rhabdo import labels
from rhabdo.case.model import Case
from rhabdo.service.forms import _kind

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Change:
    path: str
    label: str
    before: str
    after: str


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _flatten(sub, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for i, sub in enumerate(value):
            _flatten(sub, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


def _field_type(path: str) -> Any:
    """The vocabulary (enum) of the field at ``path``, if it has one."""
    model: type[BaseModel] = Case
    inner: Any = None
    for part in path.split("."):
        name = part.split("[", 1)[0]
        info = model.model_fields.get(name)
        if info is None:
            return None
        kind, inner = _kind(info.annotation)
        if kind in ("model", "model_list"):
            model = inner
        elif kind not in ("enum", "enum_list"):
            return None
    return inner if isinstance(inner, type) and issubclass(inner, Enum) else None


def _words(path: str, value: Any) -> str:
    if value is None:
        return UNKNOWN
    vocabulary = _field_type(path)

    def one(v: Any) -> str:
        if vocabulary is not None:
            try:
                return str(getattr(vocabulary(v), "label", v))
            except ValueError:
                return str(v)
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    if isinstance(value, list):
        return ", ".join(one(v) for v in value) if value else "none"
    return one(value)


def change_label(path: str) -> str:
    """The field in words with where it sits: "Dose per administration — first-line treatment,
    chemotherapy agent 1" (``rhabdo.labels``)."""
    return labels.field_label(path)


def case_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Change]:
    """Every field that differs between two case documents, in the order of the newer one."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _flatten(before or {}, "", old)
    _flatten(after, "", new)
    paths = list(new) + [p for p in old if p not in new]
    return [
        Change(p, change_label(p), _words(p, old.get(p)), _words(p, new.get(p)))
        for p in paths
        if p != "schema_version" and old.get(p) != new.get(p)
    ]
