"""Synthetic cases for the staging, group and risk tests (no real patient data).

``make_case`` builds a case from diagnosis fields; ``known_case`` starts from a fully known
baseline (favourable-site embryonal, fusion-negative, wild-type, 3 cm, N0, M0, group IA,
3 years old) and applies overrides, so each test names only what it varies.  ``UNSET``
removes a baseline field (unknown).  The constructed cases T1-T8 of scoring-and-staging.md
section 6 (as corrected by scoring-gaps-resolved.md) are in ``T_CASES``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rhabdo.case.model import Case
from rhabdo.results import Finding, FindingStatus

UNSET: Any = object()
YEAR_DAYS = 365.25


def years(y: float) -> int:
    """An age in days that is unambiguously ``y`` years (never on a birthday boundary)."""
    return int(y * YEAR_DAYS) + 30


def make_case(
    *,
    age_days: int | None = None,
    born: dt.date | None = None,
    diagnosed: dt.date | None = None,
    **diagnosis: Any,
) -> Case:
    patient: dict[str, Any] = {"id": "synthetic-1"}
    if age_days is not None:
        patient["age_at_diagnosis_days"] = age_days
    if born is not None:
        patient["date_of_birth"] = born
    dx = {k: v for k, v in diagnosis.items() if v is not UNSET}
    if diagnosed is not None:
        dx["date"] = diagnosed
    return Case.model_validate({"patient": patient, "diagnosis": dx})


BASELINE: dict[str, Any] = {
    "primary_site": "paratesticular",
    "histology": "embryonal",
    "foxo1_fusion": "negative",
    "myod1": "wild_type",
    "tp53": "wild_type",
    "max_diameter_cm": 3.0,
    "regional_nodes": "N0",
    "distant_metastases": [],
    "initial_surgery": {
        "result": "complete",
        "confined_to_site_of_origin": True,
        "regional_nodes_involved_pathologically": False,
    },
}


def known_case(*, age_days: int | None = None, **overrides: Any) -> Case:
    fields = {**BASELINE, **overrides}
    return make_case(age_days=years(3) if age_days is None else age_days, **fields)


def surgery(result: str, **extra: Any) -> dict[str, Any]:
    return {"result": result, **extra}


BIOPSY = surgery("biopsy_only")
DEBULKED = surgery("gross_residual")
MICRO_N0 = surgery("microscopic_residual", regional_nodes_involved_pathologically=False)
COMPLETE_N0 = surgery(
    "complete", confined_to_site_of_origin=True, regional_nodes_involved_pathologically=False
)


def outcomes(f: Finding) -> set[Any]:
    """Values a finding still allows (for 'filling in narrows' properties)."""
    if f.status is FindingStatus.DETERMINED:
        return {f.value}
    if f.status is FindingStatus.INDETERMINATE:
        return set(f.candidates)
    return {f.details.get("outcome", "not_applicable")}


# T1-T8: scoring-and-staging.md section 6, corrected by scoring-gaps-resolved.md
# ("Effect on the earlier file's constructed test cases").  Molecular fields are set where the
# corrected expectation assumes them (fusion-negative and MYOD1/TP53 wild-type).
T_CASES: dict[str, dict[str, Any]] = {
    "T1": dict(
        age_days=years(3),
        primary_site="paratesticular",
        histology="embryonal",
        foxo1_fusion="negative",
        myod1="wild_type",
        tp53="wild_type",
        max_diameter_cm=3.0,
        regional_nodes="N0",
        distant_metastases=[],
        initial_surgery=COMPLETE_N0,
    ),
    "T2": dict(
        age_days=years(7),
        primary_site="orbit",
        histology="embryonal",
        foxo1_fusion="negative",
        myod1="wild_type",
        tp53="wild_type",
        max_diameter_cm=2.0,
        regional_nodes="N0",
        distant_metastases=[],
        initial_surgery=BIOPSY,
    ),
    "T3": dict(
        age_days=years(6),
        primary_site="bladder",
        histology="embryonal",
        foxo1_fusion="negative",
        myod1="wild_type",
        tp53="wild_type",
        max_diameter_cm=4.0,
        regional_nodes="N0",
        distant_metastases=[],
        initial_surgery=BIOPSY,
    ),
    "T4": dict(
        age_days=years(12),
        primary_site="parameningeal",
        primary_site_detail="nasopharynx",
        histology="embryonal",
        foxo1_fusion="negative",
        myod1="wild_type",
        tp53="wild_type",
        max_diameter_cm=6.0,
        regional_nodes="N0",
        distant_metastases=[],
        initial_surgery=BIOPSY,
    ),
    "T5": dict(
        age_days=years(15),
        primary_site="extremity",
        primary_site_detail="forearm",
        histology="alveolar",
        foxo1_fusion="pax3_foxo1",
        max_diameter_cm=4.0,
        regional_nodes="N1",
        distant_metastases=[],
        initial_surgery=BIOPSY,
    ),
    "T6": dict(
        age_days=years(2),
        primary_site="extremity",
        primary_site_detail="forearm",
        histology="embryonal",
        foxo1_fusion="negative",
        myod1="wild_type",
        tp53="wild_type",
        max_diameter_cm=4.0,
        regional_nodes="N0",
        distant_metastases=[],
        initial_surgery=MICRO_N0,
    ),
    "T7": dict(
        age_days=years(5),
        primary_site="vulva_vagina_uterus",
        histology="embryonal",
        foxo1_fusion="negative",
        regional_nodes="N0",
        distant_metastases=["lung"],
        initial_surgery=BIOPSY,
    ),
    "T8": dict(
        age_days=years(14),
        primary_site="extremity",
        primary_site_detail="thigh",
        histology="alveolar",
        foxo1_fusion="pax3_foxo1",
        regional_nodes="N1",
        distant_metastases=["lung", "bone", "bone_marrow"],
        initial_surgery=BIOPSY,
    ),
}


def t_case(name: str) -> Case:
    return make_case(**T_CASES[name])
