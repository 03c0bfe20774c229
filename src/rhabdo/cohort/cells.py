"""One cohort row's content -> its output cells: the findings as text, one column each.

Each finding gives four cells: its value (when determined), its status, its candidates
(when indeterminate) and the fields that would decide it.  A content that fails validation
gives an error text instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rhabdo.case.model import Case, Patient
from rhabdo.cohort.columns import ColumnMapping
from rhabdo.cohort.rows import RowKey, case_from_key, row_error_text
from rhabdo.errors import CaseValidationError
from rhabdo.results import Finding, FindingStatus

FindingRule = Callable[[Case], Finding]

STATUS_SUFFIX = ".status"
CANDIDATES_SUFFIX = ".candidates"
NEEDS_SUFFIX = ".needs"


def default_rules() -> tuple[FindingRule, ...]:
    """The engine's core finding rules (the same list ``rhabdo assess`` runs)."""
    from rhabdo.engine import CORE_FINDING_RULES

    return tuple(CORE_FINDING_RULES)


def probe_finding_ids(rules: Sequence[FindingRule]) -> list[str]:
    """The id of each rule's finding, learnt by running it on a case where nothing is known."""
    empty = Case(patient=Patient(id="probe"))
    return [rule(empty).id for rule in rules]


def value_text(value: Any) -> str:
    """A finding value as one cell: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def finding_columns(finding_ids: Sequence[str]) -> list[str]:
    """Output column names: per finding its value, status, candidates and needs."""
    out: list[str] = []
    for fid in finding_ids:
        out += [fid, fid + STATUS_SUFFIX, fid + CANDIDATES_SUFFIX, fid + NEEDS_SUFFIX]
    return out


def finding_cells(
    findings: Mapping[str, Finding], finding_ids: Sequence[str]
) -> tuple[str | None, ...]:
    """The output cells of one row's findings, in ``finding_columns`` order."""
    cells: list[str | None] = []
    for fid in finding_ids:
        f = findings.get(fid)
        if f is None:
            cells += [None, None, None, None]
            continue
        cells.append(value_text(f.value) if f.status is FindingStatus.DETERMINED else None)
        cells.append(f.status.value)
        cells.append(
            json.dumps([value_text(c) for c in f.candidates])
            if f.status is FindingStatus.INDETERMINATE
            else None
        )
        cells.append(";".join(f.needs) if f.needs else None)
    return tuple(cells)


def run_rules(case: Case, rules: Sequence[FindingRule]) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    for rule in rules:
        f = rule(case)
        findings[f.id] = f
    return findings


#: Scored content: (finding cells, None) or (None, error text).
Scored = tuple[tuple[str | None, ...] | None, str | None]


def score_key(
    key: RowKey, rules: Sequence[FindingRule], finding_ids: Sequence[str], mapping: ColumnMapping
) -> Scored:
    """Validate and score one distinct row content."""
    try:
        case = case_from_key(key, mapping)
    except CaseValidationError as exc:
        return None, row_error_text(exc, mapping)
    return finding_cells(run_rules(case, rules), finding_ids), None
