"""Property tests over the whole engine: no valid case makes `assess` raise, every finding and
recommendation carries its basis, and filling in a missing field never produces an answer that
was not among the earlier candidates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import (
    Anaplasia,
    BodyRegion,
    ChemotherapyAgent,
    DoseUnit,
    EventKind,
    Extent,
    FusionStatus,
    Histology,
    Invasiveness,
    MetastaticSite,
    MutationStatus,
    NodalStatus,
    PrimarySite,
    SurgicalResult,
)
from rhabdo.engine import assess, core_findings
from rhabdo.errors import CaseValidationError
from rhabdo.exposure.plausibility import implausible_doses
from rhabdo.knowledge import sources
from rhabdo.results import FindingStatus

DX = date(2020, 6, 1)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def codes(enum: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([m.value for m in enum])


@st.composite
def case_docs(draw: st.DrawFn) -> dict[str, Any]:
    diagnosis = {
        "date": DX.isoformat(),
        "primary_site": draw(maybe(codes(PrimarySite))),
        "histology": draw(maybe(codes(Histology))),
        "anaplasia": draw(maybe(codes(Anaplasia))),
        "foxo1_fusion": draw(maybe(codes(FusionStatus))),
        "myod1": draw(maybe(codes(MutationStatus))),
        "tp53": draw(maybe(codes(MutationStatus))),
        "invasiveness": draw(maybe(codes(Invasiveness))),
        "max_diameter_cm": draw(maybe(st.sampled_from([0.5, 4.9, 5.0, 5.1, 12.0]))),
        "regional_nodes": draw(maybe(codes(NodalStatus))),
        "distant_metastases": draw(maybe(st.lists(codes(MetastaticSite), unique=True, max_size=4))),
        "initial_surgery": draw(maybe(st.fixed_dictionaries({"result": codes(SurgicalResult)}))),
    }
    start = DX + timedelta(days=draw(st.integers(0, 30)))
    length = draw(st.integers(60, 500))
    chemo = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "agent": codes(
                        [a for a in ChemotherapyAgent if a is not ChemotherapyAgent.OTHER]
                    ),
                    "dose_per_administration": st.sampled_from([0.05, 1.5, 30.0, 1200.0]),
                    "dose_unit": codes(DoseUnit),
                    "administrations": st.integers(1, 20),
                }
            ),
            max_size=4,
        )
    )
    first_line = draw(
        maybe(
            st.just(
                {
                    "start_date": start.isoformat(),
                    "end_date": (start + timedelta(days=length)).isoformat(),
                    "body_surface_area_m2": 1.1,
                    "weight_kg": 30,
                    "chemotherapy": chemo,
                    "radiotherapy": draw(
                        st.lists(
                            st.fixed_dictionaries(
                                {
                                    "body_region": codes(BodyRegion),
                                    "total_dose_gy": st.sampled_from([15.0, 36.0, 50.4]),
                                    "fractions": st.integers(5, 30),
                                }
                            ),
                            max_size=2,
                        )
                    ),
                }
            )
        )
    )
    events = []
    if draw(st.booleans()):
        sites = draw(
            maybe(
                st.lists(
                    st.builds(
                        lambda e, r, irr: {
                            "extent": e,
                            "body_region": r,
                            "in_irradiated_field": irr,
                        },
                        codes(Extent),
                        codes(BodyRegion),
                        maybe(st.booleans()),
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
        )
        events.append(
            {
                "kind": draw(codes(EventKind)),
                "date": (DX + timedelta(days=draw(st.integers(10, 2000)))).isoformat(),
                "sites": sites,
                "suspected_second_malignancy": draw(maybe(st.booleans())),
                "atypical_imaging": draw(maybe(st.booleans())),
            }
        )
    doc: dict[str, Any] = {
        "patient": {"id": "PROP-1", "age_at_diagnosis_days": draw(maybe(st.integers(0, 9000)))},
        "diagnosis": {k: v for k, v in diagnosis.items() if v is not None},
        "events": events,
    }
    if first_line is not None:
        doc["first_line"] = first_line
    return doc


def _valid(doc: dict[str, Any]) -> Case | None:
    try:
        case = parse_case(doc)
    except CaseValidationError:
        return None  # e.g. a stated combination the model rejects; not the engine's concern
    # a thousand-fold unit error is refused by assess itself (issue 14): not a valid case
    return None if implausible_doses(case) else case


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_docs())
def test_no_valid_case_makes_the_engine_raise(doc: dict[str, Any]) -> None:
    case = _valid(doc)
    if case is None:
        return
    a = assess(case, assessed_on=date(2026, 11, 22))
    registry = sources()
    for f in a.findings.values():
        assert f.reason.strip() and f.rule
        assert all(c in registry for c in f.citations), f.citations
    for r in a.recommendations:
        assert r.reason.strip() and r.citations
        assert all(c in registry for c in r.citations), r.citations


FILLABLE = {
    "max_diameter_cm": [3.0, 5.0, 7.5],
    "regional_nodes": ["N0", "N1", "NX"],
    "distant_metastases": [[], ["lung"], ["bone", "bone_marrow", "lung"]],
    "foxo1_fusion": ["pax3_foxo1", "pax7_foxo1", "negative"],
    "histology": ["embryonal", "alveolar"],
    "primary_site": ["orbit", "bladder", "extremity", "parameningeal"],
    "initial_surgery": [{"result": "complete"}, {"result": "biopsy_only"}],
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_docs(), st.sampled_from(sorted(FILLABLE)), st.data())
def test_filling_a_missing_field_yields_an_earlier_candidate(
    doc: dict[str, Any], field: str, data: st.DataObject
) -> None:
    if field in doc["diagnosis"]:
        return
    before_case = _valid(doc)
    if before_case is None:
        return
    value = data.draw(st.sampled_from(FILLABLE[field]))
    after_doc = {**doc, "diagnosis": {**doc["diagnosis"], field: value}}
    after_case = _valid(after_doc)
    if after_case is None:
        return
    before = core_findings(before_case)
    after = core_findings(after_case)
    for fid, f in before.items():
        if (
            f.status is FindingStatus.INDETERMINATE
            and f.candidates
            and f"diagnosis.{field}" in f.needs
        ):
            g = after[fid]
            if g.status is FindingStatus.DETERMINED:
                assert _within(g.value, f.candidates), (fid, field, value, f.candidates, g.value)


def _within(value: Any, candidates: list[Any]) -> bool:
    """A value is within the candidates when it is one of them, or a subgroup of one
    (the IRS group candidate 'III' covers the determined subgroup 'IIIA')."""
    if value in candidates:
        return True
    return isinstance(value, str) and value.rstrip("ABC") in candidates
