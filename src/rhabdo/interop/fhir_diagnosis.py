"""Is the primary cancer of a FHIR record a rhabdomyosarcoma?  The one diagnosis gate, shared by
the bundle importer and the CDS Hooks service.

rhabdo assesses rhabdomyosarcoma only, so a record whose primary cancer is something else must
be refused, naming what was found, and a record that does not say must never be read as RMS.
Everything here works on plain FHIR JSON (``dict``), so the importer (which holds parsed models)
and the CDS service (which holds the prefetched JSON) derive the verdict the same way.

The evidence, strongest first:

1. the morphology: the mCODE histology-morphology-behavior extension, or an ICD-O-3 coding of
   the Condition -- ICD-O-3 8900-8920 (rhabdomyosarcoma and its subtypes) or a rhabdo
   histology coding is RMS; any other morphology is not;
2. the diagnosis code: a rhabdo diagnosis coding, or a code (SNOMED CT or other) or text whose
   words name rhabdomyosarcoma, is RMS; an ICD-10 haematological malignancy (C81-C96), or a
   SNOMED CT disorder whose display names another cancer, is not.  No SNOMED CT
   rhabdomyosarcoma concept id could be confirmed by two published sources, so SNOMED codes
   are judged by their display, and a bare SNOMED code decides nothing;
3. anything else (a generic "malignant neoplastic disease", an ICD-10 site code such as C49
   without a morphology, a SNOMED CT code we cannot read) does not decide, and is reported as
   such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rhabdo.case.vocab import Histology, MetastaticSite
from rhabdo.interop import codes as c

#: rhabdo's own code for the diagnosis it assesses (written on every exported primary).
DIAGNOSIS_SYSTEM = c.RHABDO_BASE + "CodeSystem/diagnosis"
RMS_CODING = {"system": DIAGNOSIS_SYSTEM, "code": "rhabdomyosarcoma", "display": "Rhabdomyosarcoma"}
ICD10_SYSTEMS = frozenset({c.ICD10CM, "http://hl7.org/fhir/sid/icd-10"})
#: SNOMED CT codes that say "a malignant neoplasm" and nothing about its type (mCODE examples).
GENERIC_SNOMED = frozenset({"363346000", "128462008"})
#: ICD-O-3 morphologies of rhabdomyosarcoma and its subtypes (first four digits).
RMS_ICDO3_HEADS = frozenset({"8900", "8901", "8902", "8910", "8912", "8920", "8921"})
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

    def refusal(self) -> str:
        """Why a record with this evidence is not assessed, in words (empty for RMS)."""
        if self.verdict is Verdict.RMS:
            return ""
        if self.verdict is Verdict.OTHER:
            return f"the primary cancer, {self.found}, is not rhabdomyosarcoma"
        return (
            f"the primary cancer, {self.found}, does not say it is a rhabdomyosarcoma (send the "
            "ICD-O-3 morphology, 8900-8920, or a rhabdomyosarcoma diagnosis code)"
        )


# --- plain-JSON readers -----------------------------------------------------------------


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    return [cd for cd in concept.get("coding") or [] if isinstance(cd, Mapping)]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _shown(cd: Mapping[str, Any]) -> str:
    code = _str(cd.get("code"))
    label = _str(cd.get("display")) or code or "?"
    return f"{label} ({cd.get('system')}|{code})"


def _names_rms(text: Any) -> bool:
    return isinstance(text, str) and "rhabdomyosarcoma" in text.lower()


def _profiles(resource: Mapping[str, Any]) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, Mapping) else None
    return [str(p).split("|")[0] for p in profiles or []]


def histology_concepts(condition: Mapping[str, Any]) -> list[Any]:
    """The mCODE histology-morphology-behavior values of a Condition."""
    return [
        ext.get("valueCodeableConcept")
        for ext in condition.get("extension") or []
        if isinstance(ext, Mapping) and ext.get("url") == c.EXT_HISTOLOGY
    ]


def withdrawn(resource: Mapping[str, Any]) -> str | None:
    """Why a Condition must not be used (refuted, entered in error), or None."""
    for key, codes in (
        ("verificationStatus", frozenset({"entered-in-error", "refuted"})),
        ("clinicalStatus", frozenset({"entered-in-error"})),
    ):
        for cd in _codings(resource.get(key)):
            if cd.get("code") in codes:
                return f"{key} is {cd.get('code')}"
    return None


# --- the gate -----------------------------------------------------------------------------


def _morphology(cd: Mapping[str, Any]) -> DiagnosisEvidence | None:
    system, code = cd.get("system"), _str(cd.get("code"))
    if code is None:
        return None
    if system == Histology.code_system():
        return DiagnosisEvidence(Verdict.RMS, _shown(cd))
    if system == c.ICDO3:
        norm = c.normalise_icdo3(code)
        if norm in c.HISTOLOGY_FROM_ICDO3 or norm[:4] in RMS_ICDO3_HEADS:
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
        return DiagnosisEvidence(Verdict.OTHER, f"morphology {_shown(cd)}")
    if system == c.SNOMED:
        verdict = Verdict.RMS if _names_rms(cd.get("display")) else Verdict.OTHER
        return DiagnosisEvidence(verdict, f"morphology {_shown(cd)}")
    return None


def _haematological_icd10(code: str) -> bool:
    head = code.strip().upper()[:3]
    return len(head) == 3 and head[0] == "C" and head[1:].isdigit() and 81 <= int(head[1:]) <= 96


def _names_another_cancer(cd: Mapping[str, Any]) -> bool:
    display = (_str(cd.get("display")) or "").lower()
    return any(word in display for word in CANCER_WORDS)


def judge(condition: Mapping[str, Any]) -> DiagnosisEvidence:
    """The verdict on one primary cancer Condition (FHIR JSON)."""
    code = condition.get("code")
    codings = _codings(code)
    coded = "; ".join(_shown(cd) for cd in codings)
    for concept in histology_concepts(condition):
        for cd in _codings(concept):
            found = _morphology(cd)
            if found is not None:
                shown = f"{coded}, {found.found}" if coded else found.found
                return DiagnosisEvidence(found.verdict, shown)
    for cd in codings:
        if cd.get("system") == c.ICDO3:
            found = _morphology(cd)
            if found is not None:
                return found
    for cd in codings:
        if cd.get("system") == DIAGNOSIS_SYSTEM and cd.get("code") == RMS_CODING["code"]:
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
        if _names_rms(cd.get("display")):
            return DiagnosisEvidence(Verdict.RMS, _shown(cd))
    text = _str(code.get("text")) if isinstance(code, Mapping) else None
    if _names_rms(text):
        return DiagnosisEvidence(Verdict.RMS, f"text {text!r}")
    if text:
        described = f"{text!r} ({coded})" if coded else f"text {text!r}"
    else:
        described = coded or "no diagnosis code"
    for cd in codings:
        system, value = cd.get("system"), _str(cd.get("code"))
        if value is None:
            continue
        if system in ICD10_SYSTEMS and _haematological_icd10(value):
            return DiagnosisEvidence(Verdict.OTHER, described)
        if system == c.SNOMED and value not in GENERIC_SNOMED and _names_another_cancer(cd):
            return DiagnosisEvidence(Verdict.OTHER, described)
    return DiagnosisEvidence(Verdict.UNDECIDED, described)


def looks_like_cancer(condition: Mapping[str, Any]) -> bool:
    """A Condition coded as a primary cancer, though it does not claim the mCODE profile."""
    code = condition.get("code")
    for cd in _codings(code):
        system, value = cd.get("system"), _str(cd.get("code"))
        if system in (c.ICDO3, DIAGNOSIS_SYSTEM):
            return True
        if system in ICD10_SYSTEMS and value:
            head = value.strip().upper()[:3]
            if head[:1] == "C" and head[1:].isdigit() and not 77 <= int(head[1:]) <= 79:
                return True
        if system == c.SNOMED and (value in GENERIC_SNOMED or _names_another_cancer(cd)):
            return True
    text = code.get("text") if isinstance(code, Mapping) else None
    return isinstance(text, str) and any(w in text.lower() for w in CANCER_WORDS)


def is_secondary(condition: Mapping[str, Any]) -> bool:
    """A secondary (metastatic) cancer Condition: by profile, our own coding or its code."""
    if c.PROFILE_SECONDARY in _profiles(condition):
        return True
    for cd in _codings(condition.get("code")):
        system, value = cd.get("system"), _str(cd.get("code")) or ""
        if system == MetastaticSite.code_system():
            return True
        if system == c.ICD10CM and value.startswith(("C77", "C78", "C79", "C7B")):
            return True
        if system == c.SNOMED and (
            value == c.METASTATIC_NEOPLASM.code or value in c.METASTATIC_SITE_FROM_SNOMED_DISORDER
        ):
            return True
    return False


def is_primary(condition: Mapping[str, Any]) -> bool:
    """An mCODE primary cancer Condition, or one recognised by its code without the profile."""
    if is_secondary(condition):
        return False
    return (
        c.PROFILE_PRIMARY in _profiles(condition)
        or bool(histology_concepts(condition))
        or looks_like_cancer(condition)
    )


def conditions_of(bundle: Any) -> Iterable[Mapping[str, Any]]:
    """The Condition resources of a Bundle (FHIR JSON), in order; anything else is passed over."""
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        res = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(res, Mapping) and res.get("resourceType") == "Condition":
            yield res


def chart_diagnosis(bundle: Any) -> DiagnosisEvidence | None:
    """The verdict on a chart's primary cancer (the first one, as the importer reads it), or
    None when the chart has no usable primary cancer Condition.  Refuted and entered-in-error
    Conditions do not count."""
    for condition in conditions_of(bundle):
        if withdrawn(condition) is None and is_primary(condition):
            return judge(condition)
    return None
