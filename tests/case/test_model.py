"""The case model: every vocabulary member is accepted where it belongs, every inconsistency is
rejected with the field named, and unknown keys are errors."""

from __future__ import annotations

from typing import Any

import pytest

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import (
    ALL_VOCABULARIES,
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
    Margin,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PerformanceScale,
    PredispositionSyndrome,
    PrimarySite,
    RadiotherapyTarget,
    Sex,
    SurgicalResult,
    Vocabulary,
)
from rhabdo.errors import CaseValidationError


def base(**diagnosis: Any) -> dict[str, Any]:
    return {"patient": {"id": "T-1"}, "diagnosis": {"date": "2020-01-01", **diagnosis}}


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(CaseValidationError) as info:
        parse_case(doc)
    return [str(p) for p in info.value.problems]


def test_minimal_case_needs_only_an_id() -> None:
    case = parse_case({"patient": {"id": "X"}})
    assert case.diagnosis.primary_site is None
    assert case.diagnosis.distant_metastases is None  # unknown, not M0
    assert case.age_at_diagnosis_days is None


@pytest.mark.parametrize("vocab", ALL_VOCABULARIES, ids=lambda v: v.__name__)
def test_every_vocabulary_has_labels_and_a_code_system(vocab: type[Vocabulary]) -> None:
    assert vocab.code_system().startswith("https://rhabdo.org/fhir/CodeSystem/")
    for member in vocab:
        assert member.label.strip()
        assert vocab(member.value) is member


@pytest.mark.parametrize("site", list(PrimarySite))
def test_every_primary_site(site: PrimarySite) -> None:
    assert parse_case(base(primary_site=site.value)).diagnosis.primary_site is site


@pytest.mark.parametrize("histology", list(Histology))
def test_every_histology(histology: Histology) -> None:
    assert parse_case(base(histology=histology.value)).diagnosis.histology is histology


@pytest.mark.parametrize("value", list(Anaplasia))
def test_every_anaplasia(value: Anaplasia) -> None:
    assert parse_case(base(anaplasia=value.value)).diagnosis.anaplasia is value


@pytest.mark.parametrize("fusion", list(FusionStatus))
def test_every_fusion_status(fusion: FusionStatus) -> None:
    case = parse_case(base(foxo1_fusion=fusion.value))
    assert case.diagnosis.foxo1_fusion is fusion
    expected = {FusionStatus.NOT_TESTED: None, FusionStatus.NEGATIVE: False}.get(fusion, True)
    assert fusion.is_fusion_positive is expected


@pytest.mark.parametrize("status", list(MutationStatus))
@pytest.mark.parametrize("field", ["myod1", "tp53", "tp53_germline"])
def test_every_mutation_status(field: str, status: MutationStatus) -> None:
    assert getattr(parse_case(base(**{field: status.value})).diagnosis, field) is status


@pytest.mark.parametrize("t", list(Invasiveness))
def test_every_t_category(t: Invasiveness) -> None:
    assert parse_case(base(invasiveness=t.value)).diagnosis.invasiveness is t


@pytest.mark.parametrize("n", list(NodalStatus))
def test_every_nodal_status(n: NodalStatus) -> None:
    assert parse_case(base(regional_nodes=n.value)).diagnosis.regional_nodes is n


@pytest.mark.parametrize("site", list(MetastaticSite))
def test_every_metastatic_site(site: MetastaticSite) -> None:
    assert parse_case(base(distant_metastases=[site.value])).diagnosis.distant_metastases == [site]


@pytest.mark.parametrize("result", list(SurgicalResult))
def test_every_surgical_result(result: SurgicalResult) -> None:
    case = parse_case(base(initial_surgery={"result": result.value}))
    assert case.diagnosis.initial_surgery is not None
    assert case.diagnosis.initial_surgery.result is result


@pytest.mark.parametrize("group", list(IRSGroup))
def test_every_stated_irs_group(group: IRSGroup) -> None:
    mets = ["lung"] if group is IRSGroup.IV else []
    case = parse_case(base(irs_group_stated=group.value, distant_metastases=mets))
    assert case.diagnosis.irs_group_stated is group
    assert group.group in {"I", "II", "III", "IV"}


@pytest.mark.parametrize("agent", list(ChemotherapyAgent))
@pytest.mark.parametrize("unit", list(DoseUnit))
def test_every_agent_and_unit(agent: ChemotherapyAgent, unit: DoseUnit) -> None:
    chemo: dict[str, Any] = {
        "agent": agent.value,
        "dose_per_administration": 1.5,
        "dose_unit": unit.value,
        "administrations": 2,
    }
    if agent is ChemotherapyAgent.OTHER:
        chemo["agent_name"] = "investigational drug"
    case = parse_case({"patient": {"id": "X"}, "first_line": {"chemotherapy": [chemo]}})
    assert case.first_line is not None
    assert case.first_line.chemotherapy[0].dose_unit is unit


