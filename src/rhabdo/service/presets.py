"""Regimen presets for the case form: the agents of a named regimen and, where the knowledge
base gives them, their standard doses per administration.

A preset names a regimen entry of ``knowledge/data/regimens.yaml`` and the agents of it that
the abbreviation stands for (IVA is the IVA part of the EpSSG MTS 2008 entry, VAC the VAC block
of COG ARST0431).  Doses come only from that entry; where the entry gives none (ARST0431) or
there is no entry (VA), the agents are filled and the doses are left blank for the clinician.
The form copies the values into ordinary, editable inputs: a preset is a typing aid, never a
prescription.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rhabdo.case.vocab import ChemotherapyAgent as A


class Preset(StrEnum):
    VA = "va"
    VAC = "vac"
    IVA = "iva"
    VI = "vi"
    VIT = "vit"
    VDC_IE = "vdc_ie"
    VINORELBINE_ORAL_CYCLOPHOSPHAMIDE = "vinorelbine_oral_cyclophosphamide"


@dataclass(frozen=True)
class PresetSpec:
    label: str
    regimen_id: str | None
    agents: tuple[A, ...]


SPECS: dict[Preset, PresetSpec] = {
    Preset.VA: PresetSpec("VA (vincristine, dactinomycin)", None, (A.VINCRISTINE, A.DACTINOMYCIN)),
    Preset.VAC: PresetSpec(
        "VAC (vincristine, dactinomycin, cyclophosphamide)",
        "arst0431",
        (A.VINCRISTINE, A.DACTINOMYCIN, A.CYCLOPHOSPHAMIDE),
    ),
    Preset.IVA: PresetSpec(
        "IVA (ifosfamide, vincristine, dactinomycin)",
        "ivado_iva_maintenance",
        (A.IFOSFAMIDE, A.VINCRISTINE, A.DACTINOMYCIN),
    ),
    Preset.VI: PresetSpec("VI (vincristine, irinotecan)", "vi", (A.VINCRISTINE, A.IRINOTECAN)),
    Preset.VIT: PresetSpec(
        "VIT (vincristine, irinotecan, temozolomide)",
        "vit",
        (A.VINCRISTINE, A.IRINOTECAN, A.TEMOZOLOMIDE),
    ),
    Preset.VDC_IE: PresetSpec(
        "VDC/IE (vincristine, doxorubicin, cyclophosphamide / ifosfamide, etoposide)",
        "arst0431",
        (A.VINCRISTINE, A.DOXORUBICIN, A.CYCLOPHOSPHAMIDE, A.IFOSFAMIDE, A.ETOPOSIDE),
    ),
    Preset.VINORELBINE_ORAL_CYCLOPHOSPHAMIDE: PresetSpec(
        "Maintenance: vinorelbine + oral cyclophosphamide",
        "maintenance_vinorelbine_cyclophosphamide",
        (A.VINORELBINE, A.CYCLOPHOSPHAMIDE),
    ),
}


@dataclass(frozen=True)
class PresetAgent:
    """One agent a preset fills in: dose per administration and unit when the source gives them."""

    agent: A
    dose: float | None
    dose_unit: str | None
    schedule: str | None


@dataclass(frozen=True)
class FilledPreset:
    preset: Preset
    label: str
    regimen_name: str | None
    citations: tuple[str, ...]
    agents: tuple[PresetAgent, ...]

    @property
    def doses_known(self) -> bool:
        return any(a.dose is not None for a in self.agents)


def fill(preset: Preset) -> FilledPreset:
    """The agents of ``preset`` with the doses its knowledge-base regimen gives (else blank)."""
    from rhabdo.knowledge.treatment import regimens

    spec = SPECS[preset]
    entry = regimens()[spec.regimen_id] if spec.regimen_id else None
    by_agent = {a.agent: a for a in entry.agents} if entry else {}
    agents = []
    for agent in spec.agents:
        source = by_agent.get(agent)
        agents.append(
            PresetAgent(
                agent=agent,
                dose=source.dose if source else None,
                dose_unit=source.dose_unit.value if source and source.dose_unit else None,
                schedule=source.schedule if source else None,
            )
        )
    return FilledPreset(
        preset=preset,
        label=spec.label,
        regimen_name=entry.name if entry else None,
        citations=tuple(entry.citations) if entry else (),
        agents=tuple(agents),
    )


def chemotherapy_items(preset: Preset) -> list[dict[str, str]]:
    """Form items (string values, as the form holds them) for the agents of ``preset``."""
    items = []
    for a in fill(preset).agents:
        item = {"agent": a.agent.value}
        if a.dose is not None and a.dose_unit is not None:
            item["dose_per_administration"] = f"{a.dose:g}"
            item["dose_unit"] = a.dose_unit
        items.append(item)
    return items
