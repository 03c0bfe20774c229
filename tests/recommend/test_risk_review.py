"""Risk-review rule (recommend.risk_review.v1).

Source: Ogawa 2021 (confirm stage/group at diagnosis, treatment history and timing of recurrence:
during treatment, within 18 months of the start of treatment, or later); Heske 2021.
"""

from __future__ import annotations

from recommend_helpers import assert_well_formed, case, fake_finding

from rhabdo.recommend.risk_review import CORE_IDS, risk_review_recommendations
from rhabdo.results import Strength, indeterminate, not_applicable


def test_always_one_summary() -> None:
    recs = risk_review_recommendations(case(), {})
    assert_well_formed(recs)
    assert [r.id for r in recs] == ["risk_review.summary"]
    assert recs[0].strength is Strength.RECOMMENDED
    assert recs[0].details["relapse_timing_cut_months"] == 18  # Ogawa 2021
    assert "Treatment so far: first line: vincristine" in recs[0].statement


def test_summarises_findings_in_order() -> None:
    findings = {fid: fake_finding(fid, f"value-{fid}") for fid in reversed(CORE_IDS)}
    findings["risk.extra"] = fake_finding("risk.extra")
    findings["exposure.doxorubicin"] = fake_finding("exposure.doxorubicin")
    rec = risk_review_recommendations(case(), findings)[0]
    assert rec.based_on_findings == [*CORE_IDS, "risk.extra"]
    assert [s["id"] for s in rec.details["findings"]] == [*CORE_IDS, "risk.extra"]
    # words, not codes (issue 17 §2): the finding's label, never its id
    assert "Pretreatment stage (IRS/COG TNM): value-stage.pretreatment" in rec.statement
    assert "stage.pretreatment:" not in rec.statement


def test_undecided_findings_name_what_would_decide() -> None:
    findings = {
        "stage.pretreatment": indeterminate(
            "stage.pretreatment",
            candidates=[2, 3],
            needs=["diagnosis.max_diameter_cm"],
            reason="size unknown",
            rule="t",
            citations=["ogawa_2021"],
        ),
        "score.oberlin": not_applicable("score.oberlin", reason="not metastatic", rule="t"),
    }
    rec = risk_review_recommendations(case(), findings)[0]
    assert "Tumour size at diagnosis (largest diameter, cm)" in rec.reason
    assert "diagnosis.max_diameter_cm" not in rec.reason
    assert "undecided: stage 2 or stage 3" in rec.statement
    assert "Oberlin" not in rec.statement


def test_missing_treatment_history_named() -> None:
    rec = risk_review_recommendations(case(first_line=None), {})[0]
    assert "first_line (treatment history)" in rec.details["unknown"]
    assert "no treatment history recorded" in rec.statement
    assert_well_formed([rec])


def test_radiotherapy_in_history() -> None:
    c = case(first_line={"radiotherapy": [{"target_site": "chest wall", "total_dose_gy": 50.4}]})
    rec = risk_review_recommendations(c, {})[0]
    assert "RT chest wall 50.4 Gy" in rec.statement
