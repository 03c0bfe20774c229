"""Structural checks on the HTML report of every example case."""

from __future__ import annotations

import html
import re

import pytest

from rhabdo.case.model import Case
from rhabdo.labels import field_label
from rhabdo.report.common import References, finding_title, finding_value
from rhabdo.results import Assessment, FindingStatus

from .conftest import EXAMPLES

NAMES = [p.stem for p in EXAMPLES]
SECTIONS = [
    "header",
    "timeline",
    "findings",
    "prognosis",
    "exposure",
    "recommendations",
    "missing",
    "references",
    "footer",
]


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("name", NAMES)
def test_every_section_is_present(name: str, html_reports: dict[str, str]) -> None:
    page = html_reports[name]
    for section in SECTIONS:
        assert f'id="{section}"' in page, section


@pytest.mark.parametrize("name", NAMES)
def test_no_template_markers_and_no_network(name: str, html_reports: dict[str, str]) -> None:
    page = html_reports[name]
    for marker in ("{{", "}}", "{%", "%}", "Undefined"):
        assert marker not in page
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "report must be self-contained"
    assert "<link" not in page


@pytest.mark.parametrize("name", NAMES)
def test_every_finding_appears_with_its_value(
    name: str, html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    page = html_reports[name]
    text = text_of(page)
    _, a = assessed[name]
    for f in a.findings.values():
        assert f'data-finding="{f.id}"' in page
        assert finding_title(f) in text
        if f.status is FindingStatus.DETERMINED:
            assert finding_value(f) in text, (f.id, finding_value(f))
        elif f.status is FindingStatus.INDETERMINATE:
            for need in f.needs:
                assert field_label(need) in text
        assert f.reason.split()[0] in text


@pytest.mark.parametrize("name", NAMES)
def test_every_citation_is_numbered_and_listed(
    name: str, html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    page = html_reports[name]
    _, a = assessed[name]
    refs = References(a)
    assert refs.items, "an assessment always cites something"
    for r in refs.items:
        assert r.source is not None, f"citation key {r.key} does not resolve"
        assert f'id="ref-{r.number}"' in page
        assert r.text[:40] in text_of(page)
    for f in a.findings.values():
        if f.citations:
            assert refs.marker(f.citations) in page


@pytest.mark.parametrize("name", NAMES)
def test_every_recommendation_appears_with_strength(
    name: str, html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    page = html_reports[name]
    _, a = assessed[name]
    for r in a.recommendations:
        assert f'data-rec="{r.id}"' in page
        assert f"strength-{r.strength.value}" in page


@pytest.mark.parametrize("name", NAMES)
def test_header_names_versions_and_footer_disclaims(
    name: str, html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    page = html_reports[name]
    _, a = assessed[name]
    assert a.patient_id in page
    assert a.provenance.engine_version in page and a.provenance.knowledge_version in page
    assert "does not replace" in page


def test_missing_data_case_states_what_is_missing(
    html_reports: dict[str, str], assessed: dict[str, tuple[Case, Assessment]]
) -> None:
    name = "missing-data-trunk-relapse"
    case, a = assessed[name]
    assert a.missing_inputs
    text = text_of(html_reports[name])
    for m in a.missing_inputs:
        assert field_label(m.field, case) in text
    assert "Not on the timeline" in text  # the undated treatment is named


def test_timeline_is_drawn_when_dates_exist(html_reports: dict[str, str]) -> None:
    page = html_reports["relapse-after-metastatic-alveolar"]
    assert "<svg" in page and "months from first diagnosis" in page
