"""Case fields that mCODE has no element for, carried in rhabdo's ``case-field`` extension.

The mapping onto mCODE elements covers the fields in
``rhabdo.interop.fhir_import.MAPPED_FIELDS``.  Every other field of a case travels in the
``case-field`` extension (``rhabdo.interop.extensions``), so that case -> FHIR -> case is
lossless:

* fields of the patient, the diagnosis, the current state and the case itself on the Patient,
  with their path from the case root (``diagnosis.anaplasia``);
* fields of a disease event on its disease-status Observation, relative to the event
  (``suspected_second_malignancy``, ``sites[1].in_irradiated_field``);
* fields of a treatment line on its CarePlan, relative to the line
  (``chemotherapy[0].<field>``).

Nothing here names a field: what is carried is computed from the case and ``MAPPED_FIELDS``,
so a field added to the case model travels at once.  ``EXTENSION_FIELDS`` documents the fields
that travel this way today; a test compares it with the model, so a new field is noticed and
either mapped onto an mCODE element or listed here (and in docs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rhabdo.interop.extensions import EXT_CASE_FIELD

#: The case fields carried in the case-field extension today (model paths, ``[]`` = each item).
EXTENSION_FIELDS: frozenset[str] = frozenset(
    {
        "patient.age_at_diagnosis_days",
        "patient.family_history_of_cancer",
        "patient.known_predisposition",
        "diagnosis.anaplasia",
        "diagnosis.distant_metastasis_site_count",
        "diagnosis.initial_surgery",
        "diagnosis.tumour_alterations",
        "events[].suspected_second_malignancy",
        "events[].atypical_imaging",
        "events[].histologically_confirmed",
        "events[].sites[].in_irradiated_field",
        "events[].sites[].lesion_count",
        "events[].sites[].lesions",
        "events[].sites[].symptoms",
        "lines.best_response",
        "current.assessed_on",
        "current.organ_function",
        "current.goals_of_care",
        "current.measurable_disease",
        "current.weight_kg",
        "current.body_surface_area_m2",
        "current.tanner_stage",
    }
)

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


@dataclass
class Carried:
    """The (path, value) pairs to carry, by the resource that carries them."""

    patient: list[tuple[str, Any]] = field(default_factory=list)
    events: list[list[tuple[str, Any]]] = field(default_factory=list)
    lines: list[list[tuple[str, Any]]] = field(default_factory=list)


def _unmapped(
    data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str
) -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if key not in allowed:
            yield prefix + key, value


def _items(
    data: Mapping[str, Any], key: str, mapped: Mapping[str, tuple[str, ...]], rule: str, prefix: str
) -> Iterator[tuple[str, Any]]:
    for k, item in enumerate(data.get(key) or []):
        yield from _unmapped(item, mapped.get(rule, ()), f"{prefix}{key}[{k}].")


def carried(case_data: Mapping[str, Any], mapped: Mapping[str, tuple[str, ...]]) -> Carried:
    """What of a case (``model_dump(mode="json", exclude_none=True)``) mCODE does not carry."""
    out = Carried()
    for key, value in case_data.items():
        if key in ("patient", "diagnosis", "current"):
            out.patient += _unmapped(value, mapped.get(key, ()), f"{key}.")
        elif key not in ("first_line", "later_lines", "events", "schema_version"):
            out.patient.append((key, value))
    for event in case_data.get("events", []):
        pairs = list(_unmapped(event, mapped["events[]"], ""))
        sites = event.get("sites")
        if sites == []:  # known to have no site: FHIR components cannot say "none"
            pairs.append(("sites", []))
        for k, site in enumerate(sites or []):
            pairs += _unmapped(site, mapped["events[].sites[]"], f"sites[{k}].")
        out.events.append(pairs)
    lines = [case_data["first_line"]] if case_data.get("first_line") else []
    lines += case_data.get("later_lines", [])
    for line in lines:
        pairs = list(_unmapped(line, mapped["lines"], ""))
        for key in ("chemotherapy", "radiotherapy", "surgeries"):
            pairs += _items(line, key, mapped, f"lines.{key}[]", "")
        out.lines.append(pairs)
    return out


def extension(path: str, value: Any) -> dict[str, Any]:
    """One case-field extension; a structured value travels as JSON."""
    parts: list[dict[str, Any]] = [{"url": "path", "valueString": path}]
    if isinstance(value, bool):
        parts.append({"url": "value", "valueBoolean": value})
    elif isinstance(value, int):
        parts.append({"url": "value", "valueInteger": value})
    elif isinstance(value, float):
        parts.append({"url": "value", "valueDecimal": value})
    elif isinstance(value, str):
        parts.append({"url": "value", "valueString": value})
    else:
        parts.append({"url": "value", "valueString": json.dumps(value, sort_keys=True)})
        parts.append({"url": "encoding", "valueCode": "json"})
    return {"url": EXT_CASE_FIELD, "extension": parts}


def read(extensions: list[Any] | None) -> list[tuple[str, Any]]:
    """The (path, value) pairs of the case-field extensions of a resource (fhir.resources)."""
    out = []
    for ext in extensions or []:
        if ext.url != EXT_CASE_FIELD:
            continue
        parts = {sub.url: sub for sub in ext.extension or []}
        path, value = parts.get("path"), parts.get("value")
        if path is None or path.valueString is None or value is None:
            continue
        raw: Any = next(
            (
                v
                for v in (
                    value.valueBoolean,
                    value.valueInteger,
                    value.valueDecimal,
                    value.valueString,
                )
                if v is not None
            ),
            None,
        )
        encoding = parts.get("encoding")
        if encoding is not None and encoding.valueCode == "json" and isinstance(raw, str):
            raw = json.loads(raw)
        elif value.valueDecimal is not None:
            raw = float(value.valueDecimal)
        out.append((str(path.valueString), raw))
    return out


def assign(target: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` (``a.b[0].c``) inside ``target``, creating what is missing."""
    steps = path.split(".")
    node: Any = target
    for i, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        if match is None:
            raise ValueError(f"case-field path {path!r} is not a field path")
        name, index = match.group(1), match.group(2)
        last = i == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        k = int(index)
        while len(items) <= k:
            items.append({})
        if last:
            items[k] = value
        else:
            node = items[k]
