"""Schemas of the classification knowledge (``knowledge/data/classification.yaml``).

Every entry of that file carries the common knowledge fields (id, citations, review date,
verified, evidence gap) and one ``rule`` whose ``kind`` says which table it belongs to: a
site scheme, a stage-table row, a threshold, a row of a risk table, and so on.  The rules in
``rhabdo.classify`` read these tables; no site list, cut-off or table cell is written in code.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rhabdo.case.vocab import Histology, NodalStatus, PrimarySite
from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import KnowledgeEntry, Table, load_table

CLASSIFICATION_FILE = "classification.yaml"

MainGroup = Literal["I", "II", "III", "IV"]
Subgroup = Literal["IA", "IB", "IIA", "IIB", "IIC", "IIIA", "IIIB", "IV"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteScheme(_Rule):
    """One source's ruling on every primary site: favourable or unfavourable.

    ``orbit_sites`` are the sites that count as "orbit" in orbit-only rules (COG low risk,
    ARST0331 subset 1).  ``site_notes`` say, per site, where the ruling was inferred.
    """

    kind: Literal["site_scheme"]
    scheme: str
    label: str
    favourable_sites: list[PrimarySite]
    unfavourable_sites: list[PrimarySite]
    orbit_sites: list[PrimarySite]
    site_notes: dict[PrimarySite, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _partition(self) -> SiteScheme:
        fav, unfav = set(self.favourable_sites), set(self.unfavourable_sites)
        if fav & unfav:
            raise ValueError(f"sites ruled both ways: {sorted(fav & unfav)}")
        missing = set(PrimarySite) - fav - unfav
        if missing:
            raise ValueError(f"sites without a ruling: {sorted(missing)}")
        if not set(self.orbit_sites) <= fav:
            raise ValueError("orbit_sites must be favourable sites")
        return self


class Threshold(_Rule):
    """A numeric cut-off with the side that includes the boundary stated explicitly."""

    kind: Literal["threshold"]
    quantity: str
    value: float
    unit: str
    boundary: Literal["at_least", "at_most", "below", "above"] = Field(
        description="How the favourable/first category relates to the value."
    )
    wording: str = Field(description="The source's own phrasing of the cut-off, paraphrased.")


class StageRow(_Rule):
    """One row of the IRS/COG pretreatment stage table.  ``None`` means any value."""

    kind: Literal["stage_row"]
    stage: Annotated[int, Field(ge=1, le=4)]
    favourable_site: bool | None
    size_over_cutoff: bool | None
    nodes: list[NodalStatus]
    metastatic: bool


class GroupDefinition(_Rule):
    """One IRS clinical (surgical-pathologic) subgroup and its wording."""

    kind: Literal["group_definition"]
    subgroup: Subgroup
    group: MainGroup
    definition: str


class CogRiskRow(_Rule):
    """One row of the current COG risk table (PDQ 2025 Table 6, after Crane 2022).

    ``None`` means the row does not restrict that input.
    """

    kind: Literal["cog_risk_row"]
    risk: Literal["very_low", "low", "intermediate", "high"]
    fusion_positive: bool
    stages: list[Annotated[int, Field(ge=1, le=4)]]
    groups: list[MainGroup]
    orbit: bool | None = None
    age_10_or_older: bool | None = None
    requires_myod1_tp53_wild_type: bool = False


class HistologyRiskRow(_Rule):
    """One row of the histology-era COG risk table (IRS-IV to ARST0331/0531/0431)."""

    kind: Literal["cog_histology_risk_row"]
    risk: Literal["low", "intermediate", "high"]
    histology_classes: list[Literal["embryonal", "alveolar"]]
    stages: list[Annotated[int, Field(ge=1, le=4)]]
    groups: list[MainGroup]


class SubsetRow(_Rule):
    """One row of the ARST0331 low-risk subset definition (stage/group wording)."""

    kind: Literal["arst0331_subset_row"]
    subset: Literal[1, 2]
    stages: list[Annotated[int, Field(ge=1, le=4)]]
    groups: list[MainGroup]
    orbit: bool | None = None


class HistologyClasses(_Rule):
    """How one scheme sorts the case's histology codes into its own classes."""

    kind: Literal["histology_classes"]
    scheme: str
    classes: dict[str, list[Histology]]
    not_classified: list[Histology] = Field(
        default_factory=list, description="Histologies the scheme does not cover."
    )
    unknown: list[Histology] = Field(
        default_factory=list, description="Codes that leave the class unknown (e.g. RMS NOS)."
    )

    @model_validator(mode="after")
    def _partition(self) -> HistologyClasses:
        seen: list[Histology] = [h for members in self.classes.values() for h in members]
        seen += self.not_classified + self.unknown
        if len(seen) != len(set(seen)) or set(seen) != set(Histology):
            raise ValueError("every histology must be placed exactly once")
        return self


