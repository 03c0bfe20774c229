"""Row -> Case conversion: every column, every code of every vocabulary, errors by column."""

from __future__ import annotations

import pytest

from rhabdo.case.vocab import Extent, MetastaticSite
from rhabdo.cohort.columns import (
    COLUMNS,
    CONTENT_COLUMNS,
    ID_COLUMN,
    CellKind,
    ColumnMapping,
    parse_mapping,
)
from rhabdo.cohort.rows import case_document, column_for_path, row_error_text, row_key, row_to_case
from rhabdo.errors import CaseValidationError

BASE = {ID_COLUMN: "P1"}
CODE_COLUMNS = [c for c in COLUMNS if c.kind is CellKind.CODE]
CODE_CASES = [(c, member) for c in CODE_COLUMNS for member in c.vocabulary or ()]


def _get(case: object, path: str) -> object:
    node = case
    for part in path.replace("[0]", ".0").split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)  # type: ignore[index]
    return node


@pytest.mark.parametrize(
    ("column", "member"), CODE_CASES, ids=[f"{c.name}={m.value}" for c, m in CODE_CASES]
)
def test_every_code_of_every_code_column_reaches_its_case_field(column, member):
    row = dict(BASE, **{column.name: member.value})
    if (
        column.path.startswith("diagnosis.initial_surgery.")
        and column.name != "initial_surgery_result"
    ):
        row["initial_surgery_result"] = "complete"
    if column.name == "irs_group_stated" and member.value == "IV":
        row["distant_metastases"] = "lung"
    case = row_to_case(row)
    assert _get(case, column.path) == member


@pytest.mark.parametrize("member", list(MetastaticSite))
def test_every_metastatic_site_in_the_site_list(member):
    case = row_to_case(dict(BASE, distant_metastases=member.value))
    assert case.diagnosis.distant_metastases == [member]


def test_none_token_means_m0_and_blank_means_unknown():
    assert row_to_case(dict(BASE, distant_metastases="none")).diagnosis.distant_metastases == []
    assert row_to_case(dict(BASE, distant_metastases="  ")).diagnosis.distant_metastases is None
    assert row_to_case(dict(BASE)).diagnosis.distant_metastases is None


def test_blank_cells_are_unknown_not_false_or_zero():
    case = row_to_case(
        dict(
            BASE,
            max_diameter_cm="",
            initial_surgery_result="complete",
            initial_surgery_confined_to_site_of_origin=" ",
        )
    )
    assert case.diagnosis.max_diameter_cm is None
    assert case.diagnosis.initial_surgery is not None
    assert case.diagnosis.initial_surgery.confined_to_site_of_origin is None


def test_numbers_dates_and_booleans_are_parsed_by_the_case_model():
    case = row_to_case(
        dict(
            BASE,
            max_diameter_cm="6.5",
            age_at_diagnosis_days="4000",
            diagnosis_date="2020-01-01",
            first_line_start_date="2020-01-10",
            first_line_ongoing="false",
            family_history_of_cancer="yes",
        )
    )
    assert case.diagnosis.max_diameter_cm == 6.5
    assert case.patient.age_at_diagnosis_days == 4000
    assert case.first_line is not None and case.first_line.ongoing is False
    assert case.patient.family_history_of_cancer is True


@pytest.mark.parametrize(("cell", "courses"), [("true", 1), ("false", 0), ("", 0)])
def test_first_line_radiotherapy_flag(cell, courses):
    case = row_to_case(dict(BASE, first_line_start_date="2020-01-10", first_line_radiotherapy=cell))
    assert len(case.first_line.radiotherapy if case.first_line else []) == courses


def test_first_event_sites_expand_distant_by_metastatic_site():
    case = row_to_case(
        dict(
            BASE,
            diagnosis_date="2020-01-01",
            first_event_kind="relapse",
            first_event_date="2021-06-01",
            first_event_extent="local;distant",
            first_event_metastatic_sites="lung;bone",
        )
    )
    sites = case.events[0].sites
    assert sites is not None
    assert [(s.extent, s.metastatic_site) for s in sites] == [
        (Extent.LOCAL, None),
        (Extent.DISTANT, MetastaticSite.LUNG),
        (Extent.DISTANT, MetastaticSite.BONE),
    ]


