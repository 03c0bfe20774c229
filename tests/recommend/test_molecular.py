"""Molecular-testing recommendations: fusion status, tumour panel, germline triggers, biomarker
matches with their honest (often negative) results."""

from __future__ import annotations

from pathlib import Path

import pytest
from recommend_helpers import assert_well_formed, by_id, case

from rhabdo.case.io import load_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import Anaplasia, FusionStatus, MutationStatus, PredispositionSyndrome
from rhabdo.knowledge.treatment import biomarkers
from rhabdo.recommend.molecular import biomarker_applies, molecular_recommendations
from rhabdo.results import Recommendation, RecommendationCategory, Strength

ROOT = Path(__file__).resolve().parents[2]


def recs(c: Case) -> dict[str, Recommendation]:
    out = molecular_recommendations(c, {})
    assert_well_formed(out)
    assert all(r.category is RecommendationCategory.MOLECULAR_TESTING for r in out)
    return by_id(out)


def fusion_positive(**extra: object) -> Case:
    """Fusion-positive, no anaplasia, no family history: no germline trigger."""
    base = {
        "diagnosis": {"foxo1_fusion": "pax3_foxo1", "histology": "alveolar", "anaplasia": "absent"},
        "patient": {
            "id": "SYN-MOL-1",
            "age_at_diagnosis_days": 3000,
            "family_history_of_cancer": False,
        },
    }
    base.update(extra)
    return case(**base)


def test_out_of_scope_without_event_or_metastases() -> None:
    assert molecular_recommendations(case(events=[]), {}) == []


def test_metastatic_at_diagnosis_is_in_scope_with_panel_considered() -> None:
    c = case(events=[], diagnosis={"distant_metastases": ["lung"]})
    r = recs(c)
    assert r["molecular.tumour_panel"].strength is Strength.CONSIDER


def test_relapse_gets_panel_recommended_with_programme_results() -> None:
    panel = recs(case())["molecular.tumour_panel"]
    assert panel.strength is Strength.RECOMMENDED
    assert (
        "31.5%" in panel.reason
    )  # Parsons 2022: actionable alterations in the first 1,000 tumours
    assert {"parsons_2022", "berlanga_2022", "van_tilburg_2021"} <= set(panel.citations)
    assert [g.id for g in panel.evidence_gaps] == ["gap.precision_oncology_programmes"]


@pytest.mark.parametrize("status", list(FusionStatus))
def test_fusion_status_recommended_only_when_unknown(status: FusionStatus) -> None:
    r = recs(case(diagnosis={"foxo1_fusion": status.value}))
    assert ("molecular.fusion_status" in r) is (status is FusionStatus.NOT_TESTED)


def test_fusion_status_recommended_when_not_recorded() -> None:
    r = recs(case(diagnosis={"foxo1_fusion": None}))
    assert r["molecular.fusion_status"].strength is Strength.RECOMMENDED
    assert "is not recorded" in r["molecular.fusion_status"].reason


def test_no_trigger_germline_is_consider() -> None:
    g = recs(fusion_positive())["molecular.germline"]
    assert g.strength is Strength.CONSIDER
    assert g.details["triggers"] == [] and g.details["unknown"] == []
    assert "kim_2021_germline" in g.citations


@pytest.mark.parametrize("anaplasia", list(Anaplasia))
@pytest.mark.parametrize(
    ("histology", "age_days", "in_population"),
    [
        ("embryonal", 1200, True),  # 39 months: inside 19-67 months
        ("embryonal", 3000, False),  # 98 months: older than the series
        ("alveolar", 1200, False),  # the series was non-alveolar
    ],
)
def test_anaplasia_triggers_germline_only_in_the_hettmer_population(
    anaplasia: Anaplasia, histology: str, age_days: int, in_population: bool
) -> None:
    """Hettmer 2014: 11/15 (73%) of young children (19-67 months) with anaplastic non-alveolar
    RMS carried germline TP53 variants; the figure is not applied outside that population."""
    c = fusion_positive(
        diagnosis={
            "foxo1_fusion": "negative",
            "histology": histology,
            "anaplasia": anaplasia.value,
        },
        patient={
            "id": "SYN-MOL-4",
            "age_at_diagnosis_days": age_days,
            "family_history_of_cancer": False,
        },
    )
    g = recs(c)["molecular.germline"]
    expected = anaplasia is not Anaplasia.ABSENT and in_population
    assert (g.strength is Strength.RECOMMENDED) is expected
    assert ("73%" in g.reason) is (anaplasia is not Anaplasia.ABSENT)
    assert "likely" not in g.reason


@pytest.mark.parametrize("status", list(FusionStatus))
def test_fusion_negative_is_noted_not_a_trigger(status: FusionStatus) -> None:
    """Kim 2021: only a non-significant excess of germline variants in fusion-negative RMS."""
    c = fusion_positive(diagnosis={"foxo1_fusion": status.value, "anaplasia": "absent"})
    g = recs(c)["molecular.germline"]
    assert g.strength is Strength.CONSIDER
    assert ("non-significant excess" in g.reason) is (status is FusionStatus.NEGATIVE)
    assert "6.6-7.7%" in g.reason
    assert ("diagnosis.foxo1_fusion" in g.details["unknown"]) is (status is FusionStatus.NOT_TESTED)


