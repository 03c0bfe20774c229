"""Building Recommendations from knowledge entries: citations, evidence gaps and ordering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TypedDict

from rhabdo.knowledge.base import KnowledgeEntry
from rhabdo.results import (
    DoseRuleApplied,
    EvidenceGap,
    JsonValue,
    PatientDose,
    Recommendation,
    RecommendationCategory,
    Strength,
    recommendation,
)


class Changes(TypedDict, total=False):
    """What the post-passes (doses, histology hold, wording) change in one recommendation.

    Each pass reads a field as the passes before it left it (``changes.get(name, rec.name)``)
    and records its own change here, so a recommendation the passes change is copied once, at
    the end (``finished``), and one they leave alone is not copied at all."""

    strength: Strength
    statement: str
    reason: str
    citations: list[str]
    inputs_used: list[str]
    details: dict[str, JsonValue]
    doses: list[PatientDose]
    supportive_care: list[DoseRuleApplied]


def finished(rec: Recommendation, changes: Changes) -> Recommendation:
    """``rec`` with ``changes`` applied (``rec`` itself when there are none)."""
    return rec.model_copy(update=changes) if changes else rec


def citations_of(entries: Iterable[KnowledgeEntry], extra: Iterable[str] = ()) -> list[str]:
    """Citation keys of ``entries`` (then ``extra``), in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for e in entries:
        for key in e.citations:
            seen.setdefault(key, None)
    for key in extra:
        seen.setdefault(key, None)
    return list(seen)


def gaps_of(entries: Iterable[KnowledgeEntry]) -> list[EvidenceGap]:
    """One EvidenceGap per entry that states one (unverified entries always do)."""
    gaps: list[EvidenceGap] = []
    for e in entries:
        if e.evidence_gap or not e.verified:
            gaps.append(_gap(e.id, e.evidence_gap or UNVERIFIED))
    return gaps


UNVERIFIED = "The evidence for this entry could not be verified in a source."


@cache
def _gap(entry_id: str, statement: str) -> EvidenceGap:
    """The gap an entry states (immutable, so one object serves every case)."""
    return EvidenceGap(id=f"gap.{entry_id}", statement=statement, knowledge_entry=entry_id)


def build(
    *,
    id: str,
    category: RecommendationCategory,
    statement: str,
    strength: Strength,
    reason: str,
    rule: str,
    entries: Sequence[KnowledgeEntry],
    based_on_findings: Sequence[str] = (),
    inputs_used: Sequence[str] = (),
    extra_citations: Sequence[str] = (),
    details: dict[str, JsonValue] | None = None,
) -> Recommendation:
    """A Recommendation whose citations and evidence gaps come from the knowledge ``entries``.

    Everything here is already typed (knowledge entries, the rule's own words), so it is
    built without validating again (``rhabdo.results.recommendation``)."""
    return recommendation(
        id=id,
        category=category,
        statement=statement,
        strength=strength,
        reason=reason,
        rule=rule,
        citations=citations_of(entries, extra_citations),
        based_on_findings=list(dict.fromkeys(based_on_findings)),
        inputs_used=list(dict.fromkeys(inputs_used)),
        evidence_gaps=gaps_of(entries),
        details=details,
    )


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
