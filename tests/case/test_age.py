"""Exact age cut-offs: the birthday counts, and days alone decide except where leap days could."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rhabdo.case.age import age_at_least, calendar_age_years


@pytest.mark.parametrize(
    ("born", "on", "years"),
    [
        (date(2010, 5, 1), date(2020, 5, 1), 10),  # tenth birthday itself: 10 completed years
        (date(2010, 5, 1), date(2020, 4, 30), 9),
        (date(2012, 2, 29), date(2013, 2, 28), 0),  # a leap-day birthday falls on 1 March
        (date(2012, 2, 29), date(2013, 3, 1), 1),
        (date(2019, 6, 15), date(2020, 6, 14), 0),
        (date(2019, 6, 15), date(2020, 6, 15), 1),
    ],
)
def test_calendar_age(born: date, on: date, years: int) -> None:
    assert calendar_age_years(born, on) == years


@pytest.mark.parametrize("years", [1, 10, 18, 21])
def test_dates_decide_exactly_on_the_birthday(years: int) -> None:
    born = date(2008, 7, 1)
    birthday = born.replace(year=born.year + years)
    assert age_at_least(years, age_days=None, born=born, on=birthday) is True
    assert age_at_least(years, age_days=None, born=born, on=birthday - timedelta(days=1)) is False


@pytest.mark.parametrize(
    ("years", "days", "expected"),
    [
        (1, 364, False),
        (1, 365, None),
        (1, 366, True),
        (10, 3650, False),
        (10, 3651, None),
        (10, 3652, None),
        (10, 3653, True),
    ],
)
def test_days_alone_are_unknown_only_in_the_leap_day_window(
    years: int, days: int, expected: bool | None
) -> None:
    assert age_at_least(years, age_days=days) is expected


def test_days_window_matches_every_real_calendar_span() -> None:
    """Brute force over 40 years of birth dates: the answer from days is never wrong."""
    start = date(1980, 1, 1)
    for offset in range(0, 365 * 40, 7):
        born = start + timedelta(days=offset)
        for years in (1, 10):
            for delta in (-2, -1, 0, 1, 2):
                try:
                    on = born.replace(year=born.year + years) + timedelta(days=delta)
                except ValueError:
                    on = date(born.year + years, 3, 1) + timedelta(days=delta)
                truth = calendar_age_years(born, on) >= years
                guess = age_at_least(years, age_days=(on - born).days)
                assert guess in (truth, None)


def test_unknown_age_is_unknown() -> None:
    assert age_at_least(10, age_days=None) is None
