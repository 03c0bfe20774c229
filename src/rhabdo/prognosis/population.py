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
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Annotated

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


def lineage(population_id: str) -> list[PopulationEntry]:
    """The population and its ancestors, the cohort first."""
    chain: list[PopulationEntry] = []
    current: str | None = population_id
    while current is not None:
        p = population(current)
        if any(c.id == p.id for c in chain):
            raise KnowledgeBaseError(POPULATIONS_FILE, "parent cycle", entry=population_id)
        chain.append(p)
        current = p.parent
    return list(reversed(chain))


# --- membership --------------------------------------------------------------------------------


class Membership(StrEnum):
    MEMBER = "member"
    NOT_MEMBER = "not_member"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Test:
    """One restriction tested on one case."""

    characteristic: Characteristic
    holds: bool | None
    words: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PopulationCheck:
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
    conditions_on: tuple[Characteristic, ...] = field(default=())

    @property
    def specificity(self) -> int:
        return len(self.conditions_on)

    def words(self) -> str:
        """The population in words, with its evidence label where it is not verified."""
        label = " [SECONDARY]" if self.evidence is EvidenceStatus.SECONDARY else ""
        era = ""
        if self.era and self.era not in f"{self.description} {self.cohort or ''}":
            era = f"; {self.era}"
        within = f", within: {self.cohort}" if self.cohort else ""
        return f"{self.description}{within}{era}{label}"

    def reason(self) -> str:
        if self.membership is Membership.NOT_MEMBER:
            return "not applicable: population -- " + "; ".join(self.excluded_by)
        if self.membership is Membership.UNKNOWN:
            return "applies only if " + "; ".join(self.undecided)
        return "the patient belongs to this population"


def _histology_test(case: Case, allowed: list[Histology]) -> Test:
    h = case.diagnosis.histology
    names = ", ".join(x.label for x in allowed)
    if h is None:
        return Test(Characteristic.HISTOLOGY, None, f"histology {names}", ("diagnosis.histology",))
    if h is Histology.RMS_NOS and Histology.RMS_NOS not in allowed:
        return Test(
            Characteristic.HISTOLOGY,
            None,
            f"histology {names} (RMS NOS: subtype not determined)",
            ("diagnosis.histology",),
        )
    return Test(Characteristic.HISTOLOGY, h in allowed, f"histology {names}; this is {h.label}")


def _metastatic_test(case: Case, wanted: bool) -> Test:
    m1 = metastatic_at_diagnosis(case)
    words = "metastatic at diagnosis" if wanted else "not metastatic at diagnosis"
    if m1 is None:
        return Test(
            Characteristic.DISEASE_AT_DIAGNOSIS, None, words, ("diagnosis.distant_metastases",)
        )
    this = "metastatic" if m1 else "not metastatic"
    return Test(Characteristic.DISEASE_AT_DIAGNOSIS, m1 == wanted, f"{words}; this case was {this}")


def _event_kind_test(case: Case, kinds: list[EventKind]) -> Test:
    ev = case.events[0]
    words = " or ".join(k.label for k in kinds) + " as the first event"
    return Test(Characteristic.FIRST_EVENT, ev.kind in kinds, f"{words}; this is a {ev.kind.label}")


def _first_recurrence_test(case: Case) -> Test:
    words = "first relapse or progression"
    n = len(case.events)
    if n <= 1:
        return Test(Characteristic.FIRST_EVENT, True, words)
    return Test(Characteristic.FIRST_EVENT, False, f"{words}; this is recurrence {n}")


def _prior_agents_test(case: Case, excluded: list[ChemotherapyAgent]) -> Test:
    """Never given any of ``excluded`` (an eligibility exclusion of the source)."""
    names = " or ".join(a.label for a in excluded)
    words = f"never given {names}"
    if case.first_line is None:
        return Test(Characteristic.PRIOR_TREATMENT, None, words, ("first_line",))
    given = {
        c.agent for line in (case.first_line, *case.later_lines) for c in line.chemotherapy
    } & set(excluded)
    if given:
        this = ", ".join(sorted(a.label for a in given))
        return Test(Characteristic.PRIOR_TREATMENT, False, f"{words}; this patient had {this}")
    return Test(Characteristic.PRIOR_TREATMENT, True, words)


def _relapse_type_test(case: Case, types: list[RelapseType]) -> Test:
    f = relapse_type(case)
    words = "recurrence " + " or ".join(t.value for t in types)
    if not f.is_determined:
        return Test(Characteristic.PATTERN, None, words, tuple(f.needs))
    return Test(Characteristic.PATTERN, f.value in types, f"{words}; this recurrence is {f.value}")


def _on_therapy_test(case: Case, wanted: bool) -> Test:
    on = on_first_line_therapy(case)
    words = (
        "recurrence during first-line therapy"
        if wanted
        else ("recurrence after first-line therapy was completed")
    )
    if on is None:
        return Test(Characteristic.TIMING, None, words, ("first_line.end_date", "events[0].date"))
    this = "during" if on else "after"
    return Test(Characteristic.TIMING, on == wanted, f"{words}; this came {this} it")


