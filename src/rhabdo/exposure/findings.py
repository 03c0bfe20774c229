"""Exposure findings: what the patient has already received.

Finding ids (stable):

* ``exposure.agents_given`` -- the agents given in any line (codes; ``other:<name>``).
* ``exposure.<agent>`` -- cumulative dose of each agent given, in mg/m2, for every
  ``ChemotherapyAgent`` code that appears (``exposure.other.<name>`` for uncoded agents).
* ``exposure.ifosfamide`` -- always present: cumulative ifosfamide (mg/m2; g/m2 and the renal
  thresholds reached in ``details``; Skinner 1996, 2000).  0 when known not given.
* ``exposure.anthracycline_doxorubicin_equivalent`` -- always present: doxorubicin-equivalent
  anthracycline in mg/m2 using the IGHG cardiotoxicity equivalence ratios (Kouwenberg 2025:
  daunorubicin 0.6, mitoxantrone 10.5, from Feijen 2019), with the IGHG surveillance thresholds
  reached (Armenian 2015).  IGHG makes no recommendation for epirubicin or idarubicin, so with
  either given the total is an explicit lower bound (indeterminate, like the CED) naming each
  unconverted agent and its total, and ``needs`` names the missing ratio
  (``knowledge.dose_thresholds.anthracycline.<agent>``).
* ``exposure.ced`` -- cyclophosphamide-equivalent dose, mg/m2.  Only cyclophosphamide has a
  verified coefficient here, so when other alkylators were given the CED is indeterminate: a
  lower bound (``candidates``, ``details.lower_bound``) whose reason names each unconverted
  agent with its total, and whose ``needs`` is the missing knowledge
  (``knowledge.dose_thresholds.ced.other_alkylators``, never listed as a missing case field).
* ``exposure.radiation`` -- every radiotherapy course (line, target, body region, dose).
* ``exposure.chest_radiation`` -- total dose to the thorax in Gy (sum of thoracic courses,
  which overstates the dose to any one point when fields do not overlap).
* ``exposure.relapse_site_irradiated`` -- whether a site of the current recurrence lies in a
  previously irradiated field (or body region).
* ``late_effects.fertility`` and ``late_effects.cardiac_surveillance`` -- late-effects advice
  that fits the patient (``rhabdo.exposure.late_effects``).

Missing inputs never count as zero: the finding is indeterminate and names the case fields.
An empty radiotherapy list is not evidence of none: a line without courses counts as "no
radiotherapy" only with ``radiotherapy_given: false``.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import BodyRegion, ChemotherapyAgent, RadiotherapyTarget
from rhabdo.exposure.cumulative import AgentTotal, agent_totals, line_paths, radiotherapy_paths
from rhabdo.exposure.late_effects import cardiac_surveillance_finding, fertility_finding
from rhabdo.knowledge.treatment import DoseThresholdEntry, ThresholdKind, dose_thresholds
from rhabdo.results import Finding, FindingStatus, determined, indeterminate, not_applicable

RULE_CHEMO = "exposure.chemotherapy.v1"
RULE_ANTHRACYCLINE = "exposure.anthracycline.v1"
RULE_CED = "exposure.ced.v1"
RULE_RADIATION = "exposure.radiation.v1"

ANTHRACYCLINES: tuple[ChemotherapyAgent, ...] = (
    ChemotherapyAgent.DOXORUBICIN,
    ChemotherapyAgent.DAUNORUBICIN,
    ChemotherapyAgent.EPIRUBICIN,
    ChemotherapyAgent.IDARUBICIN,
    ChemotherapyAgent.MITOXANTRONE,
)
#: Alkylating agents in the vocabulary (for the CED).  Platinum agents are not alkylators in
#: the CED sense and are excluded.
ALKYLATORS: tuple[ChemotherapyAgent, ...] = (
    ChemotherapyAgent.CYCLOPHOSPHAMIDE,
    ChemotherapyAgent.IFOSFAMIDE,
    ChemotherapyAgent.MELPHALAN,
    ChemotherapyAgent.BUSULFAN,
    ChemotherapyAgent.THIOTEPA,
    ChemotherapyAgent.TEMOZOLOMIDE,
)

_UNKNOWN_HISTORY_NEEDS = ["first_line"]

# Agent codes as the totals key them (an enum's .value is a slow lookup in a hot loop).
_IFOSFAMIDE = ChemotherapyAgent.IFOSFAMIDE.value
_CYCLOPHOSPHAMIDE = ChemotherapyAgent.CYCLOPHOSPHAMIDE.value
_ANTHRACYCLINE_CODES = tuple(a.value for a in ANTHRACYCLINES)
ALKYLATOR_CODES = tuple(a.value for a in ALKYLATORS)
_OTHER_ALKYLATOR_CODES = tuple(a for a in ALKYLATOR_CODES if a != _CYCLOPHOSPHAMIDE)


def amount_text(value: float) -> str:
    """A cumulative amount as a clinician reads it: thousands separated, at most one decimal,
    cut (never rounded) down so that a figure shown never reaches a threshold the value does
    not reach: 4545.45 -> '4,545.4', 249.96 -> '249.9', 84 -> '84'."""
    cut = math.floor(value * 10 + 1e-9) / 10
    return f"{cut:,.1f}".removesuffix(".0")


def finding_id_for_agent(agent: str) -> str:
    if agent.startswith("other:"):
        slug = re.sub(r"[^a-z0-9]+", "_", agent.removeprefix("other:")).strip("_") or "unnamed"
        return f"exposure.other.{slug}"
    return f"exposure.{agent}"


# The shipped knowledge is immutable once loaded, so what is derived from it per threshold
# kind is computed once per process (the lookups ran for every finding of every case).
@cache
def _thresholds(kind: ThresholdKind) -> tuple[DoseThresholdEntry, ...]:
    rows = [
        t for t in dose_thresholds() if t.kind is kind and t.verified and t.at_least is not None
    ]
    return tuple(sorted(rows, key=lambda t: t.at_least or 0.0))


def thresholds(kind: ThresholdKind) -> list[DoseThresholdEntry]:
    """Verified thresholds of one kind, lowest first."""
    return list(_thresholds(kind))


@cache
def _threshold_citations(kind: ThresholdKind) -> tuple[str, ...]:
    return tuple(sorted({c for t in _thresholds(kind) for c in t.citations}))


def reached(kind: ThresholdKind, value: float) -> list[DoseThresholdEntry]:
    return [t for t in _thresholds(kind) if t.reached_by(value)]


@cache
def _threshold_rows(kind: ThresholdKind) -> tuple[tuple[tuple[str, Any], ...], ...]:
    return tuple(
        (
            ("id", t.id),
            ("at_least", t.at_least),
            ("unit", t.unit),
            ("concern", t.concern.value),
            ("meaning", t.meaning),
        )
        for t in _thresholds(kind)
    )


def _threshold_details(kind: ThresholdKind, value: float) -> dict[str, Any]:
    return {
        "thresholds_reached": [t.id for t in reached(kind, value)],
        # fresh dicts: a finding's details are its own, never shared with another finding
        "thresholds": [dict(row) for row in _threshold_rows(kind)],
    }


def _no_history(finding_id: str, rule: str, citations: list[str]) -> Finding:
    return indeterminate(
        finding_id,
        candidates=[],
        needs=_UNKNOWN_HISTORY_NEEDS,
        reason="The treatment history is not recorded, so prior exposure is unknown.",
        rule=rule,
        citations=citations,
    )


def _agent_finding(total: AgentTotal) -> Finding:
    fid = finding_id_for_agent(total.agent)
    inputs = [c.path for c in total.contributions]
    details: dict[str, Any] = {
        "unit": "mg/m2",
        "contributions": [
            {"path": c.path, "mg_m2": c.mg_m2, "how": c.how} for c in total.contributions
        ],
    }
    citations: list[str] = []
    if total.agent == _IFOSFAMIDE:
        details.update(_threshold_details(ThresholdKind.IFOSFAMIDE_RENAL, total.known_mg_m2 / 1000))
        details["cumulative_g_m2"] = round(total.known_mg_m2 / 1000, 3)
        citations = list(_threshold_citations(ThresholdKind.IFOSFAMIDE_RENAL))
    if not total.complete:
        details["known_part_mg_m2"] = round(total.known_mg_m2, 3)
        known = round(total.known_mg_m2, 3)
        return indeterminate(
            fid,
            # a bound of 0 says nothing: shown as not known, never as "at least 0"
            candidates=[{"at_least_mg_m2": known}] if known > 0 else [],
            needs=total.needs,
            reason=(
                f"Cumulative {total.agent} is at least {amount_text(known)} mg/m2; "
                "some doses cannot be counted or converted."
                if known > 0
                else f"Cumulative {total.agent} is not known: none of its doses can be counted "
                "or converted yet."
            ),
            rule=RULE_CHEMO,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    value = round(total.known_mg_m2, 3)
    return determined(
        fid,
        value,
        reason=f"Cumulative {total.agent} {amount_text(value)} mg/m2 across all treatment lines.",
        rule=RULE_CHEMO,
        citations=citations,
        inputs_used=inputs,
        details=details,
    )


def ifosfamide_finding(case: Case, totals: dict[str, AgentTotal]) -> Finding:
    """Cumulative ifosfamide; zero when the history is known and ifosfamide was not given."""
    if _IFOSFAMIDE in totals:
        return _agent_finding(totals[_IFOSFAMIDE])
    citations = list(_threshold_citations(ThresholdKind.IFOSFAMIDE_RENAL))
    lines = line_paths(case)
    if not lines:
        return _no_history("exposure.ifosfamide", RULE_CHEMO, citations)
    details = _threshold_details(ThresholdKind.IFOSFAMIDE_RENAL, 0.0) | {
        "cumulative_g_m2": 0.0,
        "unit": "mg/m2",
    }
    return determined(
        "exposure.ifosfamide",
        0.0,
        reason="No ifosfamide recorded in any treatment line.",
        rule=RULE_CHEMO,
        citations=citations,
        inputs_used=[p for p, _ in lines],
        details=details,
    )


#: What would settle an anthracycline lower bound: an IGHG-recommended equivalence ratio for the
#: agent (``<prefix><agent>``), not a case field.
ANTHRACYCLINE_FACTOR_NEEDED = "knowledge.dose_thresholds.anthracycline."


@cache
def _anthracycline_factors() -> dict[str, DoseThresholdEntry]:
    return {
        t.agent.value: t
        for t in dose_thresholds()
        if t.kind is ThresholdKind.ANTHRACYCLINE_EQUIVALENCE and t.agent is not None
    }


@cache
def _anthracycline_citations() -> tuple[str, ...]:
    return tuple(
        sorted(
            {c for t in _anthracycline_factors().values() for c in t.citations}
            | set(_threshold_citations(ThresholdKind.ANTHRACYCLINE_CARDIAC))
        )
    )


def anthracycline_finding(case: Case, totals: dict[str, AgentTotal]) -> Finding:
    """Doxorubicin-equivalent anthracycline (IGHG 2025 equivalence ratios, Kouwenberg 2025;
    IGHG thresholds, Armenian 2015).

    An anthracycline without an IGHG-recommended ratio (epirubicin, idarubicin) is not
    converted: the total is then an explicit lower bound, *not* determined, whose reason names
    each unconverted agent with its total ("at least 180 mg/m2 doxorubicin-equivalent;
    idarubicin 36 mg/m2 not converted"), and whose ``needs`` is the missing ratio (knowledge,
    never a case field to collect).
    """
    fid = "exposure.anthracycline_doxorubicin_equivalent"
    factors = _anthracycline_factors()
    citations = list(_anthracycline_citations())
    if not line_paths(case):
        return _no_history(fid, RULE_ANTHRACYCLINE, citations)
    equivalent = 0.0
    needs: list[str] = []
    unconverted: list[AgentTotal] = []
    parts: list[dict[str, Any]] = []
    inputs: list[str] = []
    for agent in _ANTHRACYCLINE_CODES:
        total = totals.get(agent)
        if total is None:
            continue
        inputs += [c.path for c in total.contributions]
        needs += total.needs
        entry = factors.get(agent)
        if entry is None or entry.factor is None or not entry.verified:
            unconverted.append(total)
            parts.append({"agent": agent, "mg_m2": total.known_mg_m2, "factor": None})
            continue
        equivalent += total.known_mg_m2 * entry.factor
        parts.append(
            {
                "agent": agent,
                "mg_m2": total.known_mg_m2,
                "factor": entry.factor,
                "entry": entry.id,
            }
        )
    value = round(equivalent, 3)
    details: dict[str, Any] = {
        "unit": "mg/m2",
        "parts": parts,
        "unconverted_agents": [t.agent for t in unconverted],
        "unconverted_totals_mg_m2": {t.agent: round(t.known_mg_m2, 3) for t in unconverted},
        "lower_bound": bool(unconverted),
    }
    details |= _threshold_details(ThresholdKind.ANTHRACYCLINE_CARDIAC, value)
    if needs or unconverted:
        pieces = [
            f"Doxorubicin-equivalent anthracycline is at least {amount_text(value)} mg/m2"
            if value > 0
            else "Doxorubicin-equivalent anthracycline is not known"
        ]
        if needs:
            pieces.append("some doses are unknown")
        for t in unconverted:
            if t.complete:
                pieces.append(f"{t.agent} {amount_text(t.known_mg_m2)} mg/m2 not converted")
            elif t.known_mg_m2 > 0:
                pieces.append(
                    f"{t.agent} at least {amount_text(t.known_mg_m2)} mg/m2 not converted"
                )
            else:
                pieces.append(f"{t.agent} given (dose not recorded), not converted")
        if unconverted:
            names = " or ".join(t.agent for t in unconverted)
            pieces.append(
                f"IGHG makes no equivalence-ratio recommendation for {names} (evidence "
                "inconclusive), so the true total is higher"
            )
            details["evidence_gaps"] = {
                t.agent: " ".join((factors[t.agent].evidence_gap or "").split())
                for t in unconverted
                if t.agent in factors
            }
        return indeterminate(
            fid,
            candidates=[{"at_least_mg_m2": value}] if value > 0 else [],
            needs=list(
                dict.fromkeys(needs + [ANTHRACYCLINE_FACTOR_NEEDED + t.agent for t in unconverted])
            ),
            reason="; ".join(pieces) + ".",
            rule=RULE_ANTHRACYCLINE,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    if not parts:
        reason = "No anthracycline recorded in any treatment line."
    else:
        reason = (
            f"Doxorubicin-equivalent anthracycline {amount_text(value)} mg/m2 "
            "(IGHG cardiotoxicity equivalence ratios)."
        )
    return determined(
        fid,
        value,
        reason=reason,
        rule=RULE_ANTHRACYCLINE,
        citations=citations,
        inputs_used=inputs,
        details=details,
    )


def as_lower_bound(f: Finding | None) -> Finding | None:
    """An indeterminate cumulative total whose only missing piece is knowledge (an agent with no
    recommended conversion ratio), read as a determined lower bound (``details.lower_bound``):
    a threshold the bound reaches has been reached, one above it stays open.  Any other finding
    is returned unchanged (an unknown dose still asks for the dose)."""
    if f is None or f.status is not FindingStatus.INDETERMINATE or not f.candidates:
        return f
    if any(not n.startswith(KNOWLEDGE_PREFIX) for n in f.needs):
        return f
    candidate = f.candidates[0]
    if not isinstance(candidate, dict) or "at_least_mg_m2" not in candidate:
        return f
    return determined(
        f.id,
        candidate["at_least_mg_m2"],
        reason=f.reason,
        rule=f.rule,
        citations=f.citations,
        inputs_used=f.inputs_used,
        details=f.details | {"lower_bound": True},
    )


#: ``needs`` entries with this prefix name missing knowledge, not a case field.
KNOWLEDGE_PREFIX = "knowledge."


#: What would settle a CED lower bound: verified conversion factors, not a case field.
CED_FACTORS_NEEDED = "knowledge.dose_thresholds.ced.other_alkylators"


def _amount_text(agent: str, mg_m2: float) -> str:
    """Ifosfamide in g/m2 as protocols state it; other agents in mg/m2."""
    if agent == _IFOSFAMIDE:
        return f"{agent} {mg_m2 / 1000:,.4g} g/m2"
    return f"{agent} {mg_m2:,.4g} mg/m2"


@cache
def _ced_citations() -> tuple[str, ...]:
    entries = [
        t
        for t in dose_thresholds()
        if t.kind in (ThresholdKind.CED_EQUIVALENCE, ThresholdKind.CED_GONADAL)
    ]
    return tuple(sorted({c for t in entries for c in t.citations}))


def ced_finding(case: Case, totals: dict[str, AgentTotal]) -> Finding:
    """Cyclophosphamide-equivalent dose (Green 2014).

    Only cyclophosphamide has a verified factor here.  When another alkylator was given the
    CED is an explicit lower bound, *not* determined, and the reason names every unconverted
    agent with its total in the same line ("CED >= 4,200 mg/m2 from cyclophosphamide;
    ifosfamide 54 g/m2 not converted") -- never "CED 0" with ifosfamide given.
    """
    fid = "exposure.ced"
    citations = list(_ced_citations())
    if not line_paths(case):
        return _no_history(fid, RULE_CED, citations)
    cyclo = totals.get(_CYCLOPHOSPHAMIDE)
    others = [totals[a] for a in _OTHER_ALKYLATOR_CODES if a in totals]
    value = round(cyclo.known_mg_m2, 3) if cyclo else 0.0
    details: dict[str, Any] = {
        "unit": "mg/m2",
        "unconverted_alkylators": [t.agent for t in others],
        "unconverted_totals_mg_m2": {t.agent: round(t.known_mg_m2, 3) for t in others},
        "lower_bound": bool(others),
    }
    details |= _threshold_details(ThresholdKind.CED_GONADAL, value)
    inputs = [c.path for t in ([cyclo] if cyclo else []) + others for c in t.contributions]
    unknown_cyclo = cyclo is not None and not cyclo.complete
    if others or unknown_cyclo:
        if cyclo is None:
            parts = ["CED not determined: no cyclophosphamide recorded"]
        elif value > 0:
            parts = [f"CED \u2265 {amount_text(value)} mg/m2 from cyclophosphamide"]
        else:
            parts = ["CED not known: no cyclophosphamide dose can be counted yet"]
        if unknown_cyclo and value > 0:
            parts.append("some cyclophosphamide doses are unknown")
        for t in others:
            if t.complete:
                parts.append(f"{_amount_text(t.agent, t.known_mg_m2)} not converted")
            elif t.known_mg_m2 > 0:
                parts.append(f"at least {_amount_text(t.agent, t.known_mg_m2)} not converted")
            else:
                parts.append(f"{t.agent} given (dose not recorded), not converted")
        reason = "; ".join(parts)
        if others:
            reason += " (no verified CED conversion factor; the total is higher)"
        needs = (cyclo.needs if unknown_cyclo and cyclo else []) + (
            [CED_FACTORS_NEEDED] if others else []
        )
        return indeterminate(
            fid,
            # a bound of 0 says nothing ("CED 0" must never be read): not known, no candidate
            candidates=[{"at_least_mg_m2": value}] if value > 0 else [],
            needs=needs,
            reason=reason + ".",
            rule=RULE_CED,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    if cyclo is None:
        reason = "No alkylating agent recorded in any treatment line (CED 0 mg/m2)."
    else:
        reason = f"CED {amount_text(value)} mg/m2 (cyclophosphamide is the only alkylator given)."
    return determined(
        fid,
        value,
        reason=reason,
        rule=RULE_CED,
        citations=citations,
        inputs_used=inputs,
        details=details,
    )


def unrecorded_radiotherapy(case: Case) -> list[str]:
    """Lines with no course listed and no ``radiotherapy_given: false``: radiotherapy unknown."""
    return list(_unrecorded_radiotherapy(case))


@once_per_assessment
def _unrecorded_radiotherapy(case: Case) -> tuple[str, ...]:
    return tuple(
        f"{path}.radiotherapy_given"
        for path, line in line_paths(case)
        if not line.radiotherapy and line.radiotherapy_given is not False
    )


def radiation_finding(case: Case) -> Finding:
    """Every radiotherapy course with its site, region and dose."""
    fid = "exposure.radiation"
    lines = line_paths(case)
    if not lines:
        return _no_history(fid, RULE_RADIATION, [])
    courses: list[dict[str, Any]] = []
    needs: list[str] = unrecorded_radiotherapy(case)
    for path, rt in radiotherapy_paths(case):
        courses.append(
            {
                "path": path,
                "target": rt.target.value if rt.target else None,
                "target_site": rt.target_site,
                "body_region": rt.body_region.value if rt.body_region else None,
                "total_dose_gy": rt.total_dose_gy,
                "fractions": rt.fractions,
                "brachytherapy": rt.brachytherapy,
            }
        )
        if rt.total_dose_gy is None:
            needs.append(f"{path}.total_dose_gy")
        if rt.body_region is None:
            needs.append(f"{path}.body_region")
    by_region: dict[str, float] = {}
    for c in courses:
        if c["body_region"] and c["total_dose_gy"] is not None:
            by_region[c["body_region"]] = by_region.get(c["body_region"], 0.0) + c["total_dose_gy"]
    details = {
        "courses": courses,
        "total_gy_by_region": by_region,
        "total_gy_by_target": _sum_by(courses, "target"),
        "organ_at_risk_gy": organ_at_risk_gy(by_region),
    }
    inputs = [c["path"] for c in courses]
    if needs:
        return indeterminate(
            fid,
            candidates=[],
            needs=needs,
            reason=f"{len(courses)} radiotherapy course(s) recorded; whether radiotherapy "
            "was given in some line, or the dose or body region of some course, is unknown.",
            rule=RULE_RADIATION,
            citations=[],
            inputs_used=inputs,
            details=details,
        )
    summary = "; ".join(f"{BodyRegion(r).label} {g:g} Gy" for r, g in by_region.items())
    return determined(
        fid,
        courses,
        reason=f"{len(courses)} radiotherapy course(s) recorded ({summary})."
        if courses
        else "No radiotherapy recorded.",
        rule=RULE_RADIATION,
        citations=[],
        inputs_used=inputs,
        details=details,
    )


#: Organs at risk and the coarse body regions whose radiotherapy potentially exposes them (a
#: region sum, so an upper bound on the organ's dose: fields need not overlap the organ).
ORGANS_AT_RISK: dict[str, tuple[BodyRegion, ...]] = {
    "heart": (BodyRegion.THORAX,),
    "ovaries": (BodyRegion.ABDOMEN, BodyRegion.PELVIS),
    "testes": (BodyRegion.PELVIS,),
}


def _sum_by(courses: list[dict[str, Any]], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in courses:
        if c[key] and c["total_dose_gy"] is not None:
            out[c[key]] = out.get(c[key], 0.0) + c["total_dose_gy"]
    return out


_ORGAN_REGION_CODES = {
    organ: tuple(r.value for r in regions) for organ, regions in ORGANS_AT_RISK.items()
}


def organ_at_risk_gy(by_region: dict[str, float]) -> dict[str, float]:
    """Summed prescribed dose of the regions that potentially expose each organ at risk."""
    out = {}
    for organ, regions in _ORGAN_REGION_CODES.items():
        total = sum(by_region.get(r, 0.0) for r in regions)
        if total:
            out[organ] = total
    return out


def _is_thorax(body_region: BodyRegion | None, target: RadiotherapyTarget | None) -> bool | None:
    if body_region is BodyRegion.THORAX or target is RadiotherapyTarget.WHOLE_LUNG:
        return True
    if body_region is None:
        return None
    return False


def chest_radiation_finding(case: Case) -> Finding:
    """Total radiotherapy dose to the thorax, with the IGHG chest-RT thresholds reached."""
    fid = "exposure.chest_radiation"
    citations = list(_threshold_citations(ThresholdKind.CHEST_RT_CARDIAC))
    lines = line_paths(case)
    if not lines:
        return _no_history(fid, RULE_RADIATION, citations)
    total = 0.0
    needs: list[str] = unrecorded_radiotherapy(case)
    inputs: list[str] = []
    for path, rt in radiotherapy_paths(case):
        thorax = _is_thorax(rt.body_region, rt.target)
        if thorax is None:
            needs.append(f"{path}.body_region")
            continue
        if not thorax:
            continue
        inputs.append(path)
        if rt.total_dose_gy is None:
            needs.append(f"{path}.total_dose_gy")
        else:
            total += rt.total_dose_gy
    details = _threshold_details(ThresholdKind.CHEST_RT_CARDIAC, total) | {"unit": "Gy"}
    if needs:
        return indeterminate(
            fid,
            candidates=[{"at_least_gy": total}],
            needs=needs,
            reason=f"Chest radiotherapy is at least {total:g} Gy; whether radiotherapy was "
            "given in some line, or the region or dose of some course, is unknown.",
            rule=RULE_RADIATION,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    reason = (
        f"Chest (thorax) radiotherapy {total:g} Gy in total."
        if inputs
        else "No chest radiotherapy recorded."
    )
    return determined(
        fid,
        total,
        reason=reason,
        rule=RULE_RADIATION,
        citations=citations,
        inputs_used=inputs,
        details=details,
    )


def relapse_site_irradiated_finding(case: Case) -> Finding:
    """Whether a site of the current recurrence lies in an irradiated field (or body region)."""
    fid = "exposure.relapse_site_irradiated"
    event = case.current_event
    if event is None:
        return not_applicable(
            fid, reason="No relapse or progression is recorded.", rule=RULE_RADIATION
        )
    k = len(case.events) - 1
    if event.sites is None:
        return indeterminate(
            fid,
            candidates=[True, False],
            needs=[f"events[{k}].sites"],
            reason="The sites of the current recurrence are not recorded.",
            rule=RULE_RADIATION,
            citations=[],
        )
    lines = line_paths(case)
    regions: set[BodyRegion] = set()
    region_unknown: list[str] = unrecorded_radiotherapy(case)
    for path, rt in radiotherapy_paths(case):
        if rt.body_region is None:
            region_unknown.append(f"{path}.body_region")
        else:
            regions.add(rt.body_region)
    yes: list[str] = []
    needs: list[str] = []
    inputs: list[str] = []
    for i, site in enumerate(event.sites):
        path = f"events[{k}].sites[{i}]"
        inputs.append(path)
        if site.in_irradiated_field is True:
            yes.append(f"{path} (in irradiated field)")
        elif site.in_irradiated_field is False:
            continue
        elif site.body_region is not None and site.body_region in regions:
            yes.append(f"{path} (in an irradiated body region: {site.body_region.value})")
        elif not lines:
            needs += [f"{path}.in_irradiated_field", "first_line"]
        elif not regions and not region_unknown:
            continue  # every line says no radiotherapy was given
        elif site.body_region is None or region_unknown:
            needs += [f"{path}.in_irradiated_field", *region_unknown]
    if yes:
        return determined(
            fid,
            True,
            reason="A site of the current recurrence was irradiated before: "
            + "; ".join(yes)
            + ".",
            rule=RULE_RADIATION,
            citations=[],
            inputs_used=inputs,
            details={"sites": yes},
        )
    if needs:
        return indeterminate(
            fid,
            candidates=[True, False],
            needs=needs,
            reason="Whether the recurrence lies in an irradiated field cannot be told "
            "from the record.",
            rule=RULE_RADIATION,
            citations=[],
            inputs_used=inputs,
        )
    return determined(
        fid,
        False,
        reason="No site of the current recurrence lies in a previously irradiated field or region.",
        rule=RULE_RADIATION,
        citations=[],
        inputs_used=inputs,
    )


def agents_given_finding(case: Case, totals: dict[str, AgentTotal]) -> Finding:
    lines = line_paths(case)
    if not lines:
        return _no_history("exposure.agents_given", RULE_CHEMO, [])
    agents = list(totals)
    return determined(
        "exposure.agents_given",
        agents,
        reason=("Agents given: " + ", ".join(agents) + ".")
        if agents
        else "No chemotherapy recorded.",
        rule=RULE_CHEMO,
        citations=[],
        inputs_used=[p for p, _ in lines],
    )


def exposure_findings(case: Case, totals: dict[str, AgentTotal] | None = None) -> list[Finding]:
    """Every exposure finding for the case, in a fixed order (see the module docstring).

    ``totals`` are the case's ``agent_totals`` when the caller has them already."""
    if totals is None:
        totals = agent_totals(case)
    out = [agents_given_finding(case, totals)]
    out += [_agent_finding(t) for key, t in totals.items() if key != _IFOSFAMIDE]
    anthracycline = anthracycline_finding(case, totals)
    chest = chest_radiation_finding(case)
    out += [
        ifosfamide_finding(case, totals),
        anthracycline,
        ced_finding(case, totals),
        radiation_finding(case),
        chest,
        relapse_site_irradiated_finding(case),
        fertility_finding(case, totals),
        cardiac_surveillance_finding({anthracycline.id: anthracycline, chest.id: chest}),
    ]
    return out
