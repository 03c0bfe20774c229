"""Published-outcome charts for the findings that carry published figures."""

from __future__ import annotations

from dataclasses import dataclass

from rhabdo.results import Assessment


@dataclass(frozen=True)
class Chart:
    svg: str
    caption: str
    citations: list[str]


def prognosis_charts(assessment: Assessment) -> list[Chart]:
    return []
