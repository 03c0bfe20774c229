"""Molecular testing: tumour profiling, germline testing, and biomarker-matched options.

Applies when a relapse or progression is recorded, or the disease was metastatic at diagnosis.

* ``molecular.fusion_status`` -- FOXO1 fusion testing when the status is not known: it carries
  prognostic weight (Skapek 2013) and drives risk stratification.
* ``molecular.tumour_panel`` -- tumour genomic profiling through a precision-oncology programme
  (Pediatric MATCH, MAPPYACTS, INFORM report actionable alterations in a large minority of
  tumours; RMS-specific benefit is not verified -- shown as an evidence gap).
* ``molecular.germline`` -- germline testing with counselling.  *Recommended* when a
  predisposition is likely: a known syndrome or germline TP53 variant, anaplasia (73% of
  children with anaplastic RMS carried germline TP53 variants, Hettmer 2014), a tumour TP53
  mutation, a family history suggestive of predisposition, or fusion-negative disease (all
  germline predisposition variants in the COG series were fusion-negative, Li 2021).  Otherwise
  *consider* (Kim 2021 recommends germline sequencing for children with RMS).  No verified age
  cut-off exists for "young children"; that is shown as an evidence gap.
* ``molecular.biomarker.<id>`` -- for each alteration the case carries (``applies_when`` in
  ``biomarkers.yaml``, or a detected ``diagnosis.tumour_alterations`` gene in the entry's
  ``genes``): its prognostic meaning and the targeted results, negative ones included.  A
  targeted approach that has shown no activity is *avoid* outside a trial.
* ``molecular.targeted_overview`` -- what targeted and immune approaches have shown in RMS so
  far, honestly: mostly negative or untested; consider them within trials.

Rule id: ``recommend.molecular.v1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from rhabdo.case.model import Case
from rhabdo.case.vocab import Anaplasia, FusionStatus, MutationStatus
from rhabdo.knowledge.treatment import BiomarkerEntry, biomarkers
from rhabdo.results import EvidenceGap, Finding, Recommendation, RecommendationCategory, Strength

RULE = "recommend.molecular.v1"
CATEGORY = RecommendationCategory.MOLECULAR_TESTING

GERMLINE_CITATIONS = ["kim_2021_germline", "li_2021_germline", "hettmer_2014", "schneider_2020"]
PANEL_CITATIONS = ["parsons_2022", "berlanga_2022", "van_tilburg_2021", "heske_2021"]
FUSION_CITATIONS = ["skapek_2013", "shern_2021"]
PANEL_ENTRY = "precision_oncology_programmes"
#: Biomarker entries about approaches not selected by a case field (shown in the overview).
OVERVIEW_ENTRIES = (
    "mtor_pathway",
    "igf1r",
    "erbb2_her2",
    "fgfr4",
    "b7h3",
    "pd1_checkpoint",
    "cdkn2a_mycn_alk_cdk4",
)


def in_scope(case: Case) -> bool:
    """Relapse/progression recorded, or metastatic at diagnosis."""
    return case.current_event is not None or bool(case.diagnosis.distant_metastases)


def case_value(case: Case, path: str) -> Any:
    """The value at a dotted case path (``diagnosis.foxo1_fusion``), or None when unknown."""
    obj: Any = case
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj.value if isinstance(obj, Enum) else obj


def detected_genes(case: Case) -> set[str]:
    """Genes with a detected alteration in ``diagnosis.tumour_alterations``."""
    return {a.gene for a in case.diagnosis.tumour_alterations or [] if a.detected}


def biomarker_applies(entry: BiomarkerEntry, case: Case) -> bool | None:
    """Whether a biomarker entry concerns this case.

    True when a detected tumour alteration is in one of the entry's genes, or when every
    ``applies_when`` condition holds; False when a condition fails (and no gene matches); None
    when a condition is unknown.  An entry with neither genes nor conditions applies to no one.
    """
    if detected_genes(case) & set(entry.genes):
        return True
    if not entry.applies_when:
        return False
    unknown = False
    for cond in entry.applies_when:
        path, _, expected = cond.partition("=")
        value = case_value(case, path)
        if value is None:
            unknown = True
        elif str(value) != expected:
            return False
    return None if unknown else True


def _gap(entry: BiomarkerEntry) -> list[EvidenceGap]:
    if entry.evidence_gap or not entry.verified:
        return [
            EvidenceGap(
                id=f"gap.{entry.id}",
                statement=entry.evidence_gap
                or "The evidence for this entry could not be verified.",
                knowledge_entry=entry.id,
            )
        ]
    return []


def fusion_status(case: Case) -> Recommendation | None:
    status = case.diagnosis.foxo1_fusion
    if status is not None and status is not FusionStatus.NOT_TESTED:
        return None
    why = "was not tested" if status is FusionStatus.NOT_TESTED else "is not recorded"
    return Recommendation(
        id="molecular.fusion_status",
        category=CATEGORY,
        statement="Determine FOXO1 fusion status (PAX3::FOXO1, PAX7::FOXO1 or fusion-negative) "
        "on tumour tissue.",
        strength=Strength.RECOMMENDED,
        reason=(
            f"FOXO1 fusion status {why}; it carries prognostic weight "
            "(PAX3::FOXO1 worse than PAX7::FOXO1 "
            "and fusion-negative disease) and decides which germline and targeted questions apply."
        ),
        rule=RULE,
        citations=FUSION_CITATIONS,
        inputs_used=["diagnosis.foxo1_fusion"],
    )


def tumour_panel(case: Case) -> Recommendation:
    entry = biomarkers()[PANEL_ENTRY]
    relapse = case.current_event is not None
    results = [f"{t.approach}: {t.result}" for t in entry.targeted]
    return Recommendation(
        id="molecular.tumour_panel",
        category=CATEGORY,
        statement=(
            "Offer tumour genomic profiling (a sequencing panel, ideally through a "
            "precision-oncology "
            "programme), on the recurrence where tissue is available."
            if relapse
            else "Consider tumour genomic profiling through a precision-oncology programme."
        ),
        strength=Strength.RECOMMENDED if relapse else Strength.CONSIDER,
        reason=(
            "Precision-oncology programmes find actionable alterations in a large "
            "minority of relapsed "
            "paediatric tumours and matched therapy can be offered within trials: "
            + " ".join(results)
        ),
        rule=RULE,
        citations=list(dict.fromkeys(PANEL_CITATIONS + list(entry.citations))),
        inputs_used=["events"] if relapse else ["diagnosis.distant_metastases"],
        evidence_gaps=_gap(entry),
        details={"programmes": [t.model_dump(mode="json") for t in entry.targeted]},
    )


def germline(case: Case) -> Recommendation:
    """Germline testing: recommended when predisposition is likely, else consider."""
    dx = case.diagnosis
    patient = case.patient
    triggers: list[str] = []
    unknown: list[str] = []
    if patient.known_predisposition is not None:
        triggers.append(f"known predisposition syndrome ({patient.known_predisposition.label})")
    if dx.tp53_germline is MutationStatus.MUTATED:
        triggers.append("germline TP53 variant already found")
    if dx.anaplasia is not None and dx.anaplasia is not Anaplasia.ABSENT:
        triggers.append(f"{dx.anaplasia.label} (strongly associated with germline TP53)")
    elif dx.anaplasia is None:
        unknown.append("diagnosis.anaplasia")
    if dx.tp53 is MutationStatus.MUTATED:
        triggers.append("TP53 mutation in the tumour")
    if patient.family_history_of_cancer is True:
        triggers.append("family history suggestive of a cancer-predisposition syndrome")
    elif patient.family_history_of_cancer is None:
        unknown.append("patient.family_history_of_cancer")
    if dx.foxo1_fusion is FusionStatus.NEGATIVE:
        triggers.append(
            "fusion-negative RMS (germline predisposition variants cluster in "
            "fusion-negative disease)"
        )
    elif dx.foxo1_fusion is None or dx.foxo1_fusion is FusionStatus.NOT_TESTED:
        unknown.append("diagnosis.foxo1_fusion")
    gaps = [
        EvidenceGap(
            id="gap.germline.age_cutoff",
            statement="No verified age cut-off defines the 'young child' in whom germline "
            "testing is most "
            "yield-rich; the COG series proposes testing by subtype regardless of age.",
        ),
        EvidenceGap(
            id="gap.germline.li_2021_figures",
            statement="The 7.3% germline yield (all fusion-negative) was taken from a "
            "news summary, "
            "not the published abstract.",
            knowledge_entry=None,
        ),
    ]
    inputs = [
        "patient.known_predisposition",
        "patient.family_history_of_cancer",
        "diagnosis.anaplasia",
        "diagnosis.tp53",
        "diagnosis.tp53_germline",
        "diagnosis.foxo1_fusion",
    ]
    if triggers:
        return Recommendation(
            id="molecular.germline",
            category=CATEGORY,
            statement="Refer for genetic counselling and germline testing "
            "(cancer-predisposition panel "
            "including TP53), with cascade testing of relatives where a variant is found.",
            strength=Strength.RECOMMENDED,
            reason="A cancer-predisposition syndrome is likely: " + "; ".join(triggers) + ".",
            rule=RULE,
            citations=GERMLINE_CITATIONS,
            inputs_used=inputs,
            evidence_gaps=gaps,
            details={"triggers": triggers, "unknown": unknown},
        )
    unknown_text = f" Still unknown: {', '.join(unknown)}." if unknown else ""
    return Recommendation(
        id="molecular.germline",
        category=CATEGORY,
        statement="Consider germline testing with genetic counselling.",
        strength=Strength.CONSIDER,
        reason="No specific predisposition trigger is recorded; germline sequencing "
        "with counselling has "
        "been recommended for children with RMS generally." + unknown_text,
        rule=RULE,
        citations=GERMLINE_CITATIONS,
        inputs_used=inputs,
        evidence_gaps=gaps,
        details={"triggers": [], "unknown": unknown},
    )


def biomarker_option(entry: BiomarkerEntry, genes_found: set[str] | None = None) -> Recommendation:
    actives = [t for t in entry.targeted if t.active]
    negatives = [t for t in entry.targeted if t.active is False]
    results = (
        "; ".join(f"{t.approach}: {t.result}" for t in entry.targeted)
        or "no targeted results found"
    )
    if actives:
        strength, action = (
            Strength.CONSIDER,
            "a matched option may be considered, preferably within a trial",
        )
    elif negatives:
        strength, action = (
            Strength.AVOID,
            "matched targeted therapy has not shown activity; use it only within a trial",
        )
    else:
        strength, action = (
            Strength.CONSIDER,
            "no targeted therapy with results exists; consider a trial",
        )
    return Recommendation(
        id=f"molecular.biomarker.{entry.id}",
        category=CATEGORY,
        statement=f"{entry.alteration}: {action}.",
        strength=strength,
        reason=(
            f"Detected in the tumour: {', '.join(sorted(genes_found))}. " if genes_found else ""
        )
        + f"{entry.prognosis.strip()} Targeted results: {results}.",
        rule=RULE,
        citations=list(entry.citations),
        inputs_used=[c.partition("=")[0] for c in entry.applies_when]
        + (["diagnosis.tumour_alterations"] if genes_found else []),
        evidence_gaps=_gap(entry),
        details={
            "alteration": entry.alteration,
            "targeted": [t.model_dump(mode="json") for t in entry.targeted],
        },
    )


def targeted_overview() -> Recommendation:
    table = biomarkers()
    entries = [table[i] for i in OVERVIEW_ENTRIES]
    lines = []
    for e in entries:
        for t in e.targeted:
            verdict = {True: "activity", False: "no activity", None: "no results yet"}[t.active]
            lines.append(f"{t.approach} ({verdict})")
    gaps = [g for e in entries for g in _gap(e)]
    return Recommendation(
        id="molecular.targeted_overview",
        category=CATEGORY,
        statement="Targeted and immune therapies for RMS remain investigational; "
        "offer them within early-phase trials.",
        strength=Strength.CONSIDER,
        reason="Published results so far: " + "; ".join(lines) + ".",
        rule=RULE,
        citations=list(dict.fromkeys(c for e in entries for c in e.citations)),
        evidence_gaps=gaps,
        details={"entries": [e.id for e in entries]},
    )


def molecular_recommendations(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """Molecular-testing recommendations for a relapsed, refractory or metastatic case."""
    if not in_scope(case):
        return []
    recs: list[Recommendation] = []
    fusion = fusion_status(case)
    if fusion is not None:
        recs.append(fusion)
    recs.append(tumour_panel(case))
    recs.append(germline(case))
    for entry in biomarkers():
        if biomarker_applies(entry, case) is True:
            recs.append(biomarker_option(entry, detected_genes(case) & set(entry.genes)))
    recs.append(targeted_overview())
    return recs
