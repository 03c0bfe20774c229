"""Controlled vocabularies of the case model.

Each vocabulary is a ``StrEnum`` whose values are the codes written in case files.  Every
enum carries the URI of the code system the codes belong to (``CODE_SYSTEM``) and a
human-readable label per member (``label``), so that a report, a web form and a FHIR
export all say the same thing.  Mappings to external terminologies (SNOMED CT, ICD-O-3,
LOINC) live in ``rhabdo.interop``; this module only defines our own codes.
"""

from __future__ import annotations

from enum import StrEnum

VOCAB_BASE_URI = "https://rhabdo.org/fhir/CodeSystem/"


#: Human-readable labels by vocabulary name and code; a code without one reads as its words.
_LABELS: dict[str, dict[str, str]] = {}
#: Each member's label once looked up (``_LABELS`` is complete once this module is imported).
_LABEL_OF: dict[tuple[type, str], str] = {}


class Vocabulary(StrEnum):
    """Base class: a code, its label and the code system it belongs to."""

    @classmethod
    def code_system(cls) -> str:
        return VOCAB_BASE_URI + cls.vocabulary_name()

    @classmethod
    def vocabulary_name(cls) -> str:
        name = cls.__name__
        return "".join(
            "-" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name)
        )

    @property
    def label(self) -> str:
        key = (type(self), self._value_)  # not ``self``: members of two vocabularies compare equal
        found = _LABEL_OF.get(key)
        if found is None:
            labels = _LABELS.get(type(self).__name__, {})
            found = _LABEL_OF[key] = labels.get(self.value, self.value.replace("_", " "))
        return found


class Sex(Vocabulary):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


_LABELS["Sex"] = {"female": "female", "male": "male", "other": "other"}


class PrimarySite(Vocabulary):
    """Primary tumour site, fine enough to decide every published site rule.

    Favourable/unfavourable membership is not decided here: it is knowledge data with a
    citation (``knowledge/data/classification.yaml``) because the sources differ.
    """

    ORBIT = "orbit"
    EYELID = "eyelid"
    HEAD_NECK_NON_PARAMENINGEAL = "head_neck_non_parameningeal"
    PARAMENINGEAL = "parameningeal"
    BLADDER = "bladder"
    PROSTATE = "prostate"
    KIDNEY = "kidney"
    PARATESTICULAR = "paratesticular"
    VULVA_VAGINA_UTERUS = "vulva_vagina_uterus"
    OTHER_GENITOURINARY = "other_genitourinary"
    BILIARY = "biliary"
    EXTREMITY = "extremity"
    TRUNK = "trunk"
    RETROPERITONEUM = "retroperitoneum"
    PERINEUM_PERIANAL = "perineum_perianal"
    THORAX = "thorax"
    OTHER = "other"


_LABELS["PrimarySite"] = {
    "orbit": "orbit",
    "eyelid": "eyelid",
    "head_neck_non_parameningeal": "head and neck, non-parameningeal",
    "parameningeal": "parameningeal",
    "bladder": "bladder",
    "prostate": "prostate",
    "kidney": "kidney",
    "paratesticular": "paratesticular",
    "vulva_vagina_uterus": "vulva, vagina or uterus",
    "other_genitourinary": "other genitourinary (not bladder, prostate or kidney)",
    "biliary": "biliary tract",
    "extremity": "extremity",
    "trunk": "trunk",
    "retroperitoneum": "retroperitoneum",
    "perineum_perianal": "perineum / perianal",
    "thorax": "thorax",
    "other": "other site",
}


class Histology(Vocabulary):
    EMBRYONAL = "embryonal"
    EMBRYONAL_BOTRYOID = "embryonal_botryoid"
    EMBRYONAL_SPINDLE_CELL = "embryonal_spindle_cell"
    ALVEOLAR = "alveolar"
    SPINDLE_CELL_SCLEROSING = "spindle_cell_sclerosing"
    PLEOMORPHIC = "pleomorphic"
    RMS_NOS = "rms_nos"


_LABELS["Histology"] = {
    "embryonal": "embryonal RMS",
    "embryonal_botryoid": "embryonal RMS, botryoid variant",
    "embryonal_spindle_cell": "embryonal RMS, spindle-cell variant",
    "alveolar": "alveolar RMS",
    "spindle_cell_sclerosing": "spindle-cell / sclerosing RMS",
    "pleomorphic": "pleomorphic RMS",
    "rms_nos": "RMS, not otherwise specified",
}

