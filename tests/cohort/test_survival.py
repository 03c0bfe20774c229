"""Survival numbers checked against values published for the Freireich 6-MP remission data.

Data: Freireich EJ et al., Blood 1963;21:699 (source key ``freireich_1963``): weeks of
remission, 21 patients on 6-mercaptopurine and 21 on placebo (the "Gehan" data).

Published values pasted from the sources named below:

* Kaplan-Meier, control (placebo) group, Stata ``sts list, by(group)`` in G. Rodriguez,
  "The Gehan Survival Data", Princeton WWS 509 notes (data.princeton.edu/pop509/gehan.html)::

      Time  Total  Fail  Lost  Survivor Function  Std. Error  [95% Conf. Int.]
      1     21     2     0     0.9048             0.0641      0.6700  0.9753
      2     19     2     0     0.8095             0.0857      0.5689  0.9239

* Log-rank test, R ``survdiff(Surv(time, event) ~ group)`` transcript (RPubs, "Question 3")::

               N Observed Expected (O-E)^2/E (O-E)^2/V
      group=0 21       21     10.7      9.77      16.8     (placebo)
      group=1 21        9     19.3      5.46      16.8     (6-MP)
       Chisq= 16.8  on 1 degrees of freedom, p= 4.17e-05

* The 6-MP group's Kaplan-Meier steps are checked against the product-limit formula worked
  by hand from the data (events at 6 (3 of 21), 7 (1 of 17), 10 (1 of 15), 13 (1 of 12),
  16 (1 of 11), 22 (1 of 7), 23 (1 of 6)).
"""

from __future__ import annotations

import pandas as pd
import pytest

from rhabdo.cohort.survival import concordance, cox, km_by_group, logrank, prepare

SIX_MP_WEEKS = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_RELAPSE = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_WEEKS = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


@pytest.fixture
def gehan():
    frame = pd.DataFrame(
        {
            "weeks": [str(w) for w in SIX_MP_WEEKS + PLACEBO_WEEKS],
            "relapse": [str(e) for e in SIX_MP_RELAPSE + [1] * 21],
            "arm": ["6-MP"] * 21 + ["placebo"] * 21,
            "arm.status": ["determined"] * 42,
        }
    )
    return prepare(frame, "weeks", "relapse", ["arm"])


def test_kaplan_meier_placebo_matches_published_stata_listing(gehan):
    placebo = {c.group: c for c in km_by_group(gehan, "arm")}["placebo"]
    # Rodriguez (Stata sts list): t=1 S=0.9048 (0.6700-0.9753); t=2 S=0.8095 (0.5689-0.9239)
    for t, s, low, high in [(1, 0.9048, 0.6700, 0.9753), (2, 0.8095, 0.5689, 0.9239)]:
        p = placebo.at(t)
        assert p.survival == pytest.approx(s, abs=5e-5)
        assert p.ci_low == pytest.approx(low, abs=5e-5)
        assert p.ci_high == pytest.approx(high, abs=5e-5)
    assert (placebo.n, placebo.events) == (21, 21)


def test_kaplan_meier_6mp_matches_the_product_limit_by_hand(gehan):
    six = {c.group: c for c in km_by_group(gehan, "arm")}["6-MP"]
    expected, s = [], 1.0
    for t, d, n in [
        (6, 3, 21),
        (7, 1, 17),
        (10, 1, 15),
        (13, 1, 12),
        (16, 1, 11),
        (22, 1, 7),
        (23, 1, 6),
    ]:
        s *= 1 - d / n
        expected.append((t, s))
    assert [(p.time, p.survival) for p in six.points] == [pytest.approx(e) for e in expected]
    assert six.median == 23


def test_log_rank_matches_published_survdiff(gehan):
    lr = logrank(gehan, "arm")
    # R survdiff: Chisq= 16.8 on 1 df, p= 4.17e-05; expected 10.7 (placebo), 19.3 (6-MP)
    assert lr.chi2 == pytest.approx(16.8, abs=0.05)
    assert lr.degrees_of_freedom == 1
    assert lr.p_value == pytest.approx(4.17e-05, rel=0.01)
    assert lr.observed == {"6-MP": 9, "placebo": 21}
    assert lr.expected["placebo"] == pytest.approx(10.7, abs=0.05)
    assert lr.expected["6-MP"] == pytest.approx(19.3, abs=0.05)


def test_cox_and_concordance_agree_in_direction(gehan):
    res = cox(gehan, ["arm"])
    assert res.reference_levels == {"arm": "6-MP"}
    (term,) = res.terms
    assert term.term == "arm=placebo" and term.hazard_ratio > 1 and term.p_value < 0.001
    gehan.frame["placebo"] = (gehan.frame["arm"] == "placebo").astype(int).astype(str)
    c = concordance(gehan, "placebo")
    assert c == pytest.approx(res.concordance)


def test_rows_that_cannot_enter_are_counted_with_the_reason():
    frame = pd.DataFrame(
        {
            "t": ["1", "x", "2", "3", "4"],
            "e": ["1", "1", "maybe", "0", "1"],
            "f": ["a", "a", "a", None, "b"],
            "f.status": ["determined", "determined", "determined", "indeterminate", "determined"],
            "error": [None, None, None, None, None],
        }
    )
    data = prepare(frame, "t", "e", ["f"])
    assert len(data.frame) == 2
    assert data.excluded == {
        "t missing, not a number or negative": 1,
        "e missing or not 0/1": 1,
        "f indeterminate": 1,
    }
