"""Code maps between external terminologies (SNOMED CT, ICD-O-3, ICD-10-CM, LOINC, UCUM,
RxNorm, HGNC) and rhabdo's own vocabularies (``rhabdo.case.vocab``).

Every external code in this module was looked up in one of:

* the mCODE STU4 data dictionary (``shared/fixtures/mcode-stu4/mCODEDataDictionary-STU4.json``,
  value sets "Radiotherapy Treatment Location", "Secondary Cancer Disorder", "Condition Status
  Trend", "TNM ... Staging Type", "Tumor Size Units") -- marked ``[DD]``;
* the mCODE STU4 example instances (``EX_*.fsh`` in the same folder) -- marked ``[FSH]``;
* published FHIR Shorthand of the mCODE and genomics implementation guides and the SEER
  multiple-primary rules (found with the project's code search) -- marked ``[IG]``.

SNOMED CT and RxNorm codes that rhabdo *writes* are also registered, with their sources
(repository, commit, path), in ``knowledge/data/terminology/codes.yaml``; a code enters only when
the vendored HL7 artefacts carry it or two independent published sources agree.

A code that could not be confirmed is not listed: the importer then reports it as unmapped
(resource id + code) instead of guessing, and the exporter writes our own coding only.

Every resource the exporter writes also carries a coding in rhabdo's own code system for the
vocabulary (``Vocabulary.code_system()``); the importer prefers that coding when present, so a
rhabdo -> FHIR -> rhabdo round trip is exact even where no external code exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from rhabdo.case.vocab import (
    ChemotherapyAgent,
    DoseUnit,
    Histology,
    IRSGroup,
    MetastaticSite,
    PrimarySite,
    Vocabulary,
)

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
#: HGNC as the mCODE 4.0.0 examples write it (preferred); the older ``/geneId`` form is read too.
HGNC = "http://www.genenames.org"
HGNC_SYSTEMS = frozenset({HGNC, "http://www.genenames.org/geneId", "http://www.genenames.org/"})
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#: Core extension for "this value is absent, and why" (FHIR R4).
EXT_DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: Core extension for a related condition (mCODE SecondaryCancerCondition slice
#: ``relatedPrimaryCancerCondition``).
EXT_CONDITION_RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

MCODE_SD = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
RHABDO_BASE = "https://rhabdo.org/fhir/"
#: Our own identifier system for the pseudonymous patient id (FHIR ids forbid ``_`` and ``:``).
PATIENT_ID_SYSTEM = RHABDO_BASE + "patient-id"
#: Our code systems for things that have no vocabulary enum.
FINDING_CODE_SYSTEM = RHABDO_BASE + "CodeSystem/finding"
RULE_CODE_SYSTEM = RHABDO_BASE + "CodeSystem/rule"
RECOMMENDATION_CATEGORY_SYSTEM = RHABDO_BASE + "CodeSystem/recommendation-category"
M_CATEGORY_SYSTEM = RHABDO_BASE + "CodeSystem/distant-metastasis-category"
TREATMENT_LINE_SYSTEM = RHABDO_BASE + "CodeSystem/treatment-line"
EXT_LINE_NUMBER = RHABDO_BASE + "StructureDefinition/treatment-line-number"
EXT_CUMULATIVE_DOSE = RHABDO_BASE + "StructureDefinition/cumulative-dose"
EXT_BRACHYTHERAPY = RHABDO_BASE + "StructureDefinition/brachytherapy"
#: Identifier system of a tumour BodyStructure: the value is the full URL of the record
#: (primary Condition or disease-status Observation) the lesion belongs to.
TUMOUR_IDENTIFIER_SYSTEM = RHABDO_BASE + "tumour"
#: How rhabdo staged the T/N/M categories: the IRS pretreatment TNM system, which AJCC codes
#: do not describe (the mCODE staging-method binding is extensible).
STAGING_METHOD_SYSTEM = RHABDO_BASE + "CodeSystem/staging-method"


@dataclass(frozen=True)
class Code:
    """One external code: system, code and the display text of its source."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


V = TypeVar("V", bound=Vocabulary)


def own_coding(member: Vocabulary) -> dict[str, str]:
    """The coding of a vocabulary member in rhabdo's own code system."""
    display: str = str(member.label)
    return {"system": type(member).code_system(), "code": str(member.value), "display": display}


