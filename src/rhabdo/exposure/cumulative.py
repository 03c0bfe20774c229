"""Cumulative chemotherapy doses, per agent, across every treatment line.

Doses are brought to mg/m2.  Body-surface doses (mg/m2, g/m2, mcg/m2) convert directly;
weight-based doses (mg/kg, mcg/kg) need the line's weight *and* body-surface area; flat doses
(mg, g, mcg) need the line's body-surface area.  When what a conversion needs is missing the
dose is unknown, and the finding that uses it says which case field would settle it -- a
missing dose is never counted as zero.
"""

from __future__ import annotations

from typing import NamedTuple

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case, ChemotherapyExposure, RadiotherapyCourse, TreatmentLine
from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit

_PER_M2_TO_MG = {DoseUnit.MG_M2: 1.0, DoseUnit.G_M2: 1000.0, DoseUnit.MCG_M2: 0.001}
_PER_KG_TO_MG = {DoseUnit.MG_KG: 1.0, DoseUnit.MCG_KG: 0.001}
_FLAT_TO_MG = {DoseUnit.MG: 1.0, DoseUnit.G: 1000.0, DoseUnit.MCG: 0.001}


@once_per_assessment
def line_paths(case: Case) -> tuple[tuple[str, TreatmentLine], ...]:
    """Each treatment line with its dotted path in the case (``first_line``, ``later_lines[0]``)."""
    lines = [("first_line", case.first_line)] if case.first_line else []
    lines += [(f"later_lines[{i}]", line) for i, line in enumerate(case.later_lines)]
    return tuple(lines)


@once_per_assessment
def radiotherapy_paths(case: Case) -> tuple[tuple[str, RadiotherapyCourse], ...]:
    """Every radiotherapy course with its dotted path (``later_lines[0].radiotherapy[1]``), in
    line order: worked out once for the exposure findings that each read them all."""
    return tuple(
        (f"{line_path}.radiotherapy[{j}]", rt)
        for line_path, line in line_paths(case)
        for j, rt in enumerate(line.radiotherapy)
    )


def agent_key(exposure: ChemotherapyExposure) -> str:
    """The agent code, or ``other:<name>`` for agents outside the vocabulary."""
    if exposure.agent is ChemotherapyAgent.OTHER:
        return f"other:{(exposure.agent_name or 'unnamed').strip().lower()}"
    return exposure.agent.value


def dose_to_mg_m2(
    amount: float, unit: DoseUnit, weight_kg: float | None, bsa_m2: float | None
) -> tuple[float | None, list[str]]:
    """Convert one amount to mg/m2: (value, missing line fields); value is None if missing."""
    if unit in _PER_M2_TO_MG:
        return amount * _PER_M2_TO_MG[unit], []
    if unit in _PER_KG_TO_MG:
        missing = [
            f for f, v in (("weight_kg", weight_kg), ("body_surface_area_m2", bsa_m2)) if v is None
        ]
        if missing:
            return None, missing
        assert weight_kg is not None and bsa_m2 is not None
        return amount * _PER_KG_TO_MG[unit] * weight_kg / bsa_m2, []
    if bsa_m2 is None:
        return None, ["body_surface_area_m2"]
    return amount * _FLAT_TO_MG[unit] / bsa_m2, []


class DoseContribution(NamedTuple):
    """One agent entry of one line, converted to mg/m2 (or unknown, with what it needs).
    Immutable (a named tuple: several per case, so cheaper to make than a frozen dataclass)."""

    agent: str
    path: str  # e.g. first_line.chemotherapy[2]
    mg_m2: float | None
    needs: tuple[str, ...]
    how: str


def contribution(
    exposure: ChemotherapyExposure, line: TreatmentLine, path: str
) -> DoseContribution:
    """Convert one chemotherapy entry to a cumulative mg/m2 dose, or say what is missing."""
    key = agent_key(exposure)
    line_path = path.rsplit(".chemotherapy", 1)[0]
    if exposure.cumulative_dose is not None and exposure.cumulative_dose_unit is not None:
        amount, unit, how = (
            exposure.cumulative_dose,
            exposure.cumulative_dose_unit,
            "stated cumulative dose",
        )
    elif exposure.dose_per_administration is not None and exposure.dose_unit is not None:
        if exposure.administrations is None:
            return DoseContribution(
                key,
                path,
                None,
                (f"{path}.administrations", f"{path}.cumulative_dose"),
                "count unknown",
            )
        amount = exposure.dose_per_administration * exposure.administrations
        unit = exposure.dose_unit
        how = f"{exposure.dose_per_administration:g} {unit.value} x {exposure.administrations}"
    else:
        return DoseContribution(
            key,
            path,
            None,
            (f"{path}.cumulative_dose", f"{path}.dose_per_administration"),
            "dose unknown",
        )
    value, missing = dose_to_mg_m2(amount, unit, line.weight_kg, line.body_surface_area_m2)
    if value is None:
        return DoseContribution(
            key, path, None, tuple(f"{line_path}.{m}" for m in missing), f"{how}; cannot convert"
        )
    return DoseContribution(key, path, value, (), how)


class AgentTotal(NamedTuple):
    """All contributions of one agent across lines, summed once (``agent_total`` makes it)."""

    agent: str
    contributions: tuple[DoseContribution, ...]
    known_mg_m2: float
    complete: bool
    missing: tuple[str, ...]  # the case fields that would complete it, sorted

    @property
    def needs(self) -> list[str]:
        return list(self.missing)


def agent_total(agent: str, contributions: tuple[DoseContribution, ...]) -> AgentTotal:
    """The total of one agent's contributions: the known part, whether that is all of it, and
    the fields that would complete it."""
    known = [c.mg_m2 for c in contributions if c.mg_m2 is not None]
    return AgentTotal(
        agent,
        contributions,
        sum(known),
        len(known) == len(contributions),
        tuple(sorted({n for c in contributions for n in c.needs})),
    )


def agent_totals(case: Case) -> dict[str, AgentTotal]:
    """Cumulative dose of every agent given, in order of first appearance."""
    by_agent: dict[str, list[DoseContribution]] = {}
    for line_path, line in line_paths(case):
        for i, exposure in enumerate(line.chemotherapy):
            c = contribution(exposure, line, f"{line_path}.chemotherapy[{i}]")
            by_agent.setdefault(c.agent, []).append(c)
    return {agent: agent_total(agent, tuple(cs)) for agent, cs in by_agent.items()}
