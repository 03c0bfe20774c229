"""Recommendations: rules over the findings and the knowledge base.

``recommend(case, findings)`` runs every category in the order of ``RecommendationCategory``
(risk review, work-up, biopsy, local therapy, systemic therapy, molecular testing, clinical
trials, palliative care) and returns the recommendations ordered by category, then by strength
(recommended, consider, caution, avoid), keeping each rule's own order within a strength.

While the recurrence is not histologically confirmed, every local and systemic option is made
conditional on the biopsy (``rhabdo.recommend.histology``): never *recommended*.  Every *caution*
option's statement leads with the caution (``rhabdo.recommend.wording``).

Each category is a function ``f(case, findings) -> list[Recommendation]``.  Its module is
imported when ``recommend`` first runs (``CATEGORY_RULES``), so importing this package does no
work and cannot create an import cycle with the rule modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType

from rhabdo.case.model import Case
from rhabdo.results import Finding, Recommendation, RecommendationCategory, Strength

__all__ = ["CategoryRule", "category_rules", "order_recommendations", "recommend"]

CategoryRule = Callable[[Case, Mapping[str, Finding]], list[Recommendation]]

#: Where each category's rule lives: (module, function).
CATEGORY_RULES: dict[RecommendationCategory, tuple[str, str]] = {
    RecommendationCategory.RISK_REVIEW: (
        "rhabdo.recommend.risk_review",
        "risk_review_recommendations",
    ),
    RecommendationCategory.WORK_UP: ("rhabdo.recommend.work_up", "workup_recommendations"),
    RecommendationCategory.BIOPSY: ("rhabdo.recommend.biopsy", "biopsy_recommendations"),
    RecommendationCategory.LOCAL_THERAPY: (
        "rhabdo.recommend.local_therapy",
        "local_therapy_recommendations",
    ),
    RecommendationCategory.SYSTEMIC_THERAPY: (
        "rhabdo.recommend.systemic",
        "systemic_recommendations",
    ),
    RecommendationCategory.MOLECULAR_TESTING: (
        "rhabdo.recommend.molecular",
        "molecular_recommendations",
    ),
    RecommendationCategory.CLINICAL_TRIALS: ("rhabdo.recommend.trials", "trial_recommendations"),
    RecommendationCategory.PALLIATIVE_CARE: (
        "rhabdo.recommend.palliative",
        "palliative_recommendations",
    ),
}

_STRENGTH_ORDER = {s: i for i, s in enumerate(Strength)}
_CATEGORY_ORDER = {c: i for i, c in enumerate(RecommendationCategory)}


def category_rules() -> list[tuple[RecommendationCategory, CategoryRule]]:
    """Every category's rule, in category order (modules imported on first use).

    A category whose module is missing is an error, never a silently empty category.
    """
    return [(category, getattr(module, attr)) for category, module, attr in _rule_modules()]


@cache
def _rule_modules() -> tuple[tuple[RecommendationCategory, ModuleType, str], ...]:
    """Each category's module, imported once per process (code, not case data); the rule itself
    is read from its module at each call."""
    return tuple(
        (
            category,
            importlib.import_module(CATEGORY_RULES[category][0]),
            CATEGORY_RULES[category][1],
        )
        for category in RecommendationCategory
    )


def order_recommendations(recommendations: list[Recommendation]) -> list[Recommendation]:
    """By category, then strength; stable, so each rule's own order is kept within a strength."""
    return sorted(
        recommendations,
        key=lambda r: (_CATEGORY_ORDER[r.category], _STRENGTH_ORDER[r.strength]),
    )


def recommend(case: Case, findings: Mapping[str, Finding]) -> list[Recommendation]:
    """Every recommendation for ``case``, each with its reason, citations and evidence gaps.

    The post-passes run in one go over each recommendation, in this order: doses (which may
    make an option *caution*), the histology hold, the caution wording; a recommendation they
    change is copied once."""
    # imported here, like the category rules, so importing this package does no work
    from rhabdo.exposure.dosing import dosing_inputs
    from rhabdo.recommend._build import Changes, finished
    from rhabdo.recommend.dosing import add_doses
    from rhabdo.recommend.histology import add_condition, condition_of, histology_hold
    from rhabdo.recommend.wording import add_caution

    dosing = dosing_inputs(case)  # read once per case, not once per regimen
    hold = histology_hold(case)
    condition = condition_of(hold) if hold.held else None
    out: list[Recommendation] = []
    for category, rule in category_rules():
        dosed = category is RecommendationCategory.SYSTEMIC_THERAPY  # only regimens have doses
        for rec in rule(case, findings):
            if rec.category is not category:
                raise ValueError(
                    f"{rec.id}: produced by the {category.value} rule with category "
                    f"{rec.category.value}"
                )
            changes: Changes = {}
            if dosed:
                add_doses(rec, case, dosing, changes)
            if condition is not None:
                add_condition(rec, condition, changes)
            add_caution(rec, changes)
            out.append(finished(rec, changes))
    return order_recommendations(out)