def from_own_coding(vocab: type[V], system: str | None, code: str | None) -> V | None:
    """The member of ``vocab`` for a coding in our own code system, else None."""
    if system != vocab.code_system() or code is None:
        return None
    try:
        return vocab(code)
    except ValueError:
        return None


# --- profiles and extensions (mCODE STU4) [DD] ------------------------------------------

PROFILE_PATIENT = MCODE_SD + "mcode-cancer-patient"
PROFILE_PRIMARY = MCODE_SD + "mcode-primary-cancer-condition"
PROFILE_SECONDARY = MCODE_SD + "mcode-secondary-cancer-condition"
PROFILE_CANCER_STAGE = MCODE_SD + "mcode-cancer-stage"
PROFILE_TNM_T = MCODE_SD + "mcode-tnm-primary-tumor-category"
PROFILE_TNM_N = MCODE_SD + "mcode-tnm-regional-nodes-category"
PROFILE_TNM_M = MCODE_SD + "mcode-tnm-distant-metastases-category"
PROFILE_TUMOR_SIZE = MCODE_SD + "mcode-tumor-size"
PROFILE_GENOMIC_VARIANT = MCODE_SD + "mcode-genomic-variant"
PROFILE_DISEASE_STATUS = MCODE_SD + "mcode-cancer-disease-status"
PROFILE_SURGERY = MCODE_SD + "mcode-cancer-related-surgical-procedure"
PROFILE_RT_COURSE = MCODE_SD + "mcode-radiotherapy-course-summary"
PROFILE_MED_REQUEST = MCODE_SD + "mcode-cancer-related-medication-request"
PROFILE_MED_ADMIN = MCODE_SD + "mcode-cancer-related-medication-administration"
PROFILE_TUMOR = MCODE_SD + "mcode-tumor"
PROFILE_RT_VOLUME = MCODE_SD + "mcode-radiotherapy-volume"
PROFILE_RMS_RISK = MCODE_SD + "mcode-rhabdomyosarcoma-risk-assessment"
#: The risk-assessment type and values the mCODE 4.0.0 RhabdomyosarcomaRiskAssessment profile
#: fixes and binds (its StructureDefinition and mcode-rhabdomyosarcoma-assessment-value-vs).
RMS_RISK_ASSESSMENT = Code(
    "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "C148010",
    "Intergroup Rhabdomyosarcoma Study Group Clinical Staging and Grouping System",
)

EXT_HISTOLOGY = MCODE_SD + "mcode-histology-morphology-behavior"
EXT_RT_DOSE_TO_VOLUME = MCODE_SD + "mcode-radiotherapy-dose-delivered-to-volume"
EXT_RELATED_CONDITION = MCODE_SD + "mcode-related-condition"
#: mCODE 4.0.0 normalisation-basis extension (slice ``normalizationBasis`` in
#: EX_ExtendedExample_Pediatric.fsh; URL from the STU4 schematron) [IG].
EXT_NORMALIZATION_BASIS = MCODE_SD + "mcode-normalization-basis"

# --- observation and procedure codes ----------------------------------------------------

#: IRS post-surgical clinical group (EX_Staging_Other.fsh) [FSH].
IRS_GROUP_OBSERVABLE = Code(
    SNOMED,
    "405916000",
    "Intergroup rhabdomyosarcoma study post-surgical clinical group (observable entity)",
)
#: The group values of 405916000 that could be confirmed.  Only group IA is published in an
#: mCODE example; other groups are written and read with our own code system.
IRS_GROUP_SNOMED: dict[IRSGroup, Code] = {
    IRSGroup.IA: Code(
        SNOMED,
        "405957007",
        "Intergroup rhabdomyosarcoma study post-surgical clinical group IA: localized tumor, "
        "confined to site of origin, completely resected (finding)",
    ),
}

