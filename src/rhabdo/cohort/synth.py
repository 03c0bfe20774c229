"""Synthetic cohorts for demos, tests and benchmarks -- never real patients.

Every distribution is listed in ``DISTRIBUTIONS`` with its basis: a published frequency (with
its citation key) or, where none is published in our sources, the word *assumption*.  Event
times are drawn from published outcome figures: each row is scored with the same rules as
``cohort score``; when a finding value has a published survival proportion S at t years
(``published.py``), the row's time to event is exponential with that S at t, so a
Kaplan-Meier estimate by that finding recovers the published figure within sampling error.
Follow-up is censored uniformly (an assumption) so that the figure's time point is observed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from rhabdo.cohort.cells import FindingRule
from rhabdo.cohort.columns import ID_COLUMN
from rhabdo.cohort.published import PublishedFigure, published_figures
from rhabdo.cohort.score import TableWriter
from rhabdo.cohort.scorer import CohortScorer

CHUNK_ROWS = 50_000

#: Follow-up is uniform between these bounds (years); an assumption.
FOLLOW_UP_YEARS = (4.0, 10.0)
#: Rows whose findings have no published figure: exponential with this EFS; an assumption.
FALLBACK_EFS = (5.0, 0.70)


@dataclass(frozen=True)
class Distribution:
    column: str
    values: tuple[str, ...]
    weights: tuple[float, ...]
    basis: str
    citations: tuple[str, ...] = ()


DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution(
        "irs_group",
        ("I", "II", "III", "IV"),
        (13, 20, 48, 18),
        "PDQ approximate frequencies of IRS clinical groups (I 13%, II 20%, III 48%, IV 18%); "
        "renormalised to 100%.",
        ("pdq_rms_hp_2025",),
    ),
    Distribution("sex", ("male", "female"), (0.6, 0.4), "assumption"),
    Distribution(
        "primary_site",
        (
            "orbit",
            "head_neck_non_parameningeal",
            "parameningeal",
            "bladder",
            "prostate",
            "paratesticular",
            "vulva_vagina_uterus",
            "extremity",
            "trunk",
            "retroperitoneum",
            "thorax",
            "other",
        ),
        (0.08, 0.08, 0.22, 0.06, 0.04, 0.07, 0.03, 0.18, 0.08, 0.08, 0.04, 0.04),
        "assumption (a plausible spread over the vocabulary; not a published series)",
    ),
    Distribution(
        "histology",
        ("embryonal", "alveolar", "embryonal_botryoid", "spindle_cell_sclerosing"),
        (0.60, 0.30, 0.05, 0.05),
        "assumption, in the range INSTRuCT reports (embryonal 45.4-62.2% across groups)",
        ("bisogno_2025",),
    ),
    Distribution(
        "alveolar_fusion",
        ("pax3_foxo1", "pax7_foxo1", "negative"),
        (0.6, 0.2, 0.2),
        "assumption, in the range INSTRuCT reports for fusion-positive alveolar RMS (74.6-81.9%)",
        ("bisogno_2025",),
    ),
    Distribution("regional_nodes", ("N0", "N1"), (0.8, 0.2), "assumption"),
    Distribution(
        "metastatic_site",
        ("lung", "bone", "bone_marrow", "distant_nodes", "pleura", "peritoneum"),
        (0.35, 0.2, 0.2, 0.15, 0.05, 0.05),
        "assumption",
    ),
    Distribution(
        "metastatic_site_count", ("1", "2", "3", "4"), (0.45, 0.25, 0.2, 0.1), "assumption"
    ),
    Distribution("group_iii_surgery", ("biopsy_only", "gross_residual"), (0.8, 0.2), "assumption"),
)
_D = {d.column: d for d in DISTRIBUTIONS}

OTHER_DISTRIBUTIONS: dict[str, str] = {
    "age_at_diagnosis_days": "assumption: a mixture, 10% under 1 year, 55% 1-9 years, "
    "35% 10-20 years, uniform in days within each band",
    "max_diameter_cm": "assumption: log-normal, median 5 cm, clipped to 0.5-30 cm",
    "efs_years": "exponential with the published survival proportion of the row's finding "
    "value at its time point; rows without a published figure: exponential with "
    f"{FALLBACK_EFS[1]:.0%} at {FALLBACK_EFS[0]:g} years (assumption)",
    "follow-up": f"uniform {FOLLOW_UP_YEARS[0]:g}-{FOLLOW_UP_YEARS[1]:g} years (assumption)",
}

SYNTH_COLUMNS = (
    ID_COLUMN,
    "sex",
    "age_at_diagnosis_days",
    "primary_site",
    "histology",
    "foxo1_fusion",
    "max_diameter_cm",
    "regional_nodes",
    "distant_metastases",
    "initial_surgery_result",
)
OUTCOME_COLUMNS = ("efs_years", "efs_event", "efs_basis")


def _choice(rng: np.random.Generator, name: str, n: int) -> np.ndarray:
    d = _D[name]
    w = np.asarray(d.weights, dtype=float)
    return rng.choice(np.asarray(d.values, dtype=object), size=n, p=w / w.sum())


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    band = rng.choice(3, size=n, p=[0.10, 0.55, 0.35])
    low = np.array([0, 365, 3653])[band]
    high = np.array([364, 3652, 7670])[band]
    return rng.integers(low, high + 1)


def generate_features(rng: np.random.Generator, n: int, start: int) -> dict[str, list[Any]]:
    """Diagnosis-time columns of ``n`` synthetic patients (no dates: de-identified style)."""
    group = _choice(rng, "irs_group", n)
    histology = _choice(rng, "histology", n)
    fusion = np.where(histology == "alveolar", _choice(rng, "alveolar_fusion", n), "negative")
    sizes = np.clip(np.exp(rng.normal(math.log(5.0), 0.6, n)), 0.5, 30.0)
    iii_surgery = _choice(rng, "group_iii_surgery", n)
    counts = _choice(rng, "metastatic_site_count", n).astype(int)
    site_values = np.asarray(_D["metastatic_site"].values, dtype=object)
    site_w = np.asarray(_D["metastatic_site"].weights, dtype=float)
    mets: list[str] = []
    surgery: list[str] = []
    for g, c, s3 in zip(group, counts, iii_surgery, strict=True):
        if g == "IV":
            chosen = rng.choice(site_values, size=int(c), replace=False, p=site_w / site_w.sum())
            mets.append(";".join(sorted(chosen)))
            surgery.append("biopsy_only")
        else:
            mets.append("none")
            surgery.append({"I": "complete", "II": "microscopic_residual"}.get(str(g), str(s3)))
    sex = _choice(rng, "sex", n)
    ages = _ages(rng, n)
    primary_site = _choice(rng, "primary_site", n)
    # sites that exist in one sex only decide the sex (the case model refuses a mismatch)
    sex = np.where(np.isin(primary_site, ["prostate", "paratesticular"]), "male", sex)
    sex = np.where(primary_site == "vulva_vagina_uterus", "female", sex)
    return {
        ID_COLUMN: [f"SYN{start + i + 1:07d}" for i in range(n)],
        "sex": list(sex),
        "age_at_diagnosis_days": [str(int(a)) for a in ages],
        "primary_site": list(primary_site),
        "histology": list(histology),
        "foxo1_fusion": list(fusion),
        "max_diameter_cm": [f"{s:.1f}" for s in sizes],
        "regional_nodes": list(_choice(rng, "regional_nodes", n)),
        "distant_metastases": mets,
        "initial_surgery_result": surgery,
    }


def _figure_lookup(figures: Sequence[PublishedFigure]) -> dict[tuple[str, str], PublishedFigure]:
    return {(f.finding, f.finding_value): f for f in figures if f.endpoint == "efs"}


def draw_outcomes(
    rng: np.random.Generator,
    values_by_finding: dict[str, list[str | None]],
    figures: Sequence[PublishedFigure],
    n: int,
) -> dict[str, list[Any]]:
    """Time to event (years), event flag and the basis of each row's draw."""
    lookup = _figure_lookup(figures)
    order = list(dict.fromkeys(f.finding for f in figures))
    hazards = np.empty(n)
    basis: list[str] = []
    for i in range(n):
        fig = None
        for fid in order:
            value = values_by_finding.get(fid, [None] * n)[i]
            if value is not None and (fid, value) in lookup:
                fig = lookup[(fid, value)]
                break
        if fig is not None:
            hazards[i] = -math.log(fig.survival) / fig.years
            basis.append(fig.source_entry)
        else:
            hazards[i] = -math.log(FALLBACK_EFS[1]) / FALLBACK_EFS[0]
            basis.append("assumption")
    event_time = rng.exponential(1.0 / hazards)
    follow_up = rng.uniform(FOLLOW_UP_YEARS[0], FOLLOW_UP_YEARS[1], n)
    observed = np.minimum(event_time, follow_up)
    return {
        "efs_years": [round(float(t), 4) for t in observed],
        "efs_event": [int(e) for e in (event_time <= follow_up)],
        "efs_basis": basis,
    }


