"""Prognosis at first relapse or progression: the published models that apply to the case.

Each model is applied only to the population it was built on, with its own definitions and its
own clock (scoring-and-staging.md section 5, scoring-gaps-resolved.md Gaps 4-6):

* **Chisholm 2011** (SIOP MMT, non-metastatic at diagnosis): eight adverse factors; four odds
  ratios are published.  The nomogram's points and probability mapping were not available, so
  no probability is computed -- the factors are listed and the model is "not computable".
* **Mazzoleni 2005** (Italian, localized at diagnosis): four factors; 5-year OS is published
  for 0 and 1 factor only.
* **Pappo 1999** (IRSG, all first relapses): 5-year survival by histology and initial
  stage/group (and, for embryonal stage 1/group I, by relapse type).
* **Mattke 2009** (CWS): 4-year survival by time from the end of primary therapy.
* **Dantonello 2008** (CWS, localized at diagnosis): cohort post-relapse survival.
* **Minn 2010** (COG intermediate risk): early progression < 120 days from study entry.
* **Wasti 2026** (INSTRuCT): first event after metastatic disease at diagnosis.

The finding lists every model in ``details["models"]`` (model, applicable, factors, figure,
population, citation, computable, reason).  It is determined when at least one applicable
model gives a published figure for this patient.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from rhabdo.case.model import Case
from rhabdo.case.vocab import (
    EMBRYONAL_HISTOLOGIES,
    EventKind,
    Histology,
)
from rhabdo.classify.nodes import CLINICAL_FIELD, regional_nodes_at_diagnosis
from rhabdo.classify.relapse import (
    MattkeCategory,
    RelapseType,
    chisholm_under_18_months,
    mattke_category,
    months_from_end_of_first_line,
    on_first_line_therapy,
    relapse_refractory,
    relapse_type,
)
from rhabdo.classify.relapse_group import CogRelapseGroup, cog_relapse_group
from rhabdo.prognosis._subgroups import pappo_category
from rhabdo.prognosis.knowledge import EntryKind, PrognosisEntry, SiteClass, entry
from rhabdo.prognosis.oberlin import metastatic_at_diagnosis, site_class
from rhabdo.prognosis.population import (
    Membership,
    PopulationCheck,
    check_population,
    population_of,
)
from rhabdo.results import Finding, FindingStatus, determined, indeterminate, not_applicable

FINDING_ID = "prognosis.relapse"
RULE = "prognosis.relapse.v1"

ModelResult = dict[str, Any]


def _result(
    model: str,
    *,
    applicable: bool | None,
    population: PrognosisEntry,
    computable: bool,
    reason: str,
    figure: str | None = None,
    factors: list[dict[str, Any]] | None = None,
    needs: list[str] | None = None,
    entries: list[str] | None = None,
    labels: list[str] | None = None,
) -> ModelResult:
    """One model's row; the model's name is also its citation key, and ``population`` is the
    entry whose population text describes who the model was built on."""
    return {
        "model": model,
        "applicable": applicable,
        "factors": factors or [],
        "figure": figure,
        "population": population.population or "",
        "citation": _CITATION.get(model, model),
        "computable": computable,
        "reason": reason,
        "needs": sorted(set(needs or [])),
        "entries": entries or [],
        "labels": labels or [],
    }


def _not_applicable(model: str, population: PrognosisEntry, reason: str) -> ModelResult:
    """A model built on a population this case is outside of: no figure, not computable."""
    return _result(model, applicable=False, computable=False, population=population, reason=reason)


def _published(
    model: str,
    population: PrognosisEntry,
    figures: list[tuple[str, PrognosisEntry]],
    reason: str,
) -> ModelResult:
    """An applicable model with published figures for this patient.

    ``figures`` pairs each figure's wording with its entry, the headline first and then any
    subgroup (relapse type, histology) the source also reports: "5-year survival 52%; local
    recurrence 72%".
    """
    return _result(
        model,
        applicable=True,
        computable=True,
        population=population,
        figure="; ".join(f"{label} {e.figure_text()}" for label, e in figures),
        entries=[e.id for _, e in figures],
        reason=reason,
        labels=[label for label, _ in figures],
    )


# --- shared inputs ---------------------------------------------------------------------------


_DISTANT_TYPES = frozenset({RelapseType.METASTATIC, RelapseType.COMBINED})


def metastatic_relapse(case: Case) -> bool | None:
    """Whether the first event involved a distant site (metastatic or combined relapse)."""
    f = relapse_type(case)
    if not f.is_determined:
        return None
    return f.value in _DISTANT_TYPES


def prior_radiotherapy(case: Case) -> bool | None:
    """Radiotherapy in first-line treatment; None unless a course is listed or the line says
    none was given (an empty course list is not evidence of none)."""
    line = case.first_line
    if line is None:
        return None
    if line.radiotherapy:
        return True
    return False if line.radiotherapy_given is False else None


def alveolar(case: Case) -> bool | None:
    """Alveolar histology, as the relapse models' "alveolar" factor (Chisholm 2011, Mazzoleni
    2005) reads it.  RMS NOS is a subtype not determined, so it is unknown here, never
    "not alveolar" (issue 13 section 7)."""
    h = case.diagnosis.histology
    if h is None or h is Histology.RMS_NOS:
        return None
    return h is Histology.ALVEOLAR


def nodal_involvement(case: Case) -> bool | None:
    """Regional nodal involvement at diagnosis, from the shared derivation (classify.nodes)."""
    return regional_nodes_at_diagnosis(case).involved


def nodal_needs(case: Case) -> list[str]:
    return list(regional_nodes_at_diagnosis(case).needs) or [CLINICAL_FIELD]


def size_over_5cm(case: Case) -> bool | None:
    size = case.diagnosis.max_diameter_cm
    cut = entry("chisholm_2011.threshold.size_cm").value
    return None if size is None or cut is None else size > cut


def three_or_more_drugs(case: Case) -> bool | None:
    """Three or more distinct agents in first-line chemotherapy (Chisholm's 3/6-drug regimens)."""
    if case.first_line is None or not case.first_line.chemotherapy:
        return None
    return len({c.agent for c in case.first_line.chemotherapy}) >= 3


def site_is_adverse(case: Case, rule_id: str) -> bool | None:
    """Whether ``rule_id`` classes the primary site as unfavourable; None when the site is
    unknown or the source does not class it."""
    cls = site_class(case, rule_id)
    if cls is None or cls is SiteClass.NOT_STATED:
        return None
    return cls is SiteClass.UNFAVOURABLE


def outside_remission_population(case: Case, model_name: str) -> ModelResult | None:
    """A not-applicable result when the first event is a progression.

    Chisholm 2011, Mazzoleni 2005 and Dantonello 2008 studied recurrence after complete
    remission / complete local control; a progression (no remission reached) is outside them.
    """
    ev = case.events[0] if case.events else None
    if ev is None or ev.kind is not EventKind.PROGRESSION:
        return None
    pop = {
        "chisholm_2011": "chisholm_2011.cured.all",
        "mazzoleni_2005": "mazzoleni_2005.os5.all",
        "dantonello_2008": "dantonello_2008.survival5.all",
    }[model_name]
    return _not_applicable(
        model_name,
        entry(pop),
        "Built on recurrence after complete remission; this first event is a progression.",
    )


def _outside_localized_remission(
    case: Case, model: str, population: PrognosisEntry, disease_at_diagnosis: str
) -> ModelResult | None:
    """A not-applicable result for a model built on recurrence after complete remission of
    disease that was not metastatic at diagnosis (Chisholm 2011, Mazzoleni 2005, Dantonello
    2008): this first event is a progression, or the case was metastatic at diagnosis.

    ``disease_at_diagnosis`` is the source's own word for its population ("localized",
    "non-metastatic").
    """
    progression = outside_remission_population(case, model)
    if progression is not None:
        return progression
    if metastatic_at_diagnosis(case) is True:
        return _not_applicable(
            model,
            population,
            f"Built on {disease_at_diagnosis} RMS at diagnosis; this case was metastatic.",
        )
    return None


@cache
def _factor_words(model: str, key: str) -> tuple[str, str | None]:
    """A factor's label and published effect, from its knowledge entry ``<model>.factor.<key>``
    (cached: knowledge only)."""
    e = entry(f"{model}.factor.{key}")
    return e.label, None if e.value is None else f"{e.effect_measure} {e.figure_text()}"


def _factor(model: str, key: str, present: bool | None, needs: list[str]) -> dict[str, Any]:
    """One factor of a model, read from its knowledge entry ``<model>.factor.<key>``."""
    label, effect = _factor_words(model, key)
    return {
        "factor": key,
        "label": label,
        "present": present,
        "effect": effect,
        "needs": needs if present is None else [],
    }


# --- models ----------------------------------------------------------------------------------


def chisholm_2011(case: Case) -> ModelResult:
    """Chisholm 2011 adverse factors at first relapse (non-metastatic at diagnosis)."""
    pop = entry("chisholm_2011.cured.all")
    outside = _outside_localized_remission(case, "chisholm_2011", pop, "non-metastatic")
    if outside is not None:
        return outside
    m0 = metastatic_at_diagnosis(case)
    model = "chisholm_2011"
    factors: list[dict[str, Any]] = [
        _factor(model, "metastatic_relapse", metastatic_relapse(case), ["events[0].sites"]),
        _factor(
            model,
            "prior_radiotherapy",
            prior_radiotherapy(case),
            ["first_line.radiotherapy", "first_line.radiotherapy_given"],
        ),
        _factor(model, "initial_size_over_5cm", size_over_5cm(case), ["diagnosis.max_diameter_cm"]),
        _factor(
            model,
            "relapse_under_18_months",
            chisholm_under_18_months(case),
            ["diagnosis.date", "events[0].date"],
        ),
        _factor(
            model,
            "unfavourable_site",
            site_is_adverse(case, "chisholm_2011.site_rule"),
            ["diagnosis.primary_site"],
        ),
        _factor(model, "nodal_involvement", nodal_involvement(case), nodal_needs(case)),
        _factor(model, "alveolar_histology", alveolar(case), ["diagnosis.histology"]),
        _factor(
            model,
            "three_or_six_drug_chemotherapy",
            three_or_more_drugs(case),
            ["first_line.chemotherapy"],
        ),
    ]
    present = sum(1 for x in factors if x["present"])
    unknown = sum(1 for x in factors if x["present"] is None)
    open_note = f", {unknown} not known" if unknown else ""
    nomogram = entry("chisholm_2011.nomogram")
    reason = (
        f"{present} of 8 adverse factors present{open_note}; the nomogram probability is not "
        f"computable ({nomogram.evidence_gap})"
    )
    if m0 is None:
        reason = "Applies only if non-metastatic at diagnosis (not recorded). " + reason
    return _result(
        "chisholm_2011",
        applicable=None if m0 is None else True,
        computable=False,
        population=pop,
        figure=f"cohort: {pop.figure_text()} alive >=3 years after the last event (not individual)",
        factors=factors,
        reason=reason,
        needs=["diagnosis.distant_metastases"] if m0 is None else [],
        entries=[pop.id, nomogram.id],
    )


def mazzoleni_2005(case: Case) -> ModelResult:
    """Mazzoleni 2005 factor count and 5-year OS (localized at diagnosis)."""
    pop = entry("mazzoleni_2005.os5.all")
    outside = _outside_localized_remission(case, "mazzoleni_2005", pop, "localized")
    if outside is not None:
        return outside
    m0 = metastatic_at_diagnosis(case)
    model = "mazzoleni_2005"
    factors: list[dict[str, Any]] = [
        _factor(model, "alveolar", alveolar(case), ["diagnosis.histology"]),
        _factor(
            model,
            "parameningeal_or_other_site",
            site_is_adverse(case, "mazzoleni_2005.site_rule"),
            ["diagnosis.primary_site"],
        ),
        _factor(model, "systemic_recurrence", metastatic_relapse(case), ["events[0].sites"]),
        _factor(
            model, "recurrence_on_therapy", on_first_line_therapy(case), ["first_line.end_date"]
        ),
    ]
    if factors[1]["present"] is None and case.diagnosis.primary_site is not None:
        factors[1]["needs"] = []  # no case field decides it: the source does not class this site
        factors[1]["note"] = entry("mazzoleni_2005.site_rule").evidence_gap
    low = sum(1 for x in factors if x["present"])
    high = low + sum(1 for x in factors if x["present"] is None)
    needs = [n for x in factors for n in x["needs"]]
    if m0 is None:
        needs.append("diagnosis.distant_metastases")
    applicable = None if m0 is None else True
    if low == high and low <= 1:
        e = entry(f"mazzoleni_2005.os5.factors_{low}")
        return _result(
            "mazzoleni_2005",
            applicable=applicable,
            computable=m0 is False,
            population=pop,
            figure=f"5-year OS {e.figure_text()}",
            factors=factors,
            needs=needs,
            entries=[e.id],
            reason=f"{low} risk factor(s): {e.label}.",
        )
    if low >= 2:
        e = entry("mazzoleni_2005.os5.factors_2_plus")
        return _result(
            "mazzoleni_2005",
            applicable=applicable,
            computable=False,
            population=pop,
            figure=None,
            factors=factors,
            needs=needs,
            entries=[e.id],
            reason=f"{low}{'+' if high > low else ''} risk factors: {e.evidence_gap}",
        )
    return _result(
        "mazzoleni_2005",
        applicable=applicable,
        computable=False,
        population=pop,
        factors=factors,
        needs=needs,
        reason=f"Risk-factor count not decided: {low} to {high}.",
    )


_PAPPO_RECURRENCE: dict[str, str] = {
    RelapseType.LOCAL: "local",
    RelapseType.REGIONAL: "regional",
    RelapseType.METASTATIC: "distant",
    RelapseType.COMBINED: "distant",
}
"""Pappo 1999's subgroups of embryonal stage 1 / group I by the type of recurrence."""


def pappo_1999(case: Case) -> ModelResult:
    """Pappo 1999 5-year survival after first relapse by histology and initial stage/group."""
    pop = entry("pappo_1999.survival5.all")
    key, needs = pappo_category(case)
    if key is None:
        h = case.diagnosis.histology
        why = (
            f"{h.label} is not one of Pappo's histology groups "
            "(botryoid, embryonal, alveolar/undifferentiated)"
            if h is not None and not needs
            else "inputs missing"
        )
        return _result(
            "pappo_1999",
            applicable=True if not needs else None,
            computable=False,
            population=pop,
            needs=list(needs),
            reason=f"Category not decided: {why}.",
            figure=f"all first relapses: 5-year survival {pop.figure_text()}",
            entries=[pop.id],
        )
    e = entry(f"pappo_1999.survival5.{key}")
    figures = [("5-year survival", e)]
    if key == "embryonal_stage1_or_group1":
        kind = relapse_type(case)
        sub = _PAPPO_RECURRENCE.get(kind.value) if kind.is_determined else None
        if sub is not None:
            s = entry(f"pappo_1999.survival5.embryonal_stage1_group1_{sub}")
            figures.append((f"{sub} recurrence", s))
    return _published("pappo_1999", pop, figures, reason=f"{e.group}.")


def mattke_2009(case: Case) -> ModelResult:
    """Mattke 2009 4-year survival by time from the end of primary therapy."""
    e0 = entry("mattke_2009.survival4.early")
    on = on_first_line_therapy(case)
    if on is True:
        return _not_applicable(
            "mattke_2009",
            e0,
            "Grouped by time after the end of primary therapy; this event came on therapy.",
        )
    months = months_from_end_of_first_line(case)
    if on is False and months is not None and months < 0:
        return _not_applicable(
            "mattke_2009", e0, "The event came before first-line therapy started."
        )
    if on is None or months is None:
        return _result(
            "mattke_2009",
            applicable=None,
            computable=False,
            population=e0,
            needs=["first_line.end_date", "events[0].date"],
            reason="The time from the end of first-line therapy is not known.",
        )
    cat: MattkeCategory = mattke_category(months)
    figures = [("4-year survival", entry(f"mattke_2009.survival4.{cat.value}"))]
    if relapse_type(case).value == RelapseType.LOCAL:
        figures.append(("local relapse", entry(f"mattke_2009.survival4.local_{cat.value}")))
    if case.diagnosis.histology in EMBRYONAL_HISTOLOGIES:
        figures.append(("embryonal", entry(f"mattke_2009.survival4.embryonal_{cat.value}")))
    return _published(
        "mattke_2009",
        e0,
        figures,
        reason=f"{cat.value} relapse, {months:.1f} months after the end of first-line therapy.",
    )


def dantonello_2008(case: Case) -> ModelResult:
    """Dantonello 2008 cohort post-relapse survival (localized at diagnosis)."""
    e = entry("dantonello_2008.survival5.all")
    outside = _outside_localized_remission(case, "dantonello_2008", e, "localized")
    if outside is not None:
        return outside
    m1 = metastatic_at_diagnosis(case)
    return _result(
        "dantonello_2008",
        applicable=None if m1 is None else True,
        computable=m1 is False,
        population=e,
        figure=f"5-year post-relapse survival {e.figure_text()} (cohort)",
        entries=[e.id],
        needs=["diagnosis.distant_metastases"] if m1 is None else [],
        reason="Cohort figure for relapses after localized RMS; no individual model.",
    )


def minn_2010(case: Case) -> ModelResult:
    """Minn 2010: early progression (< 120 days) on intermediate-risk therapy."""
    e = entry("minn_2010.os5.early_progression")
    refractory = relapse_refractory(case)
    early = refractory.details.get("early_failure_minn_2010")
    if refractory.value is True and early:
        return _published(
            "minn_2010",
            e,
            [("5-year OS", e)],
            reason="Progression within 120 days of the start of first-line therapy "
            "(study entry in Minn 2010; population was intermediate risk).",
        )
    if refractory.status is FindingStatus.INDETERMINATE or (
        refractory.value is True and early is None
    ):
        return _result(
            "minn_2010",
            applicable=None,
            computable=False,
            population=e,
            needs=list(refractory.needs) or ["first_line.start_date"],
            reason="Whether this was an early progression (<120 days) is not decided.",
        )
    return _not_applicable("minn_2010", e, "Not an early progression on first-line therapy.")


def _unweighted_factor(key: str, label: str, present: bool | None) -> dict[str, Any]:
    """A factor Wasti 2026 reports as adverse without publishing a weight for it."""
    return {
        "factor": key,
        "label": label,
        "present": present,
        "effect": "associated with worse outcome (no weight published)",
        "needs": [],
    }


def wasti_2026(case: Case) -> ModelResult:
    """Wasti 2026 (INSTRuCT): first event after metastatic disease at diagnosis."""
    e = entry("wasti_2026.os3.after_first_event")
    m1 = metastatic_at_diagnosis(case)
    if m1 is False:
        return _not_applicable(
            "wasti_2026", e, "Only for a first event after metastatic disease at diagnosis."
        )
    factors: list[dict[str, Any]] = [
        _unweighted_factor("higher_oberlin_score", "Higher Oberlin score at diagnosis", None),
        _unweighted_factor(
            "locoregional_nodes",
            "Locoregional lymph-node involvement at diagnosis",
            nodal_involvement(case),
        ),
    ]
    return _result(
        "wasti_2026",
        applicable=None if m1 is None else True,
        computable=m1 is True,
        population=e,
        figure=f"3-year OS after first event {e.figure_text()}",
        factors=factors,
        entries=[e.id],
        needs=["diagnosis.distant_metastases"] if m1 is None else [],
        reason="Headline figure only; OS by Oberlin score after the first event not verified.",
    )


def arst0121(case: Case) -> ModelResult:
    """COG ARST0121 (Mascarenhas 2019): 3-year FFS and OS by COG relapse group."""
    ffs = entry("arst0121.ffs3.favourable")
    group = cog_relapse_group(case)
    if group.status is FindingStatus.NOT_APPLICABLE:
        return _not_applicable("arst0121", ffs, group.reason)
    if group.status is FindingStatus.INDETERMINATE:
        return _result(
            "arst0121",
            applicable=None,
            computable=False,
            population=ffs,
            needs=list(group.needs),
            reason="The COG relapse group (favourable or unfavourable) is not decided.",
        )
    if group.value == CogRelapseGroup.FAVOURABLE:
        return _published(
            "arst0121",
            ffs,
            [("3-year FFS", ffs), ("3-year OS", entry("arst0121.os3.favourable"))],
            reason="Favourable COG relapse group, treated with 31 weeks of multi-agent "
            "chemotherapy on ARST0121.",
        )
    non = entry("arst0121.ffs3.unfavourable_vi_nonresponders")
    no_vi = entry("arst0121.ffs3.unfavourable_no_vi")
    return _result(
        "arst0121",
        applicable=True,
        computable=False,
        population=ffs,
        entries=[non.id, no_vi.id, "arst0121.unfavourable_vi_responders"],
        reason="Unfavourable COG relapse group: ARST0121 reported 3-year FFS by response to "
        f"the vincristine-irinotecan window (non-responders {non.figure_text()}; not given VI "
        f"{no_vi.figure_text()}); the responders' figure is not in the abstract, and response "
        "is known only after treatment, so no figure is this patient's.",
    )


MODELS = (
    arst0121,
    chisholm_2011,
    mazzoleni_2005,
    pappo_1999,
    mattke_2009,
    dantonello_2008,
    minn_2010,
    wasti_2026,
)

_CITATION = {"arst0121": "mascarenhas_2019_arst0121"}

_SHORT = {
    "arst0121": "COG ARST0121 (Mascarenhas 2019)",
    "chisholm_2011": "Chisholm 2011",
    "mazzoleni_2005": "Mazzoleni 2005",
    "pappo_1999": "Pappo 1999",
    "mattke_2009": "Mattke 2009",
    "dantonello_2008": "Dantonello 2008",
    "minn_2010": "Minn 2010",
    "wasti_2026": "Wasti 2026 (INSTRuCT)",
}


def _quoted_entries(r: ModelResult) -> list[PrognosisEntry]:
    """The outcome entries whose values the result quotes (figure parts, in order)."""
    quoted = [entry(i) for i in r["entries"]]
    return [e for e in quoted if e.kind is EntryKind.OUTCOME and e.value is not None]


def _mark_population(r: ModelResult, check: PopulationCheck) -> None:
    r["population_id"] = check.population_id
    r["population_words"] = check.words()
    r["population_evidence"] = str(check.evidence)  # a StrEnum's str() is its value
    r["membership"] = str(check.membership)
    r["membership_reason"] = check.reason()
    r["conditions_on"] = list(map(str, check.conditions_on))
    r["specificity"] = check.specificity


def apply_populations(case: Case, r: ModelResult) -> ModelResult:
    """Quote a model's figures only for a patient of their populations (issue 13 section 5).

    The cohort's population is checked for every model; each quoted figure's population too.
    A cohort or headline figure whose population excludes the patient makes the model "not
    applicable: population" with the reason; one whose membership is unknown makes it
    undecided, naming the fields that would decide; a secondary figure whose population does
    not (certainly) include the patient is dropped from the figure and listed with its reason.
    """
    cohort = check_population(case, r["model"])
    # Only a computable model quotes figures as this patient's (the others show the cohort).
    quoted = _quoted_entries(r) if r["applicable"] is not False and r["computable"] else []
    checks = [check_population(case, population_of(e)) for e in quoted]
    head = checks[0] if checks else cohort
    _mark_population(r, head)
    if r["applicable"] is False:
        return r
    excluded = (
        cohort
        if cohort.membership is Membership.NOT_MEMBER
        else head
        if head.membership is Membership.NOT_MEMBER
        else None
    )
    if excluded is not None:
        r.update(
            applicable=False,
            computable=False,
            figure=None,
            needs=[],
            reason=f"{excluded.reason()} (population: {excluded.words()}).",
        )
        return r
    if head.membership is Membership.UNKNOWN or cohort.membership is Membership.UNKNOWN:
        undecided = head if head.membership is Membership.UNKNOWN else cohort
        r.update(
            applicable=None,
            computable=False,
            figure=None,
            conditional_figure=r["figure"],
            needs=sorted(set(r["needs"]) | set(undecided.needs) | set(cohort.needs)),
            reason=f"{r['reason']} The figure {undecided.reason()}.".strip(),
        )
        return r
    if r["computable"] and len(checks) > 1:
        kept = [0] + [i for i, c in enumerate(checks[1:], 1) if c.membership is Membership.MEMBER]
        dropped = [
            {"entry": quoted[i].id, "reason": checks[i].reason()}
            for i in range(len(checks))
            if i not in kept
        ]
        labels = r["labels"] or [""] * len(quoted)
        r["figure"] = "; ".join(f"{labels[i]} {quoted[i].figure_text()}" for i in kept)
        r["entries"] = [quoted[i].id for i in kept]
        r["labels"] = [labels[i] for i in kept]
        if dropped:
            r["dropped_figures"] = dropped
    return r


def _headline(given: list[ModelResult]) -> ModelResult:
    """The most specific applicable model: the most patient characteristics its population is
    defined on; ties keep the order of ``MODELS``."""
    return max(given, key=lambda r: r["specificity"])


def _listed(r: ModelResult) -> str:
    return f"{_SHORT[r['model']]}: {r['figure']} ({r['population_words']})"


def _histology_caveat(case: Case) -> str | None:
    """Every figure here describes recurrent RMS: say so when the first event's histology is
    not confirmed or a second malignancy is suspected (issue 13 section 2)."""
    ev = case.events[0]
    why = []
    if ev.suspected_second_malignancy:
        why.append("a second malignancy is suspected")
    if ev.histologically_confirmed is False:
        why.append("the recurrence is not histologically confirmed")
    elif ev.histologically_confirmed is None:
        why.append("histological confirmation of the recurrence is not recorded")
    if not why:
        return None
    return f"These figures describe recurrent RMS; {' and '.join(why)}."


def relapse_prognosis(case: Case) -> Finding:
    """The relapse prognostic models that apply to the first event, each with its figure.

    Each model's figures are quoted only when the patient belongs to their populations
    (``prognosis.population``); a model whose population excludes the patient is listed as
    "not applicable: population" with the reason.  The value is the headline -- the most
    specific applicable model -- and the reason lists the others with their populations in
    words.  Models whose mapping is not published (Chisholm's nomogram, Mazzoleni >= 2
    factors) are listed as not computable, never estimated.
    """
    if not case.events:
        return not_applicable(
            FINDING_ID, reason="No relapse or progression is recorded.", rule=RULE
        )
    results = [apply_populations(case, m(case)) for m in MODELS]
    citations = sorted({r["citation"] for r in results if r["applicable"] is not False})
    inputs = sorted(
        {n for r in results for f in r["factors"] for n in f.get("needs", [])} | {"events[0]"}
    )
    details: dict[str, Any] = {
        "event": {"index": 0, "kind": case.events[0].kind.value},
        "models": results,
    }
    given: list[ModelResult] = []
    not_computable: list[ModelResult] = []
    excluded: list[ModelResult] = []
    undecided: list[ModelResult] = []
    for r in results:
        if r["applicable"] is None:
            undecided.append(r)
        elif r["applicable"] is False:
            excluded.append(r)
        else:
            (given if r["computable"] else not_computable).append(r)
    listed = [f"{_SHORT[r['model']]}: {r['reason'].rstrip('.')}" for r in not_computable]
    tail = ""
    if not_computable:
        tail += " Applicable but not computable: " + "; ".join(listed) + "."
    if undecided:
        tail += (
            " Not decided whether the population includes this patient: "
            + "; ".join(f"{_SHORT[r['model']]}: {r['reason'].rstrip('.')}" for r in undecided)
            + "."
        )
    if excluded:
        tail += (
            " Not applicable (population): "
            + "; ".join(f"{_SHORT[r['model']]}: {r['reason'].rstrip('.')}" for r in excluded)
            + "."
        )
    caveat = _histology_caveat(case)
    if caveat:
        details["histology_caveat"] = caveat
        tail += f" {caveat}"
    if given:
        head = _headline(given)
        for r in results:
            r["headline"] = r is head
        details["headline"] = head["model"]
        others = [r for r in given if r is not head]
        chars = ", ".join(head["conditions_on"]) or "no patient characteristic beyond relapse"
        reason = (
            f"Headline: {_SHORT[head['model']]}, the most specific applicable model (its "
            f"population is defined on {chars}); population: {head['population_words']}."
        )
        if others:
            reason += " Also applicable: " + "; ".join(_listed(r) for r in others) + "."
        return determined(
            FINDING_ID,
            f"{_SHORT[head['model']]}: {head['figure']}",
            reason=reason + tail,
            rule=RULE,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    needs = sorted({n for r in results for n in r["needs"]})
    if not needs:
        return not_applicable(
            FINDING_ID,
            reason="No published relapse model gives a figure for this case."
            + (tail or " None applies."),
            rule=RULE,
            citations=citations,
            inputs_used=inputs,
            details=details,
        )
    return indeterminate(
        FINDING_ID,
        candidates=[],
        needs=needs,
        reason="No relapse model can be applied yet; missing inputs decide which models apply."
        + tail,
        rule=RULE,
        citations=citations,
        inputs_used=inputs,
        details=details,
    )
