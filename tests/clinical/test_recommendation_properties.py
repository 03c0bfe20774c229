"""Properties of the recommendations over generated relapse cases (issue 13, tests).

* No *recommended* strength rests on an indeterminate finding that would change it: local
  therapy is never recommended while ``relapse.extent`` is open, radiotherapy to a site is never
  recommended while its irradiation is unknown, and no RMS-directed option (local, systemic,
  trials, targeted, palliative radiotherapy) is recommended before histology confirms the
  recurrence; every *caution* option leads with the caution; palliative radiotherapy is advised
  only for a site with recorded symptoms.
* No regimen the disease progressed or relapsed on is offered: a relapse regimen whose agents
  were all in a failed line (during it, within Mattke 2009's 6 months after it, or with no
  response) is always *avoid*.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rhabdo.case.io import parse_case
from rhabdo.case.vocab import (
    ChemotherapyAgent,
    LesionCount,
    MetastaticSite,
    SiteSymptom,
    TreatmentResponse,
)
from rhabdo.engine import assess
from rhabdo.errors import CaseValidationError
from rhabdo.exposure.history import treatment_history
from rhabdo.knowledge.treatment import RegimenSetting, regimens
from rhabdo.recommend import _facts as facts
from rhabdo.recommend.histology import rms_directed
from rhabdo.results import FindingStatus, Strength

DX = date(2019, 1, 1)
AGENTS = [
    ChemotherapyAgent.VINCRISTINE,
    ChemotherapyAgent.DACTINOMYCIN,
    ChemotherapyAgent.CYCLOPHOSPHAMIDE,
    ChemotherapyAgent.IFOSFAMIDE,
    ChemotherapyAgent.DOXORUBICIN,
    ChemotherapyAgent.ETOPOSIDE,
    ChemotherapyAgent.IRINOTECAN,
    ChemotherapyAgent.TEMOZOLOMIDE,
    ChemotherapyAgent.VINORELBINE,
    ChemotherapyAgent.TOPOTECAN,
    ChemotherapyAgent.TEMSIROLIMUS,
]


def maybe(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), s)


@st.composite
def sites(draw: st.DrawFn) -> dict[str, Any]:
    extent = draw(st.sampled_from(["local", "regional", "distant"]))
    site: dict[str, Any] = {"extent": extent}
    if extent == "distant":
        organ = draw(maybe(st.sampled_from([m.value for m in MetastaticSite])))
        if organ:
            site["metastatic_site"] = organ
    lesions = draw(maybe(st.sampled_from([m.value for m in LesionCount])))
    if lesions:
        site["lesions"] = lesions
    region = draw(maybe(st.sampled_from(["thorax", "abdomen", "pelvis"])))
    if region:
        site["body_region"] = region
    irradiated = draw(maybe(st.booleans()))
    if irradiated is not None:
        site["in_irradiated_field"] = irradiated
    symptoms = draw(maybe(st.lists(st.sampled_from([s.value for s in SiteSymptom]), max_size=3)))
    if symptoms is not None:
        site["symptoms"] = symptoms
    return site


@st.composite
def lines(draw: st.DrawFn, start: date) -> dict[str, Any]:
    length = draw(st.integers(30, 400))
    line: dict[str, Any] = {
        "start_date": draw(maybe(st.just(start.isoformat()))),
        "chemotherapy": [
            {"agent": a.value}
            for a in draw(st.lists(st.sampled_from(AGENTS), unique=True, min_size=1, max_size=5))
        ],
    }
    if draw(st.booleans()):
        line["ongoing"] = True
    else:
        end = draw(maybe(st.just((start + timedelta(days=length)).isoformat())))
        if end:
            line["end_date"] = end
    rt = draw(st.sampled_from(["none", "unrecorded", "thorax", "pelvis"]))
    if rt == "none":
        line["radiotherapy_given"] = False
    elif rt != "unrecorded":
        line["radiotherapy"] = [{"body_region": rt, "total_dose_gy": 45.0}]
    response = draw(maybe(st.sampled_from([m.value for m in TreatmentResponse])))
    if response:
        line["best_response"] = response
    return line


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    first = draw(maybe(lines(DX + timedelta(days=10))))
    doc: dict[str, Any] = {
        "patient": {"id": "PROP-13", "age_at_diagnosis_days": draw(st.integers(100, 12000))},
        "diagnosis": {"date": DX.isoformat(), "histology": "embryonal"},
        "events": [
            {
                "kind": draw(st.sampled_from(["relapse", "progression"])),
                "date": (DX + timedelta(days=draw(st.integers(40, 1500)))).isoformat(),
                "histologically_confirmed": draw(maybe(st.booleans())),
                "suspected_second_malignancy": draw(maybe(st.booleans())),
                "atypical_imaging": draw(maybe(st.booleans())),
            }
        ],
    }
    site_list = draw(maybe(st.lists(sites(), min_size=1, max_size=3)))
    if site_list is not None:
        doc["events"][0]["sites"] = site_list
    if first is not None:
        doc["first_line"] = first
    return doc


def _parse(doc: dict[str, Any]) -> Any:
    try:
        return parse_case(doc)
    except CaseValidationError:
        return None


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(cases())
def test_no_recommended_strength_on_an_open_finding(doc: dict[str, Any]) -> None:
    case = _parse(doc)
    if case is None:
        return
    a = assess(case)
    recs = {r.id: r for r in a.recommendations}
    extent = a.findings["relapse.extent"]
    if extent.status is FindingStatus.INDETERMINATE:
        assert all(
            r.strength is not Strength.RECOMMENDED
            for r in a.recommendations
            if r.id.startswith("local_therapy.")
        )
    if extent.value == "disseminated":
        assert "local_therapy.aggressive_multimodal" not in recs
        assert "local_therapy.radiotherapy" not in recs
    if case.events[-1].histologically_confirmed is not True:
        for r in a.recommendations:
            if rms_directed(r):
                assert r.strength is not Strength.RECOMMENDED, r.id
                if r.strength is not Strength.AVOID:
                    assert r.details.get("conditional_on") == "histology_confirms_recurrent_rms"
    for r in a.recommendations:
        if r.strength is Strength.CAUTION:
            assert r.statement.startswith("Caution — "), r.id
    rt_site = recs.get("palliative.symptom_radiotherapy")
    if rt_site is not None:
        for site in rt_site.details["sites"]:
            # radiotherapy is advised only for a site with a recorded, cited symptom
            if site["plan"] == "treat":
                s = case.events[-1].sites[site["site"]]
                assert s.symptoms, site
    rt = recs.get("local_therapy.radiotherapy")
    if rt is not None and rt.strength is Strength.RECOMMENDED:
        treated = rt.details["sites"]
        assert isinstance(treated, list)
        irradiation = {f.site_index: f.irradiated for f in facts.site_irradiation(case)}
        assert all(irradiation[i] is False for i in treated)


@PROPERTY_SETTINGS
@given(cases())
def test_no_regimen_the_disease_failed_on_is_offered(doc: dict[str, Any]) -> None:
    case = _parse(doc)
    if case is None:
        return
    history = treatment_history(case)
    failed = [line.agents for line in history.failed_lines()]
    recs = {r.id: r for r in assess(case).recommendations}
    for regimen in regimens():
        if regimen.setting is not RegimenSetting.RELAPSE or not regimen.offered_for_relapse:
            continue
        if any(regimen.agent_set <= agents for agents in failed):
            assert recs[f"systemic.{regimen.id}"].strength is Strength.AVOID, regimen.id
