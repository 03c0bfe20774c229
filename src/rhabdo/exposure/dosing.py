"""Per-patient doses: each agent of a regimen dosed for this patient, with its rules.

The dose per administration is the regimen's protocol figure times the current body-surface
area (per-m2 doses) or weight (per-kg doses), from ``current.body_surface_area_m2`` and
``current.weight_kg``.  Then, in this order (``knowledge/data/dosing.yaml``):

* an infant (under 12 months now) gets no computed dose: the protocol's infant rule applies
  (Ferrari 2003: weight-based, then reduced by a further 33-50%);
* a child under 10 kg gets no computed per-m2 dose: no verified conversion exists (evidence
  gap), so the protocol's small-child rule applies;
* a per-m2 dose needs the weight as well as the body-surface area, so that a child under
  10 kg is never shown a bare per-m2 dose; a missing field makes the dose indeterminate and
  names the field;
* the maximum single dose of the protocol is applied (a secondary cap too, labelled
  "requires protocol confirmation");
* every organ-function gate of the agent is checked against ``current.organ_function``:
  outside the studied range is *caution* with the bound and its source, an unknown value asks
  for the field.

Supportive care that belongs to the regimen's source (mesna, growth factor, dexrazoxane) is
listed per regimen.  Nothing here prescribes: every figure is the source protocol's.
"""

from __future__ import annotations

from functools import cache, lru_cache

from rhabdo.case.model import Case, OrganFunction
from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.knowledge.dosing import (
    DosingEntry,
    DosingKind,
    EvidenceStatus,
    UnitFamily,
    dosing_rules,
)
from rhabdo.knowledge.treatment import AgentDose, RegimenEntry, ThresholdConcern
from rhabdo.results import (
    DoseRuleApplied,
    DoseStatus,
    GateStatus,
    OrganGateResult,
    PatientDose,
)

F_WEIGHT = "current.weight_kg"
F_BSA = "current.body_surface_area_m2"
F_ORGAN = "current.organ_function"

#: Milligrams per unit of each dose unit, and the family it scales with.
UNIT_FAMILY: dict[DoseUnit, tuple[UnitFamily, float]] = {
    DoseUnit.MG_M2: (UnitFamily.PER_M2, 1.0),
    DoseUnit.G_M2: (UnitFamily.PER_M2, 1000.0),
    DoseUnit.MCG_M2: (UnitFamily.PER_M2, 0.001),
    DoseUnit.MG_KG: (UnitFamily.PER_KG, 1.0),
    DoseUnit.MCG_KG: (UnitFamily.PER_KG, 0.001),
    DoseUnit.MG: (UnitFamily.FLAT, 1.0),
    DoseUnit.G: (UnitFamily.FLAT, 1000.0),
    DoseUnit.MCG: (UnitFamily.FLAT, 0.001),
}

_GATE_STATUS = {
    ThresholdConcern.NOTE: GateStatus.CAUTION,
    ThresholdConcern.CAUTION: GateStatus.CAUTION,
    ThresholdConcern.AVOID: GateStatus.AVOID,
}


def mg_text(mg: float) -> str:
    """A dose in mg as a pharmacist reads it: 2.55 mg, 1.275 mg, 37.5 mg, 1,800 mg (below 10 mg
    to the microgram, so a computed dose is never shown rounded)."""
    if mg >= 100:
        return f"{mg:,.1f}".removesuffix(".0") + " mg"
    if mg >= 10:
        return f"{mg:.1f}".rstrip("0").rstrip(".") + " mg"
    if mg >= 1:
        return f"{mg:.3f}".rstrip("0").rstrip(".") + " mg"
    return f"{mg:.3g} mg"


def rule_applied(entry: DosingEntry) -> DoseRuleApplied:
    text = " ".join(entry.text.split())
    if entry.evidence_status is EvidenceStatus.UNVERIFIED and entry.evidence_gap:
        text += " Evidence gap: " + " ".join(entry.evidence_gap.split())
    return DoseRuleApplied(
        id=entry.id,
        text=text,
        evidence_status=entry.evidence_status.value,
        citations=list(entry.citations),
    )


@cache
def _rules(kind: DosingKind) -> tuple[DosingEntry, ...]:
    return tuple(e for e in dosing_rules() if e.kind is kind)


def infant_now(case: Case) -> bool | None:
    """Whether the patient is under 12 months old at ``current.assessed_on``; None if unknown."""
    at_dx = case.age_at_diagnosis_days
    if at_dx is not None and at_dx >= 366:
        return False
    born = case.patient.date_of_birth
    on = case.current.assessed_on if case.current else None
    if born is not None and on is not None:
        months = (on.year - born.year) * 12 + (on.month - born.month) - (on.day < born.day)
        return months < 12
    return None


