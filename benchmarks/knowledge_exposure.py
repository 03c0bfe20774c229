"""Time to check the whole knowledge base (cold, uncached: what `rhabdo kb check` does), and to
compute the exposure findings plus the systemic and molecular recommendations for one case
(warm).  Prints its figures; run with `.venv/bin/python benchmarks/knowledge_exposure.py`."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def time_kb_check(repeats: int = 10) -> list[float]:
    from rhabdo.knowledge.catalog import check_knowledge

    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = check_knowledge()
        out.append((time.perf_counter() - t0) * 1000)
        assert report.ok
    return sorted(out)


def time_per_case(repeats: int = 200) -> tuple[list[float], list[float]]:
    from rhabdo.case.io import load_case
    from rhabdo.exposure import exposure_findings
    from rhabdo.recommend.molecular import molecular_recommendations
    from rhabdo.recommend.systemic import systemic_recommendations

    cases = [load_case(p) for p in EXAMPLES]
    for c in cases:  # warm the knowledge caches
        systemic_recommendations(c, {f.id: f for f in exposure_findings(c)})
    exposure_ms: list[float] = []
    recommend_ms: list[float] = []
    for _ in range(repeats):
        for c in cases:
            t0 = time.perf_counter()
            findings = {f.id: f for f in exposure_findings(c)}
            t1 = time.perf_counter()
            systemic_recommendations(c, findings)
            molecular_recommendations(c, findings)
            t2 = time.perf_counter()
            exposure_ms.append((t1 - t0) * 1000)
            recommend_ms.append((t2 - t1) * 1000)
    return sorted(exposure_ms), sorted(recommend_ms)


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    kb = time_kb_check()
    print(
        f"kb check (all tables + sources, uncached): median {statistics.median(kb):.1f} ms, "
        f"max {max(kb):.1f} ms over {len(kb)} runs"
    )
    exp, rec = time_per_case()
    print(
        f"exposure findings per case: median {statistics.median(exp):.3f} ms, "
        f"p95 {_p(exp, 0.95):.3f} ms over {len(exp)} calls"
    )
    print(
        f"systemic + molecular recommendations per case: median {statistics.median(rec):.3f} ms, "
        f"p95 {_p(rec, 0.95):.3f} ms over {len(rec)} calls"
    )


if __name__ == "__main__":
    main()
