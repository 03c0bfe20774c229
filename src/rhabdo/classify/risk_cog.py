"""COG risk groups: the current fusion-based table and the older histology-based one.

``cog_risk`` -- current COG risk group (very low / low / intermediate / high) from stage,
clinical group, FOXO1 fusion status, age, orbit and MYOD1/TP53 status: PDQ 2025 Table 6
(adapted from Crane et al. 2022), with the very-low and low-risk definitions of ARST2032
(NCT05304585).  Table 6 does not place fusion-negative very-low/low-risk patterns with a
MYOD1 or TP53 mutation (ARST2032 treats them on an intensified arm); rhabdo says so instead
of guessing.

``cog_histology_risk`` -- the histology-era COG risk group (IRS-IV to ARST0331/0531/0431),
with the ARST0331 low-risk subset 1 or 2 (PDQ 2025 Table 9).  That era staged with the
historical IRS site rule (biliary tract favourable), so this finding does too and shows the
current rule's answer where it differs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import cache
from typing import Any, TypeVar

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import PrimarySite
from rhabdo.classify._finding import ClassificationRule, citations_of, histology_not_covered
from rhabdo.classify._inputs import (
    NOT_CLASSIFIED,
    Exploration,
    Input,
    SiteClass,
    age_at_least_input,
    explore,
    fusion_positive_input,
    histology_class_input,
    metastatic_input,
    myod1_tp53_wild_type_input,
    site_class_input,
    size_over_cutoff_input,
)
from rhabdo.classify.group import main_group_input
from rhabdo.classify.nodes import clinical_n_category
from rhabdo.classify.sites import CURRENT_SCHEME, HISTORICAL_IRS_SCHEME, site_ruling
from rhabdo.classify.stage import SIZE_CUTOFF, stage_from
from rhabdo.classify.tables import (
    CogRiskRow,
    HistologyRiskRow,
    SubsetRow,
    entries_of,
    entry,
    threshold,
)
from rhabdo.results import Finding, SourceView

COG_FINDING_ID = "risk.cog"
COG_RULE_ID = "risk.cog.pdq_table6"
HISTOLOGY_FINDING_ID = "risk.cog_histology"
HISTOLOGY_RULE_ID = "risk.cog_histology.irs_era"
AGE_CUTOFF = "cog.age_cutoff"
MUTATION_GAP = "cog.molecular_mutated_gap"
UNCLASSIFIED_MUTATED = "not_classified_mutated"
RISK_ORDER = ("very_low", "low", "intermediate", "high", UNCLASSIFIED_MUTATED, NOT_CLASSIFIED)

Outcome = TypeVar("Outcome", bound=Hashable)


def _stage_and_group(v: Mapping[str, Any]) -> tuple[int, str, SiteClass]:
    site: SiteClass = v["site"]
    stage = stage_from(site.favourable, v["size_over"], v["nodes"], v["metastatic"])
    group = "IV" if v["metastatic"] else v["group"]
    return stage, group, site


# The case fields ``_common_inputs`` reads (stage and clinical group), as listed in inputs_used.
_STAGE_AND_GROUP_FIELDS = (
    "diagnosis.primary_site",
    "diagnosis.max_diameter_cm",
    "diagnosis.regional_nodes",
    "diagnosis.distant_metastases",
    "diagnosis.initial_surgery",
    "diagnosis.irs_group_stated",
)


def _common_inputs(case: Case, scheme: str) -> dict[str, Input[Any]]:
    return {
        "site": site_class_input(case, scheme),
        "size_over": size_over_cutoff_input(case, SIZE_CUTOFF),
        "nodes": clinical_n_category(case),
        "metastatic": metastatic_input(case),
        "group": main_group_input(case),
    }


def _ordered(values: tuple[str, ...]) -> list[str]:
    return sorted(values, key=RISK_ORDER.index)


def _basis(inputs: Mapping[str, Input[Any]], names: tuple[str, ...]) -> str:
    parts = []
    for n in names:
        i = inputs[n]
        if n == "group":
            metastatic = inputs["metastatic"].values
            groups = [g for g in i.values if False in metastatic] + (
                ["IV"] if True in metastatic else []
            )
            parts.append(f"group {' or '.join(groups)}")
        elif i.note:
            parts.append(i.note)
    return ", ".join(parts)


# ------------------------------------------------------------------ current COG (Table 6)


@cache
def cog_risk_from(
    *,
    fusion_positive: bool,
    stage: int,
    group: str,
    orbit: bool,
    age_10_or_older: bool,
    myod1_tp53_wild_type: bool,
) -> tuple[str, str | None]:
    """(risk, matched entry id) for one fully known combination; Table 6 row order."""
    pattern_only: str | None = None
    for e, row in entries_of(CogRiskRow):
        if (
            row.fusion_positive == fusion_positive
            and stage in row.stages
            and group in row.groups
            and row.orbit in (None, orbit)
            and row.age_10_or_older in (None, age_10_or_older)
        ):
            if row.requires_myod1_tp53_wild_type and not myod1_tp53_wild_type:
                pattern_only = pattern_only or e.id
                continue
            return row.risk, e.id
    if pattern_only is not None:
        return UNCLASSIFIED_MUTATED, pattern_only
    return NOT_CLASSIFIED, None


def _decide_cog(v: Mapping[str, Any]) -> str:
    stage, group, site = _stage_and_group(v)
    return cog_risk_from(
        fusion_positive=v["fusion_positive"],
        stage=stage,
        group=group,
        orbit=site.orbit,
        age_10_or_older=v["age_10"],
        myod1_tp53_wild_type=v["wild_type"],
    )[0]


def _cog_inputs(case: Case) -> dict[str, Input[Any]]:
    _, age = threshold(AGE_CUTOFF)
    return {
        **_common_inputs(case, CURRENT_SCHEME),
        "fusion_positive": fusion_positive_input(case),
        "wild_type": myod1_tp53_wild_type_input(case),
        "age_10": age_at_least_input(case, int(age.value)),
    }


@cache
def cog_citations() -> list[str]:
    return citations_of(entries_of(CogRiskRow))


@cache
def _cog_rule() -> ClassificationRule:
    return ClassificationRule(
        finding_id=COG_FINDING_ID,
        rule_id=COG_RULE_ID,
        citations=cog_citations(),
        inputs_used=[
            *_STAGE_AND_GROUP_FIELDS,
            "diagnosis.foxo1_fusion",
            "diagnosis.myod1",
            "diagnosis.tp53",
            "patient.age_at_diagnosis_days",
        ],
    )


def _eyelid_views(
    case: Case,
    inputs: dict[str, Input[Any]],
    result: Exploration[Outcome],
    decide: Callable[[Mapping[str, Any]], Outcome],
    show: Callable[[Exploration[Outcome]], str],
    orbit_row: str,
) -> list[SourceView]:
    """Orbit rows: show both readings when an eyelid primary would change the answer.

    ``orbit_row`` is the table's wording of the orbit criterion, read literally.
    """
    if case.diagnosis.primary_site is not PrimarySite.EYELID:
        return []
    as_orbit = {**inputs, "site": Input((SiteClass(True, True),), note="eyelid counted as orbit")}
    alt = explore(as_orbit, decide)
    if set(alt.outcomes) == set(result.outcomes):
        return []
    gap = site_ruling(PrimarySite.EYELID, CURRENT_SCHEME)
    return [
        SourceView(
            citation=gap.citations[0],
            value=show(result),
            reason=f"'{orbit_row}' read literally: an eyelid primary is not orbit.",
        ),
        SourceView(
            citation=gap.citations[0],
            value=show(alt),
            reason="If the eyelid primary is counted as orbit (periorbital); the sources "
            "read do not settle this.",
        ),
    ]


def _show_cog(e: Exploration[str]) -> str:
    return " or ".join(_ordered(e.outcomes))


def _say(risk: str) -> str:
    if risk == UNCLASSIFIED_MUTATED:
        return "not placed by Table 6 (MYOD1/TP53 mutated)"
    return risk.replace("_", " ")


def _relevant(inputs: dict[str, Input[Any]], name: str, result: Exploration[str]) -> bool:
    """Whether input ``name`` can change the answer given the other inputs."""
    if name in result.mattering_inputs:
        return True
    if not inputs[name].is_known:
        return False
    opened = {**inputs, name: Input((True, False), ("-",))}
    return len(explore(opened, _decide_cog).outcomes) > 1


def cog_risk(case: Case) -> Finding:
    """Current COG risk group (PDQ 2025 Table 6 after Crane 2022; ARST2032 for very low/low).

    Fusion 'not tested' is unknown, never negative.  Age: Table 6 says '<10 years' and
    '>=10 years', so a patient aged exactly 10 at diagnosis is >=10 (high risk when
    fusion-negative stage 4).
    """
    inputs = _cog_inputs(case)
    result = explore(inputs, _decide_cog)
    views = _eyelid_views(case, inputs, result, _decide_cog, _show_cog, "Orbit only")
    rule = _cog_rule()
    shown: tuple[str, ...] = (
        "fusion_positive",
        "site",
        "size_over",
        "nodes",
        "metastatic",
        "group",
    )
    shown += tuple(n for n in ("age_10", "wild_type") if _relevant(inputs, n, result))
    basis = _basis(inputs, shown)
    age_note = " Exactly 10 years counts as >=10 (Table 6: 'age >=10 years')."
    view_note = " Readings differ for an eyelid primary; both are shown." if views else ""
    outcomes = _ordered(result.outcomes)
    if outcomes == [UNCLASSIFIED_MUTATED]:
        gap = entry(MUTATION_GAP)
        return rule.not_applicable(
            reason=f"Not placed by PDQ Table 6: fusion-negative very-low/low-risk pattern "
            f"with a MYOD1 or TP53 mutation ({basis}). ARST2032 treats such patients on an "
            f"intensified arm (Regimen M).",
            citations=list(dict.fromkeys([*rule.citations, *gap.citations])),
            details={
                "outcome": UNCLASSIFIED_MUTATED,
                "evidence_gap": gap.evidence_gap,
                "arst2032_regimen": "M",
            },
        )
    if len(outcomes) == 1 and outcomes[0] != NOT_CLASSIFIED:
        risk = outcomes[0]
        details: dict[str, Any] = {}
        if risk in ("very_low", "low"):
            details["arst2032"] = (
                "very low risk: VA for 24 weeks"
                if risk == "very_low"
                else ("low risk: VAC for 12 weeks then VA for 12 weeks")
            )
        return rule.determined(
            risk,
            reason=f"COG {_say(risk)} risk: {basis} (PDQ 2025 Table 6 after Crane 2022)."
            + (age_note if "age_10" in shown else "")
            + view_note,
            details=details,
            source_views=views,
        )
    if outcomes == [NOT_CLASSIFIED]:
        return rule.not_applicable(
            reason=f"This combination is not in PDQ Table 6 ({basis}).",
            details={"outcome": NOT_CLASSIFIED},
        )
    details = {}
    if UNCLASSIFIED_MUTATED in outcomes:
        details["evidence_gap"] = entry(MUTATION_GAP).evidence_gap
    return rule.indeterminate(
        outcomes,
        needs=result.needs,
        reason=f"COG risk {' or '.join(_say(o) for o in outcomes)}: {basis} "
        f"(PDQ 2025 Table 6).{view_note}",
        details=details,
        source_views=views,
    )


# ------------------------------------------------------------------ histology era


@cache
def arst0331_subset(stage: int, group: str, orbit: bool) -> int | None:
    """ARST0331 low-risk subset 1 or 2 (PDQ 2025 Table 9, stage/group form)."""
    for _, row in entries_of(SubsetRow):
        if stage in row.stages and group in row.groups and row.orbit in (None, orbit):
            return row.subset
    return None


@cache
def cog_histology_risk_from(histology_class: str, stage: int, group: str) -> str:
    if histology_class == NOT_CLASSIFIED:
        return NOT_CLASSIFIED
    for _, row in entries_of(HistologyRiskRow):
        if histology_class in row.histology_classes and stage in row.stages and group in row.groups:
            return row.risk
    return NOT_CLASSIFIED


def _decide_histology(v: Mapping[str, Any]) -> tuple[str, int | None]:
    stage, group, site = _stage_and_group(v)
    risk = cog_histology_risk_from(v["histology"], stage, group)
    subset = arst0331_subset(stage, group, site.orbit) if risk == "low" else None
    return risk, subset


@cache
def histology_citations() -> list[str]:
    return citations_of(entries_of(HistologyRiskRow), entries_of(SubsetRow))


@cache
def _histology_rule() -> ClassificationRule:
    return ClassificationRule(
        finding_id=HISTOLOGY_FINDING_ID,
        rule_id=HISTOLOGY_RULE_ID,
        citations=histology_citations(),
        inputs_used=["diagnosis.histology", *_STAGE_AND_GROUP_FIELDS],
    )


def _histology_inputs(case: Case, scheme: str) -> dict[str, Input[Any]]:
    return {
        **_common_inputs(case, scheme),
        "histology": histology_class_input(case, "cog_histology"),
    }


def _show_histology(e: Exploration[tuple[str, int | None]]) -> str:
    return " or ".join(f"{r}" + (f" (subset {s})" if s else "") for r, s in e.outcomes)


def _fav(favourable: bool) -> str:
    return "is favourable" if favourable else "is unfavourable"


@once_per_assessment
def cog_histology_risk(case: Case) -> Finding:
    """Histology-era COG risk group with the ARST0331 low-risk subset (1 or 2).

    Low = embryonal stage 1 groups I-III or stages 2-3 groups I-II; intermediate = embryonal
    stages 2-3 group III or alveolar stages 1-3; high = stage 4 group IV (histology-era COG
    table; knowledge ``cog_histology.row.*``).  Subsets per PDQ 2025 Table 9.  Staged with the
    historical IRS site rule of that era (biliary tract favourable).
    """
    inputs = _histology_inputs(case, HISTORICAL_IRS_SCHEME)
    result = explore(inputs, _decide_histology)
    risks = _ordered(tuple(dict.fromkeys(r for r, _ in result.outcomes)))
    subsets = sorted({s for _, s in result.outcomes if s is not None})
    basis = _basis(inputs, ("histology", "site", "size_over", "nodes", "metastatic", "group"))
    rule = _histology_rule()
    views: list[SourceView] = []
    site = case.diagnosis.primary_site
    if (
        site is not None
        and site_ruling(site, CURRENT_SCHEME).favourable
        != site_ruling(site, HISTORICAL_IRS_SCHEME).favourable
    ):
        current = explore(_histology_inputs(case, CURRENT_SCHEME), _decide_histology)
        if set(current.outcomes) != set(result.outcomes):
            then, now = site_ruling(site, HISTORICAL_IRS_SCHEME), site_ruling(site, CURRENT_SCHEME)

            views = [
                SourceView(
                    citation=then.citations[0],
                    value=_show_histology(result),
                    reason=f"{site.label} {_fav(then.favourable)} under {then.label}.",
                ),
                SourceView(
                    citation=now.citations[0],
                    value=_show_histology(current),
                    reason=f"{site.label} {_fav(now.favourable)} under {now.label}.",
                ),
            ]
    if not views:
        views = _eyelid_views(case, inputs, result, _decide_histology, _show_histology, "Orbit")
    if risks == [NOT_CLASSIFIED]:
        return rule.not_applicable(
            reason=f"The histology-era COG table covers embryonal and alveolar RMS only ({basis}).",
            details=histology_not_covered("histology.cog_histology"),
        )
    details: dict[str, Any] = {"site_scheme": HISTORICAL_IRS_SCHEME}
    view_note = (
        " Site readings differ between sources for this site; both answers are shown."
        if views
        else ""
    )
    if len(risks) == 1:
        risk = risks[0]
        subset_text = ""
        if risk == "low":
            if len(subsets) == 1:
                details["arst0331_subset"] = subsets[0]
                subset_text = f", ARST0331 subset {subsets[0]}"
            else:
                details["arst0331_subset_candidates"] = subsets
                subset_text = f", ARST0331 subset {' or '.join(map(str, subsets))} undecided"
        return rule.determined(
            risk,
            needs=result.needs,
            reason=f"Histology-era COG {risk} risk{subset_text}: {basis} (COG risk table by "
            f"histology; subsets per PDQ 2025 Table 9).{view_note}",
            details=details,
            source_views=views,
        )
    if subsets:
        details["arst0331_subset_candidates"] = subsets
    return rule.indeterminate(
        risks,
        needs=result.needs,
        reason=f"Histology-era COG risk {' or '.join(risks)}: {basis} "
        f"(COG risk table by histology).{view_note}",
        details=details,
        source_views=views,
    )
