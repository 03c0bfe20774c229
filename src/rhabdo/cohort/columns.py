"""The cohort table format: one row per patient, one column per case field.

Each column has a default name, the dotted path of the case field it fills and a kind that
says how a cell is read.  A registry whose own names or codes differ supplies a mapping file
(YAML, see ``docs/cohort-format.md``); nothing is guessed from a name that does not match.

Default names follow the PCDC data model where its names could be checked
(``honest_broker_subject_id``, ``sex``; source ``wyatt_2022_instruct``); every other
default is our own and is said to be so in the format document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rhabdo.case.vocab import (
    Anaplasia,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    Invasiveness,
    IRSGroup,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PredispositionSyndrome,
    PrimarySite,
    Sex,
    SurgicalResult,
    Vocabulary,
)
from rhabdo.errors import FieldProblem, MappingFileError


class CellKind(StrEnum):
    """How a cell is read before the case model validates it."""

    TEXT = "text"
    CODE = "code"  # one code of a vocabulary
    CODE_LIST = "code_list"  # codes separated by the list separator; the none-token means []
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    """One column of the cohort table."""

    name: str
    path: str
    kind: CellKind
    description: str
    vocabulary: type[Vocabulary] | None = None
    pcdc_name_verified: bool = False


ID_COLUMN = "honest_broker_subject_id"

#: Every column the scorer reads, in the order the format document lists them.
COLUMNS: tuple[Column, ...] = (
    Column(
        ID_COLUMN,
        "patient.id",
        CellKind.TEXT,
        "Pseudonymous patient identifier (required).",
        pcdc_name_verified=True,
    ),
    Column("sex", "patient.sex", CellKind.CODE, "Sex.", Sex, pcdc_name_verified=True),
    Column(
        "date_of_birth",
        "patient.date_of_birth",
        CellKind.DATE,
        "Date of birth; used only to compute ages, never written to the output.",
    ),
    Column(
        "age_at_diagnosis_days",
        "patient.age_at_diagnosis_days",
        CellKind.INTEGER,
        "Age at first diagnosis in days (when the date of birth is withheld).",
    ),
    Column(
        "family_history_of_cancer",
        "patient.family_history_of_cancer",
        CellKind.BOOLEAN,
        "Family history suggestive of a predisposition syndrome.",
    ),
    Column(
        "known_predisposition",
        "patient.known_predisposition",
        CellKind.CODE,
        "Known cancer-predisposition syndrome.",
        PredispositionSyndrome,
    ),
    Column("diagnosis_date", "diagnosis.date", CellKind.DATE, "Date of first diagnosis."),
    Column("primary_site", "diagnosis.primary_site", CellKind.CODE, "Primary site.", PrimarySite),
    Column("histology", "diagnosis.histology", CellKind.CODE, "Histology.", Histology),
    Column("anaplasia", "diagnosis.anaplasia", CellKind.CODE, "Anaplasia.", Anaplasia),
    Column(
        "foxo1_fusion",
        "diagnosis.foxo1_fusion",
        CellKind.CODE,
        "FOXO1 fusion status.",
        FusionStatus,
    ),
    Column("myod1", "diagnosis.myod1", CellKind.CODE, "MYOD1 status.", MutationStatus),
    Column("tp53", "diagnosis.tp53", CellKind.CODE, "Tumour TP53 status.", MutationStatus),
    Column(
        "invasiveness", "diagnosis.invasiveness", CellKind.CODE, "T category (T1/T2).", Invasiveness
    ),
    Column(
        "max_diameter_cm",
        "diagnosis.max_diameter_cm",
        CellKind.NUMBER,
        "Largest tumour diameter at diagnosis, cm.",
    ),
    Column(
        "regional_nodes",
        "diagnosis.regional_nodes",
        CellKind.CODE,
        "Regional nodal status (N0/N1/NX).",
        NodalStatus,
    ),
    Column(
        "distant_metastases",
        "diagnosis.distant_metastases",
        CellKind.CODE_LIST,
        "Sites of distant metastasis at diagnosis; the none-token means M0, blank means unknown.",
        MetastaticSite,
    ),
    Column(
        "distant_metastasis_site_count",
        "diagnosis.distant_metastasis_site_count",
        CellKind.INTEGER,
        "Number of metastatic sites as counted by the treating team.",
    ),
    Column(
        "initial_surgery_result",
        "diagnosis.initial_surgery.result",
        CellKind.CODE,
        "Result of the initial surgery.",
        SurgicalResult,
    ),
    Column(
        "initial_surgery_confined_to_site_of_origin",
        "diagnosis.initial_surgery.confined_to_site_of_origin",
        CellKind.BOOLEAN,
        "Completely resected tumour confined to its muscle/organ of origin.",
    ),
    Column(
        "initial_surgery_regional_nodes_resected",
        "diagnosis.initial_surgery.regional_nodes_resected",
        CellKind.BOOLEAN,
        "Regional nodes resected at the initial surgery.",
    ),
    Column(
        "initial_surgery_regional_nodes_involved",
        "diagnosis.initial_surgery.regional_nodes_involved_pathologically",
        CellKind.BOOLEAN,
        "Resected regional nodes involved on pathology.",
    ),
    Column(
        "initial_surgery_most_distal_node_involved",
        "diagnosis.initial_surgery.most_distal_node_involved",
        CellKind.BOOLEAN,
        "The most distal resected regional node is involved.",
    ),
    Column(
        "irs_group_stated",
        "diagnosis.irs_group_stated",
        CellKind.CODE,
        "IRS clinical group as recorded by the treating team.",
        IRSGroup,
    ),
    Column("first_line_protocol", "first_line.protocol", CellKind.TEXT, "First-line protocol."),
    Column(
        "first_line_start_date",
        "first_line.start_date",
        CellKind.DATE,
        "Start of first-line treatment.",
    ),
    Column(
        "first_line_end_date", "first_line.end_date", CellKind.DATE, "End of first-line treatment."
    ),
    Column(
        "first_line_ongoing",
        "first_line.ongoing",
        CellKind.BOOLEAN,
        "First-line treatment still being given.",
    ),
    Column(
        "first_line_radiotherapy",
        "first_line.radiotherapy",
        CellKind.BOOLEAN,
        "Radiotherapy given during first-line treatment (true adds one course without "
        "details; false records that none was given; blank leaves it unknown).",
    ),
    Column(
        "first_event_kind",
        "events[0].kind",
        CellKind.CODE,
        "First relapse or progression: its kind.",
        EventKind,
    ),
    Column("first_event_date", "events[0].date", CellKind.DATE, "Date of the first event."),
    Column(
        "first_event_extent",
        "events[0].sites",
        CellKind.CODE_LIST,
        "Extent of the first event (local, regional, distant).",
        Extent,
    ),
    Column(
        "first_event_metastatic_sites",
        "events[0].sites.metastatic_site",
        CellKind.CODE_LIST,
        "Distant sites of the first event.",
        MetastaticSite,
    ),
    Column(
        "first_event_max_diameter_cm",
        "events[0].max_diameter_cm",
        CellKind.NUMBER,
        "Largest diameter of the recurrent tumour, cm.",
    ),
    Column(
        "first_event_histologically_confirmed",
        "events[0].histologically_confirmed",
        CellKind.BOOLEAN,
        "First event confirmed on histology.",
    ),
)

COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

#: Columns that identify a person: never copied to any output.
IDENTIFYING_COLUMNS = frozenset({"date_of_birth"})

#: Columns whose content decides the findings (all but the identifier).
CONTENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.name != ID_COLUMN)


class ColumnMapping(BaseModel):
    """A registry's own column names and codes, read from a YAML mapping file.

    ``columns`` maps our column name to the registry's; ``codes`` maps, per our column name,
    the registry's code to ours.  Cells are compared exactly after trimming spaces.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    list_separator: Annotated[str, Field(min_length=1, max_length=3)] = ";"
    none_token: Annotated[str, Field(min_length=1)] = "none"
    missing_values: list[str] = Field(
        default_factory=list, description="Cell values meaning 'unknown' besides a blank cell."
    )

    def model_post_init(self, __context: Any) -> None:
        problems = [
            FieldProblem(f"columns.{k}", "not a column of the cohort format")
            for k in self.columns
            if k not in COLUMNS_BY_NAME
        ]
        for name, table in self.codes.items():
            col = COLUMNS_BY_NAME.get(name)
            if col is None:
                problems.append(FieldProblem(f"codes.{name}", "not a column of the cohort format"))
                continue
            if col.vocabulary is None and col.kind is not CellKind.BOOLEAN:
                problems.append(FieldProblem(f"codes.{name}", "this column holds no codes"))
                continue
            for theirs, ours in table.items():
                allowed: set[str] = (
                    {str(v) for v in col.vocabulary}
                    if col.vocabulary is not None
                    else {"true", "false"}
                )
                if ours not in allowed:
                    problems.append(
                        FieldProblem(
                            f"codes.{name}.{theirs}",
                            f"maps to {ours!r}, which is not one of {', '.join(sorted(allowed))}",
                        )
                    )
        seen: dict[str, str] = {}
        for ours, theirs in self.columns.items():
            if theirs in seen:
                problems.append(
                    FieldProblem(
                        f"columns.{ours}", f"{theirs!r} is already used for {seen[theirs]}"
                    )
                )
            seen[theirs] = ours
        if problems:
            raise MappingFileError(problems)

    def source_name(self, column: str) -> str:
        """The registry's name for one of our columns."""
        return self.columns.get(column, column)

    def reverse(self) -> dict[str, str]:
        """Registry column name -> our column name, for every column of the format."""
        return {self.source_name(c.name): c.name for c in COLUMNS}


def load_mapping(path: str | Path | None) -> ColumnMapping:
    """Read a mapping file; no file means the default names and codes."""
    if path is None:
        return ColumnMapping()
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingFileError([FieldProblem("(file)", "file not found")], str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingFileError(
            [FieldProblem("(file)", f"cannot be read ({exc})")], str(p)
        ) from None
    except yaml.YAMLError:
        raise MappingFileError([FieldProblem("(file)", "not valid YAML")], str(p)) from None
    return parse_mapping(raw if raw is not None else {}, str(p))


def parse_mapping(raw: Mapping[str, Any] | Any, source: str = "mapping") -> ColumnMapping:
    if not isinstance(raw, Mapping):
        raise MappingFileError([FieldProblem("(file)", "must be a mapping")], source)
    try:
        return ColumnMapping.model_validate(dict(raw))
    except ValidationError as exc:
        from rhabdo.case.io import problems_from_validation_error

        raise MappingFileError(problems_from_validation_error(exc), source) from None
