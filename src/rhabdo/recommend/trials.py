"""Category clinical_trials: early-phase trials for disseminated, relapsed or refractory disease.

No standard agent has shown clinically significant activity at relapse, so novel agents in phase
I/II trials should be considered (PDQ), a trial should be strongly considered for most patients
(Heske 2021), and early-phase trials may be considered for disseminated or multiple recurrence
(Ogawa 2021).  Matching itself is another module: when ``rhabdo.trials.match_trials`` exists its
verdicts are summarised here; otherwise the recommendation stands without matches.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from functools import cache
from typing import Any

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.classify.extent import case_event_extent
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.knowledge import care_entries
from rhabdo.results import Finding, JsonValue, Recommendation, RecommendationCategory, Strength

RULE = "recommend.trials.v1"
TOP_MATCHES = 5

Matcher = Callable[[Case], list[Any]]


@cache
def default_matcher() -> Matcher | None:
    """The trial matcher if the trials package provides one, else None (the hook).  What is
    installed does not change while the process runs, so the answer is found once."""
    try:
        module = importlib.import_module("rhabdo.trials")
    except ImportError:
        return None
    matcher = getattr(module, "match_trials", None)
    return matcher if callable(matcher) else None


def _text(code: Any) -> str:
    """The text of a code: an enum's value (read without the enum property's detour), another
    object's ``value`` when it has one, else the object itself."""
    if isinstance(code, Enum):
        return str(code._value_)
    return str(getattr(code, "value", code))


def _shown(m: Any, verdict: str) -> dict[str, JsonValue]:
    """One match as the summary shows it."""
    trial = getattr(m, "trial", None)
    # every item pending_count counts: the criteria, then the registry checks (e.g. whether
    # the trial was open on the day judged) not yet decided
    pending = [str(getattr(c, "requirement", c)) for c in getattr(m, "pending", [])]
    for check in getattr(m, "registry_checks", []):
        if _text(getattr(check, "outcome", "")) == "not_enough_information":
            pending.append(str(getattr(check, "requirement", check)))
    return {
        "registry_id": getattr(trial, "registry_id", None),
        "title": getattr(trial, "title", None),
        "phase": getattr(trial, "phase_label", None),
        "verdict": verdict,
        "pending_count": getattr(m, "pending_count", None),
        "acronym": getattr(trial, "acronym", None),
        "pending": pending,
        "needs": list(getattr(m, "needs", [])),
    }


def summarise_matches(matches: Sequence[Any]) -> dict[str, JsonValue]:
    """Counts per verdict and the first few matches, in the matcher's order."""
    counts: dict[str, int] = {}
    top: list[dict[str, JsonValue]] = []
    for m in matches:
        verdict = _text(getattr(m, "verdict", "unknown"))
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict != "excluded" and len(top) < TOP_MATCHES:
            top.append(_shown(m, verdict))
    return {"counts": counts, "top": top, "total": len(matches)}


def trial_triggers(case: Case) -> tuple[list[str], list[str]]:
    """(triggers present, fields that would decide the ones not assessable); the lists are
    the caller's own."""
    present, unknown = _triggers(case)
    return list(present), list(unknown)


@once_per_assessment
def _triggers(case: Case) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The trial triggers of a case, worked out once per assessment (the trial and the
    palliative recommendations both ask); immutable, so every caller may share them."""
    present: list[str] = []
    unknown: list[str] = []
    spread = facts.recurrence_spread(case)
    path = facts.current_event_path(case)
    if spread == facts.Spread.DISSEMINATED:
        present.append("disseminated or multiple-site recurrence")
    elif spread == facts.Spread.UNKNOWN:
        if case.events:
            unknown += case_event_extent(case, len(case.events) - 1).needs
        else:
            unknown.append(f"{path}.sites")
    if facts.recurrence_count(case) >= 2:
        present.append(f"{facts.recurrence_count(case)} recurrences or progressions")
    early = facts.early_progression(case)
    if early is True:
        present.append("progression or relapse during first-line therapy")
    elif early is None:
        unknown += ["first_line.end_date", "events[0].date"]
    if facts.metastatic_at_diagnosis(case):
        present.append("metastatic disease at diagnosis")
    return tuple(present), tuple(unknown)


def trial_recommendations(
    case: Case, findings: Mapping[str, Finding], matcher: Matcher | None = None
) -> list[Recommendation]:
    """Early-phase trials at recurrence; stronger if disseminated, relapsed again or refractory."""
    if facts.current_event(case) is None:
        return []
    entry = care_entries()["care.early_phase_trials"]
    present, unknown = trial_triggers(case)
    match = matcher if matcher is not None else default_matcher()
    details: dict[str, JsonValue] = {"triggers": present, "needs": unknown}
    if match is None:
        details["matching"] = "trial matching is not available in this installation"
        tail = " Trial matching is not available here; search the registries."
    else:
        summary = summarise_matches(match(case))
        details["matching"] = summary
        counts = summary["counts"]
        assert isinstance(counts, dict)
        tail = (
            f" The bundled trial list gives {counts.get('eligible_on_known_data', 0)} eligible on "
            "known data, "
            f"{counts.get('possible_pending', 0)} possible pending more information and "
            f"{counts.get('excluded', 0)} excluded."
        )
    if present:
        strength = Strength.RECOMMENDED
        reason = "Early-phase trials should be considered because of " + join_words(present) + "."
    else:
        strength = Strength.CONSIDER
        reason = "No standard agent has shown clinically significant activity at relapse."
        if unknown:
            reason += " Not assessable: " + ", ".join(unknown) + "."
    return [
        build(
            id="trials.early_phase",
            category=RecommendationCategory.CLINICAL_TRIALS,
            statement="Offer assessment for an early-phase (phase I/II) clinical trial." + tail,
            strength=strength,
            reason=reason,
            rule=RULE,
            entries=[entry],
            based_on_findings=facts.present(
                findings, "relapse.type", "relapse.refractory", "prognosis.relapse"
            ),
            inputs_used=[
                "events",
                "first_line.end_date",
                "first_line.ongoing",
                "diagnosis.distant_metastases",
            ],
            details=details,
        )
    ]
