"""rhabdo's own FHIR extensions: one table, their StructureDefinitions generated from it.

mCODE has no element for some of what a rhabdo case holds (anaplasia, the initial-surgery
detail of the IRS group, family history, event flags, organ function, goals of care, ...), and
the assessment export cites sources.  Each such item travels in a documented extension of
rhabdo's own, listed in :data:`EXTENSIONS`.  The StructureDefinitions in
``rhabdo/interop/definitions/`` are written from this table by :func:`write_definitions`
(a test checks that the shipped files are current) and are validated like the official ones.

Case fields without an mCODE element travel in one complex extension, ``case-field``: a
``path`` (the field's place in the case, relative to the resource that carries it) and a
typed ``value``.  Which fields travel that way is listed in
``rhabdo.interop.fhir_import.EXTENSION_FIELDS``; adding a case field means adding its path
there (or mapping it onto an mCODE element).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rhabdo.interop import codes as c

CASE_FIELD_VALUE_TYPES = ("boolean", "integer", "decimal", "string", "date")


@dataclass(frozen=True)
class ExtensionSpec:
    """One rhabdo extension: its id, value types (empty: complex), where it may appear."""

    id: str
    title: str
    description: str
    contexts: tuple[str, ...]
    value_types: tuple[str, ...] = ()
    parts: tuple[tuple[str, tuple[str, ...], int], ...] = ()  # (url, value types, min)

    @property
    def url(self) -> str:
        return c.RHABDO_BASE + "StructureDefinition/" + self.id


EXTENSIONS: tuple[ExtensionSpec, ...] = (
    ExtensionSpec(
        "citation",
        "Citation",
        "A source a finding rests on: its citation key and the reference it resolves to.",
        ("Observation", "RiskAssessment"),
        ("string",),
    ),
    ExtensionSpec(
        "treatment-line-number",
        "Treatment line number",
        "The number of a line of treatment: 1 for first-line therapy, 2 and up for later lines.",
        ("CarePlan",),
        ("positiveInt",),
    ),
    ExtensionSpec(
        "cumulative-dose",
        "Cumulative dose",
        "The cumulative dose of an agent given in a line of treatment (UCUM unit).",
        ("MedicationRequest", "MedicationAdministration"),
        ("Quantity",),
    ),
    ExtensionSpec(
        "brachytherapy",
        "Brachytherapy",
        "Whether a radiotherapy course was (true) or was not (false) brachytherapy.",
        ("Procedure",),
        ("boolean",),
    ),
    ExtensionSpec(
        "case-field",
        "rhabdo case field",
        "A field of a rhabdo case that mCODE has no element for: its path in the case model "
        "(relative to the resource carrying it: the Patient carries paths from the case root, "
        "a disease-status Observation those of its event, a CarePlan those of its line) and "
        "its value (a structured value as JSON, with encoding 'json'). The fields carried "
        "this way are listed in rhabdo.interop.fhir_casefields.EXTENSION_FIELDS.",
        ("Patient", "Observation", "CarePlan"),
        (),
        (
            ("path", ("string",), 1),
            ("value", CASE_FIELD_VALUE_TYPES, 1),
            ("encoding", ("code",), 0),
        ),
    ),
)
EXT_CITATION = EXTENSIONS[0].url
EXT_CASE_FIELD = EXTENSIONS[4].url


def _element(
    element_id: str, path: str, low: int, high: str, types: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": element_id,
        "path": path,
        "min": low,
        "max": high,
        "base": {"path": path, "min": 0, "max": "1" if path.count(".") else "*"},
    }
    if types:
        out["type"] = types
    out.update(extra)
    return out


def _typed(codes: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"code": code} for code in codes]


def _simple_elements(
    prefix: str, path: str, url: str, value_types: tuple[str, ...]
) -> list[dict[str, Any]]:
    return [
        _element(f"{prefix}.extension", f"{path}.extension", 0, "0", _typed(("Extension",))),
        _element(f"{prefix}.url", f"{path}.url", 1, "1", _typed(("uri",)), fixedUri=url),
        _element(f"{prefix}.value[x]", f"{path}.value[x]", 1, "1", _typed(value_types)),
    ]


def structure_definition(spec: ExtensionSpec) -> dict[str, Any]:
    """The StructureDefinition (with snapshot) of one rhabdo extension."""
    elements = [
        _element(
            "Extension",
            "Extension",
            0,
            "*",
            [],
            short=spec.title,
            constraint=[
                {
                    "key": "ext-1",
                    "severity": "error",
                    "human": "Must have either extensions or value[x], not both",
                    "expression": "extension.exists() != value.exists()",
                }
            ],
        )
    ]
    if spec.value_types:
        elements += _simple_elements("Extension", "Extension", spec.url, spec.value_types)
    else:
        elements.append(
            _element(
                "Extension.extension",
                "Extension.extension",
                len([p for p in spec.parts if p[2] > 0]),
                "*",
                _typed(("Extension",)),
                slicing={"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
            )
        )
        for name, types, low in spec.parts:
            sid = f"Extension.extension:{name}"
            elements.append(
                _element(
                    sid, "Extension.extension", low, "1", _typed(("Extension",)), sliceName=name
                )
            )
            elements += _simple_elements(sid, "Extension.extension", name, types)
        elements += [
            _element("Extension.url", "Extension.url", 1, "1", _typed(("uri",)), fixedUri=spec.url),
            _element("Extension.value[x]", "Extension.value[x]", 0, "0", []),
        ]
    return {
        "resourceType": "StructureDefinition",
        "id": spec.id,
        "url": spec.url,
        "version": "1",
        "name": "".join(part.capitalize() for part in spec.id.split("-")),
        "title": spec.title,
        "status": "active",
        "description": spec.description,
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": ctx} for ctx in spec.contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "snapshot": {"element": elements},
    }


def definition_files() -> dict[str, str]:
    """File name -> JSON text of every shipped rhabdo definition."""
    return {
        f"StructureDefinition-{spec.id}.json": json.dumps(
            structure_definition(spec), indent=2, ensure_ascii=False
        )
        + "\n"
        for spec in EXTENSIONS
    }


def write_definitions(folder: Path) -> None:
    """(Re)write the shipped definitions: ``python -m rhabdo.interop.extensions``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in definition_files().items():
        (folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_definitions(Path(__file__).parent / "definitions")