@pytest.mark.parametrize("margin", list(Margin))
def test_every_margin(margin: Margin) -> None:
    doc = {"patient": {"id": "X"}, "first_line": {"surgeries": [{"margin": margin.value}]}}
    assert parse_case(doc).first_line.surgeries[0].margin is margin  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", list(EventKind))
@pytest.mark.parametrize("extent", list(Extent))
def test_every_event_kind_and_extent(kind: EventKind, extent: Extent) -> None:
    doc = {
        "patient": {"id": "X"},
        "events": [{"kind": kind.value, "sites": [{"extent": extent.value}]}],
    }
    ev = parse_case(doc).events[0]
    assert ev.kind is kind and ev.sites is not None and ev.sites[0].extent is extent


@pytest.mark.parametrize("region", list(BodyRegion))
@pytest.mark.parametrize("target", list(RadiotherapyTarget))
def test_every_radiotherapy_target_and_region(
    region: BodyRegion, target: RadiotherapyTarget
) -> None:
    doc = {
        "patient": {"id": "X"},
        "first_line": {
            "radiotherapy": [
                {
                    "target": target.value,
                    "body_region": region.value,
                    "total_dose_gy": 36,
                    "fractions": 20,
                }
            ]
        },
    }
    rt = parse_case(doc).first_line.radiotherapy[0]  # type: ignore[union-attr]
    assert rt.target is target and rt.body_region is region


@pytest.mark.parametrize("scale", list(PerformanceScale))
def test_every_performance_scale(scale: PerformanceScale) -> None:
    doc = {"patient": {"id": "X"}, "current": {"performance": {"scale": scale.value, "score": 70}}}
    assert parse_case(doc).current.performance.scale is scale  # type: ignore[union-attr]


@pytest.mark.parametrize("sex", list(Sex))
@pytest.mark.parametrize("syndrome", list(PredispositionSyndrome))
def test_every_sex_and_predisposition(sex: Sex, syndrome: PredispositionSyndrome) -> None:
    case = parse_case(
        {"patient": {"id": "X", "sex": sex.value, "known_predisposition": syndrome.value}}
    )
    assert case.patient.sex is sex and case.patient.known_predisposition is syndrome


