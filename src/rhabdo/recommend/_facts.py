"""Facts about the current recurrence that several recommendation rules share.

Each helper reads the case directly and answers ``True``/``False`` or ``None`` when the case does
not say (unknown is never "no").  They decide nothing clinical on their own; the rules combine
them with knowledge entries and say which inputs they used.

Months are counted as days / 30.4375 (the mean Gregorian month), the same convention the relapse
timing finding states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rhabdo.case.memo import once_per_assessment
from rhabdo.case.model import Case, DiseaseEvent, EventSite, RadiotherapyCourse
from rhabdo.case.vocab import (
    BodyRegion,
    ChemotherapyAgent,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    MetastaticSite,
    PrimarySite,
    RadiotherapyTarget,
)
from rhabdo.classify.extent import RecurrenceExtent, case_event_extent
from rhabdo.exposure.cumulative import radiotherapy_paths
from rhabdo.exposure.findings import unrecorded_radiotherapy
from rhabdo.results import Finding

DAYS_PER_MONTH = 30.4375

#: Agents whose prior use the biopsy rule counts as second-malignancy risk (Ogawa 2021 names a
#: second cancer; the agent classes follow the issue: alkylators, etoposide, anthracyclines).
ALKYLATING_AGENTS = frozenset(
    {
        ChemotherapyAgent.CYCLOPHOSPHAMIDE,
        ChemotherapyAgent.IFOSFAMIDE,
        ChemotherapyAgent.MELPHALAN,
        ChemotherapyAgent.BUSULFAN,
        ChemotherapyAgent.THIOTEPA,
        ChemotherapyAgent.TEMOZOLOMIDE,
    }
)
EPIPODOPHYLLOTOXINS = frozenset({ChemotherapyAgent.ETOPOSIDE})
ANTHRACYCLINES = frozenset(
    {
        ChemotherapyAgent.DOXORUBICIN,
        ChemotherapyAgent.DAUNORUBICIN,
        ChemotherapyAgent.EPIRUBICIN,
        ChemotherapyAgent.IDARUBICIN,
        ChemotherapyAgent.MITOXANTRONE,
    }
)

HEAD_NECK_NON_ORBITAL_SITES = frozenset(
    {PrimarySite.PARAMENINGEAL, PrimarySite.HEAD_NECK_NON_PARAMENINGEAL}
)
GENITOURINARY_SITES = frozenset(
    {
        PrimarySite.BLADDER,
        PrimarySite.PROSTATE,
        PrimarySite.KIDNEY,
        PrimarySite.PARATESTICULAR,
        PrimarySite.VULVA_VAGINA_UTERUS,
        PrimarySite.OTHER_GENITOURINARY,
    }
)


def current_event(case: Case) -> DiseaseEvent | None:
    """The latest recurrence or progression (the one the team is deciding about)."""
    return case.current_event


def current_event_path(case: Case) -> str:
    return f"events[{len(case.events) - 1}]"


def event_sites(case: Case) -> list[EventSite] | None:
    """Sites of the current event; None when not yet known (absent or empty list)."""
    ev = current_event(case)
    if ev is None or not ev.sites:
        return None
    return list(ev.sites)


class Spread:
    """How the current recurrence is spread (the ``relapse.extent`` finding, coarsened)."""

    LOCALISED = "localised"  # local, regional, local + regional, or localised metastatic
    DISSEMINATED = "disseminated"
    UNKNOWN = "unknown"


def current_extent(case: Case) -> RecurrenceExtent | None:
    """The current event's extent (``relapse.extent``, remembered within an assessment);
    None when it is not decided."""
    if not case.events:
        return None
    return case_event_extent(case, len(case.events) - 1).value


def recurrence_spread(case: Case) -> str:
    """Localised vs disseminated, as the ``relapse.extent`` finding decides it (Ogawa 2021)."""
    extent = current_extent(case)
    if extent is None:
        return Spread.UNKNOWN
    return Spread.LOCALISED if extent.localised else Spread.DISSEMINATED


def recurrence_count(case: Case) -> int:
    """How many recurrences or progressions the case records."""
    return len(case.events)


def distant_sites(case: Case) -> list[EventSite]:
    return [s for s in event_sites(case) or [] if s.extent is Extent.DISTANT]


def has_extent(case: Case, extent: Extent) -> bool | None:
    sites = event_sites(case)
    if sites is None:
        return None
    return any(s.extent is extent for s in sites)


def metastatic_at_diagnosis(case: Case) -> bool | None:
    mets = case.diagnosis.distant_metastases
    if mets is None:
        return None
    return bool(mets)


def months_from_treatment_start(case: Case, event: DiseaseEvent) -> tuple[float | None, str]:
    """Months from the start of first-line treatment (or, failing that, diagnosis) to ``event``.

    The seed paper times recurrence from the start of treatment; diagnosis is the fallback clock
    and the returned label says which clock was used.
    """
    if event.date is None:
        return None, "event date unknown"
    start = case.first_line.start_date if case.first_line else None
    if start is not None:
        return (event.date - start).days / DAYS_PER_MONTH, "start of first-line treatment"
    if case.diagnosis.date is not None:
        return (event.date - case.diagnosis.date).days / DAYS_PER_MONTH, "diagnosis"
    return None, "no start-of-treatment or diagnosis date"


def early_progression(case: Case) -> bool | None:
    """Progression or relapse while first-line therapy was still being given.

    True when the first event is a progression, or when it is dated on or before the end of
    first-line therapy or while that line is ongoing; None when the dates do not decide.
    """
    first = case.first_event
    if first is None:
        return False
    if first.kind is EventKind.PROGRESSION:
        return True
    line = case.first_line
    if line is None:
        return None
    if line.ongoing:
        return True
    if first.date is not None and line.end_date is not None:
        return first.date <= line.end_date
    return None


@once_per_assessment
def agents_given(case: Case) -> frozenset[ChemotherapyAgent]:
    return frozenset(c.agent for line in case.all_treatment_lines() for c in line.chemotherapy)


def radiotherapy_courses(case: Case) -> tuple[tuple[str, RadiotherapyCourse], ...]:
    """Every radiotherapy course with its path, in line order: the exposure layer's answer
    (remembered once per assessment there), which the exposure findings read too."""
    return radiotherapy_paths(case)


def treatment_history_known(case: Case) -> bool:
    return case.first_line is not None


@dataclass(frozen=True)
class FieldIrradiation:
    """Whether a recurrent site lies in a previously irradiated field, and the dose given there."""

    site_index: int
    site: EventSite
    irradiated: bool | None
    prior_dose_gy: float | None  # summed over courses to the same body region, when all doses known
    basis: str
    inputs: tuple[str, ...]


@once_per_assessment
def site_irradiation(case: Case) -> tuple[FieldIrradiation, ...]:
    """For each recurrent site: was it irradiated before, and with how much?

    The case's own ``in_irradiated_field`` decides when given.  Otherwise a prior course to the
    same body region makes it *possibly* irradiated (returned as None with the reason).  Not
    irradiated is decided only by the record: every course's region known and none the site's,
    with no line whose radiotherapy is unrecorded, or every line saying
    ``radiotherapy_given: false``.  An empty radiotherapy list is not evidence of none.
    """
    sites = event_sites(case)
    if sites is None:
        return ()
    courses = radiotherapy_courses(case)
    unrecorded = unrecorded_radiotherapy(case)
    ev_path = current_event_path(case)
    out = []
    for i, site in enumerate(sites):
        path = f"{ev_path}.sites[{i}]"
        same_region = [
            (p, rt)
            for p, rt in courses
            if site.body_region is not None and rt.body_region is site.body_region
        ]
        doses = [rt.total_dose_gy for _, rt in same_region]
        dose = sum(d for d in doses if d is not None) if same_region and None not in doses else None
        inputs = (
            f"{path}.in_irradiated_field",
            f"{path}.body_region",
            *(p for p, _ in same_region),
        )
        if site.in_irradiated_field is not None:
            basis = "stated in the case"
            irradiated: bool | None = site.in_irradiated_field
            if irradiated and not same_region:
                dose = None
        elif same_region:
            irradiated = None
            region = site.body_region.label if site.body_region else ""
            basis = f"a prior course treated the same body region ({region})"
        elif (
            courses
            and site.body_region is not None
            and not unrecorded
            and all(rt.body_region is not None for _, rt in courses)
        ):
            irradiated = False
            basis = "no prior course treated this body region"
        elif case.prior_radiotherapy() is False:
            irradiated = False
            basis = "every treatment line records that no radiotherapy was given"
        elif not treatment_history_known(case):
            irradiated = None
            basis = "the treatment history is not recorded"
        elif unrecorded:
            irradiated = None
            basis = (
                "the radiotherapy of "
                + ", ".join(p.removesuffix(".radiotherapy_given") for p in unrecorded)
                + " is not recorded (radiotherapy_given not stated)"
            )
        else:
            irradiated = None
            basis = "whether this site was irradiated is not recorded"
        out.append(FieldIrradiation(i, site, irradiated, dose, basis, inputs))
    return tuple(out)


def marrow_risk(case: Case) -> bool | None:
    """Whether marrow involvement is plausible enough to sample marrow (see workup.bone_marrow)."""
    sites = event_sites(case)
    alveolar = case.diagnosis.histology is Histology.ALVEOLAR or (
        case.diagnosis.foxo1_fusion is not None
        and case.diagnosis.foxo1_fusion.is_fusion_positive is True
    )
    if sites is None:
        return None
    if any(s.extent is Extent.DISTANT for s in sites):
        return True
    if alveolar:
        return True
    if (
        case.diagnosis.foxo1_fusion in (None, FusionStatus.NOT_TESTED)
        and case.diagnosis.histology is None
    ):
        return None
    return False


def cns_risk(case: Case) -> bool | None:
    if any(
        s.metastatic_site in (MetastaticSite.CSF, MetastaticSite.BRAIN) for s in distant_sites(case)
    ):
        return True
    if case.diagnosis.primary_site is None:
        return None
    return case.diagnosis.primary_site is PrimarySite.PARAMENINGEAL


def lower_limb_or_gu_primary(case: Case) -> bool | None:
    site = case.diagnosis.primary_site
    if site is None:
        return None
    if site in GENITOURINARY_SITES:
        return True
    if site is PrimarySite.EXTREMITY:
        # Only the lower limb calls for abdomino-pelvic imaging; a case says which limb through
        # the body region of the recurrence or of the radiotherapy to the primary tumour.
        regions = {s.body_region for s in event_sites(case) or []}
        regions |= {
            rt.body_region
            for _, rt in radiotherapy_courses(case)
            if rt.target is RadiotherapyTarget.PRIMARY_TUMOUR
        }
        if BodyRegion.LOWER_LIMB in regions:
            return True
        if BodyRegion.UPPER_LIMB in regions:
            return False
        return None
    return False


def present(findings: Mapping[str, Finding], *ids: str) -> list[str]:
    """The ids among ``ids`` that are present in ``findings`` (for based_on_findings)."""
    return [i for i in ids if i in findings]
