"""Populations behind every prognostic figure, and membership (issue 13 section 5).

Populations as read (relapse-dosing-late-effects.md section 11): Minn 2010 = intermediate risk
on IRS-IV / D9803 (early failure < 120 days); Chisholm 2011, Mazzoleni 2005, Dantonello 2008 =
non-metastatic at diagnosis, recurrence after remission; Mattke 2009 = relapse after complete
remission and completion of primary therapy; Dantonello 2013 = non-metastatic alveolar RMS;
Wasti 2026 = metastatic at diagnosis, aged 0-40; ARST0121 = first relapse or progression, by
COG relapse group; Pappo 1999 = first relapse on IRSG protocols, metastatic included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_strategies import case_docs
from hypothesis import HealthCheck, assume, given, settings

from rhabdo.case.io import parse_case
from rhabdo.case.memo import assessment_scope
from rhabdo.case.model import Case
from rhabdo.engine import core_findings
from rhabdo.errors import CaseValidationError, KnowledgeBaseError
from rhabdo.knowledge import sources
from rhabdo.knowledge.treatment import regimens
from rhabdo.prognosis._subgroups import pappo_category
from rhabdo.prognosis.knowledge import EntryKind, prognosis_table
from rhabdo.prognosis.population import (
    CRITERIA,
    Characteristic,
    Criterion,
    Membership,
    check_population,
    figure_applies,
    lineage,
    population_of,
    population_table,
    populations_used,
)
from rhabdo.prognosis.relapse_models import relapse_prognosis
from rhabdo.recommend import recommend

DX = dt.date(2020, 1, 1)
YEAR = 365.25


def make(
    *,
    histology: str | None = "embryonal",
    site: str = "orbit",
    size: float = 2.0,
    mets: list[str] | None = None,
    surgery: str = "biopsy_only",
    kind: str = "relapse",
    event_date: str = "2022-07-01",
    extents: tuple[str, ...] | None = ("local",),
    age_years: float = 7.0,
    start: str | None = "2020-01-10",
    end: str | None = "2020-09-01",
    chemo: tuple[str, ...] = ("vincristine", "dactinomycin", "cyclophosphamide"),
) -> Case:
    dx: dict[str, Any] = {
        "date": DX.isoformat(),
        "primary_site": site,
        "max_diameter_cm": size,
        "regional_nodes": "N0",
        "distant_metastases": mets or [],
        "initial_surgery": {"result": surgery},
    }
    if histology is not None:
        dx["histology"] = histology
    ev: dict[str, Any] = {"kind": kind, "date": event_date}
    if extents is not None:
        ev["sites"] = [
            {"extent": e, **({"metastatic_site": "lung"} if e == "distant" else {})}
            for e in extents
        ]
    fl: dict[str, Any] = {"chemotherapy": [{"agent": a} for a in chemo]}
    if start:
        fl["start_date"] = start
    if end:
        fl["end_date"] = end
    return parse_case(
        {
            "patient": {"id": "syn-pop", "age_at_diagnosis_days": int(age_years * YEAR) + 30},
            "diagnosis": dx,
            "first_line": fl,
            "events": [ev],
        }
    )


def membership(case: Case, pid: str) -> Membership:
    return check_population(case, pid).membership


# --- the table itself ---------------------------------------------------------------------


def test_every_outcome_figure_declares_a_population_that_resolves() -> None:
    ids = {p.id for p in population_table()}
    for e in prognosis_table():
        if e.kind is EntryKind.OUTCOME:
            assert population_of(e) in ids, e.id
    assert populations_used() <= ids


@pytest.mark.parametrize("pid", sorted(p.id for p in population_table()))
def test_every_population_resolves_its_parents_and_citations(pid: str) -> None:
    chain = lineage(pid)
    assert chain[-1].id == pid
    assert chain[0].parent is None
    for p in chain:
        assert p.model == chain[0].model
        for key in p.citations:
            assert key in sources()


def test_unknown_population_is_a_knowledge_error() -> None:
    with pytest.raises(KnowledgeBaseError):
        check_population(make(), "no_such_population")


def test_secondary_populations_say_so_in_words() -> None:
    words = check_population(make(), "pappo_1999").words()
    assert words.endswith("[SECONDARY]")
    assert "[SECONDARY]" not in check_population(make(), "arst0121").words()


# --- each restriction, both sides -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mets", "pid", "expected"),
    [
        (None, "chisholm_2011", Membership.MEMBER),
        (["lung"], "chisholm_2011", Membership.NOT_MEMBER),
        (None, "wasti_2026", Membership.NOT_MEMBER),
        (["lung"], "wasti_2026", Membership.MEMBER),
        (["lung"], "pappo_1999", Membership.MEMBER),  # Pappo included metastatic at diagnosis
        (None, "pappo_1999", Membership.MEMBER),
    ],
)
def test_metastatic_at_diagnosis(mets: list[str] | None, pid: str, expected: Membership) -> None:
    assert membership(make(mets=mets), pid) is expected


def test_metastatic_status_unknown_is_undecided() -> None:
    case = make()
    doc = case.model_dump(mode="json", exclude_none=True)
    del doc["diagnosis"]["distant_metastases"]
    check = check_population(parse_case(doc), "chisholm_2011")
    assert check.membership is Membership.UNKNOWN
    assert check.needs == ("diagnosis.distant_metastases",)
    assert check.reason().startswith("applies only if")


@pytest.mark.parametrize(
    ("histology", "expected"),
    [
        ("alveolar", Membership.MEMBER),
        ("embryonal", Membership.NOT_MEMBER),
        ("embryonal_botryoid", Membership.NOT_MEMBER),
        ("rms_nos", Membership.UNKNOWN),  # an unknown subtype, never "not alveolar"
        (None, Membership.UNKNOWN),
    ],
)
def test_histology_restriction(histology: str | None, expected: Membership) -> None:
    case = make(histology=histology, site="extremity")
    assert membership(case, "dantonello_2013") is expected


@pytest.mark.parametrize(
    ("kind", "expected"), [("relapse", Membership.MEMBER), ("progression", Membership.NOT_MEMBER)]
)
def test_recurrence_after_remission_only(kind: str, expected: Membership) -> None:
    for pid in ("chisholm_2011", "mazzoleni_2005", "dantonello_2008", "mattke_2009"):
        assert membership(make(kind=kind), pid) is expected, pid


@pytest.mark.parametrize(
    ("extents", "local", "distant"),
    [
        (("local",), Membership.MEMBER, Membership.NOT_MEMBER),
        (("regional",), Membership.NOT_MEMBER, Membership.NOT_MEMBER),
        (("distant",), Membership.NOT_MEMBER, Membership.MEMBER),
        (("local", "distant"), Membership.NOT_MEMBER, Membership.MEMBER),
        (None, Membership.UNKNOWN, Membership.UNKNOWN),
    ],
)
def test_pattern_of_recurrence(
    extents: tuple[str, ...] | None, local: Membership, distant: Membership
) -> None:
    case = make(extents=extents)
    assert membership(case, "pappo_1999.embryonal_stage1_or_group1.local") is local
    assert membership(case, "pappo_1999.embryonal_stage1_or_group1.distant") is distant


@pytest.mark.parametrize(
    ("event_date", "early", "intermediate", "late"),
    [
        ("2020-08-01", Membership.NOT_MEMBER, Membership.NOT_MEMBER, Membership.NOT_MEMBER),
        ("2021-03-01", Membership.MEMBER, Membership.NOT_MEMBER, Membership.NOT_MEMBER),
        ("2021-08-01", Membership.NOT_MEMBER, Membership.MEMBER, Membership.NOT_MEMBER),
        ("2022-07-01", Membership.NOT_MEMBER, Membership.NOT_MEMBER, Membership.MEMBER),
    ],
)
def test_time_after_the_end_of_therapy(
    event_date: str, early: Membership, intermediate: Membership, late: Membership
) -> None:
    """Mattke 2009: <=6, >6-12, >12 months after the end of primary therapy (2020-09-01);
    a relapse on therapy is outside every Mattke population."""
    case = make(event_date=event_date)
    assert membership(case, "mattke_2009.early") is early
    assert membership(case, "mattke_2009.intermediate") is intermediate
    assert membership(case, "mattke_2009.late") is late


def test_time_after_therapy_unknown_without_an_end_date() -> None:
    check = check_population(make(end=None), "mattke_2009.late")
    assert check.membership is Membership.UNKNOWN
    assert "first_line.end_date" in check.needs


@pytest.mark.parametrize(
    ("age_years", "pid", "expected"),
    [
        (40.5, "wasti_2026", Membership.MEMBER),  # aged 0-40
        (41.2, "wasti_2026", Membership.NOT_MEMBER),
        (20.5, "mts2008", Membership.MEMBER),  # younger than 21
        (21.2, "mts2008", Membership.NOT_MEMBER),
    ],
)
def test_age_range_where_the_source_states_one(
    age_years: float, pid: str, expected: Membership
) -> None:
    assert membership(make(mets=["lung"], age_years=age_years), pid) is expected


def test_no_age_bound_is_invented() -> None:
    """Sources whose age limits were not read do not exclude an adult."""
    adult = make(age_years=35)
    for pid in ("pappo_1999", "chisholm_2011", "mazzoleni_2005", "arst0121"):
        assert membership(adult, pid) is Membership.MEMBER, pid


# --- each criterion, both sides -------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "member", "other"),
    [
        (Criterion.PAPPO_BOTRYOID, {"histology": "embryonal_botryoid"}, {}),
        (Criterion.PAPPO_EMBRYONAL_STAGE1_OR_GROUP1, {}, {"site": "extremity"}),
        (Criterion.PAPPO_EMBRYONAL_STAGE23_OR_GROUP23, {"site": "extremity"}, {}),
        (Criterion.PAPPO_EMBRYONAL_GROUP4, {"mets": ["lung"]}, {}),
        (
            Criterion.PAPPO_ALVEOLAR_GROUP1,
            {"histology": "alveolar", "surgery": "complete"},
            {"histology": "alveolar"},
        ),
        (Criterion.PAPPO_ALVEOLAR_GROUP2_4, {"histology": "alveolar"}, {}),
        (
            Criterion.COG_INTERMEDIATE_RISK_IRS4_D9803,
            {"site": "extremity", "size": 6},
            {},
        ),
        (
            Criterion.EARLY_FAILURE_120_DAYS,
            {"kind": "progression", "event_date": "2020-03-01"},
            {"kind": "progression", "event_date": "2020-07-01"},
        ),
        (Criterion.COG_RELAPSE_FAVOURABLE, {"chemo": ("vincristine", "dactinomycin")}, {}),
        (Criterion.COG_RELAPSE_UNFAVOURABLE, {}, {"chemo": ("vincristine", "dactinomycin")}),
        (Criterion.CIRCUMSCRIBED_RECURRENCE, {}, {"extents": ("distant", "distant")}),
    ],
)
def test_every_criterion_both_sides(
    criterion: Criterion, member: dict[str, Any], other: dict[str, Any]
) -> None:
    run, chars = CRITERIA[criterion]
    assert chars, criterion
    assert run(make(**member)).holds is True
    assert run(make(**other)).holds is False


def test_every_criterion_is_implemented() -> None:
    assert set(CRITERIA) == set(Criterion)


def test_criteria_leave_unknowns_open() -> None:
    run, _ = CRITERIA[Criterion.CIRCUMSCRIBED_RECURRENCE]
    single_distant = run(make(extents=("distant",)))
    assert single_distant.holds is None and single_distant.needs == ("events[0].sites",)
    run, _ = CRITERIA[Criterion.COG_RELAPSE_FAVOURABLE]
    assert run(make(histology="rms_nos", chemo=("vincristine",))).holds is None


# --- figure_applies (the function a recommendation calls before quoting a figure) -----------


def test_figure_applies_to_arst0121_favourable_figures() -> None:
    fr = make(chemo=("vincristine", "dactinomycin"))
    ur = make()
    for eid in ("arst0121.ffs3.favourable", "arst0121.os3.favourable"):
        assert figure_applies(fr, eid).membership is Membership.MEMBER
        check = figure_applies(ur, eid)
        assert check.membership is Membership.NOT_MEMBER
        assert check.reason().startswith("not applicable: population")


def test_figure_of_a_model_cohort_defaults_to_the_model() -> None:
    assert figure_applies(make(), "dantonello_2008.survival5.all").population_id == (
        "dantonello_2008"
    )


# --- headline and the property --------------------------------------------------------------


def test_botryoid_subgroup_is_not_the_headline_for_a_metastatic_lung_relapse() -> None:
    """Issue 13: a botryoid figure (pattern of relapse not reported) headed a metastatic lung
    relapse.  The headline is now the most specific applicable model."""
    case = make(
        histology="embryonal_botryoid",
        site="bladder",
        size=6.5,
        extents=("distant", "distant"),
        event_date="2021-06-01",
    )
    f = relapse_prognosis(case)
    assert f.details["headline"] != "pappo_1999"
    head = next(m for m in f.details["models"] if m["headline"])
    given = [m for m in f.details["models"] if m["applicable"] is True and m["computable"]]
    assert head["specificity"] == max(m["specificity"] for m in given)
    assert "botryoid" in f.reason  # still listed below, with its population in words


def test_refractory_metastatic_alveolar_is_not_given_minn() -> None:
    case = make(
        histology="alveolar",
        site="extremity",
        mets=["lung", "bone"],
        kind="progression",
        event_date="2020-03-01",
    )
    f = relapse_prognosis(case)
    minn = next(m for m in f.details["models"] if m["model"] == "minn_2010")
    assert minn["applicable"] is False
    assert "not applicable: population" in minn["reason"]
    assert "Minn" not in str(f.value)
    assert "Not applicable (population)" in f.reason


@settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(case_docs())
def test_every_quoted_figure_belongs_to_a_population_that_includes_the_patient(
    doc: dict[str, Any],
) -> None:
    """Property (issue 13): a figure quoted as the patient's belongs to a population that
    includes the patient; otherwise the model is marked not applicable (population) or
    undecided with the fields that would decide."""
    try:
        case = parse_case(doc)
    except CaseValidationError:
        assume(False)
        return
    f = relapse_prognosis(case)
    for m in f.details["models"]:
        if m["applicable"] is True and m["computable"]:
            assert m["entries"], m["model"]
            for eid in m["entries"]:
                assert figure_applies(case, eid).membership is Membership.MEMBER, (m["model"], eid)
        if m["applicable"] is None:
            assert m["figure"] is None or m["needs"], m["model"]
        if m["applicable"] is False:
            assert m["figure"] is None or m["membership"] != "member", m["model"]
    if f.status.value == "determined":
        head = next(m for m in f.details["models"] if m.get("headline"))
        assert head["model"] == f.details["headline"]
        assert str(f.value).startswith(
            {"arst0121": "COG ARST0121"}.get(head["model"], head["model"][:4].capitalize())
        )
    # the local-therapy reason quotes the CWS figure only to a member of its population
    recs = recommend(case, core_findings(case))
    cws = check_population(case, "dantonello_2013.circumscribed_alrt").membership
    for r in recs:
        if "53.7" in r.reason:
            assert cws is Membership.MEMBER, r.reason


def test_characteristics_are_words() -> None:
    assert all(" " in c.value or c.value.isalpha() for c in Characteristic)


def test_mattke_is_undecided_for_a_patient_metastatic_at_diagnosis() -> None:
    """Whether Mattke 2009 included patients metastatic at diagnosis was not seen: such a
    patient's figure is not quoted as theirs, and no case field is asked for (evidence gap)."""
    m0 = check_population(make(), "mattke_2009")
    assert m0.membership is Membership.MEMBER
    m1 = check_population(make(mets=["lung"]), "mattke_2009")
    assert m1.membership is Membership.UNKNOWN and m1.needs == ()
    f = relapse_prognosis(make(mets=["lung"]))
    mattke = next(m for m in f.details["models"] if m["model"] == "mattke_2009")
    assert mattke["applicable"] is None and mattke["figure"] is None
    assert mattke["conditional_figure"].startswith("4-year survival")
    assert "Not decided whether the population includes this patient: Mattke 2009" in f.reason


