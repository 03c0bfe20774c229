"""The text report's lists (missing information, evidence gaps): each item starts with "- " and
its wrapped lines hang under its text, so a reader counts items, not lines."""

from __future__ import annotations

from typing import Any

import pytest

from rhabdo.report.text import render_text

SECTIONS = {
    "MISSING INFORMATION (would decide open findings)": "missing_inputs",
    "EVIDENCE GAPS": "evidence_gaps",
}


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    if heading not in lines:
        return []
    start = lines.index(heading) + 1
    end = lines.index("", start)
    return lines[start:end]


@pytest.mark.parametrize("heading", sorted(SECTIONS))
def test_each_list_item_is_one_bullet_with_hanging_lines(assessed: Any, heading: str) -> None:
    wrapped = 0
    for name, (case, assessment) in assessed.items():
        body = _section(render_text(case, assessment), heading)
        items = getattr(assessment, SECTIONS[heading])
        assert sum(line.startswith("  - ") for line in body) == len(items), name
        for line in body:
            assert line.startswith(("  - ", "    ")) and not line.startswith("    - "), line
        wrapped += sum(line.startswith("    ") for line in body)
    assert wrapped > 0  # the examples do hold items longer than one line


def test_text_and_html_say_the_same_when_no_survival_figure_applies() -> None:
    from pathlib import Path

    from rhabdo.report.page_one import NO_FIGURE

    template = Path(__file__).resolve().parents[2] / "src/rhabdo/report/templates"
    assert NO_FIGURE in (template / "page_one.html.j2").read_text("utf-8")
