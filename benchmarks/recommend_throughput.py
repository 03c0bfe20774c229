"""Throughput of the recommendation engine (rhabdo.recommend.recommend) on synthetic cases.

Plain script: builds a deterministic set of synthetic relapse cases (fixed seed) covering the
case features the rules read, then times ``recommend(case, {})`` over all of them and prints
cases per second and mean/95th-percentile milliseconds per case.  The bundled trial matcher is
replaced by an empty one for the main figure (matching has its own benchmark) and timed
separately with the real hook.

    .venv/bin/python benchmarks/recommend_throughput.py [N]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from typing import Any

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.recommend import recommend, trials

SEED = 7
BODY = ["head_neck", "thorax", "abdomen", "pelvis", "lower_limb", "upper_limb"]
SITES = ["parameningeal", "orbit", "bladder", "extremity", "trunk", "paratesticular"]


def synthetic_case(rng: random.Random, i: int) -> Case:
    n_sites = rng.randint(1, 3)
    sites: list[dict[str, Any]] = []
    for _ in range(n_sites):
        extent = rng.choice(["local", "regional", "distant"])
        site: dict[str, Any] = {"extent": extent, "body_region": rng.choice(BODY)}
        if extent == "distant":
            site["metastatic_site"] = rng.choice(["lung", "bone", "bone_marrow", "liver"])
        if rng.random() < 0.6:
            site["in_irradiated_field"] = rng.random() < 0.4
        sites.append(site)
    doc = {
        "patient": {"id": f"BENCH-{i}", "age_at_diagnosis_days": rng.randint(100, 7000)},
        "diagnosis": {
            "date": "2020-01-01",
            "primary_site": rng.choice(SITES),
            "histology": rng.choice(["embryonal", "alveolar"]),
            "foxo1_fusion": rng.choice(["negative", "pax3_foxo1", "not_tested"]),
            "distant_metastases": rng.choice([[], [], ["lung"]]),
        },
        "first_line": {
            "start_date": "2020-01-10",
            "end_date": "2020-10-01",
            "chemotherapy": [
                {"agent": a}
                for a in rng.sample(
                    [
                        "vincristine",
                        "cyclophosphamide",
                        "ifosfamide",
                        "etoposide",
                        "doxorubicin",
                        "dactinomycin",
                    ],
                    3,
                )
            ],
            "radiotherapy": [
                {"body_region": rng.choice(BODY), "total_dose_gy": rng.choice([36, 41.4, 50.4])}
            ],
        },
        "events": [
            {
                "kind": rng.choice(["relapse", "progression"]),
                "date": f"202{rng.randint(1, 5)}-0{rng.randint(1, 9)}-15",
                "sites": sites,
                "atypical_imaging": rng.random() < 0.2,
                "suspected_second_malignancy": rng.random() < 0.1,
            }
        ],
    }
    return parse_case(doc)


def time_cases(cases: list[Case]) -> list[float]:
    out = []
    for c in cases:
        t0 = time.perf_counter()
        recommend(c, {})
        out.append(time.perf_counter() - t0)
    return out


def report(label: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(
        f"{label}: {len(ms)} cases, {len(ms) / sum(times):,.0f} cases/s, "
        f"mean {statistics.fmean(ms):.3f} ms, p95 {p95:.3f} ms"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(SEED)
    cases = [synthetic_case(rng, i) for i in range(n)]
    recommend(cases[0], {})  # warm the knowledge caches
    real = trials.default_matcher
    trials.default_matcher = lambda: lambda case: []  # type: ignore[assignment,return-value]
    try:
        report("recommend, no trial matching", time_cases(cases))
    finally:
        trials.default_matcher = real
    report("recommend, with the bundled trial matcher", time_cases(cases[: max(1, n // 10)]))


if __name__ == "__main__":
    main()
