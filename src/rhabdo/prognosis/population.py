"""Who a published figure describes, and whether this patient is one of them.

Every prognostic model and outcome figure declares its population in
``knowledge/data/populations.yaml``: metastatic at diagnosis or not, histology, risk group,
kind and pattern of the first event, timing, era and age range, each from the source (with the
source's evidence status).  :func:`check_population` answers, for one case, whether the patient
belongs to a population:

* **member** -- every restriction of the population holds for the patient;
* **not a member** -- at least one restriction excludes the patient (the figure is "not
  applicable: population", with the reason);
* **unknown** -- no restriction excludes the patient but some cannot be decided; the fields
  that would decide are named.

:func:`figure_applies` does the same for one prognosis entry (its ``population_id``, or its
model's population).  Any rule that quotes a figure to a patient -- a prognosis finding, a
local-therapy reason -- calls one of them first.

``specificity`` counts the patient characteristics a population is defined on (histology,
stage/group, pattern of recurrence ...): the more, the more specific the figure is for a member,
and the headline of ``prognosis.relapse`` is the applicable figure with the highest count.
Era is shown in words but never excludes a patient (every relapse model predates today's
treatment); an age range excludes only where the source states one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, partial
from typing import Annotated, NamedTuple

from pydantic import Field, model_validator

from rhabdo.case.age import age_at_least
from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import ChemotherapyAgent, EventKind, Histology
from rhabdo.classify.relapse import (
    RelapseType,
    mattke_category,
    months_from_end_of_first_line,
    on_first_line_therapy,
    relapse_refractory,
    relapse_type,
)
from rhabdo.classify.relapse_group import cog_relapse_group
from rhabdo.classify.risk_cog import cog_histology_risk
from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import KnowledgeEntry, Table, load_table
from rhabdo.prognosis._subgroups import pappo_category
from rhabdo.prognosis.knowledge import EntryKind, PrognosisEntry, entry, prognosis_table
from rhabdo.prognosis.oberlin import metastatic_at_diagnosis
from rhabdo.results import FindingStatus

POPULATIONS_FILE = "populations.yaml"


class EvidenceStatus(StrEnum):
    """How the population was read, as in the fact sheets."""

    VERIFIED = "verified"
    SECONDARY = "secondary"


class Characteristic(StrEnum):
    """A patient characteristic a population can be defined on (for specificity and words)."""

    DISEASE_AT_DIAGNOSIS = "disease at diagnosis"
    HISTOLOGY = "histology"
    STAGE_GROUP = "stage/group at diagnosis"
    RISK_GROUP = "risk group"
    PRIMARY_SITE = "primary site"
    FIRST_EVENT = "kind of first event"
    PATTERN = "pattern of recurrence"
    TIMING = "timing of recurrence"
    PRIOR_TREATMENT = "prior treatment"
    AGE = "age"


class Criterion(StrEnum):
    """A composite condition evaluated in code from the case's own findings."""

    PAPPO_BOTRYOID = "pappo_botryoid"
    PAPPO_EMBRYONAL_STAGE1_OR_GROUP1 = "pappo_embryonal_stage1_or_group1"
    PAPPO_EMBRYONAL_STAGE23_OR_GROUP23 = "pappo_embryonal_stage23_or_group23"
    PAPPO_EMBRYONAL_GROUP4 = "pappo_embryonal_group4"
    PAPPO_ALVEOLAR_GROUP1 = "pappo_alveolar_group1"
    PAPPO_ALVEOLAR_GROUP2_4 = "pappo_alveolar_group2_4"
    COG_INTERMEDIATE_RISK_IRS4_D9803 = "cog_intermediate_risk_irs4_d9803"
    EARLY_FAILURE_120_DAYS = "early_failure_120_days"
    COG_RELAPSE_FAVOURABLE = "cog_relapse_favourable"
    COG_RELAPSE_UNFAVOURABLE = "cog_relapse_unfavourable"
    CIRCUMSCRIBED_RECURRENCE = "circumscribed_recurrence"


