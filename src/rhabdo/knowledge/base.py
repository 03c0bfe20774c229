"""Loading and checking knowledge files.

Knowledge is data: each YAML file under ``knowledge/data/`` holds a list of entries validated
by a pydantic model.  Every entry carries citation keys (resolved against the sources
registry), a ``last_reviewed`` date and whether its evidence was verified in a source.  Files
are read lazily and cached; nothing is loaded at import time.

A malformed file raises ``KnowledgeBaseError`` naming the file, the entry and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rhabdo.errors import KnowledgeBaseError

try:  # the C loader is several times faster; fall back when libyaml is absent
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

CitationKey = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class KnowledgeEntry(BaseModel):
    """Fields every knowledge entry has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_.\-]+$")]
    citations: Annotated[list[CitationKey], Field(min_length=1)]
    last_reviewed: date
    verified: bool = Field(
        default=True, description="False when the evidence could not be confirmed in a source."
    )
    evidence_gap: str | None = Field(
        default=None, description="What the evidence does not settle, in plain words."
    )


E = TypeVar("E", bound=KnowledgeEntry)


def data_dir() -> Path:
    """The directory holding the shipped knowledge files."""
    return Path(str(resources.files("rhabdo.knowledge") / "data"))


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeBaseError(str(path), f"cannot be read ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(str(path), f"is not valid YAML ({exc})") from None


def _describe(exc: ValidationError, items: list[Any], file: str) -> KnowledgeBaseError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    entry = None
    if loc and isinstance(loc[0], int) and loc[0] < len(items):
        raw = items[loc[0]]
        entry = str(raw.get("id", f"#{loc[0]}")) if isinstance(raw, dict) else f"#{loc[0]}"
        loc = loc[1:]
    field = ".".join(str(p) for p in loc) or None
    return KnowledgeBaseError(file, err["msg"], entry=entry, field=field)


class Table(Generic[E]):
    """The validated entries of one knowledge file, by id."""

    def __init__(self, name: str, entries: Iterable[E]):
        self.name = name
        self.by_id: dict[str, E] = {}
        for e in entries:
            if e.id in self.by_id:
                raise KnowledgeBaseError(name, "duplicate id", entry=e.id)
            self.by_id[e.id] = e

    def __getitem__(self, entry_id: str) -> E:
        try:
            return self.by_id[entry_id]
        except KeyError:
            raise KnowledgeBaseError(self.name, "no such entry", entry=entry_id) from None

    def __iter__(self) -> Any:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)


def parse_table(name: str, raw: Any, entry_model: type[E]) -> Table[E]:
    """Validate the parsed YAML of one file (``{"entries": [...]}``) into a Table."""
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        raise KnowledgeBaseError(name, "must be a mapping with a list under 'entries'")
    extra = set(raw) - {"entries", "description"}
    if extra:
        raise KnowledgeBaseError(name, f"unknown top-level key(s): {', '.join(sorted(extra))}")
    items = raw["entries"]
    entries = []
    for i, item in enumerate(items):
        try:
            entries.append(entry_model.model_validate(item))
        except ValidationError as exc:
            err = _describe(exc, [item], name)
            raise KnowledgeBaseError(
                name,
                err.problem,
                entry=err.entry
                or (str(item["id"]) if isinstance(item, dict) and item.get("id") else f"#{i}"),
                field=err.field,
            ) from None
    return Table(name, entries)


def load_table(filename: str, entry_model: type[E], directory: Path | None = None) -> Table[E]:
    """Load ``filename`` (relative to the data directory) into a Table of ``entry_model``."""
    if directory is None:
        return _load_shipped(filename, entry_model)  # type: ignore[return-value]
    path = directory / filename
    return parse_table(str(path), read_yaml(path), entry_model)


@cache
def _load_shipped(filename: str, entry_model: type[KnowledgeEntry]) -> Table[KnowledgeEntry]:
    path = data_dir() / filename
    return parse_table(filename, read_yaml(path), entry_model)
