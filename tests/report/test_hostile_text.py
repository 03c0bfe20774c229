"""Hostile free text (issue 16 §3): a dollar-delimited TeX fragment, markup and template syntax
in every free-text field of a case go through every renderer (text, HTML, PDF, timeline
figure) without failing, are shown as typed (escaped in HTML) and leak no figure."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.engine import assess

HOSTILE = r"VAC $\foo$ <b>bold</b> {{ x }} $$ \\"
EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples" / "relapse-after-metastatic-alveolar.yaml"
)


def _is_free_text(info: Any) -> bool:
    """A plain string field with no pattern (identifiers and gene symbols have one)."""
    ann = info.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
    for a in args:
        base = typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
        if base is str:
            metadata = [*info.metadata, *getattr(a, "__metadata__", ())]
            return not any(getattr(m, "pattern", None) for m in metadata)
    return False


def free_text_fields(model: type[BaseModel] = Case, seen: set[str] | None = None) -> set[str]:
    """'Model.field' of every free-text field reachable from the case."""
    from rhabdo.labels import _model_of

    seen = set() if seen is None else seen
    for name, info in model.model_fields.items():
        if _is_free_text(info):
            seen.add(f"{model.__name__}.{name}")
        inner, _ = _model_of(info.annotation)
        if inner is not None and inner.__name__ not in {k.split(".")[0] for k in seen} | {
            model.__name__
        }:
            free_text_fields(inner, seen)
    return seen


def _hostile_case() -> tuple[Case, set[str]]:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["diagnosis"]["primary_site_detail"] = HOSTILE
    doc["diagnosis"]["tumour_alterations"] = [
        {"gene": "NRAS", "alteration": "mutation", "detected": True, "detail": HOSTILE}
    ]
    line = doc["first_line"]
    line["protocol"] = HOSTILE
    line["chemotherapy"].append({"agent": "other", "agent_name": HOSTILE})
    for rt in line["radiotherapy"]:
        rt["target_site"] = HOSTILE
    line["surgeries"] = [{"site": HOSTILE, "margin": "R1"}]
    for ev in doc["events"]:
        for site in ev.get("sites") or []:
            site["location"] = HOSTILE
    doc["current"]["goals_of_care"] = HOSTILE
    set_fields = {
        "Diagnosis.primary_site_detail",
        "TumourAlteration.detail",
        "TreatmentLine.protocol",
        "ChemotherapyExposure.agent_name",
        "RadiotherapyCourse.target_site",
        "Surgery.site",
        "EventSite.location",
        "CurrentState.goals_of_care",
    }
    return parse_case(doc), set_fields


def test_every_free_text_field_is_exercised() -> None:
    _, set_fields = _hostile_case()
    assert free_text_fields() == set_fields, "a new free-text field: add it to _hostile_case"


@pytest.fixture(scope="module")
def hostile() -> tuple[Case, Any]:
    case, _ = _hostile_case()
    return case, assess(case)


def _open_figures() -> int:
    import matplotlib.pyplot as plt

    return len(plt.get_fignums())


def test_text_report(hostile: tuple[Case, Any]) -> None:
    from rhabdo.report import render_text

    case, a = hostile
    assert r"$\foo$" in render_text(case, a)


def test_html_report_escapes_and_draws(hostile: tuple[Case, Any]) -> None:
    from rhabdo.report import render_html

    case, a = hostile
    before = _open_figures()
    page = render_html(case, a)
    assert r"VAC $\foo$ &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    assert _open_figures() == before


def test_pdf_report(hostile: tuple[Case, Any]) -> None:
    from rhabdo.report import render_pdf

    case, a = hostile
    assert render_pdf(case, a).startswith(b"%PDF")


def test_timeline_figure_keeps_the_dollars_as_text(hostile: tuple[Case, Any]) -> None:
    from rhabdo.report.figures import timeline_svg
    from rhabdo.report.timeline import timeline_spans

    case, _ = hostile
    before = _open_figures()
    svg = timeline_svg(timeline_spans(case))
    assert r"$\foo$" in svg
    assert _open_figures() == before


def test_a_failing_figure_is_still_released() -> None:
    from rhabdo.plotting import new_figure

    with pytest.raises(ValueError), new_figure() as fig:
        fig.subplots()
        raise ValueError("drawing failed half-way")
    assert not fig.axes
