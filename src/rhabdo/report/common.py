"""What every rendering of an assessment shares: sections, value wording, numbered references.

The text summary, the HTML/PDF report and the web page all read from these helpers so that
they say exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rhabdo.knowledge import Source, sources
from rhabdo.labels import field_label, finding_label, has_finding_label, value_label
from rhabdo.results import (
    Assessment,
    Finding,
    FindingStatus,
    MissingInput,
    Recommendation,
    RecommendationCategory,
)

#: Finding-id prefix -> section title, in the order a tumour board reads them.
FINDING_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Disease at first diagnosis", ("stage.", "group.", "risk.")),
    ("Relapse or progression", ("relapse.",)),
    ("Prognosis", ("score.", "prognosis.")),
    ("Treatment exposure", ("exposure.",)),
    ("Late effects", ("late_effects.",)),
)

STATUS_WORDS = {
    FindingStatus.DETERMINED: "",
    FindingStatus.INDETERMINATE: "indeterminate",
    FindingStatus.NOT_APPLICABLE: "not applicable",
}


def finding_title(f: Finding) -> str:
    """The question a finding answers, in words (``rhabdo.labels``)."""
    if has_finding_label(f.id):
        return finding_label(f.id)
    title = f.details.get("title") if isinstance(f.details, dict) else None
    if isinstance(title, str):
        return title
    return finding_label(f.id)


def format_value(value: Any, finding_id: str = "", details: dict[str, Any] | None = None) -> str:
    """A finding value in words with its unit: 'very_low' -> 'very low risk', 9600 ->
    '9,600 mg/m²' (exposure), booleans as yes/no."""
    return value_label(finding_id, value, details)


def finding_value(f: Finding) -> str:
    """The determined value of ``f`` in words with its unit."""
    return value_label(f.id, f.value, f.details if isinstance(f.details, dict) else None)


def candidates_text(f: Finding) -> str:
    return " or ".join(value_label(f.id, c) for c in f.candidates) if f.candidates else "unknown"


def needs_text(f: Finding, case: Any = None) -> str:
    return "; ".join(field_label(n, case) for n in f.needs)


def finding_answer(f: Finding, case: Any = None) -> str:
    """The one-phrase answer: the value, or what is still possible and what would decide."""
    if f.status is FindingStatus.DETERMINED:
        return finding_value(f)
    if f.status is FindingStatus.NOT_APPLICABLE:
        return "not applicable"
    return f"indeterminate ({candidates_text(f)}); needs {needs_text(f, case)}"


def missing_line(m: MissingInput, case: Any = None) -> str:
    """'Cumulative dose — first-line treatment, chemotherapy agent 1 (vincristine): would
    decide Cyclophosphamide-equivalent dose (CED), …'."""
    decides = ", ".join(finding_label(i) for i in m.would_decide)
    return f"{field_label(m.field, case)}: would decide {decides}"


def findings_by_section(assessment: Assessment) -> list[tuple[str, list[Finding]]]:
    out: list[tuple[str, list[Finding]]] = []
    placed: set[str] = set()
    for title, prefixes in FINDING_SECTIONS:
        group = [f for fid, f in assessment.findings.items() if fid.startswith(prefixes)]
        placed.update(f.id for f in group)
        if group:
            out.append((title, group))
    rest = [f for fid, f in assessment.findings.items() if fid not in placed]
    if rest:
        out.append(("Other findings", rest))
    return out


def recommendations_by_category(
    assessment: Assessment,
) -> list[tuple[RecommendationCategory, list[Recommendation]]]:
    out = []
    for cat in RecommendationCategory:
        recs = [r for r in assessment.recommendations if r.category is cat]
        if recs:
            out.append((cat, recs))
    return out


@dataclass(frozen=True)
class NumberedReference:
    number: int
    key: str
    source: Source | None

    @property
    def text(self) -> str:
        if self.source is None:
            return f"{self.key} (citation key not in the sources registry)"
        return self.source.reference()

    @property
    def short(self) -> str:
        return self.source.short() if self.source else self.key


class References:
    """Numbers citation keys in order of first use and resolves them in the registry."""

    def __init__(self, assessment: Assessment):
        registry = sources()
        self.items = [
            NumberedReference(i + 1, key, registry.get(key))
            for i, key in enumerate(assessment.citation_keys())
        ]
        self._by_key = {r.key: r for r in self.items}

    def numbers(self, keys: list[str]) -> list[int]:
        return [self._by_key[k].number for k in keys if k in self._by_key]

    def marker(self, keys: list[str]) -> str:
        nums = self.numbers(keys)
        return "[" + ", ".join(str(n) for n in nums) + "]" if nums else ""