def synth_batches(
    n: int,
    seed: int,
    *,
    rules: Sequence[FindingRule] | None = None,
    figures: Sequence[PublishedFigure] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The synthetic cohort as Arrow batches of at most ``CHUNK_ROWS`` rows."""
    if figures is None:
        figures, _gaps = published_figures()
    rng = np.random.default_rng(seed)
    wanted = list(dict.fromkeys(f.finding for f in figures))
    with CohortScorer(rules) as scorer:
        ids = scorer.finding_ids
        for start in range(0, n, CHUNK_ROWS):
            size = min(CHUNK_ROWS, n - start)
            cols = generate_features(rng, size, start)
            _pids, _errors, cells = scorer.score_columns(cols, size)
            values: dict[str, list[str | None]] = {}
            for fid in wanted:
                if fid in ids:
                    pos = ids.index(fid) * 4
                    values[fid] = [c[pos] if c is not None else None for c in cells]
            cols.update(draw_outcomes(rng, values, figures, size))
            yield pa.RecordBatch.from_pydict(cols, schema=synth_schema())


def synth_schema() -> pa.Schema:
    return pa.schema(
        [pa.field(c, pa.string()) for c in SYNTH_COLUMNS]
        + [
            pa.field("efs_years", pa.float64()),
            pa.field("efs_event", pa.int64()),
            pa.field("efs_basis", pa.string()),
        ]
    )


def write_synthetic_cohort(
    path: str | Path,
    n: int,
    seed: int,
    *,
    rules: Sequence[FindingRule] | None = None,
    figures: Sequence[PublishedFigure] | None = None,
) -> int:
    """Write ``n`` synthetic rows to CSV or Parquet; returns the number written."""
    writer = TableWriter(path, synth_schema())
    written = 0
    try:
        for batch in synth_batches(n, seed, rules=rules, figures=figures):
            writer.write(batch)
            written += batch.num_rows
    finally:
        writer.close()
    return written