def gate_result(
    entry: DosingEntry, organ: OrganFunction | None, *, decided_elsewhere: bool = False
) -> OrganGateResult:
    """One organ-function gate: within, outside (caution/avoid), unknown, or no threshold.

    ``decided_elsewhere``: the same agent has a verified gate on the same organ (the cardiac
    shortening fraction beside the LVEF gate, which has no verified threshold).  A missing
    value of this unverified gate is then not asked for -- it could decide nothing -- and the
    gate reads "no verified threshold" with no value.
    """
    assert entry.field is not None and entry.organ is not None
    path = f"{F_ORGAN}.{entry.field.value}"
    value = getattr(organ, entry.field.value) if organ is not None else None
    bound = entry.bound_text() or None
    cites = list(entry.citations)
    base = {
        "id": entry.id,
        "organ": entry.organ.value,
        "field": path,
        "value": value,
        "studied_range": bound,
        "evidence_status": entry.evidence_status.value,
        "citations": cites,
    }
    text = " ".join(entry.text.split())
    unverified = not entry.verified or bound is None
    if value is None and unverified and decided_elsewhere:
        gap = " ".join((entry.evidence_gap or "").split())
        return OrganGateResult(
            **base,
            status=GateStatus.NO_VERIFIED_THRESHOLD,
            reason=f"{path} not recorded; not needed for this check: {text} {gap}".strip(),
        )
    if value is None:
        return OrganGateResult(
            **base,
            status=GateStatus.UNKNOWN,
            reason=f"{entry.organ.value.capitalize()} function not recorded: record {path}. "
            + text,
        )
    if unverified:
        gap = " ".join((entry.evidence_gap or "").split())
        return OrganGateResult(
            **base,
            status=GateStatus.NO_VERIFIED_THRESHOLD,
            reason=f"{path} {value:g}: {text} {gap}".strip(),
        )
    if entry.within(value):
        return OrganGateResult(
            **base,
            status=GateStatus.WITHIN,
            reason=f"{path} {value:g} is within the studied range ({bound}).",
        )
    return OrganGateResult(
        **base,
        status=_GATE_STATUS[entry.concern],
        reason=f"{path} {value:g} is outside the studied range ({bound}): {text}",
    )


def _gates(
    agent: ChemotherapyAgent, regimen_id: str, organ: OrganFunction | None
) -> list[OrganGateResult]:
    entries = [e for e in _rules(DosingKind.ORGAN_GATE) if e.applies_to(agent, regimen_id)]
    verified_organs = {e.organ for e in entries if e.verified and e.bound_text()}
    return [
        gate_result(e, organ, decided_elsewhere=not e.verified and e.organ in verified_organs)
        for e in entries
    ]


@cache
def _caps(agent: ChemotherapyAgent, family: UnitFamily) -> tuple[DosingEntry, ...]:
    return tuple(
        e
        for e in _rules(DosingKind.MAX_SINGLE_DOSE)
        if agent in e.agents and e.unit_family in (None, family)
    )


def _protocol_text(a: AgentDose) -> str:
    unit = a.dose_unit.value if a.dose_unit else ""
    return f"{a.agent.value} {a.dose:g} {unit}" if a.dose is not None else a.agent.value


DosingInputs = tuple[float | None, float | None, bool | None, OrganFunction | None]


def dosing_inputs(case: Case) -> DosingInputs:
    """What dosing reads from the case: weight, body-surface area, infant now, organ function."""
    current = case.current
    if current is None:
        return None, None, infant_now(case), None
    return (
        current.weight_kg,
        current.body_surface_area_m2,
        infant_now(case),
        current.organ_function,
    )


def agent_dose(regimen: RegimenEntry, a: AgentDose, case: Case) -> PatientDose:
    """This patient's dose of one agent of ``regimen``, with the rules and gates applied."""
    return _agent_dose(regimen.id, a, *dosing_inputs(case))


