"""The case form, generated from the ``Case`` model so that it always offers every field.

Each input is named by the dotted path of its case field (``diagnosis.max_diameter_cm``,
``later_lines[0].chemotherapy[1].agent``), the same path ``parse_case`` names in its problems,
so a validation message is shown beside the field it concerns.  Vocabularies become choices;
an empty choice always means *unknown* (never "no").  Lists of sub-records show every saved
item (one blank slot when the list is empty), each with a "Remove" button, and an "Add another"
button; a blank slot is ignored.  These buttons, and the regimen presets of a treatment line,
submit the form to the server, which re-renders it with the change (``apply_action``): they work
without JavaScript.  An optional list of codes (such as the distant metastases) has a separate
"known?" choice, because an empty list (M0) and an unknown list are different facts.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from markupsafe import Markup, escape
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from rhabdo import labels
from rhabdo.case.model import Case
from rhabdo.errors import CaseValidationError, FieldProblem
from rhabdo.service.presets import SPECS, Preset, chemotherapy_items

KNOWN_SUFFIX = ".__known"
MAX_LIST_SLOTS = 50
ACTION = "_action"
PRESET_PREFIX = "_preset."
DATE_HINT = "YYYY-MM-DD"


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
    """The field's maximum length, wherever pydantic keeps it (``Annotated`` inside ``| None``)."""

    def search(annotation: Any) -> int | None:
        for meta in getattr(annotation, "__metadata__", ()):
            found = getattr(meta, "max_length", None)
            if found:
                return int(found)
            for inner in getattr(meta, "metadata", ()):
                if getattr(inner, "max_length", None):
                    return int(inner.max_length)
        for arg in get_args(annotation):
            found = search(arg)
            if found:
                return found
        return None

    for meta in info.metadata:
        if getattr(meta, "max_length", None):
            return int(meta.max_length)
    return search(info.annotation)


# ---------------------------------------------------------------- form -> document


def form_to_document(
    values: FormValues, model: type[BaseModel] = Case, prefix: str = "", keep_blank: bool = False
) -> dict[str, Any]:
    """The case document the form describes: blank inputs are left out (unknown).

    With ``keep_blank`` a blank list slot stays as ``{}``, so that the form can be shown again
    with the slots the clinician had open (used by the add/remove buttons, never for saving).
    """
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = prefix + name
        kind, inner = _kind(info.annotation)
        if kind == "literal":
            continue
        if kind == "model":
            sub = form_to_document(values, inner, path + ".", keep_blank)
            if sub:
                out[name] = sub
        elif kind == "model_list":
            items = []
            for i in range(MAX_LIST_SLOTS):
                slot = f"{path}[{i}]."
                if not any(k.startswith(slot) for k in values.names()):
                    break
                sub = form_to_document(values, inner, slot, keep_blank)
                if sub or keep_blank:
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


# ---------------------------------------------------------------- labels and help

#: Container labels that read better above a group of inputs than the stand-alone label.
#: Every other label comes from ``rhabdo.labels`` (the one place for clinical words).
_FORM_ONLY_LABELS = {
    "Case.events": "Relapse or progression events",
    "TreatmentLine.chemotherapy": "Chemotherapy agents",
    "TreatmentLine.radiotherapy": "Radiotherapy courses",
    "TreatmentLine.surgeries": "Surgeries",
}


def _item_noun(list_path: str) -> str:
    """What one item of the list at ``list_path`` is called ("chemotherapy agent")."""
    key = labels.field_key(list_path)
    return labels.ITEM_NOUNS.get(key, "item") if key else "item"


#: Help in words where the model's description speaks in data-format terms.
_HELP = {
    "distant_metastases": "Choose “known” and tick the sites; “known” with none ticked means no "
    "distant metastases (M0). Leave “unknown” when it was not assessed.",
    "radiotherapy_given": "Say “no” when none was given: an empty list of courses alone does "
    "not mean none.",
    "agent_name": "Needed when the agent is “other”.",
    "detected": "Yes when found; no when tested and not found.",
    "sites": "Leave the list empty when the sites are not yet known.",
}


