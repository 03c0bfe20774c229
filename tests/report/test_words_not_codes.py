"""No clinician-facing rendering (text, HTML, PDF) shows an internal identifier or field path.

JSON keeps the ids; everything a person reads says it in words (``rhabdo.labels``)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rhabdo.case.model import Case
from rhabdo.results import Assessment

from .conftest import EXAMPLES

NAMES = [p.stem for p in EXAMPLES]

#: snake_case codes, list positions and dotted finding / field / recommendation ids.
INTERNAL_ID = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"
    r"|\b[a-z_]+\[\d+\]"
    r"|\b(?:stage|group|risk|relapse|score|prognosis|exposure|diagnosis|first_line|later_lines"
    r"|events|current|patient|systemic|workup|biopsy|local_therapy|molecular|palliative|trials"
    r"|risk_review|care)\.[a-z_]+"
)
DOUBLED = re.compile(r"(?<![.])\.\.(?![.])|%\.\.")


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_in_words(text: str, where: str) -> None:
    ids = sorted({m.group(0) for m in INTERNAL_ID.finditer(text)})
    assert not ids, f"{where} shows internal ids: {ids}"
    assert not DOUBLED.search(text), f"{where} has doubled punctuation"


@pytest.mark.parametrize("name", NAMES)
def test_text_report_is_in_words(name: str, assessed: dict[str, tuple[Case, Assessment]]) -> None:
    from rhabdo.report import render_text

    case, a = assessed[name]
    assert_in_words(render_text(case, a), f"text report of {name}")


@pytest.mark.parametrize("name", NAMES)
def test_html_report_is_in_words(name: str, html_reports: dict[str, str]) -> None:
    assert_in_words(visible_text(html_reports[name]), f"HTML report of {name}")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("name", NAMES)
def test_pdf_report_is_in_words(name: str, pdf_dir: Path) -> None:
    text = subprocess.run(
        ["pdftotext", str(pdf_dir / f"{name}.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pdftotext breaks words at line ends with a hyphen; a code never contains one.
    assert_in_words(text, f"PDF report of {name}")


def test_the_dates_are_labelled(assessed: dict[str, tuple[Case, Assessment]]) -> None:
    from rhabdo.report import render_text

    case, a = assessed["missing-data-trunk-relapse"]
    text = render_text(case, a)
    assert "assessed as of 2024-01-20 (" in text
    assert f"generated {a.provenance.assessed_on}" in text