class TimeAfterTherapy(StrEnum):
    """Mattke 2009 categories of the time from the end of primary therapy."""

    EARLY = "early"
    INTERMEDIATE = "intermediate"
    LATE = "late"


class PopulationEntry(KnowledgeEntry):
    """One published population (a cohort, or a subgroup of one via ``parent``).

    A restriction left empty (None) means the source does not restrict it; ``parent``'s
    restrictions apply as well.
    """

    model: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    parent: str | None = None
    description: Annotated[str, Field(min_length=10)] = Field(
        description="Who the population is, in the source's words (shown to the clinician)."
    )
    evidence: EvidenceStatus
    era: str | None = Field(default=None, description="Trials and years, in words.")
    metastatic_at_diagnosis: bool | None = None
    metastatic_inclusion_unverified: bool = Field(
        default=False,
        description="True when the sources read do not say whether patients metastatic at "
        "diagnosis were included: such a patient's membership stays undecided (an evidence "
        "gap, not a missing case field).",
    )
    histologies: list[Histology] | None = None
    first_event_kinds: list[EventKind] | None = None
    first_recurrence_only: bool = Field(
        default=False,
        description="True for a population of patients at their first relapse or progression: "
        "a patient whose current event is a second or later recurrence is not a member.",
    )
    prior_agents_excluded: list[ChemotherapyAgent] | None = Field(
        default=None,
        description="Agents the population had never received (an eligibility exclusion): a "
        "patient given any of them is not a member; unknown while the treatment is unrecorded.",
    )
    relapse_types: list[RelapseType] | None = None
    on_first_line_therapy: bool | None = None
    time_after_therapy: list[TimeAfterTherapy] | None = None
    criteria: list[Criterion] = Field(default_factory=list)
    age_min_years: Annotated[float, Field(ge=0)] | None = None
    age_max_years: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Upper age bound, inclusive of the stated year (0-40 = <41)."
    )
    age_note: str | None = Field(
        default=None, description="What the sources say about age when no bound is encoded."
    )
    also_conditions_on: list[Characteristic] = Field(
        default_factory=list,
        description="Characteristics the model itself used to pick this subgroup (for "
        "example Mazzoleni's factor count), beyond the restrictions above.",
    )

    @model_validator(mode="after")
    def _ages_ordered(self) -> PopulationEntry:
        if (
            self.age_min_years is not None
            and self.age_max_years is not None
            and self.age_min_years > self.age_max_years
        ):
            raise ValueError("age_max_years: below age_min_years")
        return self


def population_table() -> Table[PopulationEntry]:
    """The shipped populations (read once, cached)."""
    return load_table(POPULATIONS_FILE, PopulationEntry)


def population(population_id: str) -> PopulationEntry:
    return population_table()[population_id]


@cache
def lineage(population_id: str) -> tuple[PopulationEntry, ...]:
    """The population and its ancestors, the cohort first (cached: knowledge only)."""
    chain: list[PopulationEntry] = []
    current: str | None = population_id
    while current is not None:
        p = population(current)
        if any(c.id == p.id for c in chain):
            raise KnowledgeBaseError(POPULATIONS_FILE, "parent cycle", entry=population_id)
        chain.append(p)
        current = p.parent
    return tuple(reversed(chain))


# --- membership --------------------------------------------------------------------------------


class Membership(StrEnum):
    MEMBER = "member"
    NOT_MEMBER = "not_member"
    UNKNOWN = "unknown"


class Test(NamedTuple):
    """One restriction tested on one case."""

    characteristic: Characteristic
    holds: bool | None
    words: str
    needs: tuple[str, ...] = ()


