"""The catalogue of every knowledge table, and the check that validates the whole base.

``CATALOG`` is the explicit list of knowledge files (filename -> entry model).  Every team that
adds a table adds **one line** here; ``rhabdo kb check`` and the knowledge tests then load it,
resolve every citation key in it (at any depth: any field named ``citations`` or ``citation``)
and list every entry whose evidence is marked unverified.

Entry models are named as ``"module:Class"`` strings and imported only when a check runs, so
that this module does no work at import time and never creates an import cycle with the
packages that own the models.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import KnowledgeEntry, Table, data_dir, load_table, read_yaml
from rhabdo.knowledge.sources import Source, parse_sources


@dataclass(frozen=True)
class TableSpec:
    """One knowledge file and the model its entries are validated against."""

    filename: str
    entry_model: str  # "package.module:ClassName", imported lazily
    description: str

    def model(self) -> type[KnowledgeEntry]:
        module_name, _, attr = self.entry_model.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise KnowledgeBaseError(
                self.filename, f"entry model {self.entry_model} cannot be loaded ({exc})"
            ) from None
        if not (isinstance(cls, type) and issubclass(cls, KnowledgeEntry)):
            raise KnowledgeBaseError(
                self.filename, f"{self.entry_model} is not a KnowledgeEntry model"
            )
        return cls


#: Every knowledge table shipped with rhabdo.  Add one line per table.
CATALOG: tuple[TableSpec, ...] = (
    TableSpec(
        "regimens.yaml",
        "rhabdo.knowledge.treatment:RegimenEntry",
        "systemic regimens and the trials that tested them",
    ),
    TableSpec(
        "dose_thresholds.yaml",
        "rhabdo.knowledge.treatment:DoseThresholdEntry",
        "cumulative-dose conversion factors and toxicity thresholds",
    ),
    TableSpec(
        "dosing.yaml",
        "rhabdo.knowledge.dosing:DosingEntry",
        "maximum single doses, small-child rules, organ-function gates, supportive care and "
        "plausible dose ranges",
    ),
    TableSpec(
        "biomarkers.yaml",
        "rhabdo.knowledge.treatment:BiomarkerEntry",
        "molecular alterations, their prognostic meaning and targeted results",
    ),
    TableSpec(
        "workup.yaml",
        "rhabdo.recommend.knowledge:WorkupItem",
        "work-up items for a recurrence and the conditions that call for them",
    ),
    TableSpec(
        "local_therapy.yaml",
        "rhabdo.recommend.knowledge:LocalTherapyEntry",
        "local therapy at relapse, re-irradiation, brachytherapy and radiation dose norms",
    ),
    TableSpec(
        "care.yaml",
        "rhabdo.recommend.knowledge:CareEntry",
        "biopsy triggers, palliative care, early-phase trials and outcome-after-relapse figures",
    ),
    TableSpec(
        "classification.yaml",
        "rhabdo.classify.tables:ClassificationEntry",
        "staging, grouping and risk-group tables",
    ),
    TableSpec(
        "prognosis.yaml",
        "rhabdo.prognosis.knowledge:PrognosisEntry",
        "Oberlin score and relapse prognostic models with their published outcomes",
    ),
    TableSpec(
        "populations.yaml",
        "rhabdo.prognosis.population:PopulationEntry",
        "the population each prognostic model and outcome figure was built on",
    ),
    TableSpec(
        "cohort_calibration.yaml",
        "rhabdo.cohort.published:CalibrationTarget",
        "published outcome figures the cohort scorer is calibrated against",
    ),
)


@dataclass(frozen=True)
class TableReport:
    filename: str
    entries: int
    description: str


@dataclass(frozen=True)
class UnverifiedEntry:
    """An entry whose evidence could not be confirmed in a source."""

    filename: str
    entry_id: str
    evidence_gap: str | None


@dataclass(frozen=True)
class CitationProblem:
    """A citation key used in a table that the sources registry does not define."""

    filename: str
    entry_id: str
    field: str
    key: str

    def __str__(self) -> str:
        return (
            f"{self.filename}, entry {self.entry_id!r}, field {self.field!r}: "
            f"unknown citation key {self.key!r}"
        )


@dataclass(frozen=True)
class PopulationProblem:
    """A ``population_id`` that does not resolve in ``populations.yaml``, or a trial that
    reports figures without declaring whose they are."""

    filename: str
    entry_id: str
    field: str
    key: str | None

    def __str__(self) -> str:
        if self.key is None:
            return (
                f"{self.filename}, entry {self.entry_id!r}, field {self.field!r}: "
                "figures without a population_id"
            )
        return (
            f"{self.filename}, entry {self.entry_id!r}, field {self.field!r}: "
            f"unknown population {self.key!r}"
        )


@dataclass
class KnowledgeReport:
    """What ``check_knowledge`` found: table sizes, sources, unverified entries, problems."""

    directory: str
    version: str
    sources: int
    tables: list[TableReport] = field(default_factory=list)
    unverified: list[UnverifiedEntry] = field(default_factory=list)
    problems: list[CitationProblem | PopulationProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> int:
        return sum(t.entries for t in self.tables)


def _citation_keys(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every (field path, key) under any ``citations`` list or ``citation`` string."""
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if k == "citations" and isinstance(v, list):
                for i, key in enumerate(v):
                    if isinstance(key, str):
                        yield f"{sub}[{i}]", key
            elif k == "citation" and isinstance(v, str):
                yield sub, v
            else:
                yield from _citation_keys(v, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _citation_keys(item, f"{path}[{i}]")


POPULATIONS_FILE = "populations.yaml"


def _population_refs(value: Any, path: str) -> Iterator[tuple[str, str | None]]:
    """Every (field path, population id) under a ``population_id``; a trial (a mapping with
    ``outcomes``) that reports figures without one yields (its path, None)."""
    if isinstance(value, dict):
        if value.get("outcomes") and value.get("population_id") is None:
            yield f"{path}.population_id" if path else "population_id", None
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if k == "population_id" and isinstance(v, str):
                yield sub, v
            else:
                yield from _population_refs(v, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _population_refs(item, f"{path}[{i}]")


def load_sources(directory: Path | None = None) -> dict[str, Source]:
    """The sources registry of ``directory`` (default: the shipped data)."""
    base = directory if directory is not None else data_dir()
    return parse_sources(list((base / "sources").glob("*.yaml")))


def load_catalog_table(spec: TableSpec, directory: Path | None = None) -> Table[KnowledgeEntry]:
    """Load one catalogued table from ``directory`` (default: the shipped data), uncached."""
    base = directory if directory is not None else data_dir()
    return load_table(spec.filename, spec.model(), base)


def check_knowledge(
    directory: Path | None = None, catalog: tuple[TableSpec, ...] = CATALOG
) -> KnowledgeReport:
    """Load every table and the sources registry; resolve every citation key.

    A malformed file raises ``KnowledgeBaseError`` naming the file, the entry and the field.
    Unknown citation keys are collected (``report.problems``) so that all of them are shown at
    once; unverified entries are listed, not treated as errors.
    """
    base = directory if directory is not None else data_dir()
    manifest = read_yaml(base / "manifest.yaml")
    if not isinstance(manifest, dict) or "version" not in manifest:
        raise KnowledgeBaseError(
            "manifest.yaml", "must be a mapping with a 'version'", field="version"
        )
    registry = load_sources(base)
    report = KnowledgeReport(
        directory=str(base), version=str(manifest["version"]), sources=len(registry)
    )
    tables = [(spec, load_catalog_table(spec, base)) for spec in catalog]
    populations = {
        e.id for spec, table in tables if spec.filename == POPULATIONS_FILE for e in table
    }
    for spec, table in tables:
        report.tables.append(TableReport(spec.filename, len(table), spec.description))
        for entry in table:
            dumped = entry.model_dump(mode="json")
            for path, key in _citation_keys(dumped, ""):
                if key not in registry:
                    report.problems.append(CitationProblem(spec.filename, entry.id, path, key))
            if spec.filename != POPULATIONS_FILE:
                for path, pid in _population_refs(dumped, ""):
                    if pid is None or pid not in populations:
                        report.problems.append(
                            PopulationProblem(spec.filename, entry.id, path, pid)
                        )
            if not entry.verified:
                report.unverified.append(
                    UnverifiedEntry(spec.filename, entry.id, entry.evidence_gap)
                )
    _check_trials(base, registry, report)
    return report


TRIALS_FILE = "trials/trials.yaml"


def _check_trials(base: Path, registry: dict[str, Source], report: KnowledgeReport) -> None:
    """The trial file (when the directory has one): strict parse and resolved citations."""
    from rhabdo.trials.registry import parse_trials

    path = base / TRIALS_FILE
    if not path.exists():
        return
    trials = parse_trials(read_yaml(path), TRIALS_FILE)
    report.tables.append(
        TableReport(TRIALS_FILE, len(trials), "curated clinical trials and their registry data")
    )
    for trial in trials:
        for i, key in enumerate(trial.citations):
            if key not in registry:
                report.problems.append(
                    CitationProblem(TRIALS_FILE, trial.registry_id, f"citations[{i}]", key)
                )
