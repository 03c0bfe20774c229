"""Every finding id, finding value and case field the engine can produce has clinical words.

The enumeration runs over every example case, the vocabularies the classifiers decide from and
every field of the case model, so a new id without a label fails here."""

from __future__ import annotations

import inspect
from datetime import date
from functools import cache

import pytest
from pydantic import BaseModel

from rhabdo.case import model as case_model
from rhabdo.case.io import load_case
from rhabdo.case.vocab import ChemotherapyAgent
from rhabdo.classify import risk_cog, risk_epssg
from rhabdo.classify.relapse import RelapseTiming, RelapseType
from rhabdo.engine import assess
from rhabdo.labels import (
    FIELD_LABELS,
    ITEM_NOUNS,
    KNOWLEDGE_NEED_LABELS,
    field_label,
    finding_label,
    has_finding_label,
    has_value_label,
    is_field_path,
    tidy,
    value_label,
    words,
)
from rhabdo.results import Assessment

from .conftest import EXAMPLE_FILES


@cache
def _assessments() -> tuple[Assessment, ...]:
    return tuple(assess(load_case(p), assessed_on=date(2026, 11, 22)) for p in EXAMPLE_FILES)


def _produced() -> tuple[set[str], set[tuple[str, str]], set[str]]:
    ids: set[str] = set()
    values: set[tuple[str, str]] = set()
    paths: set[str] = set()
    for a in _assessments():
        for f in a.findings.values():
            ids.add(f.id)
            for v in [f.value, *f.candidates]:
                items = v if isinstance(v, list) else [v]
                values.update((f.id, x) for x in items if isinstance(x, str))
            paths.update(f.needs)
        for m in a.missing_inputs:
            paths.add(m.field)
            ids.update(m.would_decide)
    return ids, values, paths


def _vocabulary_values() -> set[tuple[str, str]]:
    out = {("relapse.timing", v.value) for v in RelapseTiming}
    out |= {("relapse.type", v.value) for v in RelapseType}
    out |= {("risk.cog", v) for v in risk_cog.RISK_ORDER}
    out |= {("risk.cog_histology", v) for v in risk_cog.RISK_ORDER}
    out |= {("risk.epssg", v) for v in risk_epssg.RISK_ORDER}
    out |= {("exposure.agents_given", a.value) for a in ChemotherapyAgent}
    return out


def test_every_finding_id_produced_has_a_label() -> None:
    ids, _, _ = _produced()
    assert ids, "the examples produced no findings"
    unlabelled = sorted(i for i in ids if not has_finding_label(i))
    assert not unlabelled, f"add these to rhabdo.labels.FINDING_LABELS: {unlabelled}"


@pytest.mark.parametrize("agent", list(ChemotherapyAgent), ids=str)
def test_every_agent_exposure_has_a_label(agent: ChemotherapyAgent) -> None:
    assert has_finding_label(f"exposure.{agent.value}")
    assert finding_label(f"exposure.{agent.value}").endswith("(cumulative)")


def test_every_finding_value_has_words() -> None:
    _, values, _ = _produced()
    values |= _vocabulary_values()
    unlabelled = sorted(v for v in values if not has_value_label(*v))
    assert not unlabelled, f"add these to rhabdo.labels.VALUE_LABELS: {unlabelled}"
    for fid, v in values:
        assert "_" not in value_label(fid, v), (fid, v)


def test_every_needed_field_is_a_case_field_with_a_label() -> None:
    _, _, paths = _produced()
    assert paths
    for path in paths:
        # a knowledge need (CED factors not verified) is an evidence gap, labelled in words
        assert is_field_path(path) or path in KNOWLEDGE_NEED_LABELS, path
        label = field_label(path)
        assert label != path and "_" not in label and "[" not in label, (path, label)


def _models() -> list[type[BaseModel]]:
    return [
        c
        for c in vars(case_model).values()
        if inspect.isclass(c)
        and issubclass(c, BaseModel)
        and c.__module__ == case_model.__name__
        and c.model_fields
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_case_field_has_a_label(model: type[BaseModel]) -> None:
    for name, info in model.model_fields.items():
        key = f"{model.__name__}.{name}"
        assert key in FIELD_LABELS, f"add {key} to rhabdo.labels.FIELD_LABELS"
        if "list[" in str(info.annotation) and _has_model_items(str(info.annotation)):
            assert key in ITEM_NOUNS, f"add {key} to rhabdo.labels.ITEM_NOUNS"


def _has_model_items(annotation: str) -> bool:
    return any(f"list[{m.__name__}]" in annotation for m in _models()) or "MetastaticSite" in (
        annotation
    )


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (
            "first_line.chemotherapy[0].cumulative_dose",
            "Cumulative dose — first-line treatment, chemotherapy agent 1",
        ),
        (
            "later_lines[1].radiotherapy[0].total_dose_gy",
            "Total dose (Gy) — later treatment line 2, radiotherapy course 1",
        ),
        ("events[0].sites", "Sites of disease — event 1"),
        (
            "events[0].sites[1].in_irradiated_field",
            "In a previously irradiated field — event 1, site 2",
        ),
        ("first_line.chemotherapy[2]", "Chemotherapy agent 3 — first-line treatment"),
        ("diagnosis.max_diameter_cm", "Tumour size at diagnosis (largest diameter, cm)"),
        ("current.performance.score", "Performance score (Lansky/Karnofsky, %)"),
        ("current.organ_function.lvef_percent", "LVEF (%)"),
        ("first_line", "First-line treatment"),
        ("first_line (treatment history)", "first_line (treatment history)"),
        ("not.a.field", "not.a.field"),
    ],
)
def test_field_labels(path: str, label: str) -> None:
    assert field_label(path) == label


def test_field_label_names_the_agent_when_the_case_is_given() -> None:
    case = load_case(EXAMPLE_FILES[0])
    assert case.first_line is not None and case.first_line.chemotherapy
    agent = case.first_line.chemotherapy[0].display_name
    assert field_label("first_line.chemotherapy[0].cumulative_dose", case).endswith(f"({agent})")


def test_risk_review_statement_reads_in_words() -> None:
    for a in _assessments():
        review = next(r for r in a.recommendations if r.id == "risk_review.summary")
        for fid in a.findings:
            assert f"{fid}:" not in review.statement
        assert "False" not in review.statement and "True" not in review.statement


@pytest.mark.parametrize(
    ("text", "tidied"),
    [
        ("Oberlin O, et al.. Title.", "Oberlin O, et al. Title."),
        ("survival 25%..", "survival 25%."),
        ("a;; b", "a; b"),
        ("and so on...", "and so on..."),
        ("fine.", "fine."),
    ],
)
def test_tidy_collapses_doubled_punctuation(text: str, tidied: str) -> None:
    assert tidy(text) == tidied


def test_words_replaces_field_paths_and_leaves_words_alone() -> None:
    assert words("Still unknown: diagnosis.anaplasia, events[0].sites.") == (
        "Still unknown: anaplasia, sites of disease — event 1."
    )
    assert words("FOXO1 fusion status: diagnosis.foxo1_fusion") == (
        "FOXO1 fusion status: FOXO1 fusion status"
    )
    assert words("the patient had events; e.g. doi:10.1200/jco.2008") == (
        "the patient had events; e.g. doi:10.1200/jco.2008"
    )


def test_tidy_keeps_fusion_notation() -> None:
    assert tidy("PAX7::FOXO1 fusion") == "PAX7::FOXO1 fusion"
