"""The recommendation engine: ordering, and no recommendation without a reason and a citation.

Cases are generated deterministically (fixed seed) across every vocabulary that the rules read.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from recommend_helpers import BASE, assert_well_formed, fake_finding, merge

from rhabdo.case.io import parse_case
from rhabdo.case.vocab import (
    BodyRegion,
    ChemotherapyAgent,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    MetastaticSite,
    PredispositionSyndrome,
    PrimarySite,
)
from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge import resolve
from rhabdo.knowledge.base import KnowledgeEntry, Table, data_dir, load_table
from rhabdo.knowledge.catalog import CATALOG, check_knowledge
from rhabdo.recommend import CATEGORY_RULES, category_rules, order_recommendations, recommend
from rhabdo.recommend.knowledge import TABLES, WorkupItem
from rhabdo.recommend.risk_review import CORE_IDS
from rhabdo.results import RecommendationCategory, Strength

SEED = 20261122
N_CASES = 400


def _site(rng: random.Random) -> dict[str, Any]:
    extent = rng.choice(list(Extent))
    site: dict[str, Any] = {"extent": extent.value}
    if extent is Extent.DISTANT and rng.random() < 0.8:
        site["metastatic_site"] = rng.choice(list(MetastaticSite)).value
    if rng.random() < 0.7:
        site["body_region"] = rng.choice(list(BodyRegion)).value
    if rng.random() < 0.7:
        site["in_irradiated_field"] = rng.random() < 0.5
    return site


def _maybe(rng: random.Random, value: Any, p: float = 0.75) -> Any:
    return value if rng.random() < p else None


def generated_case_doc(rng: random.Random, i: int) -> dict[str, Any]:
    n_events = rng.choice([0, 1, 1, 1, 2])
    events = []
    for k in range(n_events):
        ev: dict[str, Any] = {"kind": rng.choice(list(EventKind)).value}
        ev["date"] = _maybe(rng, f"202{1 + k * 2}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}")
        if rng.random() < 0.8:
            ev["sites"] = [_site(rng) for _ in range(rng.randint(1, 3))]
        for key in ("atypical_imaging", "suspected_second_malignancy", "histologically_confirmed"):
            ev[key] = _maybe(rng, rng.random() < 0.3)
        events.append(ev)
    if len(events) == 2 and (events[0]["date"] is None) != (events[1]["date"] is None):
        events[0]["date"] = events[1]["date"] = None
    agents = rng.sample(
        [a for a in ChemotherapyAgent if a is not ChemotherapyAgent.OTHER], rng.randint(0, 4)
    )
    first_line = {
        "start_date": _maybe(rng, "2020-01-11"),
        "end_date": _maybe(rng, rng.choice(["2020-06-01", "2020-12-01", "2021-06-01"])),
        "chemotherapy": [{"agent": a.value} for a in agents],
        "radiotherapy": [
            {
                "target": rng.choice(["primary_tumour", "metastasis", "whole_lung"]),
                "body_region": _maybe(rng, rng.choice(list(BodyRegion)).value),
                "total_dose_gy": _maybe(rng, rng.choice([12, 15, 36, 41.4, 50.4, 59.4])),
            }
            for _ in range(rng.randint(0, 2))
        ],
    }
    if first_line["end_date"] is None and rng.random() < 0.3:
        first_line["ongoing"] = True
    mets = _maybe(
        rng, rng.sample([m.value for m in MetastaticSite], rng.choice([0, 0, 1, 2, 3])), 0.8
    )
    doc = merge(
        BASE,
        {
            "patient": {
                "id": f"SYN-GEN-{i}",
                "family_history_of_cancer": _maybe(rng, rng.random() < 0.2),
                "known_predisposition": _maybe(
                    rng, rng.choice(list(PredispositionSyndrome)).value, 0.1
                ),
            },
            "diagnosis": {
                "primary_site": _maybe(rng, rng.choice(list(PrimarySite)).value),
                "histology": _maybe(rng, rng.choice(list(Histology)).value),
                "foxo1_fusion": _maybe(rng, rng.choice(list(FusionStatus)).value),
                "distant_metastases": mets,
            },
            "first_line": first_line if rng.random() < 0.85 else None,
            "events": events,
        },
    )
    if doc.get("first_line") is None:
        doc.pop("first_line", None)
    return doc


def generated_cases() -> list[Any]:
    rng = random.Random(SEED)
    out = []
    for i in range(N_CASES):
        out.append(parse_case(generated_case_doc(rng, i)))
    return out


CASES = generated_cases()


@pytest.mark.parametrize("with_findings", [False, True])
def test_no_recommendation_without_reason_and_citation(with_findings: bool) -> None:
    findings = {fid: fake_finding(fid) for fid in CORE_IDS} if with_findings else {}
    produced: set[str] = set()
    for c in CASES:
        recs = recommend(c, findings)
        assert_well_formed(recs)  # reason, citations that resolve, unique ids
        assert recs == order_recommendations(recs)
        assert recs[0].id == "risk_review.summary"
        for r in recs:
            produced.add(r.id)
            assert r.strength in Strength
    # the generator reaches every rule branch that produces a recommendation
    for rec_id in (
        "workup.establish_extent",
        "workup.csf_cytology",
        "biopsy.second_malignancy_review",
        "local_therapy.reirradiation",
        "local_therapy.brachytherapy",
        "local_therapy.disseminated",
        "local_therapy.pending_extent",
        "local_therapy.metastatic_sites",
        "trials.early_phase",
        "palliative.symptom_radiotherapy",
    ):
        assert rec_id in produced, rec_id


def test_order_is_category_then_strength() -> None:
    cat = {c: i for i, c in enumerate(RecommendationCategory)}
    strength = {s: i for i, s in enumerate(Strength)}
    for c in CASES[:100]:
        keys = [(cat[r.category], strength[r.strength]) for r in recommend(c, {})]
        assert keys == sorted(keys)


@pytest.mark.parametrize("category", list(RecommendationCategory))
def test_every_category_has_a_rule(category: RecommendationCategory) -> None:
    assert category in CATEGORY_RULES


def test_every_category_is_loaded_in_order() -> None:
    assert [c for c, _ in category_rules()] == list(RecommendationCategory)


@pytest.mark.parametrize("filename, model", TABLES)
def test_tables_catalogued_and_load(filename: str, model: type[KnowledgeEntry]) -> None:
    assert filename in {spec.filename for spec in CATALOG}
    table: Table[KnowledgeEntry] = load_table(filename, model)
    assert len(table) > 0
    for entry in table:
        assert entry.citations
        for key in entry.citations:
            resolve(key)
        if not entry.verified:
            assert entry.evidence_gap  # unverified entries say what is missing


def test_knowledge_check_has_no_problem_in_our_tables() -> None:
    report = check_knowledge()
    ours = {f for f, _ in TABLES}
    assert not [p for p in report.problems if p.filename in ours]
    unverified = {u.entry_id for u in report.unverified if u.filename in ours}
    assert "care.biopsy_trigger.late_recurrence" in unverified
    assert "workup.csf_cytology" in unverified


def test_malformed_workup_file_names_file_entry_and_field(tmp_path: Path) -> None:
    shutil.copy(data_dir() / "workup.yaml", tmp_path / "workup.yaml")
    text = (tmp_path / "workup.yaml").read_text(encoding="utf-8")
    (tmp_path / "workup.yaml").write_text(
        text.replace("indication: parameningeal_primary", "indication: everywhere", 1),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError) as err:
        load_table("workup.yaml", WorkupItem, tmp_path)
    assert err.value.entry == "workup.brain_skull_base_mri"
    assert err.value.field == "indication"
    assert "workup.yaml" in err.value.file


def test_assess_carries_recommendations() -> None:
    engine = pytest.importorskip("rhabdo.engine", reason="core finding modules not all present yet")
    for c in CASES[:50]:
        assessment = engine.assess(c)
        assert_well_formed(assessment.recommendations)
        gap_ids = {g.id for g in assessment.evidence_gaps}
        for r in assessment.recommendations:
            assert {g.id for g in r.evidence_gaps} <= gap_ids
