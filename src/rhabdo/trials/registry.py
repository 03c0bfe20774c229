"""Loading trial files: the bundled, curated set and user-supplied files in the same format.

A trial file is YAML (or JSON) of the form ``{"description": ..., "trials": [ {...}, ... ]}``.
Every trial is validated strictly: an unknown key anywhere -- in particular an unknown
criterion key -- is an error naming the trial and the key, never ignored.

The bundled set lives in ``knowledge/data/trials/trials.yaml`` (shipped with the knowledge
base); its sources are in ``knowledge/data/sources/trials.yaml``.  Nothing is read at import
time; the bundled set is read once on first use.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rhabdo.errors import KnowledgeBaseError
from rhabdo.knowledge.base import data_dir, read_yaml
from rhabdo.trials.model import Trial

BUNDLED_TRIALS_FILE = "trials/trials.yaml"


def _describe_error(exc: ValidationError) -> tuple[str, str]:
    """The dotted field and a plain message for the first validation problem."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    field = ".".join(loc) or "(trial)"
    if err["type"] == "extra_forbidden":
        last = loc[-1] if loc else "?"
        if len(loc) >= 2 and loc[0] == "criteria":
            return field, f"unknown criterion key {last!r}"
        return field, f"unknown key {last!r}"
    if err["type"] == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return field, f"unknown code {err.get('input')!r}; expected one of {expected}"
    if err["type"] == "missing":
        return field, "required field is missing"
    return field, str(err["msg"]).removeprefix("Value error, ")


def parse_trials(raw: Any, source: str) -> list[Trial]:
    """Validate a parsed trial file into trials; errors name the file, trial and field."""
    if not isinstance(raw, dict) or not isinstance(raw.get("trials"), list):
        raise KnowledgeBaseError(source, "must be a mapping with a list under 'trials'")
    extra = set(raw) - {"trials", "description"}
    if extra:
        raise KnowledgeBaseError(source, f"unknown top-level key(s): {', '.join(sorted(extra))}")
    trials: list[Trial] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["trials"]):
        name = str(item.get("registry_id", f"#{i}")) if isinstance(item, dict) else f"#{i}"
        try:
            trial = Trial.model_validate(item)
        except ValidationError as exc:
            field, problem = _describe_error(exc)
            raise KnowledgeBaseError(source, problem, entry=name, field=field) from None
        if trial.registry_id in seen:
            raise KnowledgeBaseError(source, "duplicate registry id", entry=trial.registry_id)
        seen.add(trial.registry_id)
        trials.append(trial)
    return trials


def load_trial_file(path: str | Path) -> list[Trial]:
    """Read and validate a trial file in the bundled format (YAML or JSON)."""
    p = Path(path)
    return parse_trials(read_yaml(p), p.name)


@cache
def _bundled() -> tuple[Trial, ...]:
    return tuple(parse_trials(read_yaml(data_dir() / BUNDLED_TRIALS_FILE), BUNDLED_TRIALS_FILE))


def load_trials() -> list[Trial]:
    """The bundled, curated trials (read once, then cached)."""
    return list(_bundled())


def trials_to_document(trials: list[Trial], description: str | None = None) -> dict[str, Any]:
    """Trials as a plain document in the trial-file format (for writing YAML or JSON)."""
    doc: dict[str, Any] = {}
    if description:
        doc["description"] = description
    doc["trials"] = [
        t.model_dump(mode="json", exclude_none=True, exclude_defaults=True) for t in trials
    ]
    for item, t in zip(doc["trials"], trials, strict=True):
        item["status"] = t.status.value  # required field: keep even if it equals a default
    return doc
