"""Schemas and loaders for the prognosis knowledge file (``knowledge/data/prognosis.yaml``).

Every published figure the prognosis rules use -- Oberlin 3-year EFS by number of factors,
the ARST0431 and MTS 2008 cut-point outcomes, the Chisholm odds ratios, Mazzoleni, Pappo,
Mattke, Dantonello, Minn and Wasti figures -- is one entry here, with its population, time
point and citations.  Other parts of rhabdo (recommendations, report, cohort) read the same
entries, so each id is stable and says what it is (``oberlin_2008.efs3.factors_2``).

Four kinds of entry share one file:

* ``outcome`` -- a published outcome figure (``value`` with ``unit``) for a named group of a
  named population at a named time point;
* ``factor`` -- one factor of a prognostic model, with its effect size where published;
* ``threshold`` -- a numeric cut-off a rule uses (18 months, 10 years, 3 sites);
* ``site_rule`` -- how one source sorts each primary site of the case vocabulary.

An entry whose figure was not found in a source has ``verified: false``, no value and an
``evidence_gap`` saying what is missing; the rules then report "not computable".
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rhabdo.case.vocab import PrimarySite
from rhabdo.knowledge.base import KnowledgeEntry, Table, load_table

PROGNOSIS_FILE = "prognosis.yaml"


class EntryKind(StrEnum):
    OUTCOME = "outcome"
    FACTOR = "factor"
    THRESHOLD = "threshold"
    SITE_RULE = "site_rule"


class SiteClass(StrEnum):
    """How a source sorts a primary site for its own rule."""

    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"
    NOT_STATED = "not_stated"  # the source's wording does not decide this site


class SiteAssignment(BaseModel):
    """One site's class under one source's rule, and whether the source states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_class: SiteClass
    stated_by_source: bool = Field(
        description="True when the source names this site or its category; false when the "
        "class is inferred (for example 'other' taken to include the trunk)."
    )
    note: str | None = None


class PrognosisEntry(KnowledgeEntry):
    """One prognosis fact; which fields are required depends on ``kind``."""

    kind: EntryKind
    model: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")] = Field(
        description="The study or model the entry belongs to, e.g. 'oberlin_2008'."
    )
    label: Annotated[str, Field(min_length=3)]
    population: str | None = Field(default=None, description="Who the figure describes.")
    population_id: Annotated[str, Field(pattern=r"^[a-z0-9_.\-]+$")] | None = Field(
        default=None,
        description="The entry of populations.yaml this figure describes (default: the "
        "model's cohort, whose id is the model name).",
    )
    n_patients: Annotated[int, Field(ge=1)] | None = None
    time_point: str | None = Field(default=None, description="e.g. '3 years from diagnosis'.")
    measure: str | None = Field(default=None, description="EFS, OS, survival, cure ...")
    group: str | None = Field(default=None, description="Which subgroup the figure is for.")
    value: float | None = None
    unit: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    plus_minus: float | None = Field(
        default=None, description="Published +/- (SE or SD) as printed."
    )
    effect_measure: str | None = Field(default=None, description="odds_ratio or relative_risk.")
    sites: dict[PrimarySite, SiteAssignment] | None = None

    @model_validator(mode="after")
    def _complete_for_kind(self) -> PrognosisEntry:
        if self.kind is EntryKind.OUTCOME:
            if not (self.population and self.time_point and self.measure):
                raise ValueError("an outcome needs population, time_point and measure")
            if self.value is None and self.verified:
                raise ValueError("value: a verified outcome needs its value")
        if self.kind is EntryKind.FACTOR and self.value is not None and not self.effect_measure:
            raise ValueError("effect_measure: required when a factor has an effect size")
        if self.kind is EntryKind.THRESHOLD and (self.value is None or not self.unit):
            raise ValueError("a threshold needs value and unit")
        if self.kind is EntryKind.SITE_RULE:
            missing = [s.value for s in PrimarySite if not self.sites or s not in self.sites]
            if missing:
                raise ValueError(f"sites: every primary site must be classed; missing {missing}")
        if self.value is None and not self.verified and not self.evidence_gap:
            raise ValueError("evidence_gap: say what is missing when a figure is not verified")
        return self

    def figure_text(self) -> str:
        """The figure as a clinician reads it: '42% (3-yr EFS)', or 'not published'."""
        return _figure_text(self.value, self.unit, self.ci_low, self.ci_high, self.plus_minus)


@cache
def _figure_text(
    value: float | None,
    unit: str | None,
    ci_low: float | None,
    ci_high: float | None,
    plus_minus: float | None,
) -> str:
    """A published figure in words (cached: entries are knowledge, read once per process)."""
    if value is None:
        return "not published / not verified"
    number = f"{value:g}"
    unit_words = "%" if unit == "percent" else f" {unit}" if unit else ""
    extra = ""
    if ci_low is not None and ci_high is not None:
        extra = f" (95% CI {ci_low:g}-{ci_high:g})"
    elif plus_minus is not None:
        extra = f" (+/- {plus_minus:g})"
    return f"{number}{unit_words}{extra}"


def prognosis_table() -> Table[PrognosisEntry]:
    """The shipped prognosis knowledge (read once, cached by the loader)."""
    return load_table(PROGNOSIS_FILE, PrognosisEntry)


@cache
def entry(entry_id: str) -> PrognosisEntry:
    """One prognosis entry by id; a missing id is a KnowledgeBaseError naming it (cached:
    the shipped knowledge never changes while the process runs)."""
    return prognosis_table()[entry_id]


@cache
def threshold(entry_id: str) -> float:
    """The value of a threshold entry."""
    e = entry(entry_id)
    assert e.value is not None  # guaranteed by the schema for thresholds
    return e.value
