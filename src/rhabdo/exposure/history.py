"""Treatment-history profile: what was given, when, and whether the disease came back on it.

``treatment_history(case)`` is a pure function returning, for each treatment line and each agent,
whether it was given, when it was last given, whether a recurrence or progression came *during*
it or *within a short interval after* it, and the recorded best response.  The systemic rules
use it to keep a regimen the disease progressed or relapsed on out of the options.

The short interval is Mattke 2009's "early" relapse: at most 6 months after the end of primary
therapy (knowledge entry ``mattke_2009.threshold.early_months``).  A recurrence that soon after a
line ended is read as failure of that line.  Months are days / 30.4375, as everywhere.

Unknown is never "no": a line whose dates do not place the recurrence relative to it is
``unknown``, and a regimen resting on it is not called safe.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from typing import NamedTuple

from rhabdo.case.model import Case, DiseaseEvent, TreatmentLine
from rhabdo.case.vocab import ChemotherapyAgent, TreatmentResponse
from rhabdo.exposure.cumulative import line_paths
from rhabdo.prognosis.knowledge import threshold

DAYS_PER_MONTH = 30.4375
INTERVAL_ENTRY = "mattke_2009.threshold.early_months"
INTERVAL_CITATION = "mattke_2009"


class Relation(StrEnum):
    """Where a recurrence lies relative to one treatment line."""

    DURING = "during"
    SOON_AFTER = "within_interval_after"
    LATER = "later"
    BEFORE = "before"
    UNKNOWN = "unknown"


#: Relations that make the line a failed one (the disease came back on it).
FAILED_RELATIONS = frozenset({Relation.DURING, Relation.SOON_AFTER})


class LineProfile(NamedTuple):
    """One treatment line: its agents, dates, response and the recurrences relative to it.

    Like ``AgentProfile``, an immutable tuple: several are made for every case, and a tuple is
    made at less than half the cost of a frozen dataclass (which sets each field in turn)."""

    path: str
    protocol: str | None
    agents: frozenset[ChemotherapyAgent]
    last_given: dt.date | None
    ongoing: bool | None
    best_response: TreatmentResponse | None
    relations: tuple[Relation, ...]  # one per event, in event order
    #: True when the disease progressed or relapsed on this line (or never responded); None
    #: when the record cannot tell; False when it did not (``line_failed``).
    failed: bool | None

    @property
    def name(self) -> str:
        return self.protocol or self.path

    def why_failed(self, interval_months: float) -> str:
        if self.best_response is TreatmentResponse.PROGRESSIVE_DISEASE:
            return f"the disease did not respond to {self.name} (best response: progression)"
        if Relation.DURING in self.relations:
            return f"the disease came back during {self.name}"
        return f"the disease came back within {interval_months:g} months of the end of {self.name}"


class AgentProfile(NamedTuple):
    agent: ChemotherapyAgent
    lines: tuple[str, ...]
    last_given: dt.date | None
    failed_on: tuple[str, ...]  # lines the disease progressed or relapsed on
    unclear_on: tuple[str, ...]  # lines where the record cannot tell


@dataclass(frozen=True)
class TreatmentHistory:
    known: bool  # whether any treatment line is recorded
    interval_months: float
    interval_source: str
    lines: tuple[LineProfile, ...] = ()
    #: The lines the disease progressed or relapsed on, and those where the record cannot tell
    #: (picked out when the history is made: every regimen asks).
    failed: tuple[LineProfile, ...] = field(init=False)
    unclear: tuple[LineProfile, ...] = field(init=False)
    #: Every agent of every line, and the agents of the failed lines (those with ``failed_on``).
    given_agents: frozenset[ChemotherapyAgent] = field(init=False)
    failed_agents: frozenset[ChemotherapyAgent] = field(init=False)

    def __post_init__(self) -> None:
        failed = tuple(line for line in self.lines if line.failed is True)
        # derived fields of a frozen dataclass are set through object.__setattr__, once
        object.__setattr__(self, "failed", failed)
        object.__setattr__(
            self, "unclear", tuple(line for line in self.lines if line.failed is None)
        )
        object.__setattr__(
            self, "given_agents", frozenset().union(*(line.agents for line in self.lines))
        )
        object.__setattr__(
            self, "failed_agents", frozenset().union(*(line.agents for line in failed))
        )

    @cached_property
    def agents(self) -> dict[ChemotherapyAgent, AgentProfile]:
        """Each agent given, in agent order, with the lines that held it (worked out when
        first asked: the systemic checks need only ``given_agents`` and ``failed_agents``)."""
        holding: dict[ChemotherapyAgent, list[LineProfile]] = {}
        for line in self.lines:
            for agent in line.agents:
                holding.setdefault(agent, []).append(line)
        return {agent: _agent_profile(agent, holding[agent]) for agent in sorted(holding)}

    def failed_lines(self) -> list[LineProfile]:
        """``failed`` as a list of the caller's own."""
        return list(self.failed)

    def given(self, agent: ChemotherapyAgent) -> bool | None:
        """Whether ``agent`` was given; None when the history is not recorded."""
        if agent in self.given_agents:
            return True
        return False if self.known else None


