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
from rhabdo.recommend._revise import revised
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


def _regimen_for(rec: Recommendation) -> RegimenEntry | None:
    if rec.category is not RecommendationCategory.SYSTEMIC_THERAPY:
        return None
    if not rec.id.startswith(_PREFIX) or rec.strength is Strength.AVOID:
        return None
    regimen = regimens().by_id.get(rec.id.removeprefix(_PREFIX))
    return regimen if regimen is not None and regimen.agents else None


@cache
def _supportive_care(regimen_id: str) -> list[DoseRuleApplied]:
    return supportive_care(regimens()[regimen_id])


def with_doses(
    rec: Recommendation, case: Case, inputs: DosingInputs | None = None
) -> Recommendation:
    """``rec`` with this patient's doses and the regimen's supportive care, if it is a regimen.

    ``inputs`` are the case's ``dosing_inputs`` when the caller has them already."""
    regimen = _regimen_for(rec)
    if regimen is None:
        return rec
    doses = regimen_doses(regimen, case, inputs)
    strength = rec.strength
    outside = []
    for d in doses:
        for g in d.gates:
            worse = _WORSE.get(g.status)
            if worse is None:
                continue
            outside.append(f"{d.agent}: {g.reason}")
            if _RANK[worse] > _RANK[strength]:
                strength = worse
    update: dict[str, object] = {
        "doses": doses,
        "supportive_care": list(_supportive_care(regimen.id)),
    }
    if outside:
        update["strength"] = strength
        update["reason"] = rec.reason + " Organ function: " + " ".join(outside)
        update["citations"] = list(
            dict.fromkeys(
                rec.citations
                + [c for d in doses for g in d.gates if g.status in _WORSE for c in g.citations]
            )
        )
    return revised(rec, update)


def attach_doses(case: Case, recommendations: list[Recommendation]) -> list[Recommendation]:
    inputs = dosing_inputs(case)  # read once per case, not once per regimen
    return [with_doses(r, case, inputs) for r in recommendations]
