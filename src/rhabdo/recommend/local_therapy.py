"""Category local_therapy: surgery, radiotherapy, re-irradiation and brachytherapy at relapse.

For a localised recurrence, local or metastatic, the seed paper asks for an aggressive,
multimodal approach to local therapy (Ogawa 2021); adequate local therapy of a circumscribed
recurrence is linked with better survival (Dantonello 2013).  Radiotherapy is an option for sites
not previously irradiated; re-irradiation only selectively, weighed against the dose already given
to that field (PDQ; Wakefield 2018; no paediatric re-irradiation guideline exists).  Brachytherapy
with ablative surgery (AMORE) is a salvage option for non-orbital head-and-neck sites (Buwalda
2004).  All figures are in ``knowledge/data/local_therapy.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from rhabdo.case.model import Case
from rhabdo.case.vocab import Extent, MutationStatus, PredispositionSyndrome
from rhabdo.classify.extent import FINDING_ID as EXTENT_ID
from rhabdo.classify.extent import RecurrenceExtent, never_local_target, relapse_extent
from rhabdo.prognosis.population import Membership, check_population
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import build, join_words
from rhabdo.recommend.knowledge import LocalTherapyKind, local_therapy_entries
from rhabdo.results import (
    Finding,
    FindingStatus,
    JsonValue,
    Recommendation,
    RecommendationCategory,
    Strength,
)

RULE = "recommend.local_therapy.v1"
CATEGORY = RecommendationCategory.LOCAL_THERAPY
CIRCUMSCRIBED_POPULATION = "dantonello_2013.circumscribed_alrt"
CIRCUMSCRIBED_KEY = (
    "dantonello_5y_post_relapse_survival_circumscribed_adequate_local_therapy_percent"
)


def dose_norms() -> list[dict[str, JsonValue]]:
    """The COG dose table and the 60 Gy late-toxicity statement, for display (fresh dicts:
    a recommendation's details are its own)."""
    return [dict(row) for row in _dose_norm_rows()]


@cache
def _dose_norm_rows() -> tuple[tuple[tuple[str, JsonValue], ...], ...]:
    """The dose-norm rows, read once from the immutable knowledge."""
    return tuple(
        (("entry", e.id), ("statement", e.statement), ("dose_gy", e.dose_gy))
        for e in local_therapy_entries()
        if e.kind in (LocalTherapyKind.DOSE_NORM, LocalTherapyKind.DOSE_LIMIT)
    )


def _site_words(case: Case, index: int) -> str:
    sites = facts.event_sites(case) or []
    site = sites[index]
    where = (
        site.location
        or (site.metastatic_site.label if site.metastatic_site else None)
        or (site.body_region.label if site.body_region else None)
    )
    return f"{site.extent.value} site{f' ({where})' if where else ''}"


def _metastatic_at_diagnosis(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    entry = local_therapy_entries()["local.metastatic_at_diagnosis"]
    return [
        build(
            id="local_therapy.metastatic_sites",
            category=CATEGORY,
            statement=entry.statement,
            strength=Strength.CONSIDER,
            reason=(
                "Metastatic at diagnosis with no recurrence recorded: first-line protocols give "
                "local "
                "therapy to the primary and to metastatic sites where feasible."
            ),
            rule=RULE,
            entries=[entry],
            based_on_findings=facts.present(
                findings, "stage.pretreatment", "group.clinical", "score.oberlin"
            ),
            inputs_used=["diagnosis.distant_metastases", "events"],
            details={"dose_norms": dose_norms()},
        )
    ]


def _radiotherapy(case: Case, based_on: list[str]) -> list[Recommendation]:
    """Radiotherapy for unirradiated sites; re-irradiation (caution) for irradiated ones."""
    table = local_therapy_entries()
    path = facts.current_event_path(case)
    irradiation = [f for f in facts.site_irradiation(case) if not never_local_target(f.site)]
    out: list[Recommendation] = []
    fresh = [f for f in irradiation if f.irradiated is False]
    again = [f for f in irradiation if f.irradiated is True]
    unsure = [f for f in irradiation if f.irradiated is None]
    inputs = [i for f in irradiation for i in f.inputs]
    tp53_carrier = (
        case.diagnosis.tp53_germline is MutationStatus.MUTATED
        or case.patient.known_predisposition is PredispositionSyndrome.LI_FRAUMENI
    )
    if fresh:
        rt_reason = "Not previously irradiated: " + "; ".join(f.basis for f in fresh) + "."
        if tp53_carrier:
            rt_reason += (
                " Germline TP53 carrier: weigh radiotherapy against the risk of "
                "radiation-associated cancers, and prefer surgery where it achieves local "
                "control."
            )
        out.append(
            build(
                id="local_therapy.radiotherapy",
                category=CATEGORY,
                statement=(
                    "Radiotherapy to the recurrent site(s) not previously irradiated ("
                    + join_words([_site_words(case, f.site_index) for f in fresh])
                    + "), with surgery where feasible."
                ),
                strength=Strength.CONSIDER if tp53_carrier else Strength.RECOMMENDED,
                reason=rt_reason,
                rule=RULE,
                entries=[table["local.radiotherapy_unirradiated"]],
                extra_citations=["kratz_2017"] if tp53_carrier else [],
                based_on_findings=based_on,
                inputs_used=[*inputs, "diagnosis.tp53_germline", "patient.known_predisposition"],
                details={"sites": [f.site_index for f in fresh], "dose_norms": dose_norms()},
            )
        )
    if again or unsure:
        limit = table["local.dose_limit_60gy"]
        doses = [
            f"{_site_words(case, f.site_index)}: "
            + (
                f"{f.prior_dose_gy:g} Gy before"
                if f.prior_dose_gy is not None
                else "prior dose not recorded"
            )
            for f in again + unsure
        ]
        needs = [f"{path}.sites[{f.site_index}].in_irradiated_field" for f in unsure]
        needs += [
            f"{p}.total_dose_gy"
            for f in again + unsure
            if f.prior_dose_gy is None
            for p in f.inputs[2:]
        ]
        reason = (
            "Re-irradiation is used selectively, when excision is impossible; the aim is mainly "
            "local "
            "control and an overall-survival benefit is unlikely. "
        )
        if again:
            reason += f"{len(again)} site(s) lie in an irradiated field. "
        if unsure:
            reason += (
                f"Prior irradiation of {len(unsure)} site(s) is not certain: "
                + "; ".join(f.basis for f in unsure)
                + ". "
            )
        reason += "Prior dose: " + "; ".join(doses) + f". {limit.statement}"
        out.append(
            build(
                id="local_therapy.reirradiation",
                category=CATEGORY,
                statement=(
                    "Caution — prefer surgery for recurrence in a previously irradiated field; "
                    "re-irradiate only when excision is impossible, weighed against the dose "
                    "already given to that field."
                    if again
                    else "Caution — the recurrence may lie in a previously irradiated field (not "
                    "recorded): treat it as irradiated until the record shows otherwise; prefer "
                    "surgery, and re-irradiate only when excision is impossible, weighed against "
                    "the dose that may already have been given."
                ),
                strength=Strength.CAUTION,
                reason=reason,
                rule=RULE,
                entries=[
                    table["local.reirradiation"],
                    limit,
                    table["local.prior_radiotherapy_prognosis"],
                ],
                based_on_findings=based_on,
                inputs_used=inputs,
                details={
                    "sites": [
                        {
                            "site": f.site_index,
                            "irradiated": f.irradiated,
                            "prior_dose_gy": f.prior_dose_gy,
                            "basis": f.basis,
                        }
                        for f in again + unsure
                    ],
                    "needs": sorted(set(needs)),
                    "reirradiation_series": dict(table["local.reirradiation"].figures),
                },
            )
        )
    return out


def _extent_finding(case: Case, findings: Mapping[str, Finding]) -> Finding:
    found = findings.get(EXTENT_ID)
    return found if found is not None else relapse_extent(case)


def local_therapy_recommendations(
    case: Case, findings: Mapping[str, Finding]
) -> list[Recommendation]:
    """Local-therapy options for the current recurrence (or for metastatic disease at diagnosis).

    They follow the ``relapse.extent`` finding: an aggressive multimodal approach only for a
    localised recurrence (local, regional or localised metastatic), never for disseminated
    disease, and nothing aimed at marrow, CSF, pleural/peritoneal or diffuse disease.
    """
    event = facts.current_event(case)
    if event is None:
        if facts.metastatic_at_diagnosis(case):
            return _metastatic_at_diagnosis(case, findings)
        return []
    table = local_therapy_entries()
    path = facts.current_event_path(case)
    based_on = [
        EXTENT_ID,
        *facts.present(
            findings,
            "relapse.type",
            "relapse.timing",
            "exposure.radiation",
            "exposure.relapse_site_irradiated",
        ),
    ]
    extent = _extent_finding(case, findings)
    if extent.status is not FindingStatus.DETERMINED:
        needs = list(extent.needs)
        return [
            build(
                id="local_therapy.pending_extent",
                category=CATEGORY,
                statement=(
                    "Recurrence extent not decided: decide local therapy once the work-up shows "
                    "whether the recurrence is localised (an aggressive multimodal approach) or "
                    "disseminated (local therapy only for symptoms)."
                ),
                strength=Strength.CONSIDER,
                reason=(
                    f"{extent.reason} Still possible: "
                    + ", ".join(RecurrenceExtent(c).label for c in extent.candidates)
                    + ". Needed to decide: "
                    + ", ".join(needs)
                    + "."
                ),
                rule=RULE,
                entries=[table["local.multimodal_localised"]],
                based_on_findings=based_on,
                inputs_used=[f"{path}.sites", *needs],
                details={"needs": needs, "candidates": list(extent.candidates)},
            )
        ]
    value = RecurrenceExtent(extent.value)
    if not value.localised:
        return _disseminated(case, based_on, extent)
    return _localised(case, based_on, value)


def _disseminated(case: Case, based_on: list[str], extent: Finding) -> list[Recommendation]:
    table = local_therapy_entries()
    path = facts.current_event_path(case)
    return [
        build(
            id="local_therapy.disseminated",
            category=CATEGORY,
            statement=(
                "Disseminated recurrence: no aggressive local therapy with curative intent; "
                "surgery or radiotherapy only to relieve symptoms from a discrete lesion, "
                "alongside systemic options (never aimed at bone marrow, CSF, pleural or "
                "peritoneal spread or diffuse disease)."
            ),
            strength=Strength.CONSIDER,
            reason=(
                f"{extent.reason} Long-term survival after disseminated or multiple recurrence "
                "is extremely rare; the multimodal approach is for localised recurrence."
            ),
            rule=RULE,
            entries=[table["local.multimodal_localised"], table["local.surgery_relapse"]],
            based_on_findings=based_on,
            inputs_used=[f"{path}.sites"],
            details={"extent": extent.value},
        )
    ]


def _circumscribed_figure(case: Case) -> str:
    """The CWS (Dantonello 2013) survival figure, quoted only to a patient of its population
    (``prognosis.population``: relapse after complete remission of alveolar RMS localised at
    diagnosis, with an isolated, circumscribed recurrence given adequate local therapy);
    otherwise "not applicable: population" with the reason, or what would decide it."""
    figures = local_therapy_entries()["local.multimodal_localised"].figures
    check = check_population(case, CIRCUMSCRIBED_POPULATION)
    if check.membership is Membership.MEMBER:
        return (
            " Adequate local therapy of a circumscribed recurrence was linked with 5-year "
            f"post-relapse survival of {figures[CIRCUMSCRIBED_KEY]}% vs "
            f"{figures['dantonello_5y_post_relapse_survival_all_percent']}% overall "
            f"(population: {check.words()})."
        )
    if check.membership is Membership.UNKNOWN:
        return (
            " The CWS survival figure for circumscribed recurrences given adequate local "
            f"therapy is not quoted: it {check.reason()}; record {', '.join(check.needs)}."
        )
    return (
        " The CWS survival figure for circumscribed recurrences given adequate local therapy "
        f"is {check.reason()} (population: {check.words()})."
    )


def _circumscribed_check(case: Case) -> dict[str, JsonValue]:
    check = check_population(case, CIRCUMSCRIBED_POPULATION)
    return {
        "population": check.population_id,
        "membership": check.membership.value,
        "reason": check.reason(),
        "needs": list(check.needs),
    }


def _localised(case: Case, based_on: list[str], extent: RecurrenceExtent) -> list[Recommendation]:
    table = local_therapy_entries()
    path = facts.current_event_path(case)
    sites = facts.event_sites(case) or []
    multimodal = table["local.multimodal_localised"]
    out = [
        build(
            id="local_therapy.aggressive_multimodal",
            category=CATEGORY,
            statement=(
                "Localised recurrence: plan an aggressive multimodal local therapy (complete "
                "resection, or resection plus radiotherapy) of every recurrent lesion, with "
                "chemotherapy."
            ),
            strength=Strength.RECOMMENDED,
            reason=(
                f"The recurrence is {extent.label}: a localised recurrence, "
                "whether local or metastatic, calls for an aggressive multifaceted approach to "
                "local therapy." + _circumscribed_figure(case)
            ),
            rule=RULE,
            entries=[multimodal],
            based_on_findings=based_on,
            inputs_used=[f"{path}.sites", "diagnosis.histology", "diagnosis.distant_metastases"],
            details={
                "extent": extent.value,
                "figures": dict(multimodal.figures),
                "figure_population": _circumscribed_check(case),
            },
        ),
        build(
            id="local_therapy.surgery",
            category=CATEGORY,
            statement=(
                "Assess resectability with the surgical team: wide excision of a local or regional "
                "recurrence, or resection of one or a few metastases in one organ."
            ),
            strength=Strength.CONSIDER,
            reason=(
                "Surgery is a listed option for localised recurrence; some patients survive "
                "after resection of one or a few lung metastases."
            ),
            rule=RULE,
            entries=[table["local.surgery_relapse"]],
            based_on_findings=based_on,
            inputs_used=[f"{path}.sites"],
        ),
    ]
    out += _radiotherapy(case, based_on)
    primary = case.diagnosis.primary_site
    local_site = any(s.extent is Extent.LOCAL for s in sites)
    if local_site and primary in facts.HEAD_NECK_NON_ORBITAL_SITES:
        amore = table["local.brachytherapy_head_neck"]
        assert primary is not None
        out.append(
            build(
                id="local_therapy.brachytherapy",
                category=CATEGORY,
                statement=(
                    "Refer to a centre offering ablative surgery with mould brachytherapy and "
                    "immediate "
                    "reconstruction (AMORE) for this non-orbital head-and-neck recurrence."
                ),
                strength=Strength.CONSIDER,
                reason=(
                    f"Local recurrence of a {primary.label} primary; AMORE salvage was feasible in "
                    f"{amore.figures['feasible_n']} of {amore.figures['eligible_n']} eligible "
                    "children, "
                    "including after external-beam radiotherapy."
                ),
                rule=RULE,
                entries=[amore],
                based_on_findings=based_on,
                inputs_used=["diagnosis.primary_site", f"{path}.sites"],
                details={"figures": dict(amore.figures)},
            )
        )
    return out
