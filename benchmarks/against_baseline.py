"""The full-assessment median of this tree against the code before issue 14, on this machine.

Issue 14's speed budget is relative: the full assessment must stay within 10% of the median
measured before its dose-safety work (1.25 ms on the 2-core reference machine when the issue
was filed, at commit 879f548).  A machine's speed drifts from day to day, so a fixed figure in
milliseconds compares two different days; this benchmark times both trees now, in alternating
runs, each over its own example cases, and prints both medians and their ratio.

Noise from other work on the machine only ever adds time, and on a shared host it comes in
bursts longer than one run, so the verdict compares each tree's least disturbed run (its
lowest run median, as ``timeit`` advises); the ratio of the medians of the run medians is
printed beside it, and the two differ when the machine was busy.

Needs the repository's git history (the baseline tree is taken with ``git archive``); without
it, it says so and stops.  Run with `make bench` or
`.venv/bin/python benchmarks/against_baseline.py [rounds]`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "879f548"  # the tree issue 14 was filed against
BASELINE_WHEN_FILED_MS = 1.25
ALLOWED_RATIO = 1.10  # "within 10% of today's median"
REPEATS = 150  # assessments of each example case per run

# Timed in a fresh interpreter whose first path entry is the tree's own src folder.
_TIMER = """
import statistics, sys, time
from pathlib import Path
root = Path(sys.argv[1])
sys.path.insert(0, str(root / "src"))
from rhabdo.case.io import load_case
from rhabdo.engine import assess
cases = [load_case(p) for p in sorted((root / "examples").glob("*.yaml"))]
for case in cases:
    assess(case)
per_case = []
for _ in range(int(sys.argv[2])):
    for case in cases:
        t0 = time.perf_counter()
        assess(case)
        per_case.append((time.perf_counter() - t0) * 1000)
print(statistics.median(per_case))
"""


def baseline_tree(into: Path) -> Path | None:
    """The baseline commit's files under ``into``, or None without the git history."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE_COMMIT, "src", "examples"],
        capture_output=True,
    )
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(done.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def median_ms(tree: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, str(tree), str(REPEATS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return float(out.stdout.strip())


def main(rounds: int = 9) -> int:
    with tempfile.TemporaryDirectory(prefix="rhabdo-baseline-") as tmp:
        baseline = baseline_tree(Path(tmp))
        if baseline is None:
            print(
                f"against baseline: skipped, commit {BASELINE_COMMIT} is not in this "
                "repository's history (a shallow clone or a source archive)"
            )
            return 0
        runs: dict[str, list[float]] = {"baseline": [], "this tree": []}
        for _ in range(rounds):  # alternate, so a slower minute hits both
            runs["baseline"].append(median_ms(baseline))
            runs["this tree"].append(median_ms(ROOT))
    for label, values in runs.items():
        shown = ", ".join(f"{v:.3f}" for v in values)
        print(
            f"{label}: lowest run median {min(values):.3f} ms, median of {rounds} run medians "
            f"{statistics.median(values):.3f} ms ({shown})"
        )
    best = min(runs["this tree"]) / min(runs["baseline"])
    typical = statistics.median(runs["this tree"]) / statistics.median(runs["baseline"])
    verdict = "within" if best <= ALLOWED_RATIO else "OVER"
    print(
        f"full assessment, this tree / {BASELINE_COMMIT}: {best:.3f} between the least "
        f"disturbed runs [budget: <= {ALLOWED_RATIO:.2f}; {verdict}]; {typical:.3f} between the "
        f"medians (the baseline measured {BASELINE_WHEN_FILED_MS} ms when issue 14 was filed, "
        f"{min(runs['baseline']):.3f} ms at best here now)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9))
