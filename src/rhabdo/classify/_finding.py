"""What every answer of one classification rule carries, stated once per rule.

A classification rule answers with a determined, an indeterminate or a not-applicable finding.
Whichever it is, the finding names the same finding id, rule id, citations and case fields
read; ``ClassificationRule`` holds those four and builds each kind of finding from them.
Each rule module builds its ``ClassificationRule`` once (cached, like its citations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rhabdo.classify._inputs import NOT_CLASSIFIED
from rhabdo.classify.tables import ClassificationEntry, entry
from rhabdo.results import (
    Finding,
    JsonValue,
    SourceView,
    determined,
    indeterminate,
    not_applicable,
)


def citations_of(*tables: Iterable[tuple[ClassificationEntry, object]]) -> list[str]:
    """The citation keys of every entry of the given rule tables, in order of first appearance."""
    keys: dict[str, None] = {}
    for table in tables:
        for knowledge_entry, _ in table:
            keys.update(dict.fromkeys(knowledge_entry.citations))
    return list(keys)


def histology_not_covered(histology_entry_id: str) -> dict[str, Any]:
    """Details of the not-applicable finding for a histology a scheme does not classify, with
    the evidence gap stated by the scheme's histology entry (``histology.<scheme>``)."""
    return {"outcome": NOT_CLASSIFIED, "evidence_gap": entry(histology_entry_id).evidence_gap}


@dataclass(frozen=True)
class ClassificationRule:
    """The finding a rule answers, with the citations and case fields every answer carries."""

    finding_id: str
    rule_id: str
    citations: list[str]
    inputs_used: list[str]

    def determined(
        self,
        value: JsonValue,
        *,
        reason: str,
        details: dict[str, Any],
        needs: Iterable[str] = (),
        source_views: list[SourceView] | None = None,
    ) -> Finding:
        """A decided value; ``needs`` are the fields that would settle a detail below it
        (a subgroup, a subset)."""
        return determined(
            self.finding_id,
            value,
            needs=needs,
            reason=reason,
            rule=self.rule_id,
            citations=self.citations,
            inputs_used=self.inputs_used,
            details=details,
            source_views=source_views,
        )

    def indeterminate(
        self,
        candidates: list[JsonValue],
        *,
        needs: Iterable[str],
        reason: str,
        details: dict[str, Any],
        source_views: list[SourceView] | None = None,
    ) -> Finding:
        """The values still possible and the fields that would decide between them."""
        return indeterminate(
            self.finding_id,
            candidates=candidates,
            needs=list(needs),
            reason=reason,
            rule=self.rule_id,
            citations=self.citations,
            inputs_used=self.inputs_used,
            details=details,
            source_views=source_views,
        )

    def not_applicable(
        self,
        *,
        reason: str,
        details: dict[str, Any],
        citations: list[str] | None = None,
    ) -> Finding:
        """The rule does not place this patient; ``citations`` replaces the rule's own."""
        return not_applicable(
            self.finding_id,
            reason=reason,
            rule=self.rule_id,
            citations=self.citations if citations is None else citations,
            inputs_used=self.inputs_used,
            details=details,
        )
