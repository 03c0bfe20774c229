"""Page one's recurrence line says the pattern once, in clinical words (issue 13): the extent of
the latest recurrence ('local recurrence') is not followed by the first event's type saying the
same ('local; local'), and the classification line does not repeat what the recurrence line
stated.  Type and timing describe the first event and are labelled so after a second event."""

from __future__ import annotations

from pathlib import Path

import pytest

from rhabdo.case.io import load_case
from rhabdo.engine import assess
from rhabdo.labels import finding_label
from rhabdo.report.page_one import page_one

CASES = Path(__file__).resolve().parents[1] / "clinical" / "cases"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("local-confirmed-embryonal", "— local recurrence; off therapy"),
        ("regional-nodes", "— regional recurrence (nodes);"),
        ("local-and-regional", "— local and regional recurrence;"),
        ("single-lung-nodule", "— localised metastatic recurrence (one lesion or a few in one"),
        ("marrow-only", "— disseminated recurrence;"),
        ("local-plus-marrow", "— disseminated recurrence; local or regional with distant;"),
        ("sites-unknown", "sites not yet known — off therapy"),
        ("refractory-never-in-remission", "— local progression; during first-line therapy"),
    ],
)
def test_pattern_said_once(name: str, pattern: str) -> None:
    case = load_case(CASES / f"{name}.yaml")
    p1 = page_one(case, assess(case))
    line = p1.recurrence_line
    assert line is not None and pattern in line, line
    for word in ("local; local", "regional (nodes); regional", "disseminated; metastatic"):
        assert word not in line
    labels = {c.label for c in p1.classification}
    assert finding_label("relapse.timing") not in labels
    if "recurrence" in pattern or "progression" in pattern:
        assert finding_label("relapse.extent") not in labels
        assert finding_label("relapse.type") not in labels
    else:  # undecided: stays in the classification with its candidates
        assert finding_label("relapse.extent") in labels


def test_after_a_second_event_first_event_facts_are_labelled() -> None:
    case = load_case(CASES / "second-relapse-on-vi.yaml")
    p1 = page_one(case, assess(case))
    line = p1.recurrence_line
    assert line is not None and "(event 2 of 2)" in line
    assert "after the start of treatment at the first event" in line
    # the first event's type is not the latest recurrence's: it is said once, labelled so
    assert "local at the first event" in line
    assert finding_label("relapse.type") not in {c.label for c in p1.classification}
