"""The COG risk-based relapse groups: favourable or unfavourable first relapse (ARST0121).

Source: COG ARST0121 (Mascarenhas et al., Cancer 2019; registry NCT00025363), whose
eligibility text defines the groups (knowledge ``cog_relapse.*`` in classification.yaml):

* **favourable** -- no prior cyclophosphamide, and either botryoid histology (any stage, group
  or pattern of relapse) or embryonal histology with initial stage 1 **or** group I and a
  local or regional recurrence;
* **unfavourable** -- every other first relapse or progression (embryonal stage 1 / group I
  with distant recurrence or after cyclophosphamide; embryonal stage 2-4 or group II-IV;
  alveolar histology at any stage or group).

The Heske 2021 review gives the same definition without the local/regional condition; the
registry text was read, so that condition is encoded.  Stage 1 is read with the IRS-era site
rule of the trial's time.  The groups were defined for the **first** relapse or progression;
at a later event the finding is not applicable and says what the first event was.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import ChemotherapyAgent
from rhabdo.classify._finding import ClassificationRule, citations_of
from rhabdo.classify._inputs import Input, explore, histology_class_input
from rhabdo.classify.group import main_group_input
from rhabdo.classify.relapse import RelapseType, relapse_type
from rhabdo.classify.sites import HISTORICAL_IRS_SCHEME
from rhabdo.classify.stage import decide_stage, stage_inputs
from rhabdo.classify.tables import CogRelapseGroupRow, entries_of, histology_classes
from rhabdo.results import Finding

FINDING_ID = "relapse.cog_risk_group"
RULE_ID = "relapse.cog_risk_group.v1"
HISTOLOGY_SCHEME = "cog_relapse_arst0121"
FIRST_LINE_CHEMO = "first_line.chemotherapy"


class CogRelapseGroup(StrEnum):
    """COG ARST0121 relapse risk groups."""

    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"


DISTANT_TYPES = frozenset({RelapseType.METASTATIC.value, RelapseType.COMBINED.value})


@cache
def _rule() -> ClassificationRule:
    hist_entry, _ = histology_classes(HISTOLOGY_SCHEME)
    citations = list(
        dict.fromkeys([*citations_of(entries_of(CogRelapseGroupRow)), *hist_entry.citations])
    )
    return ClassificationRule(
        finding_id=FINDING_ID,
        rule_id=RULE_ID,
        citations=citations,
        inputs_used=[
            "diagnosis.histology",
            "diagnosis.primary_site",
            "diagnosis.max_diameter_cm",
            "diagnosis.regional_nodes",
            "diagnosis.distant_metastases",
            "diagnosis.initial_surgery",
            "diagnosis.irs_group_stated",
            "events[0].sites",
            FIRST_LINE_CHEMO,
        ],
    )


def prior_cyclophosphamide_input(case: Case) -> Input[bool]:
    """Cyclophosphamide in first-line chemotherapy; unknown unless the agents are listed."""
    line = case.first_line
    if line is None or not line.chemotherapy:
        return Input((False, True), (FIRST_LINE_CHEMO,), "first-line chemotherapy not recorded")
    given = any(c.agent is ChemotherapyAgent.CYCLOPHOSPHAMIDE for c in line.chemotherapy)
    return Input(
        (given,), note="prior cyclophosphamide" if given else "no cyclophosphamide in first line"
    )


def distant_relapse_input(case: Case) -> Input[bool]:
    """Whether the first event involved a distant site, from ``relapse.type``."""
    f = relapse_type(case)
    if not f.is_determined:
        return Input((False, True), tuple(f.needs), "pattern of the first event unknown")
    distant = f.value in DISTANT_TYPES
    return Input((distant,), note=f"{f.value} recurrence")


def _inputs(case: Case) -> dict[str, Input[Any]]:
    return {
        **stage_inputs(case, HISTORICAL_IRS_SCHEME),
        "group": main_group_input(case),
        "histology": histology_class_input(case, HISTOLOGY_SCHEME),
        "distant": distant_relapse_input(case),
        "cyclophosphamide": prior_cyclophosphamide_input(case),
    }


def row_matches(row: CogRelapseGroupRow, v: Mapping[str, Any]) -> bool:
    """Whether one fully known combination of inputs falls in a favourable row."""
    stage = decide_stage(v)
    group = "IV" if v["metastatic"] else v["group"]
    stage1_or_group1 = stage == 1 or group == "I"
    return (
        v["histology"] in row.histology_classes
        and row.stage_1_or_group_i in (None, stage1_or_group1)
        and row.distant_relapse in (None, v["distant"])
        and row.prior_cyclophosphamide == v["cyclophosphamide"]
    )


def decide_group(v: Mapping[str, Any]) -> CogRelapseGroup:
    """Favourable when any favourable row matches, otherwise unfavourable."""
    for _, row in entries_of(CogRelapseGroupRow):
        if row_matches(row, v):
            return CogRelapseGroup.FAVOURABLE
    return CogRelapseGroup.UNFAVOURABLE


def _basis(inputs: Mapping[str, Input[Any]]) -> str:
    return "; ".join(i.note for i in inputs.values() if i.note)


def _known(inputs: Mapping[str, Input[Any]], name: str) -> Any:
    i = inputs[name]
    return i.value if i.is_known else None


def why_unfavourable(inputs: Mapping[str, Input[Any]]) -> list[str]:
    """The known facts that keep this first event out of every favourable row."""
    why: list[str] = []
    if _known(inputs, "cyclophosphamide") is True:
        why.append("cyclophosphamide was given in first-line therapy")
    histology = _known(inputs, "histology")
    if histology == "other":
        why.append(f"{inputs['histology'].note} is neither botryoid nor embryonal")
    if histology == "embryonal":
        stages = {decide_stage(v) for v in _stage_combos(inputs)}
        groups = set(inputs["group"].values)
        metastatic = _known(inputs, "metastatic")
        if stages and 1 not in stages and (metastatic is True or "I" not in groups):
            why.append("embryonal histology, but neither initial stage 1 nor group I")
        if _known(inputs, "distant") is True:
            why.append("the recurrence involves a distant site")
    return why


def _stage_combos(inputs: Mapping[str, Input[Any]]) -> list[dict[str, Any]]:
    names = ["site", "size_over", "nodes", "metastatic"]
    combos: list[dict[str, Any]] = [{}]
    for n in names:
        combos = [{**c, n: value} for c in combos for value in inputs[n].values]
    return combos


@once_per_assessment
def cog_relapse_group(case: Case) -> Finding:
    """COG ARST0121 favourable / unfavourable group of the first relapse or progression."""
    rule = _rule()
    if not case.events:
        return rule.not_applicable(
            reason="No relapse or progression is recorded.", details={"event": None}
        )
    inputs = _inputs(case)
    result = explore(inputs, decide_group)
    details: dict[str, Any] = {
        "event": {"index": 0, "kind": case.events[0].kind.value, "of_events": len(case.events)},
        "site_scheme": HISTORICAL_IRS_SCHEME,
        "definition": (
            "Favourable: no prior cyclophosphamide, and botryoid histology (any stage, group or "
            "relapse pattern) or embryonal histology with initial stage 1 or group I and a local "
            "or regional recurrence. Unfavourable: every other first relapse or progression."
        ),
    }
    basis = _basis(inputs)
    if len(case.events) > 1:
        first = result.outcomes[0].value if len(result.outcomes) == 1 else "not decided"
        details["first_event_group"] = first
        return rule.not_applicable(
            reason=(
                "The COG relapse groups (ARST0121) were defined for the first relapse or "
                f"progression; this patient has had {len(case.events)} events (first event: "
                f"{first})."
            ),
            details=details,
        )
    if len(result.outcomes) == 1:
        group = result.outcomes[0]
        why = (
            why_unfavourable(inputs)
            if group is CogRelapseGroup.UNFAVOURABLE
            else [
                "botryoid histology without prior cyclophosphamide"
                if _known(inputs, "histology") == "botryoid"
                else "embryonal histology, initial stage 1 or group I, local or regional "
                "recurrence, no prior cyclophosphamide"
            ]
        )
        details["why"] = why
        because = f" because {'; '.join(why)}" if why else ""
        return rule.determined(
            group.value,
            reason=f"COG ARST0121 {group.value} relapse group{because} ({basis}).",
            details=details,
        )
    return rule.indeterminate(
        [g.value for g in CogRelapseGroup if g in result.outcomes],
        needs=result.needs,
        reason=f"COG ARST0121 relapse group not decided: {basis}.",
        details=details,
    )
