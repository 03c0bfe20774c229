"""Systemic-therapy recommendations: options by evidence, exposure checks on both sides of each
threshold, unknown exposure, metastatic protocols by Oberlin score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from recommend_helpers import assert_well_formed, by_id, case, event

from rhabdo.case.io import load_case
from rhabdo.case.model import Case
from rhabdo.exposure import exposure_findings
from rhabdo.knowledge.treatment import RegimenSetting, regimens
from rhabdo.recommend.systemic import (
    CheckStatus,
    check_anthracycline,
    systemic_recommendations,
)
from rhabdo.results import Finding, RecommendationCategory, Strength, determined, indeterminate

ROOT = Path(__file__).resolve().parents[2]


def findings(c: Case, *extra: Finding) -> dict[str, Finding]:
    out = {f.id: f for f in exposure_findings(c)}
    for f in extra:
        out[f.id] = f
    return out


def recs_for(c: Case, *extra: Finding) -> dict[str, Any]:
    recs = systemic_recommendations(c, findings(c, *extra))
    assert_well_formed(recs)
    return by_id(recs)


def with_prior(chemo: list[dict[str, Any]], **extra: Any) -> Case:
    return case(first_line={"chemotherapy": chemo, "body_surface_area_m2": 1.0}, **extra)


def ifosfamide(g_m2: float) -> dict[str, Any]:
    return {"agent": "ifosfamide", "cumulative_dose": g_m2, "cumulative_dose_unit": "g/m2"}


def test_relapse_options_in_order_of_evidence() -> None:
    """Among options that fit equally (none failed: the relapse came 3 months after VA, and no
    relapse regimen is made of VA alone), randomised phase II (VIT, VI, VC+temsirolimus) before
    single-arm and phase I/II data."""
    recs = systemic_recommendations(case(), findings(case()))
    ids = [r.id for r in recs]
    assert ids == [
        "systemic.relapse_overview",
        "systemic.vit",
        "systemic.vi",
        "systemic.vc_temsirolimus",
        "systemic.vinorelbine_oral_cyclophosphamide",
        "systemic.topotecan_cyclophosphamide",
        "systemic.arst0121_multiagent_salvage",
        "systemic.ice",
    ]
    assert all(r.category is RecommendationCategory.SYSTEMIC_THERAPY for r in recs)


def test_overview_says_no_standard_and_lists_unsupported_regimens() -> None:
    overview = recs_for(case())["systemic.relapse_overview"]
    assert overview.strength is Strength.RECOMMENDED
    assert "heske_2021" in overview.citations
    assert {d["regimen"] for d in overview.details["not_offered"]} == {
        "vc_bevacizumab",
        "gemcitabine_docetaxel",
    }
    assert [g.id for g in overview.evidence_gaps] == [
        "gap.care.randomised_evidence_relapse",
        "gap.gemcitabine_docetaxel",
    ]


def test_overview_states_the_randomised_survival_result() -> None:
    """Defachelles 2021 (VIT-0910): longer OS with VIT; HR 0.55, P=0.006 as quoted by PDQ 2025
    (SECONDARY, labelled)."""
    overview = recs_for(case())["systemic.relapse_overview"]
    assert "no regimen has shown" not in overview.reason.lower()
    assert "longer overall survival with VIT" in overview.reason
    assert "0.55" in overview.reason and "P=0.006" in overview.reason
    assert "SECONDARY" in overview.reason
    assert "defachelles_2021" in overview.citations


def test_each_option_carries_its_trial_results() -> None:
    recs = recs_for(case())
    vit = recs["systemic.vit"]
    assert vit.details["trials"][0]["trial"] == "EpSSG/ITCC VIT-0910"
    assert any("44%" in o for o in vit.details["trials"][0]["outcomes"])  # Defachelles 2021
    assert "defachelles_2021" in vit.citations
    assert [g.id for g in vit.evidence_gaps] == ["gap.vit.trial1"]  # ASCO 2019 survival figures


VI_PRIOR = [
    {"agent": "vincristine", "cumulative_dose": 20, "cumulative_dose_unit": "mg/m2"},
    {"agent": "irinotecan", "cumulative_dose": 1500, "cumulative_dose_unit": "mg/m2"},
]


def test_agents_given_without_failure_are_shown_not_penalised() -> None:
    """Relapse 15 months after VI ended (beyond Mattke 2009's 6-month early interval)."""
    c = case(
        first_line={
            "chemotherapy": VI_PRIOR,
            "body_surface_area_m2": 1.0,
            "end_date": "2020-02-01",
        },
        events=[event(date="2021-05-01")],
    )
    vi = recs_for(c)["systemic.vi"]
    assert vi.strength is Strength.CONSIDER
    assert "Already given: irinotecan, vincristine" in vi.reason


@pytest.mark.parametrize(
    ("line", "event_date"),
    [
        ({"ongoing": True, "end_date": None}, "2020-06-01"),  # relapse during the line
        ({"end_date": "2020-10-01"}, "2021-01-11"),  # 3 months after its end (<= 6, Mattke)
        ({"best_response": "progressive_disease"}, "2021-06-01"),  # never responded
    ],
)
def test_a_regimen_the_disease_failed_on_is_avoided(line: dict[str, Any], event_date: str) -> None:
    c = case(
        first_line={"chemotherapy": VI_PRIOR, "body_surface_area_m2": 1.0, **line},
        events=[event(date=event_date)],
    )
    recs = recs_for(c)
    vi = recs["systemic.vi"]
    assert vi.strength is Strength.AVOID
    assert vi.statement.startswith("Do not offer")
    assert "Not offered again" in vi.reason and "mattke_2009" in vi.citations
    # VIT repeats vincristine and irinotecan from the failed line: caution, listed after
    assert recs["systemic.vit"].strength is Strength.CAUTION
    order = list(recs)
    assert order.index("systemic.vi") == len(order) - 1


def test_unclear_failure_is_indeterminate_with_the_fields() -> None:
    c = case(
        first_line={"chemotherapy": VI_PRIOR, "start_date": None, "end_date": None},
    )
    vi = recs_for(c)["systemic.vi"]
    assert vi.strength is Strength.CAUTION
    assert "first_line.end_date" in vi.inputs_used


@pytest.mark.parametrize(
    ("prior_g_m2", "strength", "words"),
    [
        # Skinner 2000: keep total < 84 g/m2; one ICE cycle adds 9 g/m2 (Van Winkle 2005)
        (0.0, Strength.CONSIDER, "10 cycle(s) would reach 84 g/m2"),
        (74.0, Strength.CONSIDER, "2 cycle(s) would reach 84 g/m2"),
        (75.0, Strength.CAUTION, "1 cycle(s) would reach 84 g/m2"),
        (84.0, Strength.CAUTION, "has reached 84 g/m2"),
        (99.0, Strength.CAUTION, "1 cycle(s) would reach 100 g/m2"),
        # Skinner 1996: 100 g/m2 or more should be avoided
        (100.0, Strength.AVOID, "has reached 100 g/m2"),
        (120.0, Strength.AVOID, "has reached"),
    ],
)
def test_ice_against_ifosfamide_renal_thresholds(
    prior_g_m2: float, strength: Strength, words: str
) -> None:
    c = with_prior(
        [ifosfamide(prior_g_m2)]
        if prior_g_m2
        else [{"agent": "vincristine", "cumulative_dose": 10, "cumulative_dose_unit": "mg/m2"}]
    )
    ice = recs_for(c)["systemic.ice"]
    assert ice.strength is strength
    assert words in ice.reason
    assert "skinner_2000" in ice.citations or "skinner_1996" in ice.citations
    check = next(ch for ch in ice.details["exposure_checks"] if ch["check"] == "ifosfamide_renal")
    assert check["finding"] == "exposure.ifosfamide"


def test_ice_with_unknown_prior_ifosfamide_is_caution_naming_fields() -> None:
    c = with_prior([{"agent": "ifosfamide"}])
    ice = recs_for(c)["systemic.ice"]
    assert ice.strength is Strength.CAUTION
    check = next(ch for ch in ice.details["exposure_checks"] if ch["check"] == "ifosfamide_renal")
    assert check["status"] == CheckStatus.INDETERMINATE
    assert "first_line.chemotherapy[0].cumulative_dose" in check["needs"]
    assert "first_line.chemotherapy[0].cumulative_dose" in ice.inputs_used


def test_no_treatment_history_makes_threshold_checks_indeterminate() -> None:
    c = case(first_line=None)
    recs = recs_for(c)
    assert recs["systemic.ice"].strength is Strength.CAUTION
    assert "first_line" in recs["systemic.ice"].inputs_used
    # unknown history: whether the disease already failed on VI cannot be told (caution)
    assert recs["systemic.vi"].strength is Strength.CAUTION
    assert "treatment history is not recorded" in recs["systemic.vi"].reason


def test_renal_function_is_shown_when_known() -> None:
    c = with_prior(
        [ifosfamide(30)], current={"organ_function": {"creatinine_clearance_ml_min_1_73m2": 65}}
    )
    assert "creatinine clearance 65" in recs_for(c)["systemic.ice"].reason


@pytest.mark.parametrize(
    ("cyclo_mg_m2", "reached"),
    [(3999.0, False), (4000.0, True)],  # Green 2014: 89% normospermic below 4,000 mg/m2 CED
)
def test_alkylator_load_is_a_counselling_note(cyclo_mg_m2: float, reached: bool) -> None:
    c = with_prior(
        [
            {
                "agent": "cyclophosphamide",
                "cumulative_dose": cyclo_mg_m2,
                "cumulative_dose_unit": "mg/m2",
            }
        ],
        patient={"sex": "male"},
    )
    rec = recs_for(c)["systemic.vc_temsirolimus"]
    assert rec.strength is Strength.CONSIDER
    assert ("has reached 4000 mg/m2" in rec.reason) is reached
    assert "green_2014_ced_sperm" in rec.citations


@pytest.mark.parametrize(
    ("sex", "ovarian", "semen"),
    [("female", True, False), ("male", False, True), (None, True, True)],
)
def test_fertility_advice_follows_the_patients_sex(
    sex: str | None, ovarian: bool, semen: bool
) -> None:
    """Issue 14: a girl is never shown male semen data (Green 2014) as her advice."""
    cyclo = {"agent": "cyclophosphamide", "cumulative_dose": 5000, "cumulative_dose_unit": "mg/m2"}
    c = with_prior([cyclo], patient={"sex": sex}) if sex else with_prior([cyclo])
    rec = recs_for(c)["systemic.vc_temsirolimus"]
    assert ("premature ovarian insufficiency" in rec.reason) is ovarian
    assert ("normospermic" in rec.reason) is semen
    assert ("van_dorp_2016" in rec.citations) is ovarian
    assert ("green_2014_ced_sperm" in rec.citations) is semen
    assert "fertility preservation" in rec.reason


def _anthracycline_finding(value: float | None, lower_bound: bool = False) -> Finding:
    fid = "exposure.anthracycline_doxorubicin_equivalent"
    if value is None:
        return indeterminate(
            fid,
            candidates=[],
            needs=["first_line.chemotherapy[0].cumulative_dose"],
            reason="unknown",
            rule="test",
            citations=[],
        )
    return determined(
        fid,
        value,
        reason="synthetic",
        rule="test",
        citations=[],
        details={"lower_bound": lower_bound},
    )


@pytest.mark.parametrize(
    ("prior", "status", "words"),
    [
        # IVADo adds 60 mg/m2 doxorubicin per cycle (Schoot 2022); IGHG thresholds (Armenian 2015)
        (0.0, CheckStatus.NOTE, "2 cycle(s) would reach 100 mg/m2"),
        (100.0, CheckStatus.NOTE, "3 cycle(s) would reach 250 mg/m2"),
        (189.0, CheckStatus.NOTE, "2 cycle(s) would reach 250 mg/m2"),
        (190.0, CheckStatus.CAUTION, "1 cycle(s) would reach 250 mg/m2"),
        (249.0, CheckStatus.CAUTION, "1 cycle(s) would reach 250 mg/m2"),
        (250.0, CheckStatus.CAUTION, "has reached 250 mg/m2"),
    ],
)
def test_anthracycline_check_both_sides(prior: float, status: str, words: str) -> None:
    regimen = regimens()["ivado_iva_maintenance"]
    check = check_anthracycline(
        regimen, {"exposure.anthracycline_doxorubicin_equivalent": _anthracycline_finding(prior)}
    )
    assert check is not None
    assert check.status == status
    assert words in check.reason


def test_anthracycline_check_unknown_and_lower_bound() -> None:
    regimen = regimens()["ivado_iva_maintenance"]
    fid = "exposure.anthracycline_doxorubicin_equivalent"
    unknown = check_anthracycline(regimen, {fid: _anthracycline_finding(None)})
    assert unknown is not None and unknown.status == CheckStatus.INDETERMINATE
    assert unknown.needs == ["first_line.chemotherapy[0].cumulative_dose"]
    bound = check_anthracycline(regimen, {fid: _anthracycline_finding(120, lower_bound=True)})
    assert bound is not None and bound.status == CheckStatus.INDETERMINATE
    assert check_anthracycline(regimens()["vit"], {}) is None


def _oberlin(score: int | None, candidates: list[int] | None = None) -> Finding:
    if score is None:
        return indeterminate(
            "score.oberlin",
            candidates=candidates or [],
            needs=["diagnosis.max_diameter_cm"],
            reason="synthetic",
            rule="test",
            citations=[],
        )
    return determined("score.oberlin", score, reason="synthetic", rule="test", citations=[])


def metastatic_case() -> Case:
    return case(events=[], diagnosis={"distant_metastases": ["lung", "bone"]}, first_line=None)


# (Oberlin score, MTS 2008 3-yr EFS, ARST0431 3-yr EFS)
# Schoot 2022 (<=2 vs >=3), Weigel 2016 (0-1 vs >=2)
OBERLIN_ROWS = [
    (0, "46.1%", "69%"),
    (1, "46.1%", "69%"),
    (2, "46.1%", "20%"),
    (3, "12.5%", "20%"),
    (4, "12.5%", "20%"),
]


@pytest.mark.parametrize(("score", "mts_efs", "arst_efs"), OBERLIN_ROWS)
def test_metastatic_protocols_show_outcome_for_the_oberlin_score(
    score: int, mts_efs: str, arst_efs: str
) -> None:
    c = metastatic_case()
    recs = recs_for(c, _oberlin(score))
    mts = recs["systemic.ivado_iva_maintenance"]
    arst = recs["systemic.arst0431"]
    assert f"event free survival at 3 yr {mts_efs}" in mts.reason
    assert f"event free survival at 3 yr {arst_efs}" in arst.reason
    assert mts.based_on_findings == ["score.oberlin"]
    other = "12.5%" if mts_efs == "46.1%" else "46.1%"
    assert other not in mts.reason


def test_metastatic_indeterminate_oberlin_shows_every_candidate_group() -> None:
    recs = recs_for(metastatic_case(), _oberlin(None, [2, 3]))
    mts = recs["systemic.ivado_iva_maintenance"]
    assert "46.1%" in mts.reason and "12.5%" in mts.reason
    assert "2 or 3" in mts.reason


def test_metastatic_set_and_strengths() -> None:
    recs = recs_for(metastatic_case(), _oberlin(1))
    assert list(recs) == [
        "systemic.metastatic_first_line",
        "systemic.ivado_iva_maintenance",
        "systemic.arst0431",
        "systemic.hdct_autologous_rescue",
        "systemic.maintenance_vinorelbine_cyclophosphamide",
    ]
    assert recs["systemic.metastatic_first_line"].strength is Strength.RECOMMENDED
    assert recs["systemic.hdct_autologous_rescue"].strength is Strength.AVOID  # Peinemann 2011
    maint = recs["systemic.maintenance_vinorelbine_cyclophosphamide"]
    assert "gap.maintenance_vinorelbine_cyclophosphamide.extrapolated" in [
        g.id for g in maint.evidence_gaps
    ]


def test_without_oberlin_finding_the_overall_figures_are_shown() -> None:
    recs = recs_for(metastatic_case())
    assert "overall figures apply" in recs["systemic.ivado_iva_maintenance"].reason
    assert "34.9%" in recs["systemic.ivado_iva_maintenance"].reason


def test_localised_case_without_event_gets_nothing() -> None:
    c = case(events=[])
    assert systemic_recommendations(c, findings(c)) == []


def test_every_relapse_regimen_is_offered_or_explained() -> None:
    recs = recs_for(case())
    overview = recs["systemic.relapse_overview"]
    not_offered = {d["regimen"] for d in overview.details["not_offered"]}
    for r in regimens():
        if r.setting is RegimenSetting.RELAPSE:
            assert (f"systemic.{r.id}" in recs) != (r.id in not_offered)


def test_example_relapse_after_metastatic_alveolar() -> None:
    """14-year-old after ARST0431-like therapy (36 g/m2 ifosfamide, 300 mg/m2 doxorubicin, 9.6 g/m2
    cyclophosphamide): a paediatric oncologist would weigh VIT/VI (irinotecan already given),
    VC + temsirolimus, and ICE with ifosfamide still below 84 g/m2 but climbing."""
    c = load_case(ROOT / "examples" / "relapse-after-metastatic-alveolar.yaml")
    recs = recs_for(c)
    # the relapse came within 6 months of the end of a line containing VI: VI is not offered
    # again, VIT (repeating vincristine + irinotecan) only with caution; VC + temsirolimus first
    assert list(recs)[1] == "systemic.vc_temsirolimus"
    assert recs["systemic.vi"].strength is Strength.AVOID
    assert recs["systemic.vit"].strength is Strength.CAUTION
    ice = recs["systemic.ice"]
    assert ice.strength is Strength.CAUTION  # repeats ifosfamide + etoposide of that line
    assert (
        "Prior ifosfamide 36 g/m2" in ice.reason and "6 cycle(s) would reach 84 g/m2" in ice.reason
    )
    assert "has reached 4000 mg/m2" in recs["systemic.vc_temsirolimus"].reason  # male patient


def test_example_metastatic_at_diagnosis() -> None:
    c = load_case(ROOT / "examples" / "metastatic-at-diagnosis-trunk.yaml")
    recs = recs_for(c)
    assert "systemic.metastatic_first_line" in recs
    assert "systemic.relapse_overview" not in recs


def test_examples_are_well_formed(example_path: Path) -> None:
    c = load_case(example_path)
    recs = systemic_recommendations(c, findings(c))
    assert_well_formed(recs)


@pytest.mark.parametrize(
    ("dox_mg_m2", "words"),
    [
        (99.0, None),  # Armenian 2015 (IGHG): below 100 mg/m2 no threshold reached
        (100.0, "reached 100 mg/m2"),
        (249.0, "reached 100 mg/m2"),
        (250.0, "reached 250 mg/m2"),
    ],
)
def test_overview_states_prior_anthracycline(dox_mg_m2: float, words: str | None) -> None:
    c = with_prior(
        [{"agent": "doxorubicin", "cumulative_dose": dox_mg_m2, "cumulative_dose_unit": "mg/m2"}]
    )
    overview = recs_for(c)["systemic.relapse_overview"]
    assert f"anthracycline is {dox_mg_m2:g} mg/m2" in overview.reason
    if words is None:
        assert "reached" not in overview.reason
    else:
        assert words in overview.reason
        assert "armenian_2015" in overview.citations
    assert "exposure.anthracycline_doxorubicin_equivalent" in overview.based_on_findings


def test_overview_says_when_anthracycline_is_unknown() -> None:
    overview = recs_for(with_prior([{"agent": "doxorubicin"}]))["systemic.relapse_overview"]
    assert "Prior anthracycline exposure is unknown" in overview.reason


def test_overview_silent_without_anthracycline() -> None:
    overview = recs_for(case())["systemic.relapse_overview"]
    assert "anthracycline is" not in overview.reason


def test_alkylator_given_without_countable_dose_is_not_read_as_none() -> None:
    """Cyclophosphamide recorded without doses: the CED is a lower bound of 0, which says
    nothing; the reason must say 'not known', never 'Prior cyclophosphamide-equivalent dose 0'."""
    c = with_prior(
        [{"agent": "cyclophosphamide"}, {"agent": "vincristine"}], patient={"sex": "male"}
    )
    reason = recs_for(c)["systemic.vc_temsirolimus"].reason
    assert "cyclophosphamide-equivalent dose 0" not in reason
    assert "Prior cyclophosphamide-equivalent dose not known" in reason
