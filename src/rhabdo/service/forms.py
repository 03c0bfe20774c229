"""The case form, generated from the ``Case`` model so that it always offers every field.

Each input is named by the dotted path of its case field (``diagnosis.max_diameter_cm``,
``later_lines[0].chemotherapy[1].agent``), the same path ``parse_case`` names in its problems,
so a validation message is shown beside the field it concerns.  Vocabularies become choices;
an empty choice always means *unknown* (never "no").  Lists of sub-records show every saved
item and one blank slot; a blank slot is ignored.  An optional list of codes (such as the
distant metastases) has a separate "known?" choice, because an empty list (M0) and an unknown
list are different facts.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from markupsafe import Markup, escape
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from rhabdo.case.model import Case

KNOWN_SUFFIX = ".__known"
MAX_LIST_SLOTS = 50


class FormValues:
    """Submitted form values: ``get`` one, ``getlist`` many (a Starlette FormData or a dict)."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def get(self, key: str) -> str:
        value = self._data.get(key)
        return value.strip() if isinstance(value, str) else ""

    def getlist(self, key: str) -> list[str]:
        if hasattr(self._data, "getlist"):
            return [v for v in self._data.getlist(key) if isinstance(v, str) and v]
        value = self._data.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str) and v]
        return [value] if isinstance(value, str) and value else []

    def names(self) -> list[str]:
        return list(self._data.keys())


# ---------------------------------------------------------------- type analysis


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) with Annotated and ``X | None`` removed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
            continue
        return annotation, optional


