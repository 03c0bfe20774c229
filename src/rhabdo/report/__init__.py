"""Renderings of an assessment: text summary, HTML report and PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rhabdo.case.model import Case
    from rhabdo.results import Assessment

__all__ = ["render_html", "render_pdf", "render_text"]


def render_text(case: Case, assessment: Assessment) -> str:
    from rhabdo.report.text import render_text as _render

    return _render(case, assessment)


def render_html(case: Case, assessment: Assessment) -> str:
    from rhabdo.report.html import render_html as _render

    return _render(case, assessment)


def render_pdf(case: Case, assessment: Assessment) -> bytes:
    from rhabdo.report.pdf import render_pdf as _render

    return _render(case, assessment)
