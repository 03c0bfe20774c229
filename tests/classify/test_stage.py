"""stage.pretreatment -- IRS/COG pretreatment stage.

Source of every expected value: PDQ 2025 Tables 3-4 (after Crane 2022) as recorded in
scoring-and-staging.md section 1.2 -- stage 1 favourable site any size any N M0; stage 2
unfavourable <=5 cm N0/NX M0; stage 3 unfavourable <=5 cm N1 or >5 cm any N, M0; stage 4 M1.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from classify_case_builder import UNSET, known_case, make_case, outcomes, t_case, years
from hypothesis import given, settings
from hypothesis import strategies as st

from rhabdo.case.vocab import Invasiveness, MetastaticSite, NodalStatus, PrimarySite
from rhabdo.classify.sites import is_favourable_site
from rhabdo.classify.stage import pretreatment_stage, stage_from
from rhabdo.results import FindingStatus


def textbook_stage(favourable: bool, size_cm: float, nodes: str, metastatic: bool) -> int:
    """Independent transcription of the PDQ stage table (scoring-and-staging.md 1.2)."""
    if metastatic:
        return 4
    if favourable:
        return 1
    if size_cm <= 5 and nodes in ("N0", "NX"):
        return 2
    return 3


# Every row of PDQ Table 4, one case per cell it lists.
TABLE_ROWS = [
    # (row, site, size, nodes, mets, expected stage)
    ("1 favourable a N0", "orbit", 3.0, "N0", [], 1),
    ("1 favourable b N1", "paratesticular", 8.0, "N1", [], 1),
    ("1 favourable a NX", "head_neck_non_parameningeal", 2.0, "NX", [], 1),
    ("2 unfavourable a N0", "bladder", 4.0, "N0", [], 2),
    ("2 unfavourable a NX", "extremity", 5.0, "NX", [], 2),
    ("3 unfavourable a N1", "parameningeal", 4.0, "N1", [], 3),
    ("3 unfavourable b N0", "trunk", 6.0, "N0", [], 3),
    ("3 unfavourable b N1", "prostate", 9.0, "N1", [], 3),
    ("3 unfavourable b NX", "retroperitoneum", 5.1, "NX", [], 3),
    ("4 favourable M1", "orbit", 1.0, "N0", ["lung"], 4),
    ("4 unfavourable M1 N1", "extremity", 7.0, "N1", ["bone", "bone_marrow"], 4),
    ("4 M1 NX", "bladder", 3.0, "NX", ["csf"], 4),
]


@pytest.mark.parametrize(("row", "site", "size", "nodes", "mets", "expected"), TABLE_ROWS)
def test_pdq_stage_table_rows(
    row: str, site: str, size: float, nodes: str, mets: list[str], expected: int
) -> None:
    f = pretreatment_stage(
        make_case(
            primary_site=site, max_diameter_cm=size, regional_nodes=nodes, distant_metastases=mets
        )
    )
    assert f.status is FindingStatus.DETERMINED
    assert f.value == expected, row  # PDQ 2025 Table 4
    assert f.id == "stage.pretreatment"
    assert "pdq_rms_hp_2025" in f.citations


@pytest.mark.parametrize(
    ("favourable", "size", "nodes", "metastatic"),
    list(
        itertools.product([True, False], [0.5, 5.0, 5.01, 12.0], ["N0", "N1", "NX"], [False, True])
    ),
)
def test_stage_table_is_total_and_matches_textbook(
    favourable: bool, size: float, nodes: str, metastatic: bool
) -> None:
    """Every combination gives exactly one stage, equal to the PDQ table."""
    assert stage_from(favourable, size > 5, NodalStatus(nodes), metastatic) == textbook_stage(
        favourable, size, nodes, metastatic
    )


@pytest.mark.parametrize("site", list(PrimarySite))
def test_every_site_small_n0_m0(site: PrimarySite) -> None:
    f = pretreatment_stage(
        make_case(
            primary_site=site.value, max_diameter_cm=3, regional_nodes="N0", distant_metastases=[]
        )
    )
    assert f.value == (1 if is_favourable_site(site) else 2)


@pytest.mark.parametrize("t", list(Invasiveness))
def test_t_category_never_changes_the_stage(t: Invasiveness) -> None:
    f = pretreatment_stage(known_case(primary_site="bladder", invasiveness=t.value))
    assert f.value == 2
    assert f.details["t_category"] == t.value


@pytest.mark.parametrize("m", list(MetastaticSite))
def test_any_metastatic_site_is_stage_4(m: MetastaticSite) -> None:
    assert pretreatment_stage(known_case(distant_metastases=[m.value])).value == 4


def test_exactly_5_cm_is_size_a() -> None:
    """PDQ Table 3: a = <=5 cm."""
    assert pretreatment_stage(known_case(primary_site="extremity", max_diameter_cm=5.0)).value == 2
    assert pretreatment_stage(known_case(primary_site="extremity", max_diameter_cm=5.05)).value == 3


def test_issue_example_unknown_size_gives_2_or_3() -> None:
    """Issue 2: unfavourable site, unknown size, N0 -> candidates [2, 3], needs size."""
    f = pretreatment_stage(known_case(primary_site="bladder", max_diameter_cm=UNSET))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [2, 3]
    assert f.needs == ["diagnosis.max_diameter_cm"]


def test_unknown_metastases_keep_stage_4_open() -> None:
    f = pretreatment_stage(known_case(primary_site="bladder", distant_metastases=UNSET))
    assert f.candidates == [2, 4]
    assert f.needs == ["diagnosis.distant_metastases"]


def test_favourable_site_does_not_need_size_or_nodes() -> None:
    f = pretreatment_stage(known_case(max_diameter_cm=UNSET, regional_nodes=UNSET))
    assert f.status is FindingStatus.DETERMINED and f.value == 1


def test_unknown_nodes_matter_only_for_small_unfavourable() -> None:
    f = pretreatment_stage(known_case(primary_site="extremity", regional_nodes=UNSET))
    assert f.candidates == [2, 3] and f.needs == ["diagnosis.regional_nodes"]
    big = pretreatment_stage(
        known_case(primary_site="extremity", max_diameter_cm=7, regional_nodes=UNSET)
    )
    assert big.value == 3


def test_unknown_site() -> None:
    f = pretreatment_stage(known_case(primary_site=UNSET))
    assert f.candidates == [1, 2] and f.needs == ["diagnosis.primary_site"]


def test_stated_group_iv_or_site_count_decides_metastases() -> None:
    assert (
        pretreatment_stage(known_case(distant_metastases=UNSET, irs_group_stated="IV")).value == 4
    )
    assert (
        pretreatment_stage(
            known_case(distant_metastases=UNSET, distant_metastasis_site_count=2)
        ).value
        == 4
    )


def test_biliary_shows_both_site_rules() -> None:
    """Crane 2022 / PDQ 2025: biliary unfavourable (stage 2); PDQ 2009/2014: favourable (1)."""
    f = pretreatment_stage(known_case(primary_site="biliary"))
    assert f.value == 2
    assert [(v.citation, v.value) for v in f.source_views] == [
        ("pdq_rms_hp_2025", 2),
        ("pdq_rms_hp_2014", 1),
    ]
    assert "differ" in f.reason


def test_biliary_large_tumour_views_show_3_vs_1() -> None:
    f = pretreatment_stage(known_case(primary_site="biliary", max_diameter_cm=9))
    assert [v.value for v in f.source_views] == [3, 1]


def test_kidney_is_unfavourable_without_disagreement() -> None:
    f = pretreatment_stage(known_case(primary_site="kidney"))
    assert f.value == 2 and f.source_views == []


# T1-T8 (scoring-and-staging.md section 6; corrected by scoring-gaps-resolved.md)
T_STAGES = {"T1": 1, "T2": 1, "T3": 2, "T4": 3, "T5": 3, "T6": 2, "T7": 4, "T8": 4}


@pytest.mark.parametrize(("name", "expected"), sorted(T_STAGES.items()))
def test_constructed_cases(name: str, expected: int) -> None:
    assert pretreatment_stage(t_case(name)).value == expected


# ------------------------------------------------------------------ properties

FIELDS = ["primary_site", "max_diameter_cm", "regional_nodes", "distant_metastases"]


@st.composite
def stage_inputs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "primary_site": draw(st.sampled_from(list(PrimarySite))).value,
        "max_diameter_cm": draw(st.sampled_from([0.4, 2.0, 5.0, 5.01, 9.5, 30.0])),
        "regional_nodes": draw(st.sampled_from(list(NodalStatus))).value,
        "distant_metastases": draw(
            st.lists(st.sampled_from(list(MetastaticSite)), unique=True, max_size=3)
        ),
    }


@settings(max_examples=300, deadline=None, derandomize=True)
@given(stage_inputs(), st.sets(st.sampled_from(FIELDS)))
def test_filling_in_a_field_gives_an_earlier_candidate(
    full: dict[str, Any], removed: set[str]
) -> None:
    full_f = pretreatment_stage(make_case(**full))
    partial = {k: v for k, v in full.items() if k not in removed}
    partial_f = pretreatment_stage(make_case(**partial))
    assert outcomes(full_f) <= outcomes(partial_f)
    assert full_f.status is FindingStatus.DETERMINED
    if partial_f.status is FindingStatus.INDETERMINATE:
        assert set(partial_f.needs) <= {f"diagnosis.{k}" for k in removed}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(stage_inputs(), st.integers(min_value=0, max_value=years(30)))
def test_never_raises(full: dict[str, Any], age_days: int) -> None:
    f = pretreatment_stage(make_case(age_days=age_days, **full))
    assert f.value in (1, 2, 3, 4)
