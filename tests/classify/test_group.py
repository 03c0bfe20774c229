"""group.clinical -- IRS clinical (surgical-pathologic) group.

Expected values from the group table in scoring-and-staging.md section 2 (PDQ surgical-
pathologic group table after Crane 2022; IA/IB and IIIA/IIIB labels from the CAP checklist).
"""

from __future__ import annotations

from typing import Any

import pytest
from classify_case_builder import BIOPSY, UNSET, known_case, make_case, outcomes, surgery, t_case
from hypothesis import given, settings
from hypothesis import strategies as st

from rhabdo.case.vocab import IRSGroup, MetastaticSite, NodalStatus, SurgicalResult
from rhabdo.classify.group import clinical_group, main_group
from rhabdo.results import FindingStatus

NODES = "regional_nodes_involved_pathologically"

# (row of the group table, initial_surgery, expected subgroup)
GROUP_ROWS = [
    (
        "IA complete, confined",
        surgery("complete", confined_to_site_of_origin=True, **{NODES: False}),
        "IA",
    ),
    (
        "IB complete, beyond origin",
        surgery("complete", confined_to_site_of_origin=False, **{NODES: False}),
        "IB",
    ),
    (
        "IIA microscopic residual, nodes free",
        surgery("microscopic_residual", **{NODES: False}),
        "IIA",
    ),
    (
        "IIB nodes involved, complete, distal node free",
        surgery("complete", **{NODES: True}, most_distal_node_involved=False),
        "IIB",
    ),
    (
        "IIC nodes involved, microscopic residual",
        surgery("microscopic_residual", **{NODES: True}, most_distal_node_involved=False),
        "IIC",
    ),
    (
        "IIC nodes involved, most distal node involved",
        surgery("complete", **{NODES: True}, most_distal_node_involved=True),
        "IIC",
    ),
    ("IIIA biopsy only", surgery("biopsy_only"), "IIIA"),
    ("IIIB gross residual after >50% debulking", surgery("gross_residual"), "IIIB"),
]


@pytest.mark.parametrize(("row", "initial_surgery", "expected"), GROUP_ROWS)
def test_group_table_rows(row: str, initial_surgery: dict[str, Any], expected: str) -> None:
    f = clinical_group(known_case(initial_surgery=initial_surgery))
    assert f.status is FindingStatus.DETERMINED
    assert f.value == expected, row
    assert f.details["definition"]


@pytest.mark.parametrize("result", list(SurgicalResult))
@pytest.mark.parametrize("m", list(MetastaticSite))
def test_distant_metastases_are_group_iv_whatever_the_surgery(
    result: SurgicalResult, m: MetastaticSite
) -> None:
    f = clinical_group(
        known_case(distant_metastases=[m.value], initial_surgery=surgery(result.value))
    )
    assert f.value == "IV"


@pytest.mark.parametrize("stated", list(IRSGroup))
def test_stated_group_alone(stated: IRSGroup) -> None:
    mets = ["lung"] if stated is IRSGroup.IV else []
    f = clinical_group(
        known_case(initial_surgery=UNSET, irs_group_stated=stated.value, distant_metastases=mets)
    )
    assert f.status is FindingStatus.DETERMINED
    assert f.value == stated.value
    if stated.value in ("I", "II", "III"):
        assert f.details["subgroup_candidates"] and all(
            s.startswith(stated.value) for s in f.details["subgroup_candidates"]
        )


def test_stated_main_group_is_refined_by_the_surgery() -> None:
    f = clinical_group(known_case(initial_surgery=BIOPSY, irs_group_stated="III"))
    assert f.value == "IIIA" and f.source_views == []


def test_stated_and_derived_disagree_shows_both() -> None:
    f = clinical_group(known_case(initial_surgery=BIOPSY, irs_group_stated="IIA"))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == ["II", "III"]
    assert {v.value for v in f.source_views} == {"IIIA", "IIA"}
    assert "disagree" in f.reason
    assert "diagnosis.irs_group_stated" in f.needs


def test_same_main_group_disagreement_keeps_main_group_and_views() -> None:
    f = clinical_group(
        known_case(initial_surgery=surgery("gross_residual"), irs_group_stated="IIIA")
    )
    assert f.status is FindingStatus.DETERMINED and f.value == "III"
    assert len(f.source_views) == 2


