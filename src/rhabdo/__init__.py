"""rhabdo: clinical decision support for relapsed, refractory and metastatic rhabdomyosarcoma.

The public API is deliberately small; everything else is reached through its subpackage.
"""

from __future__ import annotations

__version__ = "0.1.0"

from rhabdo.case.io import load_case, parse_case
from rhabdo.case.model import Case
from rhabdo.errors import (
    CaseValidationError,
    InsufficientData,
    KnowledgeBaseError,
    RhabdoError,
)
from rhabdo.results import (
    Assessment,
    Finding,
    FindingStatus,
    Recommendation,
    RecommendationCategory,
    Strength,
)

__all__ = [
    "Assessment",
    "Case",
    "CaseValidationError",
    "Finding",
    "FindingStatus",
    "InsufficientData",
    "KnowledgeBaseError",
    "Recommendation",
    "RecommendationCategory",
    "RhabdoError",
    "Strength",
    "__version__",
    "assess",
    "load_case",
    "parse_case",
]


def __getattr__(name: str) -> object:
    # The engine pulls in every rule and the knowledge loaders; import it on first use so
    # that `import rhabdo` (and `rhabdo validate`) stay fast.
    if name == "assess":
        from rhabdo.engine import assess

        return assess
    raise AttributeError(f"module 'rhabdo' has no attribute {name!r}")
