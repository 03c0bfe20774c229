"""The public API is a deliberate, small set; this test pins it."""

from __future__ import annotations

import rhabdo


def test_all_is_pinned() -> None:
    assert sorted(rhabdo.__all__) == sorted(
        [
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
    )
    for name in rhabdo.__all__:
        assert getattr(rhabdo, name) is not None


def test_error_tree() -> None:
    for exc in (rhabdo.CaseValidationError, rhabdo.InsufficientData, rhabdo.KnowledgeBaseError):
        assert issubclass(exc, rhabdo.RhabdoError)
    assert not issubclass(rhabdo.CaseValidationError, rhabdo.KnowledgeBaseError)