class EpssgSubgroupRow(_Rule):
    """One EpSSG RMS 2005 subgroup (A-H).  ``None`` means the row does not restrict it."""

    kind: Literal["epssg_subgroup"]
    subgroup: Literal["A", "B", "C", "D", "E", "F", "G", "H"]
    risk: Literal["low", "standard", "high", "very_high"]
    favourable_pathology: bool
    groups: list[MainGroup]
    favourable_site: bool | None = None
    node_positive: bool
    favourable_size_and_age: bool | None = None
    letter_inferred: bool = Field(
        default=False, description="True when the letter was not read in a primary document."
    )


class CogRelapseGroupRow(_Rule):
    """One favourable-risk row of the COG risk-based relapse groups (ARST0121).

    A first relapse or progression matching any row is favourable; every other is
    unfavourable.  ``None`` means the row does not restrict that input.
    """

    kind: Literal["cog_relapse_group_row"]
    group: Literal["favourable"]
    histology_classes: list[Literal["botryoid", "embryonal", "other"]]
    stage_1_or_group_i: bool | None = Field(
        default=None, description="Initial stage 1 or IRS group I (either suffices)."
    )
    distant_relapse: bool | None = Field(
        default=None, description="False: local or regional recurrence only."
    )
    prior_cyclophosphamide: bool


class Gap(_Rule):
    """An evidence gap the rules must show rather than fill."""

    kind: Literal["gap"]
    topic: str


RuleT = Annotated[
    SiteScheme
    | Threshold
    | StageRow
    | GroupDefinition
    | CogRiskRow
    | HistologyRiskRow
    | SubsetRow
    | HistologyClasses
    | EpssgSubgroupRow
    | CogRelapseGroupRow
    | Gap,
    Field(discriminator="kind"),
]


class ClassificationEntry(KnowledgeEntry):
    """One cited entry of ``classification.yaml``."""

    rule: RuleT
    note: str | None = None


R = TypeVar("R", bound=_Rule)


def classification_table() -> Table[ClassificationEntry]:
    """The shipped classification knowledge (loaded once, cached by ``load_table``)."""
    return load_table(CLASSIFICATION_FILE, ClassificationEntry)


@cache
def _entries_of(kind: type[_Rule]) -> tuple[tuple[ClassificationEntry, _Rule], ...]:
    found = tuple((e, e.rule) for e in classification_table() if isinstance(e.rule, kind))
    if not found:
        raise KnowledgeBaseError(CLASSIFICATION_FILE, f"no entries of kind {kind.__name__}")
    return found


def entries_of(kind: type[R]) -> tuple[tuple[ClassificationEntry, R], ...]:
    """Every entry whose rule is of ``kind``, in file order, paired with its typed rule."""
    return cast("tuple[tuple[ClassificationEntry, R], ...]", _entries_of(kind))


def entry(entry_id: str) -> ClassificationEntry:
    return classification_table()[entry_id]


def threshold(entry_id: str) -> tuple[ClassificationEntry, Threshold]:
    e = entry(entry_id)
    if not isinstance(e.rule, Threshold):
        raise KnowledgeBaseError(CLASSIFICATION_FILE, "not a threshold", entry=entry_id)
    return e, e.rule


def site_scheme(scheme: str) -> tuple[ClassificationEntry, SiteScheme]:
    for e, rule in entries_of(SiteScheme):
        if rule.scheme == scheme:
            return e, rule
    raise KnowledgeBaseError(CLASSIFICATION_FILE, "no such site scheme", entry=scheme)


def histology_classes(scheme: str) -> tuple[ClassificationEntry, HistologyClasses]:
    for e, rule in entries_of(HistologyClasses):
        if rule.scheme == scheme:
            return e, rule
    raise KnowledgeBaseError(CLASSIFICATION_FILE, "no such histology scheme", entry=scheme)
