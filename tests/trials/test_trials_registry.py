"""Loading trial files: the bundled set, its sources, and strict rejection of unknown keys."""

from __future__ import annotations

import re

import pytest
import yaml

import rhabdo.trials as trials_api
from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.sources import resolve
from rhabdo.trials import load_trial_file, load_trials, match_trial, match_trials, parse_trials
from rhabdo.trials.model import TrialStatus

from .trials_helpers import make_case

MINIMAL = {"registry_id": "NCT99999998", "title": "Synthetic trial", "status": "RECRUITING"}


def test_public_api_is_pinned() -> None:
    assert set(trials_api.__all__) == {
        "CriterionOutcome",
        "CriterionResult",
        "DiseaseSetting",
        "EligibilityCriteria",
        "Evidence",
        "Trial",
        "TrialImportError",
        "TrialMatch",
        "TrialPhase",
        "TrialStatus",
        "Verdict",
        "disease_settings",
        "import_ctgov",
        "import_ctgov_file",
        "load_trial_file",
        "load_trials",
        "match_trial",
        "match_trials",
        "parse_trials",
    }


def test_unknown_criterion_key_fails_naming_trial_and_key() -> None:
    bad = dict(MINIMAL, criteria={"min_performance_score": 60, "minimum_hemoglobin": 8})
    with pytest.raises(KnowledgeBaseError) as err:
        parse_trials({"trials": [bad]}, "synthetic.yaml")
    message = str(err.value)
    assert "NCT99999998" in message
    assert "unknown criterion key 'minimum_hemoglobin'" in message
    assert "synthetic.yaml" in message


def test_unknown_nested_criterion_key_fails() -> None:
    bad = dict(MINIMAL, criteria={"organ_function": {"min_haemoglobin_g_dl": {"value": 8}}})
    with pytest.raises(KnowledgeBaseError, match="unknown criterion key 'min_haemoglobin_g_dl'"):
        parse_trials({"trials": [bad]}, "synthetic.yaml")


def test_unknown_trial_key_and_top_level_key_fail() -> None:
    with pytest.raises(KnowledgeBaseError, match="unknown key 'recruiting_sites'"):
        parse_trials({"trials": [dict(MINIMAL, recruiting_sites=3)]}, "synthetic.yaml")
    with pytest.raises(KnowledgeBaseError, match="unknown top-level key"):
        parse_trials({"trials": [], "studies": []}, "synthetic.yaml")
    with pytest.raises(KnowledgeBaseError, match="list under 'trials'"):
        parse_trials([MINIMAL], "synthetic.yaml")


def test_bad_codes_and_duplicates_fail() -> None:
    with pytest.raises(KnowledgeBaseError, match="unknown code 'embryonic'"):
        parse_trials({"trials": [dict(MINIMAL, criteria={"histologies": ["embryonic"]})]}, "s.yaml")
    with pytest.raises(KnowledgeBaseError, match="duplicate registry id"):
        parse_trials({"trials": [MINIMAL, MINIMAL]}, "s.yaml")
    with pytest.raises(KnowledgeBaseError, match="max_years is below min_years"):
        parse_trials(
            {"trials": [dict(MINIMAL, criteria={"age": {"min_years": 10, "max_years": 5}})]},
            "s.yaml",
        )


def test_load_trial_file_round_trip(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        yaml.safe_dump({"trials": [dict(MINIMAL, criteria={"min_performance_score": 60})]})
    )
    (trial,) = load_trial_file(path)
    assert trial.criteria.min_performance_score == 60
    with pytest.raises(KnowledgeBaseError, match="cannot be read"):
        load_trial_file(tmp_path / "absent.yaml")


# --- the bundled set --------------------------------------------------------------------------

BUNDLED = load_trials()


def test_bundled_set_has_the_curated_trials() -> None:
    ids = {t.registry_id for t in BUNDLED}
    # FaR-RMS, FGFR4 CAR-T, 3CAR and RAD3CAR (B7-H3 CAR-T), CAR-TA: knowledge/data/trials/
    assert ids == {
        "NCT04625907",
        "NCT06865664",
        "NCT04897321",
        "NCT07172958",
        "NCT07222735",
        "NCT01222715",
    }


@pytest.mark.parametrize("trial", BUNDLED, ids=lambda t: t.registry_id)
def test_bundled_trial_is_sourced(trial) -> None:
    assert re.fullmatch(r"NCT\d{8}", trial.registry_id)
    assert trial.citations, "every bundled trial cites its sources"
    for key in trial.citations:
        assert resolve(key).key == key
    assert trial.provenance and trial.last_reviewed
    # status is stated with the date it was read, or is UNKNOWN
    assert trial.status_as_of is not None or trial.status is TrialStatus.UNKNOWN
    assert trial.phases


def test_bundled_facts_as_read() -> None:
    by_id = {t.registry_id: t for t in BUNDLED}
    far = by_id["NCT04625907"]  # kofam listing: study entry excludes pleomorphic RMS, age N/A
    assert far.criteria.excluded_histologies == ["pleomorphic"] and far.criteria.age is None
    fgfr4 = by_id["NCT06865664"]  # ClinConnect/Veeva: ages 3-39, >= 2 regimens, not yet recruiting
    assert (fgfr4.criteria.age.min_years, fgfr4.criteria.age.max_years) == (3, 39)
    assert fgfr4.criteria.min_prior_regimens == 2
    assert fgfr4.status is TrialStatus.NOT_YET_RECRUITING and fgfr4.status_as_of == "2025-06-26"
    car3 = by_id["NCT04897321"]  # 3CAR: <=21 years, Karnofsky/Lansky >= 50, measurable, B7-H3+
    assert car3.criteria.age.max_years == 21 and car3.criteria.age.max_inclusive
    assert car3.criteria.min_performance_score == 50
    assert car3.criteria.required_biomarkers[0].gene == "CD276"
    carta = by_id["NCT07172958"]  # >= 1 and < 24 years, Lansky >= 60, ANC > 500, platelets > 50,000
    assert (
        carta.criteria.age.min_years,
        carta.criteria.age.max_years,
        carta.criteria.age.max_inclusive,
    ) == (1, 24, False)
    assert carta.criteria.organ_function.min_absolute_neutrophil_count_per_ul.inclusive is False
    assert carta.status is TrialStatus.UNKNOWN
    rad3 = by_id[
        "NCT07222735"
    ]  # RAD3CAR: <= 21 years, Karnofsky/Lansky >= 60, B7-H3 H-score >= 100
    assert rad3.criteria.age.max_years == 21 and rad3.criteria.min_performance_score == 60
    assert rad3.status is TrialStatus.RECRUITING and rad3.status_as_of == "2025-11-19"
    assert far.start_date == "2020-07-31"  # NIHR: UK recruitment start
    arst0921 = by_id["NCT01222715"]  # COG ARST0921: completed, kept for its number, never offered
    assert arst0921.acronym == "ARST0921" and arst0921.status is TrialStatus.COMPLETED
    assert arst0921.criteria.age.max_years == 30 and not arst0921.criteria.age.max_inclusive


def test_match_trials_defaults_to_the_bundled_set() -> None:
    assert {m.trial.registry_id for m in match_trials(make_case())} == {
        t.registry_id for t in BUNDLED
    }


def test_cached_evaluation_equals_fresh_evaluation() -> None:
    case = make_case()
    together = {m.trial.registry_id: m for m in match_trials(case, BUNDLED + BUNDLED[:0])}
    for t in BUNDLED:
        alone = match_trial(case, t)
        assert together[t.registry_id].criteria == alone.criteria
        assert together[t.registry_id].verdict is alone.verdict
