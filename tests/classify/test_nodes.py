"""The one derivation of regional nodal status at diagnosis (issue 13 section 7).

Sources: PDQ 2025 surgical-pathologic group table after Crane 2022 (IIC = involved most distal
node); scoring-and-staging.md section 1 (N1 = regional nodes clinically involved, for the stage);
EpSSG RMS 2005 (Bisogno 2019; PDQ 2025): embryonal RMS with nodal involvement is high risk.
"""

from __future__ import annotations

from typing import Any

import pytest
from classify_case_builder import UNSET, known_case, surgery

from rhabdo.case.io import parse_case
from rhabdo.classify.group import clinical_group
from rhabdo.classify.nodes import (
    CLINICAL_FIELD,
    PATHOLOGY_FIELD,
    NodalBasis,
    clinical_n_category,
    regional_nodes_at_diagnosis,
)
from rhabdo.classify.risk_epssg import epssg_risk
from rhabdo.classify.stage import pretreatment_stage
from rhabdo.errors import CaseValidationError
from rhabdo.prognosis._subgroups import irs_group_i
from rhabdo.prognosis.relapse_models import nodal_involvement


@pytest.mark.parametrize(
    ("clinical", "surgery_fields", "involved", "basis"),
    [
        # most distal node involved decides, whatever the clinical N
        ("N0", {"most_distal_node_involved": True}, True, NodalBasis.MOST_DISTAL_NODE),
        ("NX", {"most_distal_node_involved": True}, True, NodalBasis.MOST_DISTAL_NODE),
        (
            UNSET,
            {"most_distal_node_involved": True, "regional_nodes_involved_pathologically": True},
            True,
            NodalBasis.MOST_DISTAL_NODE,
        ),
        # pathology beats the clinical category
        ("N1", {"regional_nodes_involved_pathologically": False}, False, NodalBasis.PATHOLOGY),
        ("N0", {"regional_nodes_involved_pathologically": True}, True, NodalBasis.PATHOLOGY),
        (
            "N0",
            {"most_distal_node_involved": False, "regional_nodes_involved_pathologically": False},
            False,
            NodalBasis.PATHOLOGY,
        ),
        # clinical category when no pathology
        ("N1", {}, True, NodalBasis.CLINICAL),
        ("N0", {}, False, NodalBasis.CLINICAL),
        ("N0", {"most_distal_node_involved": False}, False, NodalBasis.CLINICAL),
        # unknown is never "not involved"
        ("NX", {}, None, NodalBasis.UNKNOWN),
        (UNSET, {}, None, NodalBasis.UNKNOWN),
    ],
)
def test_every_row_of_the_nodal_derivation(
    clinical: Any, surgery_fields: dict[str, Any], involved: bool | None, basis: NodalBasis
) -> None:
    case = known_case(
        regional_nodes=clinical, initial_surgery=surgery("complete", **surgery_fields)
    )
    nodes = regional_nodes_at_diagnosis(case)
    assert nodes.involved is involved
    assert nodes.basis is basis
    assert nodal_involvement(case) is involved  # the relapse models read the same derivation
    if involved is None:
        assert nodes.needs == (CLINICAL_FIELD, PATHOLOGY_FIELD)
        assert nodes.as_input().values == (False, True)
    else:
        assert nodes.needs == ()
        assert nodes.as_input().values == (involved,)


def test_unknown_nodes_after_biopsy_ask_only_for_the_clinical_category() -> None:
    nodes = regional_nodes_at_diagnosis(
        known_case(regional_nodes="NX", initial_surgery=surgery("biopsy_only"))
    )
    assert nodes.needs == (CLINICAL_FIELD,)


def test_most_distal_node_involved_contradicting_pathology_is_rejected() -> None:
    with pytest.raises(CaseValidationError, match="most_distal_node_involved"):
        parse_case(
            {
                "patient": {"id": "syn"},
                "diagnosis": {
                    "initial_surgery": {
                        "result": "complete",
                        "regional_nodes_involved_pathologically": False,
                        "most_distal_node_involved": True,
                    }
                },
            }
        )


DISTAL_IIC = surgery("complete", confined_to_site_of_origin=True, most_distal_node_involved=True)


def test_involved_most_distal_node_is_iic_and_high_epssg_risk() -> None:
    """The defect of issue 13: group IIC but EpSSG read N0 and said standard risk.
    EpSSG RMS 2005 subgroup F: favourable pathology with nodal involvement -> high risk."""
    case = known_case(
        primary_site="trunk", regional_nodes="N0", initial_surgery=DISTAL_IIC, max_diameter_cm=4.0
    )
    assert clinical_group(case).value == "IIC"
    f = epssg_risk(case)
    assert f.value == "high"
    assert f.details["subgroup"] == "F"


def test_same_case_with_free_nodes_is_standard_risk() -> None:
    """Other side of the boundary: nodes free on pathology (IIA after microscopic residual)."""
    case = known_case(
        primary_site="trunk",
        regional_nodes="N0",
        max_diameter_cm=4.0,
        initial_surgery=surgery(
            "microscopic_residual", regional_nodes_involved_pathologically=False
        ),
    )
    assert clinical_group(case).value == "IIA"
    assert epssg_risk(case).value != "high"


def test_stage_reads_the_clinical_category() -> None:
    """The TNM stage is defined on the clinical N category (N1 = clinically involved)."""
    case = known_case(
        primary_site="trunk", regional_nodes="N0", initial_surgery=DISTAL_IIC, max_diameter_cm=4.0
    )
    assert clinical_n_category(case).values[0].value == "N0"
    assert pretreatment_stage(case).value == 2


@pytest.mark.parametrize(
    ("surgery_fields", "expected"),
    [
        ({"regional_nodes_involved_pathologically": False}, True),
        ({"most_distal_node_involved": True}, False),
        ({"regional_nodes_involved_pathologically": True}, False),
    ],
)
def test_irs_group_i_reads_the_shared_derivation(
    surgery_fields: dict[str, Any], expected: bool
) -> None:
    case = known_case(
        regional_nodes=UNSET,
        initial_surgery=surgery("complete", confined_to_site_of_origin=True, **surgery_fields),
    )
    assert irs_group_i(case) is expected