def line_failed(
    best_response: TreatmentResponse | None, relations: tuple[Relation, ...]
) -> bool | None:
    """Whether the disease came back on a line with this response and these recurrences."""
    if best_response is TreatmentResponse.PROGRESSIVE_DISEASE:
        return True
    if any(r in FAILED_RELATIONS for r in relations):
        return True
    if any(r is Relation.UNKNOWN for r in relations):
        return None
    return False


def relation(line: TreatmentLine, event: DiseaseEvent, interval_months: float) -> Relation:
    """Where ``event`` lies relative to ``line`` (dates only; unknown when they do not say)."""
    if event.date is None:
        return Relation.UNKNOWN
    if line.start_date is not None and event.date < line.start_date:
        return Relation.BEFORE
    if line.ongoing:
        return Relation.DURING if line.start_date is not None else Relation.UNKNOWN
    if line.end_date is None:
        return Relation.UNKNOWN
    if event.date <= line.end_date:
        return Relation.DURING if line.start_date is not None else Relation.UNKNOWN
    months = (event.date - line.end_date).days / DAYS_PER_MONTH
    return Relation.SOON_AFTER if months <= interval_months else Relation.LATER


def _line_profile(
    path: str, line: TreatmentLine, events: list[DiseaseEvent], interval: float
) -> LineProfile:
    relations = tuple(relation(line, ev, interval) for ev in events)
    return LineProfile(
        path=path,
        protocol=line.protocol,
        agents=frozenset(c.agent for c in line.chemotherapy),
        last_given=line.end_date,
        ongoing=line.ongoing,
        best_response=line.best_response,
        relations=relations,
        failed=line_failed(line.best_response, relations),
    )


def _agent_profile(agent: ChemotherapyAgent, holding: list[LineProfile]) -> AgentProfile:
    """``agent`` as given in the lines ``holding`` it (in line order)."""
    dates = [line.last_given for line in holding if line.last_given is not None]
    return AgentProfile(
        agent=agent,
        lines=tuple(line.path for line in holding),
        last_given=max(dates) if dates else None,
        failed_on=tuple(line.path for line in holding if line.failed is True),
        unclear_on=tuple(line.path for line in holding if line.failed is None),
    )


@cache
def _interval_source(interval: float) -> str:
    """Where the interval comes from, in words (knowledge only)."""
    return (
        f"within {interval:g} months of the end of a line: Mattke 2009's early relapse "
        "(at most 6 months after the end of primary therapy)"
    )


def treatment_history(case: Case) -> TreatmentHistory:
    """The profile of every line and agent given, with recurrences placed against each line."""
    interval = threshold(INTERVAL_ENTRY)
    paths = line_paths(case)
    return TreatmentHistory(
        known=bool(paths),
        interval_months=interval,
        interval_source=_interval_source(interval),
        lines=tuple(_line_profile(p, line, case.events, interval) for p, line in paths),
    )
