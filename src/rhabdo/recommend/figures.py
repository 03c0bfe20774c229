"""A regimen's published trial figures, quoted to a patient only from a population that
includes them.

Each trial figure in ``regimens.yaml`` declares the population it describes (the trial's
``population_id``, or a narrower one on the figure; ``knowledge/data/populations.yaml``).
Before a figure is quoted in a systemic-therapy reason it is checked with
:func:`rhabdo.prognosis.population.check_population` (issue 13: "every quoted outcome figure
belongs to a population that includes the patient"):

* the patient is a **member**: the figure is quoted, with its population in words;
* **not a member**: the figure is not quoted as the patient's; the reason says it comes from
  another population, names it in words and says what excludes the patient;
* **undecided**: not quoted; the reason says when it would apply and which record decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.knowledge.treatment import Outcome, TrialResult
from rhabdo.prognosis.population import Membership, PopulationCheck, check_population
from rhabdo.recommend._derived import per_entry
from rhabdo.results import JsonValue


@per_entry
def outcome_text(outcome: Outcome) -> str:
    """The figure in words (knowledge only, so once per process)."""
    return outcome.text()


class PopulationView(NamedTuple):
    """One population checked for this case, with the words every figure text of it uses
    (an immutable tuple: shared within the assessment, and cheaper to make than a frozen
    dataclass)."""

    check: PopulationCheck
    words: str
    reason: str
    #: Why its figures are not this patient's (empty for a member).
    not_quoted: str
    quoted: bool
    #: The JSON view of the population without its figure count (``figure_details``).
    entry: tuple[tuple[str, JsonValue], ...]


@once_per_assessment
def population_view(case: Case, population_id: str) -> PopulationView:
    """The case checked against ``population_id`` and put in words, once per assessment."""
    c = check_population(case, population_id)
    words = c.words()
    if c.membership is Membership.MEMBER:
        not_quoted = ""
    elif c.membership is Membership.NOT_MEMBER:
        not_quoted = f"figures from another population, not this patient's ({words}): " + "; ".join(
            c.excluded_by
        )
    else:
        needs = f"; record {', '.join(c.needs)}" if c.needs else ""
        not_quoted = (
            f"figures not quoted: they describe {words} and apply only if "
            + "; ".join(c.undecided)
            + needs
        )
    reason = c.reason()
    entry = (
        ("population", c.population_id),
        ("membership", c.membership.value),
        ("words", words),
        ("reason", reason),
    )
    quoted = c.membership is Membership.MEMBER
    return PopulationView(c, words, reason, not_quoted, quoted, entry)


@dataclass(frozen=True)
class FigureSet:
    """Figures of one trial that describe the same population (knowledge only)."""

    population_id: str
    outcomes: tuple[Outcome, ...]
    #: Each figure in words, and all of them as quoted to a member.
    texts: tuple[str, ...]
    figures: str


def _figure_sets(trial: TrialResult, outcomes: Sequence[Outcome]) -> tuple[FigureSet, ...]:
    order: dict[str, list[Outcome]] = {}
    for o in outcomes:
        order.setdefault(trial.population_of(o), []).append(o)
    sets: list[FigureSet] = []
    for pid, group in order.items():
        texts = tuple(outcome_text(o) for o in group)
        sets.append(FigureSet(pid, tuple(group), texts, "; ".join(texts)))
    return tuple(sets)


@per_entry
def _trial_figure_sets(trial: TrialResult) -> tuple[FigureSet, ...]:
    return _figure_sets(trial, trial.outcomes)


def figure_sets(trial: TrialResult, outcomes: Sequence[Outcome]) -> tuple[FigureSet, ...]:
    """``outcomes`` of ``trial`` grouped by the population each describes (first-seen order);
    all of a trial's figures are grouped once per process."""
    if outcomes is trial.outcomes:
        return _trial_figure_sets(trial)
    return _figure_sets(trial, outcomes)


@dataclass(frozen=True)
class FigureGroup:
    """The figures of one trial that share a population, and whether the patient belongs."""

    trial: TrialResult
    view: PopulationView
    figure_set: FigureSet

    @property
    def check(self) -> PopulationCheck:
        return self.view.check

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return self.figure_set.outcomes

    @property
    def quoted(self) -> bool:
        return self.view.quoted

    def text(self) -> str:
        """The figures in words (members), or why they are not this patient's."""
        return _set_text(self.figure_set, self.view)


def _set_text(figures: FigureSet, view: PopulationView) -> str:
    if view.quoted:
        return f"{figures.figures} (population: {view.words})"
    return view.not_quoted


def figure_groups(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> list[FigureGroup]:
    """``outcomes`` of ``trial`` grouped by the population each describes (first-seen order)."""
    return [
        FigureGroup(trial, population_view(case, fs.population_id), fs)
        for fs in figure_sets(trial, outcomes)
    ]


def sets_text(case: Case, trial: TrialResult, sets: Sequence[FigureSet]) -> str:
    """``trial_text`` of figures already grouped (``figure_sets``)."""
    return f"{trial.name}: " + "; ".join(
        [_set_text(fs, population_view(case, fs.population_id)) for fs in sets]
    )


def trial_text(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> str:
    """'<trial>: <figures or why not quoted>' for the reason of a recommendation."""
    return sets_text(case, trial, figure_sets(trial, outcomes))


def quoted_outcomes(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The figures of ``outcomes`` whose population includes the patient."""
    return [o for g in figure_groups(case, trial, outcomes) if g.quoted for o in g.outcomes]


def sets_details(case: Case, sets: Sequence[FigureSet]) -> tuple[list[str], list[JsonValue]]:
    """``figure_details`` of figures already grouped (``figure_sets``), as its two lists: the
    quoted figures, and every population (fresh lists and dicts, the caller's own)."""
    quoted: list[str] = []
    populations: list[JsonValue] = []
    for fs in sets:
        view = population_view(case, fs.population_id)
        if view.quoted:
            quoted += fs.texts
        population = dict(view.entry)
        population["needs"] = list(view.check.needs)
        population["figures"] = len(fs.outcomes)
        populations.append(population)
    return quoted, populations


def figure_details(
    case: Case, trial: TrialResult, outcomes: Sequence[Outcome]
) -> dict[str, JsonValue]:
    """The JSON view: quoted figures, and each population not (or not yet) including the
    patient with its reason and the records that would decide."""
    quoted, populations = sets_details(case, figure_sets(trial, outcomes))
    return {"outcomes": quoted, "populations": populations}
