"""Time per finding for stage, clinical group and the COG/EpSSG risk groups, over the bundled
examples and over a case with every classification input unknown (the worst case for the
exploration of unknowns).  Each is a share of the 2 ms budget for one assessment.
Prints its figures; run with `.venv/bin/python benchmarks/classification_findings.py`."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def main(repeats: int = 200) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.case.model import Case
    from rhabdo.classify.group import clinical_group
    from rhabdo.classify.risk_cog import cog_histology_risk, cog_risk
    from rhabdo.classify.risk_epssg import epssg_risk
    from rhabdo.classify.stage import pretreatment_stage

    rules = [pretreatment_stage, clinical_group, cog_risk, cog_histology_risk, epssg_risk]
    cases = [load_case(p) for p in EXAMPLES]
    empty = Case.model_validate({"patient": {"id": "bench-empty"}})
    for case in [*cases, empty]:  # warm the knowledge cache (read once per process)
        for rule in rules:
            rule(case)
    print(f"{len(cases)} example cases x {repeats} repeats; worst case = every input unknown")
    total: list[float] = []
    for rule in rules:
        times: list[float] = []
        for _ in range(repeats):
            for case in cases:
                t0 = time.perf_counter()
                rule(case)
                times.append((time.perf_counter() - t0) * 1000)
        worst: list[float] = []
        for _ in range(max(repeats // 10, 5)):
            t0 = time.perf_counter()
            rule(empty)
            worst.append((time.perf_counter() - t0) * 1000)
        times.sort()
        total.append(statistics.median(times))
        print(
            f"{rule.__name__:20s} median {statistics.median(times):.3f} ms"
            f"  p95 {times[int(len(times) * 0.95)]:.3f} ms"
            f"  all-unknown median {statistics.median(worst):.3f} ms"
        )
    print(f"{'sum of medians':20s} {sum(total):.3f} ms")


if __name__ == "__main__":
    main()