#: TNM category observation codes: LOINC staging-type codes [DD] and the SNOMED cT/cN/cM
#: category codes of EX_Basic.fsh [FSH].
TNM_T_CODES = frozenset({"21899-0", "21905-5", "21911-3", "399504009"})
TNM_N_CODES = frozenset({"21900-6", "21906-3", "21912-1", "399534004"})
TNM_M_CODES = frozenset({"21901-4", "21907-1", "21913-9", "399387003"})
TNM_T_CLINICAL = Code(LOINC, "21905-5", "Primary tumor.clinical [Class] Cancer")
TNM_N_CLINICAL = Code(LOINC, "21906-3", "Regional lymph nodes.clinical [Class] Cancer")
TNM_M_CLINICAL = Code(LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer")
#: AJCC cM0 and cN0 [FSH: Bundle-mcode-patient-bundle-jenny-m]: "no distant metastasis" and
#: "no regional lymph node metastasis" mean the same under the IRS pretreatment TNM, so they are
#: written beside our own M0/N0 and read back.  AJCC T categories are not: AJCC cT1/cT2 for
#: soft-tissue sarcoma are tumour-size classes, IRS T1/T2 say whether the tumour is confined to
#: its site of origin, so T (and N1, NX, M1, not found in the published artefacts) stay uncoded.
AJCC_CM0 = Code(SNOMED, "1229901006", "American Joint Committee on Cancer cM0 (qualifier value)")
AJCC_CN0 = Code(SNOMED, "1229967007", "American Joint Committee on Cancer cN0 (qualifier value)")

TUMOR_SIZE = Code(LOINC, "21889-1", "Size Tumor")  # [IG] mcode-tumor-size
TUMOR_LONGEST_DIMENSION = Code(LOINC, "33728-7", "Size.maximum dimension in Tumor")  # [IG]
#: Tumour size units [DD] ("Tumor Size Units Value Set"), as factors to centimetres.
TUMOR_SIZE_UNITS_TO_CM: dict[str, float] = {"cm": 1.0, "mm": 0.1}

DISEASE_STATUS = Code(
    LOINC, "97509-4", "Cancer disease progression"
)  # [IG] mcode-cancer-disease-status
#: Condition Status Trend value set [DD].
STATUS_WORSENED = Code(SNOMED, "271299001", "Patient's condition worsened (finding)")
STATUS_NOT_AN_EVENT = frozenset(
    {"268910001", "359746009", "550991000124107", "551001000124108", "709137006"}
)

GENETIC_VARIANT_ASSESSMENT = Code(LOINC, "69548-6", "Genetic variant assessment")  # [IG]
GENE_STUDIED = Code(LOINC, "48018-6", "Gene studied [ID]")  # [IG]
GENOMIC_SOURCE_CLASS = Code(LOINC, "48002-0", "Genomic source class [Type]")  # [IG]
SOMATIC = Code(LOINC, "LA6684-0", "Somatic")  # [FSH]
GERMLINE = Code(LOINC, "LA6683-2", "Germline")  # [FSH]
PRESENT = Code(LOINC, "LA9633-4", "Present")  # [FSH]
ABSENT = Code(LOINC, "LA9634-2", "Absent")  # [IG]

#: HGNC gene ids [IG].
HGNC_FOXO1 = Code(HGNC, "HGNC:3819", "FOXO1")
HGNC_PAX3 = Code(HGNC, "HGNC:8617", "PAX3")
HGNC_PAX7 = Code(HGNC, "HGNC:8621", "PAX7")
HGNC_TP53 = Code(HGNC, "HGNC:11998", "TP53")
HGNC_MYOD1 = Code(HGNC, "HGNC:7611", "MYOD1")

RADIOTHERAPY_COURSE = Code(
    SNOMED, "1217123003", "Radiotherapy course of treatment (regime/therapy)"
)  # [FSH]
#: The cancer-related surgical procedure value set is "descendants of 387713003" [DD]; a
#: Procedure carrying this code as its category is read as surgery.
SURGICAL_PROCEDURE = Code(SNOMED, "387713003", "Surgical procedure (procedure)")
BODY_SURFACE_AREA_BASIS = Code(
    SNOMED, "301898006", "Body surface area (observable entity)"
)  # [FSH]
METASTATIC_NEOPLASM = Code(
    SNOMED, "128462008", "Metastatic malignant neoplasm (disorder)"
)  # [DD][FSH]
#: Radiation dose units, as factors to gray (mCODE examples record cGy [FSH]).
RADIATION_DOSE_UNITS_TO_GY: dict[str, float] = {"Gy": 1.0, "cGy": 0.01}

RMS_RISK_VALUES: dict[str, Code] = {
    "low": Code(SNOMED, "723505004", "Low risk (qualifier value)"),
    "intermediate": Code(
        "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C102402", "Intermediate Risk"
    ),
    "high": Code(SNOMED, "723509005", "High risk (qualifier value)"),
}

#: Performance status (mCODE STU4 profiles) [FSH][IG].
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
KARNOFSKY = Code(LOINC, "89243-0", "Karnofsky Performance Status score")  # [FSH]
LANSKY = Code(
    NCIT, "C38144", "Lansky Play-Performance Status"
)  # [IG] mcode-lansky-play-performance-status
PROFILE_KARNOFSKY = MCODE_SD + "mcode-karnofsky-performance-status"
PROFILE_LANSKY = MCODE_SD + "mcode-lansky-play-performance-status"
#: Body measurements used for dosing: mCODE BodySurfaceArea (8277-6) [IG]; body weight
#: (29463-7, FHIR vital signs) [IG].
BODY_SURFACE_AREA = Code(LOINC, "8277-6", "Body surface area")
BODY_WEIGHT = Code(LOINC, "29463-7", "Body weight")
PROFILE_BSA = MCODE_SD + "mcode-body-surface-area"
BSA_UNITS_TO_M2: dict[str, float] = {"m2": 1.0}
WEIGHT_UNITS_TO_KG: dict[str, float] = {"kg": 1.0, "g": 0.001}

# --- primary site ---------------------------------------------------------------------

#: SNOMED CT body structures [DD] -> primary site.  Only structures whose site group is plain
#: are listed: the parameningeal region is "tissue near ear, nose, sinuses, skull base"
#: (PDQ, pdq_rms_hp_2025); favourable genitourinary and biliary sites follow the same page.
PRIMARY_SITE_FROM_SNOMED: dict[str, PrimarySite] = {
    "363654007": PrimarySite.ORBIT,  # Structure of orbit proper
    "71836000": PrimarySite.PARAMENINGEAL,  # Nasopharyngeal structure
    "279549004": PrimarySite.PARAMENINGEAL,  # Nasal cavity structure
    "15924003": PrimarySite.PARAMENINGEAL,  # Maxillary sinus structure
    "54215007": PrimarySite.PARAMENINGEAL,  # Ethmoid sinus structure
    "24999009": PrimarySite.PARAMENINGEAL,  # Sphenoid sinus structure
    "55060009": PrimarySite.PARAMENINGEAL,  # Frontal sinus structure
    "59066005": PrimarySite.PARAMENINGEAL,  # Mastoid structure
    "74262004": PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,  # Oral cavity structure
    "21974007": PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,  # Tongue structure
    "45289007": PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,  # Parotid gland structure
    "4596009": PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,  # Laryngeal structure
    "41695006": PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,  # Scalp structure
    "89837001": PrimarySite.BLADDER,  # Urinary bladder structure
    "393006": PrimarySite.BLADDER,  # Structure of wall of urinary bladder
    "41216001": PrimarySite.PROSTATE,  # Prostatic structure
    "64033007": PrimarySite.KIDNEY,  # Kidney structure
    "45292006": PrimarySite.VULVA_VAGINA_UTERUS,  # Vulval structure
    "76784001": PrimarySite.VULVA_VAGINA_UTERUS,  # Vaginal structure
    "263355003": PrimarySite.VULVA_VAGINA_UTERUS,  # Vaginal wall
    "35039007": PrimarySite.VULVA_VAGINA_UTERUS,  # Uterine structure
    "71252005": PrimarySite.VULVA_VAGINA_UTERUS,  # Cervix uteri structure
    "79741001": PrimarySite.BILIARY,  # Common bile duct structure
    "28231008": PrimarySite.BILIARY,  # Gallbladder structure
    "127949000": PrimarySite.EXTREMITY,  # Elbow region structure
    "72696002": PrimarySite.EXTREMITY,  # Knee region structure
    "78904004": PrimarySite.TRUNK,  # Chest wall structure
    "38864007": PrimarySite.PERINEUM_PERIANAL,  # Perineal structure
    "72410000": PrimarySite.THORAX,  # Mediastinal structure
}

#: The SNOMED CT code written on export, for sites that one structure names exactly.
PRIMARY_SITE_TO_SNOMED: dict[PrimarySite, Code] = {
    PrimarySite.ORBIT: Code(SNOMED, "363654007", "Structure of orbit proper (body structure)"),
    PrimarySite.BLADDER: Code(SNOMED, "89837001", "Urinary bladder structure (body structure)"),
    PrimarySite.PROSTATE: Code(SNOMED, "41216001", "Prostatic structure (body structure)"),
    PrimarySite.KIDNEY: Code(SNOMED, "64033007", "Kidney structure (body structure)"),
    PrimarySite.PERINEUM_PERIANAL: Code(SNOMED, "38864007", "Perineal structure (body structure)"),
}

# --- histology ------------------------------------------------------------------------

#: ICD-O-3 morphology [IG: SEER multiple-primary rules name 8900/3, 8910/3, 8920/3].
#: Spindle-cell/sclerosing and pleomorphic RMS codes could not be confirmed: not mapped.
HISTOLOGY_FROM_ICDO3: dict[str, Histology] = {
    "8900/3": Histology.RMS_NOS,
    "8910/3": Histology.EMBRYONAL,
    "8920/3": Histology.ALVEOLAR,
}

#: Written on export.  Botryoid and spindle-cell embryonal RMS are variants of embryonal RMS
#: (``EMBRYONAL_HISTOLOGIES``), so they carry the embryonal code as the broader class; our own
#: coding beside it keeps the variant.
HISTOLOGY_TO_ICDO3: dict[Histology, Code] = {
    Histology.RMS_NOS: Code(ICDO3, "8900/3", "Rhabdomyosarcoma, NOS"),
    Histology.EMBRYONAL: Code(ICDO3, "8910/3", "Embryonal rhabdomyosarcoma"),
    Histology.EMBRYONAL_BOTRYOID: Code(ICDO3, "8910/3", "Embryonal rhabdomyosarcoma"),
    Histology.EMBRYONAL_SPINDLE_CELL: Code(ICDO3, "8910/3", "Embryonal rhabdomyosarcoma"),
    Histology.ALVEOLAR: Code(ICDO3, "8920/3", "Alveolar rhabdomyosarcoma"),
}


def normalise_icdo3(code: str) -> str:
    """'89103' and '8910/3' are the same morphology; return the slash form."""
    code = code.strip()
    if "/" not in code and len(code) == 5 and code.isdigit():
        return f"{code[:4]}/{code[4]}"
    return code


# --- metastatic sites -----------------------------------------------------------------

#: ICD-10-CM secondary-neoplasm codes [DD] -> metastatic site.  Codes that join two of our
#: sites (C79.5 bone and bone marrow; C78.6 retroperitoneum and peritoneum) or cannot tell
#: regional from distant nodes (C77.*) are left unmapped on purpose.
METASTATIC_SITE_FROM_ICD10CM: dict[str, MetastaticSite] = {
    "C78.0": MetastaticSite.LUNG,
    "C78.00": MetastaticSite.LUNG,
    "C78.01": MetastaticSite.LUNG,
    "C78.02": MetastaticSite.LUNG,
    "C78.2": MetastaticSite.PLEURA,
    "C78.7": MetastaticSite.LIVER,
    "C79.31": MetastaticSite.BRAIN,
    "C79.51": MetastaticSite.BONE,
    "C79.52": MetastaticSite.BONE_MARROW,
}

METASTATIC_SITE_TO_ICD10CM: dict[MetastaticSite, Code] = {
    MetastaticSite.LUNG: Code(ICD10CM, "C78.0", "Secondary malignant neoplasm of lung"),
    MetastaticSite.PLEURA: Code(ICD10CM, "C78.2", "Secondary malignant neoplasm of pleura"),
    MetastaticSite.LIVER: Code(
        ICD10CM, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct"
    ),
    MetastaticSite.BRAIN: Code(ICD10CM, "C79.31", "Secondary malignant neoplasm of brain"),
    MetastaticSite.BONE: Code(ICD10CM, "C79.51", "Secondary malignant neoplasm of bone"),
    MetastaticSite.BONE_MARROW: Code(
        ICD10CM, "C79.52", "Secondary malignant neoplasm of bone marrow"
    ),
}

#: SNOMED CT secondary-neoplasm disorders [FSH].
METASTATIC_SITE_FROM_SNOMED_DISORDER: dict[str, MetastaticSite] = {
    "94225005": MetastaticSite.BRAIN,  # Secondary malignant neoplasm of brain
}

#: SNOMED CT body structures [DD] of a secondary cancer condition -> metastatic site.
METASTATIC_SITE_FROM_SNOMED_BODY_SITE: dict[str, MetastaticSite] = {
    "39607008": MetastaticSite.LUNG,  # Lung structure
    "10200004": MetastaticSite.LIVER,  # Liver structure
    "12738006": MetastaticSite.BRAIN,  # Brain structure
    "14016003": MetastaticSite.BONE_MARROW,  # Bone marrow structure
    "75330005": MetastaticSite.BONE_MARROW,  # Structure of red bone marrow
    "118762006": MetastaticSite.PERITONEUM,  # Peritoneal sac structure
}

# --- chemotherapy ---------------------------------------------------------------------

#: RxNorm ingredient codes.  Each code-display pair was checked against at least two
#: independent published sources, listed with their repository, commit and path in
#: ``knowledge/data/terminology/codes.yaml`` (a test checks that this table and that file agree
#: and that the mCODE-sourced codes occur in the vendored package).  Agents without a verified
#: code are written and read with rhabdo's own code system only (``UNCODED_AGENTS``).
AGENT_TO_RXNORM: dict[ChemotherapyAgent, Code] = {
    ChemotherapyAgent.VINCRISTINE: Code(RXNORM, "11202", "vincristine"),
    ChemotherapyAgent.CYCLOPHOSPHAMIDE: Code(RXNORM, "3002", "cyclophosphamide"),
    ChemotherapyAgent.IFOSFAMIDE: Code(RXNORM, "5657", "ifosfamide"),
    ChemotherapyAgent.DOXORUBICIN: Code(RXNORM, "3639", "DOXOrubicin"),
    ChemotherapyAgent.IDARUBICIN: Code(RXNORM, "5650", "IDArubicin"),
    ChemotherapyAgent.ETOPOSIDE: Code(RXNORM, "4179", "etoposide"),
    ChemotherapyAgent.CARBOPLATIN: Code(RXNORM, "40048", "carboplatin"),
    ChemotherapyAgent.CISPLATIN: Code(RXNORM, "2555", "cisplatin"),
    ChemotherapyAgent.GEMCITABINE: Code(RXNORM, "12574", "gemcitabine"),
    ChemotherapyAgent.MELPHALAN: Code(RXNORM, "6718", "melphalan"),
    ChemotherapyAgent.BUSULFAN: Code(RXNORM, "1828", "busulfan"),
    ChemotherapyAgent.THIOTEPA: Code(RXNORM, "10473", "thiotepa"),
}
AGENT_FROM_RXNORM: dict[str, ChemotherapyAgent] = {
    code.code: agent for agent, code in AGENT_TO_RXNORM.items()
}
#: Agents whose RxNorm code could not be confirmed by two independent published sources:
#: exported as text with rhabdo's own coding only (the reason is in codes.yaml).
UNCODED_AGENTS = frozenset(ChemotherapyAgent) - set(AGENT_TO_RXNORM) - {ChemotherapyAgent.OTHER}

#: UCUM dose units -> our dose units.  UCUM writes micrograms as ``ug``.
DOSE_UNIT_FROM_UCUM: dict[str, DoseUnit] = {
    "mg/m2": DoseUnit.MG_M2,
    "g/m2": DoseUnit.G_M2,
    "ug/m2": DoseUnit.MCG_M2,
    "mg/kg": DoseUnit.MG_KG,
    "ug/kg": DoseUnit.MCG_KG,
    "mg": DoseUnit.MG,
    "g": DoseUnit.G,
    "ug": DoseUnit.MCG,
}
DOSE_UNIT_TO_UCUM: dict[DoseUnit, str] = {unit: ucum for ucum, unit in DOSE_UNIT_FROM_UCUM.items()}
#: Units normalised to body-surface area (the dose was stated per m2).
BSA_NORMALISED_UNITS = frozenset({DoseUnit.MG_M2, DoseUnit.G_M2, DoseUnit.MCG_M2})
