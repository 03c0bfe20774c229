"""risk.cog (current COG, PDQ 2025 Table 6 after Crane 2022; ARST2032) and risk.cog_histology
(histology-era COG table, BMC Pediatr 2020 Table 3; ARST0331 subsets, PDQ 2025 Table 9).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from classify_case_builder import (
    BASELINE,
    BIOPSY,
    DEBULKED,
    MICRO_N0,
    UNSET,
    known_case,
    make_case,
    outcomes,
    surgery,
    t_case,
    years,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from rhabdo.case.vocab import (
    FusionStatus,
    Histology,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PrimarySite,
    SurgicalResult,
)
from rhabdo.classify.group import clinical_group
from rhabdo.classify.risk_cog import (
    cog_histology_risk,
    cog_histology_risk_from,
    cog_risk,
    cog_risk_from,
)
from rhabdo.classify.risk_epssg import epssg_risk
from rhabdo.classify.stage import pretreatment_stage
from rhabdo.results import FindingStatus

NODES = "regional_nodes_involved_pathologically"
IIB = surgery("complete", **{NODES: True}, most_distal_node_involved=False)
IIC = surgery("microscopic_residual", **{NODES: True}, most_distal_node_involved=False)
FN = {"foxo1_fusion": "negative"}
FP = {"foxo1_fusion": "pax3_foxo1"}

# PDQ 2025 Table 6 (Crane 2022), one case per cell: (row, overrides, age in years, expected)
TABLE6_ROWS: list[tuple[str, dict[str, Any], float, str]] = [
    ("very low: FN stage 1 group I, WT", {**FN}, 3, "very_low"),
    ("low: FN stage 1 group II, WT", {**FN, "initial_surgery": MICRO_N0}, 3, "low"),
    (
        "low: FN stage 1 group III orbit, WT",
        {**FN, "primary_site": "orbit", "initial_surgery": BIOPSY},
        3,
        "low",
    ),
    ("low: FN stage 2 group I, WT", {**FN, "primary_site": "extremity"}, 3, "low"),
    (
        "low: FN stage 2 group II, WT",
        {**FN, "primary_site": "extremity", "initial_surgery": MICRO_N0},
        3,
        "low",
    ),
    (
        "intermediate: FN stage 1 group III non-orbit",
        {**FN, "initial_surgery": BIOPSY},
        3,
        "intermediate",
    ),
    (
        "intermediate: FN stage 2 group III",
        {**FN, "primary_site": "bladder", "initial_surgery": DEBULKED},
        3,
        "intermediate",
    ),
    (
        "intermediate: FN stage 3 group III",
        {**FN, "primary_site": "extremity", "max_diameter_cm": 7, "initial_surgery": BIOPSY},
        3,
        "intermediate",
    ),
    (
        "intermediate: FN stage 3 group I",
        {**FN, "primary_site": "trunk", "max_diameter_cm": 7},
        3,
        "intermediate",
    ),
    (
        "intermediate: FN stage 3 group II",
        {**FN, "primary_site": "extremity", "regional_nodes": "N1", "initial_surgery": IIC},
        3,
        "intermediate",
    ),
    (
        "intermediate: FN stage 4 group IV, age <10",
        {**FN, "distant_metastases": ["lung"]},
        9,
        "intermediate",
    ),
    ("intermediate: FP stage 1 group I", {**FP}, 3, "intermediate"),
    (
        "intermediate: FP stage 2 group II",
        {**FP, "primary_site": "extremity", "initial_surgery": MICRO_N0},
        12,
        "intermediate",
    ),
    (
        "intermediate: FP stage 3 group III",
        {**FP, "primary_site": "extremity", "max_diameter_cm": 8, "initial_surgery": BIOPSY},
        15,
        "intermediate",
    ),
    ("high: FP stage 4 group IV", {**FP, "distant_metastases": ["bone_marrow"]}, 4, "high"),
    ("high: FN stage 4 group IV, age >=10", {**FN, "distant_metastases": ["lung"]}, 11, "high"),
]


@pytest.mark.parametrize(("row", "overrides", "age", "expected"), TABLE6_ROWS)
def test_pdq_table6_rows(row: str, overrides: dict[str, Any], age: float, expected: str) -> None:
    f = cog_risk(known_case(age_days=years(age), **overrides))
    assert f.status is FindingStatus.DETERMINED, f.reason
    assert f.value == expected, row  # PDQ 2025 Table 6
    assert {"pdq_rms_hp_2025", "crane_2022"} <= set(f.citations)


@pytest.mark.parametrize("fusion", list(FusionStatus))
def test_every_fusion_status(fusion: FusionStatus) -> None:
    """Table 6 on a stage 1 group I wild-type case; 'not tested' is unknown, never negative."""
    f = cog_risk(known_case(foxo1_fusion=fusion.value))
    expected = {True: ["intermediate"], False: ["very_low"], None: ["very_low", "intermediate"]}
    assert (
        sorted(outcomes(f), key=["very_low", "intermediate"].index)
        == expected[fusion.is_fusion_positive]
    )
    if fusion is FusionStatus.NOT_TESTED:
        assert f.status is FindingStatus.INDETERMINATE
        assert f.needs == ["diagnosis.foxo1_fusion"]


def test_exactly_ten_years_is_ten_or_older() -> None:
    """Table 6: FN stage 4 'age <10' intermediate, 'age >=10' high; the 10th birthday is 10."""
    born = dt.date(2010, 3, 1)
    fields = {**BASELINE, **FN, "distant_metastases": ["lung"]}
    on_birthday = cog_risk(make_case(born=born, diagnosed=dt.date(2020, 3, 1), **fields))
    day_before = cog_risk(make_case(born=born, diagnosed=dt.date(2020, 2, 29), **fields))
    assert on_birthday.value == "high"
    assert "Exactly 10 years" in on_birthday.reason
    assert day_before.value == "intermediate"


def test_age_in_days_on_the_leap_day_window_needs_the_dates() -> None:
    f = cog_risk(known_case(age_days=3652, **FN, distant_metastases=["lung"]))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == ["intermediate", "high"]
    assert f.needs == ["diagnosis.date", "patient.date_of_birth"]


def test_unknown_age_matters_only_for_fusion_negative_stage_4() -> None:
    assert cog_risk(make_case(**BASELINE)).value == "very_low"
    f = cog_risk(make_case(**{**BASELINE, "distant_metastases": ["lung"]}))
    assert f.needs == ["patient.age_at_diagnosis_days"]


@pytest.mark.parametrize("myod1", list(MutationStatus))
@pytest.mark.parametrize("tp53", list(MutationStatus))
def test_every_molecular_status_on_a_very_low_pattern(
    myod1: MutationStatus, tp53: MutationStatus
) -> None:
    f = cog_risk(known_case(myod1=myod1.value, tp53=tp53.value))
    if MutationStatus.MUTATED in (myod1, tp53):
        assert f.status is FindingStatus.NOT_APPLICABLE
        assert f.details["outcome"] == "not_classified_mutated"
        assert f.details["arst2032_regimen"] == "M"
        assert "arst2032_registry" in f.citations
    elif myod1 is tp53 is MutationStatus.WILD_TYPE:
        assert f.value == "very_low"
    else:
        assert f.status is FindingStatus.INDETERMINATE
        assert f.candidates == ["very_low", "not_classified_mutated"]
        assert set(f.needs) <= {"diagnosis.myod1", "diagnosis.tp53"}


def test_germline_tp53_mutation_counts_as_mutated() -> None:
    f = cog_risk(known_case(tp53=UNSET, tp53_germline="mutated"))
    assert f.status is FindingStatus.NOT_APPLICABLE


def test_molecular_status_does_not_matter_for_intermediate() -> None:
    f = cog_risk(known_case(myod1=UNSET, tp53=UNSET, initial_surgery=BIOPSY))
    assert f.value == "intermediate" and f.needs == []


def test_eyelid_group_iii_shows_both_orbit_readings() -> None:
    f = cog_risk(known_case(primary_site="eyelid", initial_surgery=BIOPSY))
    assert f.value == "intermediate"
    assert [v.value for v in f.source_views] == ["intermediate", "low"]


def test_unknown_stage_inputs_propagate_needs() -> None:
    f = cog_risk(known_case(primary_site="extremity", max_diameter_cm=UNSET))
    assert f.candidates == ["low", "intermediate"]
    assert f.needs == ["diagnosis.max_diameter_cm"]


T_COG = {
    "T1": "very_low",
    "T2": "low",
    "T3": "intermediate",
    "T4": "intermediate",
    "T5": "intermediate",
    "T6": "low",
    "T7": "intermediate",
    "T8": "high",
}


@pytest.mark.parametrize(("name", "expected"), sorted(T_COG.items()))
def test_constructed_cases_current_cog(name: str, expected: str) -> None:
    """scoring-gaps-resolved.md 'Effect on ... test cases' (T7: FN stage 4 <10 y = intermediate)."""
    assert cog_risk(t_case(name)).value == expected


# ------------------------------------------------------------------ histology era

# BMC Pediatr 2020 Table 3 (COG risk group classification), one case per cell.
HISTOLOGY_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("low: embryonal stage 1 group I", {}, "low"),
    ("low: embryonal stage 1 group II", {"initial_surgery": MICRO_N0}, "low"),
    ("low: embryonal stage 1 group III", {"initial_surgery": BIOPSY}, "low"),
    ("low: embryonal stage 2 group I", {"primary_site": "bladder"}, "low"),
    (
        "low: embryonal stage 3 group II",
        {"primary_site": "trunk", "max_diameter_cm": 6, "initial_surgery": MICRO_N0},
        "low",
    ),
    (
        "intermediate: embryonal stage 2 group III",
        {"primary_site": "bladder", "initial_surgery": BIOPSY},
        "intermediate",
    ),
    (
        "intermediate: embryonal stage 3 group III",
        {"primary_site": "trunk", "max_diameter_cm": 6, "initial_surgery": BIOPSY},
        "intermediate",
    ),
    ("intermediate: alveolar stage 1 group I", {"histology": "alveolar"}, "intermediate"),
    (
        "intermediate: alveolar stage 2 group II",
        {"histology": "alveolar", "primary_site": "extremity", "initial_surgery": MICRO_N0},
        "intermediate",
    ),
    (
        "intermediate: alveolar stage 3 group III",
        {
            "histology": "alveolar",
            "primary_site": "extremity",
            "max_diameter_cm": 9,
            "initial_surgery": BIOPSY,
        },
        "intermediate",
    ),
    ("high: embryonal stage 4 group IV", {"distant_metastases": ["lung"]}, "high"),
    (
        "high: alveolar stage 4 group IV",
        {"histology": "alveolar", "distant_metastases": ["bone"]},
        "high",
    ),
]


@pytest.mark.parametrize(("row", "overrides", "expected"), HISTOLOGY_ROWS)
def test_histology_era_table_rows(row: str, overrides: dict[str, Any], expected: str) -> None:
    f = cog_histology_risk(known_case(**overrides))
    assert f.value == expected, row  # BMC Pediatr 2020 Table 3


# PDQ 2025 Table 9 (ARST0331), one case per row: (row, overrides, subset)
SUBSET_ROWS: list[tuple[str, dict[str, Any], int]] = [
    ("1: favourable, any size, group I, N0", {"max_diameter_cm": 8}, 1),
    ("1: favourable, group II, N0", {"initial_surgery": MICRO_N0}, 1),
    ("1: favourable, group II, N1", {"regional_nodes": "N1", "initial_surgery": IIB}, 1),
    ("1: orbit, group III, N0", {"primary_site": "orbit", "initial_surgery": BIOPSY}, 1),
    ("1: unfavourable <5 cm, group I, N0", {"primary_site": "extremity", "max_diameter_cm": 4}, 1),
    (
        "1: unfavourable <5 cm, group II, N0",
        {"primary_site": "extremity", "max_diameter_cm": 4, "initial_surgery": MICRO_N0},
        1,
    ),
    ("2: favourable non-orbit, group III, N0", {"initial_surgery": BIOPSY}, 2),
    (
        "2: favourable non-orbit, group III, N1",
        {"regional_nodes": "N1", "initial_surgery": BIOPSY},
        2,
    ),
    ("2: unfavourable >5 cm, group I, N0", {"primary_site": "extremity", "max_diameter_cm": 7}, 2),
    (
        "2: unfavourable >5 cm, group II, N1",
        {
            "primary_site": "extremity",
            "max_diameter_cm": 7,
            "regional_nodes": "N1",
            "initial_surgery": IIB,
        },
        2,
    ),
]


@pytest.mark.parametrize(("row", "overrides", "subset"), SUBSET_ROWS)
def test_arst0331_subset_rows(row: str, overrides: dict[str, Any], subset: int) -> None:
    f = cog_histology_risk(known_case(**overrides))
    assert f.value == "low"
    assert f.details["arst0331_subset"] == subset, row  # PDQ 2025 Table 9


@pytest.mark.parametrize("histology", list(Histology))
def test_every_histology_histology_era(histology: Histology) -> None:
    f = cog_histology_risk(known_case(histology=histology.value))
    if histology in (
        Histology.EMBRYONAL,
        Histology.EMBRYONAL_BOTRYOID,
        Histology.EMBRYONAL_SPINDLE_CELL,
    ):
        assert f.value == "low"
    elif histology is Histology.ALVEOLAR:
        assert f.value == "intermediate"
    elif histology is Histology.RMS_NOS:
        assert f.candidates == ["low", "intermediate"] and f.needs == ["diagnosis.histology"]
    else:
        assert f.status is FindingStatus.NOT_APPLICABLE
        assert f.details["outcome"] == "not_classified"


def test_histology_era_uses_the_historical_biliary_rule() -> None:
    f = cog_histology_risk(known_case(primary_site="biliary", initial_surgery=BIOPSY))
    assert f.value == "low" and f.details["arst0331_subset"] == 2
    assert [v.citation for v in f.source_views] == ["pdq_rms_hp_2014", "pdq_rms_hp_2025"]
    assert f.source_views[1].value == "intermediate"


def test_low_risk_subset_undecided() -> None:
    f = cog_histology_risk(
        known_case(primary_site="extremity", max_diameter_cm=UNSET, initial_surgery=MICRO_N0)
    )
    assert f.value == "low"
    assert f.details["arst0331_subset_candidates"] == [1, 2]
    assert f.needs == ["diagnosis.max_diameter_cm"]


T_HISTOLOGY = {
    "T1": ("low", 1),
    "T2": ("low", 1),
    "T3": ("intermediate", None),
    "T4": ("intermediate", None),
    "T5": ("intermediate", None),
    "T6": ("low", 1),
    "T7": ("high", None),
    "T8": ("high", None),
}


@pytest.mark.parametrize(("name", "expected"), sorted(T_HISTOLOGY.items()))
def test_constructed_cases_histology_era(name: str, expected: tuple[str, int | None]) -> None:
    """scoring-and-staging.md section 6: T1/T2/T6 low risk with ARST0331 subset 1."""
    f = cog_histology_risk(t_case(name))
    assert (f.value, f.details.get("arst0331_subset")) == expected


# ------------------------------------------------------------------ properties


@st.composite
def full_case(draw: st.DrawFn) -> dict[str, Any]:
    nodes = draw(st.sampled_from(list(NodalStatus)))
    involved = {NodalStatus.N0: False, NodalStatus.N1: True}.get(nodes, draw(st.booleans()))
    return {
        "age_days": draw(st.integers(min_value=0, max_value=years(25))),
        "primary_site": draw(st.sampled_from(list(PrimarySite))).value,
        "histology": draw(st.sampled_from(list(Histology))).value,
        "foxo1_fusion": draw(st.sampled_from(list(FusionStatus))).value,
        "myod1": draw(st.sampled_from(list(MutationStatus))).value,
        "tp53": draw(st.sampled_from(list(MutationStatus))).value,
        "max_diameter_cm": draw(st.sampled_from([1.0, 5.0, 5.5, 12.0])),
        "regional_nodes": nodes.value,
        "distant_metastases": draw(
            st.lists(st.sampled_from(list(MetastaticSite)), unique=True, max_size=2)
        ),
        "initial_surgery": surgery(
            draw(st.sampled_from(list(SurgicalResult))).value,
            confined_to_site_of_origin=draw(st.booleans()),
            **{NODES: involved},
            most_distal_node_involved=draw(st.booleans()) if involved else False,
        ),
    }


REMOVABLE = [
    "age_days",
    "primary_site",
    "histology",
    "foxo1_fusion",
    "myod1",
    "tp53",
    "max_diameter_cm",
    "regional_nodes",
    "distant_metastases",
    "initial_surgery",
]


@settings(max_examples=250, deadline=None, derandomize=True)
@given(full_case(), st.sets(st.sampled_from(REMOVABLE)))
def test_filling_in_fields_gives_earlier_candidates(
    full: dict[str, Any], removed: set[str]
) -> None:
    partial = {k: v for k, v in full.items() if k not in removed}
    for rule in (cog_risk, cog_histology_risk):
        assert outcomes(rule(make_case(**full))) <= outcomes(rule(make_case(**partial))), (
            rule.__name__
        )


@settings(max_examples=250, deadline=None, derandomize=True)
@given(full_case(), st.sets(st.sampled_from(REMOVABLE)))
def test_no_valid_case_makes_a_rule_raise(full: dict[str, Any], removed: set[str]) -> None:
    case = make_case(**{k: v for k, v in full.items() if k not in removed})
    for rule in (pretreatment_stage, clinical_group, cog_risk, cog_histology_risk, epssg_risk):
        f = rule(case)
        assert f.reason and f.rule and f.citations


def test_eyelid_group_iii_histology_era_shows_both_orbit_readings() -> None:
    """PDQ 2025 Table 9: orbit group III = subset 1, non-orbit favourable group III = subset 2."""
    f = cog_histology_risk(known_case(primary_site="eyelid", initial_surgery=BIOPSY))
    assert f.details["arst0331_subset"] == 2
    assert [v.value for v in f.source_views] == ["low (subset 2)", "low (subset 1)"]


def _consistent_cells() -> list[tuple[int, str, bool]]:
    """(stage, group, orbit) cells that can occur: stage 4 iff group IV; orbit only in stage 1."""
    cells = [(4, "IV", False)]
    for stage in (1, 2, 3):
        for group in ("I", "II", "III"):
            cells += [(stage, group, False)] + ([(stage, group, True)] if stage == 1 else [])
    return cells


@pytest.mark.parametrize(("stage", "group", "orbit"), _consistent_cells())
@pytest.mark.parametrize("fusion_positive", [True, False])
def test_table6_places_every_possible_cell(
    stage: int, group: str, orbit: bool, fusion_positive: bool
) -> None:
    """Every cell of Table 6 is covered once MYOD1/TP53 are wild-type, at any age."""
    for age_10 in (True, False):
        risk, entry_id = cog_risk_from(
            fusion_positive=fusion_positive,
            stage=stage,
            group=group,
            orbit=orbit,
            age_10_or_older=age_10,
            myod1_tp53_wild_type=True,
        )
        assert risk in ("very_low", "low", "intermediate", "high") and entry_id


@pytest.mark.parametrize(("stage", "group", "orbit"), _consistent_cells())
@pytest.mark.parametrize("histology_class", ["embryonal", "alveolar"])
def test_histology_table_places_every_possible_cell(
    stage: int, group: str, orbit: bool, histology_class: str
) -> None:
    assert cog_histology_risk_from(histology_class, stage, group) in ("low", "intermediate", "high")