def _normalised(path: str) -> str:
    out, depth = [], 0
    for c in path:
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


def field_label(path: str) -> str:
    """The clinical label of the form input at ``path``, without its position in a list (the
    fieldset legend around it says that)."""
    key = labels.field_key(path)
    if key is None:
        return _label(path.rsplit(".", 1)[-1])
    return (
        _FORM_ONLY_LABELS.get(key) or labels.FIELD_LABELS.get(key) or _label(key.split(".", 1)[-1])
    )


def _help(name: str, info: FieldInfo, kind: str) -> str:
    text = _HELP.get(name) or info.description or ""
    if kind == "date":
        text = (text + " " if text else "") + f"Format {DATE_HINT}."
    return text


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
    items = "".join(f"<li>{escape(labels.words(m))}</li>" for m in msgs)
    return Markup(f'<ul class="field-errors" id="{_dom_id(path)}-errors">{items}</ul>')


def _enum_label(member: Enum) -> str:
    label = getattr(member, "label", None)
    return str(label) if label else str(member.value)


def _scalar_input(
    path: str, kind: str, inner: Any, info: FieldInfo, value: Any, extra: str = ""
) -> Markup:
    dom = _dom_id(path)
    current = "" if value is None else (value.value if isinstance(value, Enum) else value)
    if isinstance(current, bool):
        current = "true" if current else "false"
    elif isinstance(current, float) and current.is_integer() and abs(current) < 1e15:
        current = int(current)  # "150", as the clinician typed it, not "150.0"
    current = str(current)
    if kind == "enum":
        opts = [f'<option value=""{" selected" if current == "" else ""}>unknown</option>']
        for member in inner:
            sel = " selected" if current == str(member.value) else ""
            opts.append(
                f'<option value="{escape(member.value)}"{sel}>'
                f"{escape(_enum_label(member))}</option>"
            )
        return Markup(f'<select id="{dom}" name="{escape(path)}"{extra}>{"".join(opts)}</select>')
    if kind == "bool":
        opts = []
        for val, text in (("", "unknown"), ("true", "yes"), ("false", "no")):
            sel = " selected" if current == val else ""
            opts.append(f'<option value="{val}"{sel}>{text}</option>')
        return Markup(f'<select id="{dom}" name="{escape(path)}"{extra}>{"".join(opts)}</select>')
    attrs = extra
    typ = "text"
    if kind == "date":
        # A text input, not type=date: the browser's date picker shows the locale's order
        # (mm/dd/yyyy), while the case format and every message say YYYY-MM-DD.
        attrs += f' placeholder="{DATE_HINT}" inputmode="numeric" maxlength="10" autocomplete="off"'
    elif kind in ("int", "float"):
        attrs += ' inputmode="numeric"' if kind == "int" else ' inputmode="decimal"'
    else:
        max_len = _max_length(info)
        if max_len and max_len > 400:
            return Markup(
                f'<textarea id="{dom}" name="{escape(path)}" rows="5" maxlength="{max_len}"'
                f"{extra}>{escape(current)}</textarea>"
            )
        if max_len:
            attrs += f' maxlength="{max_len}"'
    return Markup(
        f'<input id="{dom}" type="{typ}" name="{escape(path)}" value="{escape(current)}"{attrs}>'
    )


def _described_by(path: str, hint: str, errors: Mapping[str, list[str]]) -> str:
    ids = []
    if hint:
        ids.append(_dom_id(path) + "-help")
    if errors.get(path):
        ids.append(_dom_id(path) + "-errors")
    invalid = ' aria-invalid="true"' if errors.get(path) else ""
    return (f' aria-describedby="{" ".join(ids)}"' if ids else "") + invalid


def _button(action: str, text: str, cls: str, focus: str | None) -> str:
    auto = " autofocus" if focus == action else ""
    return (
        f'<button type="submit" class="{cls}" name="{ACTION}" value="{escape(action)}"'
        f" formnovalidate{auto}>{escape(text)}</button>"
    )


