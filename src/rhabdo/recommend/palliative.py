"""Category palliative_care: palliative care and quality of life, alongside anti-cancer options.

Palliative care is central whether or not disease-directed therapy continues (PDQ); discussion of
the patient's and family's goals is a core principle at relapse (Heske 2021); for disseminated or
multiple recurrence the seed paper asks for minimally invasive and palliative treatment to improve
quality of life (Ogawa 2021).  Short-course palliative radiotherapy relieves pain in most children
(PDQ).  Poor-prognosis settings (disseminated or multiple recurrence, early progression, a second
or later recurrence, recurrence after metastatic disease at diagnosis) make these "recommended";
otherwise they are offered as "consider".  No RMS-specific palliative-care guideline exists and
that gap is shown.

Palliative radiotherapy is specific to the recurrence's symptomatic sites, as the case records
them (``events[].sites[].symptoms``): a symptom a verified source names as an indication (pain:
PDQ, relief in 85% of 213 children; spinal cord compression, superior vena cava syndrome and
bleeding, and bone, brain, liver and lung metastases: the paediatric guideline of Tsang 2021)
gets the guideline's fractionation where it gives one (8 Gy in one fraction for a simple,
uncomplicated bone metastasis when life expectancy is short; 20 Gy in 5 fractions for other
indications); a symptom no verified source names is left to the radiation oncologist (evidence
gap); a site whose symptoms are not recorded names the field that would decide; diffuse disease
(marrow, CSF, pleura, peritoneum) is not a focal target.  The prescription is always the
radiation oncologist's.

While histology is unconfirmed (``rhabdo.recommend.histology``) palliative radiotherapy and the
minimally invasive choice among anti-cancer options are RMS-directed and wait, conditionally,
for the biopsy; the palliative-care referral and the goals-of-care discussion stay
unconditional, and their poor-prognosis reason is stated as conditional on recurrent RMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from rhabdo.case.model import Case, EventSite
from rhabdo.case.vocab import MetastaticSite, SiteSymptom
from rhabdo.classify.extent import DIFFUSE_BY_NATURE
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.histology import histology_hold
from rhabdo.recommend.knowledge import CareEntry, care_entries
from rhabdo.recommend.trials import trial_triggers
from rhabdo.results import (
    Finding,
    InputWarning,
    JsonValue,
    Recommendation,
    RecommendationCategory,
    Strength,
    WarningSeverity,
)

RULE = "recommend.palliative.v1"
CATEGORY = RecommendationCategory.PALLIATIVE_CARE
ALONGSIDE = " This is alongside, not instead of, the anti-cancer options."
PDQ_ENTRY = "care.palliative_radiotherapy"
EMERGENCY_ENTRY = "care.spinal_cord_compression_emergency"
EMERGENCY_WARNING_ID = "emergency.spinal_cord_compression"
GUIDELINE_ENTRY = "care.palliative_radiotherapy_indications"


class SitePlan:
    """What the rule says about one site."""

    TREAT = "treat"  # a cited indication
    ONCOLOGIST = "radiation_oncologist"  # symptomatic, no verified source for the indication
    DIFFUSE = "diffuse"  # not a focal target
    NO_SYMPTOMS = "no_symptoms"
    NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class SiteAdvice:
    index: int
    path: str
    words: str
    plan: str
    text: str
    entries: tuple[str, ...] = ()


def site_words(site: EventSite) -> str:
    where = site.metastatic_site.label if site.metastatic_site else site.extent.label
    if site.location and site.location.lower() != where.lower():
        return f"{where} ({site.location})"
    return where


@cache
def _cited_symptoms() -> Mapping[SiteSymptom, str]:
    """Each symptom a verified entry names as an indication, with that entry's id (read-only:
    the knowledge is immutable, so this is worked out once)."""
    entries = care_entries()
    out: dict[SiteSymptom, str] = {}
    for eid in (PDQ_ENTRY, GUIDELINE_ENTRY):
        for s in entries[eid].symptoms:
            out.setdefault(s, eid)
    return out


def _fractionation(site: EventSite, symptoms: list[SiteSymptom], guideline: CareEntry) -> str:
    fig = guideline.figures
    short = f"{fig['short_course_gy']} Gy in {fig['short_course_fractions']} fractions may be used"
    if site.metastatic_site is MetastaticSite.BONE and set(symptoms) <= {SiteSymptom.PAIN}:
        return (
            f"{fig['single_fraction_gy']} Gy in one fraction if it is a simple, uncomplicated "
            f"bone metastasis and life expectancy is short, otherwise {short}"
        )
    return short


def emergency_warnings(case: Case) -> list[InputWarning]:
    """Spinal cord compression recorded at a site of the current recurrence: a warning at the top
    of every rendering that it is an emergency, whatever else is undecided (histology included).

    The sources (``care.spinal_cord_compression_emergency``, and the palliative radiotherapy
    guideline that names cord compression as an indication) give no steroid dose or time limit,
    so none is shown."""
    sites = facts.event_sites(case) or []
    ev = facts.current_event_path(case)
    hit = [
        (i, site)
        for i, site in enumerate(sites)
        if site.symptoms and SiteSymptom.SPINAL_CORD_COMPRESSION in site.symptoms
    ]
    if not hit:
        return []
    entry = care_entries()[EMERGENCY_ENTRY]
    guideline = care_entries()[GUIDELINE_ENTRY]
    where = join_words([site_words(site) for _, site in hit])
    message = (
        f"Spinal cord compression recorded ({where}): an emergency, to be acted on now and not "
        "kept for the tumour board. In children with cancer, delay causes preventable loss of "
        "function, and paralysis may be permanent. In a multicentre paediatric series, spine "
        "MRI was diagnostic in every child and most were given emergency corticosteroids. "
        "Radiotherapy is an effective treatment for cord compression; the choice between "
        "radiotherapy, surgical decompression and chemotherapy is urgent and belongs to the "
        "treating team. Not RMS-specific; the sources give no steroid dose or time limit."
    )
    return [
        InputWarning(
            id=EMERGENCY_WARNING_ID,
            message=message,
            severity=WarningSeverity.EMERGENCY,
            fields=[f"{ev}.sites[{i}].symptoms" for i, _ in hit],
            citations=list(dict.fromkeys([*entry.citations, *guideline.citations])),
        )
    ]


def site_advice(case: Case) -> list[SiteAdvice]:
    """One line per site of the current recurrence."""
    sites = facts.event_sites(case) or []
    cited = _cited_symptoms()
    guideline = care_entries()[GUIDELINE_ENTRY]
    cited_sites = set(guideline.metastatic_sites)
    ev = facts.current_event_path(case)
    irradiation = {f.site_index: f.irradiated for f in facts.site_irradiation(case)}
    out: list[SiteAdvice] = []
    for i, site in enumerate(sites):
        path = f"{ev}.sites[{i}]"
        words = site_words(site)
        symptoms = site.symptoms
        what = f" ({join_words([s.label for s in symptoms])})" if symptoms else ""
        if site.metastatic_site in DIFFUSE_BY_NATURE:
            out.append(
                SiteAdvice(
                    i,
                    path,
                    words,
                    SitePlan.DIFFUSE,
                    f"{words}{what}",
                )
            )
            continue
        if symptoms is None:
            out.append(
                SiteAdvice(i, path, words, SitePlan.NOT_RECORDED, f"{words}: symptoms not recorded")
            )
            continue
        if not symptoms:
            out.append(SiteAdvice(i, path, words, SitePlan.NO_SYMPTOMS, f"{words}: no symptoms"))
            continue
        used = [cited[s] for s in symptoms if s in cited]
        if site.metastatic_site in cited_sites:
            used.append(GUIDELINE_ENTRY)
        field_note = ""
        if irradiation.get(i) is True:
            field_note = "; in a previously irradiated field: re-irradiation, weigh the prior dose"
        elif irradiation.get(i) is None:
            field_note = "; whether the field was irradiated before is not recorded"
        if used:
            out.append(
                SiteAdvice(
                    i,
                    path,
                    words,
                    SitePlan.TREAT,
                    f"{words}{what}: {_fractionation(site, symptoms, guideline)}{field_note}",
                    tuple(dict.fromkeys(used)),
                )
            )
        else:
            out.append(
                SiteAdvice(
                    i,
                    path,
                    words,
                    SitePlan.ONCOLOGIST,
                    f"{words}{what}: no verified source names this indication; for the "
                    f"radiation oncologist{field_note}",
                )
            )
    return out


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
    held = histology_hold(case).held
    if poor:
        why = "Poor-prognosis setting: " + join_words(poor) + "; long-term survival is rare."
        if held:
            why = (
                "If the biopsy confirms recurrent RMS, this is a poor-prognosis setting ("
                + join_words(poor)
                + "; long-term survival is rare). Symptom control and the goals of care do not "
                "wait for the biopsy."
            )
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
        rt = symptom_radiotherapy(case, why, based_on, inputs)
        if rt is not None:
            out.append(rt)
        out += [
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


def symptom_radiotherapy(
    case: Case, why: str, based_on: list[str], inputs: list[str]
) -> Recommendation | None:
    """Palliative radiotherapy for the symptomatic sites the case records; None when every
    site is recorded as causing no symptoms."""
    entries = care_entries()
    path = facts.current_event_path(case)
    advice = site_advice(case)
    plans = {a.plan for a in advice}
    if advice and plans <= {SitePlan.NO_SYMPTOMS}:
        return None
    pdq = entries[PDQ_ENTRY]
    treat = [a for a in advice if a.plan in (SitePlan.TREAT, SitePlan.ONCOLOGIST)]
    diffuse = [a for a in advice if a.plan == SitePlan.DIFFUSE]
    unrecorded = [a for a in advice if a.plan == SitePlan.NOT_RECORDED]
    parts: list[str] = []
    record: list[str] = []
    if treat:
        parts.append(
            "Palliative radiotherapy for the symptomatic sites (the prescription is the radiation "
            "oncologist's): " + "; ".join(a.text for a in treat) + "."
        )
    if unrecorded:
        parts.append(
            "Whether palliative radiotherapy is needed depends on the symptoms each site causes, "
            f"not recorded for {join_words([a.words for a in unrecorded])}."
        )
        record.append(
            "To decide palliative radiotherapy, record "
            + ", ".join(f"{a.path}.symptoms" for a in unrecorded)
            + "."
        )
    if diffuse:
        parts.append(
            "Not a focal radiotherapy target (diffuse disease): "
            + join_words([a.text for a in diffuse])
            + "; symptom control by the palliative-care team, radiotherapy there only on the "
            "radiation oncologist's advice."
        )
    if not advice:
        parts.append(
            "Whether palliative radiotherapy is needed depends on which sites cause symptoms; "
            "the sites of the recurrence are not recorded."
        )
        record.append(
            f"To decide palliative radiotherapy, record {path}.sites with their symptoms."
        )
    used = [PDQ_ENTRY, *(e for a in advice for e in a.entries)]
    if any(a.plan in (SitePlan.TREAT, SitePlan.ONCOLOGIST) for a in advice):
        used.append(GUIDELINE_ENTRY)
    cited = [entries[e] for e in dict.fromkeys(used)]
    site_inputs = [f"{a.path}.symptoms" for a in advice if a.plan != SitePlan.DIFFUSE] or [
        f"{path}.sites"
    ]
    details: dict[str, JsonValue] = {
        "sites": [
            {"site": a.index, "words": a.words, "plan": a.plan, "advice": a.text} for a in advice
        ],
        "figures": dict(pdq.figures),
    }
    return build(
        id="palliative.symptom_radiotherapy",
        category=CATEGORY,
        statement=" ".join(parts),
        strength=Strength.CONSIDER,
        reason=(
            f"In {pdq.figures['series_n']} children, short-course palliative radiotherapy "
            f"relieved pain in {pdq.figures['pain_relief_percent']}%. "
            + why
            + "".join(" " + r for r in record)
        ),
        rule=RULE,
        entries=cited,
        based_on_findings=based_on,
        inputs_used=[*inputs, *site_inputs],
        details=details,
    )
