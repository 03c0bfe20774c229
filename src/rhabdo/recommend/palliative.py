"""Category palliative_care: palliative care and quality of life, alongside anti-cancer options.

Palliative care is central whether or not disease-directed therapy continues (PDQ); discussion of
the patient's and family's goals is a core principle at relapse (Heske 2021); for disseminated or
multiple recurrence the seed paper asks for minimally invasive and palliative treatment to improve
quality of life (Ogawa 2021).  Short-course palliative radiotherapy relieves pain in most children
(PDQ).  Poor-prognosis settings (disseminated or multiple recurrence, early progression, a second
or later recurrence, recurrence after metastatic disease at diagnosis) make these "recommended";
otherwise they are offered as "consider".  No RMS-specific palliative-care guideline exists and
that gap is shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from rhabdo.case.model import Case
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.knowledge import care_entries
from rhabdo.recommend.trials import trial_triggers
from rhabdo.results import Finding, Recommendation, RecommendationCategory, Strength

RULE = "recommend.palliative.v1"
CATEGORY = RecommendationCategory.PALLIATIVE_CARE
ALONGSIDE = " This is alongside, not instead of, the anti-cancer options."


def palliative_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """Palliative care, goals of care, symptom radiotherapy and minimally invasive options."""
    if facts.current_event(case) is None:
        return []
    entries = care_entries()
    poor, unknown = trial_triggers(case)
    based_on = facts.present(
        findings, "relapse.type", "relapse.refractory", "relapse.timing", "prognosis.relapse"
    )
    inputs = ["events", "first_line.end_date", "first_line.ongoing", "diagnosis.distant_metastases"]
    if poor:
        why = "Poor-prognosis setting: " + join_words(poor) + "; long-term survival is rare."
        strength = Strength.RECOMMENDED
    else:
        why = (
            "Palliative care is central at relapse whether or not disease-directed therapy "
            "continues."
        )
        if unknown:
            why += " Prognosis setting not fully assessable: " + ", ".join(unknown) + "."
        strength = Strength.CONSIDER
    details = {"poor_prognosis_features": poor, "needs": unknown}
    out = [
        build(
            id="palliative.referral",
            category=CATEGORY,
            statement=(
                "Involve the palliative-care team now, for symptom control and quality of life."
                + ALONGSIDE
            ),
            strength=strength,
            reason=why,
            rule=RULE,
            entries=[entries["care.palliative_involvement"], entries["care.prom_gap"]]
            + ([entries["care.outcome_disseminated"]] if poor else []),
            based_on_findings=based_on,
            inputs_used=inputs,
            details=details,
        ),
        build(
            id="palliative.goals_of_care",
            category=CATEGORY,
            statement=(
                "Hold a goals-of-care discussion with the patient and family, covering the "
                "realistic "
                "aims of each option." + ALONGSIDE
            ),
            strength=Strength.RECOMMENDED,
            reason="Discussion of patient goals is a core principle of care at relapse. " + why,
            rule=RULE,
            entries=[entries["care.goals_of_care"]],
            based_on_findings=based_on,
            inputs_used=[*inputs, "current.goals_of_care"],
            details={
                **details,
                "goals_recorded": bool(case.current and case.current.goals_of_care),
            },
        ),
    ]
    if poor:
        rt = entries["care.palliative_radiotherapy"]
        out += [
            build(
                id="palliative.symptom_radiotherapy",
                category=CATEGORY,
                statement=(
                    "Use short-course palliative radiotherapy (10 fractions or fewer) for painful "
                    "or "
                    "threatening sites (pain, cord compression, bleeding, obstruction)."
                ),
                strength=Strength.CONSIDER,
                reason=(
                    f"In {rt.figures['series_n']} children, short-course palliative radiotherapy "
                    "relieved "
                    f"pain in {rt.figures['pain_relief_percent']}%. " + why
                ),
                rule=RULE,
                entries=[rt],
                based_on_findings=based_on,
                inputs_used=inputs,
                details={"figures": dict(rt.figures)},
            ),
            build(
                id="palliative.minimally_invasive",
                category=CATEGORY,
                statement=(
                    "Prefer minimally invasive treatment that preserves quality of life when "
                    "choosing "
                    "among anti-cancer options."
                ),
                strength=Strength.CONSIDER,
                reason=why,
                rule=RULE,
                entries=[entries["care.minimally_invasive"]],
                based_on_findings=based_on,
                inputs_used=inputs,
            ),
        ]
    return out
