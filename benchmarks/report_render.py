"""Report generation time per case (targets: HTML under 150 ms, PDF under 2 s).
Figures exclude the one-off library import and font loading, reported separately."""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def main(repeats: int = 5) -> None:
    from rhabdo.case.io import load_case
    from rhabdo.engine import assess
    from rhabdo.report import render_html, render_pdf

    pairs = [(c, assess(c, assessed_on=date(2026, 11, 22))) for c in map(load_case, EXAMPLES)]
    t0 = time.perf_counter()
    render_html(*pairs[0])
    render_pdf(*pairs[0])
    print(f"first report in a fresh process (imports, fonts): {time.perf_counter() - t0:.2f} s")
    html_ms, pdf_s = [], []
    for _ in range(repeats):
        for case, a in pairs:
            t = time.perf_counter()
            render_html(case, a)
            html_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            render_pdf(case, a)
            pdf_s.append(time.perf_counter() - t)
    print(
        f"HTML report: median {statistics.median(html_ms):.1f} ms, max {max(html_ms):.1f} ms "
        f"over {len(html_ms)} renders [target: < 150 ms]"
    )
    print(
        f"PDF report: median {statistics.median(pdf_s):.2f} s, max {max(pdf_s):.2f} s "
        f"over {len(pdf_s)} renders [target: < 2 s]"
    )


if __name__ == "__main__":
    main()