@pytest.mark.parametrize("history", [True, False, None])
def test_family_history(history: bool | None) -> None:
    c = fusion_positive(patient={"id": "SYN-MOL-2", "family_history_of_cancer": history})
    g = recs(c)["molecular.germline"]
    assert (g.strength is Strength.RECOMMENDED) is (history is True)
    assert ("patient.family_history_of_cancer" in g.details["unknown"]) is (history is None)


@pytest.mark.parametrize("syndrome", list(PredispositionSyndrome))
def test_known_syndrome_triggers_germline(syndrome: PredispositionSyndrome) -> None:
    c = fusion_positive(
        patient={
            "id": "SYN-MOL-3",
            "known_predisposition": syndrome.value,
            "family_history_of_cancer": False,
        }
    )
    r = recs(c)
    assert "molecular.germline" not in r  # a known syndrome is not tested again
    care = r["molecular.predisposition_care"]
    assert care.strength is Strength.RECOMMENDED
    assert syndrome.label in care.statement and "do not test again" in care.statement
    lfs = syndrome is PredispositionSyndrome.LI_FRAUMENI
    assert ("whole-body" in care.statement) is lfs  # Kratz 2017 modified Toronto protocol
    assert ("molecular.limit_ionising_radiation" in r) is lfs


@pytest.mark.parametrize("field", ["tp53", "tp53_germline"])
@pytest.mark.parametrize("status", list(MutationStatus))
def test_tp53_triggers_germline(field: str, status: MutationStatus) -> None:
    c = fusion_positive(
        diagnosis={"foxo1_fusion": "pax3_foxo1", "anaplasia": "absent", field: status.value}
    )
    r = recs(c)
    if field == "tp53_germline" and status is MutationStatus.MUTATED:
        assert "molecular.germline" not in r
        assert r["molecular.limit_ionising_radiation"].strength is Strength.CAUTION
        assert "kratz_2017" in r["molecular.predisposition_care"].citations
        return
    g = r["molecular.germline"]
    assert (g.strength is Strength.RECOMMENDED) is (
        field == "tp53" and status is MutationStatus.MUTATED
    )


def test_germline_always_shows_its_evidence_gaps() -> None:
    g = recs(case())["molecular.germline"]
    assert {x.id for x in g.evidence_gaps} == {
        "gap.germline.age_cutoff",
        "gap.germline.li_2021_figures",
    }


# FusionStatus -> biomarker entries matched (skapek_2013; shern_2021 / eckstein_2022)
FUSION_MATCHES = {
    FusionStatus.PAX3_FOXO1: {"pax3_foxo1"},
    FusionStatus.PAX7_FOXO1: {"pax7_foxo1"},
    FusionStatus.OTHER_FOXO1: set(),
    FusionStatus.NEGATIVE: {"ras_pathway"},
    FusionStatus.NOT_TESTED: set(),
}


@pytest.mark.parametrize("status", list(FusionStatus))
def test_biomarker_matches_by_fusion_status(status: FusionStatus) -> None:
    r = recs(case(diagnosis={"foxo1_fusion": status.value}))
    matched = {
        k.removeprefix("molecular.biomarker.") for k in r if k.startswith("molecular.biomarker.")
    }
    assert matched == FUSION_MATCHES[status]


def test_negative_targeted_result_is_avoid_outside_trials() -> None:
    """Eckstein 2022 (MATCH arm E): selumetinib, no objective responses."""
    ras = recs(case(diagnosis={"foxo1_fusion": "negative"}))["molecular.biomarker.ras_pathway"]
    assert ras.strength is Strength.AVOID
    assert "no objective responses" in ras.reason
    assert "eckstein_2022" in ras.citations


@pytest.mark.parametrize(("field", "entry"), [("myod1", "myod1"), ("tp53", "tp53")])
def test_mutation_biomarkers(field: str, entry: str) -> None:
    r = recs(case(diagnosis={field: "mutated"}))
    rec = r[f"molecular.biomarker.{entry}"]
    assert rec.strength is Strength.CONSIDER  # no targeted results: consider a trial
    assert rec.evidence_gaps


def test_biomarker_applies_unknown_is_none() -> None:
    entry = biomarkers()["pax3_foxo1"]
    assert biomarker_applies(entry, case(diagnosis={"foxo1_fusion": None})) is None
    assert biomarker_applies(entry, case(diagnosis={"foxo1_fusion": "pax3_foxo1"})) is True
    assert biomarker_applies(entry, case(diagnosis={"foxo1_fusion": "negative"})) is False


def test_targeted_overview_is_honest() -> None:
    overview = recs(case())["molecular.targeted_overview"]
    assert overview.strength is Strength.CONSIDER
    assert "no activity" in overview.reason and "no results yet" in overview.reason
    assert {"gupta_2024", "geoerger_2020", "davis_2020", "pappo_2014"} <= set(overview.citations)
    assert "gap.cdkn2a_mycn_alk_cdk4" in [g.id for g in overview.evidence_gaps]


