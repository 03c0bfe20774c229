"""Properties that hold for every input: unknown is never met, thresholds are exact.

Hypothesis draws synthetic laboratory values and thresholds; the seed is fixed by
``derandomize=True`` so the run is deterministic.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rhabdo.trials.matcher import match_trial, passes_threshold
from rhabdo.trials.model import CriterionOutcome, Threshold, Trial, Verdict

from .trials_helpers import DELETE, make_case

FIELDS = {
    "min_absolute_neutrophil_count_per_ul": ("absolute_neutrophil_count_per_ul", True, 0, 100000),
    "min_platelets_per_ul": ("platelets_per_ul", True, 0, 3000000),
    "max_bilirubin_x_uln": ("bilirubin_x_uln", False, 0, 100),
    "max_alt_x_uln": ("alt_x_uln", False, 0, 200),
    "min_creatinine_clearance_ml_min_1_73m2": ("creatinine_clearance_ml_min_1_73m2", True, 0, 300),
    "min_lvef_percent": ("lvef_percent", True, 0, 100),
    "min_shortening_fraction_percent": ("shortening_fraction_percent", True, 0, 100),
}


@st.composite
def organ_case(draw: st.DrawFn) -> tuple[str, float, float, bool, bool]:
    limit = draw(st.sampled_from(sorted(FIELDS)))
    _, _, lo, hi = FIELDS[limit]
    value = draw(st.integers(lo, hi).map(float))
    bound = draw(st.integers(lo, hi).map(float))
    inclusive = draw(st.booleans())
    recorded = draw(st.booleans())
    return limit, value, bound, inclusive, recorded


@settings(derandomize=True, max_examples=200, deadline=None)
@given(organ_case())
def test_organ_threshold_outcome_matches_arithmetic(
    params: tuple[str, float, float, bool, bool],
) -> None:
    limit, value, bound, inclusive, recorded = params
    field, is_min, _, _ = FIELDS[limit]
    case = make_case(**{f"current__organ_function__{field}": value if recorded else DELETE})
    trial = Trial.model_validate(
        {
            "registry_id": "NCT99999991",
            "title": "Synthetic",
            "status": "RECRUITING",
            "criteria": {"organ_function": {limit: {"value": bound, "inclusive": inclusive}}},
        }
    )
    m = match_trial(case, trial)
    (result,) = m.criteria
    if not recorded:
        assert result.outcome is CriterionOutcome.NOT_ENOUGH_INFORMATION
        assert m.verdict is Verdict.POSSIBLE_PENDING
        return
    if is_min:
        expected = value > bound or (inclusive and value == bound)
    else:
        expected = value < bound or (inclusive and value == bound)
    assert (
        passes_threshold(value, Threshold(value=bound, inclusive=inclusive), is_minimum=is_min)
        is expected
    )
    assert result.outcome is (CriterionOutcome.MET if expected else CriterionOutcome.NOT_MET)


CRITERIA_READING = {
    # criterion -> (criterion value, the case field it reads, as a make_case path)
    "measurable_disease_required": (True, "current__measurable_disease"),
    "min_performance_score": (50, "current__performance"),
    "histologies": (["alveolar"], "diagnosis__histology"),
    "fusion_statuses": (["pax3_foxo1"], "diagnosis__foxo1_fusion"),
    "sexes": (["female"], "patient__sex"),
    "excluded_prior_agents": (["irinotecan"], "first_line"),
}


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(sorted(CRITERIA_READING)), min_size=1))
def test_a_missing_field_is_never_met_and_never_excludes(removed: set[str]) -> None:
    criteria = {k: v for k, (v, _) in CRITERIA_READING.items()}
    case = make_case(**{CRITERIA_READING[k][1]: DELETE for k in removed})
    m = match_trial(
        case,
        Trial.model_validate(
            {
                "registry_id": "NCT99999992",
                "title": "Synthetic",
                "status": "RECRUITING",
                "criteria": criteria,
            }
        ),
    )
    by_key = {r.criterion: r.outcome for r in m.criteria}
    for key in removed:
        assert by_key[key] is CriterionOutcome.NOT_ENOUGH_INFORMATION
    assert m.verdict is Verdict.POSSIBLE_PENDING  # the base case meets every other criterion
    assert m.pending_count == len(removed)
