"""relapse.extent: local, regional, local + regional, localised metastatic, disseminated.

Source: Ogawa 2021 (seed paper) -- a localised recurrence, "whether local or metastatic", calls
for an aggressive multifaceted local approach; disseminated or multiple recurrence does not.
Disseminated here: marrow, CSF/leptomeningeal, pleural or peritoneal spread, two or more distant
organ systems, or multiple/diffuse lesions (issue 13 §1).  No published count defines "a few".
"""

from __future__ import annotations

from typing import Any

import pytest

from rhabdo.case.io import parse_case
from rhabdo.case.memo import assessment_scope
from rhabdo.case.vocab import LesionCount, MetastaticSite
from rhabdo.classify.extent import (
    DIFFUSE_BY_NATURE,
    RecurrenceExtent,
    case_event_extent,
    relapse_extent,
)
from rhabdo.errors import CaseValidationError
from rhabdo.recommend._facts import current_extent
from rhabdo.results import FindingStatus


def _case(*events: dict[str, Any]) -> Any:
    return parse_case(
        {
            "patient": {"id": "SYN-EXT"},
            "diagnosis": {"date": "2020-01-01"},
            "events": list(events),
        }
    )


def _ev(sites: list[dict[str, Any]] | None, date: str = "2021-06-01") -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "relapse", "date": date}
    if sites is not None:
        out["sites"] = sites
    return out


LUNG1 = {"extent": "distant", "metastatic_site": "lung", "lesions": "single"}


@pytest.mark.parametrize(
    ("sites", "expected"),
    [
        ([{"extent": "local"}], "local"),
        ([{"extent": "regional"}], "regional"),
        ([{"extent": "local"}, {"extent": "regional"}], "local_regional"),
        ([LUNG1], "localised_metastatic"),
        ([{**LUNG1, "lesions": "few", "lesion_count": 3}], "localised_metastatic"),
        (
            [{"extent": "distant", "metastatic_site": "lung", "lesion_count": 1}],
            "localised_metastatic",
        ),
        ([LUNG1, LUNG1], "localised_metastatic"),
        ([{"extent": "local"}, LUNG1], "localised_metastatic"),
        ([{**LUNG1, "lesions": "multiple_diffuse"}], "disseminated"),
        (
            [LUNG1, {"extent": "distant", "metastatic_site": "bone", "lesions": "single"}],
            "disseminated",
        ),
        (
            [
                {"extent": "distant", "metastatic_site": "bone"},
                {"extent": "distant", "metastatic_site": "liver"},
            ],
            "disseminated",
        ),
    ],
)
def test_extent_values(sites: list[dict[str, Any]], expected: str) -> None:
    f = relapse_extent(_case(_ev(sites)))
    assert f.status is FindingStatus.DETERMINED
    assert f.value == expected
    assert f.citations == ["ogawa_2021"]


@pytest.mark.parametrize("organ", sorted(DIFFUSE_BY_NATURE))
def test_marrow_csf_pleura_peritoneum_are_disseminated_whatever_the_count(
    organ: MetastaticSite,
) -> None:
    for lesions in [None, *LesionCount]:
        site: dict[str, Any] = {"extent": "distant", "metastatic_site": organ.value}
        if lesions is not None:
            site["lesions"] = lesions.value
            if lesions is LesionCount.FEW:
                site["lesion_count"] = 2
        f = relapse_extent(_case(_ev([site])))
        assert f.value == "disseminated", (organ, lesions)


@pytest.mark.parametrize(
    ("sites", "needs", "candidates"),
    [
        (None, ["events[0].sites"], [e.value for e in RecurrenceExtent]),
        (
            [{"extent": "distant", "metastatic_site": "lung"}],
            ["events[0].sites[0].lesions"],
            ["localised_metastatic", "disseminated"],
        ),
        (
            [{"extent": "distant", "lesions": "single"}],
            ["events[0].sites[0].metastatic_site"],
            ["localised_metastatic", "disseminated"],
        ),
        (
            [{"extent": "distant", "metastatic_site": "lung", "lesion_count": 4}],
            ["events[0].sites[0].lesions"],
            ["localised_metastatic", "disseminated"],
        ),
    ],
)
def test_missing_organ_or_count_is_indeterminate(
    sites: list[dict[str, Any]] | None, needs: list[str], candidates: list[str]
) -> None:
    f = relapse_extent(_case(_ev(sites)))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == needs
    assert f.candidates == candidates


def test_latest_event_decides_and_every_event_is_in_details() -> None:
    f = relapse_extent(
        _case(
            _ev([{"extent": "local"}]),
            _ev([{**LUNG1, "lesions": "multiple_diffuse"}], "2022-01-01"),
        )
    )
    assert f.value == "disseminated"
    assert [e.get("value") for e in f.details["events"]] == ["local", "disseminated"]
    assert f.details["event"] == 1


def test_no_event_is_not_applicable() -> None:
    assert relapse_extent(_case()).status is FindingStatus.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("site", "field"),
    [
        ({"extent": "distant", "lesions": "single", "lesion_count": 2}, "lesion_count"),
        ({"extent": "distant", "lesions": "few", "lesion_count": 1}, "lesion_count"),
    ],
)
def test_inconsistent_lesion_count_is_refused(site: dict[str, Any], field: str) -> None:
    with pytest.raises(CaseValidationError, match=field):
        _case(_ev([site]))


# --- remembered once per assessment ---------------------------------------------------------


def test_each_events_extent_is_remembered_per_case_and_event() -> None:
    """Two cases and two events in one assessment scope each keep their own extent, equal to
    the one worked out afresh; the finding and ``current_extent`` read the same answer."""
    two = _case(_ev([{"extent": "local"}], "2021-06-01"), _ev([LUNG1, LUNG1], "2022-06-01"))
    unknown = _case(_ev(None))
    # outside a scope nothing is remembered: worked out afresh
    fresh = [case_event_extent(two, k).as_dict() for k in range(len(two.events))]
    with assessment_scope():
        assert case_event_extent(two, 0).value is RecurrenceExtent.LOCAL
        assert case_event_extent(unknown, 0).value is None
        assert [case_event_extent(two, k).as_dict() for k in range(2)] == fresh
        assert case_event_extent(two, 1) is case_event_extent(two, 1)
        assert current_extent(two) is RecurrenceExtent.LOCALISED_METASTATIC
        assert current_extent(unknown) is None
        assert relapse_extent(two).details["events"][1]["value"] == "localised_metastatic"


def test_a_remembered_extent_cannot_be_changed_through_what_it_hands_out() -> None:
    case = _case(_ev(None))
    with assessment_scope():
        shown = case_event_extent(case, 0).as_dict()
        shown["needs"].append("something else")
        relapse_extent(case).details["events"][0]["candidates"].clear()
        again = case_event_extent(case, 0)
        assert again.needs == ("events[0].sites",)
        assert again.candidates == tuple(e.value for e in RecurrenceExtent)
        assert relapse_extent(case).needs == ["events[0].sites"]