@pytest.mark.parametrize(
    ("event_fields", "caveat"),
    [
        ({"histologically_confirmed": True}, None),
        ({}, "histological confirmation of the recurrence is not recorded"),
        ({"histologically_confirmed": False}, "not histologically confirmed"),
        (
            {"histologically_confirmed": True, "suspected_second_malignancy": True},
            "a second malignancy is suspected",
        ),
    ],
)
def test_figures_are_said_to_describe_recurrent_rms(
    event_fields: dict[str, Any], caveat: str | None
) -> None:
    doc = make().model_dump(mode="json", exclude_none=True)
    doc["events"][0].update(event_fields)
    f = relapse_prognosis(parse_case(doc))
    if caveat is None:
        assert "histology_caveat" not in f.details
    else:
        assert caveat in f.details["histology_caveat"] and caveat in f.reason


# --- restrictions of the trial populations (regimen figures) -------------------------------


def test_first_recurrence_only_excludes_a_second_recurrence() -> None:
    """ARST0921 and ARST0121 enrolled patients at a first relapse or progression."""
    one = make(chemo=("vincristine", "dactinomycin", "cyclophosphamide"))
    doc = one.model_dump(mode="json", exclude_none=True)
    doc["events"].append({"kind": "relapse", "date": "2023-05-01"})
    two = parse_case(doc)
    assert membership(one, "arst0921") is Membership.MEMBER
    check = check_population(two, "arst0921")
    assert check.membership is Membership.NOT_MEMBER
    assert "first relapse or progression; this is recurrence 2" in check.excluded_by


