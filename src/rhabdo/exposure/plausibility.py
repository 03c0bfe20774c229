"""Implausible input, caught before it is believed.

* ``implausible_doses(case)``: every recorded dose per administration outside the plausible
  range of its agent (``plausible_range`` entries of ``knowledge/data/dosing.yaml``, each with
  its basis) is a problem naming the field, the value, the range and a likely cause
  ("1200 g/m2 -- did you mean mg/m2?").  ``assess`` refuses such a case
  (``CaseValidationError``); so does ``rhabdo validate``.
* ``input_warnings(case, on)``: possible but very unlikely records, shown at the top of every
  rendering (``Assessment.warnings``): an age over 100 from the date of birth; an age at
  diagnosis outside the ages the knowledge base covers; a cumulative dose far above the
  largest course total of any regimen in the knowledge base.

The plausible range is stated in one unit family (per m2, per kg or flat).  The other families
are derived with the case schema's body-size envelope: 0.015-0.1 m2 of body surface per kg,
0.1-3.5 m2 of body surface, 1-250 kg -- wide on purpose: it is a unit-error screen, never a
dosing limit.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from rhabdo.case.age import calendar_age_years
from rhabdo.case.model import Case, ChemotherapyExposure
from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.errors import FieldProblem
from rhabdo.exposure.cumulative import AgentTotal, line_paths
from rhabdo.exposure.dosing import UNIT_FAMILY
from rhabdo.knowledge.dosing import DosingEntry, DosingKind, UnitFamily, rules_of
from rhabdo.knowledge.treatment import regimens
from rhabdo.results import InputWarning

BSA_PER_KG = (0.015, 0.1)
BSA_M2 = (0.1, 3.5)
WEIGHT_KG = (1.0, 250.0)

#: Over this many times the largest course total of any regimen, a cumulative dose is "far
#: above any protocol's maximum" (a warning: possible after several lines, but check it).
FAR_ABOVE_FACTOR = 3.0
AGE_OVER_YEARS = 100

_FAMILY_UNIT = {UnitFamily.PER_M2: "mg/m2", UnitFamily.PER_KG: "mg/kg", UnitFamily.FLAT: "mg"}


@cache
def plausible_range(agent: ChemotherapyAgent) -> DosingEntry:
    """The plausible-range entry that covers ``agent`` (every vocabulary agent has one)."""
    for e in rules_of(DosingKind.PLAUSIBLE_RANGE):
        if agent in e.agents:
            return e
    raise LookupError(f"no plausible range for {agent.value}")


def range_in(entry: DosingEntry, family: UnitFamily) -> tuple[float, float]:
    """The entry's plausible range (mg per unit of ``family``), derived if stated in another."""
    assert entry.low is not None and entry.high is not None and entry.unit_family is not None
    lo, hi, stated = entry.low, entry.high, entry.unit_family
    if stated is family:
        return lo, hi
    if stated is UnitFamily.PER_M2:
        span = BSA_PER_KG if family is UnitFamily.PER_KG else BSA_M2
        return lo * span[0], hi * span[1]
    if stated is UnitFamily.PER_KG:
        if family is UnitFamily.PER_M2:
            return lo / BSA_PER_KG[1], hi / BSA_PER_KG[0]
        return lo * WEIGHT_KG[0], hi * WEIGHT_KG[1]
    # stated flat: per m2 / per kg follow from the body-size envelope
    span = BSA_M2 if family is UnitFamily.PER_M2 else WEIGHT_KG
    return lo / span[1], hi / span[0]


def _fits(agent: ChemotherapyAgent, amount: float, unit: DoseUnit) -> bool:
    lo, hi, factor = _bounds(agent, unit)
    return lo <= amount * factor <= hi


@cache
def _bounds(agent: ChemotherapyAgent, unit: DoseUnit) -> tuple[float, float, float]:
    """The plausible range of ``agent`` in ``unit``'s family, and ``unit``'s factor to it
    (knowledge only, so worked out once per agent and unit)."""
    family, factor = UNIT_FAMILY[unit]
    lo, hi = range_in(plausible_range(agent), family)
    return lo, hi, factor


def likely_cause(agent: ChemotherapyAgent, amount: float, unit: DoseUnit) -> str:
    """A unit that would make ``amount`` plausible ("did you mean mg/m2?"), if there is one."""
    family = UNIT_FAMILY[unit][0]
    same = [u for u in DoseUnit if u is not unit and UNIT_FAMILY[u][0] is family]
    other = [u for u in DoseUnit if UNIT_FAMILY[u][0] is not family]
    for u in same + other:
        if _fits(agent, amount, u):
            return f"did you mean {u.value}?"
    return "check the dose and its unit"


def _fmt(x: float) -> str:
    return f"{x:,.4g}" if x < 1000 else f"{x:,.0f}"


