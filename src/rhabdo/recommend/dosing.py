"""Per-patient doses on the systemic-therapy recommendations (a post-pass by regimen id).

Each recommendation ``systemic.<regimen id>`` of a regimen with agents gets ``doses`` (every
agent dosed for this patient, ``rhabdo.exposure.dosing``) and ``supportive_care``.  An organ
function outside an agent's studied range makes the option *caution* (or *avoid*) and the
reason says which value, which bound and which source.  The option selection itself stays in
``rhabdo.recommend.systemic``.
"""

from __future__ import annotations

from functools import cache

from rhabdo.case.model import Case
from rhabdo.exposure.dosing import DosingInputs, dosing_inputs, regimen_doses, supportive_care
from rhabdo.knowledge.treatment import RegimenEntry, regimens
from rhabdo.recommend._build import Changes, finished
from rhabdo.results import (
    DoseRuleApplied,
    GateStatus,
    Recommendation,
    RecommendationCategory,
    Strength,
)

_PREFIX = "systemic."
_WORSE = {GateStatus.CAUTION: Strength.CAUTION, GateStatus.AVOID: Strength.AVOID}
_RANK = {s: i for i, s in enumerate(Strength)}


@cache
def _dosed_regimens() -> dict[str, RegimenEntry]:
    """Every regimen with agents, by the id of its recommendation (knowledge only)."""
    return {_PREFIX + r.id: r for r in regimens() if r.agents}


def _regimen_for(rec: Recommendation) -> RegimenEntry | None:
    if rec.category is not RecommendationCategory.SYSTEMIC_THERAPY:
        return None
    if rec.strength is Strength.AVOID:
        return None
    return _dosed_regimens().get(rec.id)


@cache
def _supportive_care(regimen_id: str) -> tuple[DoseRuleApplied, ...]:
    return tuple(supportive_care(regimens()[regimen_id]))


def add_doses(
    rec: Recommendation, case: Case, inputs: DosingInputs | None, changes: Changes
) -> None:
    """Record in ``changes`` this patient's doses and the regimen's supportive care, if ``rec``
    is a regimen, with the organ-function gates' effect on its strength, reason and citations.

    ``inputs`` are the case's ``dosing_inputs`` when the caller has them already."""
    regimen = _regimen_for(rec)
    if regimen is None:
        return
    doses = regimen_doses(regimen, case, inputs)
    strength = changes.get("strength", rec.strength)
    outside = []
    for d in doses:
        for g in d.gates:
            worse = _WORSE.get(g.status)
            if worse is None:
                continue
            outside.append(f"{d.agent}: {g.reason}")
            if _RANK[worse] > _RANK[strength]:
                strength = worse
    changes["doses"] = doses
    changes["supportive_care"] = list(_supportive_care(regimen.id))
    if outside:
        changes["strength"] = strength
        changes["reason"] = (
            changes.get("reason", rec.reason) + " Organ function: " + " ".join(outside)
        )
        changes["citations"] = list(
            dict.fromkeys(
                changes.get("citations", rec.citations)
                + [c for d in doses for g in d.gates if g.status in _WORSE for c in g.citations]
            )
        )


def with_doses(
    rec: Recommendation, case: Case, inputs: DosingInputs | None = None
) -> Recommendation:
    """``rec`` with this patient's doses and the regimen's supportive care, if it is a regimen.

    ``inputs`` are the case's ``dosing_inputs`` when the caller has them already."""
    changes: Changes = {}
    add_doses(rec, case, inputs, changes)
    return finished(rec, changes)


def attach_doses(case: Case, recommendations: list[Recommendation]) -> list[Recommendation]:
    inputs = dosing_inputs(case)  # read once per case, not once per regimen
    return [with_doses(r, case, inputs) for r in recommendations]
