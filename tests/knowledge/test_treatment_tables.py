"""The treatment tables hold the published numbers, as published (source beside each value)."""

from __future__ import annotations

import pytest

from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.knowledge.treatment import (
    EvidenceLevel,
    OutcomeMeasure,
    RegimenSetting,
    ThresholdConcern,
    ThresholdKind,
    biomarkers,
    dose_thresholds,
    regimens,
)

# (regimen id, agent, dose, unit, administrations per cycle, source)
REGIMEN_DOSES = [
    ("vit", ChemotherapyAgent.VINCRISTINE, 1.5, DoseUnit.MG_M2, 2, "Defachelles 2021 JCO"),
    ("vit", ChemotherapyAgent.IRINOTECAN, 50, DoseUnit.MG_M2, 5, "Defachelles 2021 JCO"),
    ("vit", ChemotherapyAgent.TEMOZOLOMIDE, 125, DoseUnit.MG_M2, 5, "Defachelles 2021 JCO"),
    ("vi", ChemotherapyAgent.IRINOTECAN, 50, DoseUnit.MG_M2, 10, "Mascarenhas 2010 JCO, 1B"),
    ("vi", ChemotherapyAgent.VINCRISTINE, 1.5, DoseUnit.MG_M2, 4, "Mascarenhas 2010 JCO"),
    (
        "vc_temsirolimus",
        ChemotherapyAgent.VINORELBINE,
        25,
        DoseUnit.MG_M2,
        2,
        "Mascarenhas 2019 JCO",
    ),
    (
        "vc_temsirolimus",
        ChemotherapyAgent.CYCLOPHOSPHAMIDE,
        1.2,
        DoseUnit.G_M2,
        1,
        "Mascarenhas 2019",
    ),
    ("vc_temsirolimus", ChemotherapyAgent.TEMSIROLIMUS, 15, DoseUnit.MG_M2, 3, "Mascarenhas 2019"),
    ("vc_bevacizumab", ChemotherapyAgent.BEVACIZUMAB, 15, DoseUnit.MG_KG, 1, "Mascarenhas 2019"),
    (
        "vinorelbine_oral_cyclophosphamide",
        ChemotherapyAgent.VINORELBINE,
        25,
        DoseUnit.MG_M2,
        3,
        "Minard-Colin 2012",
    ),
    (
        "vinorelbine_oral_cyclophosphamide",
        ChemotherapyAgent.CYCLOPHOSPHAMIDE,
        25,
        DoseUnit.MG_M2,
        28,
        "Minard-Colin 2012",
    ),
    (
        "topotecan_cyclophosphamide",
        ChemotherapyAgent.CYCLOPHOSPHAMIDE,
        250,
        DoseUnit.MG_M2,
        5,
        "Saylors 2001 JCO",
    ),
    (
        "topotecan_cyclophosphamide",
        ChemotherapyAgent.TOPOTECAN,
        0.75,
        DoseUnit.MG_M2,
        5,
        "Saylors 2001",
    ),
    ("ice", ChemotherapyAgent.IFOSFAMIDE, 1800, DoseUnit.MG_M2, 5, "Van Winkle 2005 PBC"),
    ("ice", ChemotherapyAgent.CARBOPLATIN, 400, DoseUnit.MG_M2, 2, "Van Winkle 2005 PBC"),
    ("ice", ChemotherapyAgent.ETOPOSIDE, 100, DoseUnit.MG_M2, 5, "Van Winkle 2005 PBC"),
    (
        "ivado_iva_maintenance",
        ChemotherapyAgent.IFOSFAMIDE,
        3,
        DoseUnit.G_M2,
        2,
        "Schoot 2022 (preprint)",
    ),
    ("ivado_iva_maintenance", ChemotherapyAgent.DOXORUBICIN, 30, DoseUnit.MG_M2, 2, "Schoot 2022"),
    (
        "maintenance_vinorelbine_cyclophosphamide",
        ChemotherapyAgent.VINORELBINE,
        25,
        DoseUnit.MG_M2,
        3,
        "Bisogno 2019 Lancet Oncol",
    ),
    (
        "maintenance_vinorelbine_cyclophosphamide",
        ChemotherapyAgent.CYCLOPHOSPHAMIDE,
        25,
        DoseUnit.MG_M2,
        28,
        "Bisogno 2019 Lancet Oncol",
    ),
]


