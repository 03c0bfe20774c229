"""UCUM unit conversion for the quantities rhabdo reads from FHIR.

Each unit is listed with its dimension and its factor to the dimension's base unit; a value
converts between units of one dimension.  Factors are the UCUM definitions (the international
avoirdupois pound is exactly 0.45359237 kg, the ounce 1/16 of it, the international inch
exactly 2.54 cm).  ``m^2`` and ``cm^2`` are not UCUM but are common in EHR exports for ``m2``
and ``cm2``; they are read as such.
"""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    MASS = "mass"
    AREA = "area"
    LENGTH = "length"
    ABSORBED_DOSE = "absorbed dose"


#: unit -> (dimension, factor to the base unit: kg, m2, cm, Gy)
UNITS: dict[str, tuple[Dimension, float]] = {
    "kg": (Dimension.MASS, 1.0),
    "g": (Dimension.MASS, 0.001),
    "mg": (Dimension.MASS, 0.000001),
    "[lb_av]": (Dimension.MASS, 0.45359237),
    "[oz_av]": (Dimension.MASS, 0.45359237 / 16),
    "m2": (Dimension.AREA, 1.0),
    "m^2": (Dimension.AREA, 1.0),
    "cm2": (Dimension.AREA, 0.0001),
    "cm^2": (Dimension.AREA, 0.0001),
    "cm": (Dimension.LENGTH, 1.0),
    "mm": (Dimension.LENGTH, 0.1),
    "m": (Dimension.LENGTH, 100.0),
    "[in_i]": (Dimension.LENGTH, 2.54),
    "Gy": (Dimension.ABSORBED_DOSE, 1.0),
    "cGy": (Dimension.ABSORBED_DOSE, 0.01),
    "mGy": (Dimension.ABSORBED_DOSE, 0.001),
}


def convert(value: float, unit: str | None, target: str) -> float | None:
    """``value`` in ``unit`` expressed in ``target``; None when the unit is unknown or of
    another dimension (never a guess)."""
    if unit is None or unit not in UNITS:
        return None
    dimension, factor = UNITS[unit]
    target_dimension, target_factor = UNITS[target]
    if dimension is not target_dimension:
        return None
    return round(value * factor / target_factor, 6)