class PopulationCheck(NamedTuple):
    """Whether a case belongs to a population, why, and what would decide it."""

    population_id: str
    membership: Membership
    description: str
    cohort: str | None
    evidence: EvidenceStatus
    era: str | None
    excluded_by: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    conditions_on: tuple[Characteristic, ...] = ()

    @property
    def specificity(self) -> int:
        return len(self.conditions_on)

    def words(self) -> str:
        """The population in words, with its evidence label where it is not verified."""
        return _population_words(self.description, self.cohort, self.era, self.evidence)

    def reason(self) -> str:
        if self.membership is Membership.NOT_MEMBER:
            return "not applicable: population -- " + "; ".join(self.excluded_by)
        if self.membership is Membership.UNKNOWN:
            return "applies only if " + "; ".join(self.undecided)
        return "the patient belongs to this population"


@cache
def _population_words(
    description: str, cohort: str | None, era: str | None, evidence: EvidenceStatus
) -> str:
    """A population in words (cached: it depends on the knowledge only)."""
    label = " [SECONDARY]" if evidence is EvidenceStatus.SECONDARY else ""
    era_words = ""
    if era and era not in f"{description} {cohort or ''}":
        era_words = f"; {era}"
    within = f", within: {cohort}" if cohort else ""
    return f"{description}{within}{era_words}{label}"


# --- restrictions, each tested on one case ------------------------------------------------------
#
# A restriction's words depend only on the knowledge, so they are written once (when the
# population's plan is made, below); the tests themselves read the case.

_DX = Characteristic.DISEASE_AT_DIAGNOSIS
_H = Characteristic.HISTOLOGY
_SG = Characteristic.STAGE_GROUP
_FIRST = Characteristic.FIRST_EVENT


def _histology_test(case: Case, allowed: frozenset[Histology], words: str) -> Test:
    h = case.diagnosis.histology
    if h in allowed:
        return Test(_H, True, words)
    if h is None:
        return Test(_H, None, words, ("diagnosis.histology",))
    if h is Histology.RMS_NOS:
        return Test(
            _H, None, f"{words} (RMS NOS: subtype not determined)", ("diagnosis.histology",)
        )
    return Test(_H, False, f"{words}; this is {h.label}")


def _metastatic_test(case: Case, wanted: bool) -> Test:
    m1 = metastatic_at_diagnosis(case)
    words = "metastatic at diagnosis" if wanted else "not metastatic at diagnosis"
    if m1 is wanted:
        return Test(_DX, True, words)
    if m1 is None:
        return Test(_DX, None, words, ("diagnosis.distant_metastases",))
    this = "metastatic" if m1 else "not metastatic"
    return Test(_DX, False, f"{words}; this case was {this}")


_INCLUSION_UNVERIFIED = Test(
    _DX,
    None,
    "patients metastatic at diagnosis were included (not verified in the sources read)",
)


def _metastatic_inclusion_test(case: Case) -> Test | None:
    """Undecided for a patient who may have been metastatic at diagnosis; no test otherwise."""
    return None if metastatic_at_diagnosis(case) is False else _INCLUSION_UNVERIFIED


def _event_kind_test(case: Case, kinds: frozenset[EventKind], words: str) -> Test:
    kind = case.events[0].kind
    if kind in kinds:
        return Test(_FIRST, True, words)
    return Test(_FIRST, False, f"{words}; this is a {kind.label}")


_FIRST_RECURRENCE = "first relapse or progression"
_IS_FIRST_RECURRENCE = Test(_FIRST, True, _FIRST_RECURRENCE)


def _first_recurrence_test(case: Case) -> Test:
    n = len(case.events)
    if n <= 1:
        return _IS_FIRST_RECURRENCE
    return Test(_FIRST, False, f"{_FIRST_RECURRENCE}; this is recurrence {n}")