@pytest.mark.parametrize(
    ("chemo", "expected"),
    [
        (("vincristine", "dactinomycin"), Membership.MEMBER),
        (("vincristine", "irinotecan"), Membership.NOT_MEMBER),
        (("temozolomide",), Membership.NOT_MEMBER),
    ],
)
def test_prior_agents_excluded(chemo: tuple[str, ...], expected: Membership) -> None:
    """VIT-0910 excluded prior irinotecan or temozolomide (ASCO 2019 report, SECONDARY)."""
    assert membership(make(chemo=chemo), "vit0910") is expected


def test_prior_agents_unknown_without_treatment_record() -> None:
    doc = make().model_dump(mode="json", exclude_none=True)
    doc.pop("first_line")
    check = check_population(parse_case(doc), "vit0910")
    assert check.membership is Membership.UNKNOWN
    assert check.needs == ("first_line",)


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(case_docs())
def test_every_quoted_regimen_figure_belongs_to_a_population_that_includes_the_patient(
    doc: dict[str, Any],
) -> None:
    """Property (issue 13), for the trial figures of the systemic options: a figure appears in a
    reason only when its population includes the patient; the JSON view lists only those."""
    try:
        case = parse_case(doc)
    except CaseValidationError:
        assume(False)
        return
    recs = {r.id: r for r in recommend(case, core_findings(case))}
    for regimen in regimens():
        rec = recs.get(f"systemic.{regimen.id}")
        if rec is None:
            continue
        quoted_texts: set[str] = set()
        withheld_texts: set[str] = set()
        for trial in regimen.trials:
            for o in trial.outcomes:
                member = check_population(case, trial.population_of(o)).membership
                (quoted_texts if member is Membership.MEMBER else withheld_texts).add(o.text())
        for text in withheld_texts - quoted_texts:
            assert text not in rec.reason, (regimen.id, text)
            assert text not in rec.statement, (regimen.id, text)
        for t in rec.details.get("trials", []):
            assert set(t["outcomes"]) <= quoted_texts, regimen.id
    overview = recs.get("systemic.relapse_overview")
    if overview is not None and "0.55" in overview.reason:
        assert check_population(case, "vit0910").membership is Membership.MEMBER


