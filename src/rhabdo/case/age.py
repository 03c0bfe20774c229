"""Exact age arithmetic.

Age cut-offs (<1 year, >=10 years, >=21 years) must be exact.  With a date of birth and a
date of diagnosis the calendar age is exact (the birthday counts).  With only an age in days
the calendar age is exact except on the one or two days where it depends on how many
29 Februaries the span held; there the answer is unknown (``None``), never a guess.
"""

from __future__ import annotations

from datetime import date


def calendar_age_years(born: date, on: date) -> int:
    """Completed years of age on a date (the birthday itself counts as completed)."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def _days_bounds_for_years(years: int) -> tuple[int, int]:
    """Fewest and most days a span of ``years`` calendar years can hold (Gregorian)."""
    fewest_leap_days = max(0, years // 4 - 1) if years >= 4 else 0
    most_leap_days = -(-years // 4)
    return 365 * years + fewest_leap_days, 365 * years + most_leap_days


def age_at_least(
    years: int, *, age_days: int | None, born: date | None = None, on: date | None = None
) -> bool | None:
    """Whether the patient had reached ``years`` of age.  None when it cannot be decided.

    The calendar is used when both dates are known; otherwise the age in days decides
    whenever it lies outside the window in which leap days make the answer uncertain.
    """
    if born is not None and on is not None:
        return calendar_age_years(born, on) >= years
    if age_days is None:
        return None
    fewest, most = _days_bounds_for_years(years)
    if age_days >= most:
        return True
    if age_days < fewest:
        return False
    return None
