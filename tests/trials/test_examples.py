"""Expected trial verdicts for the lead's example cases (examples/*.yaml), with why.

Each case is judged on its own ``current.assessed_on``.  Registry checks come first
(``rhabdo.trials.screen``): every bundled trial studies RMS; FaR-RMS recruits since 31 Jul 2020
(UK start), so it was open on every example's date; ARST0921 is completed and never offered.
FGFR4 CAR-T (not yet recruiting, no start date), CAR-TA (status unknown), and 3CAR and RAD3CAR
(recruiting as of a date after most examples, no start date recorded) each carry one more
pending item: whether the trial was open on the day judged.  The bundled trials and the criteria
that decide are (knowledge/data/trials/trials.yaml):

* NCT04625907 FaR-RMS -- structured: pleomorphic RMS excluded (kofam listing).  No example is
  pleomorphic, so every example is *eligible on known data*; which treatment question the
  patient could enter is free text for the team to review.
* NCT06865664 FGFR4 CAR-T -- relapsed/refractory after at least two regimens (upfront plus a
  salvage).  Every relapsed example records only its first line, so all are *excluded* (at first
  relapse they are not yet eligible); the newly diagnosed example is excluded by its setting.
* NCT04897321 3CAR -- age <= 21, relapsed/refractory, measurable disease, Lansky/Karnofsky >= 50,
  B7-H3 (CD276) expression.  No example records B7-H3, so relapsed examples are *possible,
  pending* that test; the newly diagnosed example is excluded by its setting.
* NCT07222735 RAD3CAR -- age <= 21, relapsed/refractory, Lansky/Karnofsky >= 60, B7-H3 (CD276)
  expression.  As for 3CAR: relapsed examples are *possible, pending* the B7-H3 test (measurable
  disease is not required, evaluable disease is free text); the newly diagnosed one is excluded.
* NCT07172958 CAR-TA -- age >= 1 and < 24, relapsed/refractory, Lansky/Karnofsky >= 60, ANC >
  500/uL, platelets > 50,000/uL, ALT <= 5 x ULN.  No example records ANC, platelets or ALT, so
  relapsed examples are *possible, pending*; the newly diagnosed example is excluded.
"""

from __future__ import annotations

import pytest

from rhabdo.case.io import load_case
from rhabdo.trials import match_trials

from .trials_helpers import EXAMPLES

FAR, FGFR4, CAR3, CARTA = "NCT04625907", "NCT06865664", "NCT04897321", "NCT07172958"
RAD3 = "NCT07222735"

#: file -> {trial: (verdict, pending items, why)}
EXPECTED: dict[str, dict[str, tuple[str, int, str]]] = {
    "anaplastic-young-child-local-relapse.yaml": {
        FAR: ("eligible_on_known_data", 0, "embryonal, not pleomorphic"),
        FGFR4: (
            "excluded",
            1,
            "age 3 on 2025-02-15 meets >= 3, but only 1 regimen recorded (needs 2)",
        ),
        CAR3: ("possible_pending", 2, "first relapse, measurable, Lansky 80; B7-H3 not recorded"),
        CARTA: ("possible_pending", 2, "age 3, Lansky 80; ANC, platelets and ALT not recorded"),
        RAD3: ("possible_pending", 2, "age 3, Lansky 80; B7-H3 not recorded"),
    },
    "local-relapse-paratesticular.yaml": {
        FAR: ("eligible_on_known_data", 0, "embryonal"),
        FGFR4: ("excluded", 1, "first relapse after VA only: 1 regimen"),
        CAR3: ("possible_pending", 2, "age 10, measurable, Lansky 90; B7-H3 not recorded"),
        CARTA: ("possible_pending", 2, "organ-function values not recorded"),
        RAD3: ("possible_pending", 2, "Lansky 90; B7-H3 not recorded"),
    },
    "metastatic-at-diagnosis-trunk.yaml": {
        FAR: ("eligible_on_known_data", 0, "alveolar, newly diagnosed: FaR-RMS takes new patients"),
        FGFR4: (
            "excluded",
            2,
            "newly diagnosed metastatic is not relapsed/refractory (no therapy recorded yet)",
        ),
        CAR3: ("excluded", 1, "newly diagnosed; B7-H3 also unknown"),
        CARTA: ("excluded", 2, "newly diagnosed; organ function also unknown"),
        RAD3: ("excluded", 2, "newly diagnosed; B7-H3 also unknown"),
    },
    "metastatic-relapse-bladder-prostate.yaml": {
        FAR: ("eligible_on_known_data", 0, "botryoid embryonal"),
        FGFR4: ("excluded", 1, "1 regimen recorded"),
        CAR3: (
            "possible_pending",
            2,
            "age 5, lung relapse measurable, Lansky 80; B7-H3 not recorded",
        ),
        CARTA: ("possible_pending", 2, "organ-function values not recorded"),
        RAD3: ("possible_pending", 2, "Lansky 80; B7-H3 not recorded"),
    },
    "missing-data-trunk-relapse.yaml": {
        FAR: ("eligible_on_known_data", 0, "embryonal"),
        FGFR4: ("excluded", 1, "1 regimen recorded"),
        CAR3: ("possible_pending", 4, "measurable disease, performance and B7-H3 all unrecorded"),
        CARTA: ("possible_pending", 3, "performance and organ function unrecorded"),
        RAD3: ("possible_pending", 3, "performance and B7-H3 unrecorded"),
    },
    "progression-on-therapy-parameningeal.yaml": {
        FAR: (
            "eligible_on_known_data",
            0,
            "embryonal (whether refractory disease may enter is free text)",
        ),
        FGFR4: ("excluded", 1, "refractory on first line: 1 regimen"),
        CAR3: ("possible_pending", 2, "refractory, measurable, Lansky 70; B7-H3 not recorded"),
        CARTA: ("possible_pending", 2, "refractory, Lansky 70; organ function not recorded"),
        RAD3: ("possible_pending", 2, "refractory, Lansky 70; B7-H3 not recorded"),
    },
    "regional-relapse-alveolar-extremity.yaml": {
        FAR: ("eligible_on_known_data", 0, "alveolar"),
        FGFR4: ("excluded", 1, "1 regimen recorded"),
        CAR3: ("possible_pending", 2, "age 13, Karnofsky 90; B7-H3 not recorded"),
        CARTA: ("possible_pending", 2, "organ function not recorded"),
        RAD3: ("possible_pending", 2, "Karnofsky 90; B7-H3 not recorded"),
    },
    "relapse-after-metastatic-alveolar.yaml": {
        FAR: ("eligible_on_known_data", 0, "alveolar"),
        FGFR4: ("excluded", 1, "first relapse, 1 regimen recorded"),
        CAR3: ("possible_pending", 2, "age 15, Karnofsky 60 >= 50; B7-H3 not recorded"),
        CARTA: (
            "possible_pending",
            2,
            "Karnofsky 60 meets >= 60 exactly; organ function not recorded",
        ),
        RAD3: ("possible_pending", 2, "Karnofsky 60 meets >= 60; B7-H3 not recorded"),
    },
    "suspected-second-malignancy-orbit.yaml": {
        FAR: ("eligible_on_known_data", 0, "embryonal (the lesion still needs a biopsy)"),
        FGFR4: ("excluded", 1, "1 regimen recorded"),
        CAR3: ("possible_pending", 2, "age 12, Karnofsky 90; B7-H3 not recorded"),
        CARTA: ("possible_pending", 2, "organ function not recorded"),
        RAD3: ("possible_pending", 2, "Karnofsky 90; B7-H3 not recorded"),
    },
}


