"""Recurrence extent: local, regional, local + regional, localised metastatic or disseminated.

The seed paper (Ogawa 2021) asks for an accurate evaluation of the mode of recurrence and
contrasts a *localised* recurrence, "whether it is local or metastatic" (an aggressive
multifaceted approach to local therapy), with *disseminated or multiple* recurrence (long-term
survival extremely rare).  This finding classifies each event so that local therapy can follow
it:

* ``local`` / ``regional`` / ``local_regional`` -- no distant site;
* ``localised_metastatic`` -- distant disease confined to one organ with one lesion or a few
  (each distant site ``single`` or ``few``), with or without a local/regional component;
* ``disseminated`` -- bone marrow, CSF/leptomeningeal, pleural or peritoneal spread, two or more
  distant organ systems, or lesions recorded as multiple/diffuse at a distant site.

No published definition of "localised metastatic" or of how many lesions are "a few" was found
(relapse-dosing-late-effects.md 10.4, 10.6): the case's own ``lesions`` decide, the rule counts no
threshold, and the reason says so.  Missing organ or lesion counts leave the finding
indeterminate between the categories still possible, naming the fields that would decide.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case, DiseaseEvent, EventSite
from rhabdo.case.vocab import Extent, LesionCount, MetastaticSite
from rhabdo.results import Finding, determined, indeterminate, not_applicable

EXTENT_RULE = "relapse.extent.v1"
EXTENT_CITATIONS = ["ogawa_2021"]
FINDING_ID = "relapse.extent"


class RecurrenceExtent(StrEnum):
    LOCAL = "local"
    REGIONAL = "regional"
    LOCAL_REGIONAL = "local_regional"
    LOCALISED_METASTATIC = "localised_metastatic"
    DISSEMINATED = "disseminated"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def localised(self) -> bool:
        """Whether every lesion could be treated locally (Ogawa 2021's 'localised')."""
        return self is not RecurrenceExtent.DISSEMINATED


_LABELS = {
    RecurrenceExtent.LOCAL: "local",
    RecurrenceExtent.REGIONAL: "regional",
    RecurrenceExtent.LOCAL_REGIONAL: "local and regional",
    RecurrenceExtent.LOCALISED_METASTATIC: "localised metastatic",
    RecurrenceExtent.DISSEMINATED: "disseminated",
}

#: Organs whose involvement is diffuse by nature: never treatable by local therapy.
DIFFUSE_BY_NATURE = frozenset(
    {
        MetastaticSite.BONE_MARROW,
        MetastaticSite.CSF,
        MetastaticSite.PLEURA,
        MetastaticSite.PERITONEUM,
    }
)


def never_local_target(site: EventSite) -> bool:
    """Whether local therapy must never aim at this site: marrow, CSF, pleural or peritoneal
    spread, or multiple/diffuse lesions."""
    return (
        site.metastatic_site in DIFFUSE_BY_NATURE
        or site.lesion_multiplicity is LesionCount.MULTIPLE_DIFFUSE
    )


def _locoregional(extents: set[Extent]) -> RecurrenceExtent:
    if Extent.LOCAL in extents and Extent.REGIONAL in extents:
        return RecurrenceExtent.LOCAL_REGIONAL
    return RecurrenceExtent.LOCAL if Extent.LOCAL in extents else RecurrenceExtent.REGIONAL


class EventExtent(NamedTuple):
    """One event's extent: its ``value``, or the ``candidates`` still possible and the case
    fields (``needs``) that would decide; and the ``reason``."""

    value: RecurrenceExtent | None = None
    candidates: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The extent as ``relapse.extent`` details show it (the caller's own copy)."""
        if self.value is not None:
            return {"value": self.value.value, "reason": self.reason}
        return {
            "candidates": list(self.candidates),
            "needs": list(self.needs),
            "reason": self.reason,
        }


_ALL_EXTENTS = tuple(e.value for e in RecurrenceExtent)


@once_per_assessment
def case_event_extent(case: Case, index: int) -> EventExtent:
    """The extent of ``case.events[index]``, worked out once per assessment (the
    ``relapse.extent`` finding and the recommendations that follow it share it)."""
    return _extent(case.events[index], f"events[{index}]")


def _extent(event: DiseaseEvent, path: str) -> EventExtent:
    if not event.sites:
        return EventExtent(
            candidates=_ALL_EXTENTS,
            needs=(f"{path}.sites",),
            reason=f"The sites of {path} are not recorded.",
        )
    sites = list(enumerate(event.sites))
    extents = {s.extent for _, s in sites}
    distant = [(i, s) for i, s in sites if s.extent is Extent.DISTANT]
    near = _locoregional(extents - {Extent.DISTANT}) if extents - {Extent.DISTANT} else None
    if not distant:
        assert near is not None
        return EventExtent(near, reason=f"No distant site: {near.label} recurrence.")

    diffuse = [
        f"{s.metastatic_site.label if s.metastatic_site else 'a distant site'}"
        + (" (multiple/diffuse lesions)" if s.metastatic_site not in DIFFUSE_BY_NATURE else "")
        for _, s in distant
        if never_local_target(s)
    ]
    if diffuse:
        return EventExtent(
            RecurrenceExtent.DISSEMINATED,
            reason="Disseminated: " + ", ".join(dict.fromkeys(diffuse)) + ".",
        )
    organs = {s.metastatic_site for _, s in distant if s.metastatic_site is not None}
    organ_unknown = [i for i, s in distant if s.metastatic_site is None]
    if len(organs) >= 2:
        names = sorted(o.label for o in organs)
        return EventExtent(
            RecurrenceExtent.DISSEMINATED,
            reason=f"Disseminated: {len(organs)} distant organ systems ({', '.join(names)}).",
        )
    needs: list[str] = [f"{path}.sites[{i}].metastatic_site" for i in organ_unknown]
    counts = [s.lesion_multiplicity for _, s in distant]
    needs += [f"{path}.sites[{i}].lesions" for i, s in distant if s.lesion_multiplicity is None]
    organ = next(iter(organs)).label if organs else "an organ not recorded"
    if needs:
        return EventExtent(
            candidates=(
                RecurrenceExtent.LOCALISED_METASTATIC.value,
                RecurrenceExtent.DISSEMINATED.value,
            ),
            needs=tuple(needs),
            reason=(
                f"Distant recurrence ({organ}): whether it is one lesion or a few in one organ "
                "(localised) or disseminated needs the organ and the number of lesions of "
                "every distant site."
            ),
        )
    lesions = sum(
        s.lesion_count or (1 if s.lesion_multiplicity is LesionCount.SINGLE else 0)
        for _, s in distant
    )
    few = any(c is LesionCount.FEW for c in counts) or len(distant) > 1
    described = (
        f"a few lesions{f' ({lesions} counted)' if lesions > 1 else ''}" if few else "one lesion"
    )
    with_near = f", with {near.label} disease" if near else ""
    return EventExtent(
        RecurrenceExtent.LOCALISED_METASTATIC,
        reason=(
            f"Localised metastatic: {described} in one organ ({organ}){with_near}; "
            "whether every lesion can be treated locally is the team's judgement "
            "(no published count defines 'a few')."
        ),
    )


def relapse_extent(case: Case) -> Finding:
    """The extent of the latest recurrence or progression, with every event's in ``details``."""
    if not case.events:
        return not_applicable(
            FINDING_ID, reason="No relapse or progression is recorded.", rule=EXTENT_RULE
        )
    per_event = []
    for k, ev in enumerate(case.events):
        per_event.append(
            {"event": k, "kind": ev.kind.value, **case_event_extent(case, k).as_dict()}
        )
    latest = per_event[-1]
    k = len(case.events) - 1
    inputs = [f"events[{k}].sites"]
    details: dict[str, Any] = {"event": k, "events": per_event}
    reason = f"Latest event (events[{k}]): {latest['reason']}"
    if "value" in latest:
        return determined(
            FINDING_ID,
            latest["value"],
            reason=reason,
            rule=EXTENT_RULE,
            citations=EXTENT_CITATIONS,
            inputs_used=inputs,
            details=details,
        )
    return indeterminate(
        FINDING_ID,
        candidates=latest["candidates"],
        needs=latest["needs"],
        reason=reason,
        rule=EXTENT_RULE,
        citations=EXTENT_CITATIONS,
        inputs_used=inputs,
        details=details,
    )