def _prior_agents_test(case: Case, excluded: frozenset[ChemotherapyAgent], words: str) -> Test:
    """Never given any of ``excluded`` (an eligibility exclusion of the source)."""
    if case.first_line is None:
        return Test(Characteristic.PRIOR_TREATMENT, None, words, ("first_line",))
    given = {
        c.agent for line in (case.first_line, *case.later_lines) for c in line.chemotherapy
    } & excluded
    if given:
        this = ", ".join(sorted(a.label for a in given))
        return Test(Characteristic.PRIOR_TREATMENT, False, f"{words}; this patient had {this}")
    return Test(Characteristic.PRIOR_TREATMENT, True, words)


def _relapse_type_test(case: Case, types: frozenset[str], words: str) -> Test:
    f = relapse_type(case)
    if not f.is_determined:
        return Test(Characteristic.PATTERN, None, words, tuple(f.needs))
    return Test(Characteristic.PATTERN, f.value in types, f"{words}; this recurrence is {f.value}")


_TIMING_NEEDS = ("first_line.end_date", "events[0].date")


def _on_therapy_test(case: Case, wanted: bool) -> Test:
    on = on_first_line_therapy(case)
    words = (
        "recurrence during first-line therapy"
        if wanted
        else ("recurrence after first-line therapy was completed")
    )
    if on is None:
        return Test(Characteristic.TIMING, None, words, _TIMING_NEEDS)
    this = "during" if on else "after"
    return Test(Characteristic.TIMING, on == wanted, f"{words}; this came {this} it")


def _time_after_test(case: Case, wanted: frozenset[str], words: str) -> Test:
    months = months_from_end_of_first_line(case)
    if on_first_line_therapy(case) is not False or months is None or months < 0:
        return Test(Characteristic.TIMING, None, words, _TIMING_NEEDS)
    cat = mattke_category(months).value
    return Test(
        Characteristic.TIMING,
        cat in wanted,
        f"{words}; this came {months:.1f} months after the end ({cat})",
    )


def _age_test(case: Case, low: float | None, high: float | None, words: str) -> Test:
    """Age at diagnosis within [low, high] years (high inclusive of that whole year)."""

    def reached(years: int) -> bool | None:
        return age_at_least(
            years,
            age_days=case.age_at_diagnosis_days,
            born=case.patient.date_of_birth,
            on=case.diagnosis.date,
        )

    old_enough = True if low is None else reached(int(low))
    too_old = False if high is None else reached(int(high) + 1)
    if old_enough is False or too_old is True:
        return Test(Characteristic.AGE, False, f"{words}; this patient is outside it")
    if old_enough is None or too_old is None:
        return Test(Characteristic.AGE, None, words, ("patient.age_at_diagnosis_days",))
    return Test(Characteristic.AGE, True, words)


def _pappo(key: str, words: str, chars: tuple[Characteristic, ...]) -> Callable[[Case], Test]:
    def test(case: Case) -> Test:
        got, needs = pappo_category(case)
        if got is None and needs:
            return Test(chars[-1], None, words, tuple(needs))
        return Test(chars[-1], got == key, words)

    return test


def _cog_intermediate(case: Case) -> Test:
    """IRS-IV / D9803 intermediate risk: histology-era COG intermediate risk, or (D9803)
    embryonal group IV under 10 years (Arndt 2009 treatment strata)."""
    words = "COG intermediate risk at diagnosis (IRS-IV / D9803)"
    f = cog_histology_risk(case)
    if f.status is FindingStatus.DETERMINED and f.value == "intermediate":
        return Test(Characteristic.RISK_GROUP, True, words)
    m1 = metastatic_at_diagnosis(case)
    h = case.diagnosis.histology
    if m1 and h is not None and h.value.startswith("embryonal"):
        under10 = age_at_least(
            10,
            age_days=case.age_at_diagnosis_days,
            born=case.patient.date_of_birth,
            on=case.diagnosis.date,
        )
        if under10 is None:
            return Test(Characteristic.RISK_GROUP, None, words, ("patient.age_at_diagnosis_days",))
        if under10 is False:
            return Test(Characteristic.RISK_GROUP, True, f"{words}: embryonal group IV under 10")
    if f.status is FindingStatus.INDETERMINATE and "intermediate" in f.candidates:
        return Test(Characteristic.RISK_GROUP, None, words, tuple(f.needs))
    this = f.value if f.status is FindingStatus.DETERMINED else "not intermediate"
    return Test(Characteristic.RISK_GROUP, False, f"{words}; this patient was {this} risk")


