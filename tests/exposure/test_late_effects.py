"""Late-effects advice that fits the patient (issue 14).

Fertility: IGHG POI guideline (van Dorp 2016), PanCareLIFE/IGHG fertility preservation
(Mulder 2021), male semen data (Green 2014).  Cardiac intervals: PanCareFollowUp text stated to
reflect IGHG 2023 (Ehrhardt 2023): anthracycline >=250 mg/m2 or chest RT >=30 Gy every 2 years;
100-<250 mg/m2 or 15-<30 Gy every 5 years.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.exposure.exposure_helpers import findings_of

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.results import FindingStatus


def make(
    sex: str | None,
    chemo: list[dict[str, Any]],
    rt: list[dict[str, Any]] | None = None,
    **current: Any,
) -> Case:
    patient: dict[str, Any] = {"id": "SYN-LE", "age_at_diagnosis_days": 3000}
    if sex:
        patient["sex"] = sex
    line: dict[str, Any] = {"chemotherapy": chemo, "body_surface_area_m2": 1.0, "weight_kg": 30}
    if rt is None:
        line["radiotherapy_given"] = False
    else:
        line["radiotherapy"] = rt
    doc: dict[str, Any] = {"patient": patient, "first_line": line}
    if current:
        doc["current"] = current
    return parse_case(doc)


CYCLO = {"agent": "cyclophosphamide", "cumulative_dose": 5000, "cumulative_dose_unit": "mg/m2"}
DOXO = {"agent": "doxorubicin", "cumulative_dose": 0, "cumulative_dose_unit": "mg/m2"}


@pytest.mark.parametrize(
    ("sex", "ovarian", "semen"),
    [("female", True, False), ("male", False, True), ("other", True, True)],
)
def test_fertility_advice_follows_sex(sex: str, ovarian: bool, semen: bool) -> None:
    f = findings_of(make(sex, [CYCLO]))["late_effects.fertility"]
    assert f.status is FindingStatus.DETERMINED and f.value == "at_risk"
    assert ("premature ovarian insufficiency" in f.reason) is ovarian
    assert ("normospermic" in f.reason) is semen
    assert "fertility preservation" in f.reason
    assert "evidence gap" in f.reason
    assert ("van_dorp_2016" in f.citations) is ovarian
    assert ("green_2014_ced_sperm" in f.citations) is semen


def test_unknown_sex_asks_for_it() -> None:
    f = findings_of(make(None, [CYCLO]))["late_effects.fertility"]
    assert f.status is FindingStatus.INDETERMINATE and f.needs == ["patient.sex"]


@pytest.mark.parametrize(
    ("sex", "region", "at_risk"),
    [
        ("female", "pelvis", True),
        ("female", "abdomen", True),
        ("female", "thorax", False),
        ("male", "pelvis", True),
        ("male", "abdomen", False),
    ],
)
def test_gonadal_radiotherapy_by_sex(sex: str, region: str, at_risk: bool) -> None:
    rt = [{"body_region": region, "total_dose_gy": 36}]
    f = findings_of(make(sex, [], rt))["late_effects.fertility"]
    assert (f.value == "at_risk") is at_risk
    if at_risk:
        assert f"{region} radiotherapy 36 Gy" in f.reason


def test_no_gonadotoxic_exposure_and_radiotherapy_unknown_is_indeterminate() -> None:
    case = parse_case(
        {"patient": {"id": "SYN-LE", "sex": "female"}, "first_line": {"chemotherapy": []}}
    )
    f = findings_of(case)["late_effects.fertility"]
    assert f.status is FindingStatus.INDETERMINATE
    assert f.needs == ["first_line.radiotherapy_given"]


def test_tanner_stage_is_shown_when_known() -> None:
    f = findings_of(make("female", [CYCLO], tanner_stage=2))["late_effects.fertility"]
    assert "Tanner stage 2" in f.reason


@pytest.mark.parametrize(
    ("doxo", "chest_gy", "value"),
    [
        (99, None, "no routine surveillance interval"),
        (100, None, "every 5 years"),
        (249, None, "every 5 years"),
        (250, None, "every 2 years"),
        (0, 14.9, "no routine surveillance interval"),
        (0, 15, "every 5 years"),
        (0, 29.9, "every 5 years"),
        (0, 30, "every 2 years"),
        (120, 30, "every 2 years"),
    ],
)
def test_cardiac_surveillance_interval_on_both_sides(
    doxo: float, chest_gy: float | None, value: str
) -> None:
    chemo = [dict(DOXO, cumulative_dose=doxo)]
    rt = [{"body_region": "thorax", "total_dose_gy": chest_gy}] if chest_gy else None
    f = findings_of(make("female", chemo, rt))["late_effects.cardiac_surveillance"]
    assert f.status is FindingStatus.DETERMINED
    assert f.value == value
    assert f.citations == ["ehrhardt_2023"]
    if value != "no routine surveillance interval":
        assert "secondary for the guideline" in f.reason


def test_unknown_anthracycline_dose_leaves_the_interval_open() -> None:
    case = make("male", [{"agent": "doxorubicin"}])
    f = findings_of(case)["late_effects.cardiac_surveillance"]
    assert f.status is FindingStatus.INDETERMINATE
    assert "first_line.chemotherapy[0].cumulative_dose" in f.needs
