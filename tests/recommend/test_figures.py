"""Regimen trial figures quoted only to a patient of their population (issue 13, section 5:
"every quoted outcome figure belongs to a population that includes the patient").

Populations (populations.yaml; relapse-dosing-late-effects.md sections 1-3): VIT-0910 =
relapsed or refractory RMS never given irinotecan or temozolomide (Defachelles 2021; the
exclusion SECONDARY, ASCO 2019); ARST0921 = first relapse with an unfavourable prognosis
(Mascarenhas 2019, JCO); ARST0121 favourable group = botryoid or embryonal stage 1/group I, no
prior cyclophosphamide (Mascarenhas 2019, Cancer); EpSSG RMS 2005 maintenance = non-metastatic
high-risk RMS in remission (Bisogno 2019); MTS 2008 = metastatic RMS under 21 (Schoot 2022).
"""

from __future__ import annotations

from typing import Any

import pytest
from recommend_helpers import by_id, case

from rhabdo.case.io import parse_case
from rhabdo.case.model import Case
from rhabdo.engine import core_findings
from rhabdo.knowledge.treatment import regimens
from rhabdo.prognosis.population import Membership, check_population, population_table
from rhabdo.recommend import recommend
from rhabdo.recommend.figures import figure_details, figure_groups, trial_text
from rhabdo.recommend.systemic import systemic_recommendations


def _doc(
    *,
    chemo: tuple[str, ...] = ("vincristine", "dactinomycin"),
    events: int = 1,
    mets: list[str] | None = None,
    first_line: bool = True,
    histology: str = "embryonal",
    site: str = "orbit",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "patient": {"id": "syn-fig", "age_at_diagnosis_days": 2600},
        "diagnosis": {
            "date": "2019-01-01",
            "histology": histology,
            "primary_site": site,
            "max_diameter_cm": 3.0,
            "regional_nodes": "N0",
            "distant_metastases": mets or [],
            "initial_surgery": {"result": "complete"},
        },
        "events": [
            {
                "kind": "relapse",
                "date": f"{2021 + i}-03-01",
                "histologically_confirmed": True,
                "sites": [{"extent": "local"}],
            }
            for i in range(events)
        ],
    }
    if first_line:
        doc["first_line"] = {
            "start_date": "2019-01-10",
            "end_date": "2019-07-01",
            "chemotherapy": [{"agent": a} for a in chemo],
            "radiotherapy_given": False,
        }
    return doc


def make(**kw: Any) -> Case:
    return parse_case(_doc(**kw))


def _recs(c: Case) -> dict[str, Any]:
    return by_id(recommend(c, core_findings(c)))


REGIMEN_TRIALS = [(r.id, i) for r in regimens() for i, t in enumerate(r.trials) if t.outcomes]


@pytest.mark.parametrize(("regimen_id", "index"), REGIMEN_TRIALS)
def test_every_trial_figure_declares_a_population_that_resolves(
    regimen_id: str, index: int
) -> None:
    ids = {p.id for p in population_table()}
    trial = regimens()[regimen_id].trials[index]
    for o in trial.outcomes:
        assert trial.population_of(o) in ids, (regimen_id, o.group)


def test_member_figures_are_quoted_with_their_population() -> None:
    """VA only, local relapse of embryonal orbit stage 1 / group I: ARST0121 favourable group."""
    c = make()
    salvage = regimens()["arst0121_multiagent_salvage"].trials[0]
    assert check_population(c, "arst0121_trial.favourable").membership is Membership.MEMBER
    text = trial_text(c, salvage, salvage.outcomes)
    assert "failure free survival at 3 yr 79%" in text  # Mascarenhas 2019 (Cancer)
    assert "population: ARST0121 favourable-risk first relapse" in text


def test_figures_of_another_population_are_named_not_quoted() -> None:
    """After cyclophosphamide the patient is in the unfavourable group: the favourable group's
    79% / 84% are not this patient's."""
    c = make(chemo=("vincristine", "dactinomycin", "cyclophosphamide"))
    salvage = regimens()["arst0121_multiagent_salvage"].trials[0]
    text = trial_text(c, salvage, salvage.outcomes)
    assert "79%" not in text and "84%" not in text
    assert text.startswith("COG ARST0121: figures from another population, not this patient's")
    assert "COG ARST0121 favourable relapse group; this is unfavourable" in text
    details = figure_details(c, salvage, salvage.outcomes)
    assert details["outcomes"] == []
    assert details["populations"][0]["membership"] == "not_member"


def test_undecided_population_asks_for_the_record() -> None:
    """No treatment recorded: whether VIT-0910's exclusion of prior irinotecan holds is open."""
    c = make(first_line=False)
    vit = regimens()["vit"].trials[0]
    [group] = figure_groups(c, vit, vit.outcomes[:2])
    assert group.check.membership is Membership.UNKNOWN
    text = group.text()
    assert "44%" not in text
    assert "apply only if never given irinotecan or temozolomide" in text
    assert "record first_line" in text


def test_vit_figures_not_quoted_after_irinotecan() -> None:
    """VIT-0910 excluded prior irinotecan or temozolomide (ASCO 2019, SECONDARY)."""
    c = make(chemo=("vincristine", "irinotecan"))
    recs = _recs(c)
    assert "44%" not in recs["systemic.vit"].reason
    assert "this patient had irinotecan" in recs["systemic.vit"].reason
    overview = recs["systemic.relapse_overview"].reason
    assert "0.55" not in overview and "another population" in overview


def test_vit_figures_quoted_when_irinotecan_naive() -> None:
    c = make()
    recs = _recs(c)
    assert "objective response 44%" in recs["systemic.vit"].reason
    assert "0.55" in recs["systemic.relapse_overview"].reason


def test_first_relapse_trial_figures_not_quoted_at_a_second_recurrence() -> None:
    """ARST0921 enrolled patients at a first relapse (Mascarenhas 2019, JCO)."""
    c = make(events=2, chemo=("vincristine", "dactinomycin", "cyclophosphamide"))
    recs = _recs(c)
    reason = recs["systemic.vc_temsirolimus"].reason
    assert "47%" not in reason and "this is recurrence 2" in reason


def test_ice_embryonal_figure_only_for_embryonal_histology() -> None:
    ice = regimens()["ice"].trials[0]
    embryonal = [o for o in ice.outcomes if o.population_id == "van_winkle_2005.embryonal"]
    assert embryonal
    emb = figure_groups(make(), ice, embryonal)
    alv = figure_groups(make(histology="alveolar"), ice, embryonal)
    assert emb[0].quoted and not alv[0].quoted


def test_maintenance_figure_is_another_populations_for_metastatic_disease() -> None:
    """RMS 2005 maintenance randomised non-metastatic high-risk patients (Bisogno 2019): for a
    patient metastatic at diagnosis the figure is named as another population's."""
    c = case(events=[], diagnosis={"distant_metastases": ["lung", "bone"]}, first_line=None)
    recs = by_id(systemic_recommendations(c, core_findings(c)))
    maint = recs["systemic.maintenance_vinorelbine_cyclophosphamide"]
    assert "86.5%" not in maint.reason and "77.6%" not in maint.reason
    assert "figures from another population" in maint.reason
    assert "not metastatic at diagnosis" in maint.reason