def _time_after_test(case: Case, wanted: list[TimeAfterTherapy]) -> Test:
    words = "time from the end of therapy " + " or ".join(w.value for w in wanted)
    months = months_from_end_of_first_line(case)
    if on_first_line_therapy(case) is not False or months is None or months < 0:
        return Test(Characteristic.TIMING, None, words, ("first_line.end_date", "events[0].date"))
    cat = mattke_category(months).value
    return Test(
        Characteristic.TIMING,
        cat in {w.value for w in wanted},
        f"{words}; this came {months:.1f} months after the end ({cat})",
    )


def _age_test(case: Case, low: float | None, high: float | None) -> Test:
    """Age at diagnosis within [low, high] years (high inclusive of that whole year)."""
    words = f"age {low or 0:g}-{high:g} years" if high is not None else f"age >= {low:g} years"

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
        return Test(Characteristic.FIRST_EVENT, True, words)
    if f.status is FindingStatus.INDETERMINATE or (f.value is True and early is None):
        return Test(
            Characteristic.FIRST_EVENT, None, words, tuple(f.needs) or ("first_line.start_date",)
        )
    return Test(Characteristic.FIRST_EVENT, False, f"{words}; this first event was not")


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


_H, _SG, _DX = (
    Characteristic.HISTOLOGY,
    Characteristic.STAGE_GROUP,
    Characteristic.DISEASE_AT_DIAGNOSIS,
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


def _tests(case: Case, p: PopulationEntry) -> list[tuple[Test, tuple[Characteristic, ...]]]:
    out: list[tuple[Test, tuple[Characteristic, ...]]] = []
    if p.metastatic_at_diagnosis is not None:
        t = _metastatic_test(case, p.metastatic_at_diagnosis)
        out.append((t, (t.characteristic,)))
    if p.metastatic_inclusion_unverified and metastatic_at_diagnosis(case) is not False:
        out.append(
            (
                Test(
                    Characteristic.DISEASE_AT_DIAGNOSIS,
                    None,
                    "patients metastatic at diagnosis were included (not verified in the "
                    "sources read)",
                ),
                (),
            )
        )
    if p.histologies is not None:
        t = _histology_test(case, p.histologies)
        out.append((t, (t.characteristic,)))
    if p.first_event_kinds is not None:
        t = _event_kind_test(case, p.first_event_kinds)
        out.append((t, (t.characteristic,)))
    if p.first_recurrence_only:
        # Every relapse cohort is a first-recurrence cohort, so this restriction excludes a
        # later recurrence but does not make one model more specific than another.
        out.append((_first_recurrence_test(case), ()))
    if p.prior_agents_excluded is not None:
        t = _prior_agents_test(case, p.prior_agents_excluded)
        out.append((t, (t.characteristic,)))
    if p.relapse_types is not None:
        t = _relapse_type_test(case, p.relapse_types)
        out.append((t, (t.characteristic,)))
    if p.on_first_line_therapy is not None:
        t = _on_therapy_test(case, p.on_first_line_therapy)
        out.append((t, (t.characteristic,)))
    if p.time_after_therapy is not None:
        t = _time_after_test(case, p.time_after_therapy)
        out.append((t, (t.characteristic,)))
    if p.age_min_years is not None or p.age_max_years is not None:
        t = _age_test(case, p.age_min_years, p.age_max_years)
        out.append((t, (t.characteristic,)))
    for c in p.criteria:
        run, chars = CRITERIA[c]
        out.append((run(case), chars))
    return out


@once_per_assessment
def check_population(case: Case, population_id: str) -> PopulationCheck:
    """Whether this case belongs to ``population_id`` (and every ancestor of it)."""
    chain = lineage(population_id)
    target = chain[-1]
    excluded: list[str] = []
    undecided: list[str] = []
    needs: list[str] = []
    chars: list[Characteristic] = []
    if not case.events and any(
        p.first_event_kinds
        or p.first_recurrence_only
        or p.relapse_types
        or p.criteria
        or p.time_after_therapy
        for p in chain
    ):
        excluded.append("built on patients with a relapse or progression; none is recorded")
    else:
        for p in chain:
            for t, cs in _tests(case, p):
                chars += cs
                if t.holds is False:
                    excluded.append(t.words)
                elif t.holds is None:
                    undecided.append(t.words)
                    needs += t.needs
            chars += p.also_conditions_on
    if excluded:
        membership = Membership.NOT_MEMBER
    elif undecided:
        membership = Membership.UNKNOWN
    else:
        membership = Membership.MEMBER
    evidence = (
        EvidenceStatus.SECONDARY
        if any(p.evidence is EvidenceStatus.SECONDARY for p in chain)
        else EvidenceStatus.VERIFIED
    )
    return PopulationCheck(
        population_id=target.id,
        membership=membership,
        description=target.description,
        cohort=chain[0].description if len(chain) > 1 else None,
        evidence=evidence,
        era=next((p.era for p in reversed(chain) if p.era), None),
        excluded_by=tuple(excluded),
        undecided=tuple(undecided),
        needs=tuple(dict.fromkeys(needs)),
        conditions_on=tuple(dict.fromkeys(chars)),
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