def _preset_controls(path: str) -> str:
    dom = _dom_id(PRESET_PREFIX + path)
    opts = "".join(f'<option value="{p.value}">{escape(SPECS[p].label)}</option>' for p in Preset)
    return (
        f'<div class="preset"><label for="{dom}">Fill from a regimen</label>'
        f'<select id="{dom}" name="{escape(PRESET_PREFIX + path)}">{opts}</select>'
        f"{_button('preset:' + path, 'Add its agents', 'secondary', None)}"
        f'<small id="{dom}-help">Adds the regimen’s agents with the standard dose per '
        "administration from the knowledge base where it gives one; edit them to what was "
        "given.</small></div>"
    )


def render_fields(
    data: Mapping[str, Any] | None,
    errors: Mapping[str, list[str]],
    model: type[BaseModel] = Case,
    prefix: str = "",
    focus: str | None = None,
) -> Markup:
    """HTML inputs for every field of ``model``, filled from ``data`` with messages beside them.

    ``focus`` names the input (or ``add:``/``remove:`` button) to give ``autofocus``, so that
    after an add or remove the browser returns to where the clinician was working.
    """
    data = data or {}
    parts: list[str] = []
    for name, info in model.model_fields.items():
        path = prefix + name
        kind, inner = _kind(info.annotation)
        value = data.get(name)
        label = field_label(path)
        hint_text = _help(name, info, kind)
        hint = escape(hint_text)
        if kind == "literal":
            continue
        if kind == "model":
            sub = value if isinstance(value, Mapping) else {}
            parts.append(
                f'<fieldset id="{_dom_id(path)}"><legend>{escape(label)}</legend>'
                f"{_messages(errors, path)}"
                f"{render_fields(sub, errors, inner, path + '.', focus)}</fieldset>"
            )
        elif kind == "model_list":
            items = list(value) if isinstance(value, list) else []
            slots = items or [{}]
            noun = _item_noun(path)
            inner_parts = []
            for i, item in enumerate(slots):
                slot = f"{path}[{i}]"
                title = f"{noun[:1].upper()}{noun[1:]} {i + 1}"
                if not _mapping(item) and i == len(slots) - 1:
                    title += " (leave blank if none)"
                inner_parts.append(
                    f'<fieldset class="slot" id="{_dom_id(slot)}"><legend>{escape(title)}</legend>'
                    f"{_messages(errors, slot)}"
                    f"{render_fields(_mapping(item), errors, inner, slot + '.', focus)}"
                    f'<p class="slot-actions">'
                    f"{_button('remove:' + slot, f'Remove {noun} {i + 1}', 'secondary', focus)}"
                    "</p></fieldset>"
                )
            presets = (
                _preset_controls(prefix.removesuffix("."))
                if name == "chemotherapy" and prefix
                else ""
            )
            help_html = f'<p class="hint">{hint}</p>' if name in _HELP else ""
            parts.append(
                f'<fieldset class="list" id="{_dom_id(path)}">'
                f"<legend>{escape(label)}</legend>{help_html}{presets}"
                f"{_messages(errors, path)}{''.join(inner_parts)}"
                f'<p class="list-actions">'
                f"{_button('add:' + path, f'Add another {noun}', 'add', focus)}</p></fieldset>"
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
            known_path = path + KNOWN_SUFFIX
            parts.append(
                f'<div class="field" id="{_dom_id(path)}">'
                f'<label for="{_dom_id(known_path)}">{escape(label)}</label>'
                f'<select id="{_dom_id(known_path)}" name="{escape(known_path)}"'
                f"{_described_by(path, hint_text, errors)}>"
                f'<option value="unknown"{sel_unknown}>unknown</option>'
                f'<option value="known"{sel_known}>'
                "known: the ticked ones (none ticked = none)</option>"
                f'</select><div class="checks" role="group" aria-label="{escape(label)}">'
                f"{boxes}</div>"
                f'<small id="{_dom_id(path)}-help">{hint}</small>{_messages(errors, path)}</div>'
            )
        else:
            extra = _described_by(path, hint_text, errors)
            if focus == path:
                extra += " autofocus"
            widget = _scalar_input(path, kind, inner, info, value, extra)
            required = " *" if info.is_required() else ""
            date_note = f" ({DATE_HINT})" if kind == "date" else ""
            help_html = f'<small id="{_dom_id(path)}-help">{hint}</small>' if hint_text else ""
            parts.append(
                f'<div class="field"><label for="{_dom_id(path)}">'
                f"{escape(label)}{date_note}{required}</label>"
                f"{widget}{help_html}{_messages(errors, path)}</div>"
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


# ---------------------------------------------------------------- add / remove / presets


def _list_paths(model: type[BaseModel] = Case, prefix: str = "") -> dict[str, type[BaseModel]]:
    """Every list of sub-records (paths without indexes) and the model of its items."""
    out: dict[str, type[BaseModel]] = {}
    for name, info in model.model_fields.items():
        kind, inner = _kind(info.annotation)
        if kind == "model":
            out.update(_list_paths(inner, prefix + name + "."))
        elif kind == "model_list":
            out[prefix + name] = inner
            out.update(_list_paths(inner, prefix + name + "."))
    return out


_LIST_MODELS = _list_paths()


def _tokens(path: str) -> list[str | int] | None:
    """``later_lines[0].chemotherapy`` -> ["later_lines", 0, "chemotherapy"] (None if malformed)."""
    out: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if not name.isidentifier():
            return None
        out.append(name)
        while rest:
            index, close, rest = rest.partition("]")
            if not close or not index.isdigit() or int(index) >= MAX_LIST_SLOTS:
                return None
            out.append(int(index))
            rest = rest.removeprefix("[")
    return out


def _container(doc: dict[str, Any], tokens: list[str | int]) -> Any:
    """The object at ``tokens`` in ``doc``, creating empty dicts and lists on the way."""
    node: Any = doc
    for i, tok in enumerate(tokens):
        nxt: Any = [] if i + 1 == len(tokens) or isinstance(tokens[i + 1], int) else {}
        if isinstance(tok, int):
            if not isinstance(node, list):
                return None
            while len(node) <= tok:
                node.append({})
            if not isinstance(node[tok], dict):
                node[tok] = {}
            node = node[tok]
        else:
            if not isinstance(node, dict):
                return None
            node = node.setdefault(tok, nxt)
    return node


def first_input(item_model: type[BaseModel], prefix: str) -> str:
    """The path of the first input of a new list item (the one to focus)."""
    for name, info in item_model.model_fields.items():
        kind, inner = _kind(info.annotation)
        if kind == "literal":
            continue
        if kind == "model":
            return first_input(inner, prefix + name + ".")
        if kind == "model_list":
            return first_input(inner, f"{prefix}{name}[0].")
        return prefix + name + (KNOWN_SUFFIX if kind == "enum_list" else "")
    return prefix.removesuffix(".")


@dataclass(frozen=True)
class ActionResult:
    """The form document after an add/remove/preset button, what to focus and what to say."""

    document: dict[str, Any]
    focus: str | None
    message: str


def apply_action(doc: dict[str, Any], action: str, values: FormValues) -> ActionResult:
    """Apply one add/remove/preset button to the form document (kept with its blank slots).

    ``add:<list path>`` appends a blank item, ``remove:<item path>`` deletes one, and
    ``preset:<treatment line path>`` appends the chosen regimen's agents to that line's
    chemotherapy (replacing blank slots).  An unknown or malformed action changes nothing.
    """
    verb, _, path = action.partition(":")
    tokens = _tokens(path)
    if tokens is None:
        return ActionResult(doc, None, "That button does not apply to this form.")
    norm = _normalised(path)
    if verb == "add" and norm in _LIST_MODELS and isinstance(tokens[-1], str):
        items = _container(doc, tokens)
        if isinstance(items, list) and len(items) < MAX_LIST_SLOTS:
            if not items:
                items.append({})  # the blank slot the form was showing
            items.append({})
            noun = _item_noun(path)
            slot = f"{path}[{len(items) - 1}]"
            return ActionResult(
                doc, first_input(_LIST_MODELS[norm], slot + "."), f"Added {noun} {len(items)}."
            )
    if verb == "remove" and isinstance(tokens[-1], int):
        list_path = path[: path.rindex("[")]
        items = _container(doc, tokens[:-1])
        index = tokens[-1]
        if _normalised(list_path) in _LIST_MODELS and isinstance(items, list):
            if index < len(items):
                del items[index]
            noun = _item_noun(list_path)
            return ActionResult(doc, "add:" + list_path, f"Removed {noun} {index + 1}.")
    if verb == "preset" and (norm == "first_line" or norm == "later_lines"):
        try:
            preset = Preset(values.get(PRESET_PREFIX + path))
        except ValueError:
            return ActionResult(doc, None, "Choose a regimen first.")
        items = _container(doc, [*tokens, "chemotherapy"])
        if isinstance(items, list):
            kept = [i for i in items if isinstance(i, dict) and i]
            added = chemotherapy_items(preset)
            items[:] = (kept + added)[:MAX_LIST_SLOTS]
            line = _container(doc, tokens)
            if isinstance(line, dict) and not line.get("protocol"):
                line["protocol"] = SPECS[preset].label.split(" (")[0]
            return ActionResult(
                doc,
                f"{path}.chemotherapy[{len(kept)}].agent",
                f"Added the agents of {SPECS[preset].label}; check the doses.",
            )
    return ActionResult(doc, None, "That button does not apply to this form.")


# ---------------------------------------------------------------- all problems in one round


def _prune(doc: Any, tokens: list[str | int]) -> bool:
    """Delete the value at ``tokens`` (or, for a required field, the item holding it)."""
    node: Any = doc
    for tok in tokens[:-1]:
        if isinstance(tok, int):
            if not isinstance(node, list) or tok >= len(node):
                return False
        elif not isinstance(node, dict) or tok not in node:
            return False
        node = node[tok]
    last = tokens[-1]
    if isinstance(last, int) and isinstance(node, list) and last < len(node):
        node[last] = None  # keep the indexes of later items; removed before the next round
        return True
    if isinstance(last, str) and isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False


def _drop_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value if v is not None]
    return value


def validate_document(doc: dict[str, Any]) -> Case:
    """Validate the form's document, reporting field errors and cross-field errors together.

    Pydantic runs the model's cross-field checks (relapse before diagnosis, treatment before
    diagnosis) only when every field is valid.  So that the clinician sees every problem in one
    round, the fields in error are set aside (treated as unknown) and the document is checked
    again, up to a few rounds; only problems about fields not already reported are added.
    Setting a field aside only ever makes it unknown, so no check fires that would not fire on
    the clinician's own input.
    """
    import copy

    from rhabdo.case.io import parse_case, problems_from_validation_error

    try:
        return parse_case(doc)
    except CaseValidationError as exc:
        problems = list(exc.problems)
    trial = copy.deepcopy(doc)
    reported = {p.field for p in problems}
    pending = list(problems)
    for _ in range(4):
        pruned = False
        for problem in pending:
            tokens = _tokens(problem.field)
            while tokens:
                if _prune(trial, tokens):
                    pruned = True
                    break
                tokens = tokens[:-1]
        if not pruned or "patient" not in trial:
            break
        trial = _drop_nones(trial)
        try:
            Case.model_validate(trial)
            break
        except ValidationError as exc:
            pending = []
            for found in problems_from_validation_error(exc):
                if found.field not in reported and not any(
                    found.field.startswith(r + ".") or found.field.startswith(r + "[")
                    for r in reported
                ):
                    pending.append(found)
                    problems.append(found)
                    reported.add(found.field)
                elif found.problem == "required field is missing":
                    pending.append(FieldProblem(found.field, found.problem))
    raise CaseValidationError(problems)
