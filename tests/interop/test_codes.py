"""The code maps, tested over every member of every vocabulary they cover.

External codes are checked against the mCODE STU4 data dictionary where the dictionary lists
them (``tests/data/public/mcode-stu4/mCODEDataDictionary-STU4.json``, an unchanged copy; see
PROVENANCE.md there).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from rhabdo.case.vocab import (
    ALL_VOCABULARIES,
    EMBRYONAL_HISTOLOGIES,
    ChemotherapyAgent,
    DoseUnit,
    Histology,
    IRSGroup,
    MetastaticSite,
    PrimarySite,
    Vocabulary,
)
from rhabdo.interop import codes as c

DATA_DICTIONARY = (
    Path(__file__).resolve().parents[1] / "data/public/mcode-stu4/mCODEDataDictionary-STU4.json"
)


@cache
def value_set(name: str) -> dict[str, str]:
    """code -> description of one value set of the mCODE STU4 data dictionary."""
    rows = json.loads(DATA_DICTIONARY.read_text(encoding="utf-8"))["valueSetElements"]
    return {
        r["Code"]: r["Code description"]
        for r in rows
        if r["Value set name"] == name and "Code" in r
    }


ALL_MEMBERS = [m for vocab in ALL_VOCABULARIES for m in vocab]


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_own_coding_round_trips_for_every_vocabulary_member(member: Vocabulary) -> None:
    coding = c.own_coding(member)
    assert coding["system"] == type(member).code_system()
    assert c.from_own_coding(type(member), coding["system"], coding["code"]) is member


def test_own_coding_rejects_other_systems_and_unknown_codes() -> None:
    assert c.from_own_coding(Histology, c.SNOMED, "embryonal") is None
    assert c.from_own_coding(Histology, Histology.code_system(), "not-a-histology") is None
    assert c.from_own_coding(Histology, Histology.code_system(), None) is None


# --- primary site ----------------------------------------------------------------------

#: Sites with no single SNOMED CT structure that names the whole site group: written with our
#: own coding only.
SITES_WITHOUT_SINGLE_SNOMED = {
    PrimarySite.EYELID,
    PrimarySite.HEAD_NECK_NON_PARAMENINGEAL,
    PrimarySite.PARAMENINGEAL,
    PrimarySite.PARATESTICULAR,
    PrimarySite.VULVA_VAGINA_UTERUS,
    PrimarySite.OTHER_GENITOURINARY,
    PrimarySite.BILIARY,
    PrimarySite.EXTREMITY,
    PrimarySite.TRUNK,
    PrimarySite.RETROPERITONEUM,
    PrimarySite.THORAX,
    PrimarySite.OTHER,
}


@pytest.mark.parametrize("site", list(PrimarySite), ids=lambda s: s.name)
def test_every_primary_site_is_exported_with_a_code_that_reads_back(site: PrimarySite) -> None:
    if site in SITES_WITHOUT_SINGLE_SNOMED:
        assert site not in c.PRIMARY_SITE_TO_SNOMED
        return
    code = c.PRIMARY_SITE_TO_SNOMED[site]
    assert code.system == c.SNOMED
    assert c.PRIMARY_SITE_FROM_SNOMED[code.code] is site


@pytest.mark.parametrize(("snomed", "site"), sorted(c.PRIMARY_SITE_FROM_SNOMED.items()))
def test_every_snomed_body_site_is_in_the_mcode_radiotherapy_location_value_set(
    snomed: str, site: PrimarySite
) -> None:
    """Source: mCODE STU4 data dictionary, Radiotherapy Treatment Location Value Set."""
    assert snomed in value_set("Radiotherapy Treatment Location Value Set")
    assert isinstance(site, PrimarySite)


# Expected site group for each structure, by name, as the PDQ health-professional summary
# (pdq_rms_hp_2025) groups primary sites: parameningeal = near ear, nose, sinuses, skull base.
EXPECTED_SITE = {
    "363654007": ("orbit", PrimarySite.ORBIT),
    "71836000": ("Nasopharyngeal", PrimarySite.PARAMENINGEAL),
    "279549004": ("Nasal cavity", PrimarySite.PARAMENINGEAL),
    "15924003": ("Maxillary sinus", PrimarySite.PARAMENINGEAL),
    "54215007": ("Ethmoid sinus", PrimarySite.PARAMENINGEAL),
    "24999009": ("Sphenoid sinus", PrimarySite.PARAMENINGEAL),
    "55060009": ("Frontal sinus", PrimarySite.PARAMENINGEAL),
    "59066005": ("Mastoid", PrimarySite.PARAMENINGEAL),
    "74262004": ("Oral cavity", PrimarySite.HEAD_NECK_NON_PARAMENINGEAL),
    "21974007": ("Tongue", PrimarySite.HEAD_NECK_NON_PARAMENINGEAL),
    "45289007": ("Parotid", PrimarySite.HEAD_NECK_NON_PARAMENINGEAL),
    "4596009": ("Laryngeal", PrimarySite.HEAD_NECK_NON_PARAMENINGEAL),
    "41695006": ("Scalp", PrimarySite.HEAD_NECK_NON_PARAMENINGEAL),
    "89837001": ("bladder", PrimarySite.BLADDER),
    "393006": ("bladder", PrimarySite.BLADDER),
    "41216001": ("Prostatic", PrimarySite.PROSTATE),
    "64033007": ("Kidney", PrimarySite.KIDNEY),
    "45292006": ("Vulval", PrimarySite.VULVA_VAGINA_UTERUS),
    "76784001": ("Vaginal", PrimarySite.VULVA_VAGINA_UTERUS),
    "263355003": ("Vaginal wall", PrimarySite.VULVA_VAGINA_UTERUS),
    "35039007": ("Uterine", PrimarySite.VULVA_VAGINA_UTERUS),
    "71252005": ("Cervix uteri", PrimarySite.VULVA_VAGINA_UTERUS),
    "79741001": ("bile duct", PrimarySite.BILIARY),
    "28231008": ("Gallbladder", PrimarySite.BILIARY),
    "127949000": ("Elbow", PrimarySite.EXTREMITY),
    "72696002": ("Knee", PrimarySite.EXTREMITY),
    "78904004": ("Chest wall", PrimarySite.TRUNK),
    "38864007": ("Perineal", PrimarySite.PERINEUM_PERIANAL),
    "72410000": ("Mediastinal", PrimarySite.THORAX),
}


@pytest.mark.parametrize(("snomed", "expected"), sorted(EXPECTED_SITE.items()))
def test_each_snomed_structure_maps_to_its_site_group(
    snomed: str, expected: tuple[str, PrimarySite]
) -> None:
    name, site = expected
    assert c.PRIMARY_SITE_FROM_SNOMED[snomed] is site
    description = value_set("Radiotherapy Treatment Location Value Set")[snomed]
    assert name.lower() in description.lower()


def test_the_site_table_has_no_row_without_an_expected_value() -> None:
    assert set(c.PRIMARY_SITE_FROM_SNOMED) == set(EXPECTED_SITE)


# --- histology -------------------------------------------------------------------------

#: ICD-O-3 morphology of the RMS subtypes (SEER multiple-primary rules: "Alveolar
#: rhabdomyosarcoma 8920/3 and embryonal rhabdomyosarcoma 8910/3 are both subtypes of
#: rhabdomyosarcoma 8900/3").
ICDO3_ROWS = [
    ("8900/3", Histology.RMS_NOS),
    ("8910/3", Histology.EMBRYONAL),
    ("8920/3", Histology.ALVEOLAR),
]


@pytest.mark.parametrize(("code", "histology"), ICDO3_ROWS)
def test_icdo3_morphology_rows(code: str, histology: Histology) -> None:
    assert c.HISTOLOGY_FROM_ICDO3[code] is histology


def test_the_icdo3_table_has_exactly_the_published_rows() -> None:
    assert dict(ICDO3_ROWS) == c.HISTOLOGY_FROM_ICDO3


@pytest.mark.parametrize("histology", list(Histology), ids=lambda h: h.name)
def test_every_histology_exports_its_own_code_or_its_broader_class(histology: Histology) -> None:
    code = c.HISTOLOGY_TO_ICDO3.get(histology)
    if histology in (Histology.SPINDLE_CELL_SCLEROSING, Histology.PLEOMORPHIC):
        assert code is None  # ICD-O-3 code not confirmed: our own coding only
        return
    assert code is not None and code.system == c.ICDO3
    read_back = c.HISTOLOGY_FROM_ICDO3[code.code]
    if histology in EMBRYONAL_HISTOLOGIES:
        assert read_back is Histology.EMBRYONAL
    else:
        assert read_back is histology


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("89103", "8910/3"), ("8910/3", "8910/3"), (" 8920/3 ", "8920/3"), ("abc", "abc")],
)
def test_icdo3_codes_are_normalised_to_the_slash_form(raw: str, normal: str) -> None:
    assert c.normalise_icdo3(raw) == normal


# --- metastatic sites ------------------------------------------------------------------

SITES_WITHOUT_ICD10CM = {
    MetastaticSite.DISTANT_NODES,
    MetastaticSite.PERITONEUM,
    MetastaticSite.CSF,
    MetastaticSite.OTHER,
}


@pytest.mark.parametrize("site", list(MetastaticSite), ids=lambda s: s.name)
def test_every_metastatic_site_exports_an_icd10cm_code_that_reads_back(
    site: MetastaticSite,
) -> None:
    code = c.METASTATIC_SITE_TO_ICD10CM.get(site)
    if site in SITES_WITHOUT_ICD10CM:
        assert code is None
        return
    assert code is not None
    assert c.METASTATIC_SITE_FROM_ICD10CM[code.code] is site


@pytest.mark.parametrize(("icd", "site"), sorted(c.METASTATIC_SITE_FROM_ICD10CM.items()))
def test_every_icd10cm_code_is_in_the_mcode_secondary_cancer_value_set(
    icd: str, site: MetastaticSite
) -> None:
    """Source: mCODE STU4 data dictionary, Secondary Cancer Disorder Value Set."""
    description = value_set("Secondary Cancer Disorder Value Set")[icd].lower()
    words = {
        MetastaticSite.LUNG: "lung",
        MetastaticSite.PLEURA: "pleura",
        MetastaticSite.LIVER: "liver",
        MetastaticSite.BRAIN: "brain",
        MetastaticSite.BONE: "bone",
        MetastaticSite.BONE_MARROW: "bone marrow",
    }
    assert words[site] in description


@pytest.mark.parametrize("ambiguous", ["C79.5", "C78.6", "C77.9", "C77.0"])
def test_codes_that_join_two_sites_or_cannot_tell_regional_from_distant_are_not_mapped(
    ambiguous: str,
) -> None:
    assert ambiguous not in c.METASTATIC_SITE_FROM_ICD10CM
    assert ambiguous in value_set("Secondary Cancer Disorder Value Set")


@pytest.mark.parametrize(
    ("snomed", "site"), sorted(c.METASTATIC_SITE_FROM_SNOMED_BODY_SITE.items())
)
def test_secondary_body_sites_are_mcode_body_structures(snomed: str, site: MetastaticSite) -> None:
    assert snomed in value_set("Radiotherapy Treatment Location Value Set")
    assert isinstance(site, MetastaticSite)


# --- staging, status, units ------------------------------------------------------------


@pytest.mark.parametrize("group", list(IRSGroup), ids=lambda g: g.name)
def test_irs_group_snomed_values(group: IRSGroup) -> None:
    """Source: EX_Staging_Other.fsh -- 405957007 is group IA; no other group code confirmed."""
    code = c.IRS_GROUP_SNOMED.get(group)
    if group is IRSGroup.IA:
        assert code is not None and code.code == "405957007"
    else:
        assert code is None


@pytest.mark.parametrize(
    ("codes", "name"),
    [
        (c.TNM_T_CODES, "TNM Primary Tumor Staging Type Value Set"),
        (c.TNM_N_CODES, "TNM Regional Nodes Staging Type Value Set"),
        (c.TNM_M_CODES, "TNM Distant Metastases Staging Type Value Set"),
    ],
)
def test_tnm_observation_codes_are_the_mcode_staging_type_codes(
    codes: frozenset[str], name: str
) -> None:
    loinc = {code for code in codes if "-" in code}
    assert loinc == set(value_set(name))


def test_disease_status_values_that_are_not_events_are_the_other_trend_codes() -> None:
    trend = set(value_set("Condition Status Trend Value Set"))
    assert c.STATUS_NOT_AN_EVENT | {c.STATUS_WORSENED.code} == trend


@pytest.mark.parametrize("unit", list(c.TUMOR_SIZE_UNITS_TO_CM))
def test_tumour_size_units_are_the_mcode_units(unit: str) -> None:
    assert unit in value_set("Tumor Size Units Value Set")


@pytest.mark.parametrize(("unit", "factor"), [("cm", 1.0), ("mm", 0.1)])
def test_tumour_size_unit_factors(unit: str, factor: float) -> None:
    assert c.TUMOR_SIZE_UNITS_TO_CM[unit] == factor


@pytest.mark.parametrize(("unit", "factor"), [("Gy", 1.0), ("cGy", 0.01)])
def test_radiation_dose_unit_factors(unit: str, factor: float) -> None:
    assert c.RADIATION_DOSE_UNITS_TO_GY[unit] == factor


@pytest.mark.parametrize("unit", list(DoseUnit), ids=lambda u: u.name)
def test_every_dose_unit_has_a_ucum_code_that_reads_back(unit: DoseUnit) -> None:
    ucum = c.DOSE_UNIT_TO_UCUM[unit]
    assert c.DOSE_UNIT_FROM_UCUM[ucum] is unit
    assert (unit in c.BSA_NORMALISED_UNITS) == unit.value.endswith("/m2")


@pytest.mark.parametrize("agent", list(ChemotherapyAgent), ids=lambda a: a.name)
def test_every_agent_with_an_rxnorm_code_reads_back(agent: ChemotherapyAgent) -> None:
    """RxNorm codes as used in the mCODE STU4 examples (EX_*.fsh)."""
    code = c.AGENT_TO_RXNORM.get(agent)
    if code is None:
        assert agent not in c.AGENT_FROM_RXNORM.values()
        return
    assert c.AGENT_FROM_RXNORM[code.code] is agent


@pytest.mark.parametrize(
    ("rxnorm", "agent"),
    [
        ("3002", ChemotherapyAgent.CYCLOPHOSPHAMIDE),
        ("11202", ChemotherapyAgent.VINCRISTINE),
        ("3639", ChemotherapyAgent.DOXORUBICIN),
        ("5650", ChemotherapyAgent.IDARUBICIN),
        ("5657", ChemotherapyAgent.IFOSFAMIDE),
        ("4179", ChemotherapyAgent.ETOPOSIDE),
        ("40048", ChemotherapyAgent.CARBOPLATIN),
        ("2555", ChemotherapyAgent.CISPLATIN),
        ("12574", ChemotherapyAgent.GEMCITABINE),
        ("6718", ChemotherapyAgent.MELPHALAN),
        ("1828", ChemotherapyAgent.BUSULFAN),
        ("10473", ChemotherapyAgent.THIOTEPA),
    ],
)
def test_rxnorm_rows(rxnorm: str, agent: ChemotherapyAgent) -> None:
    """Sources per row: knowledge/data/terminology/codes.yaml (mCODE 4.0.0 examples, NMDP
    CIBMTR IG, CPIC drug table, PCDC data model, VICC RxNorm extract; two agree on each)."""
    assert c.AGENT_FROM_RXNORM[rxnorm] is agent


def test_the_rxnorm_table_has_no_untested_row() -> None:
    assert len(c.AGENT_FROM_RXNORM) == 12
