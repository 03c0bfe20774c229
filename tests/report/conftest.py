"""Assess every example once per session; the report tests look at the renderings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rhabdo.case.io import load_case
from rhabdo.case.model import Case
from rhabdo.engine import assess
from rhabdo.results import Assessment

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
ASSESSED_ON = date(2026, 11, 22)


@pytest.fixture(scope="session")
def assessed() -> dict[str, tuple[Case, Assessment]]:
    out = {}
    for path in EXAMPLES:
        case = load_case(path)
        out[path.stem] = (case, assess(case, assessed_on=ASSESSED_ON))
    return out


@pytest.fixture(scope="session")
def html_reports(assessed: dict[str, tuple[Case, Assessment]]) -> dict[str, str]:
    from rhabdo.report import render_html

    return {name: render_html(case, a) for name, (case, a) in assessed.items()}


@pytest.fixture(scope="session")
def pdf_dir(
    assessed: dict[str, tuple[Case, Assessment]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from rhabdo.report import render_pdf

    out = tmp_path_factory.mktemp("pdf")
    for name, (case, a) in assessed.items():
        (out / f"{name}.pdf").write_bytes(render_pdf(case, a))
    return out
