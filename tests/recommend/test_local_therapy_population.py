"""The CWS circumscribed-recurrence figure in the local-therapy reason is quoted only to a
patient of its population (issue 13 section 5).

Source: Dantonello et al., Pediatr Blood Cancer 2013;60(8):1267-73 -- relapse after complete
remission of localised (non-metastatic) alveolar RMS in four CWS trials; 5-year post-relapse
survival 53.7% for 27 isolated, circumscribed recurrences given adequate local relapse therapy,
vs 21.3% overall.
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import case

from rhabdo.engine import core_findings
from rhabdo.recommend import recommend
from rhabdo.results import Recommendation


def multimodal(**changes: Any) -> Recommendation:
    c = case(**changes)
    recs = [
        r for r in recommend(c, core_findings(c)) if r.id == "local_therapy.aggressive_multimodal"
    ]
    assert len(recs) == 1
    return recs[0]


def test_alveolar_localised_at_diagnosis_local_relapse_is_quoted_the_figure() -> None:
    r = multimodal(diagnosis={"histology": "alveolar"})
    assert "53.7%" in r.reason and "21.3%" in r.reason
    assert "alveolar RMS" in r.reason
    assert r.details["figure_population"]["membership"] == "member"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({}, "histology alveolar RMS; this is embryonal RMS"),
        (
            {"diagnosis": {"histology": "alveolar", "distant_metastases": ["lung"]}},
            "not metastatic at diagnosis; this case was metastatic",
        ),
    ],
)
def test_outside_the_population_the_figure_is_not_applicable(
    changes: dict[str, Any], why: str
) -> None:
    r = multimodal(**changes)
    assert "53.7" not in r.reason
    assert "not applicable: population" in r.reason and why in r.reason
    assert r.details["figure_population"]["membership"] == "not_member"


def test_rms_nos_leaves_the_figure_undecided() -> None:
    r = multimodal(diagnosis={"histology": "rms_nos"})
    assert "53.7" not in r.reason
    assert "applies only if" in r.reason
    assert r.details["figure_population"]["needs"] == ["diagnosis.histology"]
