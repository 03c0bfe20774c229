"""Cells of one class are the same to every core rule, and classing changes no output cell.

The cohort scorer keys its cache on classes of cells (``rhabdo.cohort.cell_classes``).  These
tests check the claim that makes that exact: within a class, every cell gives the same
finding cells, for every day of age around every whole year and month up to the oldest
accepted age, and for every size around every cut-off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from functools import cache

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import engine_available
from rhabdo.case.model import Diagnosis, DiseaseEvent, Patient
from rhabdo.cohort.cell_classes import (
    CellClassing,
    accepted_value,
    age_cutoffs_years,
    core_cell_classes,
    field_adapter,
    size_cutoffs_cm,
)
from rhabdo.cohort.cells import finding_cells, probe_finding_ids, run_rules
from rhabdo.cohort.columns import ID_COLUMN
from rhabdo.cohort.rows import row_to_case
from rhabdo.cohort.score import score_file
from rhabdo.cohort.scorer import CohortScorer
from rhabdo.cohort.synth import generate_features
from rhabdo.errors import CaseValidationError

pytestmark = pytest.mark.skipif(not engine_available(), reason="rule engine not importable yet")

MAX_AGE_DAYS = 365 * 60

#: Rows in which the age or the size decides something (stage, groups, risk, Oberlin).
BASE_ROWS: list[dict[str, str]] = [
    # fusion-negative embryonal, metastatic: COG risk and the Oberlin age factor turn on age
    {
        "primary_site": "extremity",
        "histology": "embryonal",
        "foxo1_fusion": "negative",
        "max_diameter_cm": "6",
        "regional_nodes": "N0",
        "distant_metastases": "lung",
        "initial_surgery_result": "biopsy_only",
    },
    # localised, favourable site: the EpSSG subgroup turns on age and size
    {
        "primary_site": "paratesticular",
        "histology": "embryonal",
        "foxo1_fusion": "negative",
        "max_diameter_cm": "3",
        "regional_nodes": "N0",
        "distant_metastases": "none",
        "initial_surgery_result": "complete",
    },
    # almost nothing known: every branch stays open, so every cut-off shows in the candidates
    {"histology": "embryonal"},
    # metastases unknown, unfavourable site: stage, group and both risk schemes stay open
    {"primary_site": "prostate", "foxo1_fusion": "negative", "regional_nodes": "N1"},
]


@cache
def _finding_ids() -> list[str]:
    from rhabdo.engine import CORE_FINDING_RULES

    return probe_finding_ids(CORE_FINDING_RULES)


def _cells(row: dict[str, str]) -> tuple[str | None, ...]:
    from rhabdo.engine import CORE_FINDING_RULES

    case = row_to_case({ID_COLUMN: "P1", **row})
    return finding_cells(run_rules(case, CORE_FINDING_RULES), _finding_ids())


def _classing(column: str) -> CellClassing:
    return next(c for c in core_cell_classes() if c.column == column)


def _assert_one_output_per_class(column: str, cells: list[str], base: dict[str, str]) -> int:
    classing = _classing(column)
    by_class: dict[Hashable, set[tuple[str | None, ...]]] = defaultdict(set)
    for cell in cells:
        found = classing.classify(cell)
        assert found is not None, cell
        by_class[found].add(_cells({**base, column: cell}))
    split = {k: v for k, v in by_class.items() if len(v) > 1}
    assert not split, f"{column}: one class, several outputs: {split}"
    return len(by_class)


def _age_days_to_check() -> list[int]:
    """Every day within a week of each whole year and each month, and a random sample."""
    days: set[int] = {0, MAX_AGE_DAYS}
    for years in range(61):
        for d in range(365 * years - 7, 365 * years + years // 4 + 8):
            days.add(d)
    for months in range(0, 24 * 12 + 1, 1):
        centre = round(months * 30.4375)
        days.update(range(centre - 2, centre + 3))
    days.update(np.random.default_rng(3).integers(0, MAX_AGE_DAYS + 1, 300).tolist())
    return sorted(d for d in days if 0 <= d <= MAX_AGE_DAYS)


def _sizes_to_check() -> list[str]:
    sizes = {f"{x / 10:.1f}" for x in range(1, 301)} | {str(x) for x in range(30, 101)}
    for whole in range(1, 21):
        for delta in ("0.001", "0.01"):
            sizes.add(f"{whole - float(delta):g}")
            sizes.add(f"{whole + float(delta):g}")
    for cut in size_cutoffs_cm():
        sizes.update({f"{cut:g}", f"{cut}", f"{cut + 1e-9!r}", f"{cut - 1e-9!r}"})
    return sorted(sizes, key=float)


def test_the_cut_offs_are_those_the_rules_read():
    # cog.age_cutoff, epssg.age_cutoff (10 years) and Oberlin's <1 / >=10 years
    assert age_cutoffs_years() == (1, 10)
    # stage, EpSSG and Chisholm size cut-offs (5 cm)
    assert size_cutoffs_cm() == (5.0,)
    assert {c.column for c in core_cell_classes()} == {
        "age_at_diagnosis_days",
        "max_diameter_cm",
        "first_event_max_diameter_cm",
    }


@pytest.mark.parametrize("base", BASE_ROWS, ids=range(len(BASE_ROWS)))
def test_every_age_of_one_class_gives_the_same_findings(base):
    classes = _assert_one_output_per_class(
        "age_at_diagnosis_days", [str(d) for d in _age_days_to_check()], base
    )
    # under 1, the 1-year leap window, 1-9, the 10-year window, 10 and over
    assert classes == 5


@pytest.mark.parametrize("base", BASE_ROWS, ids=range(len(BASE_ROWS)))
def test_every_size_of_one_class_gives_the_same_findings(base):
    classes = _assert_one_output_per_class("max_diameter_cm", _sizes_to_check(), base)
    assert classes == 3  # below 5, exactly 5, above 5


def test_first_event_sizes_of_one_class_give_the_same_findings():
    base = {
        **BASE_ROWS[0],
        "first_event_kind": "relapse",
        "first_event_extent": "local",
    }
    _assert_one_output_per_class("first_event_max_diameter_cm", _sizes_to_check(), base)


@pytest.mark.parametrize(
    ("model", "field", "column"),
    [
        (Patient, "age_at_diagnosis_days", "age_at_diagnosis_days"),
        (Diagnosis, "max_diameter_cm", "max_diameter_cm"),
        (DiseaseEvent, "max_diameter_cm", "first_event_max_diameter_cm"),
    ],
)
@pytest.mark.parametrize(
    "cell", ["0", "1", "5", "5.0", "12.5", "-1", "0.0", "100", "100.5", "21900", "21901", "x", ""]
)
def test_a_cell_is_classed_exactly_when_the_case_model_accepts_it(model, field, column, cell):
    row = {column: cell}
    if column.startswith("first_event"):
        row["first_event_kind"] = "relapse"
    try:
        row_to_case({ID_COLUMN: "P1", **row})
        model_accepts = cell != ""
    except CaseValidationError:
        model_accepts = False
    ok, _value = accepted_value(field_adapter(model, field), cell)
    assert ok == model_accepts or cell == ""
    assert (_classing(column).classify(cell) is not None) == model_accepts


def _cohort(tmp_path, n: int):
    """Synthetic rows plus rows that must not share a class result: dates, bad cells."""
    import csv

    features = generate_features(np.random.default_rng(11), n, 0)
    columns = [*features, "date_of_birth", "diagnosis_date"]
    path = tmp_path / "cohort.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for i in range(n):
            row = [features[c][i] for c in features] + ["", ""]
            if i % 50 == 7:  # dated, stated days agree with the dates
                row[-2:] = ["2010-03-01", "2016-03-01"]
                row[columns.index("age_at_diagnosis_days")] = "2192"
            if i % 50 == 8:  # dated, stated days do not agree: an error on this row only
                row[-2:] = ["2010-03-01", "2016-03-01"]
                row[columns.index("age_at_diagnosis_days")] = "2193"
            if i % 50 == 9:
                row[columns.index("age_at_diagnosis_days")] = "-3"
            if i % 50 == 10:
                row[columns.index("max_diameter_cm")] = "0"
            w.writerow(row)
    return path


def test_classing_changes_no_output_cell(tmp_path):
    src = _cohort(tmp_path, 3000)
    classed, exact = tmp_path / "classed.parquet", tmp_path / "exact.parquet"
    summary = score_file(src, classed, progress=False)
    from rhabdo.engine import CORE_FINDING_RULES

    exact_summary = score_file(src, exact, progress=False, rules=CORE_FINDING_RULES)
    assert pq.read_table(classed).equals(pq.read_table(exact))
    assert summary.distinct_contents < exact_summary.distinct_contents
    errors = pq.read_table(classed).column("error").to_pylist()
    assert sum(e is not None and "does not match date_of_birth" in e for e in errors) == 60
    assert sum(e is not None and "age_at_diagnosis_days" in e for e in errors) == 120
    assert sum(e is not None and "max_diameter_cm" in e for e in errors) == 60


def test_a_scorer_given_other_rules_keys_on_exact_cells():
    from standin import STANDIN_RULES

    assert CohortScorer(STANDIN_RULES).cell_classes == {}
    assert CohortScorer(STANDIN_RULES).date_classing is None
    assert set(CohortScorer().cell_classes) == {c.column for c in core_cell_classes()}


# --- dates -------------------------------------------------------------------------------

#: Days either side of which a core rule may change its answer: Minn's 120 days, Mattke's 6
#: and 12 months, 18 months (on the 30.4375-day month), and the same day.
_DATE_EDGES = (0, 120, 182, 183, 365, 366, 547, 548)


_BLANK_PATTERNS: tuple[tuple[str, ...], ...] = (
    (),
    (),
    (),
    ("age_at_diagnosis_days",),
    ("date_of_birth",),
    ("first_line_end_date",),
    ("first_line_start_date", "first_line_end_date"),
    ("first_event_date",),
)


def _dated_rows(n: int, seed: int) -> list[dict[str, str]]:
    """Dated rows on a few clinical profiles, every date placed near a cut-off."""
    import datetime as dt

    rng = np.random.default_rng(seed)

    def near(edges: tuple[int, ...]) -> int:
        return int(rng.choice(edges)) + int(rng.integers(-2, 3))

    rows = []
    for i in range(n):
        row = dict(BASE_ROWS[i % 2])
        born = (
            dt.date(1996, 2, 29)
            if i % 7 == 0
            else dt.date(1990, 1, 1) + dt.timedelta(days=int(rng.integers(0, 9000)))
        )
        years = int(rng.choice([1, 10]))
        age = 365 * years + int(rng.integers(-3, years // 4 + 4))
        diagnosed = born + dt.timedelta(days=age)
        start = diagnosed + dt.timedelta(days=int(rng.integers(-1, 20)))
        end = start + dt.timedelta(days=near((182, 365, 547)))
        anchor = [diagnosed, start, end][int(rng.integers(0, 3))]
        event = anchor + dt.timedelta(days=near(_DATE_EDGES))
        cells = {
            "date_of_birth": born.isoformat(),
            "diagnosis_date": diagnosed.isoformat(),
            "first_line_start_date": start.isoformat(),
            "first_line_end_date": end.isoformat(),
            "first_event_date": event.isoformat(),
            "age_at_diagnosis_days": str(age),
        }
        blanks = _BLANK_PATTERNS[int(rng.integers(0, len(_BLANK_PATTERNS)))]
        for column in blanks:  # partial dates too
            cells[column] = ""
        if rng.random() < 0.03:
            cells["age_at_diagnosis_days"] = str(age + 1)  # disagrees with the dates
        row.update(cells)
        row["first_event_kind"] = "progression" if i % 3 == 0 else "relapse"
        row["first_event_extent"] = "local"
        row["first_line_ongoing"] = "true" if i % 11 == 0 else ""
        rows.append(row)
    return rows


def _write(path, rows: list[dict[str, str]]) -> None:
    import csv

    columns = sorted({c for r in rows for c in r})
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([ID_COLUMN, *columns])
        for i, r in enumerate(rows):
            w.writerow([f"D{i}", *(r.get(c, "") for c in columns)])


def test_dated_rows_score_the_same_with_and_without_classes(tmp_path):
    from rhabdo.engine import CORE_FINDING_RULES

    src = tmp_path / "dated.csv"
    _write(src, _dated_rows(4000, seed=5))
    classed, exact = tmp_path / "classed.parquet", tmp_path / "exact.parquet"
    summary = score_file(src, classed, progress=False)
    exact_summary = score_file(src, exact, progress=False, rules=CORE_FINDING_RULES)
    assert pq.read_table(classed).equals(pq.read_table(exact))
    # rows share classes although every row's dates differ (these rows crowd the cut-offs,
    # so their classes are many; dates far from every cut-off share far more)
    assert exact_summary.distinct_contents == 4000
    assert summary.distinct_contents < 0.75 * exact_summary.distinct_contents
    errors = [e for e in pq.read_table(classed).column("error").to_pylist() if e]
    assert any("does not match date_of_birth" in e for e in errors)
    assert any("ends before it starts" in e or "cannot be ongoing" in e for e in errors)
    timing = pq.read_table(classed).column("relapse.timing").to_pylist()
    assert {"on_first_line_therapy", "18_months_or_later"} <= set(timing)


def test_the_dates_of_a_class_answer_every_question_alike():
    """Direct check of ``DateClassing.features`` against the rules' own arithmetic."""
    import datetime as dt

    from rhabdo.case.age import calendar_age_years
    from rhabdo.classify.relapse import months_between
    from rhabdo.cohort.cell_classes import core_date_classing

    dates = core_date_classing()
    assert dates is not None
    assert dates.month_values == (-18.0, -12.0, -6.0, 0.0, 6.0, 12.0, 18.0)
    assert dates.day_values == (-120.0, 0.0, 120.0)
    rng = np.random.default_rng(8)
    base = dt.date(2000, 2, 29).toordinal()
    ordinals = base + rng.integers(-4000, 4000, size=(3000, 5))
    ordinals[rng.random((3000, 5)) < 0.2] = 0
    features = dates.features(ordinals)
    seen: dict[bytes, tuple[object, ...]] = {}
    for row, found in zip(ordinals.tolist(), features, strict=True):
        answers: list[object] = [o != 0 for o in row]
        for i in range(5):
            for j in range(i + 1, 5):
                if row[i] and row[j]:
                    a, b = dt.date.fromordinal(row[i]), dt.date.fromordinal(row[j])
                    m = months_between(a, b)
                    answers += [
                        (b > a) - (b < a),
                        [((b - a).days < v, (b - a).days <= v) for v in dates.day_values],
                        [(m < v, m <= v) for v in dates.month_values],
                        [
                            (calendar_age_years(a, b) >= y, calendar_age_years(b, a) >= y)
                            for y in dates.years
                        ],
                    ]
        key = found.tobytes()
        assert seen.setdefault(key, tuple(map(str, answers))) == tuple(map(str, answers))
