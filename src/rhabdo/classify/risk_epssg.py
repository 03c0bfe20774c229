"""EpSSG RMS 2005 risk group (low / standard / high / very high) with subgroup A-H.

Non-metastatic RMS only: a metastatic patient is not applicable (EpSSG treated metastatic
RMS on MTS 2008).  Inputs (knowledge ``epssg.*``; ClinicalTrials.gov NCT00379457 for A-D,
PDQ 2025 and Bisogno 2019 for the content of E-G, Gallego 2021 for H):
pathology favourable (embryonal, botryoid, spindle cell) or unfavourable (alveolar); IRS
group; EpSSG site (orbit, head and neck non-parameningeal, GU non-bladder/prostate
favourable; biliary and kidney fall to 'other', unfavourable); nodes; and "favourable size
and age" = <=5 cm AND <10 years (exactly 10 years is unfavourable).

The letters E-H were not read in a primary document; the finding says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from rhabdo.case.model import Case
from rhabdo.classify._finding import ClassificationRule, citations_of, histology_not_covered
from rhabdo.classify._inputs import (
    NOT_CLASSIFIED,
    Input,
    SiteClass,
    age_at_least_input,
    explore,
    histology_class_input,
    metastatic_input,
    site_class_input,
    size_over_cutoff_input,
)
from rhabdo.classify.group import local_group_input, main_group
from rhabdo.classify.nodes import regional_nodes_at_diagnosis
from rhabdo.classify.sites import EPSSG_SCHEME
from rhabdo.classify.tables import (
    ClassificationEntry,
    EpssgSubgroupRow,
    entries_of,
    threshold,
)
from rhabdo.results import Finding

FINDING_ID = "risk.epssg"
RULE_ID = "risk.epssg.rms2005"
SIZE_CUTOFF = "epssg.size_cutoff"
AGE_CUTOFF = "epssg.age_cutoff"
METASTATIC = "not_applicable"
RISK_ORDER = ("low", "standard", "high", "very_high", NOT_CLASSIFIED, METASTATIC)


@cache
def epssg_citations() -> list[str]:
    return citations_of(entries_of(EpssgSubgroupRow))


@cache
def _epssg_rule() -> ClassificationRule:
    return ClassificationRule(
        finding_id=FINDING_ID,
        rule_id=RULE_ID,
        citations=epssg_citations(),
        inputs_used=[
            "diagnosis.distant_metastases",
            "diagnosis.histology",
            "diagnosis.initial_surgery",
            "diagnosis.irs_group_stated",
            "diagnosis.primary_site",
            "diagnosis.regional_nodes",
            "diagnosis.max_diameter_cm",
            "patient.age_at_diagnosis_days",
        ],
    )


@cache
def epssg_subgroup_from(
    *,
    favourable_pathology: bool,
    group: str,
    favourable_site: bool,
    node_positive: bool,
    favourable_size_and_age: bool,
) -> EpssgSubgroupRow | None:
    """The subgroup row for one fully known non-metastatic combination (first match)."""
    for _, row in entries_of(EpssgSubgroupRow):
        if (
            row.favourable_pathology == favourable_pathology
            and group in row.groups
            and row.node_positive == node_positive
            and row.favourable_site in (None, favourable_site)
            and row.favourable_size_and_age in (None, favourable_size_and_age)
        ):
            return row
    return None


@cache
def _subgroup_rows() -> Mapping[str, tuple[ClassificationEntry, EpssgSubgroupRow]]:
    """Each subgroup letter's entry and row (cached: knowledge only; read-only)."""
    return MappingProxyType({row.subgroup: (e, row) for e, row in entries_of(EpssgSubgroupRow)})


def _decide(v: Mapping[str, Any]) -> tuple[str, str | None]:
    if v["metastatic"]:
        return METASTATIC, None
    if v["pathology"] == NOT_CLASSIFIED:
        return NOT_CLASSIFIED, None
    site: SiteClass = v["site"]
    row = epssg_subgroup_from(
        favourable_pathology=v["pathology"] == "favourable",
        group=v["group_nodes"][0],
        favourable_site=site.favourable,
        node_positive=v["group_nodes"][1],
        favourable_size_and_age=not v["size_over"] and not v["age_10"],
    )
    if row is None:
        return NOT_CLASSIFIED, None
    return row.risk, row.subgroup


NODES_FREE_SUBGROUPS = frozenset({"IA", "IB", "IIA"})
NODES_INVOLVED_SUBGROUPS = frozenset({"IIB", "IIC"})


