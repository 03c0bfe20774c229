"""Category biopsy: confirm the recurrence histologically, and say when it matters most.

Tissue confirmation of relapse is a general principle of care (Heske 2021).  The seed paper asks
for an aggressive approach to biopsy when imaging is atypical or a second cancer is suspected
(Ogawa 2021).  The other triggers -- a late recurrence (beyond the seed paper's 18-month
category), a lesion in an irradiated field, prior alkylators, etoposide, anthracyclines or
radiotherapy when the recurrence is late, and a known predisposition or suggestive family history
at any time -- are inferences from second-malignancy data, kept in
``knowledge/data/care.yaml`` with ``verified: false`` and shown as evidence gaps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rhabdo.case.model import Case
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.histology import histology_hold
from rhabdo.recommend.knowledge import care_entries
from rhabdo.results import Finding, Recommendation, RecommendationCategory, Strength

RULE = "recommend.biopsy.v1"


@dataclass
class TriggerReview:
    """Which biopsy triggers are present, which cannot be assessed, and the inputs read."""

    present: list[tuple[str, str]] = field(default_factory=list)  # (entry id, words)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (entry id, field)
    inputs: list[str] = field(default_factory=list)
    second_malignancy_risk: list[str] = field(default_factory=list)


def review_triggers(case: Case) -> TriggerReview:
    """Check every trigger in care.yaml against the current event."""
    event = facts.current_event(case)
    assert event is not None
    path = facts.current_event_path(case)
    entries = care_entries()
    review = TriggerReview()

    review.inputs.append(f"{path}.atypical_imaging")
    if event.atypical_imaging is True:
        review.present.append(("care.biopsy_trigger.atypical_imaging", "imaging is atypical"))
    elif event.atypical_imaging is None:
        review.unknown.append(("care.biopsy_trigger.atypical_imaging", f"{path}.atypical_imaging"))

    review.inputs.append(f"{path}.suspected_second_malignancy")
    if event.suspected_second_malignancy is True:
        review.present.append(
            ("care.biopsy_trigger.suspected_second_malignancy", "a second malignancy is suspected")
        )
    elif event.suspected_second_malignancy is None:
        review.unknown.append(
            (
                "care.biopsy_trigger.suspected_second_malignancy",
                f"{path}.suspected_second_malignancy",
            )
        )

    late = entries["care.biopsy_trigger.late_recurrence"]
    months, clock = facts.months_from_treatment_start(case, event)
    review.inputs += [f"{path}.date", "first_line.start_date", "diagnosis.date"]
    assert late.threshold_months is not None
    is_late: bool | None = None if months is None else months > late.threshold_months
    if months is None:
        review.unknown.append((late.id, f"{path}.date"))
    elif months > late.threshold_months:
        review.present.append(
            (
                late.id,
                f"the recurrence came {months:.1f} months after the {clock} "
                f"(more than {late.threshold_months:g})",
            )
        )

    irradiation = facts.site_irradiation(case)
    in_field = [f for f in irradiation if f.irradiated is True]
    maybe = [f for f in irradiation if f.irradiated is None]
    for f in irradiation:
        review.inputs += list(f.inputs)
    if in_field:
        review.present.append(
            (
                "care.biopsy_trigger.irradiated_field",
                f"{len(in_field)} recurrent site(s) lie in a previously irradiated field",
            )
        )
    elif maybe or not irradiation:
        where = f"{path}.sites[].in_irradiated_field" if irradiation else f"{path}.sites"
        review.unknown.append(("care.biopsy_trigger.irradiated_field", where))

    # Treatment exposures make a second malignancy plausible only for a late recurrence (second
    # cancers after RMS arose years after treatment); a predisposition does so at any time.
    agents = facts.agents_given(case)
    exposures: list[str] = []
    predisposition: list[str] = []
    for group, words in (
        (facts.ALKYLATING_AGENTS, "alkylating agents"),
        (facts.EPIPODOPHYLLOTOXINS, "etoposide"),
        (facts.ANTHRACYCLINES, "anthracyclines"),
    ):
        given = sorted(a.label for a in agents & group)
        if given:
            exposures.append(f"{words} ({', '.join(given)})")
    if facts.radiotherapy_courses(case):
        exposures.append("radiotherapy")
    if case.patient.known_predisposition is not None:
        predisposition.append(f"known predisposition ({case.patient.known_predisposition.label})")
    if case.patient.family_history_of_cancer is True:
        predisposition.append("a family history suggestive of predisposition")
    review.inputs += [
        "first_line.chemotherapy",
        "later_lines",
        "patient.known_predisposition",
        "patient.family_history_of_cancer",
    ]
    review.second_malignancy_risk = exposures + predisposition
    risk = (exposures if is_late else []) + predisposition
    if risk:
        review.present.append(
            (
                "care.biopsy_trigger.second_malignancy_risk",
                "second-malignancy risk from " + join_words(risk),
            )
        )
    elif is_late and not facts.treatment_history_known(case):
        review.unknown.append(("care.biopsy_trigger.second_malignancy_risk", "first_line"))
    return review


def biopsy_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """Biopsy the current recurrence unless it is already histologically confirmed."""
    event = facts.current_event(case)
    if event is None or event.histologically_confirmed is True:
        return []
    path = facts.current_event_path(case)
    entries = care_entries()
    review = review_triggers(case)
    based_on = facts.present(
        findings,
        "relapse.timing",
        "relapse.type",
        "exposure.agents_given",
        "exposure.radiation",
        "exposure.relapse_site_irradiated",
    )
    used_ids = dict.fromkeys(["care.biopsy_confirm", *(i for i, _ in review.present)])
    if review.present:
        statement = (
            "Biopsy the recurrence before starting treatment; histological confirmation is "
            "strongly "
            "indicated here because " + join_words([w for _, w in review.present]) + "."
        )
        priority = "high"
    else:
        statement = "Confirm the recurrence histologically (biopsy) before starting treatment."
        priority = "standard"
    reason = "Tissue confirmation of relapse is a general principle of care at relapse."
    if review.unknown:
        reason += " Not assessable from the case: " + ", ".join(f for _, f in review.unknown) + "."
    differential = histology_hold(case).differential
    if differential:
        reason += " Differential to consider: " + "; ".join(d.words for d in differential) + "."
        used_ids.update(dict.fromkeys(d.entry for d in differential))
    inferred = [i for i, _ in review.present if not entries[i].verified]
    if inferred:
        reason += " Some triggers are inferences, not published criteria (see evidence gaps)."
    out = [
        build(
            id="biopsy.confirm_recurrence",
            category=RecommendationCategory.BIOPSY,
            statement=statement,
            strength=Strength.RECOMMENDED,
            reason=reason,
            rule=RULE,
            entries=[entries[i] for i in used_ids],
            based_on_findings=based_on,
            inputs_used=[f"{path}.histologically_confirmed", *review.inputs],
            details={
                "priority": priority,
                "triggers": [{"entry": i, "present": w} for i, w in review.present],
                "unknown": [{"entry": i, "needs": f} for i, f in review.unknown],
                "histologically_confirmed": event.histologically_confirmed,
                "differential": [d.entry for d in differential],
            },
        )
    ]
    triggers = {i for i, _ in review.present}
    suspect = "care.biopsy_trigger.suspected_second_malignancy" in triggers
    # A pathology review for a second cancer is suggested when one is suspected, with a known
    # predisposition, or when a late recurrence after risky exposures is also in an irradiated
    # field or looks atypical -- not for every late recurrence.
    exposure_setting = (
        "care.biopsy_trigger.second_malignancy_risk" in triggers
        and "care.biopsy_trigger.late_recurrence" in triggers
        and bool(
            triggers
            & {"care.biopsy_trigger.irradiated_field", "care.biopsy_trigger.atypical_imaging"}
        )
    )
    predisposed = case.patient.known_predisposition is not None or (
        case.patient.family_history_of_cancer is True
    )
    if suspect or predisposed or exposure_setting:
        sm_entries = [
            entries[i]
            for i in (
                "care.biopsy_trigger.suspected_second_malignancy",
                "care.biopsy_trigger.second_malignancy_risk",
                "care.biopsy_trigger.irradiated_field",
            )
            if i in triggers
        ]
        out.append(
            build(
                id="biopsy.second_malignancy_review",
                category=RecommendationCategory.BIOPSY,
                statement=(
                    "Ask the pathologist to consider a second malignancy (not recurrent RMS) when "
                    "reviewing the biopsy, and obtain enough tissue for that work-up."
                ),
                strength=Strength.CONSIDER,
                reason=(
                    "A second cancer is suspected or plausible: "
                    + join_words(
                        [
                            w
                            for i, w in review.present
                            if i != "care.biopsy_trigger.atypical_imaging"
                        ]
                    )
                    + "."
                ),
                rule=RULE,
                entries=sm_entries,
                based_on_findings=based_on,
                inputs_used=review.inputs,
                details={"second_malignancy_risk": review.second_malignancy_risk},
            )
        )
    return out
