"""IRS clinical (surgical-pathologic) group I-IV with subgroups IA/IB, IIA/IIB/IIC, IIIA/IIIB.

Derived from the initial surgery and distant metastases (knowledge ``group.*``; PDQ 2025
after Crane 2022, subgroup labels as in the CAP/IRS checklists):
IV = distant metastases; IIIA = biopsy only; IIIB = gross residual after >50% debulking;
IIA = microscopic residual, nodes free; IIB = involved nodes completely resected, most distal
node free; IIC = involved nodes with microscopic residual or involved most distal node;
IA/IB = complete resection, nodes free, confined to / beyond the organ of origin.

A group stated by the treating team is used as well.  When both are present and agree, the
more specific one wins; when they disagree, both are shown and the finding stays open.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case, InitialSurgery
from rhabdo.case.vocab import IRSGroup, SurgicalResult
from rhabdo.classify._finding import ClassificationRule, citations_of
from rhabdo.classify._inputs import Input, explore, metastatic_input
from rhabdo.classify.nodes import NodalBasis, regional_nodes_at_diagnosis
from rhabdo.classify.tables import GroupDefinition, entries_of
from rhabdo.results import Finding, SourceView

FINDING_ID = "group.clinical"
RULE_ID = "group.clinical.irs"
LOCAL_SUBGROUPS = ("IA", "IB", "IIA", "IIB", "IIC", "IIIA", "IIIB")
SUBGROUP_ORDER = (*LOCAL_SUBGROUPS, "IV")
MAIN_GROUPS = ("I", "II", "III", "IV")
SURGERY = "diagnosis.initial_surgery"


def main_group(subgroup: str) -> str:
    """'IIIA' -> 'III'; 'IV' -> 'IV'."""
    return subgroup if subgroup == "IV" else subgroup.rstrip("ABC")


def subgroups_of(group: str) -> tuple[str, ...]:
    return tuple(s for s in SUBGROUP_ORDER if main_group(s) == group)


@cache
def group_citations() -> list[str]:
    return citations_of(entries_of(GroupDefinition))


@cache
def _group_rule() -> ClassificationRule:
    return ClassificationRule(
        finding_id=FINDING_ID,
        rule_id=RULE_ID,
        citations=group_citations(),
        inputs_used=[SURGERY, "diagnosis.distant_metastases", "diagnosis.irs_group_stated"],
    )


@cache
def group_definitions() -> dict[str, str]:
    return {rule.subgroup: rule.definition for _, rule in entries_of(GroupDefinition)}


def _nodes_involved(case: Case, surgery: InitialSurgery) -> Input[bool]:
    """Node involvement for grouping, from the shared derivation (``classify.nodes``).

    Pathology (or an involved most distal node) decides; clinically uninvolved nodes (N0) that
    were not examined count as free, since group I allows them; clinically involved (N1) nodes
    without pathology leave IIA/IIC (or IA/IB vs IIB/IIC) open until the pathology is recorded.
    """
    nodes = regional_nodes_at_diagnosis(case)
    if nodes.basis in (NodalBasis.MOST_DISTAL_NODE, NodalBasis.PATHOLOGY):
        return nodes.as_input()
    if nodes.basis is NodalBasis.CLINICAL and nodes.involved is False:
        return Input((False,), note="nodes clinically uninvolved (N0), not examined")
    return Input((False, True), (f"{SURGERY}.regional_nodes_involved_pathologically",))


def _subgroup_by(answer: bool | None, field: str, *, yes: str, no: str) -> Input[str]:
    """The subgroup one yes/no surgical finding picks; while unrecorded, both and the field."""
    if answer is None:
        both = tuple(s for s in LOCAL_SUBGROUPS if s in (yes, no))
        return Input(both, (f"{SURGERY}.{field}",))
    return Input((yes if answer else no,))


def derived_local_subgroups(case: Case) -> Input[str]:
    """Subgroups the initial surgery allows, for a patient without distant metastases."""
    surgery = case.diagnosis.initial_surgery
    if surgery is None:
        return Input(LOCAL_SUBGROUPS, (SURGERY,), "initial surgery not recorded")
    if surgery.result is SurgicalResult.BIOPSY_ONLY:
        return Input(("IIIA",), note="biopsy only")
    if surgery.result is SurgicalResult.GROSS_RESIDUAL:
        return Input(("IIIB",), note="gross residual after debulking")
    nodes = _nodes_involved(case, surgery)
    options: list[str] = []
    needs: list[str] = list(nodes.needs)
    if surgery.result is SurgicalResult.MICROSCOPIC_RESIDUAL:
        options += ["IIA"] if False in nodes.values else []
        options += ["IIC"] if True in nodes.values else []
        note = "microscopic residual"
    else:
        note = "complete resection"
        picks: list[Input[str]] = []
        if False in nodes.values:
            confined = surgery.confined_to_site_of_origin
            picks.append(_subgroup_by(confined, "confined_to_site_of_origin", yes="IA", no="IB"))
        if True in nodes.values:
            distal = surgery.most_distal_node_involved
            picks.append(_subgroup_by(distal, "most_distal_node_involved", yes="IIC", no="IIB"))
        for pick in picks:
            options += pick.values
            needs += pick.needs
    if nodes.is_known:
        note += ", nodes involved" if nodes.value else ", nodes free"
        if nodes.note:
            note += f" ({nodes.note})"
    else:
        note += ", node pathology unknown"
    return Input(tuple(options), tuple(needs) if len(options) > 1 else (), note)


def stated_subgroups(case: Case) -> tuple[str, ...] | None:
    stated = case.diagnosis.irs_group_stated
    if stated is None:
        return None
    if stated.value in SUBGROUP_ORDER:
        return (stated.value,)
    return subgroups_of(stated.group)


@once_per_assessment
def _local_options(case: Case) -> tuple[Input[str], Input[str], tuple[str, ...] | None, bool]:
    """(combined local input, derived input, stated subgroups, disagreement?), worked out once
    per assessment (every risk table reads the group)."""
    derived = derived_local_subgroups(case)
    stated = stated_subgroups(case)
    if stated is None or stated == ("IV",):
        return derived, derived, stated, False
    agreed = tuple(s for s in derived.values if s in stated)
    if agreed:
        needs = derived.needs if len(agreed) > 1 else ()
        return Input(agreed, needs, derived.note), derived, stated, False
    both = tuple(s for s in LOCAL_SUBGROUPS if s in derived.values or s in stated)
    needs = (*derived.needs, "diagnosis.irs_group_stated", SURGERY)
    return Input(both, needs, "stated and derived groups disagree"), derived, stated, True


def local_group_input(case: Case) -> Input[str]:
    """The non-metastatic subgroups still possible (for rules that combine group with M)."""
    return _local_options(case)[0]


@once_per_assessment
def main_group_input(case: Case) -> Input[str]:
    """The main groups (I, II, III) still possible without metastases, needing the group's
    fields only when they differ (once per assessment: every risk table reads it)."""
    local = local_group_input(case)
    mains = tuple(dict.fromkeys(main_group(s) for s in local.values))
    return Input(mains, local.needs if len(mains) > 1 else (), local.note)


def decide_group(v: Mapping[str, Any]) -> str:
    return "IV" if v["metastatic"] else str(v["local"])


def _words(options: tuple[str, ...]) -> str:
    return " or ".join(options)


def clinical_group(case: Case) -> Finding:
    """IRS clinical group from the initial surgery and metastases, or the stated group.

    Source: PDQ 2025 surgical-pathologic group table after Crane 2022 (knowledge ``group.*``).
    """
    local, derived, stated, disagree = _local_options(case)
    metastatic = metastatic_input(case)
    if stated == ("IV",) and not metastatic.is_known:
        metastatic = Input((True,), note="stated group IV")
    result = explore({"metastatic": metastatic, "local": local}, decide_group)
    outcomes = tuple(s for s in SUBGROUP_ORDER if s in result.outcomes)
    mains = tuple(g for g in MAIN_GROUPS if any(main_group(s) == g for s in outcomes))
    rule = _group_rule()
    basis_parts = [metastatic.note]
    if any(s != "IV" for s in outcomes) and local.note:
        basis_parts.append(local.note)
    if case.diagnosis.irs_group_stated is not None:
        basis_parts.append(f"stated group {case.diagnosis.irs_group_stated.value}")
    basis = ", ".join(p for p in basis_parts if p)
    views: list[SourceView] = []
    if disagree:
        views = [
            SourceView(
                citation=rule.citations[0],
                value=_words(derived.values),
                reason=f"Derived from the initial surgery ({derived.note}): "
                f"{_words(derived.values)}.",
            ),
            SourceView(
                citation=rule.citations[0],
                value=_words(stated or ()),
                reason=f"Stated by the treating team: {_words(stated or ())}.",
            ),
        ]
    details: dict[str, Any] = {"subgroup_candidates": list(outcomes)}
    if len(outcomes) == 1:
        details = {"definition": group_definitions()[outcomes[0]]}
    note = (
        " The stated group and the group derived from the initial surgery disagree; both are shown."
        if disagree
        else ""
    )
    if len(mains) == 1:
        value = outcomes[0] if len(outcomes) == 1 else mains[0]
        subgroup_note = "" if len(outcomes) == 1 else f"; subgroup {_words(outcomes)} undecided"
        return rule.determined(
            value,
            needs=result.needs,
            reason=f"Group {value}: {basis}{subgroup_note} "
            f"(IRS clinical group, PDQ 2025 after Crane 2022).{note}",
            details=details,
            source_views=views,
        )
    return rule.indeterminate(
        list(mains),
        needs=result.needs or ("diagnosis.irs_group_stated", SURGERY),
        reason=f"Group {_words(mains)}: {basis} (IRS clinical group).{note}",
        details=details,
        source_views=views,
    )


__all__ = ["IRSGroup", "clinical_group", "local_group_input", "main_group"]