def test_event_without_sites_leaves_sites_unknown():
    case = row_to_case(dict(BASE, first_event_kind="progression"))
    assert case.events[0].sites is None


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ({"max_diameter_cm": "-1"}, "max_diameter_cm", "greater than 0"),
        ({"max_diameter_cm": "big"}, "max_diameter_cm", "valid number"),
        ({"histology": "ERMS"}, "histology", "unknown code 'ERMS'"),
        ({"distant_metastases": "lung;lung"}, "distant_metastases", "listed twice"),
        ({"distant_metastases": "lung;moon"}, "distant_metastases", "unknown code 'moon'"),
        ({"diagnosis_date": "2020-13-01"}, "diagnosis_date", "date"),
        (
            {
                "diagnosis_date": "2020-01-01",
                "first_event_kind": "relapse",
                "first_event_date": "2019-01-01",
            },
            "first_event_date",
            "after diagnosis",
        ),
        ({"first_event_extent": "nearby"}, "first_event_extent", "unknown code 'nearby'"),
        ({"first_event_metastatic_sites": "moon"}, "first_event_metastatic_sites", "unknown code"),
        ({ID_COLUMN: "has space"}, ID_COLUMN, "pattern"),
        ({ID_COLUMN: ""}, ID_COLUMN, "required"),
    ],
)
def test_errors_name_the_column_and_the_problem(row, column, fragment):
    full = (
        dict(BASE, first_event_kind="relapse")
        if "first_event_extent" in row or "first_event_metastatic_sites" in row
        else dict(BASE)
    )
    full.update(row)
    with pytest.raises(CaseValidationError) as info:
        row_to_case(full)
    fields = [p.field for p in info.value.problems]
    assert column in fields
    text = row_error_text(info.value, ColumnMapping())
    assert f"{column}: " in text and fragment in text


def test_every_column_path_maps_back_to_its_column():
    for col in COLUMNS:
        assert column_for_path(col.path) == col.name


def test_key_excludes_identifier_and_documents_same_content():
    a = row_key(dict(BASE, histology="alveolar"), ColumnMapping())
    b = row_key({ID_COLUMN: "P2", "histology": " alveolar "}, ColumnMapping())
    assert a == b and len(a) == len(CONTENT_COLUMNS)
    assert case_document(a, ColumnMapping())["diagnosis"] == {"histology": "alveolar"}


def test_mapping_translates_names_codes_separator_and_none_token():
    m = parse_mapping(
        {
            "columns": {"histology": "hist", "distant_metastases": "mets"},
            "codes": {"histology": {"ERMS": "embryonal"}, "distant_metastases": {"LUNG": "lung"}},
            "list_separator": "|",
            "none_token": "NONE",
            "missing_values": ["99"],
        }
    )
    assert m.reverse()["hist"] == "histology"
    case = row_to_case(
        {
            ID_COLUMN: "P1",
            "histology": "ERMS",
            "distant_metastases": "LUNG|bone",
            "max_diameter_cm": "99",
        },
        m,
    )
    assert case.diagnosis.distant_metastases == [MetastaticSite.LUNG, MetastaticSite.BONE]
    assert case.diagnosis.max_diameter_cm is None
    assert (
        row_to_case({ID_COLUMN: "P1", "distant_metastases": "NONE"}, m).diagnosis.distant_metastases
        == []
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"columns": {"tumour": "t"}}, "columns.tumour"),
        ({"codes": {"histology": {"ERMS": "embryonic"}}}, "codes.histology.ERMS"),
        ({"codes": {"max_diameter_cm": {"a": "b"}}}, "codes.max_diameter_cm"),
        ({"columns": {"sex": "x", "histology": "x"}}, "columns.histology"),
        ({"colums": {}}, "colums"),
    ],
)
def test_bad_mapping_files_are_rejected_naming_the_entry(raw, field):
    with pytest.raises(CaseValidationError) as info:
        parse_mapping(raw)
    assert field in [p.field for p in info.value.problems]
