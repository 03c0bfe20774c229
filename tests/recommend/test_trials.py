"""Clinical-trials rule (recommend.trials.v1).

Sources: PDQ (novel agents in phase I/II trials should be considered at relapse); Heske 2021
(a trial should be strongly considered for most patients); Ogawa 2021 (early-phase trials for
disseminated or multiple recurrence).  "recommended" for disseminated, repeated or early
recurrence or after metastatic disease at diagnosis; "consider" otherwise.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from recommend_helpers import assert_well_formed, case, event

from rhabdo.case.io import load_case
from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.recommend import trials as trials_module
from rhabdo.recommend.trials import (
    Matcher,
    summarise_matches,
    trial_recommendations,
    trial_triggers,
)
from rhabdo.results import Recommendation, Strength
from rhabdo.trials.matcher import match_trials


def no_matcher(c: Case) -> list[Any]:
    return []


def rec_for(c: Case, matcher: Matcher = no_matcher) -> Recommendation:
    recs = trial_recommendations(c, {}, matcher=matcher)
    assert_well_formed(recs)
    assert [r.id for r in recs] == ["trials.early_phase"]
    return recs[0]


def test_no_event_no_trials() -> None:
    assert trial_recommendations(case(events=[]), {}) == []


def test_single_late_local_relapse_is_consider() -> None:
    assert rec_for(case()).strength is Strength.CONSIDER


@pytest.mark.parametrize(
    "changes",
    [
        {
            "events": [
                event(
                    sites=[
                        {"extent": "local"},
                        {
                            "extent": "distant",
                            "metastatic_site": "lung",
                            "lesions": "multiple_diffuse",
                        },
                    ]
                )
            ]
        },
        {"events": [event(date="2020-12-01"), event(date="2021-06-01")]},
        {"events": [event(kind="progression", date="2020-05-01")]},
        {"first_line": {"end_date": None, "ongoing": True}},
        {
            "first_line": {"end_date": "2021-02-01"}
        },  # relapse (2021-01-11) before the end of therapy
        {"diagnosis": {"distant_metastases": ["lung"]}},
    ],
    ids=[
        "disseminated",
        "second-recurrence",
        "progression",
        "ongoing-line",
        "before-end",
        "metastatic-dx",
    ],
)
def test_poor_settings_are_recommended(changes: dict[str, Any]) -> None:
    rec = rec_for(case(**changes))
    assert rec.strength is Strength.RECOMMENDED
    assert rec.details["triggers"]


def test_relapse_one_day_after_end_of_therapy_is_not_early() -> None:
    c = case(first_line={"end_date": "2021-01-10"})
    assert rec_for(c).strength is Strength.CONSIDER


def test_unknown_end_of_therapy_is_named() -> None:
    c = case(first_line={"end_date": None})
    rec = rec_for(c)
    assert rec.strength is Strength.CONSIDER
    assert "first_line.end_date" in rec.details["needs"]


def test_matcher_summary() -> None:
    def fake(c: Case) -> list[Any]:
        trial = SimpleNamespace(registry_id="NCT00000001", title="Synthetic", phase_label="phase 1")
        return [
            SimpleNamespace(
                trial=trial,
                verdict=SimpleNamespace(value="eligible_on_known_data"),
                pending_count=0,
            ),
            SimpleNamespace(
                trial=trial, verdict=SimpleNamespace(value="possible_pending"), pending_count=2
            ),
            SimpleNamespace(
                trial=trial, verdict=SimpleNamespace(value="excluded"), pending_count=0
            ),
        ]

    rec = rec_for(case(), matcher=fake)
    summary = rec.details["matching"]
    assert summary["counts"] == {"eligible_on_known_data": 1, "possible_pending": 1, "excluded": 1}
    assert len(summary["top"]) == 2
    assert "1 eligible on known data" in rec.statement


def test_without_matcher_states_recommendation_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trials_module, "default_matcher", lambda: None)
    recs = trial_recommendations(case(), {})
    assert "not available" in recs[0].statement


def test_default_matcher_hook_runs() -> None:
    recs = trial_recommendations(case(), {})
    assert_well_formed(recs)
    assert "matching" in recs[0].details


def test_summarise_empty() -> None:
    assert summarise_matches([]) == {"counts": {}, "top": [], "total": 0}


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_pending_list_names_everything_the_pending_count_counts(path: Path) -> None:
    """A trial shown as 'possibly eligible; pending: ...' lists every undecided item, the
    registry checks (open on the day judged, conditions, country) as well as the criteria."""
    matches = match_trials(load_case(path))
    summary = summarise_matches(matches)
    top = summary["top"]
    assert isinstance(top, list)
    for shown in top:
        assert isinstance(shown, dict) and isinstance(shown["pending"], list)
        assert len(shown["pending"]) == shown["pending_count"], shown["registry_id"]


def test_an_undecided_recruitment_check_is_listed_as_pending() -> None:
    check = SimpleNamespace(
        requirement="recruiting on the day judged", outcome="not_enough_information"
    )
    met = SimpleNamespace(requirement="conditions studied include rhabdomyosarcoma", outcome="met")
    m = SimpleNamespace(
        verdict="possible_pending",
        trial=SimpleNamespace(registry_id="NCT0", title="t", phase_label="1", acronym=None),
        pending_count=1,
        pending=[],
        registry_checks=[met, check],
        needs=[],
    )
    (shown,) = summarise_matches([m])["top"]  # type: ignore[misc]
    assert shown["pending"] == ["recruiting on the day judged"]


def test_triggers_are_kept_per_case_within_an_assessment() -> None:
    """The triggers are worked out once per assessment (trials and palliative care both ask):
    each case in one scope gets its own, and the lists handed out are the caller's."""
    unknown_end = case(first_line={"end_date": None})
    twice = case(events=[event(date="2020-12-01"), event(date="2021-06-01")])
    expected_unknown = ([], ["first_line.end_date", "events[0].date"])
    expected_twice = trial_triggers(twice)
    assert expected_twice[0] == ["2 recurrences or progressions"]
    with assessment_scope():
        first = trial_triggers(unknown_end)
        assert first == expected_unknown
        assert trial_triggers(twice) == expected_twice
        first[0].append("tampered")
        first[1].clear()
        assert trial_triggers(unknown_end) == expected_unknown
        assert trial_triggers(twice) == expected_twice
    assert trial_triggers(unknown_end) == expected_unknown