def _kind(annotation: Any) -> tuple[str, Any]:
    inner, _ = _unwrap(annotation)
    origin = get_origin(inner)
    if origin is list:
        item, _ = _unwrap(get_args(inner)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "model_list", item
        if isinstance(item, type) and issubclass(item, Enum):
            return "enum_list", item
        return "str_list", item
    if origin is Literal:
        return "literal", inner
    if isinstance(inner, type):
        if issubclass(inner, BaseModel):
            return "model", inner
        if issubclass(inner, Enum):
            return "enum", inner
        if issubclass(inner, bool):
            return "bool", inner
        if issubclass(inner, dt.date):
            return "date", inner
        if issubclass(inner, int):
            return "int", inner
        if issubclass(inner, float):
            return "float", inner
    return "str", inner


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        if hasattr(meta, "max_length") and meta.max_length:
            return int(meta.max_length)
    inner = info.annotation
    for arg in get_args(inner):
        for meta in getattr(arg, "__metadata__", ()):
            if hasattr(meta, "max_length") and meta.max_length:
                return int(meta.max_length)
    return None


# ---------------------------------------------------------------- form -> document


def form_to_document(
    values: FormValues, model: type[BaseModel] = Case, prefix: str = ""
) -> dict[str, Any]:
    """The case document the form describes: blank inputs are left out (unknown)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = prefix + name
        kind, inner = _kind(info.annotation)
        if kind == "literal":
            continue
        if kind == "model":
            sub = form_to_document(values, inner, path + ".")
            if sub:
                out[name] = sub
        elif kind == "model_list":
            items = []
            for i in range(MAX_LIST_SLOTS):
                slot = f"{path}[{i}]."
                if not any(k.startswith(slot) for k in values.names()):
                    break
                sub = form_to_document(values, inner, slot)
                if sub:
                    items.append(sub)
            if items:
                out[name] = items
        elif kind == "enum_list":
            known = values.get(path + KNOWN_SUFFIX)
            if known == "known":
                out[name] = values.getlist(path)
        elif kind == "str_list":
            listed = [s for s in values.get(path).split(",") if s.strip()]
            if listed:
                out[name] = [s.strip() for s in listed]
        else:
            raw = values.get(path)
            if raw != "":
                out[name] = raw
    return out


# ---------------------------------------------------------------- document -> HTML


def _label(name: str) -> str:
    text = name.replace("_", " ")
    for unit, shown in (
        (" cm", " (cm)"),
        (" gy", " (Gy)"),
        (" kg", " (kg)"),
        (" m2", " (m²)"),
        (" days", " (days)"),
        (" percent", " (%)"),
        (" x uln", " (× ULN)"),
    ):
        if text.endswith(unit):
            text = text[: -len(unit)] + shown
    return text[:1].upper() + text[1:]


def _dom_id(path: str) -> str:
    return "f-" + "".join(c if c.isalnum() else "-" for c in path)


def _messages(errors: Mapping[str, list[str]], path: str) -> Markup:
    msgs = errors.get(path, [])
    if not msgs:
        return Markup("")
    items = "".join(f"<li>{escape(m)}</li>" for m in msgs)
    return Markup(f'<ul class="field-errors" role="alert">{items}</ul>')


def _enum_label(member: Enum) -> str:
    label = getattr(member, "label", None)
    return str(label) if label else str(member.value)


def _scalar_input(path: str, kind: str, inner: Any, info: FieldInfo, value: Any) -> Markup:
    dom = _dom_id(path)
    current = "" if value is None else (value.value if isinstance(value, Enum) else value)
    if isinstance(current, bool):
        current = "true" if current else "false"
    current = str(current)
    if kind == "enum":
        opts = [f'<option value=""{" selected" if current == "" else ""}>unknown</option>']
        for member in inner:
            sel = " selected" if current == str(member.value) else ""
            opts.append(
                f'<option value="{escape(member.value)}"{sel}>'
                f"{escape(_enum_label(member))}</option>"
            )
        return Markup(f'<select id="{dom}" name="{escape(path)}">{"".join(opts)}</select>')
    if kind == "bool":
        opts = []
        for val, text in (("", "unknown"), ("true", "yes"), ("false", "no")):
            sel = " selected" if current == val else ""
            opts.append(f'<option value="{val}"{sel}>{text}</option>')
        return Markup(f'<select id="{dom}" name="{escape(path)}">{"".join(opts)}</select>')
    attrs = ""
    if kind == "date":
        typ = "date"
    elif kind in ("int", "float"):
        typ = "number"
        attrs = ' step="1"' if kind == "int" else ' step="any"'
    else:
        typ = "text"
        max_len = _max_length(info)
        if max_len and max_len > 400:
            return Markup(
                f'<textarea id="{dom}" name="{escape(path)}" rows="3" maxlength="{max_len}">'
                f"{escape(current)}</textarea>"
            )
        if max_len:
            attrs = f' maxlength="{max_len}"'
    return Markup(
        f'<input id="{dom}" type="{typ}" name="{escape(path)}" value="{escape(current)}"{attrs}>'
    )


def render_fields(
    data: Mapping[str, Any] | None,
    errors: Mapping[str, list[str]],
    model: type[BaseModel] = Case,
    prefix: str = "",
) -> Markup:
    """HTML inputs for every field of ``model``, filled from ``data`` with messages beside them."""
    data = data or {}
    parts: list[str] = []
    for name, info in model.model_fields.items():
        path = prefix + name
        kind, inner = _kind(info.annotation)
        value = data.get(name)
        hint = escape(info.description) if info.description else ""
        if kind == "literal":
            continue
        if kind == "model":
            sub = value if isinstance(value, Mapping) else {}
            parts.append(
                f'<fieldset id="{_dom_id(path)}"><legend>{escape(_label(name))}</legend>'
                f"{_messages(errors, path)}"
                f"{render_fields(sub, errors, inner, path + '.')}</fieldset>"
            )
        elif kind == "model_list":
            items = list(value) if isinstance(value, list) else []
            slots = [*items, {}]
            inner_parts = []
            for i, item in enumerate(slots):
                slot = f"{path}[{i}]"
                title = f"{_label(name)} {i + 1}" + (
                    " (new — leave blank if none)" if i == len(items) else ""
                )
                inner_parts.append(
                    f'<fieldset class="slot" id="{_dom_id(slot)}"><legend>{escape(title)}</legend>'
                    f"{_messages(errors, slot)}"
                    f"{render_fields(_mapping(item), errors, inner, slot + '.')}"
                    "</fieldset>"
                )
            parts.append(
                f'<fieldset class="list" id="{_dom_id(path)}">'
                f"<legend>{escape(_label(name))}</legend>"
                f"{_messages(errors, path)}{''.join(inner_parts)}</fieldset>"
            )
        elif kind == "enum_list":
            chosen = {v.value if isinstance(v, Enum) else str(v) for v in (value or [])}
            known = "known" if value is not None else "unknown"
            sel_unknown = " selected" if known == "unknown" else ""
            sel_known = " selected" if known == "known" else ""
            boxes = "".join(
                f'<label class="check"><input type="checkbox" name="{escape(path)}" '
                f'value="{escape(m.value)}"{" checked" if m.value in chosen else ""}> '
                f"{escape(_enum_label(m))}</label>"
                for m in inner
            )
            parts.append(
                f'<div class="field" id="{_dom_id(path)}">'
                f'<label for="{_dom_id(path + KNOWN_SUFFIX)}">'
                f"{escape(_label(name))}</label>"
                f'<select id="{_dom_id(path + KNOWN_SUFFIX)}" name="{escape(path + KNOWN_SUFFIX)}">'
                f'<option value="unknown"{sel_unknown}>unknown</option>'
                f'<option value="known"{sel_known}>'
                "known: the ticked ones (none ticked = none)</option>"
                f'</select><div class="checks">{boxes}</div>'
                f"<small>{hint}</small>{_messages(errors, path)}</div>"
            )
        else:
            widget = _scalar_input(path, kind, inner, info, value)
            required = " *" if info.is_required() else ""
            parts.append(
                f'<div class="field"><label for="{_dom_id(path)}">'
                f"{escape(_label(name))}{required}</label>"
                f"{widget}<small>{hint}</small>{_messages(errors, path)}</div>"
            )
    return Markup("".join(parts))


def _mapping(item: Any) -> Mapping[str, Any]:
    return item if isinstance(item, Mapping) else {}


def errors_by_field(problems: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.field, []).append(p.problem)
    return out


def all_paths(model: type[BaseModel] = Case, prefix: str = "") -> list[str]:
    """Every input path of the form with one slot per list (for tests and the field index)."""
    paths = []
    for name, info in model.model_fields.items():
        path = prefix + name
        kind, inner = _kind(info.annotation)
        if kind == "literal":
            continue
        if kind == "model":
            paths += all_paths(inner, path + ".")
        elif kind == "model_list":
            paths += all_paths(inner, path + "[0].")
        else:
            paths.append(path)
    return paths