EMBRYONAL_HISTOLOGIES = frozenset(
    {Histology.EMBRYONAL, Histology.EMBRYONAL_BOTRYOID, Histology.EMBRYONAL_SPINDLE_CELL}
)


class Anaplasia(Vocabulary):
    ABSENT = "absent"
    FOCAL = "focal"
    DIFFUSE = "diffuse"
    PRESENT_EXTENT_UNKNOWN = "present_extent_unknown"


_LABELS["Anaplasia"] = {
    "absent": "no anaplasia",
    "focal": "focal anaplasia",
    "diffuse": "diffuse anaplasia",
    "present_extent_unknown": "anaplasia, extent not stated",
}


class FusionStatus(Vocabulary):
    PAX3_FOXO1 = "pax3_foxo1"
    PAX7_FOXO1 = "pax7_foxo1"
    OTHER_FOXO1 = "other_foxo1"
    NEGATIVE = "negative"
    NOT_TESTED = "not_tested"

    @property
    def is_fusion_positive(self) -> bool | None:
        """True/False when tested; None when not tested (unknown is never 'no')."""
        if self is FusionStatus.NOT_TESTED:
            return None
        return self is not FusionStatus.NEGATIVE


_LABELS["FusionStatus"] = {
    "pax3_foxo1": "PAX3::FOXO1 fusion",
    "pax7_foxo1": "PAX7::FOXO1 fusion",
    "other_foxo1": "other FOXO1 fusion",
    "negative": "FOXO1 fusion negative",
    "not_tested": "FOXO1 fusion not tested",
}


class MutationStatus(Vocabulary):
    MUTATED = "mutated"
    WILD_TYPE = "wild_type"
    NOT_TESTED = "not_tested"


_LABELS["MutationStatus"] = {
    "mutated": "mutated",
    "wild_type": "wild-type",
    "not_tested": "not tested",
}


class Invasiveness(Vocabulary):
    """T category of the IRS/COG pretreatment staging (recorded; it never changes the stage)."""

    T1 = "T1"
    T2 = "T2"


_LABELS["Invasiveness"] = {
    "T1": "T1 (confined to the site of origin)",
    "T2": "T2 (extends into or fixed to surrounding tissue)",
}


class NodalStatus(Vocabulary):
    N0 = "N0"
    N1 = "N1"
    NX = "NX"


_LABELS["NodalStatus"] = {
    "N0": "N0 (regional nodes not involved)",
    "N1": "N1 (regional nodes involved)",
    "NX": "NX (regional nodes not assessed)",
}


class MetastaticSite(Vocabulary):
    LUNG = "lung"
    BONE = "bone"
    BONE_MARROW = "bone_marrow"
    DISTANT_NODES = "distant_nodes"
    PLEURA = "pleura"
    PERITONEUM = "peritoneum"
    CSF = "csf"
    LIVER = "liver"
    BRAIN = "brain"
    OTHER = "other"


_LABELS["MetastaticSite"] = {
    "lung": "lung",
    "bone": "bone",
    "bone_marrow": "bone marrow",
    "distant_nodes": "distant lymph nodes",
    "pleura": "pleura / pleural effusion",
    "peritoneum": "peritoneum",
    "csf": "cerebrospinal fluid / leptomeningeal",
    "liver": "liver",
    "brain": "brain",
    "other": "other distant site",
}


class SurgicalResult(Vocabulary):
    """Result of the initial surgery, as the IRS clinical group uses it."""

    BIOPSY_ONLY = "biopsy_only"
    GROSS_RESIDUAL = "gross_residual"
    MICROSCOPIC_RESIDUAL = "microscopic_residual"
    COMPLETE = "complete"


_LABELS["SurgicalResult"] = {
    "biopsy_only": "biopsy only",
    "gross_residual": "gross resection with gross residual (>50% debulking)",
    "microscopic_residual": "gross resection with microscopic residual",
    "complete": "complete resection, clear margins",
}


class IRSGroup(Vocabulary):
    """IRS clinical group as stated by the treating team (group, or group with subgroup)."""

    I = "I"  # noqa: E741 - the clinic's name
    IA = "IA"
    IB = "IB"
    II = "II"
    IIA = "IIA"
    IIB = "IIB"
    IIC = "IIC"
    III = "III"
    IIIA = "IIIA"
    IIIB = "IIIB"
    IV = "IV"

    @property
    def group(self) -> str:
        """The main group (I-IV) without the subgroup letter."""
        return self.value.rstrip("ABC")


