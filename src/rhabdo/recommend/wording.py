"""How an option's strength shows in its own words.

A *caution* option must not read as a suggestion (issue 13): its statement leads with the
caution -- ``"Caution — "`` -- in every rendering (text, HTML, page one, PDF, FHIR, CDS cards
all print the statement as it is).  Rules write their own caution statements; this pass catches
an option made *caution* after it was worded (for example by the organ-function gates of the
dosing pass) and rewrites a leading "Consider ..." so that no caution statement starts with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rhabdo.recommend._build import Changes, finished
from rhabdo.results import Recommendation, Strength

CAUTION = "Caution — "
CONDITION = "If the biopsy confirms recurrent RMS: "
_WEIGH = "only after weighing the concerns given in the reason: "


def _drop_consider(text: str) -> str:
    for verb in ("Consider ", "consider "):
        if text.startswith(verb):
            rest = text.removeprefix(verb)
            return rest[:1].upper() + rest[1:]
    return text


def caution_statement(statement: str) -> str:
    """``statement`` led by the caution (unchanged if it already is).

    'Consider X.' -> 'Caution — only after weighing the concerns given in the reason: X.';
    a statement conditional on the biopsy keeps its condition after the caution.
    """
    if statement.startswith(CAUTION):
        return statement
    condition = ""
    if statement.startswith(CONDITION):
        condition = "if the biopsy confirms recurrent RMS, and "
        statement = statement.removeprefix(CONDITION)
    return CAUTION + condition + _WEIGH + _drop_consider(statement)


def add_caution(rec: Recommendation, changes: Changes) -> None:
    """Record in ``changes`` a statement that leads with the caution, if ``rec`` is (now) a
    *caution* option whose statement does not."""
    if changes.get("strength", rec.strength) is not Strength.CAUTION:
        return
    statement = changes.get("statement", rec.statement)
    if not statement.startswith(CAUTION):
        changes["statement"] = caution_statement(statement)


def lead_with_caution(recs: Sequence[Recommendation]) -> list[Recommendation]:
    """Every *caution* recommendation with a statement that leads with the caution."""
    out: list[Recommendation] = []
    for r in recs:
        changes: Changes = {}
        add_caution(r, changes)
        out.append(finished(r, changes))
    return out
