"""Each criterion type on both sides of its threshold and with missing data.

Cases are synthetic.  ``make_case(a__b=value)`` changes field ``a.b`` of the base case;
``DELETE`` removes it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rhabdo.case.vocab import (
    BodyRegion,
    ChemotherapyAgent,
    FusionStatus,
    Histology,
    MutationStatus,
    Sex,
)
from rhabdo.trials.matcher import (
    EVALUATORS,
    disease_settings,
    evaluate_criteria,
    match_trial,
)
from rhabdo.trials.model import (
    CRITERION_KEYS,
    CriterionOutcome,
    DiseaseSetting,
    EligibilityCriteria,
    Trial,
    TrialStatus,
    Verdict,
)

from .trials_helpers import DELETE, make_case

MET = CriterionOutcome.MET
NOT_MET = CriterionOutcome.NOT_MET
UNKNOWN = CriterionOutcome.NOT_ENOUGH_INFORMATION


def trial(**criteria: object) -> Trial:
    return Trial.model_validate(
        {
            "registry_id": "NCT99999999",
            "title": "Synthetic trial",
            "status": "RECRUITING",
            "criteria": criteria,
        }
    )


def outcome(case_changes: dict[str, object], on: dt.date | None = None, **criteria: object):
    m = match_trial(make_case(**case_changes), trial(**criteria), on=on)
    assert len(m.criteria) == 1
    return m.criteria[0]


def test_every_criterion_key_has_an_evaluator() -> None:
    assert set(EVALUATORS) == set(CRITERION_KEYS)
    assert "free_text" not in CRITERION_KEYS


# --- age --------------------------------------------------------------------------------------
# Base patient born 2012-03-01.


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (dt.date(2015, 2, 28), NOT_MET),  # one day short of 3 years
        (dt.date(2015, 3, 1), MET),  # third birthday counts
    ],
)
def test_age_minimum_both_sides(on: dt.date, expected: CriterionOutcome) -> None:
    assert outcome({}, on=on, age={"min_years": 3}).outcome is expected


@pytest.mark.parametrize(
    ("on", "inclusive", "expected"),
    [
        (dt.date(2034, 2, 28), True, MET),  # 21 years 364 days, "<= 21" includes the whole year
        (dt.date(2034, 3, 1), True, NOT_MET),  # 22nd birthday
        (dt.date(2033, 2, 28), False, MET),  # 20 years, "< 21"
        (dt.date(2033, 3, 1), False, NOT_MET),  # 21st birthday is no longer "< 21"
    ],
)
def test_age_maximum_inclusive_and_exclusive(
    on: dt.date, inclusive: bool, expected: CriterionOutcome
) -> None:
    r = outcome({}, on=on, age={"max_years": 21, "max_inclusive": inclusive})
    assert r.outcome is expected


def test_age_unknown_without_birth_date_or_age() -> None:
    r = outcome({"patient__date_of_birth": DELETE}, age={"min_years": 3})
    assert r.outcome is UNKNOWN
    assert "patient.date_of_birth" in r.needs


def test_age_unknown_without_assessment_date() -> None:
    r = outcome({"current__assessed_on": DELETE}, age={"min_years": 3})
    assert r.outcome is UNKNOWN
    assert r.needs == ["current.assessed_on"]


def test_age_from_age_at_diagnosis_days() -> None:
    # 1000 days at diagnosis (2020-03-01) + 700 days -> 1700 days, clearly over 3 and under 5 years
    changes = {"patient__date_of_birth": DELETE, "patient__age_at_diagnosis_days": 1000}
    assert outcome(changes, age={"min_years": 3}).outcome is MET
    assert outcome(changes, age={"min_years": 5}).outcome is NOT_MET


def test_age_in_days_on_a_leap_day_boundary_is_unknown() -> None:
    # 3 calendar years hold 1095 or 1096 days: 1095 days cannot decide "at least 3 years".
    changes = {"patient__date_of_birth": DELETE, "patient__age_at_diagnosis_days": 1095}
    r = outcome(changes, on=dt.date(2020, 3, 1), age={"min_years": 3})
    assert r.outcome is UNKNOWN
    assert r.needs == ["patient.date_of_birth"]


def test_age_evidence_never_shows_the_date_of_birth() -> None:
    r = outcome({}, age={"min_years": 3})
    text = " ".join(f"{e.field} {e.value}" for e in r.evidence)
    assert "2012-03-01" not in text
    assert "9 years" in text


# --- sex, histology, fusion -------------------------------------------------------------------


@pytest.mark.parametrize("sex", list(Sex))
def test_sexes(sex: Sex) -> None:
    r = outcome({"patient__sex": sex.value}, sexes=["female"])
    assert r.outcome is (MET if sex is Sex.FEMALE else NOT_MET)


def test_sex_missing() -> None:
    assert outcome({"patient__sex": DELETE}, sexes=["female"]).outcome is UNKNOWN


@pytest.mark.parametrize("histology", list(Histology))
def test_histologies_allowed(histology: Histology) -> None:
    allowed = [Histology.EMBRYONAL.value, Histology.ALVEOLAR.value]
    r = outcome({"diagnosis__histology": histology.value}, histologies=allowed)
    assert r.outcome is (MET if histology.value in allowed else NOT_MET)


@pytest.mark.parametrize("histology", list(Histology))
def test_histologies_excluded(histology: Histology) -> None:
    r = outcome({"diagnosis__histology": histology.value}, excluded_histologies=["pleomorphic"])
    assert r.outcome is (NOT_MET if histology is Histology.PLEOMORPHIC else MET)


def test_histology_missing() -> None:
    assert outcome({"diagnosis__histology": DELETE}, histologies=["alveolar"]).outcome is UNKNOWN
    assert (
        outcome({"diagnosis__histology": DELETE}, excluded_histologies=["alveolar"]).outcome
        is UNKNOWN
    )


@pytest.mark.parametrize("status", list(FusionStatus))
def test_fusion_statuses(status: FusionStatus) -> None:
    r = outcome(
        {"diagnosis__foxo1_fusion": status.value}, fusion_statuses=["pax3_foxo1", "pax7_foxo1"]
    )
    if status is FusionStatus.NOT_TESTED:
        assert r.outcome is UNKNOWN
        assert r.needs == ["diagnosis.foxo1_fusion"]
    else:
        assert r.outcome is (
            MET if status in (FusionStatus.PAX3_FOXO1, FusionStatus.PAX7_FOXO1) else NOT_MET
        )


def test_fusion_missing() -> None:
    assert (
        outcome({"diagnosis__foxo1_fusion": DELETE}, fusion_statuses=["negative"]).outcome
        is UNKNOWN
    )


# --- disease setting --------------------------------------------------------------------------

SETTING_CASES = {
    DiseaseSetting.NEWLY_DIAGNOSED_NON_METASTATIC: {"events": []},
    DiseaseSetting.NEWLY_DIAGNOSED_METASTATIC: {
        "events": [],
        "diagnosis__distant_metastases": ["lung"],
    },
    DiseaseSetting.FIRST_RELAPSE: {},
    DiseaseSetting.SECOND_OR_LATER_RELAPSE: {
        "events": [
            {"kind": "relapse", "date": "2022-01-10"},
            {"kind": "relapse", "date": "2023-01-10"},
        ]
    },
    DiseaseSetting.REFRACTORY: {"events": [{"kind": "progression", "date": "2020-06-10"}]},
}


@pytest.mark.parametrize("setting", list(DiseaseSetting))
def test_each_disease_setting_is_derived(setting: DiseaseSetting) -> None:
    settings, needs = disease_settings(make_case(**SETTING_CASES[setting]))
    assert settings == {setting}
    assert needs == []


@pytest.mark.parametrize("setting", list(DiseaseSetting))
def test_disease_setting_criterion_both_sides(setting: DiseaseSetting) -> None:
    case_changes = SETTING_CASES[setting]
    assert outcome(case_changes, disease_settings=[setting.value]).outcome is MET
    others = [s.value for s in DiseaseSetting if s is not setting]
    assert outcome(case_changes, disease_settings=others).outcome is NOT_MET


def test_progression_after_relapse_is_second_relapse_and_refractory() -> None:
    case = make_case(
        events=[
            {"kind": "relapse", "date": "2022-01-10"},
            {"kind": "progression", "date": "2022-05-10"},
        ]
    )
    settings, _ = disease_settings(case)
    assert settings == {DiseaseSetting.SECOND_OR_LATER_RELAPSE, DiseaseSetting.REFRACTORY}


def test_disease_setting_unknown_when_no_event_and_metastases_unknown() -> None:
    r = outcome(
        {"events": [], "diagnosis__distant_metastases": DELETE}, disease_settings=["first_relapse"]
    )
    assert r.outcome is UNKNOWN
    assert r.needs == ["diagnosis.distant_metastases"]


# --- measurable disease -----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(True, MET), (False, NOT_MET), (DELETE, UNKNOWN)])
def test_measurable_disease(value: object, expected: CriterionOutcome) -> None:
    r = outcome({"current__measurable_disease": value}, measurable_disease_required=True)
    assert r.outcome is expected


# --- biomarkers -------------------------------------------------------------------------------

CD276 = {"gene": "CD276", "alteration": "expression"}


@pytest.mark.parametrize(
    ("alterations", "required_expected", "excluded_expected"),
    [
        ([{"gene": "CD276", "alteration": "expression", "detected": True}], MET, NOT_MET),
        ([{"gene": "CD276", "alteration": "expression", "detected": False}], NOT_MET, MET),
        (
            [{"gene": "NRAS", "alteration": "mutation", "detected": True}],
            UNKNOWN,
            UNKNOWN,
        ),  # CD276 untested
        ([], UNKNOWN, UNKNOWN),
        (DELETE, UNKNOWN, UNKNOWN),
    ],
)
def test_biomarkers_required_and_excluded(
    alterations: object, required_expected: CriterionOutcome, excluded_expected: CriterionOutcome
) -> None:
    changes = {"diagnosis__tumour_alterations": alterations}
    assert outcome(changes, required_biomarkers=[CD276]).outcome is required_expected
    assert outcome(changes, excluded_biomarkers=[CD276]).outcome is excluded_expected


@pytest.mark.parametrize("status", list(MutationStatus))
def test_tp53_biomarker_reads_the_tp53_field(status: MutationStatus) -> None:
    r = outcome(
        {"diagnosis__tp53": status.value},
        excluded_biomarkers=[{"gene": "TP53", "alteration": "mutation"}],
    )
    expected = {
        MutationStatus.MUTATED: NOT_MET,
        MutationStatus.WILD_TYPE: MET,
        MutationStatus.NOT_TESTED: UNKNOWN,
    }
    assert r.outcome is expected[status]


@pytest.mark.parametrize("status", list(FusionStatus))
def test_foxo1_fusion_biomarker(status: FusionStatus) -> None:
    r = outcome(
        {"diagnosis__foxo1_fusion": status.value},
        required_biomarkers=[{"gene": "FOXO1", "alteration": "fusion"}],
    )
    positive = status.is_fusion_positive
    assert r.outcome is (UNKNOWN if positive is None else MET if positive else NOT_MET)


# --- prior therapy ----------------------------------------------------------------------------

TWO_LINES = {"later_lines": [{"chemotherapy": [{"agent": "vinorelbine"}]}]}


@pytest.mark.parametrize(("changes", "expected"), [({}, NOT_MET), (TWO_LINES, MET)])
def test_min_prior_regimens(changes: dict[str, object], expected: CriterionOutcome) -> None:
    assert outcome(changes, min_prior_regimens=2).outcome is expected


@pytest.mark.parametrize(("changes", "expected"), [({}, MET), (TWO_LINES, NOT_MET)])
def test_max_prior_regimens(changes: dict[str, object], expected: CriterionOutcome) -> None:
    assert outcome(changes, max_prior_regimens=1).outcome is expected


@pytest.mark.parametrize("key", ["min_prior_regimens", "max_prior_regimens"])
def test_prior_regimens_unknown_without_history(key: str) -> None:
    r = outcome({"first_line": DELETE}, **{key: 1})
    assert r.outcome is UNKNOWN
    assert "first_line" in r.needs


@pytest.mark.parametrize("agent", list(ChemotherapyAgent))
def test_excluded_and_required_prior_agents(agent: ChemotherapyAgent) -> None:
    given = {ChemotherapyAgent.VINCRISTINE, ChemotherapyAgent.IFOSFAMIDE}
    assert outcome({}, excluded_prior_agents=[agent.value]).outcome is (
        NOT_MET if agent in given else MET
    )
    assert outcome({}, required_prior_agents=[agent.value]).outcome is (
        MET if agent in given else NOT_MET
    )


def test_prior_agents_unknown_without_history() -> None:
    assert outcome({"first_line": DELETE}, excluded_prior_agents=["irinotecan"]).outcome is UNKNOWN


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, MET),
        (
            {
                "later_lines": [
                    {"chemotherapy": [{"agent": "other", "agent_name": "CAR-T (B7-H3)"}]}
                ]
            },
            NOT_MET,
        ),
        (
            {"later_lines": [{"chemotherapy": [{"agent": "other", "agent_name": "car t cells"}]}]},
            NOT_MET,
        ),
        (
            {
                "later_lines": [
                    {"chemotherapy": [{"agent": "other", "agent_name": "cartilage graft"}]}
                ]
            },
            MET,
        ),
        ({"first_line": DELETE}, UNKNOWN),
    ],
)
def test_prior_car_t_excluded(changes: dict[str, object], expected: CriterionOutcome) -> None:
    assert outcome(changes, prior_car_t_excluded=True).outcome is expected


@pytest.mark.parametrize("region", list(BodyRegion))
def test_excluded_prior_radiotherapy_regions(region: BodyRegion) -> None:
    r = outcome({}, excluded_prior_radiotherapy_regions=[region.value])
    assert r.outcome is (NOT_MET if region is BodyRegion.LOWER_LIMB else MET)


def test_radiotherapy_region_unknown() -> None:
    changes = {"first_line__radiotherapy": [{"target": "primary_tumour"}]}
    r = outcome(changes, excluded_prior_radiotherapy_regions=["thorax"])
    assert r.outcome is UNKNOWN
    assert r.needs == ["first_line.radiotherapy[0].body_region"]


# --- performance and organ function -----------------------------------------------------------


@pytest.mark.parametrize(("score", "expected"), [(50, NOT_MET), (60, MET), (70, MET)])
def test_min_performance_score_both_sides(score: int, expected: CriterionOutcome) -> None:
    r = outcome(
        {"current__performance": {"scale": "karnofsky", "score": score}}, min_performance_score=60
    )
    assert r.outcome is expected


def test_performance_missing() -> None:
    r = outcome({"current__performance": DELETE}, min_performance_score=60)
    assert r.outcome is UNKNOWN
    assert r.needs == ["current.performance"]


ORGAN_CASES = [
    # (limit, field, bound, inclusive, value just passing, value just failing)
    (
        "min_absolute_neutrophil_count_per_ul",
        "absolute_neutrophil_count_per_ul",
        500,
        False,
        501,
        500,
    ),
    (
        "min_absolute_neutrophil_count_per_ul",
        "absolute_neutrophil_count_per_ul",
        1000,
        True,
        1000,
        999,
    ),
    ("min_platelets_per_ul", "platelets_per_ul", 50000, False, 50001, 50000),
    ("max_bilirubin_x_uln", "bilirubin_x_uln", 1.5, True, 1.5, 1.6),
    ("max_alt_x_uln", "alt_x_uln", 5, True, 5, 5.1),
    ("max_alt_x_uln", "alt_x_uln", 2.5, False, 2.4, 2.5),
    (
        "min_creatinine_clearance_ml_min_1_73m2",
        "creatinine_clearance_ml_min_1_73m2",
        60,
        True,
        60,
        59,
    ),
    ("min_lvef_percent", "lvef_percent", 50, True, 50, 49),
    ("min_shortening_fraction_percent", "shortening_fraction_percent", 28, True, 28, 27),
]


@pytest.mark.parametrize(
    ("limit", "field", "bound", "inclusive", "passing", "failing"), ORGAN_CASES
)
def test_organ_function_both_sides_and_missing(
    limit: str, field: str, bound: float, inclusive: bool, passing: float, failing: float
) -> None:
    criterion = {"organ_function": {limit: {"value": bound, "inclusive": inclusive}}}
    assert outcome({f"current__organ_function__{field}": passing}, **criterion).outcome is MET
    assert outcome({f"current__organ_function__{field}": failing}, **criterion).outcome is NOT_MET
    missing = outcome({f"current__organ_function__{field}": DELETE}, **criterion)
    assert missing.outcome is UNKNOWN
    assert missing.needs == [f"current.organ_function.{field}"]


def test_organ_function_unmet_beats_missing() -> None:
    criterion = {
        "organ_function": {"min_lvef_percent": {"value": 50}, "max_alt_x_uln": {"value": 5}}
    }
    r = outcome({"current__organ_function": {"lvef_percent": 40}}, **criterion)
    assert r.outcome is NOT_MET


# --- wash-out ---------------------------------------------------------------------------------
# First line ends 2021-03-01; radiotherapy ended 2020-08-01.


@pytest.mark.parametrize(
    ("on", "expected"),
    [(dt.date(2021, 3, 28), NOT_MET), (dt.date(2021, 3, 29), MET)],
)
def test_washout_both_sides(on: dt.date, expected: CriterionOutcome) -> None:
    assert outcome({}, on=on, min_days_since_last_therapy=28).outcome is expected


def test_washout_unknown_when_line_ongoing_or_end_missing() -> None:
    ongoing = outcome(
        {"first_line__end_date": DELETE, "first_line__ongoing": True},
        min_days_since_last_therapy=28,
    )
    assert ongoing.outcome is UNKNOWN
    assert ongoing.needs == ["first_line.end_date"]
    no_end = outcome({"first_line__end_date": DELETE}, min_days_since_last_therapy=28)
    assert no_end.outcome is UNKNOWN


# --- verdict and ordering ---------------------------------------------------------------------


def test_verdicts() -> None:
    case = make_case()
    assert (
        match_trial(case, trial(min_performance_score=60)).verdict is Verdict.ELIGIBLE_ON_KNOWN_DATA
    )
    pending = match_trial(case, trial(min_performance_score=60, required_biomarkers=[CD276]))
    assert pending.verdict is Verdict.POSSIBLE_PENDING
    assert pending.pending_count == 1
    assert pending.needs == ["diagnosis.tumour_alterations"]
    excluded = match_trial(case, trial(min_performance_score=80, required_biomarkers=[CD276]))
    assert excluded.verdict is Verdict.EXCLUDED


def test_free_text_is_needs_review_never_evaluated() -> None:
    m = match_trial(make_case(), trial(free_text=["Life expectancy > 12 weeks"]))
    assert m.verdict is Verdict.ELIGIBLE_ON_KNOWN_DATA
    assert m.criteria == []
    assert m.needs_review == ["Life expectancy > 12 weeks"]


def test_results_are_ordered_most_plausible_first() -> None:
    from rhabdo.trials import match_trials

    def t(rid: str, status: str, **criteria: object) -> Trial:
        return Trial.model_validate(
            {"registry_id": rid, "title": "Synthetic", "status": status, "criteria": criteria}
        )

    trials = [
        t("NCT00000005", "RECRUITING", min_performance_score=90),  # excluded
        t(
            "NCT00000004", "RECRUITING", required_biomarkers=[CD276], min_prior_regimens=3
        ),  # excluded
        t("NCT00000003", "RECRUITING", required_biomarkers=[CD276]),  # pending 1
        t("NCT00000002", "COMPLETED"),  # completed: not offered (one unmet registry check)
        t("NCT00000001", "RECRUITING", free_text=["x"]),  # eligible, open, one review item
        t("NCT00000000", "RECRUITING"),  # eligible, open, nothing to review
    ]
    order = [m.trial.registry_id for m in match_trials(make_case(), trials)]
    assert order == [
        "NCT00000000",
        "NCT00000001",
        "NCT00000003",
        "NCT00000005",  # excluded by one criterion, open
        "NCT00000002",  # excluded by its status, closed
        "NCT00000004",
    ]


def test_evaluate_criteria_is_in_declared_order() -> None:
    from rhabdo.trials.matcher import MatchContext

    crit = EligibilityCriteria.model_validate(
        {"min_performance_score": 50, "age": {"min_years": 1}}
    )
    results = evaluate_criteria(MatchContext(case=make_case(), on=dt.date(2022, 2, 1)), crit)
    assert [r.criterion for r in results] == ["age", "min_performance_score"]


def test_open_statuses() -> None:
    assert TrialStatus.RECRUITING.is_open and TrialStatus.NOT_YET_RECRUITING.is_open
    assert not TrialStatus.COMPLETED.is_open and not TrialStatus.UNKNOWN.is_open


def test_order_agrees_with_plausibility_key() -> None:
    from rhabdo.trials import load_trials, match_trials
    from rhabdo.trials.matcher import plausibility_key

    matches = match_trials(make_case(), load_trials())
    assert matches == sorted(matches, key=plausibility_key)


@pytest.mark.parametrize(
    ("phases", "label"),
    [
        ([], "phase not stated"),
        (["PHASE1", "PHASE2"], "phase 1/2"),
        (["EARLY_PHASE1"], "early phase 1"),
        (["NA"], "phase not applicable"),
        (["PHASE3"], "phase 3"),
    ],
)
def test_phase_label(phases: list[str], label: str) -> None:
    t = Trial.model_validate(
        {
            "registry_id": "NCT99999990",
            "title": "Synthetic",
            "status": "RECRUITING",
            "phases": phases,
        }
    )
    assert t.phase_label == label


def test_match_to_dict_is_json_ready() -> None:
    import json

    m = match_trial(make_case(), trial(min_performance_score=60, free_text=["x"]))
    doc = json.loads(json.dumps(m.to_dict()))
    assert doc["verdict"] == "eligible_on_known_data"
    assert doc["criteria"][0]["outcome"] == "met"
    assert doc["criteria"][0]["evidence"] == [
        {"field": "current.performance", "value": "lansky 70"}
    ]
    assert doc["needs_review"] == ["x"]


def test_model_copy_with_update_is_matched_on_the_new_value() -> None:
    original = trial(min_performance_score=60)
    stricter = original.model_copy(
        update={"criteria": original.criteria.model_copy(update={"min_performance_score": 90})}
    )
    assert match_trial(make_case(), original).verdict is Verdict.ELIGIBLE_ON_KNOWN_DATA
    assert match_trial(make_case(), stricter).verdict is Verdict.EXCLUDED