_LABELS["IRSGroup"] = {}


class DoseUnit(Vocabulary):
    MG_M2 = "mg/m2"
    G_M2 = "g/m2"
    MCG_M2 = "mcg/m2"
    MG_KG = "mg/kg"
    MCG_KG = "mcg/kg"
    MG = "mg"
    G = "g"
    MCG = "mcg"


_LABELS["DoseUnit"] = {}


class ChemotherapyAgent(Vocabulary):
    VINCRISTINE = "vincristine"
    DACTINOMYCIN = "dactinomycin"
    CYCLOPHOSPHAMIDE = "cyclophosphamide"
    IFOSFAMIDE = "ifosfamide"
    DOXORUBICIN = "doxorubicin"
    DAUNORUBICIN = "daunorubicin"
    EPIRUBICIN = "epirubicin"
    IDARUBICIN = "idarubicin"
    MITOXANTRONE = "mitoxantrone"
    ETOPOSIDE = "etoposide"
    IRINOTECAN = "irinotecan"
    TOPOTECAN = "topotecan"
    TEMOZOLOMIDE = "temozolomide"
    VINORELBINE = "vinorelbine"
    VINBLASTINE = "vinblastine"
    CARBOPLATIN = "carboplatin"
    CISPLATIN = "cisplatin"
    GEMCITABINE = "gemcitabine"
    DOCETAXEL = "docetaxel"
    MELPHALAN = "melphalan"
    BUSULFAN = "busulfan"
    THIOTEPA = "thiotepa"
    BEVACIZUMAB = "bevacizumab"
    TEMSIROLIMUS = "temsirolimus"
    REGORAFENIB = "regorafenib"
    CABOZANTINIB = "cabozantinib"
    PAZOPANIB = "pazopanib"
    TRABECTEDIN = "trabectedin"
    OTHER = "other"


_LABELS["ChemotherapyAgent"] = {"dactinomycin": "dactinomycin (actinomycin D)"}


class Margin(Vocabulary):
    R0 = "R0"
    R1 = "R1"
    R2 = "R2"


_LABELS["Margin"] = {
    "R0": "R0 (microscopically clear)",
    "R1": "R1 (microscopic residual)",
    "R2": "R2 (macroscopic residual)",
}


class EventKind(Vocabulary):
    RELAPSE = "relapse"
    PROGRESSION = "progression"


_LABELS["EventKind"] = {
    "relapse": "relapse (recurrence after response)",
    "progression": "progression",
}


class Extent(Vocabulary):
    """Where a recurrence lies relative to the primary tumour."""

    LOCAL = "local"
    REGIONAL = "regional"
    DISTANT = "distant"


_LABELS["Extent"] = {
    "local": "local (primary site)",
    "regional": "regional (regional lymph nodes)",
    "distant": "distant (metastatic)",
}


class LesionCount(Vocabulary):
    """How many lesions a recurrent site holds: what decides whether it can all be treated
    locally (Ogawa 2021 contrasts localised with disseminated or multiple recurrence)."""

    SINGLE = "single"
    FEW = "few"
    MULTIPLE_DIFFUSE = "multiple_diffuse"


_LABELS["LesionCount"] = {
    "single": "one lesion",
    "few": "a few lesions (give the count)",
    "multiple_diffuse": "multiple or diffuse lesions",
}


class SiteSymptom(Vocabulary):
    """A symptom a recurrent site causes now: what decides palliative radiotherapy to that site
    (``rhabdo.recommend.palliative``; the indications a source names live in ``care.yaml``)."""

    PAIN = "pain"
    SPINAL_CORD_COMPRESSION = "spinal_cord_compression"
    SUPERIOR_VENA_CAVA_SYNDROME = "superior_vena_cava_syndrome"
    AIRWAY_OBSTRUCTION = "airway_obstruction"
    BLEEDING = "bleeding"
    NEUROLOGICAL = "neurological"
    OTHER = "other"


