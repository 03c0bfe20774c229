"""Benchmark: match one case against 10,000 synthetic trials (target: under 100 ms).

The trials are synthetic (random criteria from a fixed seed); the case is the bundled
example ``examples/relapse-after-metastatic-alveolar.yaml``.  Prints the figures; run with
``.venv/bin/python benchmarks/trials_match.py``.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from pathlib import Path

from rhabdo.case.io import load_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import BodyRegion, ChemotherapyAgent, FusionStatus, Histology
from rhabdo.trials import match_trials
from rhabdo.trials.model import (
    AgeRange,
    DiseaseSetting,
    EligibilityCriteria,
    OrganFunctionLimits,
    Threshold,
    Trial,
    TrialMatch,
    TrialPhase,
    TrialStatus,
)

N_TRIALS = 10_000
REPEATS = 7
SEED = 20261122
CASE = (
    Path(__file__).resolve().parent.parent / "examples" / "relapse-after-metastatic-alveolar.yaml"
)


def synthetic_trial(rng: random.Random, i: int) -> Trial:
    """One synthetic trial with a random subset of every criterion type."""

    def maybe(p: float) -> bool:
        return rng.random() < p

    lo = rng.choice([None, 0, 1, 3, 12, 18])
    hi = rng.choice([None, 21, 25, 30, 39])
    age = (
        AgeRange(min_years=lo, max_years=hi, max_inclusive=maybe(0.5))
        if lo is not None or hi is not None
        else None
    )
    criteria = EligibilityCriteria(
        age=age,
        histologies=rng.sample([h for h in Histology if h is not Histology.PLEOMORPHIC], 3)
        if maybe(0.3)
        else None,
        excluded_histologies=[Histology.PLEOMORPHIC] if maybe(0.3) else None,
        fusion_statuses=[FusionStatus.PAX3_FOXO1, FusionStatus.PAX7_FOXO1] if maybe(0.2) else None,
        disease_settings=rng.sample(list(DiseaseSetting), 3) if maybe(0.7) else None,
        measurable_disease_required=True if maybe(0.5) else None,
        min_prior_regimens=rng.choice([1, 2]) if maybe(0.3) else None,
        excluded_prior_agents=rng.sample(list(ChemotherapyAgent), 2) if maybe(0.3) else None,
        prior_car_t_excluded=True if maybe(0.2) else None,
        excluded_prior_radiotherapy_regions=[rng.choice(list(BodyRegion))] if maybe(0.1) else None,
        min_performance_score=rng.choice([50, 60, 70]) if maybe(0.6) else None,
        organ_function=OrganFunctionLimits(
            min_creatinine_clearance_ml_min_1_73m2=Threshold(value=60),
            min_lvef_percent=Threshold(value=rng.choice([40, 50, 55])),
        )
        if maybe(0.5)
        else None,
        min_days_since_last_therapy=rng.choice([14, 21, 28]) if maybe(0.3) else None,
        free_text=["synthetic free-text criterion"] if maybe(0.5) else [],
    )
    return Trial(
        registry_id=f"NCT9{i:07d}",
        title=f"Synthetic trial {i}",
        phases=[rng.choice(list(TrialPhase))],
        status=rng.choice(list(TrialStatus)),
        criteria=criteria,
    )


def _time_runs(
    case: Case, trials: list[Trial]
) -> tuple[list[float], list[float], list[TrialMatch]]:
    """Wall-clock and CPU milliseconds per run (CPU time is less disturbed by a busy machine)."""
    wall, cpu = [], []
    matches: list[TrialMatch] = []
    for _ in range(REPEATS):
        matches = []  # free the previous run's results outside the timed region
        w0, c0 = time.perf_counter(), time.process_time()
        matches = match_trials(case, trials)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return wall, cpu, matches


def _summary(label: str, wall: list[float], cpu: list[float]) -> str:
    return (
        f"{label}: wall median {statistics.median(wall):.1f} ms (min {min(wall):.1f}, "
        f"max {max(wall):.1f}); CPU median {statistics.median(cpu):.1f} ms "
        f"(min {min(cpu):.1f}) over {REPEATS} runs; target < 100 ms"
    )


def _calibration_ms() -> float:
    """A fixed pure-Python loop, to compare this machine's speed between runs."""
    start = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return (time.perf_counter() - start) * 1000


def main() -> None:
    rng = random.Random(SEED)
    trials = [synthetic_trial(rng, i) for i in range(N_TRIALS)]
    case = load_case(CASE)
    match_trials(case, trials[:100])  # warm-up (imports, caches)
    print(f"trials matched: {N_TRIALS} (synthetic, seed {SEED}); case: {CASE.name}")
    wall, cpu, matches = _time_runs(case, trials)
    print(_summary("default garbage collector", wall, cpu))
    # A long-running service loads its trial set once; gc.freeze() then keeps the collector
    # from re-scanning those objects on every match (Python docs, gc.freeze).
    gc.freeze()
    wall, cpu, _ = _time_runs(case, trials)
    gc.unfreeze()
    print(_summary("after gc.freeze() of the loaded trial set", wall, cpu))
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; "
        f"calibration loop (1M additions) {_calibration_ms():.1f} ms"
    )
    verdicts: dict[str, int] = {}
    for m in matches:
        verdicts[m.verdict.value] = verdicts.get(m.verdict.value, 0) + 1
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))


if __name__ == "__main__":
    main()