# --- first-recurrence cohorts at a later recurrence ------------------------------------------

#: The relapse cohorts: each describes survival from a first relapse or progression.
FIRST_RECURRENCE_COHORTS = (
    "pappo_1999",
    "arst0121",
    "chisholm_2011",
    "mazzoleni_2005",
    "dantonello_2008",
    "dantonello_2013",
    "mattke_2009",
    "wasti_2026.after_first_event",
)


def _second_recurrence(first: Case) -> Case:
    doc = first.model_dump(mode="json", exclude_none=True)
    second = {**doc["events"][0], "date": "2024-03-01"}
    doc["events"] = [doc["events"][0], second]
    return parse_case(doc)


@pytest.mark.parametrize("pid", FIRST_RECURRENCE_COHORTS)
def test_a_first_recurrence_cohort_declares_it(pid: str) -> None:
    assert any(p.first_recurrence_only for p in lineage(pid))


@pytest.mark.parametrize("pid", FIRST_RECURRENCE_COHORTS)
def test_a_later_recurrence_is_outside_every_first_recurrence_cohort(pid: str) -> None:
    check = check_population(_second_recurrence(make()), pid)
    assert check.membership is Membership.NOT_MEMBER
    assert any("this is recurrence 2" in why for why in check.excluded_by)


