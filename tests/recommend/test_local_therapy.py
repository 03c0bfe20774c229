"""Local-therapy rule (recommend.local_therapy.v1) over knowledge/data/local_therapy.yaml.

Sources: Ogawa 2021 (aggressive multimodal local therapy for localised recurrence, local or
metastatic); Dantonello 2013 (5-yr post-relapse survival 53.7% with adequate local therapy of a
circumscribed recurrence vs 21.3% overall); PDQ (surgery; radiotherapy for unirradiated areas;
selective re-irradiation; COG dose table); Wakefield 2018 (re-irradiation series); Buwalda 2004
(AMORE salvage, feasible in 9/11).
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import assert_well_formed, by_id, case, event

from rhabdo.case.model import Case
from rhabdo.case.vocab import PrimarySite
from rhabdo.recommend.knowledge import local_therapy_entries
from rhabdo.recommend.local_therapy import local_therapy_recommendations
from rhabdo.results import Recommendation, Strength


def recs_for(c: Case) -> dict[str, Recommendation]:
    recs = local_therapy_recommendations(c, {})
    assert_well_formed(recs)
    return by_id(recs)


# PDQ (older copy), COG radiation doses by clinical group.
@pytest.mark.parametrize(
    "entry_id, dose_gy",
    [
        ("local.dose_group_i_embryonal", None),  # group I embryonal: no RT
        ("local.dose_group_i_alveolar", 36),
        ("local.dose_group_ii_n0", 36),
        ("local.dose_group_ii_n1", 41.4),
        ("local.dose_group_iii", 50.4),
        ("local.dose_whole_lung_6y_or_older", 15),
        ("local.dose_whole_lung_under_6y", 12),
        ("local.dose_limit_60gy", 60),  # > 60 Gy: unacceptable late toxicity
    ],
)
def test_dose_table(entry_id: str, dose_gy: float | None) -> None:
    assert local_therapy_entries()[entry_id].dose_gy == dose_gy


def test_dantonello_figures() -> None:
    figures = local_therapy_entries()["local.multimodal_localised"].figures
    assert (
        figures["dantonello_5y_post_relapse_survival_circumscribed_adequate_local_therapy_percent"]
        == 53.7
    )
    assert figures["dantonello_5y_post_relapse_survival_all_percent"] == 21.3


def test_no_event_localised_at_diagnosis_nothing() -> None:
    assert local_therapy_recommendations(case(events=[]), {}) == []


def test_metastatic_at_diagnosis_without_event() -> None:
    recs = recs_for(case(events=[], diagnosis={"distant_metastases": ["lung"]}))
    assert list(recs) == ["local_therapy.metastatic_sites"]
    assert "schoot_2022" in recs["local_therapy.metastatic_sites"].citations


def test_unknown_extent() -> None:
    recs = recs_for(case(events=[event(sites=None)]))
    assert list(recs) == ["local_therapy.pending_extent"]
    assert recs["local_therapy.pending_extent"].details["needs"] == ["events[0].sites"]


@pytest.mark.parametrize(
    "sites",
    [
        [{"extent": "local"}],
        [{"extent": "regional"}],
        [{"extent": "local"}, {"extent": "regional"}],
        [{"extent": "distant", "metastatic_site": "lung", "lesions": "single"}],
        [{"extent": "distant", "metastatic_site": "lung", "lesions": "few", "lesion_count": 3}],
        [{"extent": "local"}, {"extent": "distant", "metastatic_site": "lung", "lesion_count": 1}],
    ],
)
def test_localised_gets_aggressive_multimodal(sites: list[dict[str, Any]]) -> None:
    recs = recs_for(case(events=[event(sites=sites)]))
    assert recs["local_therapy.aggressive_multimodal"].strength is Strength.RECOMMENDED
    assert recs["local_therapy.surgery"].strength is Strength.CONSIDER
    assert "local_therapy.disseminated" not in recs
    gaps = {g.id for g in recs["local_therapy.aggressive_multimodal"].evidence_gaps}
    assert "gap.local.multimodal_localised" in gaps


@pytest.mark.parametrize(
    "sites",
    [
        [{"extent": "local"}, {"extent": "distant", "metastatic_site": "bone_marrow"}],
        [{"extent": "distant", "metastatic_site": "csf"}],
        [{"extent": "distant", "metastatic_site": "pleura", "lesions": "single"}],
        [{"extent": "distant", "metastatic_site": "peritoneum"}],
        [{"extent": "distant", "metastatic_site": "lung", "lesions": "multiple_diffuse"}],
        [
            {"extent": "distant", "metastatic_site": "bone"},
            {"extent": "distant", "metastatic_site": "liver"},
        ],
    ],
)
def test_disseminated(sites: list[dict[str, Any]]) -> None:
    """Ogawa 2021: no aggressive local therapy for disseminated recurrence, and nothing aimed
    at marrow, CSF, pleural/peritoneal or diffuse disease (no radiotherapy recommendation)."""
    recs = recs_for(case(events=[event(sites=sites)]))
    assert list(recs) == ["local_therapy.disseminated"]
    assert recs["local_therapy.disseminated"].strength is Strength.CONSIDER
    assert "Disseminated" in recs["local_therapy.disseminated"].reason


@pytest.mark.parametrize(
    ("sites", "needs"),
    [
        ([{"extent": "distant", "metastatic_site": "lung"}], ["events[0].sites[0].lesions"]),
        ([{"extent": "distant", "lesions": "single"}], ["events[0].sites[0].metastatic_site"]),
        (
            [{"extent": "local"}, {"extent": "distant", "metastatic_site": "bone"}],
            ["events[0].sites[1].lesions"],
        ),
    ],
)
def test_distant_without_lesion_count_or_organ_is_pending(
    sites: list[dict[str, Any]], needs: list[str]
) -> None:
    """Unknown is never no: without the organ or the lesion count the extent stays open between
    localised metastatic and disseminated, and no aggressive local therapy is recommended."""
    recs = recs_for(case(events=[event(sites=sites)]))
    assert list(recs) == ["local_therapy.pending_extent"]
    assert recs["local_therapy.pending_extent"].details["needs"] == needs


def test_a_few_lung_nodules_are_localised_metastatic() -> None:
    """Two lung sites with one lesion each: a few lesions in one organ (Ogawa's localised
    metastatic recurrence) get the multimodal approach and a resectability review."""
    sites = [{"extent": "distant", "metastatic_site": "lung", "lesions": "single"}] * 2
    recs = recs_for(case(events=[event(sites=sites)]))
    assert recs["local_therapy.aggressive_multimodal"].strength is Strength.RECOMMENDED
    assert recs["local_therapy.aggressive_multimodal"].details["extent"] == "localised_metastatic"
    assert "metastases in one organ" in recs["local_therapy.surgery"].statement


def test_unirradiated_site_gets_radiotherapy() -> None:
    recs = recs_for(case())
    assert recs["local_therapy.radiotherapy"].strength is Strength.RECOMMENDED
    assert "local_therapy.reirradiation" not in recs


def test_irradiated_site_gets_reirradiation_caution_with_prior_dose() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "pelvis", "total_dose_gy": 50.4}]},
        events=[
            event(sites=[{"extent": "local", "body_region": "pelvis", "in_irradiated_field": True}])
        ],
    )
    rec = recs_for(c)["local_therapy.reirradiation"]
    assert rec.strength is Strength.CAUTION
    assert rec.details["sites"][0]["prior_dose_gy"] == 50.4
    assert "50.4 Gy before" in rec.reason
    assert "60 Gy" in rec.reason
    assert "wakefield_2018" in rec.citations
    assert "local_therapy.radiotherapy" not in recs_for(c)


def test_irradiated_site_prior_dose_unknown() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "pelvis"}]},
        events=[
            event(sites=[{"extent": "local", "body_region": "pelvis", "in_irradiated_field": True}])
        ],
    )
    rec = recs_for(c)["local_therapy.reirradiation"]
    assert "prior dose not recorded" in rec.reason
    assert "first_line.radiotherapy[0].total_dose_gy" in rec.details["needs"]


def test_same_region_course_makes_irradiation_uncertain() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "thorax", "total_dose_gy": 41.4}]},
        events=[event(sites=[{"extent": "local", "body_region": "thorax"}])],
    )
    rec = recs_for(c)["local_therapy.reirradiation"]
    assert rec.details["sites"][0]["irradiated"] is None
    assert "events[0].sites[0].in_irradiated_field" in rec.details["needs"]
    # unknown is not 'irradiated' either: the statement says it may be, and reads it cautiously
    assert rec.statement.startswith(
        "Caution — the recurrence may lie in a previously irradiated field (not recorded)"
    )


def test_known_irradiated_field_is_stated_as_such() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "pelvis", "total_dose_gy": 50.4}]},
        events=[
            event(sites=[{"extent": "local", "body_region": "pelvis", "in_irradiated_field": True}])
        ],
    )
    rec = recs_for(c)["local_therapy.reirradiation"]
    assert rec.statement.startswith("Caution — prefer surgery for recurrence in a previously")


def test_other_region_course_means_not_irradiated() -> None:
    c = case(
        first_line={"radiotherapy": [{"body_region": "pelvis", "total_dose_gy": 41.4}]},
        events=[event(sites=[{"extent": "local", "body_region": "thorax"}])],
    )
    assert "local_therapy.radiotherapy" in recs_for(c)


def test_no_treatment_history_irradiation_unknown() -> None:
    c = case(first_line=None, events=[event(sites=[{"extent": "local"}])])
    recs = recs_for(c)
    assert "local_therapy.reirradiation" in recs
    assert "local_therapy.radiotherapy" not in recs


@pytest.mark.parametrize("site", list(PrimarySite))
def test_brachytherapy_for_non_orbital_head_neck(site: PrimarySite) -> None:
    recs = recs_for(case(diagnosis={"primary_site": site.value}))
    expected = site in (PrimarySite.PARAMENINGEAL, PrimarySite.HEAD_NECK_NON_PARAMENINGEAL)
    assert ("local_therapy.brachytherapy" in recs) is expected
    if expected:
        assert recs["local_therapy.brachytherapy"].citations == ["buwalda_2004"]


def test_no_brachytherapy_for_regional_only_head_neck() -> None:
    c = case(
        diagnosis={"primary_site": "parameningeal"}, events=[event(sites=[{"extent": "regional"}])]
    )
    assert "local_therapy.brachytherapy" not in recs_for(c)