def test_example_anaplastic_young_child() -> None:
    """Diffuse anaplasia, tumour TP53, fusion-negative: germline testing is clearly indicated."""
    c = load_case(ROOT / "examples" / "anaplastic-young-child-local-relapse.yaml")
    r = recs(c)
    assert r["molecular.germline"].strength is Strength.RECOMMENDED
    assert "anaplasia" in r["molecular.germline"].reason
    assert "molecular.biomarker.tp53" in r


def test_example_missing_data_asks_for_fusion_status() -> None:
    c = load_case(ROOT / "examples" / "missing-data-trunk-relapse.yaml")
    r = recs(c)
    assert r["molecular.fusion_status"].strength is Strength.RECOMMENDED
    assert r["molecular.germline"].strength is Strength.CONSIDER


def test_examples_are_well_formed(example_path: Path) -> None:
    molecular_recommendations(load_case(example_path), {})
    assert_well_formed(molecular_recommendations(load_case(example_path), {}))


# gene detected in the tumour -> biomarker entry it brings in (biomarkers.yaml ``genes``)
GENE_MATCHES = [
    ("NRAS", "ras_pathway"),  # Shern 2021; Eckstein 2022 (selumetinib, no responses)
    ("KRAS", "ras_pathway"),
    ("HRAS", "ras_pathway"),
    ("NF1", "ras_pathway"),
    ("TP53", "tp53"),  # Shern 2021
    ("MYOD1", "myod1"),  # Agaram 2019
    ("PIK3CA", "pik3ca"),  # Agaram 2019
    ("BCOR", "bcor"),
    ("IGF1R", "igf1r"),  # Pappo 2014
    ("ERBB2", "erbb2_her2"),  # Hegde 2020
    ("FGFR4", "fgfr4"),
    ("CD276", "b7h3"),
    ("MYCN", "cdkn2a_mycn_alk_cdk4"),
]


def with_alteration(gene: str, detected: bool, fusion: str = "pax3_foxo1") -> Case:
    return case(
        diagnosis={
            "foxo1_fusion": fusion,
            "tumour_alterations": [{"gene": gene, "alteration": "mutation", "detected": detected}],
        }
    )


@pytest.mark.parametrize(("gene", "entry"), GENE_MATCHES)
def test_detected_gene_brings_in_its_biomarker(gene: str, entry: str) -> None:
    rec = recs(with_alteration(gene, True))[f"molecular.biomarker.{entry}"]
    assert f"Detected in the tumour: {gene}." in rec.reason
    assert "diagnosis.tumour_alterations" in rec.inputs_used


@pytest.mark.parametrize(("gene", "entry"), GENE_MATCHES)
def test_tested_negative_gene_does_not(gene: str, entry: str) -> None:
    r = recs(with_alteration(gene, False))
    assert f"molecular.biomarker.{entry}" not in r


def test_every_gene_bearing_entry_is_in_the_gene_table() -> None:
    tested = {entry for _, entry in GENE_MATCHES}
    for e in biomarkers():
        assert (e.id in tested) == bool(e.genes), e.id


def test_ras_mutation_in_fusion_positive_tumour_still_matches() -> None:
    r = recs(with_alteration("KRAS", True, fusion="pax7_foxo1"))
    assert r["molecular.biomarker.ras_pathway"].strength is Strength.AVOID
    assert "molecular.biomarker.pax7_foxo1" in r


def fusion_negative_tp53() -> Case:
    return fusion_positive(
        diagnosis={
            "foxo1_fusion": "negative",
            "histology": "embryonal",
            "anaplasia": "absent",
            "tp53": "mutated",
        }
    )


def test_knowledge_parts_made_once_are_each_callers_own() -> None:
    """The panel, overview and biomarker words come from the knowledge base once per process;
    what a caller is handed is its own, so changing it cannot reach the next case."""
    first = recs(fusion_negative_tp53())
    for rec in first.values():
        rec.citations.clear()
        rec.evidence_gaps.clear()
        rec.inputs_used.append("tampered")
        for value in rec.details.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        item["result"] = "tampered"
                value.clear()
    again = recs(fusion_negative_tp53())
    assert all(r.citations and "tampered" not in r.inputs_used for r in again.values())
    assert again["molecular.tumour_panel"].details["programmes"]
    assert again["molecular.targeted_overview"].details["entries"]
    assert again["molecular.targeted_overview"].evidence_gaps
    option = again["molecular.biomarker.ras_pathway"]
    assert option.details["targeted"] and "tampered" not in str(option.details)


def test_biomarker_options_follow_each_case() -> None:
    """Two cases in one process: each gets the options its own tumour selects."""
    pax3 = recs(fusion_positive())
    tp53 = recs(fusion_negative_tp53())
    assert "molecular.biomarker.pax3_foxo1" in pax3
    assert "molecular.biomarker.pax3_foxo1" not in tp53
    assert "molecular.biomarker.tp53" in tp53 and "molecular.biomarker.tp53" not in pax3