def test_at_a_second_recurrence_no_first_relapse_figure_is_the_patients() -> None:
    first = make()
    assert relapse_prognosis(first).details["headline"] is not None
    later = relapse_prognosis(_second_recurrence(first))
    assert later.details.get("headline") is None and later.value is None
    assert not any(m["applicable"] is True for m in later.details["models"])
    assert "recurrence 2" in later.reason


def test_page_one_says_no_figure_applies_at_a_second_recurrence() -> None:
    from rhabdo.engine import assess
    from rhabdo.report.page_one import NO_FIGURE, page_one
    from rhabdo.report.text import render_text

    later = _second_recurrence(make())
    a = assess(later, assessed_on=dt.date(2024, 4, 1))
    assert page_one(later, a).prognosis == []
    text = render_text(later, a)
    summary = text[text.index("SUMMARY") : text.index("DISEASE AT FIRST DIAGNOSIS")]
    assert "Prognosis: " + NO_FIGURE in " ".join(summary.split())


# --- what is remembered: each population's plan per process, each answer per assessment -------


def test_a_population_plan_serves_different_cases_apart() -> None:
    """The restrictions are prepared once per process; each case is tested on its own."""
    m0, m1 = make(), make(mets=["lung"])
    assert membership(m0, "chisholm_2011") is Membership.MEMBER
    assert membership(m1, "chisholm_2011") is Membership.NOT_MEMBER
    with assessment_scope():
        assert membership(m1, "chisholm_2011") is Membership.NOT_MEMBER
        assert membership(m0, "chisholm_2011") is Membership.MEMBER


