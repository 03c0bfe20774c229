"""Versioned, cited knowledge: sources registry and schema-checked data tables."""

from __future__ import annotations

from functools import cache

from rhabdo.knowledge.base import KnowledgeEntry, Table, data_dir, load_table, read_yaml
from rhabdo.knowledge.sources import Source, SourceKind, resolve, sources

__all__ = [
    "KnowledgeEntry",
    "Source",
    "SourceKind",
    "Table",
    "data_dir",
    "knowledge_version",
    "load_table",
    "resolve",
    "sources",
]


@cache
def knowledge_version() -> str:
    """The version stamp of the shipped knowledge base (``data/manifest.yaml``)."""
    raw = read_yaml(data_dir() / "manifest.yaml")
    return str(raw["version"])