def test_subgroup_undecided_is_main_group_with_candidates() -> None:
    f = clinical_group(known_case(initial_surgery=surgery("complete", **{NODES: False})))
    assert f.status is FindingStatus.DETERMINED
    assert f.value == "I"
    assert f.details["subgroup_candidates"] == ["IA", "IB"]
    assert f.needs == ["diagnosis.initial_surgery.confined_to_site_of_origin"]


def test_node_pathology_unknown_with_clinical_n1() -> None:
    f = clinical_group(
        known_case(regional_nodes="N1", initial_surgery=surgery("microscopic_residual"))
    )
    assert f.value == "II"
    assert f.details["subgroup_candidates"] == ["IIA", "IIC"]
    assert f.needs == ["diagnosis.initial_surgery.regional_nodes_involved_pathologically"]


def test_clinical_n0_unsampled_nodes_count_as_free() -> None:
    """Group I allows clinically uninvolved nodes that were not sampled (PDQ group I text)."""
    f = clinical_group(
        known_case(initial_surgery=surgery("complete", confined_to_site_of_origin=True))
    )
    assert f.value == "IA"


def test_unknown_surgery() -> None:
    f = clinical_group(known_case(initial_surgery=UNSET))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == ["I", "II", "III"]
    assert f.needs == ["diagnosis.initial_surgery"]


def test_unknown_metastases_keep_iv_open() -> None:
    f = clinical_group(known_case(initial_surgery=BIOPSY, distant_metastases=UNSET))
    assert f.candidates == ["III", "IV"]
    assert f.needs == ["diagnosis.distant_metastases"]


T_GROUPS = {
    "T1": "IA",
    "T2": "IIIA",
    "T3": "IIIA",
    "T4": "IIIA",
    "T5": "IIIA",
    "T6": "IIA",
    "T7": "IV",
    "T8": "IV",
}


@pytest.mark.parametrize(("name", "expected"), sorted(T_GROUPS.items()))
def test_constructed_cases(name: str, expected: str) -> None:
    """scoring-and-staging.md section 6 (T1 'Group I (IA)', T6 'IIA', T7/T8 'IV')."""
    assert clinical_group(t_case(name)).value == expected


# ------------------------------------------------------------------ properties


@st.composite
def full_group_case(draw: st.DrawFn) -> dict[str, Any]:
    result = draw(st.sampled_from(list(SurgicalResult)))
    nodes = draw(st.sampled_from(list(NodalStatus)))
    involved = {NodalStatus.N0: False, NodalStatus.N1: True}.get(nodes, draw(st.booleans()))
    distal = draw(st.booleans()) if involved else False
    mets = draw(st.lists(st.sampled_from(list(MetastaticSite)), unique=True, max_size=2))
    return {
        "regional_nodes": nodes.value,
        "distant_metastases": mets,
        "initial_surgery": surgery(
            result.value,
            confined_to_site_of_origin=draw(st.booleans()),
            **{NODES: involved},
            most_distal_node_involved=distal,
        ),
    }


SURGERY_FIELDS = [NODES, "confined_to_site_of_origin", "most_distal_node_involved"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    full_group_case(),
    st.sets(st.sampled_from(["distant_metastases", "initial_surgery", *SURGERY_FIELDS])),
)
def test_filling_in_a_field_gives_an_earlier_candidate(
    full: dict[str, Any], removed: set[str]
) -> None:
    full_f = clinical_group(make_case(**full))
    partial = {k: v for k, v in full.items() if k not in removed}
    if "initial_surgery" in partial:
        partial["initial_surgery"] = {
            k: v for k, v in partial["initial_surgery"].items() if k not in removed
        }
    partial_f = clinical_group(make_case(**partial))
    full_mains = {main_group(v) for v in outcomes(full_f)}
    assert full_mains <= {main_group(v) for v in outcomes(partial_f)}
    if partial_f.status is FindingStatus.DETERMINED and full_f.status is FindingStatus.DETERMINED:
        assert main_group(full_f.value) == main_group(partial_f.value)
