"""Molecular testing: tumour profiling, germline testing, and biomarker-matched options.

Applies when a relapse or progression is recorded, or the disease was metastatic at diagnosis.

* ``molecular.fusion_status`` -- FOXO1 fusion testing when the status is not known: it carries
  prognostic weight (Skapek 2013) and drives risk stratification.
* ``molecular.tumour_panel`` -- tumour genomic profiling through a precision-oncology programme
  (Pediatric MATCH, MAPPYACTS, INFORM report actionable alterations in a large minority of
  tumours; RMS-specific benefit is not verified -- shown as an evidence gap).
* ``molecular.germline`` -- germline testing with counselling, worded by the evidence: a
  minority (6.6-7.7%) of patients with RMS carry a dominant predisposition variant (Kim 2021).
  *Recommended* with a specific trigger: anaplasia in a young child with non-alveolar RMS
  (Hettmer 2014's population: 11/15 carried germline TP53), a tumour TP53 mutation, a suggestive
  family history; otherwise *consider* (fusion-negative disease is noted: a non-significant
  excess).  Never "a predisposition syndrome is likely".
* ``molecular.predisposition_care`` / ``molecular.limit_ionising_radiation`` -- a known
  syndrome or germline TP53 variant is not tested again: counselling and surveillance (for
  Li-Fraumeni the modified Toronto protocol, Kratz 2017; Villani 2016) and, for TP53, a caution
  to limit ionising radiation (SECONDARY).
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
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from rhabdo.case.model import Case
from rhabdo.case.vocab import (
    Anaplasia,
    FusionStatus,
    Histology,
    MutationStatus,
    PredispositionSyndrome,
)
from rhabdo.knowledge.treatment import BiomarkerEntry, biomarkers
from rhabdo.recommend._build import build, citations_of, gaps_of
from rhabdo.recommend._facts import DAYS_PER_MONTH
from rhabdo.recommend.knowledge import care_entries
from rhabdo.results import (
    EvidenceGap,
    Finding,
    Recommendation,
    RecommendationCategory,
    Strength,
    recommendation,
)

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
    return _value_at(case, tuple(path.split(".")))


def _value_at(case: Case, parts: tuple[str, ...]) -> Any:
    obj: Any = case
    for part in parts:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj._value_ if isinstance(obj, Enum) else obj  # ``.value`` without its property


def detected_genes(case: Case) -> set[str]:
    """Genes with a detected alteration in ``diagnosis.tumour_alterations``."""
    return {a.gene for a in case.diagnosis.tumour_alterations or [] if a.detected}


#: An ``applies_when`` condition: the case path (split at its dots) and the value expected.
_Condition = tuple[tuple[str, ...], str]


def _conditions(entry: BiomarkerEntry) -> tuple[_Condition, ...]:
    out = []
    for cond in entry.applies_when:
        path, _, expected = cond.partition("=")
        out.append((tuple(path.split(".")), expected))
    return tuple(out)


def biomarker_applies(entry: BiomarkerEntry, case: Case) -> bool | None:
    """Whether a biomarker entry concerns this case.

    True when a detected tumour alteration is in one of the entry's genes, or when every
    ``applies_when`` condition holds; False when a condition fails (and no gene matches); None
    when a condition is unknown.  An entry with neither genes nor conditions applies to no one.
    """
    return _applies(frozenset(entry.genes), _conditions(entry), case, detected_genes(case))


def _applies(
    genes: frozenset[str],
    conditions: tuple[_Condition, ...],
    case: Case,
    detected: set[str],
) -> bool | None:
    if not genes.isdisjoint(detected):
        return True
    if not conditions:
        return False
    unknown = False
    for parts, expected in conditions:
        value = _value_at(case, parts)
        if value is None:
            unknown = True
        elif str(value) != expected:
            return False
    return None if unknown else True


def fusion_status(case: Case) -> Recommendation | None:
    status = case.diagnosis.foxo1_fusion
    if status is not None and status is not FusionStatus.NOT_TESTED:
        return None
    why = "was not tested" if status is FusionStatus.NOT_TESTED else "is not recorded"
    return recommendation(
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


@dataclass(frozen=True)
class _PanelParts:
    """What the tumour-panel recommendation takes from the knowledge base (once per process)."""

    reason: str
    citations: tuple[str, ...]
    gaps: tuple[EvidenceGap, ...]
    programmes: tuple[dict[str, Any], ...]


@cache
def _panel_parts() -> _PanelParts:
    entry = biomarkers()[PANEL_ENTRY]
    results = [f"{t.approach}: {t.result}" for t in entry.targeted]
    return _PanelParts(
        reason=(
            "Precision-oncology programmes find actionable alterations in a large "
            "minority of relapsed "
            "paediatric tumours and matched therapy can be offered within trials: "
            + " ".join(results)
        ),
        citations=tuple(dict.fromkeys(PANEL_CITATIONS + list(entry.citations))),
        gaps=tuple(gaps_of([entry])),
        programmes=tuple(t.model_dump(mode="json") for t in entry.targeted),
    )


def tumour_panel(case: Case) -> Recommendation:
    parts = _panel_parts()
    relapse = case.current_event is not None
    return recommendation(
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
        reason=parts.reason,
        rule=RULE,
        citations=list(parts.citations),
        inputs_used=["events"] if relapse else ["diagnosis.distant_metastases"],
        evidence_gaps=list(parts.gaps),
        # each programme is a flat record of text and flags, so a shallow copy is its own
        details={"programmes": [dict(p) for p in parts.programmes]},
    )


def _known_predisposition(case: Case) -> list[Recommendation]:
    """A known syndrome or germline TP53 variant: no retest; counselling, surveillance and (for
    TP53) a caution on ionising radiation (Kratz 2017; Villani 2016)."""
    dx = case.diagnosis
    syndrome = case.patient.known_predisposition
    tp53 = (
        dx.tp53_germline is MutationStatus.MUTATED or syndrome is PredispositionSyndrome.LI_FRAUMENI
    )
    what = (
        syndrome.label if syndrome is not None else "germline TP53 variant (Li-Fraumeni syndrome)"
    )
    inputs = ["patient.known_predisposition", "diagnosis.tp53_germline"]
    entries = care_entries()
    out: list[Recommendation] = []
    if tp53:
        surveillance = entries["care.predisposition_surveillance"]
        out.append(
            build(
                id="molecular.predisposition_care",
                category=CATEGORY,
                statement=(
                    f"Known {what}: do not test again. Offer genetic counselling (with cascade "
                    "testing of relatives) and cancer surveillance by the modified Toronto "
                    "protocol: physical examination, blood tests, whole-body and brain MRI and, "
                    "by age, breast MRI, abdominal ultrasound and colonoscopy."
                ),
                strength=Strength.RECOMMENDED,
                reason=surveillance.statement.strip(),
                rule=RULE,
                entries=[surveillance],
                inputs_used=inputs,
                details={"predisposition": what, "figures": dict(surveillance.figures)},
            )
        )
        radiation = entries["care.limit_ionising_radiation"]
        out.append(
            build(
                id="molecular.limit_ionising_radiation",
                category=CATEGORY,
                statement=(
                    "Caution — limit ionising radiation: prefer MRI to CT or PET-CT where it "
                    "answers the same question, and weigh any radiotherapy against the risk of "
                    "radiation-associated cancers."
                ),
                strength=Strength.CAUTION,
                reason=f"Known {what}. " + radiation.statement.strip(),
                rule=RULE,
                entries=[radiation],
                inputs_used=inputs,
            )
        )
        return out
    assert syndrome is not None
    out.append(
        build(
            id="molecular.predisposition_care",
            category=CATEGORY,
            statement=(
                f"Known {what}: do not test again. Offer genetic counselling (with cascade "
                "testing of relatives) and the surveillance recommended for this syndrome."
            ),
            strength=Strength.RECOMMENDED,
            reason=(
                f"The predisposition ({what}) is already known; the question is counselling and "
                "surveillance, not testing."
            ),
            rule=RULE,
            entries=[entries["care.germline_yield"]],
            extra_citations=["schneider_2020"],
            inputs_used=inputs,
            details={"predisposition": what},
        )
    )
    return out


def _hettmer_applies(case: Case) -> bool | None:
    """Whether the patient is in the Hettmer 2014 population: anaplastic non-alveolar RMS in a
    young child (19-67 months at diagnosis, the series' range)."""
    fig = care_entries()["care.germline_anaplasia"].figures
    dx = case.diagnosis
    if dx.histology is Histology.ALVEOLAR:
        return False
    days = case.age_at_diagnosis_days
    if days is None:
        return None
    months = days / DAYS_PER_MONTH
    return float(fig["age_months_min"]) <= months <= float(fig["age_months_max"])


@cache
def _germline_gaps() -> tuple[EvidenceGap, ...]:
    """What the germline evidence does not settle (immutable, so made once per process)."""
    return (
        EvidenceGap(
            id="gap.germline.age_cutoff",
            statement="No verified age cut-off defines the 'young child' in whom germline "
            "testing is most yield-rich; the anaplasia series covers 19-67 months.",
        ),
        EvidenceGap(
            id="gap.germline.li_2021_figures",
            statement="The 7.3% germline yield (all fusion-negative) of the COG exome study was "
            "taken from a news summary, not the published abstract.",
        ),
    )


def germline_recommendations(case: Case) -> list[Recommendation]:
    """Germline testing worded by the evidence (Kim 2021; Hettmer 2014 only for its population);
    a known predisposition is not tested again (counselling and surveillance instead)."""
    dx = case.diagnosis
    patient = case.patient
    if patient.known_predisposition is not None or dx.tp53_germline is MutationStatus.MUTATED:
        return _known_predisposition(case)
    entries = care_entries()
    kim = entries["care.germline_yield"]
    hettmer = entries["care.germline_anaplasia"]
    triggers: list[str] = []
    notes: list[str] = []
    unknown: list[str] = []
    used = [kim]
    anaplastic = dx.anaplasia is not None and dx.anaplasia is not Anaplasia.ABSENT
    if anaplastic:
        applies = _hettmer_applies(case)
        fig = hettmer.figures
        if applies is True:
            triggers.append(
                f"{dx.anaplasia.label if dx.anaplasia else 'anaplasia'} in a young child with "
                f"non-alveolar RMS: {fig['carriers']} of {fig['tested']} such children "
                f"({fig['percent']}%) carried a germline TP53 variant"
            )
            used.append(hettmer)
        elif applies is None:
            triggers.append(
                "anaplasia (the enriched TP53 series concerns young children; age at diagnosis "
                "not recorded)"
            )
            unknown.append("patient.age_at_diagnosis_days")
            used.append(hettmer)
        else:
            notes.append(
                "anaplasia, outside the population of the young-child TP53 series (alveolar "
                "histology or older age), so its 73% carrier figure does not apply"
            )
    elif dx.anaplasia is None:
        unknown.append("diagnosis.anaplasia")
    if dx.tp53 is MutationStatus.MUTATED:
        triggers.append("a TP53 mutation in the tumour (it may be germline)")
    if patient.family_history_of_cancer is True:
        triggers.append("a family history suggestive of a cancer-predisposition syndrome")
    elif patient.family_history_of_cancer is None:
        unknown.append("patient.family_history_of_cancer")
    if dx.foxo1_fusion is FusionStatus.NEGATIVE:
        notes.append(
            "fusion-negative RMS (a non-significant excess of germline variants was seen in "
            "fusion-negative disease)"
        )
    elif dx.foxo1_fusion is None or dx.foxo1_fusion is FusionStatus.NOT_TESTED:
        unknown.append("diagnosis.foxo1_fusion")
    gaps = list(_germline_gaps())
    fig = kim.figures
    base_reason = (
        f"{fig['dominant_gene_carriers_percent_low']}-"
        f"{fig['dominant_gene_carriers_percent_high']}% "
        "of patients with RMS carry a pathogenic germline variant in a dominant cancer gene "
        "(a minority); counselling and cascade testing are recommended for carriers."
    )
    inputs = [
        "patient.known_predisposition",
        "patient.family_history_of_cancer",
        "patient.age_at_diagnosis_days",
        "diagnosis.histology",
        "diagnosis.anaplasia",
        "diagnosis.tp53",
        "diagnosis.tp53_germline",
        "diagnosis.foxo1_fusion",
    ]
    unknown_text = f" Still unknown: {', '.join(unknown)}." if unknown else ""
    if triggers:
        statement = (
            "Refer for genetic counselling and germline testing "
            "(cancer-predisposition panel including TP53), with cascade testing of "
            "relatives where a variant is found."
        )
        strength = Strength.RECOMMENDED
        reason = (
            "Germline testing is indicated here because of "
            + "; ".join(triggers + notes)
            + ". "
            + base_reason
            + unknown_text
        )
    else:
        statement = "Consider germline testing with genetic counselling."
        strength = Strength.CONSIDER
        reason = (
            "No specific predisposition trigger is recorded"
            + (f" ({'; '.join(notes)})" if notes else "")
            + ". "
            + base_reason
            + unknown_text
        )
    # The gaps are the germline evidence's own, not the entries' (which ``build`` would give).
    return [
        recommendation(
            id="molecular.germline",
            category=CATEGORY,
            statement=statement,
            strength=strength,
            reason=reason,
            rule=RULE,
            citations=citations_of(used, GERMLINE_CITATIONS),
            inputs_used=inputs,
            evidence_gaps=gaps,
            details={"triggers": triggers, "notes": notes, "unknown": unknown},
        )
    ]


@dataclass(frozen=True)
class _Marker:
    """A biomarker entry with what its recommendation takes from the knowledge base, worked
    out once per process: which case facts select it and the words that do not depend on
    the case."""

    entry: BiomarkerEntry
    genes: frozenset[str]
    conditions: tuple[_Condition, ...]
    statement: str
    strength: Strength
    results: str
    citations: tuple[str, ...]
    inputs_used: tuple[str, ...]
    gaps: tuple[EvidenceGap, ...]
    targeted: tuple[dict[str, Any], ...]


def _marker(entry: BiomarkerEntry) -> _Marker:
    actives = [t for t in entry.targeted if t.active]
    negatives = [t for t in entry.targeted if t.active is False]
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
    return _Marker(
        entry=entry,
        genes=frozenset(entry.genes),
        conditions=_conditions(entry),
        statement=f"{entry.alteration}: {action}.",
        strength=strength,
        results=(
            "; ".join(f"{t.approach}: {t.result}" for t in entry.targeted)
            or "no targeted results found"
        ),
        citations=tuple(entry.citations),
        inputs_used=tuple(c.partition("=")[0] for c in entry.applies_when),
        gaps=tuple(gaps_of([entry])),
        targeted=tuple(t.model_dump(mode="json") for t in entry.targeted),
    )


@cache
def _markers() -> tuple[_Marker, ...]:
    """Every biomarker entry of the knowledge base, prepared (knowledge only)."""
    return tuple(_marker(e) for e in biomarkers())


def biomarker_option(entry: BiomarkerEntry, genes_found: set[str] | None = None) -> Recommendation:
    return _option(_marker(entry), genes_found)


def _option(marker: _Marker, genes_found: set[str] | None) -> Recommendation:
    entry = marker.entry
    return recommendation(
        id=f"molecular.biomarker.{entry.id}",
        category=CATEGORY,
        statement=marker.statement,
        strength=marker.strength,
        reason=(
            f"Detected in the tumour: {', '.join(sorted(genes_found))}. " if genes_found else ""
        )
        + f"{entry.prognosis.strip()} Targeted results: {marker.results}.",
        rule=RULE,
        citations=list(marker.citations),
        inputs_used=list(marker.inputs_used)
        + (["diagnosis.tumour_alterations"] if genes_found else []),
        evidence_gaps=list(marker.gaps),
        details={
            "alteration": entry.alteration,
            # each result is a flat record of text and flags, so a shallow copy is its own
            "targeted": [dict(t) for t in marker.targeted],
        },
    )


@dataclass(frozen=True)
class _OverviewParts:
    reason: str
    citations: tuple[str, ...]
    gaps: tuple[EvidenceGap, ...]


@cache
def _overview_parts() -> _OverviewParts:
    """The overview depends on the knowledge base alone, so its words are made once."""
    table = biomarkers()
    entries = [table[i] for i in OVERVIEW_ENTRIES]
    lines = []
    for e in entries:
        for t in e.targeted:
            verdict = {True: "activity", False: "no activity", None: "no results yet"}[t.active]
            lines.append(f"{t.approach} ({verdict})")
    return _OverviewParts(
        reason="Published results so far: " + "; ".join(lines) + ".",
        citations=tuple(dict.fromkeys(c for e in entries for c in e.citations)),
        gaps=tuple(gaps_of(entries)),
    )


def targeted_overview() -> Recommendation:
    parts = _overview_parts()
    return recommendation(
        id="molecular.targeted_overview",
        category=CATEGORY,
        statement="Targeted and immune therapies for RMS remain investigational; "
        "offer them within early-phase trials.",
        strength=Strength.CONSIDER,
        reason=parts.reason,
        rule=RULE,
        citations=list(parts.citations),
        evidence_gaps=list(parts.gaps),
        details={"entries": list(OVERVIEW_ENTRIES)},
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
    recs += germline_recommendations(case)
    detected = detected_genes(case)
    for marker in _markers():
        # most entries are selected by a gene alone: skip those without a detected gene here
        selectable = marker.conditions or not marker.genes.isdisjoint(detected)
        if selectable and _applies(marker.genes, marker.conditions, case, detected) is True:
            recs.append(_option(marker, detected & marker.genes))
    recs.append(targeted_overview())
    return recs
