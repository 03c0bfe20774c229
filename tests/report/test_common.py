"""The wording every rendering shares: values, indeterminate answers, numbered references."""

from __future__ import annotations

import pytest

from rhabdo.report.common import References, finding_answer, format_value
from rhabdo.report.timeline import DAYS_PER_MONTH, Lane, months_between, timeline_spans
from rhabdo.results import (
    Assessment,
    Provenance,
    determined,
    indeterminate,
    not_applicable,
)


@pytest.mark.parametrize(
    ("value", "finding_id", "words"),
    [
        (None, "", "not known"),
        (True, "", "yes"),
        (False, "", "no"),
        (3, "", "3"),
        (3, "stage.pretreatment", "stage 3"),
        ("IIIA", "group.clinical", "group IIIA"),
        (2.50, "", "2.5"),
        (9600.0, "exposure.ced", "9,600 mg/m²"),
        (24.0, "exposure.vincristine", "24 mg/m²"),
        ("very_low", "risk.cog", "very low risk"),
        (["lung", "bone_marrow"], "", "lung, bone marrow"),
        ({"at_least_mg_m2": 120.0}, "", "at least 120 mg/m²"),
        ({"at_least_gy": 0}, "", "not known (no countable dose recorded)"),
        ({"group": "IIIA"}, "", "group: IIIA"),
        ([{"a": 1}, {"b": 2}], "exposure.radiation", "2 courses"),
    ],
)
def test_format_value(value: object, finding_id: str, words: str) -> None:
    assert format_value(value, finding_id) == words


def test_answers_for_each_status() -> None:
    d = determined("stage.pretreatment", 3, reason="r", rule="x", citations=[])
    i = indeterminate(
        "stage.pretreatment",
        candidates=[2, 3],
        needs=["diagnosis.max_diameter_cm"],
        reason="r",
        rule="x",
        citations=[],
    )
    n = not_applicable("score.oberlin", reason="M0", rule="x")
    assert finding_answer(d) == "stage 3"
    assert finding_answer(i) == (
        "indeterminate (stage 2 or stage 3); needs Tumour size at diagnosis (largest diameter, cm)"
    )
    assert finding_answer(n) == "not applicable"


def test_references_are_numbered_in_order_of_first_use() -> None:
    a = Assessment(
        patient_id="X",
        findings={
            "a": determined(
                "a", 1, reason="r", rule="x", citations=["oberlin_2008", "pdq_rms_hp_2025"]
            ),
            "b": determined(
                "b", 1, reason="r", rule="x", citations=["pdq_rms_hp_2025", "nope_key"]
            ),
        },
        provenance=Provenance(engine_version="0", knowledge_version="0", assessed_on="2026-11-22"),
    )
    refs = References(a)
    assert [r.key for r in refs.items] == ["oberlin_2008", "pdq_rms_hp_2025", "nope_key"]
    assert refs.marker(["pdq_rms_hp_2025", "oberlin_2008"]) == "[2, 1]"
    assert refs.items[0].source is not None and "Oberlin" in refs.items[0].text
    assert refs.items[2].source is None and "not in the sources registry" in refs.items[2].text


def test_timeline_places_items_in_months_from_diagnosis() -> None:
    from rhabdo.case.io import load_case

    case = load_case("examples/relapse-after-metastatic-alveolar.yaml")
    spans = timeline_spans(case)
    assert spans[0].label == "Diagnosis" and spans[0].start_month == 0
    assert case.diagnosis.date is not None and case.events[0].date is not None
    relapse = [s for s in spans if s.lane is Lane.EVENTS and s.label == "Relapse"]
    expected = (case.events[0].date - case.diagnosis.date).days / DAYS_PER_MONTH
    assert relapse[0].start_month == pytest.approx(expected)
    assert sum(s.lane is Lane.RADIOTHERAPY for s in spans) == 3
    assert months_between(case.diagnosis.date, case.diagnosis.date) == 0
