"""The case model: one patient with relapsed, refractory or metastatic RMS.

Every field is optional unless the case would be meaningless without it (a pseudonymous
patient id).  ``None`` always means *unknown*; it never stands for "no" or "none".  Where the
distinction matters a list is ``None`` when unknown and ``[]`` when known to be empty (for
example ``distant_metastases: []`` means M0, ``distant_metastases`` absent means M unknown).

Unknown keys are rejected (``extra="forbid"``).  Cross-field date checks name the field that
is inconsistent.  Derived values (age at diagnosis in days, relapse intervals) are computed
by properties so that they are never stored twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rhabdo.case.vocab import (
    AlterationKind,
    Anaplasia,
    BodyRegion,
    ChemotherapyAgent,
    DoseUnit,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    Invasiveness,
    IRSGroup,
    LesionCount,
    Margin,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PerformanceScale,
    PredispositionSyndrome,
    PrimarySite,
    RadiotherapyTarget,
    Sex,
    SiteSymptom,
    SurgicalResult,
    TreatmentResponse,
)

SCHEMA_VERSION: Literal["1"] = "1"

PositiveFloat = Annotated[float, Field(gt=0)]


@dataclass(frozen=True)
class ListCap:
    """The most items a list in a case may hold, and what they are called in an error."""

    limit: int
    items: str


#: Caps on list lengths, well above any real patient's history (a child with RMS rarely has
#: more than a handful of treatment lines, events or operations) and low enough that a case
#: always renders quickly.  A longer list is refused with the cap named.
LIST_CAPS: dict[str, ListCap] = {
    "Case.later_lines": ListCap(20, "later treatment lines"),
    "Case.events": ListCap(30, "relapse or progression events"),
    "Diagnosis.distant_metastases": ListCap(30, "metastatic sites at diagnosis"),
    "Diagnosis.tumour_alterations": ListCap(100, "tumour alterations"),
    "TreatmentLine.chemotherapy": ListCap(30, "chemotherapy agents per treatment line"),
    "TreatmentLine.radiotherapy": ListCap(20, "radiotherapy courses per treatment line"),
    "TreatmentLine.surgeries": ListCap(20, "surgeries per treatment line"),
    "DiseaseEvent.sites": ListCap(50, "sites per event"),
    "EventSite.symptoms": ListCap(10, "symptoms per site"),
}


def _cap(key: str) -> int:
    return LIST_CAPS[key].limit


NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Patient(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")] = Field(
        description="Pseudonymous identifier. Never a name, hospital number or date of birth."
    )
    sex: Sex | None = None
    date_of_birth: dt.date | None = Field(
        default=None, description="Used only to compute ages; never shown or logged."
    )
    age_at_diagnosis_days: Annotated[int, Field(ge=0, le=365 * 60)] | None = Field(
        default=None,
        description="Age at first diagnosis in days (when the date of birth is withheld).",
    )
    family_history_of_cancer: bool | None = Field(
        default=None, description="A family history suggestive of a cancer-predisposition syndrome."
    )
    known_predisposition: PredispositionSyndrome | None = None


class InitialSurgery(_Strict):
    result: SurgicalResult
    confined_to_site_of_origin: bool | None = Field(
        default=None,
        description="Completely resected tumour confined to its muscle/organ (IA vs IB).",
    )
    regional_nodes_resected: bool | None = None
    regional_nodes_involved_pathologically: bool | None = None
    most_distal_node_involved: bool | None = None

    @model_validator(mode="after")
    def _distal_node_is_a_regional_node(self) -> InitialSurgery:
        if self.most_distal_node_involved and self.regional_nodes_involved_pathologically is False:
            raise ValueError(
                "most_distal_node_involved: true, but regional_nodes_involved_pathologically is "
                "false (the most distal node is a regional node)"
            )
        return self


class TumourAlteration(_Strict):
    """One tested tumour alteration: which gene, what kind, and whether it was detected."""

    gene: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9.\-]*$")] = (
        Field(description="HGNC gene symbol, e.g. NRAS, CD276 (B7-H3), FGFR4.")
    )
    alteration: AlterationKind
    detected: bool = Field(description="True when found; False when tested and not found.")
    detail: Annotated[str, Field(max_length=200)] | None = None


class Diagnosis(_Strict):
    date: dt.date | None = None
    primary_site: PrimarySite | None = None
    primary_site_detail: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Free-text anatomical detail, e.g. 'nasopharynx'."
    )
    histology: Histology | None = None
    anaplasia: Anaplasia | None = None
    foxo1_fusion: FusionStatus | None = None
    myod1: MutationStatus | None = None
    tp53: MutationStatus | None = Field(default=None, description="Tumour (somatic) TP53 status.")
    tp53_germline: MutationStatus | None = None
    invasiveness: Invasiveness | None = None
    max_diameter_cm: PositiveFloat | None = Field(default=None, le=100)
    regional_nodes: NodalStatus | None = None
    distant_metastases: list[MetastaticSite] | None = Field(
        default=None,
        max_length=_cap("Diagnosis.distant_metastases"),
        description="Sites of distant metastasis at diagnosis; [] means M0, absent means unknown.",
    )
    distant_metastasis_site_count: Annotated[int, Field(ge=0, le=50)] | None = Field(
        default=None,
        description="Number of distinct metastatic sites/organs as counted by the treating team, "
        "when more detailed than the site list.",
    )
    initial_surgery: InitialSurgery | None = None
    irs_group_stated: IRSGroup | None = Field(
        default=None, description="The IRS clinical group as recorded by the treating team."
    )
    tumour_alterations: list[TumourAlteration] | None = Field(
        default=None,
        max_length=_cap("Diagnosis.tumour_alterations"),
        description="Tested tumour alterations beyond FOXO1/MYOD1/TP53 (absent means unknown).",
    )

    @model_validator(mode="after")
    def _metastases_consistent(self) -> Diagnosis:
        if self.distant_metastases is not None:
            if len(set(self.distant_metastases)) != len(self.distant_metastases):
                raise ValueError("distant_metastases: a site is listed twice")
            if self.irs_group_stated is IRSGroup.IV and not self.distant_metastases:
                raise ValueError(
                    "irs_group_stated: group IV requires distant metastases, "
                    "but distant_metastases is empty"
                )
            if self.irs_group_stated not in (None, IRSGroup.IV) and self.distant_metastases:
                raise ValueError(
                    "irs_group_stated: distant metastases are listed, so the group must be IV"
                )
        return self


class ChemotherapyExposure(_Strict):
    """One agent in one treatment line: per-administration dose and count, or a cumulative dose."""

    agent: ChemotherapyAgent
    agent_name: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="Required when agent is 'other'."
    )
    dose_per_administration: PositiveFloat | None = None
    dose_unit: DoseUnit | None = None
    administrations: Annotated[int, Field(ge=1, le=1000)] | None = None
    cumulative_dose: NonNegativeFloat | None = None
    cumulative_dose_unit: DoseUnit | None = None

    @model_validator(mode="after")
    def _units_present(self) -> ChemotherapyExposure:
        if self.agent is ChemotherapyAgent.OTHER and not self.agent_name:
            raise ValueError("agent_name: required when agent is 'other'")
        if self.dose_per_administration is not None and self.dose_unit is None:
            raise ValueError("dose_unit: required with dose_per_administration")
        if self.cumulative_dose is not None and self.cumulative_dose_unit is None:
            raise ValueError("cumulative_dose_unit: required with cumulative_dose")
        return self

    @property
    def display_name(self) -> str:
        return (
            self.agent_name
            if self.agent is ChemotherapyAgent.OTHER and self.agent_name
            else self.agent.label
        )


class RadiotherapyCourse(_Strict):
    target: RadiotherapyTarget | None = None
    target_site: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Free-text description of the treated volume."
    )
    body_region: BodyRegion | None = None
    total_dose_gy: Annotated[float, Field(gt=0, le=150)] | None = None
    fractions: Annotated[int, Field(ge=1, le=100)] | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    brachytherapy: bool | None = None

    @model_validator(mode="after")
    def _dates(self) -> RadiotherapyCourse:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: radiotherapy ends before it starts")
        return self


class Surgery(_Strict):
    date: dt.date | None = None
    site: Annotated[str, Field(max_length=200)] | None = None
    margin: Margin | None = None


class TreatmentLine(_Strict):
    """One line of treatment (first-line, or a later line given for relapse)."""

    protocol: Annotated[str, Field(max_length=200)] | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    weight_kg: Annotated[float, Field(gt=0, le=250)] | None = Field(
        default=None, description="Weight used for dosing during this line."
    )
    body_surface_area_m2: Annotated[float, Field(gt=0, le=3.5)] | None = None
    chemotherapy: list[ChemotherapyExposure] = Field(
        default_factory=list, max_length=_cap("TreatmentLine.chemotherapy")
    )
    radiotherapy: list[RadiotherapyCourse] = Field(
        default_factory=list, max_length=_cap("TreatmentLine.radiotherapy")
    )
    surgeries: list[Surgery] = Field(
        default_factory=list, max_length=_cap("TreatmentLine.surgeries")
    )
    ongoing: bool | None = Field(
        default=None, description="True while this line is still being given."
    )
    radiotherapy_given: bool | None = Field(
        default=None,
        description="Whether any radiotherapy was part of this line. An empty radiotherapy list "
        "alone does not mean none was given: say false here when none was.",
    )
    best_response: TreatmentResponse | None = Field(
        default=None,
        description="Best response of the disease to this line (progressive_disease when it "
        "never responded).",
    )

    @model_validator(mode="after")
    def _dates(self) -> TreatmentLine:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: treatment ends before it starts")
        if self.ongoing and self.end_date is not None:
            raise ValueError("ongoing: a line with an end_date cannot be ongoing")
        if self.radiotherapy_given is False and self.radiotherapy:
            raise ValueError("radiotherapy_given: false, but radiotherapy courses are listed")
        return self


class EventSite(_Strict):
    extent: Extent
    location: Annotated[str, Field(max_length=200)] | None = None
    metastatic_site: MetastaticSite | None = Field(
        default=None, description="For distant sites: which organ."
    )
    body_region: BodyRegion | None = None
    in_irradiated_field: bool | None = None
    lesions: LesionCount | None = Field(
        default=None,
        description="One lesion, a few (give lesion_count) or multiple/diffuse at this site.",
    )
    lesion_count: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="Number of lesions at this site, when counted."
    )
    symptoms: list[SiteSymptom] | None = Field(
        default=None,
        max_length=_cap("EventSite.symptoms"),
        description="Symptoms this site causes now; an empty list means none; absent means "
        "not recorded.",
    )

    @model_validator(mode="after")
    def _metastatic_site_only_when_distant(self) -> EventSite:
        if self.metastatic_site is not None and self.extent is not Extent.DISTANT:
            raise ValueError("metastatic_site: only distant sites have a metastatic site")
        if self.lesion_count is not None:
            if self.lesions is LesionCount.SINGLE and self.lesion_count != 1:
                raise ValueError("lesion_count: a single lesion has lesion_count 1")
            if self.lesions is LesionCount.FEW and self.lesion_count < 2:
                raise ValueError("lesion_count: 'few' lesions means a count of 2 or more")
        return self

    @property
    def lesion_multiplicity(self) -> LesionCount | None:
        """The stated multiplicity, or the one a count decides (1 = single)."""
        if self.lesions is not None:
            return self.lesions
        if self.lesion_count == 1:
            return LesionCount.SINGLE
        return None


class DiseaseEvent(_Strict):
    kind: EventKind
    date: dt.date | None = None
    sites: list[EventSite] | None = Field(
        default=None,
        max_length=_cap("DiseaseEvent.sites"),
        description="Absent means not yet known.",
    )
    max_diameter_cm: PositiveFloat | None = Field(default=None, le=100)
    suspected_second_malignancy: bool | None = None
    atypical_imaging: bool | None = None
    histologically_confirmed: bool | None = None


class PerformanceStatus(_Strict):
    scale: PerformanceScale
    score: Annotated[int, Field(ge=0, le=100)]

    @model_validator(mode="after")
    def _multiple_of_ten(self) -> PerformanceStatus:
        if self.score % 10:
            raise ValueError("score: Lansky and Karnofsky scores are multiples of 10")
        return self


class OrganFunction(_Strict):
    creatinine_clearance_ml_min_1_73m2: Annotated[float, Field(ge=0, le=300)] | None = None
    lvef_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    shortening_fraction_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    bilirubin_x_uln: Annotated[float, Field(ge=0, le=100)] | None = Field(
        default=None, description="Total bilirubin as a multiple of the upper limit of normal."
    )
    alt_x_uln: Annotated[float, Field(ge=0, le=200)] | None = None
    absolute_neutrophil_count_per_ul: Annotated[float, Field(ge=0, le=100000)] | None = None
    platelets_per_ul: Annotated[float, Field(ge=0, le=3000000)] | None = None


class CurrentState(_Strict):
    assessed_on: dt.date | None = None
    weight_kg: Annotated[float, Field(gt=0, le=250)] | None = Field(
        default=None, description="Current weight, used to dose the options offered now."
    )
    body_surface_area_m2: Annotated[float, Field(gt=0, le=3.5)] | None = Field(
        default=None, description="Current body-surface area, used to dose the options offered now."
    )
    tanner_stage: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="Current pubertal (Tanner) stage, 1 (pre-pubertal) to 5."
    )
    performance: PerformanceStatus | None = None
    organ_function: OrganFunction | None = None
    goals_of_care: Annotated[str, Field(max_length=4000)] | None = None
    measurable_disease: bool | None = None


#: Primary sites that exist in one sex only (anatomy).
_SEX_SPECIFIC_SITES = {
    PrimarySite.PROSTATE: Sex.MALE,
    PrimarySite.PARATESTICULAR: Sex.MALE,
    PrimarySite.VULVA_VAGINA_UTERUS: Sex.FEMALE,
}


class Case(_Strict):
    """One patient: diagnosis, treatment given, disease events and current state."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    patient: Patient
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    first_line: TreatmentLine | None = None
    later_lines: list[TreatmentLine] = Field(
        default_factory=list, max_length=_cap("Case.later_lines")
    )
    events: list[DiseaseEvent] = Field(default_factory=list, max_length=_cap("Case.events"))
    current: CurrentState | None = None

    @model_validator(mode="after")
    def _sex_matches_site(self) -> Case:
        site, sex = self.diagnosis.primary_site, self.patient.sex
        if site is None or sex is None or site not in _SEX_SPECIFIC_SITES:
            return self
        if sex is not _SEX_SPECIFIC_SITES[site] and sex is not Sex.OTHER:
            raise ValueError(
                f"diagnosis.primary_site: {site.value} is not possible with patient.sex "
                f"{sex.value}; check both fields"
            )
        return self

    @model_validator(mode="after")
    def _dates_consistent(self) -> Case:
        dx = self.diagnosis.date
        dob = self.patient.date_of_birth
        if dob and dx and dx < dob:
            raise ValueError("diagnosis.date: diagnosis is before the date of birth")
        stated_days = self.patient.age_at_diagnosis_days
        if dob and dx and stated_days is not None and (dx - dob).days != stated_days:
            raise ValueError(
                "patient.age_at_diagnosis_days: does not match date_of_birth and "
                f"diagnosis.date ({(dx - dob).days} days)"
            )
        if dx:
            lines = [("first_line", self.first_line)] if self.first_line else []
            lines += [(f"later_lines[{i}]", line) for i, line in enumerate(self.later_lines)]
            for name, line in lines:
                if line is None:
                    continue
                if line.start_date and line.start_date < dx:
                    raise ValueError(f"{name}.start_date: treatment starts before diagnosis.date")
                for j, rt in enumerate(line.radiotherapy):
                    if rt.start_date and rt.start_date < dx:
                        raise ValueError(
                            f"{name}.radiotherapy[{j}].start_date: before diagnosis.date"
                        )
                for j, s in enumerate(line.surgeries):
                    if s.date and dob and s.date < dob:
                        raise ValueError(f"{name}.surgeries[{j}].date: before the date of birth")
            for i, ev in enumerate(self.events):
                if ev.date and ev.date <= dx:
                    raise ValueError(
                        f"events[{i}].date: a relapse or progression must come after diagnosis.date"
                    )
        if self.first_line and self.first_line.start_date:
            for i, line in enumerate(self.later_lines):
                if line.start_date and line.start_date < self.first_line.start_date:
                    raise ValueError(f"later_lines[{i}].start_date: before first_line.start_date")
        dated = [ev.date for ev in self.events if ev.date]
        if dated != sorted(dated):
            raise ValueError("events: list events in date order, earliest first")
        return self

    # --- derived values -------------------------------------------------------------

    @property
    def age_at_diagnosis_days(self) -> int | None:
        """Age at first diagnosis in days, from the stated age or from the two dates."""
        if self.patient.age_at_diagnosis_days is not None:
            return self.patient.age_at_diagnosis_days
        if self.patient.date_of_birth and self.diagnosis.date:
            return (self.diagnosis.date - self.patient.date_of_birth).days
        return None

    @property
    def first_event(self) -> DiseaseEvent | None:
        return self.events[0] if self.events else None

    @property
    def current_event(self) -> DiseaseEvent | None:
        return self.events[-1] if self.events else None

    def all_treatment_lines(self) -> list[TreatmentLine]:
        return ([self.first_line] if self.first_line else []) + list(self.later_lines)

    def prior_radiotherapy(self) -> bool | None:
        """Whether any radiotherapy was given in any recorded line; None when not known.

        A course listed in any line decides yes; no can only be decided when every line says
        ``radiotherapy_given: false`` (an empty list is not evidence of none).
        """
        lines = self.all_treatment_lines()
        if any(line.radiotherapy for line in lines):
            return True
        if lines and all(line.radiotherapy_given is False for line in lines):
            return False
        return None
