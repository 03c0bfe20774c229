"""What the systemic rules and the passes over all recommendations remember, and for how long.

Knowledge-derived text (a regimen's agents and gaps, a trial's figures in words) is worked out
once per process, by the identity of the knowledge object; what depends on the case (a
population checked for the patient, the histology hold) once per assessment scope.  Two cases
in one scope never share an answer, and no result handed out is shared mutable state.
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import by_id, case, event

from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.engine import core_findings
from rhabdo.exposure import exposure_findings
from rhabdo.exposure.history import treatment_history
from rhabdo.knowledge.treatment import regimens
from rhabdo.recommend._derived import per_entry
from rhabdo.recommend.figures import population_view, trial_text
from rhabdo.recommend.histology import histology_hold
from rhabdo.recommend.systemic import regimen_details, systemic_recommendations


def _findings(c: Case) -> dict[str, Any]:
    out = core_findings(c)
    out.update({f.id: f for f in exposure_findings(c)})
    return out


def test_per_entry_answers_each_object_by_identity() -> None:
    calls: list[object] = []

    @per_entry
    def words(entry: object) -> str:
        calls.append(entry)
        return f"answer {len(calls)}"

    vit = regimens()["vit"]
    twin = vit.model_copy(deep=True)  # equal, but another object
    assert words(vit) == words(vit) == "answer 1"
    assert words(twin) == "answer 2"
    assert calls == [vit, twin]


def test_two_cases_in_one_scope_get_their_own_figure_texts() -> None:
    """VIT-0910 excluded prior irinotecan: after irinotecan its figures are not quoted, and the
    first case's quoted figures are not handed to the second case in the same scope."""
    vit = regimens()["vit"].trials[0]
    naive = case()
    after = case(first_line={"chemotherapy": [{"agent": "vincristine"}, {"agent": "irinotecan"}]})
    with assessment_scope():
        quoted = trial_text(naive, vit, vit.outcomes)
        not_quoted = trial_text(after, vit, vit.outcomes)
    assert quoted == trial_text(naive, vit, vit.outcomes)
    assert not_quoted == trial_text(after, vit, vit.outcomes)
    assert "44%" in quoted and "44%" not in not_quoted


def test_two_cases_in_one_scope_get_their_own_options() -> None:
    naive = case()
    after = case(first_line={"chemotherapy": [{"agent": "vincristine"}, {"agent": "irinotecan"}]})
    alone = [systemic_recommendations(c, _findings(c)) for c in (naive, after)]
    with assessment_scope():
        together = [systemic_recommendations(c, _findings(c)) for c in (naive, after)]
    assert together == alone
    assert together[0] != together[1]


def test_histology_hold_is_per_case_within_a_scope() -> None:
    confirmed = case(events=[event(histologically_confirmed=True)])
    unconfirmed = case(events=[event(histologically_confirmed=False)])
    with assessment_scope():
        assert histology_hold(confirmed).held is False
        assert histology_hold(unconfirmed).held is True
        assert histology_hold(unconfirmed) is histology_hold(unconfirmed)
    # immutable: the answer shared within a scope cannot be changed by a caller
    assert isinstance(histology_hold(unconfirmed).triggers, tuple)
    assert isinstance(histology_hold(unconfirmed).differential, tuple)


def test_regimen_details_handed_out_are_not_shared() -> None:
    c = case()
    vit = regimens()["vit"]
    first = regimen_details(vit, c)
    first["agents"][0]["dose"] = -1
    first["agents"].clear()
    first["trials"][0]["populations"].clear()
    again = regimen_details(vit, c)
    assert again["agents"] and again["agents"][0]["dose"] != -1
    assert again["trials"][0]["populations"]


def test_evidence_gaps_handed_out_are_not_shared() -> None:
    c = case()
    recs = by_id(systemic_recommendations(c, _findings(c)))
    gapped = next(r for r in recs.values() if r.evidence_gaps)
    gapped.evidence_gaps.clear()
    again = by_id(systemic_recommendations(c, _findings(c)))
    assert again[gapped.id].evidence_gaps


def test_failed_lines_are_a_fresh_list_each_time() -> None:
    c = case()  # relapse 3 months after the end of VA: that line failed (Mattke 2009)
    history = treatment_history(c)
    failed = history.failed_lines()
    assert failed
    failed.clear()
    assert history.failed_lines()


def test_trial_and_agent_dicts_handed_out_are_not_shared() -> None:
    """A regimen's head, agent and trial dicts are built from per-process knowledge views:
    changing one handed out changes neither the knowledge view nor the next answer."""
    c = case()
    vit = regimens()["vit"]
    first = regimen_details(vit, c)
    first["name"] = "changed"
    first["agents"][0]["agent"] = "changed"
    first["trials"][0]["trial"] = "changed"
    first["trials"][0]["citation"] = "changed"
    first["trials"][0]["populations"][0]["words"] = "changed"
    again = regimen_details(vit, c)
    assert "changed" not in repr(again)
    assert again["agents"][0] is not first["agents"][0]


def test_overview_gaps_are_the_same_for_every_case_and_not_shared() -> None:
    naive = case()
    after = case(first_line={"chemotherapy": [{"agent": "vincristine"}, {"agent": "irinotecan"}]})
    with assessment_scope():
        first, second = (
            by_id(systemic_recommendations(c, _findings(c)))["systemic.relapse_overview"]
            for c in (naive, after)
        )
    assert first.evidence_gaps == second.evidence_gaps
    assert first.evidence_gaps is not second.evidence_gaps
    first.evidence_gaps.clear()
    assert second.evidence_gaps


def test_history_agent_sets_agree_with_the_agent_profiles() -> None:
    """``given_agents`` and ``failed_agents`` (what the systemic checks read) say the same as
    the per-agent profiles, which are worked out only when asked."""
    later = {"chemotherapy": [{"agent": "vincristine"}, {"agent": "irinotecan"}]}
    for c in (case(), case(later_lines=[later]), case(first_line=None)):
        history = treatment_history(c)
        assert history.given_agents == frozenset(history.agents)
        assert history.failed_agents == frozenset(
            a for a, profile in history.agents.items() if profile.failed_on
        )
        assert all(history.given(a) for a in history.given_agents)


def test_history_and_population_views_cannot_be_changed() -> None:
    """The per-case values shared by every regimen (and, for a population, every trial of the
    assessment) are immutable tuples."""
    c = case()
    history = treatment_history(c)
    line = history.lines[0]
    with pytest.raises(AttributeError):
        line.failed = False  # type: ignore[misc]
    with assessment_scope():
        view = population_view(c, regimens()["vit"].trials[0].population_id or "")
        with pytest.raises(AttributeError):
            view.quoted = False  # type: ignore[misc]
        assert population_view(c, view.check.population_id) is view
        other = case(first_line={"chemotherapy": [{"agent": "irinotecan"}]})
        assert population_view(other, view.check.population_id) is not view
