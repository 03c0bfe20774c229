"""Work-up rule (recommend.workup.v1) over knowledge/data/workup.yaml.

Sources: van Ewijk 2021 (MRI of the primary; chest CT with FDG-PET/CT for staging), PDQ staging
list (marrow, skull-base/brain MRI for parameningeal primaries, abdomino-pelvic CT for lower-limb
and genitourinary primaries), Weiss 2013 (marrow tailoring).  All extrapolated from diagnosis.
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import assert_well_formed, by_id, case, event

from rhabdo.case.model import Case
from rhabdo.case.vocab import PrimarySite
from rhabdo.recommend import _facts as facts
from rhabdo.recommend.knowledge import WorkupIndication, workup_items
from rhabdo.recommend.work_up import INDICATIONS, workup_recommendations
from rhabdo.results import Recommendation, Strength


def recs_for(c: Case) -> dict[str, Recommendation]:
    recs = workup_recommendations(c, {})
    assert_well_formed(recs)
    return by_id(recs)


@pytest.mark.parametrize("indication", list(WorkupIndication))
def test_every_indication_is_decided(indication: WorkupIndication) -> None:
    assert indication in INDICATIONS


def test_every_item_is_flagged_extrapolated_with_a_gap() -> None:
    for item in workup_items():
        assert item.extrapolated_from_diagnosis  # no relapse-specific guideline was found
        assert item.evidence_gap


def test_no_event_no_workup() -> None:
    assert workup_recommendations(case(events=[]), {}) == []


@pytest.mark.parametrize("item_id", ["workup.mri_site", "workup.chest_ct", "workup.fdg_pet"])
def test_every_recurrence_items(item_id: str) -> None:
    rec = recs_for(case())[item_id]
    assert rec.strength is Strength.RECOMMENDED
    assert "Extrapolated from the diagnostic work-up" in rec.reason
    assert rec.evidence_gaps


def test_unknown_sites_ask_to_establish_extent() -> None:
    recs = recs_for(case(events=[event(sites=None)]))
    rec = recs["workup.establish_extent"]
    assert rec.strength is Strength.RECOMMENDED
    assert rec.statement.startswith("Relapse sites unknown")
    assert rec.details["needs"] == ["events[0].sites"]
    assert recs["workup.bone_marrow"].strength is Strength.CONSIDER


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"events": [event(sites=[{"extent": "distant", "metastatic_site": "lung"}])]},
            Strength.RECOMMENDED,
        ),
        ({"diagnosis": {"histology": "alveolar"}}, Strength.RECOMMENDED),
        (
            {"diagnosis": {"histology": "rms_nos", "foxo1_fusion": "pax3_foxo1"}},
            Strength.RECOMMENDED,
        ),
        ({}, None),  # local recurrence of fusion-negative embryonal RMS
        ({"diagnosis": {"histology": None, "foxo1_fusion": None}}, Strength.CONSIDER),
    ],
)
def test_bone_marrow(changes: dict[str, Any], expected: Strength | None) -> None:
    rec = recs_for(case(**changes)).get("workup.bone_marrow")
    assert (rec.strength if rec else None) is expected


@pytest.mark.parametrize("site", list(PrimarySite))
def test_skull_base_mri_for_parameningeal_only(site: PrimarySite) -> None:
    recs = recs_for(case(diagnosis={"primary_site": site.value}))
    assert ("workup.brain_skull_base_mri" in recs) is (site is PrimarySite.PARAMENINGEAL)
    # CSF is unverified: never more than "consider"
    if site is PrimarySite.PARAMENINGEAL:
        assert recs["workup.csf_cytology"].strength is Strength.CONSIDER
    else:
        assert "workup.csf_cytology" not in recs


def test_primary_site_unknown_gives_consider() -> None:
    recs = recs_for(case(diagnosis={"primary_site": None}))
    assert recs["workup.brain_skull_base_mri"].strength is Strength.CONSIDER
    assert "diagnosis.primary_site" in recs["workup.brain_skull_base_mri"].details["needs"]


def test_csf_for_brain_recurrence() -> None:
    c = case(events=[event(sites=[{"extent": "distant", "metastatic_site": "brain"}])])
    assert recs_for(c)["workup.csf_cytology"].strength is Strength.CONSIDER


@pytest.mark.parametrize("site", list(PrimarySite))
def test_abdomen_pelvis_for_genitourinary_primary(site: PrimarySite) -> None:
    recs = recs_for(case(diagnosis={"primary_site": site.value}))
    if site in facts.GENITOURINARY_SITES:
        assert recs["workup.ct_abdomen_pelvis"].strength is Strength.RECOMMENDED
    elif site is PrimarySite.EXTREMITY:
        # base event is in the thorax: which limb is not known
        assert recs["workup.ct_abdomen_pelvis"].strength is Strength.CONSIDER
    else:
        assert "workup.ct_abdomen_pelvis" not in recs


@pytest.mark.parametrize(
    "region, expected", [("lower_limb", Strength.RECOMMENDED), ("upper_limb", None)]
)
def test_abdomen_pelvis_for_limb(region: str, expected: Strength | None) -> None:
    c = case(
        diagnosis={"primary_site": "extremity"},
        events=[event(sites=[{"extent": "local", "body_region": region}])],
    )
    rec = recs_for(c).get("workup.ct_abdomen_pelvis")
    assert (rec.strength if rec else None) is expected


def test_limb_from_primary_radiotherapy() -> None:
    c = case(
        diagnosis={"primary_site": "extremity"},
        first_line={"radiotherapy": [{"target": "primary_tumour", "body_region": "lower_limb"}]},
        events=[
            event(sites=[{"extent": "distant", "metastatic_site": "lung", "body_region": "thorax"}])
        ],
    )
    assert recs_for(c)["workup.ct_abdomen_pelvis"].strength is Strength.RECOMMENDED
