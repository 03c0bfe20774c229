"""Observations read as measurements: quantities converted by UCUM, performance status."""

from __future__ import annotations

from typing import Any

from rhabdo.case.vocab import (
    PerformanceScale,
)
from rhabdo.errors import FieldProblem
from rhabdo.interop import codes as c
from rhabdo.interop.fhir_read.common import (
    _codings,
    _has_code,
    _Importer,
    _label,
    _num,
    _profiles,
    _to_date,
)
from rhabdo.interop.units import convert


def _measured(imp: _Importer, res: Any, target: str) -> float | None:
    """A quantity converted to ``target`` by UCUM; a unit that does not convert is noted and
    the value not used (the rest of the bundle still imports)."""
    quantity = res.valueQuantity
    if quantity is None or quantity.value is None:
        imp.note_unmapped(res, "valueQuantity", [], "no value")
        return None
    unit = quantity.code or quantity.unit
    value = convert(_num(quantity.value), unit, target)
    if value is None:
        imp.note_unmapped(
            res, "valueQuantity", [], f"unit {unit!r} does not convert to {target}; value not used"
        )
    return value


def _performance(imp: _Importer, used: set[int]) -> dict[str, Any] | None:
    """The latest Karnofsky or Lansky score (mCODE performance-status profiles)."""
    found: list[tuple[str, Any, PerformanceScale]] = []
    for res in imp.of_type("Observation"):
        profiles = _profiles(res)
        if c.PROFILE_KARNOFSKY in profiles or _has_code(
            res.code, c.KARNOFSKY.system, c.KARNOFSKY.code
        ):
            scale = PerformanceScale.KARNOFSKY
        elif c.PROFILE_LANSKY in profiles or any(
            cd.code == c.LANSKY.code for cd in _codings(res.code)
        ):
            scale = PerformanceScale.LANSKY
        else:
            continue
        used.add(id(res))
        score = res.valueInteger
        if score is None or not 0 <= int(score) <= 100 or int(score) % 10:
            imp.problems.append(
                FieldProblem(
                    f"{_label(res)}.valueInteger", f"{scale.label} score must be 0-100 in tens"
                )
            )
            continue
        when = _to_date(res.effectiveDateTime)
        found.append((when.isoformat() if when else "", res, scale))
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    for _, older, _ in found[:-1]:
        imp.skip(older, "an earlier performance status; the latest is used")
    _, res, scale = found[-1]
    imp.prov("current.performance", res)
    return {"scale": scale.value, "score": int(res.valueInteger)}
