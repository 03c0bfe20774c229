"""Histology first: when RMS-directed options wait for the biopsy, and what else the lesion may be.

The seed paper asks for an aggressive approach to biopsy when imaging is atypical or a second
cancer is suspected (Ogawa 2021); tissue confirmation of relapse is a general principle of care
(Heske 2021).  Until the recurrence is histologically confirmed, RMS-directed local and systemic
options are shown as conditional ("if the biopsy confirms recurrent RMS") and never as
*recommended* (``care.histology_first``).  The same holds for the other RMS-directed
suggestions: targeted and immune therapies within early-phase trials, early-phase trials
themselves, palliative radiotherapy and the minimally invasive choice among anti-cancer options
(``HELD_IDS``); symptom-directed palliative care stays unconditional.  An unrecorded
confirmation is read cautiously, as not confirmed.

The differential follows what the case records: a lesion in an irradiated field
(radiation-associated sarcoma or osteosarcoma), prior alkylators, etoposide or anthracyclines
(therapy-related myeloid neoplasm), a known or suspected predisposition (tumours of that
syndrome).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case
from rhabdo.case.vocab import MetastaticSite, MutationStatus
from rhabdo.recommend import _facts as facts
from rhabdo.recommend._build import Changes, finished
from rhabdo.recommend.knowledge import care_entries
from rhabdo.recommend.wording import CAUTION
from rhabdo.results import (
    InputWarning,
    Recommendation,
    RecommendationCategory,
    Strength,
    WarningSeverity,
)

#: The categories whose options are RMS-directed (they wait for the biopsy): local and systemic
#: therapy, and RMS trials (a second cancer would need other trials).
HELD_CATEGORIES = frozenset(
    {
        RecommendationCategory.LOCAL_THERAPY,
        RecommendationCategory.SYSTEMIC_THERAPY,
        RecommendationCategory.CLINICAL_TRIALS,
    }
)
#: Options of other categories that are RMS-directed too: the investigational targeted and
#: immune therapies and matched options (offered within early-phase trials), palliative
#: radiotherapy and the minimally invasive choice among anti-cancer options.  Symptom-directed
#: palliative care (the referral, the goals-of-care discussion) stays unconditional.
HELD_IDS = frozenset(
    {
        "molecular.targeted_overview",
        "palliative.symptom_radiotherapy",
        "palliative.minimally_invasive",
    }
)
HELD_ID_PREFIXES = ("molecular.biomarker.",)
CONDITION = "If the biopsy confirms recurrent RMS: "
#: After the caution of a *caution* option (``rhabdo.recommend.wording``).
CAUTION_CONDITION = "if the biopsy confirms recurrent RMS: "
WARNING_ID = "warning.histology_unconfirmed"


@dataclass(frozen=True)
class Differential:
    entry: str
    words: str


@dataclass(frozen=True)
class HistologyHold:
    """Whether RMS-directed options wait for histology, why, and the differential."""

    held: bool
    triggers: tuple[str, ...] = ()
    differential: tuple[Differential, ...] = ()
    inputs: tuple[str, ...] = ()


def _predisposed(case: Case) -> bool:
    return (
        case.patient.known_predisposition is not None
        or case.diagnosis.tp53_germline is MutationStatus.MUTATED
        or case.patient.family_history_of_cancer is True
    )


def differential(case: Case) -> list[Differential]:
    """What else a new lesion may be, from what the case records."""
    out: list[Differential] = []
    irradiation = facts.site_irradiation(case)
    if any(f.irradiated is True for f in irradiation):
        out.append(
            Differential(
                "care.differential.radiation_associated_sarcoma",
                "a radiation-associated sarcoma or osteosarcoma (lesion in an irradiated field)",
            )
        )
    elif any(f.irradiated is None for f in irradiation) and facts.radiotherapy_courses(case):
        out.append(
            Differential(
                "care.differential.radiation_associated_sarcoma",
                "a radiation-associated sarcoma or osteosarcoma, if the lesion lies in the "
                "irradiated field (not recorded)",
            )
        )
    risky = facts.agents_given(case) & (
        facts.ALKYLATING_AGENTS | facts.EPIPODOPHYLLOTOXINS | facts.ANTHRACYCLINES
    )
    if risky:
        marrow = any(
            s.metastatic_site is MetastaticSite.BONE_MARROW for s in facts.distant_sites(case)
        )
        out.append(
            Differential(
                "care.differential.therapy_related_myeloid_neoplasm",
                "a therapy-related myeloid neoplasm after "
                + ", ".join(sorted(a.label for a in risky))
                + (" (marrow involvement recorded)" if marrow else ""),
            )
        )
    if _predisposed(case):
        syndrome = case.patient.known_predisposition
        which = (
            syndrome.label
            if syndrome is not None
            else "germline TP53 variant"
            if case.diagnosis.tp53_germline is MutationStatus.MUTATED
            else "a suspected predisposition (family history)"
        )
        out.append(
            Differential(
                "care.differential.predisposition_tumours",
                f"another tumour of the predisposition syndrome ({which})",
            )
        )
    return out


@once_per_assessment
def histology_hold(case: Case) -> HistologyHold:
    """Whether the current recurrence's RMS-directed options wait for a biopsy (asked by the
    biopsy, palliative and warning rules and the hold itself: answered once per assessment)."""
    event = facts.current_event(case)
    if event is None:
        return HistologyHold(held=False)
    path = facts.current_event_path(case)
    inputs = (
        f"{path}.histologically_confirmed",
        f"{path}.suspected_second_malignancy",
        f"{path}.atypical_imaging",
        f"{path}.sites",
    )
    diff = tuple(differential(case))
    if event.histologically_confirmed is True:
        return HistologyHold(held=False, differential=diff, inputs=inputs)
    triggers = [
        "the recurrence is not histologically confirmed"
        if event.histologically_confirmed is False
        else "histological confirmation of the recurrence is not recorded"
    ]
    if event.suspected_second_malignancy is True:
        triggers.append("a second malignancy is suspected")
    if event.atypical_imaging is True:
        triggers.append("imaging is atypical for RMS recurrence")
    if any(f.irradiated is True for f in facts.site_irradiation(case)):
        triggers.append("the lesion lies in a previously irradiated field")
    return HistologyHold(held=True, triggers=tuple(triggers), differential=diff, inputs=inputs)


def histology_warnings(case: Case) -> list[InputWarning]:
    """The attention warning shown at the top of every rendering when histology is unconfirmed."""
    hold = histology_hold(case)
    if not hold.held:
        return []
    path = facts.current_event_path(case)
    message = (
        "Recurrence not histologically confirmed ("
        + "; ".join(hold.triggers)
        + "): biopsy first; every RMS-directed option below applies only if the biopsy "
        "confirms recurrent RMS."
    )
    if hold.differential:
        message += " Differential: " + "; ".join(d.words for d in hold.differential) + "."
    entries = care_entries()
    citations = list(
        dict.fromkeys(
            [*entries["care.histology_first"].citations]
            + [c for d in hold.differential for c in entries[d.entry].citations]
        )
    )
    return [
        InputWarning(
            id=WARNING_ID,
            message=message,
            severity=WarningSeverity.ATTENTION,
            fields=[
                f"{path}.histologically_confirmed",
                *(
                    [f"{path}.suspected_second_malignancy"]
                    if "a second malignancy is suspected" in hold.triggers
                    else []
                ),
            ],
            citations=citations,
        )
    ]


def _lower_first(text: str) -> str:
    """'Localised recurrence: ...' -> 'localised recurrence: ...'; an acronym or gene name
    ('TP53 mutation', 'PAX3::FOXO1 fusion', 'VIT') keeps its capitals."""
    if text[1:2].isupper() or text[1:2].isdigit():
        return text
    return text[:1].lower() + text[1:]


def rms_directed(rec: Recommendation) -> bool:
    """Whether ``rec`` treats the recurrence as RMS (and so waits for the biopsy)."""
    return (
        rec.category in HELD_CATEGORIES or rec.id in HELD_IDS or rec.id.startswith(HELD_ID_PREFIXES)
    )


@dataclass(frozen=True)
class Condition:
    """What the hold adds to every option it makes conditional (the same for each of a case)."""

    reason: str
    citations: tuple[str, ...]
    inputs: tuple[str, ...]


def condition_of(hold: HistologyHold) -> Condition:
    return Condition(
        reason=" Conditional on histology: " + "; ".join(hold.triggers) + " (biopsy first).",
        citations=tuple(care_entries()["care.histology_first"].citations),
        inputs=hold.inputs,
    )


def _conditional_statement(statement: str) -> str:
    if statement.startswith(CAUTION):
        # the caution leads; the condition follows it
        if not statement.startswith(CAUTION + CAUTION_CONDITION):
            return CAUTION + CAUTION_CONDITION + statement.removeprefix(CAUTION)
        return statement
    if not statement.startswith(CONDITION):
        return CONDITION + _lower_first(statement)
    return statement


def add_condition(rec: Recommendation, condition: Condition, changes: Changes) -> None:
    """Record in ``changes`` what makes ``rec`` conditional on the biopsy, if it is an
    RMS-directed option (and not one to avoid): never *recommended*, statement prefixed."""
    strength = changes.get("strength", rec.strength)
    if strength is Strength.AVOID or not rms_directed(rec):
        return
    if strength is Strength.RECOMMENDED:
        changes["strength"] = Strength.CONSIDER
    changes["statement"] = _conditional_statement(changes.get("statement", rec.statement))
    changes["reason"] = changes.get("reason", rec.reason) + condition.reason
    changes["citations"] = list(
        dict.fromkeys([*changes.get("citations", rec.citations), *condition.citations])
    )
    changes["inputs_used"] = list(
        dict.fromkeys([*changes.get("inputs_used", rec.inputs_used), *condition.inputs])
    )
    changes["details"] = {
        **changes.get("details", rec.details),
        "conditional_on": "histology_confirms_recurrent_rms",
    }


def _made_conditional(rec: Recommendation, condition: Condition) -> Recommendation:
    changes: Changes = {}
    add_condition(rec, condition, changes)
    return finished(rec, changes)


def make_conditional(rec: Recommendation, hold: HistologyHold) -> Recommendation:
    """``rec`` shown as conditional on the biopsy: never *recommended*, statement prefixed."""
    return _made_conditional(rec, condition_of(hold))


def apply_histology_hold(case: Case, recs: Sequence[Recommendation]) -> list[Recommendation]:
    """Every RMS-directed option made conditional while histology is unconfirmed."""
    hold = histology_hold(case)
    if not hold.held:
        return list(recs)
    condition = condition_of(hold)
    return [_made_conditional(r, condition) for r in recs]
