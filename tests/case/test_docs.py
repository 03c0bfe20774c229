"""The clinician's page about the case format must name every field and every code, so it cannot
drift from the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from rhabdo.case import model
from rhabdo.case.vocab import ALL_VOCABULARIES, IRSGroup, Vocabulary

DOC = (Path(__file__).resolve().parents[2] / "docs" / "case-format.md").read_text()

MODELS: list[type[BaseModel]] = [
    model.Patient,
    model.TumourAlteration,
    model.InitialSurgery,
    model.Diagnosis,
    model.ChemotherapyExposure,
    model.RadiotherapyCourse,
    model.Surgery,
    model.TreatmentLine,
    model.EventSite,
    model.DiseaseEvent,
    model.PerformanceStatus,
    model.OrganFunction,
    model.CurrentState,
    model.Case,
]


@pytest.mark.parametrize("m", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_documented(m: type[BaseModel]) -> None:
    for name in m.model_fields:
        assert f"`{name}`" in DOC, f"{m.__name__}.{name} is not in docs/case-format.md"


@pytest.mark.parametrize("vocab", ALL_VOCABULARIES, ids=lambda v: v.__name__)
def test_every_code_is_documented(vocab: type[Vocabulary]) -> None:
    for member in vocab:
        if vocab is IRSGroup:
            assert f"`{member.value}`" in DOC
        else:
            assert f"`{member.value}`" in DOC, f"{vocab.__name__}.{member.value} is not documented"