# --- rejected input: the message names the field and the problem -------------------------


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        (base(primary_site="nose"), "diagnosis.primary_site", "unknown code 'nose'"),
        ({"patient": {"id": "X"}, "colour": "red"}, "colour", "unknown field"),
        (base(tumour_size=3), "diagnosis.tumour_size", "unknown field"),
        (base(max_diameter_cm=-1), "diagnosis.max_diameter_cm", "greater than 0"),
        (base(max_diameter_cm="big"), "diagnosis.max_diameter_cm", "valid number"),
        ({"diagnosis": {}}, "patient", "required"),
        ({"patient": {"id": "Jane Doe"}}, "patient.id", "pattern"),
        (base(distant_metastases=["lung", "lung"]), "diagnosis.distant_metastases", "listed twice"),
        (
            base(irs_group_stated="IV", distant_metastases=[]),
            "diagnosis.irs_group_stated",
            "group IV",
        ),
        (
            base(irs_group_stated="III", distant_metastases=["bone"]),
            "diagnosis.irs_group_stated",
            "must be IV",
        ),
        (
            {
                "patient": {"id": "X", "date_of_birth": "2021-01-01"},
                "diagnosis": {"date": "2020-01-01"},
            },
            "diagnosis.date",
            "before the date of birth",
        ),
        (
            {
                "patient": {"id": "X", "date_of_birth": "2010-01-01", "age_at_diagnosis_days": 100},
                "diagnosis": {"date": "2020-01-01"},
            },
            "patient.age_at_diagnosis_days",
            "does not match",
        ),
        (
            {**base(), "events": [{"kind": "relapse", "date": "2019-12-31"}]},
            "events[0].date",
            "after diagnosis",
        ),
        (
            {**base(), "events": [{"kind": "relapse", "date": "2020-01-01"}]},
            "events[0].date",
            "after diagnosis",
        ),
        (
            {
                **base(),
                "events": [
                    {"kind": "relapse", "date": "2022-01-01"},
                    {"kind": "relapse", "date": "2021-01-01"},
                ],
            },
            "events",
            "date order",
        ),
        (
            {**base(), "first_line": {"start_date": "2019-06-01"}},
            "first_line.start_date",
            "before diagnosis",
        ),
        (
            {**base(), "first_line": {"start_date": "2020-03-01", "end_date": "2020-02-01"}},
            "first_line.end_date",
            "ends before it starts",
        ),
        (
            {**base(), "first_line": {"end_date": "2020-05-01", "ongoing": True}},
            "first_line.ongoing",
            "cannot be ongoing",
        ),
        (
            {
                **base(),
                "first_line": {
                    "radiotherapy": [{"start_date": "2020-03-01", "end_date": "2020-02-01"}]
                },
            },
            "first_line.radiotherapy[0].end_date",
            "ends before it starts",
        ),
        (
            {
                **base(),
                "first_line": {
                    "chemotherapy": [{"agent": "vincristine", "dose_per_administration": 1.5}]
                },
            },
            "first_line.chemotherapy[0].dose_unit",
            "required",
        ),
        (
            {
                **base(),
                "first_line": {"chemotherapy": [{"agent": "vincristine", "cumulative_dose": 30}]},
            },
            "first_line.chemotherapy[0].cumulative_dose_unit",
            "required",
        ),
        (
            {**base(), "first_line": {"chemotherapy": [{"agent": "other"}]}},
            "first_line.chemotherapy[0].agent_name",
            "required",
        ),
        (
            {**base(), "first_line": {"chemotherapy": [{"agent": "aspirin"}]}},
            "first_line.chemotherapy[0].agent",
            "unknown code",
        ),
        (
            {
                **base(),
                "first_line": {
                    "chemotherapy": [
                        {"agent": "vincristine", "dose_per_administration": 1, "dose_unit": "mg/lb"}
                    ]
                },
            },
            "first_line.chemotherapy[0].dose_unit",
            "unknown code",
        ),
        (
            {
                **base(),
                "events": [
                    {"kind": "relapse", "sites": [{"extent": "local", "metastatic_site": "lung"}]}
                ],
            },
            "events[0].sites[0].metastatic_site",
            "only distant",
        ),
        (
            {"patient": {"id": "X"}, "current": {"performance": {"scale": "lansky", "score": 75}}},
            "current.performance.score",
            "multiples of 10",
        ),
        (
            {"patient": {"id": "X"}, "current": {"performance": {"scale": "ecog", "score": 70}}},
            "current.performance.scale",
            "unknown code",
        ),
        ({"patient": {"id": "X"}, "schema_version": "2"}, "schema_version", "'1'"),
    ],
)
def test_invalid_input_names_field_and_problem(doc: dict[str, Any], field: str, words: str) -> None:
    found = problems(doc)
    assert any(p.startswith(field + ":") and words in p for p in found), found


def test_all_problems_are_reported_at_once() -> None:
    found = problems(base(primary_site="nose", histology="weird", max_diameter_cm=0))
    assert {p.split(":")[0] for p in found} == {
        "diagnosis.primary_site",
        "diagnosis.histology",
        "diagnosis.max_diameter_cm",
    }


def test_not_a_mapping() -> None:
    with pytest.raises(CaseValidationError, match="mapping"):
        parse_case(["a", "list"])


def test_derived_age_from_dates_and_from_days() -> None:
    by_dates = parse_case(
        {"patient": {"id": "X", "date_of_birth": "2010-01-01"}, "diagnosis": {"date": "2020-01-01"}}
    )
    assert by_dates.age_at_diagnosis_days == 3652
    by_days = parse_case({"patient": {"id": "X", "age_at_diagnosis_days": 400}})
    assert by_days.age_at_diagnosis_days == 400


def test_treatment_lines_and_current_event() -> None:
    doc = {
        **base(),
        "first_line": {"protocol": "A"},
        "later_lines": [{"protocol": "B"}],
        "events": [
            {"kind": "relapse", "date": "2021-01-01"},
            {"kind": "progression", "date": "2021-06-01"},
        ],
    }
    case: Case = parse_case(doc)
    assert [line.protocol for line in case.all_treatment_lines()] == ["A", "B"]
    assert case.first_event is case.events[0] and case.current_event is case.events[1]


@pytest.mark.parametrize("kind", list(AlterationKind))
def test_every_alteration_kind(kind: AlterationKind) -> None:
    alteration = {"gene": "NRAS", "alteration": kind.value, "detected": True}
    case = parse_case(base(tumour_alterations=[alteration]))
    assert case.diagnosis.tumour_alterations is not None
    assert case.diagnosis.tumour_alterations[0].alteration is kind
