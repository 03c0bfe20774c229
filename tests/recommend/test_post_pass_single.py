"""The post-passes run in one go over each recommendation (``recommend``): the same answer as
running doses, the histology hold and the caution wording one after another, each
recommendation copied at most once, and one the passes leave alone not copied at all.

Cases are the generated ones of ``test_engine`` (fixed seed), which reach held and unheld
recurrences, organ-function gates and caution options.
"""

from __future__ import annotations

from test_engine import CASES

from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.recommend import category_rules, order_recommendations, recommend
from rhabdo.recommend._build import Changes, finished
from rhabdo.recommend.dosing import attach_doses
from rhabdo.recommend.histology import apply_histology_hold, histology_hold
from rhabdo.recommend.wording import CAUTION, add_caution, lead_with_caution
from rhabdo.results import Recommendation, Strength


def _passes_one_after_another(c: Case) -> list[Recommendation]:
    raw = [rec for _, rule in category_rules() for rec in rule(c, {})]
    held = apply_histology_hold(c, attach_doses(c, raw))
    return order_recommendations(lead_with_caution(held))


def test_one_pass_equals_the_passes_in_sequence() -> None:
    held = caution = 0
    for c in CASES:
        with assessment_scope():
            together = recommend(c, {})
        with assessment_scope():
            in_sequence = _passes_one_after_another(c)
        assert together == in_sequence
        held += histology_hold(c).held
        caution += any(r.strength is Strength.CAUTION for r in together)
    assert held and caution  # both passes that rewrite statements were exercised


def test_unchanged_recommendation_is_not_copied() -> None:
    rec = recommend(CASES[0], {})[0]
    changes: Changes = {}
    add_caution(rec, changes)
    assert finished(rec, changes) is rec


def test_caution_wording_reads_the_strength_an_earlier_pass_set() -> None:
    rec = next(r for r in recommend(CASES[0], {}) if r.strength is Strength.CONSIDER)
    changes: Changes = {"strength": Strength.CAUTION}
    add_caution(rec, changes)
    out = finished(rec, changes)
    assert out.strength is Strength.CAUTION and out.statement.startswith(CAUTION)
    assert rec.strength is Strength.CONSIDER and not rec.statement.startswith(CAUTION)