def dose_problem(exposure: ChemotherapyExposure, path: str) -> FieldProblem | None:
    """A problem when the dose per administration is implausible for its agent and unit."""
    amount, unit = exposure.dose_per_administration, exposure.dose_unit
    if amount is None or unit is None or _fits(exposure.agent, amount, unit):
        return None
    entry = plausible_range(exposure.agent)
    family = UNIT_FAMILY[unit][0]
    lo, hi = range_in(entry, family)
    basis = " ".join(entry.text.split()).rstrip(".")
    cause = likely_cause(exposure.agent, amount, unit)
    return FieldProblem(
        f"{path}.dose_per_administration",
        f"{amount:g} {unit.value} of {exposure.display_name} per administration is outside "
        f"the plausible range {_fmt(lo)}-{_fmt(hi)} {_FAMILY_UNIT[family]} "
        f"(basis: {basis}) -- {cause}",
    )


def implausible_doses(case: Case) -> list[FieldProblem]:
    """Every implausible dose per administration in every treatment line."""
    problems = []
    for line_path, line in line_paths(case):
        for i, exposure in enumerate(line.chemotherapy):
            p = dose_problem(exposure, f"{line_path}.chemotherapy[{i}]")
            if p is not None:
                problems.append(p)
    return problems


@cache
def largest_course_mg_m2() -> dict[ChemotherapyAgent, tuple[float, str]]:
    """Per agent, the largest course total (mg/m2) of any regimen whose doses are known."""
    out: dict[ChemotherapyAgent, tuple[float, str]] = {}
    for r in regimens():
        if r.max_cycles is None:
            continue
        for a in r.agents:
            per_cycle = a.dose_per_cycle_mg_m2
            if per_cycle is None:
                continue
            total = per_cycle * r.max_cycles
            if total > out.get(a.agent, (0.0, ""))[0]:
                out[a.agent] = (total, r.id)
    return out


def cumulative_warnings(totals: dict[str, AgentTotal]) -> list[InputWarning]:
    """A warning for each agent whose cumulative dose is far above any course in the knowledge."""
    out = []
    largest = largest_course_mg_m2()
    for key, total in totals.items():
        try:
            agent = ChemotherapyAgent(key)
        except ValueError:
            continue
        if agent not in largest:
            continue
        course, regimen_id = largest[agent]
        if total.known_mg_m2 > FAR_ABOVE_FACTOR * course:
            r = regimens()[regimen_id]
            out.append(
                InputWarning(
                    id=f"warning.cumulative_dose.{key}",
                    message=f"Cumulative {key} {_fmt(total.known_mg_m2)} mg/m2 is more than "
                    f"{FAR_ABOVE_FACTOR:g} times the largest course in the knowledge base "
                    f"({r.name}: {_fmt(course)} mg/m2 over {r.max_cycles} cycles). "
                    "Check the recorded doses and units.",
                    fields=[c.path for c in total.contributions],
                    citations=list(r.citations),
                )
            )
    return out


def _age_on(case: Case, on: date) -> int | None:
    born = case.patient.date_of_birth
    return calendar_age_years(born, on) if born is not None else None


@cache
def _plausible_ages() -> tuple[DosingEntry, ...]:
    return tuple(rules_of(DosingKind.PLAUSIBLE_AGE))


def age_warnings(case: Case, on: date) -> list[InputWarning]:
    """An age over 100, or an age at diagnosis outside the ages the knowledge covers."""
    out = []
    age = _age_on(case, on)
    if age is not None and age > AGE_OVER_YEARS:
        out.append(
            InputWarning(
                id="warning.age_over_100",
                message=f"The date of birth gives an age of {age} years on {on.isoformat()}. "
                "Check patient.date_of_birth.",
                fields=["patient.date_of_birth"],
            )
        )
    days = case.age_at_diagnosis_days
    covered = _plausible_ages()
    if days is not None:
        years = days / 365.25
        for e in covered:
            assert e.low is not None and e.high is not None
            if not e.low <= years <= e.high:
                out.append(
                    InputWarning(
                        id="warning.age_at_diagnosis_outside_knowledge",
                        message=f"Age at diagnosis {years:.1f} years is outside the ages the "
                        f"knowledge base covers ({e.low:g}-{e.high:g} years: "
                        f"{' '.join(e.text.split())}). Every figure below comes from "
                        "younger or older populations.",
                        fields=["patient.age_at_diagnosis_days", "patient.date_of_birth"],
                        citations=list(e.citations),
                    )
                )
    return out


def input_warnings(case: Case, totals: dict[str, AgentTotal], on: date) -> list[InputWarning]:
    """Every warning about the record itself, for the top of every rendering."""
    return age_warnings(case, on) + cumulative_warnings(totals)
