"""Cumulative chemotherapy doses: conversions, thresholds on both sides, missing weight/BSA."""

from __future__ import annotations

import pytest
from exposure_helpers import findings_of, make_case

from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.exposure.cumulative import dose_to_mg_m2
from rhabdo.exposure.findings import (
    ANTHRACYCLINES,
    amount_text,
    as_lower_bound,
    finding_id_for_agent,
)
from rhabdo.knowledge.treatment import ThresholdKind, dose_thresholds
from rhabdo.results import FindingStatus

# unit -> (amount, weight kg, BSA m2, expected mg/m2)
CONVERSIONS = [
    (DoseUnit.MG_M2, 10.0, None, None, 10.0),
    (DoseUnit.G_M2, 3.0, None, None, 3000.0),
    (DoseUnit.MCG_M2, 500.0, None, None, 0.5),
    (DoseUnit.MG_KG, 2.0, 30.0, 1.2, 50.0),  # 2 mg/kg x 30 kg = 60 mg / 1.2 m2
    (DoseUnit.MCG_KG, 45.0, 20.0, 0.8, 1.125),  # 45 mcg/kg x 20 kg = 0.9 mg / 0.8 m2
    (DoseUnit.MG, 60.0, None, 1.2, 50.0),
    (DoseUnit.G, 1.2, None, 0.8, 1500.0),
    (DoseUnit.MCG, 900.0, None, 0.9, 1.0),
]


@pytest.mark.parametrize(("unit", "amount", "weight", "bsa", "expected"), CONVERSIONS)
def test_every_unit_converts(
    unit: DoseUnit, amount: float, weight: float | None, bsa: float | None, expected: float
) -> None:
    value, missing = dose_to_mg_m2(amount, unit, weight, bsa)
    assert missing == []
    assert value == pytest.approx(expected)


def test_conversion_table_covers_every_unit() -> None:
    assert {row[0] for row in CONVERSIONS} == set(DoseUnit)


@pytest.mark.parametrize(
    ("unit", "weight", "bsa", "missing"),
    [
        (DoseUnit.MG_KG, None, 1.0, ["weight_kg"]),
        (DoseUnit.MG_KG, 30.0, None, ["body_surface_area_m2"]),
        (DoseUnit.MCG_KG, None, None, ["weight_kg", "body_surface_area_m2"]),
        (DoseUnit.MG, 30.0, None, ["body_surface_area_m2"]),
        (DoseUnit.G, None, None, ["body_surface_area_m2"]),
        (DoseUnit.MCG, None, None, ["body_surface_area_m2"]),
    ],
)
def test_missing_weight_or_bsa_gives_no_number(
    unit: DoseUnit, weight: float | None, bsa: float | None, missing: list[str]
) -> None:
    value, needs = dose_to_mg_m2(1.0, unit, weight, bsa)
    assert value is None
    assert needs == missing


