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

from rhabdo.case.model import Case
from rhabdo.knowledge.treatment import Outcome, TrialResult
from rhabdo.prognosis.population import Membership, PopulationCheck, check_population
from rhabdo.results import JsonValue


@dataclass(frozen=True)
class FigureGroup:
    """The figures of one trial that share a population, and whether the patient belongs."""

    trial: TrialResult
    check: PopulationCheck
    outcomes: tuple[Outcome, ...]

    @property
    def quoted(self) -> bool:
        return self.check.membership is Membership.MEMBER

    def text(self) -> str:
        """The figures in words (members), or why they are not this patient's."""
        c = self.check
        if self.quoted:
            figures = "; ".join(o.text() for o in self.outcomes)
            return f"{figures} (population: {c.words()})"
        if c.membership is Membership.NOT_MEMBER:
            return (
                f"figures from another population, not this patient's ({c.words()}): "
                + "; ".join(c.excluded_by)
            )
        needs = f"; record {', '.join(c.needs)}" if c.needs else ""
        return (
            f"figures not quoted: they describe {c.words()} and apply only if "
            + "; ".join(c.undecided)
            + needs
        )


def figure_groups(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> list[FigureGroup]:
    """``outcomes`` of ``trial`` grouped by the population each describes (first-seen order)."""
    order: dict[str, list[Outcome]] = {}
    for o in outcomes:
        order.setdefault(trial.population_of(o), []).append(o)
    return [
        FigureGroup(trial, check_population(case, pid), tuple(group))
        for pid, group in order.items()
    ]


def trial_text(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> str:
    """'<trial>: <figures or why not quoted>' for the reason of a recommendation."""
    groups = figure_groups(case, trial, outcomes)
    return f"{trial.name}: " + "; ".join(g.text() for g in groups)


def quoted_outcomes(case: Case, trial: TrialResult, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The figures of ``outcomes`` whose population includes the patient."""
    return [o for g in figure_groups(case, trial, outcomes) if g.quoted for o in g.outcomes]


def figure_details(
    case: Case, trial: TrialResult, outcomes: Sequence[Outcome]
) -> dict[str, JsonValue]:
    """The JSON view: quoted figures, and each population not (or not yet) including the
    patient with its reason and the records that would decide."""
    groups = figure_groups(case, trial, outcomes)
    return {
        "outcomes": [o.text() for g in groups if g.quoted for o in g.outcomes],
        "populations": [
            {
                "population": g.check.population_id,
                "membership": g.check.membership.value,
                "words": g.check.words(),
                "reason": g.check.reason(),
                "needs": list(g.check.needs),
                "figures": len(g.outcomes),
            }
            for g in groups
        ],
    }