@pytest.mark.parametrize(
    ("regimen_id", "agent", "dose", "unit", "per_cycle", "source"), REGIMEN_DOSES
)
def test_regimen_doses(
    regimen_id: str,
    agent: ChemotherapyAgent,
    dose: float,
    unit: DoseUnit,
    per_cycle: int,
    source: str,
) -> None:
    [row] = [a for a in regimens()[regimen_id].agents if a.agent is agent]
    assert (row.dose, row.dose_unit, row.administrations_per_cycle) == (dose, unit, per_cycle), (
        source
    )


def test_ice_cycle_adds_9_g_m2_ifosfamide() -> None:
    """1,800 mg/m2/day x 5 days = 9 g/m2 per cycle (treatment-and-evidence.md 5b, derived)."""
    [ifo] = [a for a in regimens()["ice"].agents if a.agent is ChemotherapyAgent.IFOSFAMIDE]
    assert ifo.dose_per_cycle_mg_m2 == 9000


def test_ivado_four_cycles_give_240_mg_m2_doxorubicin() -> None:
    """30 mg/m2 x 2 days x 4 IVADo cycles = 240 mg/m2 (treatment-and-evidence.md 5a, derived)."""
    [dox] = [
        a
        for a in regimens()["ivado_iva_maintenance"].agents
        if a.agent is ChemotherapyAgent.DOXORUBICIN
    ]
    assert dox.dose_per_cycle_mg_m2 is not None
    assert dox.dose_per_cycle_mg_m2 * 4 == 240


# (regimen, measure, group contains, percent or months, years, source)
OUTCOMES = [
    (
        "vit",
        OutcomeMeasure.OBJECTIVE_RESPONSE,
        "VIT, relapsed",
        44,
        None,
        "Defachelles 2021: 24/55",
    ),
    ("vit", OutcomeMeasure.OBJECTIVE_RESPONSE, "VI, relapsed", 31, None, "Defachelles 2021: 18/58"),
    ("vit", OutcomeMeasure.MEDIAN_OS, "VIT", 15.0, None, "Defachelles, ASCO 2019"),
    ("vi", OutcomeMeasure.OBJECTIVE_RESPONSE, "schedule 1B", 37, None, "Mascarenhas 2010"),
    ("vi", OutcomeMeasure.OS, "schedule 1B", 60, 1, "Mascarenhas 2010"),
    ("vc_temsirolimus", OutcomeMeasure.EFS, "temsirolimus", 69.1, 0.5, "Mascarenhas 2019"),
    ("vc_bevacizumab", OutcomeMeasure.EFS, "bevacizumab", 54.6, 0.5, "Mascarenhas 2019"),
    (
        "vinorelbine_oral_cyclophosphamide",
        OutcomeMeasure.BEST_RESPONSE,
        "RMS",
        36,
        None,
        "Minard-Colin 2012",
    ),
    ("ice", OutcomeMeasure.OS, "embryonal RMS", 82, 1, "Van Winkle 2005"),
    ("ivado_iva_maintenance", OutcomeMeasure.EFS, "all MTS 2008", 34.9, 3, "Schoot 2022"),
    ("ivado_iva_maintenance", OutcomeMeasure.OS, "Oberlin >=3", 26.0, 3, "Schoot 2022"),
    ("arst0431", OutcomeMeasure.EFS, "Oberlin 0-1", 69, 3, "Weigel 2016"),
    ("arst0431", OutcomeMeasure.EFS, "Oberlin >=2", 20, 3, "Weigel 2016"),
    (
        "maintenance_vinorelbine_cyclophosphamide",
        OutcomeMeasure.OS,
        "maintenance",
        86.5,
        5,
        "Bisogno 2019",
    ),
]


