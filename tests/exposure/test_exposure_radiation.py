"""Radiation exposure: courses, chest dose (IGHG thresholds), relapse in an irradiated field."""

from __future__ import annotations

from typing import Any

import pytest
from exposure_helpers import findings_of, make_case

from rhabdo.case.memo import assessment_scope
from rhabdo.case.vocab import BodyRegion
from rhabdo.exposure.cumulative import radiotherapy_paths
from rhabdo.recommend._facts import radiotherapy_courses
from rhabdo.results import FindingStatus


def rt(region: str | None = "thorax", dose: float | None = 15, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(extra)
    if region is not None:
        out["body_region"] = region
    if dose is not None:
        out["total_dose_gy"] = dose
    return out


def relapse(*sites: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"kind": "relapse", "date": "2021-06-01", "sites": list(sites)}]


def test_courses_listed_with_totals_by_region() -> None:
    case = make_case(radiotherapy=[rt("pelvis", 50.4), rt("thorax", 15, target="whole_lung")])
    f = findings_of(case)["exposure.radiation"]
    assert f.status is FindingStatus.DETERMINED
    assert len(f.value) == 2
    assert f.details["total_gy_by_region"] == {"pelvis": 50.4, "thorax": 15.0}
    # per organ at risk: region sums that potentially expose it (issue 14)
    assert f.details["organ_at_risk_gy"] == {"heart": 15.0, "ovaries": 50.4, "testes": 50.4}
    assert f.details["total_gy_by_target"]["whole_lung"] == 15.0


def test_no_radiotherapy_is_determined_empty() -> None:
    f = findings_of(make_case(radiotherapy_given=False))["exposure.radiation"]
    assert f.status is FindingStatus.DETERMINED and f.value == []
    assert f.reason == "No radiotherapy recorded."
    chest = findings_of(make_case(radiotherapy_given=False))["exposure.chest_radiation"]
    assert chest.status is FindingStatus.DETERMINED and chest.value == 0.0


def test_empty_course_list_is_not_evidence_of_none() -> None:
    """An empty radiotherapy list without radiotherapy_given: false means unknown."""
    fs = findings_of(make_case())
    for fid in ("exposure.radiation", "exposure.chest_radiation"):
        assert fs[fid].status is FindingStatus.INDETERMINATE, fid
        assert fs[fid].needs == ["first_line.radiotherapy_given"]


