"""Implausible input: unit errors refused, very unlikely records warned about (issue 14).

Plausible ranges: ``plausible_range`` entries of ``knowledge/data/dosing.yaml`` (1/100 to 10x
the per-administration dose of the cited regimen; a generic envelope where the knowledge has
no dose for the agent).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.exposure.exposure_helpers import make_case

from rhabdo.case.io import parse_case
from rhabdo.case.vocab import ChemotherapyAgent, DoseUnit
from rhabdo.engine import assess
from rhabdo.errors import CaseValidationError
from rhabdo.exposure.cumulative import agent_totals
from rhabdo.exposure.plausibility import (
    age_warnings,
    cumulative_warnings,
    implausible_doses,
    likely_cause,
    plausible_range,
    range_in,
)
from rhabdo.knowledge.dosing import UnitFamily
from rhabdo.report.text import render_text


def chemo(agent: str, amount: float, unit: str, n: int = 1) -> dict[str, Any]:
    return {
        "agent": agent,
        "dose_per_administration": amount,
        "dose_unit": unit,
        "administrations": n,
    }


@pytest.mark.parametrize("agent", list(ChemotherapyAgent))
def test_every_vocabulary_agent_has_a_plausible_range_with_its_basis(
    agent: ChemotherapyAgent,
) -> None:
    entry = plausible_range(agent)
    assert entry.text.strip() and entry.citations
    for family in UnitFamily:
        lo, hi = range_in(entry, family)
        assert 0 < lo < hi


@pytest.mark.parametrize(
    ("agent", "amount", "unit", "cause"),
    [
        ("cyclophosphamide", 1200, "g/m2", "did you mean mg/m2?"),  # the example
        ("vincristine", 1500, "mg/m2", "did you mean mcg/m2?"),  # the example
        ("ifosfamide", 3000, "g/m2", "did you mean mg/m2?"),
        ("vincristine", 1.5, "g/m2", "did you mean mg/m2?"),
        ("doxorubicin", 0.03, "mg/m2", "did you mean g/m2?"),
    ],
)
def test_implausible_dose_names_field_value_range_and_likely_cause(
    agent: str, amount: float, unit: str, cause: str
) -> None:
    case = make_case([chemo(agent, amount, unit, 7)])
    [problem] = implausible_doses(case)
    assert problem.field == "first_line.chemotherapy[0].dose_per_administration"
    assert f"{amount:g} {unit}" in problem.problem
    assert "plausible range" in problem.problem and "basis:" in problem.problem
    assert problem.problem.endswith(cause)


@pytest.mark.parametrize(
    ("agent", "amount", "unit"),
    [
        ("cyclophosphamide", 1200, "mg/m2"),
        ("cyclophosphamide", 25, "mg/m2"),
        ("ifosfamide", 3, "g/m2"),
        ("vincristine", 1.5, "mg/m2"),
        ("vincristine", 2, "mg"),
        ("vincristine", 0.05, "mg/kg"),
        ("dactinomycin", 0.045, "mg/kg"),
        ("dactinomycin", 45, "mcg/kg"),
        ("bevacizumab", 15, "mg/kg"),
        ("melphalan", 140, "mg/m2"),
    ],
)
def test_protocol_doses_are_plausible(agent: str, amount: float, unit: str) -> None:
    assert implausible_doses(make_case([chemo(agent, amount, unit)])) == []


@pytest.mark.parametrize(
    ("amount", "ok"), [(15.0, True), (15.01, False), (0.015, True), (0.0149, False)]
)
def test_range_bounds_on_both_sides(amount: float, ok: bool) -> None:
    """Vincristine 0.015-15 mg/m2 (1/100 to 10x 1.5 mg/m2)."""
    assert (implausible_doses(make_case([chemo("vincristine", amount, "mg/m2")])) == []) is ok


def test_assess_refuses_a_unit_error_naming_the_field() -> None:
    case = make_case([chemo("cyclophosphamide", 1200, "g/m2", 7)])
    with pytest.raises(CaseValidationError) as err:
        assess(case)
    assert "first_line.chemotherapy[0].dose_per_administration" in str(err.value)
    assert "1200 g/m2" in str(err.value)


def test_likely_cause_falls_back_to_checking_the_dose() -> None:
    assert likely_cause(ChemotherapyAgent.VINCRISTINE, 1e9, DoseUnit.MG_M2) == (
        "check the dose and its unit"
    )


@pytest.mark.parametrize(
    ("sex", "site"),
    [("female", "prostate"), ("female", "paratesticular"), ("male", "vulva_vagina_uterus")],
)
def test_sex_site_mismatch_is_an_error(sex: str, site: str) -> None:
    with pytest.raises(CaseValidationError) as err:
        parse_case({"patient": {"id": "SYN-X", "sex": sex}, "diagnosis": {"primary_site": site}})
    assert "diagnosis.primary_site" in str(err.value) and site in str(err.value)


@pytest.mark.parametrize(
    ("sex", "site"),
    [
        ("male", "prostate"),
        ("male", "paratesticular"),
        ("female", "vulva_vagina_uterus"),
        ("other", "prostate"),
        ("female", "bladder"),
    ],
)
def test_sex_site_match_is_accepted(sex: str, site: str) -> None:
    parse_case({"patient": {"id": "SYN-X", "sex": sex}, "diagnosis": {"primary_site": site}})


def _aged(dob: str, dx: str = "2024-01-01") -> Any:
    return parse_case(
        {"patient": {"id": "SYN-AGE", "date_of_birth": dob}, "diagnosis": {"date": dx}}
    )


@pytest.mark.parametrize(("dob", "warned"), [("1924-06-01", False), ("1923-05-31", True)])
def test_age_over_100_is_a_warning(dob: str, warned: bool) -> None:
    on = date(2024, 6, 1)
    ids = [w.id for w in age_warnings(_aged(dob, "2020-01-01"), on)]
    assert ("warning.age_over_100" in ids) is warned


@pytest.mark.parametrize(("dob", "warned"), [("1974-01-02", False), ("1973-01-01", True)])
def test_age_at_diagnosis_outside_the_knowledge_is_a_warning(dob: str, warned: bool) -> None:
    ids = [w.id for w in age_warnings(_aged(dob), date(2024, 6, 1))]
    assert ("warning.age_at_diagnosis_outside_knowledge" in ids) is warned


@pytest.mark.parametrize(("g_m2", "warned"), [(162, False), (163, True)])
def test_cumulative_dose_far_above_any_course_is_a_warning(g_m2: float, warned: bool) -> None:
    """Largest ifosfamide course in the knowledge: MTS 2008, 3 g/m2 x 2 x 9 = 54 g/m2; x3."""
    case = make_case(
        [{"agent": "ifosfamide", "cumulative_dose": g_m2, "cumulative_dose_unit": "g/m2"}]
    )
    warnings = cumulative_warnings(agent_totals(case))
    assert bool(warnings) is warned
    if warned:
        assert warnings[0].fields == ["first_line.chemotherapy[0]"]
        assert "schoot_2022" in warnings[0].citations


def test_warnings_reach_the_assessment_and_the_top_of_the_text() -> None:
    case = make_case(
        [{"agent": "ifosfamide", "cumulative_dose": 200, "cumulative_dose_unit": "g/m2"}]
    )
    a = assess(case, assessed_on=date(2024, 6, 1))
    assert [w.id for w in a.warnings] == ["warning.cumulative_dose.ifosfamide"]
    text = render_text(case, a)
    warning_at = text.index("WARNINGS")
    assert warning_at < text.index("Cumulative ifosfamide 200,000 mg/m2 is more than 3 times")
    assert warning_at < text.index("PRIOR EXPOSURE") if "PRIOR EXPOSURE" in text else True
    assert warning_at < text.index("RECOMMENDATIONS")
