"""A *caution* option never reads as a suggestion: its statement leads with the caution, in
every rendering (issue 13).  Text, HTML, page one, PDF, FHIR and CDS cards all print
``Recommendation.statement``; page one's option line leads with "Caution — " too."""

from __future__ import annotations

from pathlib import Path

import pytest

from rhabdo.case.io import load_case
from rhabdo.engine import assess
from rhabdo.recommend.wording import CAUTION, caution_statement, lead_with_caution
from rhabdo.report.page_one import page_one
from rhabdo.report.text import render_text
from rhabdo.results import Recommendation, RecommendationCategory, Strength

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "tests" / "clinical" / "cases").glob("*.yaml")) + sorted(
    (ROOT / "examples").glob("*.yaml")
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "Consider VI. Summary.",
            "Caution — only after weighing the concerns given in the reason: VI. Summary.",
        ),
        (
            "If the biopsy confirms recurrent RMS: consider VI.",
            "Caution — if the biopsy confirms recurrent RMS, and only after weighing the "
            "concerns given in the reason: VI.",
        ),
        ("Caution — limit X.", "Caution — limit X."),
        ("Limit X.", "Caution — only after weighing the concerns given in the reason: Limit X."),
    ],
)
def test_caution_statement(before: str, after: str) -> None:
    assert caution_statement(before) == after


@pytest.mark.parametrize("strength", list(Strength))
def test_only_caution_statements_are_rewritten(strength: Strength) -> None:
    rec = Recommendation(
        id="systemic.x",
        category=RecommendationCategory.SYSTEMIC_THERAPY,
        statement="Consider X.",
        strength=strength,
        reason="why",
        rule="test",
        citations=["heske_2021"],
    )
    [out] = lead_with_caution([rec])
    assert out.statement.startswith(CAUTION) == (strength is Strength.CAUTION)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_caution_option_leads_with_the_caution(path: Path) -> None:
    case = load_case(path)
    a = assess(case)
    for r in a.recommendations:
        if r.strength is Strength.CAUTION:
            assert r.statement.startswith(CAUTION), r.id
        assert not r.statement.lower().startswith("caution") or r.strength is Strength.CAUTION
        if r.strength is not Strength.CONSIDER:
            assert "consider " not in r.statement.lower()[:60], (r.id, r.statement)
    for o in page_one(case, a).options:
        assert o.heading.startswith(CAUTION) == (o.strength is Strength.CAUTION)
    text = render_text(case, a)
    for line in text.splitlines():
        assert "[caution] Consider" not in line
        assert not (line.strip().startswith("Option:") and "-- caution" in line), line
