"""The validation errors name the document that is wrong, and are all caught as one kind."""

from __future__ import annotations

import pytest

from rhabdo.errors import (
    CaseValidationError,
    CohortTableError,
    FhirBundleError,
    FieldProblem,
    MappingFileError,
)


@pytest.mark.parametrize(
    ("error", "document"),
    [
        (CaseValidationError, "case"),
        (CohortTableError, "cohort table"),
        (MappingFileError, "mapping file"),
        (FhirBundleError, "FHIR bundle"),
    ],
)
def test_message_names_the_document_the_source_and_every_problem(error, document):
    problems = [FieldProblem("efs_years", "no such time column"), FieldProblem("(file)", "empty")]
    exc = error(problems, "cohort.csv")
    assert isinstance(exc, CaseValidationError)
    assert exc.problems == problems
    assert exc.source == "cohort.csv"
    assert str(exc) == (
        f"cohort.csv: invalid {document} (2 problem(s)):\n"
        "  - efs_years: no such time column\n"
        "  - (file): empty"
    )


def test_without_a_source_the_message_starts_with_the_document():
    exc = CohortTableError([FieldProblem("stage", "no such finding column")])
    assert str(exc).startswith("invalid cohort table (1 problem(s)):")
