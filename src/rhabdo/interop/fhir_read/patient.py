"""The Patient: exactly one, every subject pointing at it, its id, sex and birth date."""

from __future__ import annotations

from typing import Any

from rhabdo.case.vocab import (
    Sex,
)
from rhabdo.errors import FhirBundleError, FieldProblem
from rhabdo.interop import codes as c
from rhabdo.interop.fhir_read.common import _Importer, _label, _shown_reference, _to_date

# --- patient ---------------------------------------------------------------------------


def _patient(imp: _Importer, used: set[int]) -> Any:
    patients = imp.of_type("Patient")
    if len(patients) != 1:
        raise FhirBundleError(
            [
                FieldProblem(
                    "entry", f"the bundle must hold exactly one Patient, found {len(patients)}"
                )
            ]
        )
    used.add(id(patients[0]))
    return patients[0]


_SUBJECT_ELEMENTS = ("subject", "patient")


def _check_subjects(imp: _Importer, patient: Any) -> None:
    """Every resource about a patient must be about the bundle's patient."""
    for _, res in imp.resources:
        for element in _SUBJECT_ELEMENTS:
            ref = getattr(res, element, None) if res.resource_type != "Patient" else None
            if ref is None or not hasattr(ref, "reference") or not ref.reference:
                continue
            target = imp.resolve(res, element, ref, ())
            if target is not None and target is not patient:
                imp.problems.append(
                    FieldProblem(
                        f"{_label(res)}.{element}",
                        f"refers to {_shown_reference(ref.reference)}, not the bundle's Patient",
                    )
                )


def _patient_fields(imp: _Importer, res: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pid = next(
        (
            ident.value
            for ident in (res.identifier or [])
            if ident.system == c.PATIENT_ID_SYSTEM and ident.value
        ),
        None,
    )
    out["id"] = pid or res.id
    if not out["id"]:
        imp.problems.append(
            FieldProblem(
                f"{_label(res)}.id", "the Patient has neither an id nor a rhabdo identifier"
            )
        )
        imp._raise_if_problems()
    imp.prov("patient.id", res)
    if res.gender in ("male", "female", "other"):
        out["sex"] = Sex(res.gender).value
        imp.prov("patient.sex", res)
    if res.birthDate is not None:
        born = _to_date(res.birthDate)
        if born is None:
            imp.note_unmapped(res, "birthDate", [], "birth date is not a full date")
        else:
            out["date_of_birth"] = born.isoformat()
            imp.prov("patient.date_of_birth", res)
    return out
