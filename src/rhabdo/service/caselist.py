"""The case list's columns and filters, read from the assessment stored with each case's
current version: pretreatment stage, relapse type and pattern, and when it was last assessed.

A finding that could not be decided shows as "not determined" (never as a default), and a
version saved without an assessment shows "not assessed".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from rhabdo import labels
from rhabdo.service.db import CaseRecord, CaseVersion

NOT_DETERMINED = "not determined"
NOT_ASSESSED = "not assessed"

#: (column, finding ids in order of preference).  ``relapse.extent`` is the newer pattern
#: finding; an assessment stored before it existed falls back to nothing rather than a guess.
STAGE = ("stage.pretreatment",)
RELAPSE_TYPE = ("relapse.type",)
RELAPSE_PATTERN = ("relapse.extent",)
RELAPSE_TIMING = ("relapse.timing",)


@dataclass(frozen=True)
class CaseRow:
    record: CaseRecord
    stage: str
    relapse_type: str
    relapse_pattern: str
    relapse_timing: str
    last_assessed: str


def _finding_text(findings: Mapping[str, Any], ids: Sequence[str]) -> str:
    for finding_id in ids:
        f = findings.get(finding_id)
        if not isinstance(f, Mapping):
            continue
        status = f.get("status")
        value = f.get("value")
        if status == "determined" and value not in (None, "", []):
            return labels.value_label(finding_id, value)
        if status == "not_applicable":
            return "not applicable"
        return NOT_DETERMINED
    return NOT_DETERMINED


def row_for(record: CaseRecord, assessment: Mapping[str, Any] | None) -> CaseRow:
    if not assessment:
        return CaseRow(record, NOT_ASSESSED, NOT_ASSESSED, NOT_ASSESSED, NOT_ASSESSED, "never")
    findings = assessment.get("findings") or {}
    if isinstance(findings, list):  # older stored shape: a list of findings with ids
        findings = {f.get("id"): f for f in findings if isinstance(f, Mapping)}
    provenance = assessment.get("provenance") or {}
    return CaseRow(
        record,
        stage=_finding_text(findings, STAGE),
        relapse_type=_finding_text(findings, RELAPSE_TYPE),
        relapse_pattern=_finding_text(findings, RELAPSE_PATTERN),
        relapse_timing=_finding_text(findings, RELAPSE_TIMING),
        last_assessed=str(provenance.get("assessed_on") or "unknown"),
    )


def case_rows(db: Session, records: Sequence[CaseRecord]) -> list[CaseRow]:
    """The list rows for ``records`` (one query for all their current versions)."""
    if not records:
        return []
    keys = [(r.id, r.current_version) for r in records]
    versions = db.execute(
        select(CaseVersion.case_id, CaseVersion.assessment).where(
            tuple_(CaseVersion.case_id, CaseVersion.version).in_(keys)
        )
    ).all()
    stored = {case_id: assessment for case_id, assessment in versions}
    return [row_for(r, stored.get(r.id)) for r in records]


@dataclass(frozen=True)
class Filters:
    stage: str = ""
    relapse_type: str = ""
    relapse_pattern: str = ""

    def keep(self, row: CaseRow) -> bool:
        return (
            (not self.stage or row.stage == self.stage)
            and (not self.relapse_type or row.relapse_type == self.relapse_type)
            and (not self.relapse_pattern or row.relapse_pattern == self.relapse_pattern)
        )


def choices(rows: Sequence[CaseRow]) -> dict[str, list[str]]:
    """The values each filter can take among ``rows`` (so every choice finds something)."""
    return {
        "stage": sorted({r.stage for r in rows}),
        "relapse_type": sorted({r.relapse_type for r in rows}),
        "relapse_pattern": sorted({r.relapse_pattern for r in rows}),
    }