@pytest.mark.parametrize(("regimen_id", "measure", "group", "value", "years", "source"), OUTCOMES)
def test_published_outcomes(
    regimen_id: str,
    measure: OutcomeMeasure,
    group: str,
    value: float,
    years: float | None,
    source: str,
) -> None:
    found = [
        o
        for t in regimens()[regimen_id].trials
        for o in t.outcomes
        if o.measure is measure and group in o.group and o.time_point_years == years
    ]
    assert found, source
    assert (found[0].percent if found[0].percent is not None else found[0].months) == value, source


def test_regimen_settings_and_order() -> None:
    table = regimens()
    relapse = [r.id for r in table if r.setting is RegimenSetting.RELAPSE and r.offered_for_relapse]
    assert relapse[:3] == ["vit", "vi", "vc_temsirolimus"]
    assert table["hdct_autologous_rescue"].offered_for_relapse is False
    assert table["gemcitabine_docetaxel"].evidence_level is EvidenceLevel.NO_RMS_DATA
    assert not table["gemcitabine_docetaxel"].verified


@pytest.mark.parametrize("level", list(EvidenceLevel))
def test_every_evidence_level_has_a_label_and_rank(level: EvidenceLevel) -> None:
    assert level.label
    assert 0 <= level.rank < len(EvidenceLevel)


# (threshold id, kind, factor or at_least, concern, source)
THRESHOLDS = [
    ("anthracycline.doxorubicin", ThresholdKind.ANTHRACYCLINE_EQUIVALENCE, 1.0, None, "reference"),
    (
        "anthracycline.daunorubicin",
        ThresholdKind.ANTHRACYCLINE_EQUIVALENCE,
        0.6,
        None,
        "Kouwenberg 2025 (IGHG) abstract; Feijen 2019 Table 3",
    ),
    (
        "anthracycline.mitoxantrone",
        ThresholdKind.ANTHRACYCLINE_EQUIVALENCE,
        10.5,
        None,
        "Kouwenberg 2025 (IGHG) abstract; Feijen 2019 Table 3",
    ),
    (
        "anthracycline.surveillance_reasonable",
        ThresholdKind.ANTHRACYCLINE_CARDIAC,
        100,
        ThresholdConcern.NOTE,
        "Armenian 2015 (IGHG)",
    ),
    (
        "anthracycline.high_exposure",
        ThresholdKind.ANTHRACYCLINE_CARDIAC,
        250,
        ThresholdConcern.CAUTION,
        "Armenian 2015 (IGHG)",
    ),
    (
        "anthracycline.dexrazoxane",
        ThresholdKind.DEXRAZOXANE,
        300,
        ThresholdConcern.NOTE,
        "Reichardt 2018",
    ),
    (
        "chest_rt.surveillance_may_be_reasonable",
        ThresholdKind.CHEST_RT_CARDIAC,
        15,
        ThresholdConcern.NOTE,
        "Armenian 2015",
    ),
    (
        "chest_rt.surveillance_recommended",
        ThresholdKind.CHEST_RT_CARDIAC,
        35,
        ThresholdConcern.CAUTION,
        "Armenian 2015",
    ),
    (
        "ifosfamide.renal_reduce",
        ThresholdKind.IFOSFAMIDE_RENAL,
        84,
        ThresholdConcern.CAUTION,
        "Skinner 2000",
    ),
    (
        "ifosfamide.renal_avoid",
        ThresholdKind.IFOSFAMIDE_RENAL,
        100,
        ThresholdConcern.AVOID,
        "Skinner 1996",
    ),
    (
        "ifosfamide.renal_very_high",
        ThresholdKind.IFOSFAMIDE_RENAL,
        119,
        ThresholdConcern.AVOID,
        "Skinner 2000",
    ),
    ("ced.cyclophosphamide", ThresholdKind.CED_EQUIVALENCE, 1.0, None, "definition of the CED"),
    (
        "ced.gonadal_normospermia",
        ThresholdKind.CED_GONADAL,
        4000,
        ThresholdConcern.NOTE,
        "Green 2014",
    ),
    # echocardiography intervals: PanCareFollowUp, stated to reflect IGHG 2023 (Ehrhardt 2023)
    *[
        (f"cardiac_surveillance.{name}", kind, at_least, ThresholdConcern.NOTE, "PanCare/IGHG 2023")
        for name, kind, at_least in (
            ("anthracycline_2y", ThresholdKind.CARDIAC_SURVEILLANCE_ANTHRACYCLINE, 250),
            ("anthracycline_5y", ThresholdKind.CARDIAC_SURVEILLANCE_ANTHRACYCLINE, 100),
            ("chest_rt_2y", ThresholdKind.CARDIAC_SURVEILLANCE_CHEST_RT, 30),
            ("chest_rt_5y", ThresholdKind.CARDIAC_SURVEILLANCE_CHEST_RT, 15),
        )
    ],
]