def test_weight_based_dose_without_bsa_is_indeterminate_naming_the_field() -> None:
    case = make_case(
        [
            {
                "agent": "dactinomycin",
                "dose_per_administration": 0.045,
                "dose_unit": "mg/kg",
                "administrations": 4,
            }
        ],
        bsa_m2=None,
    )
    f = findings_of(case)["exposure.dactinomycin"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["first_line.body_surface_area_m2"]


@pytest.mark.parametrize(
    "agent", [a for a in ChemotherapyAgent if a is not ChemotherapyAgent.OTHER]
)
def test_every_agent_gets_its_cumulative_finding(agent: ChemotherapyAgent) -> None:
    case = make_case(
        [
            {
                "agent": agent.value,
                "dose_per_administration": 2,
                "dose_unit": "mg/m2",
                "administrations": 3,
            }
        ]
    )
    f = findings_of(case)[f"exposure.{agent.value}"]
    assert f.status is FindingStatus.DETERMINED
    assert f.value == 6.0
    assert f.inputs_used == ["first_line.chemotherapy[0]"]


def test_other_agent_is_kept_apart_by_name() -> None:
    case = make_case(
        [
            {
                "agent": "other",
                "agent_name": "Vinca X-1",
                "cumulative_dose": 5,
                "cumulative_dose_unit": "mg/m2",
            },
            {
                "agent": "other",
                "agent_name": "Drug Y",
                "cumulative_dose": 7,
                "cumulative_dose_unit": "mg/m2",
            },
        ]
    )
    fs = findings_of(case)
    assert fs[finding_id_for_agent("other:vinca x-1")].value == 5.0
    assert fs["exposure.other.drug_y"].value == 7.0
    assert fs["exposure.agents_given"].value == ["other:vinca x-1", "other:drug y"]


def test_doses_sum_across_lines_and_stated_cumulative_wins() -> None:
    case = make_case(
        [
            {
                "agent": "cyclophosphamide",
                "cumulative_dose": 4.2,
                "cumulative_dose_unit": "g/m2",
                "dose_per_administration": 1,
                "dose_unit": "mg/m2",
                "administrations": 1,
            }
        ],
        later_lines=[
            {
                "body_surface_area_m2": 1.5,
                "chemotherapy": [
                    {
                        "agent": "cyclophosphamide",
                        "cumulative_dose": 1500,
                        "cumulative_dose_unit": "mg",
                    }
                ],
            }
        ],
    )
    f = findings_of(case)["exposure.cyclophosphamide"]
    assert f.value == 5200.0  # 4,200 + 1,500 mg / 1.5 m2
    assert f.inputs_used == ["first_line.chemotherapy[0]", "later_lines[0].chemotherapy[0]"]


def test_unknown_dose_is_never_zero() -> None:
    case = make_case(
        [
            {"agent": "ifosfamide"},
            {"agent": "ifosfamide", "cumulative_dose": 54, "cumulative_dose_unit": "g/m2"},
        ]
    )
    f = findings_of(case)["exposure.ifosfamide"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [{"at_least_mg_m2": 54000.0}]
    assert "first_line.chemotherapy[0].cumulative_dose" in f.needs


def test_count_missing_names_administrations() -> None:
    case = make_case(
        [{"agent": "vincristine", "dose_per_administration": 1.5, "dose_unit": "mg/m2"}]
    )
    f = findings_of(case)["exposure.vincristine"]
    assert f.status is FindingStatus.INDETERMINATE
    assert "first_line.chemotherapy[0].administrations" in f.needs


def test_no_treatment_history_is_indeterminate_not_zero() -> None:
    fs = findings_of(make_case(first_line=False))
    for fid in (
        "exposure.agents_given",
        "exposure.ifosfamide",
        "exposure.anthracycline_doxorubicin_equivalent",
        "exposure.ced",
        "exposure.radiation",
        "exposure.chest_radiation",
    ):
        assert fs[fid].status is FindingStatus.INDETERMINATE, fid
        assert fs[fid].needs == ["first_line"]


def test_ifosfamide_zero_when_known_not_given() -> None:
    f = findings_of(
        make_case(
            [{"agent": "vincristine", "cumulative_dose": 12, "cumulative_dose_unit": "mg/m2"}]
        )
    )["exposure.ifosfamide"]
    assert f.status is FindingStatus.DETERMINED and f.value == 0.0
    assert f.details["thresholds_reached"] == []


@pytest.mark.parametrize(
    ("g_m2", "reached"),
    [
        # Skinner 2000 (<84 reduces risk; >119 very high risk), Skinner 1996 (avoid >=100)
        (83.9, []),
        (84.0, ["ifosfamide.renal_reduce"]),
        (99.9, ["ifosfamide.renal_reduce"]),
        (100.0, ["ifosfamide.renal_reduce", "ifosfamide.renal_avoid"]),
        (119.0, ["ifosfamide.renal_reduce", "ifosfamide.renal_avoid"]),
        (
            119.5,
            ["ifosfamide.renal_reduce", "ifosfamide.renal_avoid", "ifosfamide.renal_very_high"],
        ),
    ],
)
def test_ifosfamide_renal_thresholds_both_sides(g_m2: float, reached: list[str]) -> None:
    case = make_case(
        [{"agent": "ifosfamide", "cumulative_dose": g_m2, "cumulative_dose_unit": "g/m2"}]
    )
    f = findings_of(case)["exposure.ifosfamide"]
    assert f.details["cumulative_g_m2"] == g_m2
    assert f.details["thresholds_reached"] == reached
    assert set(f.citations) == {"skinner_1996", "skinner_2000"}


#: Every anthracycline the case vocabulary allows and what the current IGHG recommendation
#: (Kouwenberg 2025, JACC CardioOncol, abstract) says: daunorubicin about 0.6, mitoxantrone 10.5
#: (ratios from Feijen 2019); no recommendation for epirubicin or idarubicin (inconclusive).
IGHG_RATIOS: dict[str, float | None] = {
    "doxorubicin": 1.0,
    "daunorubicin": 0.6,
    "mitoxantrone": 10.5,
    "epirubicin": None,
    "idarubicin": None,
}


def test_every_anthracycline_of_the_vocabulary_has_an_ighg_row() -> None:
    assert set(IGHG_RATIOS) == {a.value for a in ANTHRACYCLINES}
    by_agent = {
        t.agent.value: t
        for t in dose_thresholds()
        if t.kind is ThresholdKind.ANTHRACYCLINE_EQUIVALENCE and t.agent is not None
    }
    assert set(by_agent) == set(IGHG_RATIOS)
    for agent, ratio in IGHG_RATIOS.items():
        entry = by_agent[agent]
        assert "kouwenberg_2025" in entry.citations
        if ratio is None:
            # no default ratio: an unverified row with the gap stated, and no factor at all
            assert entry.verified is False and entry.factor is None and entry.evidence_gap
        else:
            assert entry.verified and entry.factor == ratio


@pytest.mark.parametrize(
    ("agent", "mg_m2", "expected"),
    [
        ("doxorubicin", 240, 240.0),  # reference agent
        ("daunorubicin", 100, 60.0),  # Kouwenberg 2025 (IGHG) / Feijen 2019: ratio 0.6
        ("mitoxantrone", 10, 105.0),  # Kouwenberg 2025 (IGHG) / Feijen 2019: ratio 10.5
    ],
)
def test_doxorubicin_equivalent_ratios(agent: str, mg_m2: float, expected: float) -> None:
    case = make_case([{"agent": agent, "cumulative_dose": mg_m2, "cumulative_dose_unit": "mg/m2"}])
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert f.status is FindingStatus.DETERMINED
    assert f.value == pytest.approx(expected)
    assert f.details["lower_bound"] is False
    assert "kouwenberg_2025" in f.citations


@pytest.mark.parametrize("agent", ["epirubicin", "idarubicin"])
@pytest.mark.parametrize("with_doxorubicin", [0.0, 200.0])
def test_an_anthracycline_without_an_ighg_ratio_makes_the_total_a_lower_bound(
    agent: str, with_doxorubicin: float
) -> None:
    """IGHG 2025 makes no recommendation for epirubicin or idarubicin: never a default ratio,
    never a determined total; the bound and the unconverted agent are in the same line."""
    chemo = [{"agent": agent, "cumulative_dose": 30, "cumulative_dose_unit": "mg/m2"}]
    if with_doxorubicin:
        chemo.insert(
            0,
            {
                "agent": "doxorubicin",
                "cumulative_dose": with_doxorubicin,
                "cumulative_dose_unit": "mg/m2",
            },
        )
    f = findings_of(make_case(chemo))["exposure.anthracycline_doxorubicin_equivalent"]
    assert f.status is FindingStatus.INDETERMINATE
    # a bound of 0 says nothing: no candidate, "not known" (never "at least 0")
    assert f.candidates == ([{"at_least_mg_m2": with_doxorubicin}] if with_doxorubicin else [])
    assert f.needs == [f"knowledge.dose_thresholds.anthracycline.{agent}"]
    assert f.details["lower_bound"] is True
    assert f.details["unconverted_agents"] == [agent]
    assert f.details["unconverted_totals_mg_m2"] == {agent: 30.0}
    assert agent in f.details["evidence_gaps"]
    if with_doxorubicin:
        assert f"at least {with_doxorubicin:g} mg/m2" in f.reason
    else:
        assert "is not known" in f.reason and "at least 0" not in f.reason
    assert f"{agent} 30 mg/m2 not converted" in f.reason
    assert "true total is higher" in f.reason


def test_an_unconverted_anthracycline_is_knowledge_missing_not_a_case_field() -> None:
    from rhabdo.engine import KNOWLEDGE_NEED

    case = make_case(
        [{"agent": "idarubicin", "cumulative_dose": 30, "cumulative_dose_unit": "mg/m2"}]
    )
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert all(n.startswith(KNOWLEDGE_NEED) for n in f.needs)


def test_a_lower_bound_is_read_as_reached_thresholds_by_the_checks() -> None:
    """``as_lower_bound``: the bound reaches 250 mg/m2, so the high-exposure threshold counts."""
    case = make_case(
        [
            {"agent": "doxorubicin", "cumulative_dose": 260, "cumulative_dose_unit": "mg/m2"},
            {"agent": "idarubicin", "cumulative_dose": 10, "cumulative_dose_unit": "mg/m2"},
        ]
    )
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    bound = as_lower_bound(f)
    assert bound is not None and bound.status is FindingStatus.DETERMINED
    assert bound.value == 260.0 and bound.details["lower_bound"] is True


def test_an_unknown_dose_is_not_read_as_a_lower_bound() -> None:
    case = make_case(
        [
            {"agent": "doxorubicin"},
            {"agent": "idarubicin", "cumulative_dose": 10, "cumulative_dose_unit": "mg/m2"},
        ]
    )
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert "first_line.chemotherapy[0].cumulative_dose" in f.needs
    assert as_lower_bound(f) is f


@pytest.mark.parametrize(
    ("dox", "reached"),
    [
        (99.0, []),  # Armenian 2015 (IGHG): <100 mg/m2
        (100.0, ["anthracycline.surveillance_reasonable"]),
        (249.0, ["anthracycline.surveillance_reasonable"]),
        (250.0, ["anthracycline.surveillance_reasonable", "anthracycline.high_exposure"]),
    ],
)
def test_anthracycline_thresholds_both_sides(dox: float, reached: list[str]) -> None:
    case = make_case(
        [{"agent": "doxorubicin", "cumulative_dose": dox, "cumulative_dose_unit": "mg/m2"}]
    )
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert f.details["thresholds_reached"] == reached


def test_anthracyclines_add_up() -> None:
    case = make_case(
        [
            {"agent": "doxorubicin", "cumulative_dose": 150, "cumulative_dose_unit": "mg/m2"},
            {"agent": "daunorubicin", "cumulative_dose": 100, "cumulative_dose_unit": "mg/m2"},
        ]
    )
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert f.value == pytest.approx(210.0)


def test_anthracycline_unknown_dose_is_indeterminate() -> None:
    case = make_case([{"agent": "doxorubicin"}])
    f = findings_of(case)["exposure.anthracycline_doxorubicin_equivalent"]
    assert f.status is FindingStatus.INDETERMINATE
    assert "first_line.chemotherapy[0].cumulative_dose" in f.needs


@pytest.mark.parametrize(
    ("cyclo_mg_m2", "reached"),
    [(3999.0, []), (4000.0, ["ced.gonadal_normospermia"])],  # Green 2014: 89% normospermic < 4,000
)
def test_ced_cyclophosphamide_only(cyclo_mg_m2: float, reached: list[str]) -> None:
    case = make_case(
        [
            {
                "agent": "cyclophosphamide",
                "cumulative_dose": cyclo_mg_m2,
                "cumulative_dose_unit": "mg/m2",
            }
        ]
    )
    f = findings_of(case)["exposure.ced"]
    assert f.status is FindingStatus.DETERMINED
    assert f.value == cyclo_mg_m2
    assert f.details["lower_bound"] is False
    assert f.details["thresholds_reached"] == reached


def test_ced_with_unverified_coefficients_is_a_lower_bound() -> None:
    case = make_case(
        [
            {"agent": "cyclophosphamide", "cumulative_dose": 4200, "cumulative_dose_unit": "mg/m2"},
            {"agent": "ifosfamide", "cumulative_dose": 54, "cumulative_dose_unit": "g/m2"},
        ]
    )
    f = findings_of(case)["exposure.ced"]
    # issue 14: a lower bound is not a determined value; the unconverted agent and its total
    # are in the same line, and "CED 0" is never shown with ifosfamide given
    assert f.status is FindingStatus.INDETERMINATE
    assert f.value is None
    assert f.candidates == [{"at_least_mg_m2": 4200.0}]
    assert f.reason.startswith(
        "CED \u2265 4,200 mg/m2 from cyclophosphamide; ifosfamide 54 g/m2 not converted"
    )
    assert f.details["lower_bound"] is True
    assert f.details["unconverted_alkylators"] == ["ifosfamide"]
    assert f.details["unconverted_totals_mg_m2"] == {"ifosfamide": 54000.0}


@pytest.mark.parametrize(
    "agent", ["ifosfamide", "melphalan", "busulfan", "thiotepa", "temozolomide"]
)
def test_ced_never_reads_zero_with_another_alkylator_given(agent: str) -> None:
    case = make_case([{"agent": agent, "cumulative_dose": 54, "cumulative_dose_unit": "g/m2"}])
    f = findings_of(case)["exposure.ced"]
    assert f.status is FindingStatus.INDETERMINATE
    assert "CED 0" not in f.reason and f"{agent} " in f.reason and "not converted" in f.reason
    assert f.needs == ["knowledge.dose_thresholds.ced.other_alkylators"]


def test_ced_knowledge_need_is_not_a_missing_case_field() -> None:
    from rhabdo.engine import missing_inputs

    case = make_case(
        [{"agent": "ifosfamide", "cumulative_dose": 54, "cumulative_dose_unit": "g/m2"}]
    )
    fields = [m.field for m in missing_inputs(findings_of(case))]
    assert not any(f.startswith("knowledge.") for f in fields)


def test_ced_no_alkylator() -> None:
    case = make_case(
        [{"agent": "vincristine", "cumulative_dose": 10, "cumulative_dose_unit": "mg/m2"}]
    )
    f = findings_of(case)["exposure.ced"]
    assert f.value == 0.0
    assert "No alkylating agent" in f.reason


def test_every_finding_has_a_reason_and_resolving_citations() -> None:
    from rhabdo.knowledge import resolve

    case = make_case(
        [
            {"agent": a.value, "cumulative_dose": 1, "cumulative_dose_unit": "mg/m2"}
            for a in ChemotherapyAgent
            if a is not ChemotherapyAgent.OTHER
        ]
    )
    for f in findings_of(case).values():
        assert f.reason.strip()
        assert f.rule.startswith(("exposure.", "late_effects."))
        for key in f.citations:
            resolve(key)


def test_every_unconverted_anthracycline_need_is_labelled_as_an_evidence_gap() -> None:
    from rhabdo.exposure.findings import ANTHRACYCLINE_FACTOR_NEEDED
    from rhabdo.labels import KNOWLEDGE_NEED_LABELS, field_label

    for agent, ratio in IGHG_RATIOS.items():
        if ratio is None:
            need = ANTHRACYCLINE_FACTOR_NEEDED + agent
            assert need in KNOWLEDGE_NEED_LABELS
            assert agent in field_label(need) and "evidence gap" in field_label(need)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (84.0, "84"),
        (9.6, "9.6"),
        (4545.45, "4,545.4"),
        (249.96, "249.9"),  # cut, never rounded up to a threshold (250) it does not reach
        (12000.0, "12,000"),
    ],
)
def test_amount_text(value: float, text: str) -> None:
    assert amount_text(value) == text


@pytest.mark.parametrize(
    "agent", ["cyclophosphamide", "doxorubicin", "vincristine", "ifosfamide", "idarubicin"]
)
def test_a_given_agent_with_no_countable_dose_is_not_known_never_at_least_zero(agent: str) -> None:
    f_all = findings_of(make_case([{"agent": agent}]))
    for f in f_all.values():
        if f.status is FindingStatus.INDETERMINATE and f.details.get("unit") == "mg/m2":
            assert "at least 0 " not in f.reason and "\u2265 0 " not in f.reason, f.id
            assert {"at_least_mg_m2": 0.0} not in f.candidates, f.id
