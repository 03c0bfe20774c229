"""What every rendering of an assessment shares: sections, value wording, numbered references.

The text summary, the HTML/PDF report and the web page all read from these helpers so that
they say exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rhabdo.knowledge import Source, sources
from rhabdo.results import (
    Assessment,
    Finding,
    FindingStatus,
    Recommendation,
    RecommendationCategory,
)

#: Finding-id prefix -> section title, in the order a tumour board reads them.
FINDING_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Disease at first diagnosis", ("stage.", "group.", "risk.")),
    ("Relapse or progression", ("relapse.",)),
    ("Prognosis", ("score.", "prognosis.")),
    ("Treatment exposure", ("exposure.",)),
)

FINDING_TITLES: dict[str, str] = {
    "stage.pretreatment": "Pretreatment stage (IRS/COG TNM)",
    "group.clinical": "IRS clinical group",
    "risk.cog": "COG risk group (current, FOXO1-fusion era)",
    "risk.cog_histology": "COG risk group (histology era)",
    "risk.epssg": "EpSSG RMS 2005 risk group",
    "relapse.timing": "Timing of relapse",
    "relapse.type": "Type of relapse",
    "relapse.refractory": "Refractory disease",
    "relapse.cog_risk_group": "COG relapse risk group (ARST0121)",
    "score.oberlin": "Oberlin score (metastatic at diagnosis)",
    "prognosis.relapse": "Prognosis after relapse",
    "exposure.agents_given": "Agents given",
    "exposure.anthracycline_doxorubicin_equivalent": "Anthracyclines (doxorubicin equivalent)",
    "exposure.ced": "Cyclophosphamide-equivalent dose (CED)",
    "exposure.radiation": "Radiotherapy courses",
    "exposure.chest_radiation": "Chest radiotherapy",
    "exposure.relapse_site_irradiated": "Recurrence in an irradiated field",
}

STATUS_WORDS = {
    FindingStatus.DETERMINED: "",
    FindingStatus.INDETERMINATE: "indeterminate",
    FindingStatus.NOT_APPLICABLE: "not applicable",
}


def finding_title(f: Finding) -> str:
    if f.id in FINDING_TITLES:
        return FINDING_TITLES[f.id]
    title = f.details.get("title") if isinstance(f.details, dict) else None
    if isinstance(title, str):
        return title
    return f.id.split(".", 1)[-1].replace("_", " ").capitalize()


def format_value(value: Any) -> str:
    """A finding value in words: 'very_low' -> 'very low', lists joined, booleans as yes/no."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, dict) for v in value):
            return f"{len(value)} item(s), see basis"
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(_format_item(k, v) for k, v in value.items())
    return str(value).replace("_", " ")


_UNIT_WORDS = {"mg_m2": "mg/m2", "g_m2": "g/m2", "gy": "Gy"}


def _format_item(key: str, value: Any) -> str:
    """'at_least_mg_m2': 120 -> 'at least 120 mg/m2'; other keys as 'key: value'."""
    if key.startswith("at_least_") and key.removeprefix("at_least_") in _UNIT_WORDS:
        return f"at least {format_value(value)} {_UNIT_WORDS[key.removeprefix('at_least_')]}"
    return f"{key.replace('_', ' ')}: {format_value(value)}"


def finding_answer(f: Finding) -> str:
    """The one-phrase answer: the value, or what is still possible and what would decide."""
    if f.status is FindingStatus.DETERMINED:
        return format_value(f.value)
    if f.status is FindingStatus.NOT_APPLICABLE:
        return "not applicable"
    cands = " or ".join(format_value(c) for c in f.candidates) if f.candidates else "unknown"
    return f"indeterminate ({cands}); needs {', '.join(f.needs)}"


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