@pytest.mark.parametrize(("entry_id", "kind", "value", "concern", "source"), THRESHOLDS)
def test_dose_thresholds(
    entry_id: str, kind: ThresholdKind, value: float, concern: ThresholdConcern | None, source: str
) -> None:
    t = dose_thresholds()[entry_id]
    assert t.kind is kind and t.verified, source
    if concern is None:
        assert t.factor == value, source
    else:
        assert t.at_least == value and t.concern is concern, source


def test_every_threshold_row_is_in_the_test_table() -> None:
    tested = {row[0] for row in THRESHOLDS}
    for t in dose_thresholds():
        assert t.id in tested or not t.verified, t.id


@pytest.mark.parametrize(
    ("entry_id", "below", "at", "above"),
    [
        ("ifosfamide.renal_reduce", 83.9, True, 84.1),  # Skinner 2000: "< 84 g/m2"
        ("ifosfamide.renal_avoid", 99.9, True, 100.1),  # Skinner 1996: "100 g/m2 or higher"
        ("ifosfamide.renal_very_high", 118.9, False, 119.1),  # Skinner 2000: "> 119 g/m2"
        ("anthracycline.high_exposure", 249.9, True, 250.1),  # IGHG ">= 250"
    ],
)
def test_threshold_boundaries(entry_id: str, below: float, at: bool, above: float) -> None:
    t = dose_thresholds()[entry_id]
    assert t.at_least is not None
    assert not t.reached_by(below)
    assert t.reached_by(t.at_least) is at
    assert t.reached_by(above)


def test_unverified_factors_carry_no_number() -> None:
    # epirubicin and idarubicin: no IGHG recommendation (Kouwenberg 2025, inconclusive evidence)
    for entry_id in (
        "anthracycline.epirubicin",
        "anthracycline.idarubicin",
        "ced.other_alkylators",
    ):
        t = dose_thresholds()[entry_id]
        assert not t.verified and t.evidence_gap
        assert t.factor is None and t.at_least is None


def test_biomarkers_include_negative_results() -> None:
    table = biomarkers()
    ras = table["ras_pathway"]
    assert [t.active for t in ras.targeted] == [False]  # Eckstein 2022: no objective responses
    assert "no objective responses" in ras.targeted[0].result
    mtor = {t.citation: t.active for t in table["mtor_pathway"].targeted}
    assert mtor == {"mascarenhas_2019": True, "gupta_2024": False}  # ARST1431 negative
    assert all(t.active is False for t in table["pd1_checkpoint"].targeted)
    assert not table["cdkn2a_mycn_alk_cdk4"].verified
