"""risk.epssg -- EpSSG RMS 2005 risk group and subgroup A-H.

Expected values: scoring-gaps-resolved.md Gap 1, table 1c (A-D from ClinicalTrials.gov
NCT00379457; E-G content from PDQ 2025 / Bisogno 2019; H from Gallego 2021; letters E-H
inferred from the registry ordering).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from classify_case_builder import (
    BASELINE,
    BIOPSY,
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
    NodalStatus,
    PrimarySite,
    SurgicalResult,
)
from rhabdo.classify.risk_epssg import epssg_risk, epssg_subgroup_from
from rhabdo.results import FindingStatus

NODES = "regional_nodes_involved_pathologically"
IIB = surgery("complete", **{NODES: True}, most_distal_node_involved=False)

# (table 1c row, overrides, age in years, (risk, subgroup))
SUBGROUP_ROWS: list[tuple[str, dict[str, Any], float, tuple[str, str]]] = [
    ("A: favourable pathology, group I, N0, <=5 cm and <10 y", {}, 3, ("low", "A")),
    ("B: favourable, group I, N0, >5 cm", {"max_diameter_cm": 7}, 3, ("standard", "B")),
    ("B: favourable, group I, N0, age >=10", {}, 12, ("standard", "B")),
    (
        "C: favourable, group II, favourable site, N0",
        {"initial_surgery": MICRO_N0},
        14,
        ("standard", "C"),
    ),
    (
        "C: favourable, group III, favourable site (orbit), N0",
        {"primary_site": "orbit", "initial_surgery": BIOPSY},
        7,
        ("standard", "C"),
    ),
    (
        "D: favourable, group III, unfavourable site, N0, favourable size/age",
        {"primary_site": "bladder", "max_diameter_cm": 4, "initial_surgery": BIOPSY},
        6,
        ("standard", "D"),
    ),
    (
        "E: favourable, group III, unfavourable site, N0, >5 cm",
        {"primary_site": "parameningeal", "max_diameter_cm": 6, "initial_surgery": BIOPSY},
        4,
        ("high", "E"),
    ),
    (
        "E: favourable, group II, unfavourable site, N0, age >=10",
        {"primary_site": "extremity", "initial_surgery": MICRO_N0},
        13,
        ("high", "E"),
    ),
    (
        "F: favourable pathology, N1",
        {"regional_nodes": "N1", "initial_surgery": IIB},
        3,
        ("high", "F"),
    ),
    ("G: alveolar, N0, group I", {"histology": "alveolar"}, 3, ("high", "G")),
    (
        "G: alveolar, N0, group III",
        {"histology": "alveolar", "primary_site": "extremity", "initial_surgery": BIOPSY},
        8,
        ("high", "G"),
    ),
    (
        "H: alveolar, N1",
        {
            "histology": "alveolar",
            "primary_site": "extremity",
            "regional_nodes": "N1",
            "initial_surgery": BIOPSY,
        },
        15,
        ("very_high", "H"),
    ),
]


@pytest.mark.parametrize(("row", "overrides", "age", "expected"), SUBGROUP_ROWS)
def test_rms2005_subgroup_rows(
    row: str, overrides: dict[str, Any], age: float, expected: tuple[str, str]
) -> None:
    f = epssg_risk(known_case(age_days=years(age), **overrides))
    assert f.status is FindingStatus.DETERMINED, f.reason
    assert (f.value, f.details["subgroup"]) == expected, row
    inferred = expected[1] in "EFGH"
    assert bool(f.details.get("subgroup_letter_inferred")) is inferred
    if inferred:
        assert "inferred" in f.reason


@pytest.mark.parametrize("m", list(MetastaticSite))
def test_metastatic_is_not_applicable(m: MetastaticSite) -> None:
    f = epssg_risk(known_case(distant_metastases=[m.value]))
    assert f.status is FindingStatus.NOT_APPLICABLE
    assert "MTS 2008" in f.reason


def test_unknown_metastases_keep_not_applicable_among_candidates() -> None:
    f = epssg_risk(known_case(distant_metastases=UNSET))
    assert f.candidates == ["low", "not_applicable"]
    assert f.needs == ["diagnosis.distant_metastases"]


def test_exactly_ten_years_is_unfavourable_age() -> None:
    """Registry: favourable age = under 10 years."""
    born = dt.date(2012, 6, 15)
    on_birthday = epssg_risk(make_case(born=born, diagnosed=dt.date(2022, 6, 15), **BASELINE))
    day_before = epssg_risk(make_case(born=born, diagnosed=dt.date(2022, 6, 14), **BASELINE))
    assert (on_birthday.value, on_birthday.details["subgroup"]) == ("standard", "B")
    assert (day_before.value, day_before.details["subgroup"]) == ("low", "A")
    assert "exactly 10 years is unfavourable" in on_birthday.reason


def test_exactly_five_cm_is_favourable_size() -> None:
    assert epssg_risk(known_case(max_diameter_cm=5.0)).details["subgroup"] == "A"
    assert epssg_risk(known_case(max_diameter_cm=5.1)).details["subgroup"] == "B"


@pytest.mark.parametrize("site", [PrimarySite.BILIARY, PrimarySite.KIDNEY])
def test_biliary_and_kidney_are_unfavourable_under_epssg(site: PrimarySite) -> None:
    f = epssg_risk(known_case(primary_site=site.value, initial_surgery=BIOPSY))
    assert f.details["subgroup"] == "D"


@pytest.mark.parametrize("histology", list(Histology))
def test_every_histology(histology: Histology) -> None:
    f = epssg_risk(known_case(histology=histology.value))
    if histology is Histology.ALVEOLAR:
        assert f.details["subgroup"] == "G"
    elif histology is Histology.PLEOMORPHIC:
        assert f.status is FindingStatus.NOT_APPLICABLE
    elif histology is Histology.RMS_NOS:
        assert f.candidates == ["low", "high"] and f.needs == ["diagnosis.histology"]
    else:
        assert f.details["subgroup"] == "A"


@pytest.mark.parametrize("fusion", list(FusionStatus))
def test_fusion_status_does_not_change_rms2005(fusion: FusionStatus) -> None:
    """RMS 2005 stratified by histology, not fusion status."""
    assert epssg_risk(known_case(foxo1_fusion=fusion.value)).details["subgroup"] == "A"


def test_nx_nodes_leave_the_node_criterion_open() -> None:
    f = epssg_risk(known_case(regional_nodes="NX", initial_surgery=BIOPSY))
    assert f.candidates == ["standard", "high"]
    assert f.details["subgroup_candidates"] == ["C", "F"]
    assert f.needs == ["diagnosis.regional_nodes"]


def test_unknown_age_decides_only_between_a_and_b() -> None:
    f = epssg_risk(make_case(**BASELINE))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == ["low", "standard"]
    assert f.needs == ["patient.age_at_diagnosis_days"]


def test_very_high_risk_notes_the_broader_abstract_wording() -> None:
    f = epssg_risk(t_case("T5"))
    assert "Bisogno 2019" in f.details["evidence_gap"]
    assert "gallego_2021" in f.citations


T_EPSSG = {
    "T1": ("low", "A"),
    "T2": ("standard", "C"),
    "T3": ("standard", "D"),
    "T4": ("high", "E"),
    "T5": ("very_high", "H"),
    "T6": ("standard", "D"),
}


@pytest.mark.parametrize(("name", "expected"), sorted(T_EPSSG.items()))
def test_constructed_cases(name: str, expected: tuple[str, str]) -> None:
    """scoring-gaps-resolved.md, 'Effect on the earlier file's constructed test cases'."""
    f = epssg_risk(t_case(name))
    assert (f.value, f.details["subgroup"]) == expected


