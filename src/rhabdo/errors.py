"""One exception tree for the whole package.

Three kinds of failure are kept apart on purpose:

* ``CaseValidationError`` -- the input is wrong (a field has a bad type, an unknown code,
  dates that contradict each other).  The user must fix the case.
* ``InsufficientData`` -- the input is valid but does not decide a question.  Rules normally
  return an *indeterminate* Finding instead of raising; this exception exists for callers that
  demand a determined answer.
* ``KnowledgeBaseError`` -- a shipped or user-supplied knowledge file is malformed.  The
  maintainer must fix the data, not the clinician.
"""

from __future__ import annotations

from dataclasses import dataclass


class RhabdoError(Exception):
    """Base class of every error rhabdo raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of an input document.

    ``field`` is a dotted path such as ``diagnosis.max_diameter_cm`` or ``events[1].date``.
    """

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class CaseValidationError(RhabdoError):
    """The case document is invalid; ``problems`` names every field and what is wrong.

    Subclasses name other documents a user supplies (a cohort table, a mapping file, a FHIR
    bundle); callers catch them all as ``CaseValidationError``.
    """

    document = "case"

    def __init__(self, problems: list[FieldProblem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{where}invalid {self.document} ({len(problems)} problem(s)):\n{lines}")


class CohortTableError(CaseValidationError):
    """A cohort table, or a column an option names in it, cannot be used."""

    document = "cohort table"


class MappingFileError(CaseValidationError):
    """A registry's column-mapping file cannot be used."""

    document = "mapping file"


class FhirBundleError(CaseValidationError):
    """A FHIR bundle cannot be read into a case."""

    document = "FHIR bundle"


class NotRhabdomyosarcoma(FhirBundleError):
    """The record's primary cancer is not a rhabdomyosarcoma (or does not say it is one).

    Not a malformed bundle: the message says the record holds no RMS diagnosis and names the
    diagnosis found, on one line.  ``field`` is the element that was read (``Condition/x.code``).
    """

    def __init__(self, field: str, why: str, source: str | None = None) -> None:
        super().__init__([FieldProblem(field, why)], source)
        self.why = why
        where = f"{source}: " if source else ""
        self.args = (
            f"{where}no rhabdomyosarcoma diagnosis in this record: {why} ({field}); "
            "rhabdo assesses rhabdomyosarcoma only",
        )


class InsufficientData(RhabdoError):
    """A determined answer was demanded but the inputs leave several values possible."""

    def __init__(self, question: str, needs: list[str], candidates: list[object]) -> None:
        self.question = question
        self.needs = needs
        self.candidates = candidates
        super().__init__(
            f"{question} cannot be decided: still possible {candidates!r}; needs {', '.join(needs)}"
        )


class KnowledgeBaseError(RhabdoError):
    """A knowledge file is malformed: names the file, the entry and the field."""

    def __init__(self, file: str, problem: str, entry: str | None = None, field: str | None = None):
        self.file = file
        self.entry = entry
        self.field = field
        self.problem = problem
        parts = [file]
        if entry:
            parts.append(f"entry {entry!r}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(f"{', '.join(parts)}: {problem}")
