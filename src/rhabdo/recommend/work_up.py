"""Category work_up: imaging and staging to establish the extent of a recurrence.

Items and the conditions that call for them live in ``knowledge/data/workup.yaml``: MRI of the
site, chest CT and FDG-PET/CT for every recurrence (van Ewijk 2021), bone-marrow sampling when
marrow involvement is plausible (PDQ; Weiss 2013), brain/skull-base MRI and CSF for parameningeal
primaries or CNS sites, abdomino-pelvic imaging for lower-limb and genitourinary primaries (PDQ).
No relapse-specific imaging guideline was found, so every item is flagged as extrapolated from the
diagnostic work-up.  An item whose indication cannot be decided is offered as "consider" with the
fields that would decide it; an unverified item is never more than "consider".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rhabdo.case.model import Case
from rhabdo.case.vocab import PrimarySite
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build
from rhabdo.recommend.knowledge import WorkupIndication, WorkupItem, care_entries, workup_items
from rhabdo.results import Finding, Recommendation, RecommendationCategory, Strength

RULE = "recommend.workup.v1"


def _parameningeal(case: Case) -> bool | None:
    site = case.diagnosis.primary_site
    return None if site is None else site is PrimarySite.PARAMENINGEAL


def _always(case: Case) -> bool | None:
    return True


#: Decides each indication for a case, and the case fields that decide it.
INDICATIONS: dict[WorkupIndication, tuple[Callable[[Case], bool | None], tuple[str, ...], str]] = {
    WorkupIndication.EVERY_RECURRENCE: (_always, (), "every recurrence"),
    WorkupIndication.MARROW_RISK: (
        facts.marrow_risk,
        ("events[-1].sites", "diagnosis.histology", "diagnosis.foxo1_fusion"),
        "distant recurrence or alveolar / FOXO1 fusion-positive disease",
    ),
    WorkupIndication.PARAMENINGEAL_PRIMARY: (
        _parameningeal,
        ("diagnosis.primary_site",),
        "parameningeal primary",
    ),
    WorkupIndication.CNS_RISK: (
        facts.cns_risk,
        ("diagnosis.primary_site", "events[-1].sites"),
        "parameningeal primary or brain/CSF recurrence",
    ),
    WorkupIndication.LOWER_LIMB_OR_GENITOURINARY_PRIMARY: (
        facts.lower_limb_or_gu_primary,
        ("diagnosis.primary_site", "events[-1].sites[].body_region"),
        "lower-limb or genitourinary primary",
    ),
}


def _item_recommendation(
    case: Case, item: WorkupItem, based_on: list[str], event_path: str
) -> Recommendation | None:
    decide, generic_fields, words = INDICATIONS[item.indication]
    indicated = decide(case)
    if indicated is False:
        return None
    fields = tuple(f.replace("events[-1]", event_path) for f in generic_fields)
    extrapolated = (
        " Extrapolated from the diagnostic work-up: no relapse-specific imaging guideline was "
        "found."
        if item.extrapolated_from_diagnosis
        else ""
    )
    if indicated is True:
        strength = Strength.RECOMMENDED if item.verified else Strength.CONSIDER
        reason = f"Indicated for {words}." + extrapolated
    else:
        strength = Strength.CONSIDER
        reason = (
            f"Indicated for {words}; whether that applies is unknown ({', '.join(fields)})."
            + extrapolated
        )
    if not item.verified:
        reason += " The evidence for this item is unverified."
    return build(
        id=item.id,
        category=RecommendationCategory.WORK_UP,
        statement=item.statement,
        strength=strength,
        reason=reason,
        rule=RULE,
        entries=[item],
        based_on_findings=based_on,
        inputs_used=["events", *fields],
        details={
            "name": item.name,
            "indication": item.indication.value,
            "indicated": indicated,
            "extrapolated_from_diagnosis": item.extrapolated_from_diagnosis,
            "needs": list(fields) if indicated is None else [],
        },
    )


def workup_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """The work-up of the current recurrence; nothing when the case records no recurrence."""
    event = facts.current_event(case)
    if event is None:
        return []
    based_on = facts.present(findings, "relapse.type", "relapse.timing")
    out: list[Recommendation] = []
    if facts.event_sites(case) is None:
        out.append(
            build(
                id="workup.establish_extent",
                category=RecommendationCategory.WORK_UP,
                statement=(
                    "Relapse sites unknown: complete the imaging work-up to establish whether the "
                    "recurrence is local, regional or metastatic before choosing treatment."
                ),
                strength=Strength.RECOMMENDED,
                reason=(
                    "The mode of recurrence (local, regional or metastatic) decides local therapy "
                    "and "
                    f"prognosis, and {facts.current_event_path(case)}.sites is not recorded."
                ),
                rule=RULE,
                entries=[care_entries()["care.risk_review"]],
                based_on_findings=based_on,
                inputs_used=[f"{facts.current_event_path(case)}.sites"],
                details={"needs": [f"{facts.current_event_path(case)}.sites"]},
            )
        )
    event_path = facts.current_event_path(case)
    for item in workup_items():
        rec = _item_recommendation(case, item, based_on, event_path)
        if rec is not None:
            out.append(rec)
    return out
