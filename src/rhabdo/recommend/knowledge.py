"""Schemas and loaders for the knowledge tables the work-up, biopsy, local-therapy, trials and
palliative-care rules read.

Three files under ``knowledge/data/``:

* ``workup.yaml`` -- imaging and staging items for a recurrence, each with the condition that
  calls for it (``WorkupIndication``) and whether the practice is extrapolated from the
  diagnostic work-up (no relapse-specific imaging guideline was found).
* ``local_therapy.yaml`` -- local therapy at relapse: multimodal approach, surgery,
  radiotherapy of unirradiated sites, re-irradiation, brachytherapy (AMORE) and the COG
  radiation dose norms by clinical group.
* ``care.yaml`` -- biopsy triggers, palliative care, early-phase trials and the
  outcome-after-relapse figures these rules quote.

Every entry carries citation keys, a review date, whether it was verified in a source and, where
the evidence does not settle a point, an ``evidence_gap`` in plain words.  Nothing is read at
import time.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field

from rhabdo.case.vocab import MetastaticSite, SiteSymptom
from rhabdo.knowledge.base import KnowledgeEntry, Table, load_table

WORKUP_FILE = "workup.yaml"
LOCAL_THERAPY_FILE = "local_therapy.yaml"
CARE_FILE = "care.yaml"


class WorkupIndication(StrEnum):
    """When a work-up item is called for at recurrence."""

    EVERY_RECURRENCE = "every_recurrence"
    MARROW_RISK = "marrow_risk"  # distant recurrence, lung/bone sites, alveolar or fusion-positive
    PARAMENINGEAL_PRIMARY = "parameningeal_primary"
    CNS_RISK = "cns_risk"  # parameningeal primary, or CSF/brain among the recurrent sites
    LOWER_LIMB_OR_GENITOURINARY_PRIMARY = "lower_limb_or_genitourinary_primary"


class WorkupItem(KnowledgeEntry):
    """One imaging or staging study for a recurrence."""

    name: str = Field(min_length=3)
    statement: str = Field(min_length=10)
    indication: WorkupIndication
    extrapolated_from_diagnosis: bool = Field(
        description="True when the practice comes from diagnostic staging, not relapse studies."
    )


class LocalTherapyKind(StrEnum):
    MULTIMODAL = "multimodal"
    SURGERY = "surgery"
    RADIOTHERAPY = "radiotherapy"
    REIRRADIATION = "reirradiation"
    BRACHYTHERAPY = "brachytherapy"
    DOSE_NORM = "dose_norm"
    DOSE_LIMIT = "dose_limit"
    PROGNOSTIC = "prognostic"


class LocalTherapyEntry(KnowledgeEntry):
    """One statement about local therapy at relapse, with its published figures."""

    kind: LocalTherapyKind
    statement: str = Field(min_length=10)
    population: str | None = None
    dose_gy: float | None = Field(default=None, gt=0, le=100)
    figures: dict[str, float | int | str] = Field(default_factory=dict)


class CareKind(StrEnum):
    BIOPSY = "biopsy"
    BIOPSY_TRIGGER = "biopsy_trigger"
    PALLIATIVE = "palliative"
    TRIALS = "trials"
    OUTCOME = "outcome"
    RISK_REVIEW = "risk_review"
    DIFFERENTIAL = "differential"
    PREDISPOSITION = "predisposition"


class CareEntry(KnowledgeEntry):
    """A biopsy trigger, a palliative-care principle, a trials principle or an outcome figure."""

    kind: CareKind
    statement: str = Field(min_length=10)
    population: str | None = None
    threshold_months: float | None = Field(default=None, gt=0, le=600)
    figures: dict[str, float | int | str] = Field(default_factory=dict)
    symptoms: list[SiteSymptom] = Field(
        default_factory=list,
        description="Site symptoms the source names as indications (palliative radiotherapy).",
    )
    metastatic_sites: list[MetastaticSite] = Field(
        default_factory=list,
        description="Metastatic sites the source names as indications (palliative radiotherapy).",
    )


def workup_items(directory: Path | None = None) -> Table[WorkupItem]:
    return load_table(WORKUP_FILE, WorkupItem, directory)


def local_therapy_entries(directory: Path | None = None) -> Table[LocalTherapyEntry]:
    return load_table(LOCAL_THERAPY_FILE, LocalTherapyEntry, directory)


def care_entries(directory: Path | None = None) -> Table[CareEntry]:
    return load_table(CARE_FILE, CareEntry, directory)


#: The tables this package owns, for ``rhabdo.knowledge.catalog``.
TABLES: tuple[tuple[str, type[KnowledgeEntry]], ...] = (
    (WORKUP_FILE, WorkupItem),
    (LOCAL_THERAPY_FILE, LocalTherapyEntry),
    (CARE_FILE, CareEntry),
)