def test_lineage_and_checks_are_immutable() -> None:
    chain = lineage("pappo_1999.embryonal_stage1_or_group1.local")
    assert isinstance(chain, tuple)
    check = check_population(make(), "chisholm_2011")
    with pytest.raises(AttributeError):
        check.membership = Membership.NOT_MEMBER  # type: ignore[misc]
    assert isinstance(check.excluded_by, tuple) and isinstance(check.needs, tuple)


def test_pappo_category_is_immutable_and_follows_each_case() -> None:
    with assessment_scope():
        alveolar = pappo_category(make(histology="alveolar", surgery="complete"))
        unknown = pappo_category(make(histology=None))
        assert unknown == (None, ("diagnosis.histology",))
        assert alveolar[0] is not None and alveolar[0].startswith("alveolar")


@pytest.mark.parametrize("pid", sorted(p.id for p in population_table()))
def test_a_subgroup_reusing_its_parents_answer_reads_as_checked_alone(pid: str) -> None:
    """Within an assessment a subgroup reuses its parent's remembered answer; it must equal
    the answer worked out afresh, for members and non-members alike (and for a case with no
    event), and never carry another case's reasons."""
    cases = [
        make(),
        make(mets=["lung"], histology="alveolar", extents=("distant", "distant")),
        make(kind="progression", event_date="2020-03-01", end=None),
        make(histology=None, extents=None, start=None, end=None),
    ]
    no_event = make().model_copy(update={"events": []})
    fresh = [check_population(c, pid) for c in [*cases, no_event]]
    with assessment_scope():
        for c in [*cases, no_event]:
            for ancestor in lineage(pid)[:-1]:
                check_population(c, ancestor.id)  # parents remembered first
        assert [check_population(c, pid) for c in [*cases, no_event]] == fresh


def test_a_subgroup_lists_its_cohorts_exclusions_first() -> None:
    later = make(histology="alveolar")
    later = later.model_copy(update={"events": [*later.events, *later.events]})
    check = check_population(later, "pappo_1999.embryonal_stage1_or_group1.local")
    assert check.membership is Membership.NOT_MEMBER
    assert check.excluded_by[0].startswith("first relapse or progression; this is recurrence 2")
    assert len(check.excluded_by) >= 2
