"""relapse.timing, relapse.type and relapse.refractory.

Sources of the cut-offs tested here:
* 18 months -- Chisholm 2011 (J Clin Oncol 29:1319, "relapse < 18 months from diagnosis");
  the issue's headline clock measures it from the start of first-line treatment.
* Mattke 2009 (Pediatr Blood Cancer 52:772): <= 6, > 6-12, > 12 months after the end of
  primary therapy -> 4-year survival 12% / 21% / 41%.
* Minn 2010 (J Clin Oncol 28:4228): early failure < 120 days from study entry.
Months = days / 30.4375 (stated in rhabdo.classify.relapse).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import EventKind, Extent, MetastaticSite
from rhabdo.classify.relapse import (
    DAYS_PER_MONTH,
    MattkeCategory,
    RelapseTiming,
    RelapseType,
    mattke_category,
    months_between,
    relapse_refractory,
    relapse_timing,
    relapse_type,
    relapse_type_from_extents,
)
from rhabdo.errors import CaseValidationError
from rhabdo.knowledge import sources
from rhabdo.results import FindingStatus

DX = dt.date(2020, 1, 1)
START = dt.date(2020, 1, 11)


def make_case(
    *,
    event: dict[str, Any] | None = None,
    first_line: dict[str, Any] | None = None,
    diagnosis_date: dt.date | None = DX,
    events: list[dict[str, Any]] | None = None,
) -> Case:
    doc: dict[str, Any] = {"patient": {"id": "syn-relapse"}, "diagnosis": {}}
    if diagnosis_date is not None:
        doc["diagnosis"]["date"] = diagnosis_date.isoformat()
    if first_line is not None:
        doc["first_line"] = first_line
    if events is not None:
        doc["events"] = events
    elif event is not None:
        doc["events"] = [event]
    return parse_case(doc)


def relapse_on(
    day: dt.date, kind: str = "relapse", extents: tuple[str, ...] = ("local",)
) -> dict[str, Any]:
    return {"kind": kind, "date": day.isoformat(), "sites": [{"extent": e} for e in extents]}


def line(
    start: dt.date | None = START, end: dt.date | None = None, ongoing: bool | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if start:
        out["start_date"] = start.isoformat()
    if end:
        out["end_date"] = end.isoformat()
    if ongoing is not None:
        out["ongoing"] = ongoing
    return out


# --- no events -------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [relapse_timing, relapse_type, relapse_refractory])
def test_no_event_is_not_applicable(rule: Any) -> None:
    f = rule(make_case())
    assert f.status is FindingStatus.NOT_APPLICABLE


def test_citations_resolve() -> None:
    case = make_case(
        first_line=line(end=dt.date(2020, 9, 1)), event=relapse_on(dt.date(2021, 1, 1))
    )
    for rule in (relapse_timing, relapse_type, relapse_refractory):
        for key in rule(case).citations:
            assert key in sources()


# --- month convention and the 18-month threshold ------------------------------------------


def test_month_convention() -> None:
    assert DAYS_PER_MONTH == 30.4375
    assert months_between(DX, DX + dt.timedelta(days=365)) == pytest.approx(365 / 30.4375)


@pytest.mark.parametrize(
    ("days_after_start", "expected"),
    [
        (547, RelapseTiming.WITHIN_18_MONTHS),  # 17.97 months (< 18: Chisholm's cut-off)
        (548, RelapseTiming.LATER),  # 18.004 months
        (400, RelapseTiming.WITHIN_18_MONTHS),
        (1000, RelapseTiming.LATER),
    ],
)
def test_18_month_threshold_both_sides(days_after_start: int, expected: RelapseTiming) -> None:
    end = START + dt.timedelta(days=200)
    ev = START + dt.timedelta(days=days_after_start)
    f = relapse_timing(make_case(first_line=line(end=end), event=relapse_on(ev)))
    assert f.status is FindingStatus.DETERMINED
    assert f.value == expected.value
    assert f.details["event"]["index"] == 0


@pytest.mark.parametrize(
    ("event_offset_days", "expected_on"),
    [(-1, True), (0, True), (1, False)],  # relative to the end of first-line therapy
)
def test_on_therapy_boundary_at_end_date(event_offset_days: int, expected_on: bool) -> None:
    end = dt.date(2020, 10, 1)
    ev = end + dt.timedelta(days=event_offset_days)
    f = relapse_timing(make_case(first_line=line(end=end), event=relapse_on(ev)))
    assert f.details["on_first_line_therapy"] is expected_on
    want = RelapseTiming.ON_FIRST_LINE_THERAPY if expected_on else RelapseTiming.WITHIN_18_MONTHS
    assert f.value == want.value


def test_ongoing_line_is_on_therapy() -> None:
    f = relapse_timing(
        make_case(first_line=line(ongoing=True), event=relapse_on(dt.date(2020, 6, 1)))
    )
    assert f.value == RelapseTiming.ON_FIRST_LINE_THERAPY.value
    assert f.details["models"]["mazzoleni_2005"]["on_therapy"] is True


def test_unknown_end_gives_candidates_and_needs() -> None:
    f = relapse_timing(make_case(first_line=line(), event=relapse_on(dt.date(2020, 6, 1))))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [
        RelapseTiming.ON_FIRST_LINE_THERAPY.value,
        RelapseTiming.WITHIN_18_MONTHS.value,
    ]
    assert f.needs == ["first_line.end_date"]


def test_no_first_line_record() -> None:
    f = relapse_timing(make_case(event=relapse_on(dt.date(2023, 6, 1))))
    assert f.status is FindingStatus.INDETERMINATE
    assert set(f.candidates) == {t.value for t in RelapseTiming}
    assert "first_line.start_date" in f.needs and "first_line.end_date" in f.needs


def test_start_unknown_but_early_after_diagnosis_is_within_18_months() -> None:
    # < 18 months after diagnosis implies < 18 months after the start (start >= diagnosis)
    f = relapse_timing(
        make_case(
            first_line=line(start=None, end=dt.date(2020, 8, 1)),
            event=relapse_on(dt.date(2021, 1, 1)),
        )
    )
    assert f.value == RelapseTiming.WITHIN_18_MONTHS.value


def test_start_unknown_and_late_after_diagnosis_is_open() -> None:
    f = relapse_timing(
        make_case(
            first_line=line(start=None, end=dt.date(2020, 8, 1)),
            event=relapse_on(dt.date(2022, 1, 1)),
        )
    )
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [RelapseTiming.WITHIN_18_MONTHS.value, RelapseTiming.LATER.value]
    assert f.needs == ["first_line.start_date"]


def test_event_date_unknown() -> None:
    f = relapse_timing(
        make_case(first_line=line(end=dt.date(2020, 8, 1)), event={"kind": "relapse"})
    )
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["events[0].date"]


def test_each_model_keeps_its_own_clock() -> None:
    # diagnosis 2020-01-01, start 2020-01-11, end 2020-09-01, relapse 2021-06-01
    f = relapse_timing(
        make_case(first_line=line(end=dt.date(2020, 9, 1)), event=relapse_on(dt.date(2021, 6, 1)))
    )
    models = f.details["models"]
    assert models["chisholm_2011"]["months"] == round((dt.date(2021, 6, 1) - DX).days / 30.4375, 1)
    assert models["chisholm_2011"]["under_18_months"] is True  # 17.0 months from diagnosis
    assert models["mattke_2009"]["months"] == round(
        (dt.date(2021, 6, 1) - dt.date(2020, 9, 1)).days / 30.4375, 1
    )
    assert models["mattke_2009"]["category"] == MattkeCategory.INTERMEDIATE.value  # 9.0 months
    assert models["mazzoleni_2005"]["on_therapy"] is False


def test_chisholm_clock_is_from_diagnosis_not_start() -> None:
    # 547 days after diagnosis (< 18 mo) but only 537 after the start: both "< 18", and
    # 550 days after diagnosis is >= 18 months for Chisholm even though 540 after the start is not
    ev = DX + dt.timedelta(days=550)
    f = relapse_timing(make_case(first_line=line(end=dt.date(2020, 6, 1)), event=relapse_on(ev)))
    assert f.value == RelapseTiming.WITHIN_18_MONTHS.value  # from the start: 540 days
    assert f.details["models"]["chisholm_2011"]["under_18_months"] is False


# Mattke 2009 table: early <= 6 mo (4-yr survival 12%), intermediate 6-12 (21%), late > 12 (41%)
@pytest.mark.parametrize(
    ("days_after_end", "expected"),
    [
        (182, MattkeCategory.EARLY),  # 5.98 months
        (183, MattkeCategory.INTERMEDIATE),  # 6.01 months
        (365, MattkeCategory.INTERMEDIATE),  # 11.99 months
        (366, MattkeCategory.LATE),  # 12.02 months
        (30, MattkeCategory.EARLY),
        (1000, MattkeCategory.LATE),
    ],
)
def test_mattke_categories_both_sides(days_after_end: int, expected: MattkeCategory) -> None:
    assert mattke_category(days_after_end / DAYS_PER_MONTH) is expected


# --- relapse.type ----------------------------------------------------------------------------

_EXTENT_SETS = [frozenset(c) for r in range(1, 4) for c in itertools.combinations(list(Extent), r)]
_EXPECTED_TYPE = {
    frozenset({Extent.LOCAL}): RelapseType.LOCAL,
    frozenset({Extent.REGIONAL}): RelapseType.REGIONAL,
    frozenset({Extent.DISTANT}): RelapseType.METASTATIC,
    frozenset({Extent.LOCAL, Extent.REGIONAL}): RelapseType.LOCOREGIONAL,
    frozenset({Extent.LOCAL, Extent.DISTANT}): RelapseType.COMBINED,
    frozenset({Extent.REGIONAL, Extent.DISTANT}): RelapseType.COMBINED,
    frozenset({Extent.LOCAL, Extent.REGIONAL, Extent.DISTANT}): RelapseType.COMBINED,
}


def test_every_extent_combination_is_tabled() -> None:
    assert set(_EXTENT_SETS) == set(_EXPECTED_TYPE)


@pytest.mark.parametrize(
    "extents", _EXTENT_SETS, ids=lambda s: "+".join(sorted(e.value for e in s))
)
def test_relapse_type_for_every_extent_combination(extents: frozenset[Extent]) -> None:
    expected = _EXPECTED_TYPE[extents]
    assert relapse_type_from_extents(set(extents)) is expected
    ev = relapse_on(dt.date(2021, 1, 1), extents=tuple(sorted(e.value for e in extents)))
    f = relapse_type(make_case(event=ev))
    assert f.value == expected.value
    assert f.details["multiplicity"] == ("single" if len(extents) == 1 else "multiple")
    assert f.details["metastatic"] is (Extent.DISTANT in extents)


@pytest.mark.parametrize("extent", list(Extent))
def test_single_vs_multiple_sites(extent: Extent) -> None:
    one = relapse_type(make_case(event=relapse_on(dt.date(2021, 1, 1), extents=(extent.value,))))
    two = relapse_type(
        make_case(event=relapse_on(dt.date(2021, 1, 1), extents=(extent.value, extent.value)))
    )
    assert one.details["multiplicity"] == "single"
    assert two.details["multiplicity"] == "multiple"
    assert one.value == two.value


@pytest.mark.parametrize("organ", list(MetastaticSite))
def test_distant_organs_reported(organ: MetastaticSite) -> None:
    ev = {
        "kind": "relapse",
        "date": "2021-01-01",
        "sites": [{"extent": "distant", "metastatic_site": organ.value}],
    }
    f = relapse_type(make_case(event=ev))
    assert f.value == RelapseType.METASTATIC.value
    assert f.details["distant_organs"] == [organ.value]


@pytest.mark.parametrize("sites", [None, []])
def test_unknown_sites_give_all_candidates(sites: list[Any] | None) -> None:
    ev: dict[str, Any] = {"kind": "relapse", "date": "2021-01-01"}
    if sites is not None:
        ev["sites"] = sites
    f = relapse_type(make_case(event=ev))
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [t.value for t in RelapseType]
    assert f.needs == ["events[0].sites"]


def test_type_describes_first_event_only() -> None:
    case = make_case(
        events=[
            relapse_on(dt.date(2021, 1, 1), extents=("local",)),
            relapse_on(dt.date(2022, 1, 1), extents=("distant",)),
        ]
    )
    f = relapse_type(case)
    assert f.value == RelapseType.LOCAL.value
    assert f.details["event"] == {"index": 0, "kind": "relapse", "of_events": 2}


# --- relapse.refractory ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EventKind))
def test_refractory_for_every_event_kind_on_therapy(kind: EventKind) -> None:
    f = relapse_refractory(
        make_case(
            first_line=line(end=dt.date(2020, 10, 1)),
            event=relapse_on(dt.date(2020, 5, 1), kind.value),
        )
    )
    assert f.status is FindingStatus.DETERMINED
    assert f.value is (kind is EventKind.PROGRESSION)


def test_progression_after_therapy_is_not_refractory() -> None:
    f = relapse_refractory(
        make_case(
            first_line=line(end=dt.date(2020, 10, 1)),
            event=relapse_on(dt.date(2021, 5, 1), "progression"),
        )
    )
    assert f.value is False


def test_progression_with_unknown_end_is_open() -> None:
    f = relapse_refractory(
        make_case(first_line=line(), event=relapse_on(dt.date(2020, 5, 1), "progression"))
    )
    assert f.status is FindingStatus.INDETERMINATE
    assert f.candidates == [True, False]
    assert f.needs == ["first_line.end_date"]


@pytest.mark.parametrize(("days", "early"), [(119, True), (120, False), (48, True)])
def test_minn_early_failure_120_days(days: int, early: bool) -> None:
    """Minn 2010: early failure < 120 days from study entry (median 48 days)."""
    ev = START + dt.timedelta(days=days)
    f = relapse_refractory(
        make_case(first_line=line(ongoing=True), event=relapse_on(ev, "progression"))
    )
    assert f.value is True
    assert f.details["early_failure_minn_2010"] is early


# --- properties ------------------------------------------------------------------------------

_dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2026, 1, 1))


@st.composite
def timing_docs(draw: st.DrawFn) -> dict[str, Any]:
    dx = draw(_dates)
    start = dx + dt.timedelta(days=draw(st.integers(0, 60)))
    end = start + dt.timedelta(days=draw(st.integers(1, 400)))
    ev = dx + dt.timedelta(days=draw(st.integers(1, 1500)))
    fl: dict[str, Any] = {}
    if draw(st.booleans()):
        fl["start_date"] = start.isoformat()
    if draw(st.booleans()):
        fl["end_date"] = end.isoformat()
    doc: dict[str, Any] = {
        "patient": {"id": "syn-prop"},
        "diagnosis": {"date": dx.isoformat()},
        "events": [
            {
                "kind": draw(st.sampled_from([k.value for k in EventKind])),
                "date": ev.isoformat(),
                "sites": [{"extent": draw(st.sampled_from([e.value for e in Extent]))}],
            }
        ],
        "_full": {"start_date": start.isoformat(), "end_date": end.isoformat()},
    }
    if draw(st.booleans()):
        doc["first_line"] = fl
    return doc


def _parse(doc: dict[str, Any]) -> Case | None:
    clean = {k: v for k, v in doc.items() if k != "_full"}
    try:
        return parse_case(clean)
    except CaseValidationError:
        return None


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(timing_docs())
def test_no_valid_case_raises_and_filling_dates_yields_a_candidate(doc: dict[str, Any]) -> None:
    case = _parse(doc)
    assume(case is not None)
    assert case is not None
    for rule in (relapse_timing, relapse_type, relapse_refractory):
        before = rule(case)
        if before.status is not FindingStatus.INDETERMINATE:
            continue
        full = dict(doc)
        full["first_line"] = dict(doc["_full"])
        after_case = _parse(full)
        assume(after_case is not None)
        assert after_case is not None
        after = rule(after_case)
        if after.status is FindingStatus.DETERMINED:
            assert after.value in before.candidates, (rule.__name__, before, after)


# --- inferring the 18-month category from the end date (issue 13 section 7) -------------------

END_ONLY = dt.date(2020, 8, 1)


@pytest.mark.parametrize(
    ("days_after_end", "expected"),
    [
        (547, None),  # 17.97 months after the end: the start could be 18+ months back or not
        (548, RelapseTiming.LATER),  # 18.004 months after the end >= 18 after the start
        (900, RelapseTiming.LATER),
    ],
)
def test_start_unknown_but_18_months_after_the_end_is_later(
    days_after_end: int, expected: RelapseTiming | None
) -> None:
    """diagnosis <= start <= end, so an event >= 18 months after the end of first-line therapy
    is >= 18 months after its start, even when the start date is missing."""
    ev = END_ONLY + dt.timedelta(days=days_after_end)
    f = relapse_timing(make_case(first_line=line(start=None, end=END_ONLY), event=relapse_on(ev)))
    if expected is None:
        assert f.status is FindingStatus.INDETERMINATE
        assert f.needs == ["first_line.start_date"]
    else:
        assert f.status is FindingStatus.DETERMINED
        assert f.value == expected.value
        assert "after the end of first-line therapy" in f.reason
        assert "start date not recorded" in f.reason


def test_start_and_diagnosis_unknown_but_18_months_after_the_end_is_later() -> None:
    ev = END_ONLY + dt.timedelta(days=700)
    f = relapse_timing(
        make_case(
            diagnosis_date=None, first_line=line(start=None, end=END_ONLY), event=relapse_on(ev)
        )
    )
    assert f.value == RelapseTiming.LATER.value


# --- the definition of refractory is stated in every answer --------------------------------


@pytest.mark.parametrize(
    ("kind", "event_day", "end"),
    [
        ("progression", dt.date(2020, 5, 1), dt.date(2020, 9, 1)),  # on therapy: refractory
        ("progression", dt.date(2021, 5, 1), dt.date(2020, 9, 1)),  # after therapy
        ("relapse", dt.date(2020, 5, 1), dt.date(2020, 9, 1)),  # relapse on therapy
        ("progression", dt.date(2020, 5, 1), None),  # dates do not decide
    ],
)
def test_refractory_reason_states_the_definition(
    kind: str, event_day: dt.date, end: dt.date | None
) -> None:
    f = relapse_refractory(
        make_case(first_line=line(end=end), event=relapse_on(event_day, kind=kind))
    )
    assert "progression during first-line therapy without a prior response" in f.reason
    assert f.details["definition"].startswith("Refractory here means")
    assert "No consensus definition" in f.details["evidence_gap"]


def test_relapse_on_maintenance_is_not_refractory() -> None:
    f = relapse_refractory(
        make_case(
            first_line=line(end=dt.date(2020, 12, 1)),
            event=relapse_on(dt.date(2020, 10, 1), kind="relapse"),
        )
    )
    assert f.value is False
    assert "relapse on therapy" in f.reason