def _group_and_nodes(case: Case) -> Input[tuple[str, bool]]:
    """Main group and node involvement together, keeping only pairs the group definitions allow.

    IA, IB and IIA have no regional node involvement; IIB and IIC have involved nodes.
    """
    local = local_group_input(case)
    nodes = regional_nodes_at_diagnosis(case).as_input()
    pairs = [
        (s, n)
        for s in local.values
        for n in nodes.values
        if not (s in NODES_FREE_SUBGROUPS and n) and not (s in NODES_INVOLVED_SUBGROUPS and not n)
    ]
    if not pairs:  # contradictory records: keep every combination rather than guess
        pairs = [(s, n) for s in local.values for n in nodes.values]
    values = tuple(dict.fromkeys((main_group(s), n) for s, n in pairs))
    mains = {g for g, _ in values}
    needs = (
        *(local.needs if len(mains) > 1 else ()),
        *(nodes.needs if len(values) > len(mains) else ()),
    )
    if len(values) > 1 and not needs:
        needs = (*local.needs, *nodes.needs)
    groups = " or ".join(dict.fromkeys(g for g, _ in values))
    note = f"group {groups}, {nodes.note}" if nodes.note else f"group {groups}"
    return Input(values, needs, note)


def _inputs(case: Case) -> dict[str, Input[Any]]:
    _, age = threshold(AGE_CUTOFF)
    return {
        "metastatic": metastatic_input(case),
        "pathology": histology_class_input(case, EPSSG_SCHEME),
        "group_nodes": _group_and_nodes(case),
        "site": site_class_input(case, EPSSG_SCHEME),
        "size_over": size_over_cutoff_input(case, SIZE_CUTOFF),
        "age_10": age_at_least_input(case, int(age.value)),
    }


def _basis(inputs: Mapping[str, Input[Any]]) -> str:
    parts = []
    for name, i in inputs.items():
        if name == "pathology" and i.is_known and i.value != NOT_CLASSIFIED:
            parts.append(f"{i.note} ({i.value} pathology)")
        elif i.note:
            parts.append(i.note)
    return ", ".join(parts)


def epssg_risk(case: Case) -> Finding:
    """EpSSG RMS 2005 risk group and subgroup A-H for non-metastatic RMS.

    Exactly 10 years is unfavourable age (registry: favourable = under 10 years); size
    exactly 5 cm is favourable (<=5 cm).
    """
    inputs = _inputs(case)
    result = explore(inputs, _decide)
    rule = _epssg_rule()
    basis = _basis(inputs)
    risks = sorted(dict.fromkeys(r for r, _ in result.outcomes), key=RISK_ORDER.index)
    subgroups: list[str] = sorted({s for _, s in result.outcomes if s is not None})
    if risks == [METASTATIC]:
        return rule.not_applicable(
            reason="EpSSG RMS 2005 stratified non-metastatic RMS only; metastatic patients were "
            "treated on MTS 2008.",
            details={"outcome": METASTATIC},
        )
    if risks == [NOT_CLASSIFIED]:
        return rule.not_applicable(
            reason=f"EpSSG RMS 2005 does not place this histology ({basis}).",
            details=histology_not_covered("histology.epssg_rms2005"),
        )
    rows = _subgroup_rows()
    inferred = [s for s in subgroups if rows[s][1].letter_inferred]
    details: dict[str, Any] = {"site_scheme": EPSSG_SCHEME}
    if inferred:
        details["subgroup_letter_inferred"] = True
        details["letter_note"] = (
            "Letters E-H follow the registry's ordering; they were not read in a primary document."
        )
    gaps = [g for s in subgroups if (g := rows[s][0].evidence_gap)]
    if gaps:
        details["evidence_gap"] = " ".join(gaps)
    if len(risks) == 1 and len(subgroups) == 1 and len(result.outcomes) == 1:
        risk, sub = risks[0], subgroups[0]
        details["subgroup"] = sub
        letter = f"subgroup {sub}" + (" (letter inferred)" if inferred else "")
        return rule.determined(
            risk,
            reason=f"EpSSG {risk.replace('_', ' ')} risk, {letter}: {basis} (EpSSG RMS 2005; "
            f"favourable size and age = <=5 cm and <10 years; exactly 10 years is unfavourable).",
            details=details,
        )
    details["subgroup_candidates"] = subgroups
    if len(risks) == 1:
        return rule.determined(
            risks[0],
            needs=result.needs,
            reason=f"EpSSG {risks[0].replace('_', ' ')} risk, subgroup {' or '.join(subgroups)} "
            f"undecided: {basis} (EpSSG RMS 2005).",
            details=details,
        )
    words = " or ".join(r.replace("_", " ") for r in risks)
    return rule.indeterminate(
        risks,
        needs=result.needs,
        reason=f"EpSSG risk {words}: {basis} (EpSSG RMS 2005).",
        details=details,
    )