@lru_cache(maxsize=4096)
def _agent_dose(
    regimen_id: str,
    a: AgentDose,
    weight: float | None,
    bsa: float | None,
    infant: bool | None,
    organ: OrganFunction | None,
) -> PatientDose:
    """``agent_dose`` on the few inputs it reads (cached: cases share their dosing inputs)."""
    gates = _gates(a.agent, regimen_id, organ)
    rules: list[DoseRuleApplied] = []
    needs = [g.field for g in gates if g.status is GateStatus.UNKNOWN]
    common = {
        "regimen": regimen_id,
        "agent": a.agent.value,
        "protocol_dose": a.dose,
        "protocol_unit": a.dose_unit.value if a.dose_unit else None,
        "schedule": a.schedule,
        "gates": gates,
    }

    def result(status: DoseStatus, text: str, **extra: object) -> PatientDose:
        cites = [c for r in rules for c in r.citations] + [c for g in gates for c in g.citations]
        return PatientDose(
            **common,
            status=status,
            text=text,
            needs=sorted(set(needs)),
            rules=rules,
            citations=list(dict.fromkeys(cites)),
            **extra,  # type: ignore[arg-type]
        )

    if a.dose is None or a.dose_unit is None:
        return result(
            DoseStatus.NOT_COMPUTED,
            f"{a.agent.value}: the sources read give no dose for this regimen; "
            "use the protocol's dose.",
        )
    family, factor = UNIT_FAMILY[a.dose_unit]
    label = _protocol_text(a)
    caps = _caps(a.agent, family)
    rules += [rule_applied(c) for c in caps]
    small_child = {e.id: e for e in _rules(DosingKind.SMALL_CHILD)}
    if weight is not None:
        rules += [
            rule_applied(e)
            for e in small_child.values()
            if e.agents and a.agent in e.agents and e.below_weight_kg and weight < e.below_weight_kg
        ]
    if infant:
        rules.insert(0, rule_applied(small_child["small_child.infant_weight_based"]))
        return result(
            DoseStatus.NOT_COMPUTED,
            f"{label}: not computed for an infant under 12 months; apply the protocol's "
            "infant rule (doses by weight, then reduced).",
        )
    if family is not UnitFamily.FLAT and weight is None:
        needs.append(F_WEIGHT)
    if family is UnitFamily.PER_M2 and bsa is None:
        needs.append(F_BSA)
    if weight is not None and weight < 10 and family is UnitFamily.PER_M2:
        rules.insert(0, rule_applied(small_child["small_child.under_10kg"]))
        return result(
            DoseStatus.NOT_COMPUTED,
            f"{label}: not computed from body-surface area at {weight:g} kg (under 10 kg); "
            "apply the protocol's small-child rule.",
        )
    if infant is None:
        rules.append(
            DoseRuleApplied(
                id="small_child.age_unknown",
                text="Age now unknown (date of birth or current.assessed_on missing): if the "
                "patient is under 12 months, the protocol's infant rule applies instead.",
                evidence_status=EvidenceStatus.VERIFIED.value,
                citations=list(small_child["small_child.infant_weight_based"].citations),
            )
        )
    missing = [n for n in (F_WEIGHT, F_BSA) if n in needs]
    if missing:
        return result(
            DoseStatus.INDETERMINATE,
            f"{label}: dose for this patient needs {' and '.join(missing)}.",
        )
    if family is UnitFamily.PER_M2:
        assert bsa is not None
        mg = a.dose * factor * bsa
        how = f"{label} x {bsa:g} m2 = {mg_text(mg)}"
    elif family is UnitFamily.PER_KG:
        assert weight is not None
        mg = a.dose * factor * weight
        how = f"{label} x {weight:g} kg = {mg_text(mg)}"
    else:
        mg = a.dose * factor
        how = f"{label} (flat dose) = {mg_text(mg)}"
    if caps:
        cap = min(caps, key=lambda c: c.max_mg or 0.0)
        assert cap.max_mg is not None
        if mg > cap.max_mg:
            return result(
                DoseStatus.CAPPED,
                f"{how}, capped at {mg_text(cap.max_mg)} (maximum single dose; "
                f"{cap.evidence_status.label}).",
                dose_mg=cap.max_mg,
                uncapped_dose_mg=round(mg, 4),
            )
        how += f" (below the {mg_text(cap.max_mg)} maximum single dose)"
    return result(DoseStatus.COMPUTED, how + ".", dose_mg=round(mg, 4))


def regimen_doses(
    regimen: RegimenEntry, case: Case, inputs: DosingInputs | None = None
) -> list[PatientDose]:
    """Every agent of ``regimen`` dosed for this patient, in the regimen's order.

    ``inputs`` are the case's ``dosing_inputs`` when the caller has them already."""
    if inputs is None:
        inputs = dosing_inputs(case)
    key = (id(regimen), *inputs)
    hit = _REGIMEN_DOSES.get(key)
    if hit is not None and hit[0] is regimen:
        return list(hit[1])
    doses = tuple(_agent_dose(regimen.id, a, *inputs) for a in regimen.agents)
    if len(_REGIMEN_DOSES) >= _REGIMEN_DOSES_MAX:
        _REGIMEN_DOSES.clear()
    # the regimen itself is kept with its doses, so a reused id() never returns stale doses
    _REGIMEN_DOSES[key] = (regimen, doses)
    return list(doses)


#: Doses per (regimen, dosing inputs): hashing the inputs once per regimen instead of once per
#: agent.  Bounded; cleared when full.
_REGIMEN_DOSES: dict[tuple[object, ...], tuple[RegimenEntry, tuple[PatientDose, ...]]] = {}
_REGIMEN_DOSES_MAX = 4096


def supportive_care(regimen: RegimenEntry) -> list[DoseRuleApplied]:
    """Supportive care that belongs to ``regimen`` in its source (or to one of its agents)."""
    agents = regimen.agent_set
    out: list[DoseRuleApplied] = []
    for e in _rules(DosingKind.SUPPORTIVE_CARE):
        if e.regimens and regimen.id not in e.regimens:
            continue
        if e.agents and not agents & set(e.agents):
            continue
        out.append(rule_applied(e))
    return out