def _early_failure(case: Case) -> Test:
    words = "progression within 120 days of the start of first-line therapy"
    f = relapse_refractory(case)
    early = f.details.get("early_failure_minn_2010")
    if f.value is True and early:
        return Test(_FIRST, True, words)
    if f.status is FindingStatus.INDETERMINATE or (f.value is True and early is None):
        return Test(_FIRST, None, words, tuple(f.needs) or ("first_line.start_date",))
    return Test(_FIRST, False, f"{words}; this first event was not")


def _cog_relapse(wanted: str) -> Callable[[Case], Test]:
    def test(case: Case) -> Test:
        words = f"COG ARST0121 {wanted} relapse group"
        f = cog_relapse_group(case)
        if f.status is FindingStatus.DETERMINED:
            return Test(Characteristic.RISK_GROUP, f.value == wanted, f"{words}; this is {f.value}")
        if f.status is FindingStatus.INDETERMINATE:
            return Test(Characteristic.RISK_GROUP, None, words, tuple(f.needs))
        return Test(Characteristic.RISK_GROUP, False, f"{words}; {f.reason}")

    return test


def _circumscribed(case: Case) -> Test:
    """'Isolated, circumscribed recurrence' (Dantonello 2013; not defined in the abstract):
    local or regional recurrence counts; a distant recurrence is left undecided."""
    words = "an isolated, circumscribed recurrence (not defined by the source)"
    f = relapse_type(case)
    if not f.is_determined:
        return Test(Characteristic.PATTERN, None, words, tuple(f.needs))
    if f.value in (RelapseType.LOCAL, RelapseType.REGIONAL, RelapseType.LOCOREGIONAL):
        return Test(Characteristic.PATTERN, True, words)
    if f.details.get("multiplicity") == "multiple":
        return Test(Characteristic.PATTERN, False, f"{words}; this recurrence is at multiple sites")
    return Test(
        Characteristic.PATTERN,
        None,
        f"{words}: whether a single distant site counts is not stated",
        ("events[0].sites",),
    )


CRITERIA: dict[Criterion, tuple[Callable[[Case], Test], tuple[Characteristic, ...]]] = {
    Criterion.PAPPO_BOTRYOID: (_pappo("botryoid", "botryoid histology", (_H,)), (_H,)),
    Criterion.PAPPO_EMBRYONAL_STAGE1_OR_GROUP1: (
        _pappo("embryonal_stage1_or_group1", "embryonal, initially stage 1 or group I", (_H, _SG)),
        (_H, _SG),
    ),
    Criterion.PAPPO_EMBRYONAL_STAGE23_OR_GROUP23: (
        _pappo(
            "embryonal_stage23_or_group23",
            "embryonal, initially stage 2/3 or group II/III",
            (_H, _SG),
        ),
        (_H, _SG),
    ),
    Criterion.PAPPO_EMBRYONAL_GROUP4: (
        _pappo("embryonal_group4", "embryonal, initially group IV", (_H, _DX)),
        (_H, _DX, _SG),
    ),
    Criterion.PAPPO_ALVEOLAR_GROUP1: (
        _pappo("alveolar_group1", "alveolar, initially group I", (_H, _SG)),
        (_H, _SG),
    ),
    Criterion.PAPPO_ALVEOLAR_GROUP2_4: (
        _pappo("alveolar_group2_4", "alveolar, initially group II-IV", (_H, _SG)),
        (_H, _SG),
    ),
    Criterion.COG_INTERMEDIATE_RISK_IRS4_D9803: (_cog_intermediate, (Characteristic.RISK_GROUP,)),
    Criterion.EARLY_FAILURE_120_DAYS: (
        _early_failure,
        (Characteristic.FIRST_EVENT, Characteristic.TIMING),
    ),
    Criterion.COG_RELAPSE_FAVOURABLE: (
        _cog_relapse("favourable"),
        (_H, _SG, Characteristic.PATTERN, Characteristic.PRIOR_TREATMENT),
    ),
    Criterion.COG_RELAPSE_UNFAVOURABLE: (
        _cog_relapse("unfavourable"),
        (Characteristic.RISK_GROUP,),
    ),
    Criterion.CIRCUMSCRIBED_RECURRENCE: (_circumscribed, (Characteristic.PATTERN,)),
}


