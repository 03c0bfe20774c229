"""Benchmark: score a synthetic cohort with `rhabdo cohort score` machinery; print the figures.

    .venv/bin/python benchmarks/cohort_score.py                 # 100,000 and 1,000,000 rows
    .venv/bin/python benchmarks/cohort_score.py --sizes 20000 --workers 1
    .venv/bin/python benchmarks/cohort_score.py --sizes 5000000 --scenarios default

For each size a synthetic cohort (diagnosis-time columns of ``rhabdo.cohort.synth``; ages in
days, so nearly every row is distinct) is written to CSV, then scored in a fresh process so
that its peak memory (ru_maxrss of the scorer and of its worker processes) belongs to that
size alone.  Flat memory shows as the same peak at 100k and at 1M rows.

Scenarios, each on its own file:

* the default ``cohort score``: core rules, cache keyed on classes of cells;
* the same rows keyed on exact cells (what the classes buy; first size only);
* one trivial rule on exact cells: the pipeline's own cost when every row is validated
  (first size only);
* rows that also carry a date of birth and a diagnosis date (the calendar then decides the
  age, and the dates are classed together);
* rows that repeat a fixed number of distinct patients.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from rhabdo.case.model import Case
from rhabdo.cohort.cells import FindingRule
from rhabdo.cohort.score import TableWriter, score_file
from rhabdo.cohort.synth import SYNTH_COLUMNS, generate_features
from rhabdo.results import Finding, determined


def trivial_rule(case: Case) -> Finding:
    """One cheap rule: isolates the pipeline's own cost."""
    return determined("trivial", 1, reason="benchmark", rule="trivial", citations=[])


@dataclass(frozen=True)
class Scenario:
    """One benchmark scenario; ``label`` may name ``{profiles}``, the --profiles value."""

    label: str
    repeated: bool  # rows repeat --profiles distinct patients
    dated: bool  # rows carry a date of birth and a diagnosis date
    keying: str  # see rules_for
    first_size_only: bool


SCENARIOS = {
    "default": Scenario(
        "all rows distinct; core rules, classed cells (default)", False, False, "classes", False
    ),
    "exact": Scenario("all rows distinct; core rules, exact cells", False, False, "exact", True),
    "trivial": Scenario(
        "all rows distinct; pipeline only (1 trivial rule)", False, False, "trivial", True
    ),
    "dated": Scenario("rows dated (birth, diagnosis); core rules", False, True, "classes", False),
    "repeat": Scenario(
        "rows repeat {profiles:,} distinct patients; core rules", True, False, "classes", False
    ),
}
DATED_COLUMNS = (*SYNTH_COLUMNS, "date_of_birth", "diagnosis_date")


def with_dates(rng: np.random.Generator, features: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add a date of birth and a diagnosis date that agree with the age in days."""
    ages = np.asarray(features["age_at_diagnosis_days"], dtype=np.int64)
    diagnosed = np.datetime64("2000-01-01") + rng.integers(0, 365 * 20, len(ages))
    born = diagnosed - ages
    features["date_of_birth"] = [str(d) for d in born]
    features["diagnosis_date"] = [str(d) for d in diagnosed]
    return features


def write_cohort(
    path: Path, n: int, seed: int, profiles: int | None = None, dated: bool = False
) -> float:
    """Write n synthetic rows; with ``profiles``, rows repeat that many distinct patients."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    columns = DATED_COLUMNS if dated else SYNTH_COLUMNS
    schema = pa.schema([pa.field(c, pa.string()) for c in columns])
    pool = None
    if profiles:
        pool = pa.Table.from_pydict(generate_features(rng, profiles, 0), schema=schema)
    writer = TableWriter(path, schema)
    try:
        for offset in range(0, n, 50_000):
            size = min(50_000, n - offset)
            if pool is None:
                features = generate_features(rng, size, offset)
                if dated:
                    features = with_dates(rng, features)
                batch = pa.RecordBatch.from_pydict(features, schema=schema)
            else:
                rows = pool.take(pa.array(rng.integers(0, len(pool), size)))
                ids = pa.array([f"REP{offset + i + 1:08d}" for i in range(size)])
                batch = rows.set_column(0, SYNTH_COLUMNS[0], ids).combine_chunks().to_batches()[0]
            writer.write(batch)
    finally:
        writer.close()
    return time.perf_counter() - start


def rules_for(keying: str) -> tuple[FindingRule, ...] | None:
    """None: the default (core rules, classed cells); 'exact': core rules on exact cells."""
    from rhabdo.engine import CORE_FINDING_RULES

    return {"classes": None, "exact": tuple(CORE_FINDING_RULES), "trivial": (trivial_rule,)}[keying]


def score_once(path: Path, workers: int, keying: str) -> dict[str, float]:
    """Run in a child process: score, then report time and peak memory."""
    out = path.with_suffix(".scored.parquet")
    start = time.perf_counter()
    summary = score_file(path, out, workers=workers, progress=False, rules=rules_for(keying))
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.unlink()
    return {
        "rows": summary.rows,
        "errors": summary.errors,
        "distinct": summary.distinct_contents,
        "seconds": seconds,
        "rows_per_second": summary.rows / seconds,
        "peak_rss_mb": own,
        "peak_worker_rss_mb": children,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profiles",
        type=int,
        default=20_000,
        help="distinct patients in the repeated-profiles scenario",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=list(SCENARIOS),
        default=list(SCENARIOS),
        help="which scenarios to run (default: all)",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("FILE", "WORKERS", "KEYING"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        result = score_once(Path(args.child[0]), int(args.child[1]), args.child[2])
        print(json.dumps(result))
        return
    print(
        f"cohort_score benchmark: workers={args.workers}, machine cores={_cores()}, "
        f"load average at start {_load()} (other work on the machine slows every figure)"
    )
    chosen = [s for name, s in SCENARIOS.items() if name in args.scenarios]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for scenario in chosen:
                if scenario.first_size_only and n != args.sizes[0]:
                    continue
                profiles = args.profiles if scenario.repeated else None
                label = scenario.label.format(profiles=args.profiles)
                path = Path(tmp) / f"cohort_{n}_{profiles}_{scenario.dated}.csv"
                if not path.exists():
                    write_cohort(path, n, args.seed, profiles, scenario.dated)
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(path),
                        str(args.workers),
                        scenario.keying,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"{n:>9,} rows | {label}: {r['rows_per_second']:,.0f} rows/s "
                    f"({r['seconds']:.1f} s; {r['distinct']:,} distinct contents; "
                    f"{r['errors']} errors)"
                    f" | peak RSS {r['peak_rss_mb']:.0f} MB main + {r['peak_worker_rss_mb']:.0f} MB"
                    f" largest worker | load {_load()}",
                    flush=True,
                )


def _load() -> str:
    import os

    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
