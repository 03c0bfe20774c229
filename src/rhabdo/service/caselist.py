"""The case list's columns and filters, read from the assessment stored with each case's
current version: pretreatment stage, relapse type and pattern, and when it was last assessed.

A finding that could not be decided shows as "not determined" (never as a default), and a
version saved without an assessment shows "not assessed".

The list is paged in the database with its filters applied there: each stored version keeps a
*list key* per filter column (``list_keys``), a short text the label is made from, so a filter is
one equality on an indexed-size column rather than a look into a 100 kB assessment.  The label
shown for a key (``key_label``) is the one the row itself shows: both come from the same key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from rhabdo import labels
from rhabdo.service.db import CaseRecord, CaseVersion
from rhabdo.service.store import case_search

NOT_DETERMINED = "not determined"
NOT_ASSESSED = "not assessed"
NOT_APPLICABLE = "not applicable"

#: The finding each column shows.  ``relapse.extent`` is the newer pattern finding; an
#: assessment stored before it existed shows "not determined" rather than a guess.
STAGE = "stage.pretreatment"
RELAPSE_TYPE = "relapse.type"
RELAPSE_PATTERN = "relapse.extent"
RELAPSE_TIMING = "relapse.timing"

#: Cases on one page of the web list.
PAGE_SIZE = 50
#: The highest page number asked for that is still looked up (beyond: the last page).
MAX_PAGE_NUMBER = 100_000


class ListKey(StrEnum):
    """List keys that are not a determined value (a value is ``v:`` + its JSON)."""

    NOT_ASSESSED = "not_assessed"
    NOT_DETERMINED = "not_determined"
    NOT_APPLICABLE = "not_applicable"


VALUE_PREFIX = "v:"
_KEY_LABELS = {
    ListKey.NOT_ASSESSED: NOT_ASSESSED,
    ListKey.NOT_DETERMINED: NOT_DETERMINED,
    ListKey.NOT_APPLICABLE: NOT_APPLICABLE,
}


def _findings(assessment: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if not assessment:
        return None
    findings = assessment.get("findings") or {}
    if isinstance(findings, list):  # older stored shape: a list of findings with ids
        findings = {f.get("id"): f for f in findings if isinstance(f, Mapping)}
    return findings if isinstance(findings, Mapping) else {}


def finding_key(findings: Mapping[str, Any] | None, finding_id: str) -> str:
    """The list key of one finding: its value when determined, else why there is none."""
    if findings is None:
        return ListKey.NOT_ASSESSED.value
    f = findings.get(finding_id)
    if not isinstance(f, Mapping):
        return ListKey.NOT_DETERMINED.value
    status = f.get("status")
    value = f.get("value")
    if status == "determined" and value not in (None, "", []):
        return VALUE_PREFIX + json.dumps(value, sort_keys=True, separators=(",", ":"))
    if status == "not_applicable":
        return ListKey.NOT_APPLICABLE.value
    return ListKey.NOT_DETERMINED.value


def key_label(finding_id: str, key: str) -> str:
    """The words shown for a list key (a row's cell and a filter's choice alike)."""
    if key.startswith(VALUE_PREFIX):
        try:
            value = json.loads(key.removeprefix(VALUE_PREFIX))
        except json.JSONDecodeError:
            return NOT_DETERMINED
        return labels.value_label(finding_id, value)
    try:
        return _KEY_LABELS[ListKey(key)]
    except ValueError:
        return NOT_DETERMINED


@dataclass(frozen=True)
class ListKeys:
    """The list keys stored with a case version (one per filter column)."""

    stage: str
    relapse_type: str
    relapse_pattern: str


#: Filter column -> the finding it reads and the stored key column.
FILTER_COLUMNS: dict[str, tuple[str, Any]] = {
    "stage": (STAGE, CaseVersion.list_stage),
    "relapse_type": (RELAPSE_TYPE, CaseVersion.list_relapse_type),
    "relapse_pattern": (RELAPSE_PATTERN, CaseVersion.list_relapse_pattern),
}


def list_keys(assessment: Mapping[str, Any] | None) -> ListKeys:
    """The keys to store beside a version whose stored assessment is ``assessment``."""
    findings = _findings(assessment)
    return ListKeys(
        **{name: finding_key(findings, fid) for name, (fid, _) in FILTER_COLUMNS.items()}
    )


@dataclass(frozen=True)
class CaseRow:
    record: CaseRecord
    stage: str
    relapse_type: str
    relapse_pattern: str
    relapse_timing: str
    last_assessed: str


def row_for(record: CaseRecord, assessment: Mapping[str, Any] | None) -> CaseRow:
    findings = _findings(assessment)
    if findings is None:
        return CaseRow(record, NOT_ASSESSED, NOT_ASSESSED, NOT_ASSESSED, NOT_ASSESSED, "never")
    provenance = (assessment or {}).get("provenance") or {}

    def text(finding_id: str) -> str:
        return key_label(finding_id, finding_key(findings, finding_id))

    return CaseRow(
        record,
        stage=text(STAGE),
        relapse_type=text(RELAPSE_TYPE),
        relapse_pattern=text(RELAPSE_PATTERN),
        relapse_timing=text(RELAPSE_TIMING),
        last_assessed=str(provenance.get("assessed_on") or "unknown"),
    )


@dataclass(frozen=True)
class Filters:
    """The list keys asked for per column ("" = any)."""

    stage: str = ""
    relapse_type: str = ""
    relapse_pattern: str = ""

    def asked(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class CasePage:
    """One page of the list: its rows, the page number, how many cases match, the choices."""

    rows: list[CaseRow]
    page: int
    page_size: int
    total: int
    choices: dict[str, list[Choice]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


def _visible(centre: str | None, query: str | None) -> Select[Any]:
    """The centre's cases matching ``query``, joined to their current versions."""
    return (
        select(CaseRecord, CaseVersion.assessment)
        .join(
            CaseVersion,
            and_(
                CaseVersion.case_id == CaseRecord.id,
                CaseVersion.version == CaseRecord.current_version,
            ),
        )
        .where(*case_search(centre, query))
    )


def page_of_cases(
    db: Session,
    centre: str | None,
    query: str | None,
    filters: Filters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> CasePage:
    """One page (1-based) of the centre's cases, newest first, with the filters and the search
    applied in the database; a page past the end gives the last page."""
    base = _visible(centre, query)
    choices = {
        name: [
            Choice(key, key_label(fid, key))
            for key in db.scalars(base.with_only_columns(column).distinct().order_by(column)).all()
        ]
        for name, (fid, column) in FILTER_COLUMNS.items()
    }
    asked = filters.asked()
    filtered = base.where(*(FILTER_COLUMNS[name][1] == key for name, key in asked.items()))
    total = int(
        db.scalar(filtered.with_only_columns(func.count(CaseRecord.id)).order_by(None)) or 0
    )
    pages = max(1, -(-total // page_size))
    page = max(1, min(page, pages))
    found = db.execute(
        filtered.order_by(CaseRecord.updated_at.desc(), CaseRecord.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    rows = [row_for(record, assessment) for record, assessment in found]
    for name in asked:  # a chosen key stays offered, even when nothing matches it now
        fid = FILTER_COLUMNS[name][0]
        if all(c.key != asked[name] for c in choices[name]):
            choices[name].append(Choice(asked[name], key_label(fid, asked[name])))
    return CasePage(rows, page, page_size, total, choices)
