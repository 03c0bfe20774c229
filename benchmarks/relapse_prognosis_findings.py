"""Time per finding for relapse timing/type/refractory, the Oberlin score and the relapse
models, over the bundled examples (each is a share of the 2 ms budget for one assessment).
Prints its figures; run with `.venv/bin/python benchmarks/relapse_prognosis_findings.py`."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def main(repeats: int = 300) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.classify.relapse import relapse_refractory, relapse_timing, relapse_type
    from rhabdo.prognosis.oberlin import oberlin_score
    from rhabdo.prognosis.relapse_models import relapse_prognosis

    rules = [relapse_timing, relapse_type, relapse_refractory, oberlin_score, relapse_prognosis]
    cases = [load_case(p) for p in EXAMPLES]
    for case in cases:  # warm the knowledge cache (read once per process)
        for rule in rules:
            rule(case)
    print(f"{len(cases)} example cases x {repeats} repeats")
    total: list[float] = []
    for rule in rules:
        times: list[float] = []
        for _ in range(repeats):
            for case in cases:
                t0 = time.perf_counter()
                rule(case)
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        total.append(statistics.median(times))
        print(
            f"{rule.__name__:20s} median {statistics.median(times):.3f} ms"
            f"  p95 {times[int(len(times) * 0.95)]:.3f} ms"
        )
    print(f"{'sum of medians':20s} {sum(total):.3f} ms")


if __name__ == "__main__":
    main()
