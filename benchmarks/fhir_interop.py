"""FHIR import, export and validation time per bundle.

For each example case: export (case + assessment -> bundle), validation of that bundle against
the official mCODE 4.0.0 / R4 StructureDefinitions (``rhabdo.interop.conformance``, definitions
vendored under tests/data/public/fhir-packages) and import of it; then import of each synthetic
relapse bundle.  Prints its figures; run with `.venv/bin/python benchmarks/fhir_interop.py
[repeats]`."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = sorted((ROOT / "tests" / "data" / "fhir").glob("synthetic-*.json"))
PACKAGES = ROOT / "tests" / "data" / "public" / "fhir-packages"
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


def _median(times: list[float]) -> float:
    return statistics.median(times)


def main(repeats: int = 5) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess
    from rhabdo.interop.conformance import (
        Definitions,
        ProfileChecker,
        errors,
        rhabdo_definitions_folder,
    )
    from rhabdo.interop.fhir_export import assessment_to_bundle
    from rhabdo.interop.fhir_import import case_from_bundle

    t0 = time.perf_counter()
    checker = ProfileChecker(
        Definitions(
            [
                PACKAGES / "hl7.fhir.r4.examples-4.0.1",
                PACKAGES / "hl7.fhir.us.mcode-4.0.0",
                rhabdo_definitions_folder(),
            ]
        )
    )
    print(f"definitions loaded in {(time.perf_counter() - t0) * 1000:.0f} ms")
    print(f"median of {repeats} runs, ms per bundle")
    header = ("resources", "export", "validate", "import", "errors")
    print(f"{'example':<40} " + " ".join(f"{h:>9}" for h in header))
    for path in EXAMPLES:
        case = load_case(path)
        assessment = assess(case)
        bundle = assessment_to_bundle(case, assessment)
        export = _timed(lambda c=case, a=assessment: assessment_to_bundle(c, a), repeats)
        validate = _timed(lambda b=bundle: checker.check_bundle(b), repeats)
        imported = _timed(lambda b=bundle: case_from_bundle(b), repeats)
        found = len(errors(checker.check_bundle(bundle)))
        print(
            f"{path.stem:<40} {len(bundle['entry']):>9} {_median(export):>9.1f} "
            f"{_median(validate):>9.1f} {_median(imported):>9.1f} {found:>9}"
        )
    print("import of the synthetic relapse bundles:")
    for path in BUNDLES:
        data = json.loads(path.read_text(encoding="utf-8"))
        times = _timed(lambda data=data: case_from_bundle(data), repeats)
        print("  " + _line(f"{path.stem} ({len(data['entry'])} resources)", times))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