_LABELS["SiteSymptom"] = {
    "pain": "pain",
    "spinal_cord_compression": "spinal cord compression",
    "superior_vena_cava_syndrome": "superior vena cava syndrome",
    "airway_obstruction": "airway obstruction",
    "bleeding": "bleeding",
    "neurological": "neurological symptoms",
    "other": "other symptom",
}


class TreatmentResponse(Vocabulary):
    """Best response of the disease to one treatment line."""

    COMPLETE_RESPONSE = "complete_response"
    PARTIAL_RESPONSE = "partial_response"
    STABLE_DISEASE = "stable_disease"
    PROGRESSIVE_DISEASE = "progressive_disease"
    NOT_EVALUABLE = "not_evaluable"


_LABELS["TreatmentResponse"] = {
    "complete_response": "complete response",
    "partial_response": "partial response",
    "stable_disease": "stable disease",
    "progressive_disease": "progressive disease (no response)",
    "not_evaluable": "not evaluable (e.g. no measurable disease)",
}


class BodyRegion(Vocabulary):
    """Coarse body region, used to tell whether a field was irradiated."""

    HEAD_NECK = "head_neck"
    BRAIN = "brain"
    SPINE = "spine"
    THORAX = "thorax"
    ABDOMEN = "abdomen"
    PELVIS = "pelvis"
    UPPER_LIMB = "upper_limb"
    LOWER_LIMB = "lower_limb"
    OTHER = "other"


_LABELS["BodyRegion"] = {
    "head_neck": "head and neck",
    "upper_limb": "upper limb",
    "lower_limb": "lower limb",
}


class RadiotherapyTarget(Vocabulary):
    PRIMARY_TUMOUR = "primary_tumour"
    REGIONAL_NODES = "regional_nodes"
    METASTASIS = "metastasis"
    WHOLE_LUNG = "whole_lung"
    RECURRENCE = "recurrence"
    PALLIATIVE = "palliative"


_LABELS["RadiotherapyTarget"] = {"primary_tumour": "primary tumour", "whole_lung": "whole lung"}


class PerformanceScale(Vocabulary):
    LANSKY = "lansky"
    KARNOFSKY = "karnofsky"


_LABELS["PerformanceScale"] = {"lansky": "Lansky play-performance", "karnofsky": "Karnofsky"}


class PredispositionSyndrome(Vocabulary):
    """Cancer-predisposition syndromes associated with RMS (Schneider 2020; Kim 2021)."""

    LI_FRAUMENI = "li_fraumeni"
    NEUROFIBROMATOSIS_1 = "neurofibromatosis_1"
    DICER1 = "dicer1"
    COSTELLO = "costello"
    NOONAN = "noonan"
    BECKWITH_WIEDEMANN = "beckwith_wiedemann"
    CONSTITUTIONAL_MISMATCH_REPAIR_DEFICIENCY = "constitutional_mismatch_repair_deficiency"
    OTHER = "other"


_LABELS["PredispositionSyndrome"] = {
    "li_fraumeni": "Li-Fraumeni syndrome (TP53)",
    "neurofibromatosis_1": "neurofibromatosis type 1",
    "dicer1": "DICER1 syndrome",
    "costello": "Costello syndrome (HRAS)",
    "noonan": "Noonan syndrome",
    "beckwith_wiedemann": "Beckwith-Wiedemann syndrome",
    "constitutional_mismatch_repair_deficiency": "constitutional mismatch-repair deficiency",
}


class AlterationKind(Vocabulary):
    """Kind of tumour alteration reported by a molecular or IHC test (trial biomarker criteria)."""

    MUTATION = "mutation"
    AMPLIFICATION = "amplification"
    DELETION = "deletion"
    FUSION = "fusion"
    EXPRESSION = "expression"
    OTHER = "other"


_LABELS["AlterationKind"] = {"expression": "protein expression (e.g. by IHC)"}

ALL_VOCABULARIES: tuple[type[Vocabulary], ...] = (
    Sex,
    PrimarySite,
    Histology,
    Anaplasia,
    FusionStatus,
    MutationStatus,
    Invasiveness,
    NodalStatus,
    MetastaticSite,
    SurgicalResult,
    IRSGroup,
    DoseUnit,
    ChemotherapyAgent,
    Margin,
    EventKind,
    Extent,
    LesionCount,
    SiteSymptom,
    TreatmentResponse,
    BodyRegion,
    RadiotherapyTarget,
    PerformanceScale,
    PredispositionSyndrome,
    AlterationKind,
)