# --- the plan of one population: its restrictions, prepared once per process -------------------

Restriction = tuple[Callable[[Case], Test | None], tuple[Characteristic, ...]]
"""A prepared test (None: the restriction does not apply to this case) and the characteristics
it counts for specificity."""


def _restrictions(p: PopulationEntry) -> list[Restriction]:
    """The restrictions ``p`` itself states (not its parent's), in the order they are shown."""
    out: list[Restriction] = []
    if p.metastatic_at_diagnosis is not None:
        out.append((partial(_metastatic_test, wanted=p.metastatic_at_diagnosis), (_DX,)))
    if p.metastatic_inclusion_unverified:
        out.append((_metastatic_inclusion_test, ()))
    if p.histologies is not None:
        names = ", ".join(x.label for x in p.histologies)
        test = partial(
            _histology_test, allowed=frozenset(p.histologies), words=f"histology {names}"
        )
        out.append((test, (_H,)))
    if p.first_event_kinds is not None:
        words = " or ".join(k.label for k in p.first_event_kinds) + " as the first event"
        kinds = frozenset(p.first_event_kinds)
        out.append((partial(_event_kind_test, kinds=kinds, words=words), (_FIRST,)))
    if p.first_recurrence_only:
        # Every relapse cohort is a first-recurrence cohort, so this restriction excludes a
        # later recurrence but does not make one model more specific than another.
        out.append((_first_recurrence_test, ()))
    if p.prior_agents_excluded is not None:
        words = "never given " + " or ".join(a.label for a in p.prior_agents_excluded)
        agents = frozenset(p.prior_agents_excluded)
        test = partial(_prior_agents_test, excluded=agents, words=words)
        out.append((test, (Characteristic.PRIOR_TREATMENT,)))
    if p.relapse_types is not None:
        words = "recurrence " + " or ".join(t.value for t in p.relapse_types)
        types = frozenset(t.value for t in p.relapse_types)
        test = partial(_relapse_type_test, types=types, words=words)
        out.append((test, (Characteristic.PATTERN,)))
    if p.on_first_line_therapy is not None:
        test = partial(_on_therapy_test, wanted=p.on_first_line_therapy)
        out.append((test, (Characteristic.TIMING,)))
    if p.time_after_therapy is not None:
        periods = [w.value for w in p.time_after_therapy]
        words = "time from the end of therapy " + " or ".join(periods)
        test = partial(_time_after_test, wanted=frozenset(periods), words=words)
        out.append((test, (Characteristic.TIMING,)))
    if p.age_min_years is not None or p.age_max_years is not None:
        low, high = p.age_min_years, p.age_max_years
        words = f"age {low or 0:g}-{high:g} years" if high is not None else f"age >= {low:g} years"
        test = partial(_age_test, low=low, high=high, words=words)
        out.append((test, (Characteristic.AGE,)))
    out += [CRITERIA[c] for c in p.criteria]
    return out


