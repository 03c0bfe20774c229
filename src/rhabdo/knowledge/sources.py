"""The sources registry: every citation key and what it resolves to.

Sources live in ``knowledge/data/sources/*.yaml`` (one file per area, so that teams editing
different areas do not collide).  A key may be defined once only.  Every source names its
authors, title, year and at least one stable identifier (DOI, PMID, or a registry id/URL for
trial registries and PDQ pages).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import data_dir, read_yaml


class SourceKind(StrEnum):
    JOURNAL_ARTICLE = "journal_article"
    REVIEW = "review"
    GUIDELINE = "guideline"
    SUMMARY = "summary"  # e.g. PDQ
    TRIAL_REGISTRY = "trial_registry"
    BOOK = "book"
    DATA_DICTIONARY = "data_dictionary"
    SPECIFICATION = "specification"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    kind: SourceKind = SourceKind.JOURNAL_ARTICLE
    authors: Annotated[list[str], Field(min_length=1)]
    title: Annotated[str, Field(min_length=3)]
    journal: str | None = Field(default=None, description="Journal, or publisher for other kinds.")
    year: Annotated[int, Field(ge=1950, le=2100)]
    volume: str | None = None
    pages: str | None = None
    doi: Annotated[str, Field(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    pmid: Annotated[str, Field(pattern=r"^\d{5,9}$")] | None = None
    pmcid: Annotated[str, Field(pattern=r"^PMC\d+$")] | None = None
    registry_id: str | None = None
    url: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _identifiable(self) -> Source:
        if not (self.doi or self.pmid or self.registry_id or self.url):
            raise ValueError("a source needs a DOI, a PMID, a registry id or a URL")
        if self.kind is SourceKind.JOURNAL_ARTICLE and not self.journal:
            raise ValueError("journal: required for a journal article")
        return self

    def short(self) -> str:
        """'Oberlin O et al. J Clin Oncol 2008' -- for one-line reasons."""
        first = self.authors[0]
        etal = " et al." if len(self.authors) > 1 else ""
        where = f" {self.journal}" if self.journal else ""
        return f"{first}{etal}{where} {self.year}"

    def reference(self) -> str:
        """A full reference line with DOI/PMID, for reference lists."""
        authors = ", ".join(self.authors[:6]) + (", et al." if len(self.authors) > 6 else "")
        parts = [f"{authors.rstrip('.')}. {self.title.rstrip('.')}."]
        venue = self.journal or ""
        if venue:
            vol = f";{self.volume}" if self.volume else ""
            pages = f":{self.pages}" if self.pages else ""
            parts.append(f"{venue}. {self.year}{vol}{pages}.")
        else:
            parts.append(f"{self.year}.")
        ids = []
        if self.doi:
            ids.append(f"doi:{self.doi}")
        if self.pmid:
            ids.append(f"PMID:{self.pmid}")
        if self.registry_id:
            ids.append(self.registry_id)
        if self.url and not ids:
            ids.append(self.url)
        if ids:
            parts.append(" ".join(ids))
        return " ".join(parts)


def parse_sources(files: list[Path]) -> dict[str, Source]:
    registry: dict[str, Source] = {}
    defined_in: dict[str, str] = {}
    for path in sorted(files):
        raw = read_yaml(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
            raise KnowledgeBaseError(path.name, "must be a mapping with a list under 'sources'")
        for i, item in enumerate(raw["sources"]):
            key = item.get("key", f"#{i}") if isinstance(item, dict) else f"#{i}"
            try:
                src = Source.model_validate(item)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or None
                raise KnowledgeBaseError(
                    f"sources/{path.name}", err["msg"], entry=str(key), field=field
                ) from None
            if src.key in registry:
                raise KnowledgeBaseError(
                    f"sources/{path.name}",
                    f"citation key already defined in sources/{defined_in[src.key]}",
                    entry=src.key,
                )
            registry[src.key] = src
            defined_in[src.key] = path.name
    return registry


@cache
def sources() -> dict[str, Source]:
    """The shipped sources registry, keyed by citation key."""
    return parse_sources(list((data_dir() / "sources").glob("*.yaml")))


def resolve(key: str) -> Source:
    try:
        return sources()[key]
    except KeyError:
        raise KnowledgeBaseError("sources", "unknown citation key", entry=key) from None