def test_unknown_dose_or_region_named() -> None:
    case = make_case(radiotherapy=[rt(None, None)])
    f = findings_of(case)["exposure.radiation"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == [
        "first_line.radiotherapy[0].body_region",
        "first_line.radiotherapy[0].total_dose_gy",
    ]


@pytest.mark.parametrize(
    ("dose", "reached"),
    [
        (14.9, []),  # Armenian 2015 (IGHG): chest RT < 15 Gy, no recommendation
        (15.0, ["chest_rt.surveillance_may_be_reasonable"]),
        (34.9, ["chest_rt.surveillance_may_be_reasonable"]),
        (35.0, ["chest_rt.surveillance_may_be_reasonable", "chest_rt.surveillance_recommended"]),
    ],
)
def test_chest_radiation_thresholds_both_sides(dose: float, reached: list[str]) -> None:
    f = findings_of(make_case(radiotherapy=[rt("thorax", dose)]))["exposure.chest_radiation"]
    assert f.value == dose
    assert f.details["thresholds_reached"] == reached


def test_whole_lung_counts_as_chest_even_without_region() -> None:
    f = findings_of(make_case(radiotherapy=[rt(None, 12, target="whole_lung")]))[
        "exposure.chest_radiation"
    ]
    assert f.status is FindingStatus.DETERMINED and f.value == 12.0


def test_chest_dose_sums_thoracic_courses_only() -> None:
    case = make_case(radiotherapy=[rt("thorax", 15), rt("thorax", 20), rt("pelvis", 45)])
    assert findings_of(case)["exposure.chest_radiation"].value == 35.0


def test_course_with_unknown_region_leaves_chest_dose_open() -> None:
    case = make_case(radiotherapy=[rt(None, 30)])
    f = findings_of(case)["exposure.chest_radiation"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["first_line.radiotherapy[0].body_region"]


@pytest.mark.parametrize("region", list(BodyRegion))
def test_relapse_in_irradiated_region(region: BodyRegion) -> None:
    case = make_case(
        radiotherapy=[rt(region.value, 41.4)],
        events=relapse({"extent": "local", "body_region": region.value}),
    )
    f = findings_of(case)["exposure.relapse_site_irradiated"]
    assert f.value is True


@pytest.mark.parametrize("region", [r for r in BodyRegion if r is not BodyRegion.PELVIS])
def test_relapse_outside_irradiated_region(region: BodyRegion) -> None:
    case = make_case(
        radiotherapy=[rt("pelvis", 50.4)],
        events=relapse({"extent": "distant", "body_region": region.value}),
    )
    assert findings_of(case)["exposure.relapse_site_irradiated"].value is False


def test_stated_in_field_wins_over_region() -> None:
    case = make_case(
        radiotherapy=[rt("pelvis", 50.4)],
        events=relapse({"extent": "local", "body_region": "pelvis", "in_irradiated_field": False}),
    )
    assert findings_of(case)["exposure.relapse_site_irradiated"].value is False
    case = make_case(events=relapse({"extent": "local", "in_irradiated_field": True}))
    assert findings_of(case)["exposure.relapse_site_irradiated"].value is True


def test_relapse_field_unknown_when_site_region_unknown() -> None:
    case = make_case(radiotherapy=[rt("pelvis", 50.4)], events=relapse({"extent": "local"}))
    f = findings_of(case)["exposure.relapse_site_irradiated"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["events[0].sites[0].in_irradiated_field"]


def test_relapse_sites_unknown() -> None:
    case = make_case(events=[{"kind": "relapse", "date": "2021-06-01"}])
    f = findings_of(case)["exposure.relapse_site_irradiated"]
    assert f.needs == ["events[0].sites"]


def test_no_event_is_not_applicable() -> None:
    f = findings_of(make_case())["exposure.relapse_site_irradiated"]
    assert f.status is FindingStatus.NOT_APPLICABLE


def test_relapse_without_any_prior_radiotherapy_is_not_in_field() -> None:
    case = make_case(events=relapse({"extent": "local"}), radiotherapy_given=False)
    f = findings_of(case)["exposure.relapse_site_irradiated"]
    assert f.status is FindingStatus.DETERMINED and f.value is False


def test_relapse_field_unknown_when_radiotherapy_not_recorded() -> None:
    case = make_case(events=relapse({"extent": "local", "body_region": "pelvis"}))
    f = findings_of(case)["exposure.relapse_site_irradiated"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["events[0].sites[0].in_irradiated_field", "first_line.radiotherapy_given"]


def test_course_paths_are_worked_out_per_case_within_one_assessment() -> None:
    """``radiotherapy_paths`` (read by every radiation finding) is remembered per assessment:
    two cases in one scope each get their own courses, in line order, with the same paths the
    recommendation rules use (``_facts.radiotherapy_courses``)."""
    one = make_case(radiotherapy=[rt("pelvis", 50.4)])
    two = make_case(
        radiotherapy=[rt("thorax", 15)],
        later_lines=[{"radiotherapy": [rt(None, 36), rt("abdomen", 12)]}],
    )
    with assessment_scope():
        first, second = radiotherapy_paths(one), radiotherapy_paths(two)
        assert radiotherapy_paths(one) is first  # remembered within the scope
        assert first == radiotherapy_courses(one) and second == radiotherapy_courses(two)
    assert [p for p, _ in first] == ["first_line.radiotherapy[0]"]
    assert [p for p, _ in second] == [
        "first_line.radiotherapy[0]",
        "later_lines[0].radiotherapy[0]",
        "later_lines[0].radiotherapy[1]",
    ]
    assert radiotherapy_paths(two) == second  # outside a scope: worked out afresh, the same
    needs = findings_of(two)["exposure.chest_radiation"].needs
    assert "later_lines[0].radiotherapy[0].body_region" in needs
