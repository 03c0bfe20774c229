"""FHIR import and export speed: import of each synthetic relapse bundle, case -> bundle,
and case + assessment -> bundle (each validated with fhir.resources).  Prints its figures;
run with `.venv/bin/python benchmarks/fhir_interop.py`."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = sorted((ROOT / "tests" / "data" / "fhir").glob("synthetic-*.json"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    fn()  # warm-up (model classes, knowledge files)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _line(label: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    median = statistics.median(times)
    return f"{label:<58} median {median:7.2f} ms   p95 {p95:7.2f} ms   (n={len(times)})"


def main(repeats: int = 30) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess
    from rhabdo.interop.fhir_export import assessment_to_bundle, case_to_bundle
    from rhabdo.interop.fhir_import import case_from_bundle

    print("FHIR import (fhir.resources validation + mapping):")
    for path in BUNDLES:
        data = json.loads(path.read_text(encoding="utf-8"))
        times = _timed(lambda data=data: case_from_bundle(data), repeats)
        print("  " + _line(f"{path.stem} ({len(data['entry'])} resources)", times))

    print("FHIR export (build + fhir.resources validation):")
    cases = [load_case(p) for p in EXAMPLES]
    case_times: list[float] = []
    full_times: list[float] = []
    for case in cases:
        assessment = assess(case)
        case_times += _timed(lambda case=case: case_to_bundle(case), repeats)
        full_times += _timed(lambda case=case, a=assessment: assessment_to_bundle(case, a), repeats)
    print("  " + _line(f"case_to_bundle over {len(cases)} example cases", case_times))
    print("  " + _line(f"assessment_to_bundle over {len(cases)} example cases", full_times))


if __name__ == "__main__":
    main()
