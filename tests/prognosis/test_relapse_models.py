"""prognosis.relapse -- the published relapse models, each against its source.

* Chisholm 2011 (J Clin Oncol 29:1319): ORs metastatic relapse 4.19 (2.0-8.5), prior RT 3.64
  (2.1-6.4), size >5 cm 2.53 (1.5-4.1), relapse <18 months from diagnosis 2.20 (1.3-3.6); four
  further factors without a readable OR; nomogram mapping not available -> not computable.
* Mazzoleni 2005 (Cancer 104:183): 0 factors 5-yr OS 71.8% +/- 23.5; 1 factor 37.5% +/- 17.2;
  >=2 factors not published.
* Pappo 1999 (J Clin Oncol 17:3487): 5-yr survival botryoid 64%, embryonal stage 1/group I 52%
  (local 72, regional 50, distant 30), stage 2-3/group II-III 20%, group IV 12%; alveolar /
  undifferentiated group I 40%, groups II-IV 3%.
* Mattke 2009: 4-yr survival 12% / 21% / 41% (<=6, 6-12, >12 months after end of therapy).
* Dantonello 2008: 5-yr post-relapse survival 24%.  Minn 2010: early progression 5-yr OS 32%.
* Wasti 2026: 3-yr OS after first event following metastatic disease ~8%.
Cases T9 and T10 are from shared/clinical/scoring-and-staging.md section 6.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_strategies import case_docs
from hypothesis import HealthCheck, assume, given, settings

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.case.vocab import Histology, PrimarySite
from rhabdo.errors import CaseValidationError, KnowledgeBaseError
from rhabdo.knowledge import sources
from rhabdo.knowledge.base import parse_table
from rhabdo.prognosis.knowledge import EntryKind, PrognosisEntry, prognosis_table
from rhabdo.prognosis.relapse_models import relapse_prognosis
from rhabdo.results import Finding, FindingStatus

DX = dt.date(2020, 1, 1)


def make_case(
    *,
    histology: str | None = "embryonal",
    site: str | None = "orbit",
    size_cm: float | None = 2,
    nodes: str | None = "N0",
    mets: list[str] | None = None,
    surgery: str | None = "biopsy_only",
    surgery_fields: dict[str, Any] | None = None,
    group: str | None = None,
    first_line: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    age_days: int = 7 * 365,
) -> Case:
    dx: dict[str, Any] = {
        "date": DX.isoformat(),
        "distant_metastases": mets if mets is not None else [],
    }
    for key, val in (
        ("histology", histology),
        ("primary_site", site),
        ("max_diameter_cm", size_cm),
        ("regional_nodes", nodes),
        ("irs_group_stated", group),
    ):
        if val is not None:
            dx[key] = val
    if surgery is not None:
        dx["initial_surgery"] = {"result": surgery, **(surgery_fields or {})}
    doc: dict[str, Any] = {
        "patient": {"id": "syn-models", "age_at_diagnosis_days": age_days},
        "diagnosis": dx,
    }
    doc["first_line"] = (
        first_line
        if first_line is not None
        else {
            "start_date": "2020-01-10",
            "end_date": "2020-09-01",
            "chemotherapy": [
                {"agent": "vincristine"},
                {"agent": "dactinomycin"},
                {"agent": "cyclophosphamide"},
            ],
            "radiotherapy": [{"total_dose_gy": 45}],
        }
    )
    doc["events"] = [
        event
        if event is not None
        else {"kind": "relapse", "date": "2022-07-01", "sites": [{"extent": "local"}]}
    ]
    return parse_case(doc)


def model(f: Finding, name: str) -> dict[str, Any]:
    return next(m for m in f.details["models"] if m["model"] == name)


def factor(m: dict[str, Any], key: str) -> dict[str, Any]:
    return next(x for x in m["factors"] if x["factor"] == key)


# --- knowledge ---------------------------------------------------------------------------------


def test_every_prognosis_entry_cites_known_sources() -> None:
    for e in prognosis_table():
        for key in e.citations:
            assert key in sources(), (e.id, key)


def test_outcome_entries_name_population_and_time_point() -> None:
    for e in prognosis_table():
        if e.kind is EntryKind.OUTCOME:
            assert e.population and e.time_point and e.measure, e.id
            assert e.value is not None or (not e.verified and e.evidence_gap), e.id


def test_no_events_not_applicable() -> None:
    case = parse_case({"patient": {"id": "x"}})
    assert relapse_prognosis(case).status is FindingStatus.NOT_APPLICABLE


# --- Chisholm 2011 -----------------------------------------------------------------------------

CHISHOLM_ORS = [
    ("metastatic_relapse", "odds_ratio 4.19 (95% CI 2-8.5)"),
    ("prior_radiotherapy", "odds_ratio 3.64 (95% CI 2.1-6.4)"),
    ("initial_size_over_5cm", "odds_ratio 2.53 (95% CI 1.5-4.1)"),
    ("relapse_under_18_months", "odds_ratio 2.2 (95% CI 1.3-3.6)"),
    ("unfavourable_site", None),
    ("nodal_involvement", None),
    ("alveolar_histology", None),
    ("three_or_six_drug_chemotherapy", None),
]


@pytest.mark.parametrize(("key", "effect"), CHISHOLM_ORS)
def test_chisholm_factor_rows(key: str, effect: str | None) -> None:
    m = model(relapse_prognosis(make_case()), "chisholm_2011")
    assert factor(m, key)["effect"] == effect
    assert m["computable"] is False
    assert "nomogram" in m["reason"]


@pytest.mark.parametrize(
    ("kwargs", "key", "present"),
    [
        (
            {"event": {"kind": "relapse", "date": "2022-07-01", "sites": [{"extent": "distant"}]}},
            "metastatic_relapse",
            True,
        ),
        ({}, "metastatic_relapse", False),
        (
            {
                "first_line": {
                    "start_date": "2020-01-10",
                    "end_date": "2020-09-01",
                    "radiotherapy_given": False,
                }
            },
            "prior_radiotherapy",
            False,
        ),
        (  # no course listed, but nothing says none was given: unknown, never "no"
            {"first_line": {"start_date": "2020-01-10", "end_date": "2020-09-01"}},
            "prior_radiotherapy",
            None,
        ),
        ({}, "prior_radiotherapy", True),
        ({"size_cm": 5.0}, "initial_size_over_5cm", False),  # > 5 cm is the cut-off: 5.0 is not
        ({"size_cm": 5.1}, "initial_size_over_5cm", True),
        ({"size_cm": None}, "initial_size_over_5cm", None),
        (
            {"event": {"kind": "relapse", "date": "2021-06-23", "sites": [{"extent": "local"}]}},
            "relapse_under_18_months",
            True,
        ),
        (
            {"event": {"kind": "relapse", "date": "2021-07-03", "sites": [{"extent": "local"}]}},
            "relapse_under_18_months",
            False,
        ),
        ({"nodes": "N1"}, "nodal_involvement", True),
        ({"nodes": "NX"}, "nodal_involvement", None),
        ({"histology": "alveolar"}, "alveolar_histology", True),
        ({"histology": "embryonal"}, "alveolar_histology", False),
        # RMS NOS is an unknown subtype, not "not alveolar" (issue 13 section 7)
        ({"histology": "rms_nos"}, "alveolar_histology", None),
        ({"histology": None}, "alveolar_histology", None),
        (
            {
                "nodes": "N0",
                "surgery": "complete",
                "surgery_fields": {"most_distal_node_involved": True},
            },
            "nodal_involvement",
            True,
        ),
        ({"site": "extremity"}, "unfavourable_site", True),
        ({"site": "kidney"}, "unfavourable_site", None),
    ],
)
def test_chisholm_factor_both_sides(kwargs: dict[str, Any], key: str, present: bool | None) -> None:
    m = model(relapse_prognosis(make_case(**kwargs)), "chisholm_2011")
    assert factor(m, key)["present"] is present


def test_chisholm_not_for_metastatic_at_diagnosis() -> None:
    m = model(relapse_prognosis(make_case(mets=["lung"])), "chisholm_2011")
    assert m["applicable"] is False


# --- Mazzoleni 2005 ----------------------------------------------------------------------------


def test_mazzoleni_gives_no_figure_when_rms_nos_decides_the_factor_count() -> None:
    """RMS NOS could be alveolar: 0 or 1 factors, so no 5-year OS figure is quoted."""
    m = model(relapse_prognosis(make_case(histology="rms_nos")), "mazzoleni_2005")
    assert factor(m, "alveolar")["present"] is None
    assert m["figure"] is None
    assert "diagnosis.histology" in m["needs"]


@pytest.mark.parametrize(
    ("kwargs", "count", "figure"),
    [
        ({}, 0, "5-year OS 71.8% (+/- 23.5)"),
        ({"histology": "alveolar"}, 1, "5-year OS 37.5% (+/- 17.2)"),
        ({"site": "parameningeal"}, 1, "5-year OS 37.5% (+/- 17.2)"),
        ({"histology": "alveolar", "site": "parameningeal"}, 2, None),  # not published
    ],
)
def test_mazzoleni_rows(kwargs: dict[str, Any], count: int, figure: str | None) -> None:
    m = model(relapse_prognosis(make_case(**kwargs)), "mazzoleni_2005")
    assert sum(1 for x in m["factors"] if x["present"]) == count
    assert m["figure"] == figure
    assert m["computable"] is (figure is not None)


def test_mazzoleni_extremity_site_is_not_decided() -> None:
    """Gap 5a: whether 'other' includes extremity is unverified -> count 0 or 1, not computable."""
    m = model(relapse_prognosis(make_case(site="extremity")), "mazzoleni_2005")
    assert factor(m, "parameningeal_or_other_site")["present"] is None
    assert m["computable"] is False and "0 to 1" in m["reason"]


@pytest.mark.parametrize("site", list(PrimarySite))
def test_mazzoleni_site_factor_for_every_site(site: PrimarySite) -> None:
    m = model(relapse_prognosis(make_case(site=site.value)), "mazzoleni_2005")
    assert factor(m, "parameningeal_or_other_site")["present"] in (True, False, None)


# --- Pappo 1999 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "figure"),
    [
        ({"histology": "embryonal_botryoid"}, "5-year survival 64%"),
        (
            {"site": "orbit"},
            "5-year survival 52%; local recurrence 72%",
        ),  # stage 1 (favourable site)
        (
            {"site": "extremity", "surgery": "complete"},
            "5-year survival 52%; local recurrence 72%",
        ),  # group I
        (
            {
                "site": "orbit",
                "event": {
                    "kind": "relapse",
                    "date": "2022-07-01",
                    "sites": [{"extent": "regional"}],
                },
            },
            "5-year survival 52%; regional recurrence 50%",
        ),
        (
            {
                "site": "orbit",
                "event": {
                    "kind": "relapse",
                    "date": "2022-07-01",
                    "sites": [{"extent": "distant"}],
                },
            },
            "5-year survival 52%; distant recurrence 30%",
        ),
        ({"site": "extremity"}, "5-year survival 20%"),  # stage 2/3, group III
        ({"mets": ["lung"]}, "5-year survival 12%"),  # group IV
        ({"histology": "embryonal_spindle_cell", "site": "extremity"}, "5-year survival 20%"),
        (
            {"histology": "alveolar", "site": "extremity", "surgery": "complete"},
            "5-year survival 40%",
        ),
        ({"histology": "alveolar", "site": "orbit"}, "5-year survival 3%"),
        ({"histology": "alveolar", "mets": ["lung"]}, "5-year survival 3%"),
    ],
)
def test_pappo_rows(kwargs: dict[str, Any], figure: str) -> None:
    m = model(relapse_prognosis(make_case(**kwargs)), "pappo_1999")
    assert m["computable"] is True
    assert m["figure"] == figure


@pytest.mark.parametrize("histology", list(Histology))
def test_pappo_every_histology(histology: Histology) -> None:
    m = model(
        relapse_prognosis(make_case(histology=histology.value, site="extremity")), "pappo_1999"
    )
    mapped = histology not in (
        Histology.SPINDLE_CELL_SCLEROSING,
        Histology.PLEOMORPHIC,
        Histology.RMS_NOS,
    )
    assert m["computable"] is mapped


def test_pappo_group_unknown() -> None:
    m = model(relapse_prognosis(make_case(site="extremity", surgery=None)), "pappo_1999")
    assert m["computable"] is False
    assert m["needs"] == ["diagnosis.irs_group_stated"]


# --- Mattke 2009, Dantonello 2008, Minn 2010, Wasti 2026 ---------------------------------------


@pytest.mark.parametrize(
    ("relapse_date", "figure"),
    [
        ("2020-12-01", "4-year survival 12%"),  # 3 months after the end
        ("2021-06-01", "4-year survival 21%"),  # 9 months
        ("2022-07-01", "4-year survival 41%"),  # 22 months
    ],
)
def test_mattke_rows(relapse_date: str, figure: str) -> None:
    ev = {"kind": "relapse", "date": relapse_date, "sites": [{"extent": "regional"}]}
    m = model(relapse_prognosis(make_case(histology="alveolar", event=ev)), "mattke_2009")
    assert m["figure"] == figure


def test_mattke_not_for_relapse_on_therapy() -> None:
    ev = {"kind": "relapse", "date": "2020-05-01", "sites": [{"extent": "local"}]}
    assert model(relapse_prognosis(make_case(event=ev)), "mattke_2009")["applicable"] is False


def test_dantonello_cohort_figure() -> None:
    m = model(relapse_prognosis(make_case()), "dantonello_2008")
    assert m["figure"] == "5-year post-relapse survival 24% (cohort)"


EARLY_PROGRESSION = {"kind": "progression", "date": "2020-03-01", "sites": [{"extent": "local"}]}


def test_minn_early_progression() -> None:
    """Parameningeal embryonal RMS, 6 cm, biopsy only (stage 3, group III): COG intermediate
    risk, the population of Minn 2010 (IRS-IV / D9803 intermediate risk)."""
    case = make_case(site="parameningeal", size_cm=6, event=EARLY_PROGRESSION)
    m = model(relapse_prognosis(case), "minn_2010")
    assert m["applicable"] is True and m["figure"] == "5-year OS 32% (95% CI 12-54)"
    assert m["membership"] == "member"


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        # orbit embryonal stage 1 group III is COG low risk: outside Minn's cohort
        ({}, "this patient was low risk"),
        # metastatic alveolar (the refractory metastatic patient of issue 13): high risk
        ({"histology": "alveolar", "site": "extremity", "mets": ["lung"]}, "high risk"),
    ],
)
def test_minn_not_applicable_outside_intermediate_risk(kwargs: dict[str, Any], why: str) -> None:
    """Minn 2010 was built on intermediate-risk patients (IRS-IV, D9803); an early
    progression of a low- or high-risk patient is 'not applicable: population'."""
    m = model(relapse_prognosis(make_case(event=EARLY_PROGRESSION, **kwargs)), "minn_2010")
    assert m["applicable"] is False and m["figure"] is None
    assert m["membership"] == "not_member"
    assert "not applicable: population" in m["reason"] and why in m["reason"]


def test_minn_d9803_embryonal_group_iv_under_10_is_in_the_population() -> None:
    """D9803 treated embryonal group IV under 10 years as intermediate risk (Arndt 2009)."""
    case = make_case(mets=["lung"], event=EARLY_PROGRESSION, age_days=5 * 365)
    assert model(relapse_prognosis(case), "minn_2010")["applicable"] is True
    older = make_case(mets=["lung"], event=EARLY_PROGRESSION, age_days=12 * 365)
    assert model(relapse_prognosis(older), "minn_2010")["applicable"] is False


def test_wasti_after_metastatic_disease() -> None:
    m = model(relapse_prognosis(make_case(mets=["lung", "bone"])), "wasti_2026")
    assert m["applicable"] is True and m["figure"] == "3-year OS after first event 8%"
    assert model(relapse_prognosis(make_case()), "wasti_2026")["applicable"] is False


# --- constructed cases T9, T10 -----------------------------------------------------------------


def test_t9_orbit_local_relapse_off_therapy() -> None:
    """T9: orbit ERMS stage 1 group III, local relapse 30 months after diagnosis, off therapy,
    prior RT, 2 cm: Chisholm metastatic N, RT Y, >5 cm N, <18 mo N, unfavourable site N, N1 N,
    alveolar N -> not computable; Mazzoleni 0 factors -> 71.8%; Pappo stage 1 embryonal,
    local -> 72%."""
    f = relapse_prognosis(make_case())
    assert f.status is FindingStatus.DETERMINED
    chis = model(f, "chisholm_2011")
    expected = {
        "metastatic_relapse": False,
        "prior_radiotherapy": True,
        "initial_size_over_5cm": False,
        "relapse_under_18_months": False,
        "unfavourable_site": False,
        "nodal_involvement": False,
        "alveolar_histology": False,
    }
    for key, present in expected.items():
        assert factor(chis, key)["present"] is present, key
    assert chis["computable"] is False
    assert model(f, "mazzoleni_2005")["figure"] == "5-year OS 71.8% (+/- 23.5)"
    assert "local recurrence 72%" in model(f, "pappo_1999")["figure"]
    assert "Mazzoleni 2005: 5-year OS 71.8%" in f.value


def test_t10_extremity_arms_metastatic_relapse_on_therapy() -> None:
    """T10: extremity ARMS, metastatic relapse on therapy at 10 months: Mazzoleni alveolar +
    systemic + on therapy (+ extremity unverified) -> >=3, OS not published; Chisholm metastatic
    Y, <18 months Y, alveolar Y."""
    ev = {
        "kind": "relapse",
        "date": "2020-11-01",
        "sites": [{"extent": "distant", "metastatic_site": "lung"}],
    }
    fl = {
        "start_date": "2020-01-10",
        "ongoing": True,
        "chemotherapy": [
            {"agent": "vincristine"},
            {"agent": "dactinomycin"},
            {"agent": "cyclophosphamide"},
        ],
    }
    f = relapse_prognosis(
        make_case(histology="alveolar", site="extremity", event=ev, first_line=fl)
    )
    mazz = model(f, "mazzoleni_2005")
    assert sum(1 for x in mazz["factors"] if x["present"]) == 3
    assert mazz["computable"] is False and mazz["figure"] is None
    assert "not found" in mazz["reason"] or "not derived" in mazz["reason"]
    chis = model(f, "chisholm_2011")
    for key in ("metastatic_relapse", "relapse_under_18_months", "alveolar_histology"):
        assert factor(chis, key)["present"] is True
    assert model(f, "pappo_1999")["figure"] == "5-year survival 3%"


# --- properties --------------------------------------------------------------------------------


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(case_docs())
def test_no_valid_case_raises(doc: dict[str, Any]) -> None:
    try:
        case = parse_case(doc)
    except CaseValidationError:
        assume(False)
        return
    f = relapse_prognosis(case)
    assert f.id == "prognosis.relapse"
    for m in f.details["models"]:
        assert m["applicable"] in (True, False, None)
        if m["computable"]:
            assert m["figure"]
    if f.status is FindingStatus.DETERMINED:
        assert any(m["applicable"] is True and m["computable"] for m in f.details["models"])


@pytest.mark.parametrize("name", ["chisholm_2011", "mazzoleni_2005", "dantonello_2008"])
def test_remission_models_exclude_progression(name: str) -> None:
    """Chisholm, Mazzoleni and Dantonello studied recurrence after complete remission."""
    ev = {"kind": "progression", "date": "2020-03-01", "sites": [{"extent": "local"}]}
    m = model(relapse_prognosis(make_case(event=ev)), name)
    assert m["applicable"] is False and "progression" in m["reason"]


def test_pappo_and_wasti_include_progression() -> None:
    ev = {"kind": "progression", "date": "2020-03-01", "sites": [{"extent": "local"}]}
    f = relapse_prognosis(make_case(mets=["lung"], event=ev))
    assert model(f, "pappo_1999")["applicable"] is True
    assert model(f, "wasti_2026")["applicable"] is True


def test_first_event_only() -> None:
    events = [
        {"kind": "relapse", "date": "2022-07-01", "sites": [{"extent": "local"}]},
        {"kind": "relapse", "date": "2023-07-01", "sites": [{"extent": "distant"}]},
    ]
    doc_case = make_case()
    case = Case.model_validate({**doc_case.model_dump(mode="json"), "events": events})
    f = relapse_prognosis(case)
    assert f.details["event"] == {"index": 0, "kind": "relapse"}
    assert factor(model(f, "chisholm_2011"), "metastatic_relapse")["present"] is False


# Mazzoleni 2005 abstract: relative risks of the four factors
MAZZOLENI_RRS = [
    ("alveolar", "relative_risk 2"),
    ("parameningeal_or_other_site", "relative_risk 2.6"),
    ("systemic_recurrence", "relative_risk 3.1"),
    ("recurrence_on_therapy", "relative_risk 2.3"),
]


@pytest.mark.parametrize(("key", "effect"), MAZZOLENI_RRS)
def test_mazzoleni_factor_rows(key: str, effect: str) -> None:
    m = model(relapse_prognosis(make_case()), "mazzoleni_2005")
    assert factor(m, key)["effect"] == effect


# --- the knowledge schema refuses incomplete entries ------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "outcome", "model": "x", "label": "no population", "value": 1, "unit": "percent"},
        {
            "kind": "outcome",
            "model": "x",
            "label": "verified but no value",
            "population": "p",
            "time_point": "t",
            "measure": "m",
        },
        {"kind": "threshold", "model": "x", "label": "no unit", "value": 18},
        {"kind": "site_rule", "model": "x", "label": "misses sites", "sites": {}},
        {"kind": "factor", "model": "x", "label": "unverified, no gap", "verified": False},
    ],
)
def test_schema_rejects_incomplete_entries(item: dict[str, Any]) -> None:
    raw = {
        "entries": [
            {
                "id": "bad.entry",
                "citations": ["oberlin_2008"],
                "last_reviewed": "2026-11-22",
                **item,
            }
        ]
    }
    with pytest.raises(KnowledgeBaseError) as err:
        parse_table("prognosis.yaml", raw, PrognosisEntry)
    assert "bad.entry" in str(err.value)
