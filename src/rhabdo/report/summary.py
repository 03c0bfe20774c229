"""One-line descriptions of the case for headers (no identifiers beyond the pseudonymous id)."""

from __future__ import annotations

from rhabdo.case.model import Case


def age_in_words(days: int | None) -> str:
    if days is None:
        return "age unknown"
    if days < 365:
        return f"{days // 30} months"
    return f"{days / 365.25:.1f} years"


def diagnosis_summary(case: Case) -> str:
    """'8.2-year-old male; embryonal RMS, paratesticular, 4 cm, N0, M0; diagnosed 2021-05'."""
    d = case.diagnosis
    parts = [age_in_words(case.age_at_diagnosis_days) + " at diagnosis"]
    if case.patient.sex:
        parts[0] += f", {case.patient.sex.label}"
    tumour = [d.histology.label if d.histology else "histology unknown"]
    tumour.append(d.primary_site.label if d.primary_site else "site unknown")
    if d.foxo1_fusion:
        tumour.append(d.foxo1_fusion.label)
    if d.max_diameter_cm is not None:
        tumour.append(f"{d.max_diameter_cm:g} cm")
    if d.regional_nodes:
        tumour.append(d.regional_nodes.value)
    if d.distant_metastases is not None:
        tumour.append(
            "M1 (" + ", ".join(s.label for s in d.distant_metastases) + ")"
            if d.distant_metastases
            else "M0"
        )
    parts.append(", ".join(tumour))
    if d.date:
        parts.append(f"diagnosed {d.date:%Y-%m}")
    if case.events:
        kinds = ", ".join(
            f"{e.kind.value} {e.date:%Y-%m}" if e.date else e.kind.value for e in case.events
        )
        parts.append(kinds)
    return "; ".join(parts)
