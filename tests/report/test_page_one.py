"""Page one decides (issue 17 §1): the first PDF page of every example holds the patient line,
warnings, classification, prognosis, top options, top trials and what is missing, and nothing
spills over; the same summary heads the HTML report."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rhabdo.case.model import Case
from rhabdo.report.page_one import page_one
from rhabdo.results import Assessment, InputWarning, WarningSeverity

from .conftest import EXAMPLES

NAMES = [p.stem for p in EXAMPLES]
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def pdf_page_text(pdf: Path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(out.split())  # lines wrap anywhere; compare on single spaces


def squeeze(text: str) -> str:
    return " ".join(text.split())


def expected_on_page_one(case: Case, a: Assessment) -> list[str]:
    """Text that must be on page one: from the summary model, in the words it shows."""
    p1 = page_one(case, a)
    want = [a.patient_id, "Classification", "Prognosis", "Systemic options"]
    want += ["Clinical trials", "What is missing", "Details follow"]
    want += [c.label.split(" (")[0] for c in p1.classification]
    want += [o.name.split(" (")[0] for o in p1.options]
    want += [t.registry_id for t in p1.trials]
    want += [p.figure for p in p1.prognosis]
    want += [m.field.split(" (")[0].split(" — ")[0] for m in p1.missing]
    want += [w.message.split(".")[0] for w in p1.warnings]
    if p1.recurrence_line:
        want.append(p1.recurrence_line.split(":")[0])
    return want


@needs_poppler
@pytest.mark.parametrize("name", NAMES)
def test_pdf_page_one_holds_the_decision_and_does_not_overflow(
    name: str, pdf_dir: Path, assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    case, a = assessed[name]
    first = pdf_page_text(pdf_dir / f"{name}.pdf", 1)
    for item in expected_on_page_one(case, a):
        assert squeeze(item) in first, f"page one of {name} lacks {item!r}"
    # the summary ends on page one (its last line is there) and the details start on page two
    assert pdf_page_text(pdf_dir / f"{name}.pdf", 2).startswith("Disease course")


@pytest.mark.parametrize("name", NAMES)
def test_html_report_opens_with_page_one(name: str, html_reports: dict[str, str]) -> None:
    page = html_reports[name]
    top = page.index('id="page-one"')
    assert top < page.index('id="timeline"') < page.index('id="findings"')
    assert top < page.index('id="page-one-end"') < page.index('id="timeline"')


@pytest.mark.parametrize("name", NAMES)
def test_no_option_or_recommendation_is_cut_mid_sentence(
    name: str, html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    case, a = assessed[name]
    p1 = page_one(case, a)
    for o in p1.options:
        assert not o.name.endswith(("…", "...")), o.name
        assert all(not n.endswith("…") for n in o.notes), o.notes
        assert all(not n.endswith(".") for n in o.notes), o.notes  # joined with "; "
    text = squeeze(html_reports[name].replace("&#39;", "'").replace("&amp;", "&"))
    for r in a.recommendations:
        first = squeeze(r.statement).split(". ")[0]
        assert first in text, f"{r.id} is not shown whole"


def test_warnings_come_first(assessed: dict[str, tuple[Case, Assessment]]) -> None:
    from rhabdo.report import render_html, render_text

    case, a = assessed["local-relapse-paratesticular"]
    warned = a.model_copy(
        update={
            "warnings": [
                InputWarning(
                    id="histology.unconfirmed",
                    message="The recurrence has not been confirmed on histology.",
                    severity=WarningSeverity.ATTENTION,
                    fields=["events[0].histologically_confirmed"],
                )
            ]
        }
    )
    page = render_html(case, warned)
    assert page.index("not been confirmed on histology") < page.index("Classification")
    assert "not been confirmed on histology" in render_text(case, warned).split("DISEASE")[0]


def test_options_are_named_with_what_was_already_given(
    assessed: dict[str, tuple[Case, Assessment]],
) -> None:
    case, a = assessed["relapse-after-metastatic-alveolar"]
    p1 = page_one(case, a)
    first = p1.options[0]
    # The disease came back on VDC/IE + VI, so VIT (two agents of that line) is only a
    # caution and ranks below regimens that fit (rec13's treatment-history rule).
    assert not first.name.startswith(("VIT", "Vincristine + irinotecan"))
    assert any(n.lower().startswith("already given: cyclophosphamide") for n in first.notes)
    assert any(n.startswith("prior CED ") and "9,600 mg/m²" in n for n in first.notes)
    assert p1.trials and p1.trials[0].verdict == "eligible on the data given"
    assert p1.prognosis and p1.prognosis[0].population
    assert p1.chart is not None
