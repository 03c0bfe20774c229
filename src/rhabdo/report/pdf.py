"""The tumour-board report as PDF, rendered by WeasyPrint from the same HTML (figures stay
vector)."""

from __future__ import annotations

import logging

from rhabdo.case.model import Case
from rhabdo.report.html import render_html
from rhabdo.results import Assessment


def render_pdf(case: Case, assessment: Assessment) -> bytes:
    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; none of that is the user's concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf: bytes = HTML(string=render_html(case, assessment), base_url=None).write_pdf()
    return pdf
