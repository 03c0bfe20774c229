"""Is the primary cancer of a FHIR bundle a rhabdomyosarcoma?  (The import's diagnosis gate.)

rhabdo assesses rhabdomyosarcoma only, so a bundle whose primary cancer is something else must
be refused, naming what was found, and a bundle that does not say must never be read as RMS.

The evidence, strongest first:

1. the morphology: the mCODE histology-morphology-behavior extension, or an ICD-O-3 coding of
   the Condition -- ICD-O-3 8900-8920 (rhabdomyosarcoma and its subtypes) or a rhabdo
   histology coding is RMS; any other morphology is not;
2. the diagnosis code: a rhabdo diagnosis coding, or a code or text that names
   rhabdomyosarcoma, is RMS; an ICD-10 haematological malignancy (C81-C96), or a specific
   SNOMED CT disorder other than rhabdomyosarcoma, is not;
3. anything else (a generic "malignant neoplastic disease", an ICD-10 site code such as C49
   without a morphology) does not decide, and is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rhabdo.case.vocab import Histology
from rhabdo.interop import codes as c

#: rhabdo's own code for the diagnosis it assesses (written on every exported primary).
DIAGNOSIS_SYSTEM = c.RHABDO_BASE + "CodeSystem/diagnosis"
RMS_CODING = {"system": DIAGNOSIS_SYSTEM, "code": "rhabdomyosarcoma", "display": "Rhabdomyosarcoma"}
ICD10_SYSTEMS = frozenset({c.ICD10CM, "http://hl7.org/fhir/sid/icd-10"})
#: SNOMED CT codes that say "a malignant neoplasm" and nothing about its type (mCODE examples).
GENERIC_SNOMED = frozenset({"363346000", "128462008"})
#: Words of a cancer diagnosis in a display or text (used only to recognise a primary cancer
#: Condition sent without the mCODE profile; never to decide that it is RMS).
CANCER_WORDS = (
    "neoplasm",
    "cancer",
    "carcinoma",
    "sarcoma",
    "leukemia",
    "leukaemia",
    "lymphoma",
    "malignan",
    "tumor",
    "tumour",
    "blastoma",
    "myeloma",
)


class Verdict(StrEnum):
    RMS = "rhabdomyosarcoma"
    OTHER = "another cancer"
    UNDECIDED = "not stated"


@dataclass(frozen=True)
class DiagnosisEvidence:
    verdict: Verdict
    found: str  # what was found, in words (display, system and code)


def _codings(concept: Any) -> list[Any]:
    return list(concept.coding or []) if concept is not None else []


def _shown(cd: Any) -> str:
    label = cd.display or cd.code or "?"
    return f"{label} ({cd.system}|{cd.code})"


def _names_rms(text: str | None) -> bool:
    return bool(text) and "rhabdomyosarcoma" in str(text).lower()


def _morphology(cd: Any) -> DiagnosisEvidence | None:
    if cd.system == Histology.code_system() and cd.code:
        return DiagnosisEvidence(Verdict.RMS, _shown(cd))
    if cd.system == c.ICDO3 and cd.code:
        code = c.normalise_icdo3(cd.code)
        if code in c.HISTOLOGY_FROM_ICDO3 or code[:4] in (
            "8900",
            "8901",
            "8902",
            "8910",
            "8912",
            "8920",
            "8921",
        ):
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
        return DiagnosisEvidence(Verdict.OTHER, f"morphology {_shown(cd)}")
    if cd.system == c.SNOMED and cd.code:
        verdict = Verdict.RMS if _names_rms(cd.display) else Verdict.OTHER
        return DiagnosisEvidence(verdict, f"morphology {_shown(cd)}")
    return None


def _haematological_icd10(code: str) -> bool:
    head = code.strip().upper()[:3]
    return len(head) == 3 and head[0] == "C" and head[1:].isdigit() and 81 <= int(head[1:]) <= 96


def judge(condition: Any, histology_concepts: list[Any]) -> DiagnosisEvidence:
    """The verdict on one primary cancer Condition (a fhir.resources R4B Condition)."""
    coded = "; ".join(_shown(cd) for cd in _codings(condition.code))
    for concept in histology_concepts:
        for cd in _codings(concept):
            found = _morphology(cd)
            if found is not None:
                shown = f"{coded}, {found.found}" if coded else found.found
                return DiagnosisEvidence(found.verdict, shown)
    code = condition.code
    for cd in _codings(code):
        if cd.system == c.ICDO3:
            found = _morphology(cd)
            if found is not None:
                return found
    for cd in _codings(code):
        if cd.system == DIAGNOSIS_SYSTEM and cd.code == RMS_CODING["code"]:
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
        if _names_rms(cd.display):
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
    if code is not None and _names_rms(code.text):
        return DiagnosisEvidence(Verdict.RMS, f"text {code.text!r}")
    for cd in _codings(code):
        if cd.system in ICD10_SYSTEMS and cd.code and _haematological_icd10(cd.code):
            return DiagnosisEvidence(Verdict.OTHER, _shown(cd))
        if cd.system == c.SNOMED and cd.code and cd.code not in GENERIC_SNOMED:
            return DiagnosisEvidence(Verdict.OTHER, _shown(cd))
    shown = "; ".join(_shown(cd) for cd in _codings(code)) or (
        f"text {code.text!r}" if code is not None and code.text else "no diagnosis code"
    )
    return DiagnosisEvidence(Verdict.UNDECIDED, shown)


def looks_like_cancer(condition: Any) -> bool:
    """A Condition coded as a primary cancer, though it does not claim the mCODE profile."""
    code = condition.code
    for cd in _codings(code):
        if cd.system in (c.ICDO3, DIAGNOSIS_SYSTEM):
            return True
        if cd.system in ICD10_SYSTEMS and cd.code:
            head = cd.code.strip().upper()[:3]
            if head[:1] == "C" and head[1:].isdigit() and not 77 <= int(head[1:]) <= 79:
                return True
        if cd.system == c.SNOMED and (
            cd.code in GENERIC_SNOMED or any(w in (cd.display or "").lower() for w in CANCER_WORDS)
        ):
            return True
    text = (code.text or "").lower() if code is not None else ""
    return any(w in text for w in CANCER_WORDS)
