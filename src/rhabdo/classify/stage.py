"""IRS/COG pretreatment (modified TNM) stage, 1-4.

The stage table (knowledge ``stage.row.*``; PDQ 2025 Table 4 after Crane et al. 2022):
stage 1 = favourable site, any size, any N, M0; stage 2 = unfavourable site, <=5 cm, N0/NX,
M0; stage 3 = unfavourable site, <=5 cm with N1, or >5 cm with any N, M0; stage 4 = M1.
T1/T2 is recorded but never changes the stage.  The site rule is the current COG one
(``rhabdo.classify.sites``); where the historical IRS tables (PDQ 2009/2014) rule the site
differently (biliary tract) and the stage would differ, both answers are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from rhabdo.case.model import Case
from rhabdo.case.vocab import NodalStatus
from rhabdo.classify._finding import ClassificationRule, citations_of
from rhabdo.classify._inputs import (
    Exploration,
    Input,
    SiteClass,
    explore,
    metastatic_input,
    site_class_input,
    size_over_cutoff_input,
)
from rhabdo.classify.nodes import clinical_n_category
from rhabdo.classify.sites import CURRENT_SCHEME, HISTORICAL_IRS_SCHEME, SiteRuling, site_ruling
from rhabdo.classify.tables import StageRow, entries_of
from rhabdo.errors import KnowledgeBaseError
from rhabdo.results import Finding, SourceView

FINDING_ID = "stage.pretreatment"
RULE_ID = "stage.pretreatment.irs_cog_tnm"
SIZE_CUTOFF = "stage.size_cutoff"


@cache
def stage_citations() -> list[str]:
    return citations_of(entries_of(StageRow))


@cache
def _stage_rule() -> ClassificationRule:
    return ClassificationRule(
        finding_id=FINDING_ID,
        rule_id=RULE_ID,
        citations=stage_citations(),
        inputs_used=[
            "diagnosis.primary_site",
            "diagnosis.max_diameter_cm",
            "diagnosis.regional_nodes",
            "diagnosis.distant_metastases",
        ],
    )


@cache
def stage_from(
    favourable_site: bool, size_over_cutoff: bool, nodes: NodalStatus, metastatic: bool
) -> int:
    """The stage of one fully known combination, read from the stage table rows."""
    matches = {
        row.stage
        for _, row in entries_of(StageRow)
        if row.metastatic == metastatic
        and row.favourable_site in (None, favourable_site)
        and row.size_over_cutoff in (None, size_over_cutoff)
        and nodes in row.nodes
    }
    if len(matches) != 1:
        raise KnowledgeBaseError(
            "classification.yaml",
            f"stage table gives {sorted(matches)} for site favourable={favourable_site}, "
            f"size over cut-off={size_over_cutoff}, {nodes.value}, metastatic={metastatic}",
        )
    return matches.pop()


def stage_inputs(case: Case, scheme: str = CURRENT_SCHEME) -> dict[str, Input[Any]]:
    return {
        "site": site_class_input(case, scheme),
        "size_over": size_over_cutoff_input(case, SIZE_CUTOFF),
        "nodes": clinical_n_category(case),
        "metastatic": metastatic_input(case),
    }


def decide_stage(v: Mapping[str, Any]) -> int:
    site: SiteClass = v["site"]
    return stage_from(site.favourable, v["size_over"], v["nodes"], v["metastatic"])


def explore_stage(case: Case, scheme: str = CURRENT_SCHEME) -> Exploration[int]:
    return explore(stage_inputs(case, scheme), decide_stage)


def _describe(inputs: dict[str, Input[Any]]) -> str:
    return ", ".join(i.note for i in inputs.values() if i.note)


def _stage_words(outcomes: tuple[int, ...]) -> str:
    ordered = sorted(outcomes)
    if len(ordered) == 1:
        return f"stage {ordered[0]}"
    return "stage " + ", ".join(str(s) for s in ordered[:-1]) + f" or {ordered[-1]}"


def _view(e: Exploration[int], ruling: SiteRuling) -> SourceView:
    value: Any = e.outcomes[0] if len(e.outcomes) == 1 else sorted(e.outcomes)
    kind = "favourable" if ruling.favourable else "unfavourable"
    return SourceView(
        citation=ruling.citations[0],
        value=value,
        reason=f"{_stage_words(e.outcomes)}: {ruling.site.label} is {kind} under "
        f"{ruling.label}. {ruling.note or ''}".strip(),
    )


def _historical_view(case: Case, current: Exploration[int]) -> list[SourceView]:
    """Both answers when the historical IRS site rule would stage this patient differently."""
    site = case.diagnosis.primary_site
    if site is None:
        return []
    now, then = site_ruling(site, CURRENT_SCHEME), site_ruling(site, HISTORICAL_IRS_SCHEME)
    if now.favourable == then.favourable:
        return []
    past = explore_stage(case, HISTORICAL_IRS_SCHEME)
    if set(past.outcomes) == set(current.outcomes):
        return []

    return [_view(current, now), _view(past, then)]


def pretreatment_stage(case: Case) -> Finding:
    """IRS/COG pretreatment stage 1-4 from site, size, regional nodes and metastases.

    Source: PDQ 2025 Tables 3-4 after Crane 2022 (knowledge ``stage.row.*`` and
    ``stage.size_cutoff``, size a = <=5 cm).  Unknown inputs leave every stage they allow.
    """
    inputs = stage_inputs(case)
    result = explore(inputs, decide_stage)
    views = _historical_view(case, result)
    details: dict[str, Any] = {"site_scheme": CURRENT_SCHEME}
    if case.diagnosis.invasiveness is not None:
        details["t_category"] = case.diagnosis.invasiveness.value
    rule = _stage_rule()
    described = _describe(inputs)
    disagreement = (
        " Site rules differ between sources for this site; both answers are shown." if views else ""
    )
    if len(result.outcomes) == 1:
        stage = result.outcomes[0]
        return rule.determined(
            stage,
            reason=f"Stage {stage}: {described} "
            f"(IRS/COG pretreatment staging, PDQ 2025 after Crane 2022).{disagreement}",
            details=details,
            source_views=views,
        )
    return rule.indeterminate(
        sorted(result.outcomes),
        needs=result.needs,
        reason=f"{_stage_words(result.outcomes).capitalize()}: {described} "
        f"(IRS/COG pretreatment staging).{disagreement}",
        details=details,
        source_views=views,
    )