@pytest.mark.parametrize("name", ["T7", "T8"])
def test_constructed_metastatic_cases_not_applicable(name: str) -> None:
    assert epssg_risk(t_case(name)).status is FindingStatus.NOT_APPLICABLE


# ------------------------------------------------------------------ properties


@st.composite
def full_case(draw: st.DrawFn) -> dict[str, Any]:
    nodes = draw(st.sampled_from(list(NodalStatus)))
    involved = {NodalStatus.N0: False, NodalStatus.N1: True}.get(nodes, draw(st.booleans()))
    return {
        "age_days": draw(st.integers(min_value=0, max_value=years(25))),
        "primary_site": draw(st.sampled_from(list(PrimarySite))).value,
        "histology": draw(st.sampled_from(list(Histology))).value,
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
    "max_diameter_cm",
    "regional_nodes",
    "distant_metastases",
    "initial_surgery",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(full_case(), st.sets(st.sampled_from(REMOVABLE)))
def test_filling_in_fields_gives_earlier_candidates(
    full: dict[str, Any], removed: set[str]
) -> None:
    partial = {k: v for k, v in full.items() if k not in removed}
    assert outcomes(epssg_risk(make_case(**full))) <= outcomes(epssg_risk(make_case(**partial)))


@pytest.mark.parametrize("favourable_pathology", [True, False])
@pytest.mark.parametrize("group", ["I", "II", "III"])
@pytest.mark.parametrize("favourable_site", [True, False])
@pytest.mark.parametrize("node_positive", [True, False])
@pytest.mark.parametrize("favourable_size_and_age", [True, False])
def test_subgroup_table_is_total(
    favourable_pathology: bool,
    group: str,
    favourable_site: bool,
    node_positive: bool,
    favourable_size_and_age: bool,
) -> None:
    """The ordering of scoring-gaps-resolved.md 1c places every non-metastatic combination."""
    row = epssg_subgroup_from(
        favourable_pathology=favourable_pathology,
        group=group,
        favourable_site=favourable_site,
        node_positive=node_positive,
        favourable_size_and_age=favourable_size_and_age,
    )
    assert row is not None
    if not favourable_pathology:
        assert row.subgroup == ("H" if node_positive else "G")
    elif node_positive:
        assert row.subgroup == "F"


def test_group_and_node_involvement_are_kept_consistent() -> None:
    """IA/IB/IIA have free nodes and IIB/IIC involved ones, so group II with N0 is not offered."""
    f = epssg_risk(
        known_case(
            regional_nodes="NX",
            initial_surgery=surgery("complete", confined_to_site_of_origin=True),
        )
    )
    assert f.candidates == ["low", "high"]
    assert f.details["subgroup_candidates"] == ["A", "F"]
    assert "diagnosis.initial_surgery.regional_nodes_involved_pathologically" in f.needs
