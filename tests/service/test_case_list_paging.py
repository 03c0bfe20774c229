"""The web case list is paged in the database with its filters applied there (issue 16: the
list used to stop at the first 200 cases and filter them in Python), on SQLite and PostgreSQL;
listing and searching are audit-logged without patient ids."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from rhabdo.service import caselist, store
from rhabdo.service.caselist import (
    NOT_APPLICABLE,
    NOT_ASSESSED,
    NOT_DETERMINED,
    PAGE_SIZE,
    ListKey,
    finding_key,
    key_label,
    list_keys,
)
from rhabdo.service.db import AuditEvent

#: More than the 200 the list used to stop at, and not a multiple of the page size.
CASES = 233
STAGES = (1, 2, 3, 4)


def _assessment(n: int) -> dict[str, Any] | None:
    """Made-up stored assessments: every fifth not assessed, every seventh stage undecided."""
    if n % 5 == 0:
        return None
    stage: dict[str, Any] = (
        {"status": "insufficient_data", "value": None}
        if n % 7 == 0
        else {"status": "determined", "value": STAGES[n % 4]}
    )
    return {
        "findings": {
            "stage.pretreatment": stage,
            "relapse.type": {"status": "determined", "value": "local" if n % 2 else "distant"},
            "relapse.extent": {"status": "not_applicable", "value": None},
        },
        "provenance": {"assessed_on": "2026-12-01"},
    }


def _stage_key(n: int) -> str:
    a = _assessment(n)
    return list_keys(a).stage


@pytest.fixture
def listed(service: Any) -> Any:
    """``CASES`` cases of centre A (labels LST-000...), three of centre B, a signed-in user."""
    with service.app.state.sessionmaker() as db:
        for n in range(CASES):
            store.create_case(
                db,
                {"patient": {"id": f"LST-{n:03d}"}},
                label=f"LST-{n:03d}",
                username="seed",
                centre="A",
                source="api",
                assessed=store.Assessed("e", "k", _assessment(n)),
            )
        for n in range(3):
            store.create_case(
                db,
                {"patient": {"id": f"OTHER-{n}"}},
                label=f"OTHER-{n}",
                username="seed",
                centre="B",
                source="api",
                assessed=store.Assessed("e", "k", _assessment(1)),
            )
    service.add_user("lea", centre="A")
    service.sign_in("lea")
    return service


def _labels(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/[0-9a-f-]{36}">([^<]+)</a>', html)


def _next(html: str) -> str | None:
    m = re.search(r'id="next-page" rel="next" href="([^"]+)"', html)
    return m[1].replace("&amp;", "&") if m else None


def _previous(html: str) -> str | None:
    m = re.search(r'id="previous-page" rel="prev" href="([^"]+)"', html)
    return m[1].replace("&amp;", "&") if m else None


def _walk(service: Any, first: str) -> list[list[str]]:
    pages, url = [], first
    while url is not None:
        response = service.http.get(url)
        assert response.status_code == 200
        pages.append(_labels(response.text))
        url = _next(response.text)
        assert len(pages) <= CASES  # a link that loops would never end
    return pages


def _list_events(service: Any) -> list[AuditEvent]:
    with service.app.state.sessionmaker() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "list")).all())


def test_every_case_is_reached_page_by_page_newest_first(listed: Any) -> None:
    pages = _walk(listed, "/cases")
    assert [len(p) for p in pages] == [PAGE_SIZE] * (CASES // PAGE_SIZE) + [CASES % PAGE_SIZE]
    shown = [label for p in pages for label in p]
    assert shown == [f"LST-{n:03d}" for n in reversed(range(CASES))]  # no other centre's case
    first = listed.http.get("/cases").text
    assert f"Cases 1–{PAGE_SIZE} of {CASES}" in first and f"{PAGE_SIZE} per page" in first
    assert _previous(first) is None
    last = listed.http.get(f"/cases?page={len(pages)}").text
    assert _next(last) is None and _previous(last) == f"/cases?page={len(pages) - 1}"
    events = _list_events(listed)
    assert len(events) == len(pages) + 2
    assert [e.detail for e in events[: len(pages)]] == [
        f"page={i + 1} shown={len(p)} of={CASES}" for i, p in enumerate(pages)
    ]


def test_a_page_past_the_end_shows_the_last_page(listed: Any) -> None:
    html = listed.http.get("/cases?page=999").text
    assert _labels(html) == [f"LST-{n:03d}" for n in reversed(range(CASES % PAGE_SIZE))]


@pytest.mark.parametrize("page", ["0", "-1", "x", "100001"])
def test_a_bad_page_number_is_a_clear_422(listed: Any, page: str) -> None:
    response = listed.http.get(f"/cases?page={page}")
    assert response.status_code == 422 and "page" in response.text


@pytest.mark.parametrize("stage", [*STAGES, None])
def test_the_stage_filter_is_applied_before_paging(listed: Any, stage: int | None) -> None:
    key = f"v:{stage}" if stage is not None else ListKey.NOT_DETERMINED.value
    expected = [f"LST-{n:03d}" for n in reversed(range(CASES)) if _stage_key(n) == key]
    assert expected  # each stage value and "not determined" occur among the cases
    pages = _walk(listed, "/cases?" + f"stage={key}")
    assert [label for p in pages for label in p] == expected
    html = listed.http.get("/cases", params={"stage": key}).text
    label = f"stage {stage}" if stage is not None else NOT_DETERMINED
    assert f'<option value="{key}" selected>{label}</option>' in html
    assert f"of {len(expected)} matching" in html
    event = _list_events(listed)[-1]
    assert event.detail is not None and event.detail.startswith("filtered=yes ")


def test_filters_and_search_combine(listed: Any) -> None:
    expected = [
        f"LST-{n:03d}"
        for n in reversed(range(CASES))
        if f"LST-{n:03d}".startswith("LST-1")
        and _stage_key(n) == "v:2"
        and _assessment(n) is not None
        and _assessment(n)["findings"]["relapse.type"]["value"] == "local"  # type: ignore[index]
    ]
    assert expected
    url = "/cases?q=LST-1&stage=v:2&relapse_type=" + 'v:"local"'
    assert [label for p in _walk(listed, url) for label in p] == expected
    event = _list_events(listed)[-1]
    assert event.detail is not None and event.detail.startswith("search=yes filtered=yes ")
    assert "LST" not in " ".join(e.detail or "" for e in _list_events(listed))


def test_the_choices_are_those_of_all_matching_cases_not_of_one_page(listed: Any) -> None:
    html = listed.http.get("/cases").text
    for stage in STAGES:
        assert f'<option value="v:{stage}">stage {stage}</option>' in html
    assert f'<option value="not_assessed">{NOT_ASSESSED}</option>' in html
    assert f'<option value="not_applicable">{NOT_APPLICABLE}</option>' in html
    assert 'value="v:&#34;local&#34;"' in html and 'value="v:&#34;distant&#34;"' in html


def test_a_filter_that_matches_nothing_says_so(listed: Any) -> None:
    html = listed.http.get("/cases", params={"stage": "v:9"}).text
    assert _labels(html) == [] and "No cases match" in html
    assert '<option value="v:9" selected>stage 9</option>' in html


# ------------------------------------------------------------------ keys and their labels


FINDINGS: list[tuple[dict[str, Any] | None, str, str]] = [
    (None, "not_assessed", NOT_ASSESSED),
    ({}, "not_determined", NOT_DETERMINED),
    ({"status": "determined", "value": 3}, "v:3", "stage 3"),
    ({"status": "determined", "value": None}, "not_determined", NOT_DETERMINED),
    ({"status": "determined", "value": ""}, "not_determined", NOT_DETERMINED),
    ({"status": "determined", "value": []}, "not_determined", NOT_DETERMINED),
    ({"status": "not_applicable", "value": None}, "not_applicable", NOT_APPLICABLE),
    ({"status": "insufficient_data", "value": 2}, "not_determined", NOT_DETERMINED),
    ({"status": "conflicting", "value": None}, "not_determined", NOT_DETERMINED),
]


@pytest.mark.parametrize(("finding", "key", "label"), FINDINGS)
def test_a_finding_has_one_key_and_the_key_one_label(
    finding: dict[str, Any] | None, key: str, label: str
) -> None:
    findings = None if finding is None else ({"stage.pretreatment": finding} if finding else {})
    assert finding_key(findings, "stage.pretreatment") == key
    assert key_label("stage.pretreatment", key) == label


@pytest.mark.parametrize("member", list(ListKey))
def test_every_list_key_has_a_label(member: ListKey) -> None:
    assert key_label("relapse.type", member.value) in (NOT_ASSESSED, NOT_DETERMINED, NOT_APPLICABLE)


@pytest.mark.parametrize("key", ["", "v:", "v:{", "nonsense"])
def test_an_unknown_key_reads_not_determined(key: str) -> None:
    assert key_label("relapse.type", key) == NOT_DETERMINED


def test_a_row_shows_the_label_of_its_stored_keys() -> None:
    from service_helpers import example_case

    from rhabdo.case.io import parse_case
    from rhabdo.service.assessing import assessed_for_store

    assessment = assessed_for_store(parse_case(example_case())).assessment
    keys = list_keys(assessment)
    row = caselist.row_for(None, assessment)  # type: ignore[arg-type]
    assert row.stage == key_label(caselist.STAGE, keys.stage) != NOT_ASSESSED
    assert row.relapse_type == key_label(caselist.RELAPSE_TYPE, keys.relapse_type)
    assert row.relapse_pattern == key_label(caselist.RELAPSE_PATTERN, keys.relapse_pattern)


def test_the_migration_fills_the_keys_of_stored_versions(db_url: str, tmp_path: Any) -> None:
    """Versions stored before revision 0004 get their keys from their stored assessment."""
    import json

    from alembic import command
    from sqlalchemy import text

    from rhabdo.service.db import make_engine
    from rhabdo.service.migrate import alembic_config, upgrade

    # db_url is at head: go back to 0003, store versions the old way, and come forward again.
    command.downgrade(alembic_config(db_url), "0003")  # type: ignore[arg-type]
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cases (id, centre, label, current_version, created_by, created_at, "
                "updated_at) VALUES ('00000000-0000-0000-0000-000000000001', NULL, 'OLD-1', 1, "
                "'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for version, assessment in ((1, _assessment(2)), (2, None)):
            conn.execute(
                text(
                    "INSERT INTO case_versions (case_id, version, document, saved_by, saved_at, "
                    "source, assessment) VALUES ('00000000-0000-0000-0000-000000000001', :v, "
                    "'{}', 'x', CURRENT_TIMESTAMP, 'api', :a)"
                ),
                {"v": version, "a": None if assessment is None else json.dumps(assessment)},
            )
    upgrade(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT version, list_stage, list_relapse_type, list_relapse_pattern "
                "FROM case_versions ORDER BY version"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "v:3", 'v:"distant"', "not_applicable"),
        (2, "not_assessed", "not_assessed", "not_assessed"),
    ]