@dataclass(frozen=True)
class _Plan:
    """Everything about checking one population that does not depend on the case."""

    parent: str | None
    restrictions: tuple[Restriction, ...]
    """The population's own restrictions; its parent's are checked with the parent."""
    needs_event: bool
    member: PopulationCheck
    """The answer for a patient who meets every restriction."""
    no_event: PopulationCheck
    """The answer for a case with no event, when the population (or an ancestor) needs one."""


_NO_EVENT = "built on patients with a relapse or progression; none is recorded"


@cache
def _plan(population_id: str) -> _Plan:
    """The population's own restrictions and its answers that do not depend on the case
    (cached: the knowledge never changes while the process runs)."""
    chain = lineage(population_id)
    chars: list[Characteristic] = []
    for p in chain:
        chars += [c for _, cs in _restrictions(p) for c in cs]
        chars += p.also_conditions_on
    target = chain[-1]
    member = PopulationCheck(
        population_id=target.id,
        membership=Membership.MEMBER,
        description=target.description,
        cohort=chain[0].description if len(chain) > 1 else None,
        evidence=(
            EvidenceStatus.SECONDARY
            if any(p.evidence is EvidenceStatus.SECONDARY for p in chain)
            else EvidenceStatus.VERIFIED
        ),
        era=next((p.era for p in reversed(chain) if p.era), None),
        conditions_on=tuple(dict.fromkeys(chars)),
    )
    return _Plan(
        parent=target.parent,
        restrictions=tuple(_restrictions(target)),
        needs_event=any(
            p.first_event_kinds
            or p.first_recurrence_only
            or p.relapse_types
            or p.criteria
            or p.time_after_therapy
            for p in chain
        ),
        member=member,
        no_event=member._replace(
            membership=Membership.NOT_MEMBER, excluded_by=(_NO_EVENT,), conditions_on=()
        ),
    )


@once_per_assessment
def check_population(case: Case, population_id: str) -> PopulationCheck:
    """Whether this case belongs to ``population_id`` (and every ancestor of it).

    A subgroup's members are the members of its parent who also meet the subgroup's own
    restrictions, so the parent's answer (remembered within an assessment) is reused.
    """
    plan = _plan(population_id)
    if plan.needs_event and not case.events:
        return plan.no_event
    excluded: list[str] = []
    undecided: list[str] = []
    needs: list[str] = []
    if plan.parent is not None:
        parent = check_population(case, plan.parent)
        excluded += parent.excluded_by
        undecided += parent.undecided
        needs += parent.needs
    for test, _ in plan.restrictions:
        t = test(case)
        if t is None or t.holds is True:
            continue
        if t.holds is False:
            excluded.append(t.words)
        else:
            undecided.append(t.words)
            needs += t.needs
    if not excluded and not undecided:
        return plan.member
    m = plan.member
    return PopulationCheck(
        population_id=m.population_id,
        membership=Membership.NOT_MEMBER if excluded else Membership.UNKNOWN,
        description=m.description,
        cohort=m.cohort,
        evidence=m.evidence,
        era=m.era,
        excluded_by=tuple(excluded),
        undecided=tuple(undecided),
        needs=tuple(dict.fromkeys(needs)),
        conditions_on=m.conditions_on,
    )


def population_of(e: PrognosisEntry) -> str:
    """The population id a prognosis entry declares (its own, or its model's cohort)."""
    return e.population_id or e.model


def figure_applies(case: Case, entry_id: str) -> PopulationCheck:
    """Whether the prognosis figure ``entry_id`` may be quoted as this patient's figure.

    For example ``figure_applies(case, "arst0121.ffs3.favourable")``: the check's
    ``membership`` is MEMBER, NOT_MEMBER (say "not applicable: population" with
    ``reason()``) or UNKNOWN (say what ``needs`` would decide).
    """
    return check_population(case, population_of(entry(entry_id)))


@cache
def populations_used() -> frozenset[str]:
    """Every population id a shipped outcome figure declares (for the knowledge tests)."""
    return frozenset(population_of(e) for e in prognosis_table() if e.kind is EntryKind.OUTCOME)