def test_every_example_has_expectations() -> None:
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_verdicts(example: str) -> None:
    matches = {m.trial.registry_id: m for m in match_trials(load_case(EXAMPLES / example))}
    for trial_id, (verdict, pending, why) in EXPECTED[example].items():
        m = matches[trial_id]
        assert (m.verdict.value, m.pending_count) == (verdict, pending), f"{trial_id}: {why}"


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_order_puts_excluded_last(example: str) -> None:
    verdicts = [m.verdict.value for m in match_trials(load_case(EXAMPLES / example))]
    rank = {"eligible_on_known_data": 0, "possible_pending": 1, "excluded": 2}
    assert [rank[v] for v in verdicts] == sorted(rank[v] for v in verdicts)


def test_pending_items_name_the_fields_to_collect() -> None:
    case = load_case(EXAMPLES / "missing-data-trunk-relapse.yaml")
    carta = next(m for m in match_trials(case) if m.trial.registry_id == CARTA)
    assert carta.needs == [
        "current.organ_function.absolute_neutrophil_count_per_ul",
        "current.organ_function.alt_x_uln",
        "current.organ_function.platelets_per_ul",
        "current.performance",
    ]


def test_recording_b7h3_settles_the_b7h3_trials() -> None:
    """With B7-H3 (CD276) positive on IHC recorded, 3CAR and RAD3CAR have no pending item left.

    Synthetic variant of relapse-after-metastatic-alveolar.yaml (age 15, first relapse,
    measurable disease, Karnofsky 60): 3CAR needs >= 50 and RAD3CAR >= 60, both met.  Judged on
    1 Dec 2025, after both trials were recorded as recruiting (3CAR as of 26 Jun 2025, RAD3CAR as
    of 19 Nov 2025), so recruitment is not pending either.
    """
    import datetime as dt

    from rhabdo.case.io import case_to_dict, parse_case

    doc = case_to_dict(load_case(EXAMPLES / "relapse-after-metastatic-alveolar.yaml"))
    doc["diagnosis"]["tumour_alterations"] = [
        {"gene": "CD276", "alteration": "expression", "detected": True, "detail": "IHC H-score 180"}
    ]
    on = dt.date(2025, 12, 1)
    matches = {m.trial.registry_id: m for m in match_trials(parse_case(doc), on=on)}
    assert matches[CAR3].verdict.value == "eligible_on_known_data"
    assert matches[RAD3].verdict.value == "eligible_on_known_data"
    assert matches[CAR3].needs_review  # free-text criteria still need the team's review
    doc["diagnosis"]["tumour_alterations"][0]["detected"] = False
    matches = {m.trial.registry_id: m for m in match_trials(parse_case(doc), on=on)}
    assert matches[CAR3].verdict.value == "excluded"
