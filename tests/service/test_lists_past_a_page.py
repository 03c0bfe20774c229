"""Lists that used to stop at one page (issue 16): the duplicate-patient check on import finds
the exact patient id however many other cases contain it, and a meeting's "add a case" list
reaches every case by a search on patient id (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from service_helpers import EXAMPLES

from rhabdo.service import store
from rhabdo.service.meeting_pages import CANDIDATES_SHOWN

EXAMPLE = EXAMPLES / "local-relapse-paratesticular.yaml"
#: More cases than the largest page the store hands out, so a one-page scan must miss.
CROWD = store.MAX_PAGE + 20


def _seed(service: Any, label: str) -> str:
    with service.app.state.sessionmaker() as db:
        return store.create_case(
            db,
            {"patient": {"id": label}},
            label=label,
            username="seed",
            centre=None,
            source="api",
            assessed=store.Assessed("e", "k", None),
        ).case_id


@pytest.fixture
def clinic(service: Any) -> Any:
    service.add_user("onc", "clinician")
    service.sign_in("onc")
    return service


def test_an_import_finds_the_same_patient_behind_a_crowd_of_similar_ids(clinic: Any) -> None:
    patient_id = str(yaml.safe_load(EXAMPLE.read_text("utf-8"))["patient"]["id"])
    original = _seed(clinic, patient_id)  # the oldest case: last in a newest-first scan
    for n in range(CROWD):
        _seed(clinic, f"{patient_id}-{n}")
    token = clinic.csrf("/cases/import")
    asked = clinic.http.post(
        "/cases/import",
        data={"kind": "case", "csrf_token": token},
        files={"file": ("case.yaml", EXAMPLE.read_bytes(), "application/yaml")},
    )
    assert asked.status_code == 200 and 'id="duplicate"' in asked.text
    offered = re.findall(r'name="choice" value="([0-9a-f-]{36})"', asked.text)
    assert offered == [original]  # the exact id only, not the look-alikes


def test_the_exact_label_query_ignores_look_alikes_and_other_centres(service: Any) -> None:
    with service.app.state.sessionmaker() as db:
        for label, centre in (("P-1", "A"), ("P-10", "A"), ("p-1", "A"), ("P-1", "B")):
            store.create_case(
                db,
                {"patient": {"id": label}},
                label=label,
                username="seed",
                centre=centre,
                source="api",
                assessed=store.Assessed("e", "k", None),
            )
        assert [c.label for c in store.cases_with_label(db, "A", "P-1")] == ["P-1"]
        assert [c.centre for c in store.cases_with_label(db, "B", "P-1")] == ["B"]
        assert store.cases_with_label(db, "A", "P-2") == []


def _meeting(clinic: Any) -> str:
    token = clinic.csrf("/meetings")
    made = clinic.http.post(
        "/meetings",
        data={"meeting_date": "2026-12-14", "title": "Sarcoma board", "csrf_token": token},
    )
    assert made.status_code == 303
    return str(made.headers["location"].rsplit("/", 1)[1])


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="[0-9a-f-]{36}">([^ <]+) \(updated', html)


def test_a_meeting_reaches_every_case_by_search(clinic: Any) -> None:
    oldest = _seed(clinic, "BOARD-OLDEST")
    for n in range(CANDIDATES_SHOWN + 5):
        _seed(clinic, f"BOARD-{n:03d}")
    meeting_id = _meeting(clinic)
    page = clinic.http.get(f"/meetings/{meeting_id}").text
    shown = _options(page)
    assert len(shown) == CANDIDATES_SHOWN and "BOARD-OLDEST" not in shown
    assert 'id="more-candidates"' in page and "search by patient id" in page
    found = clinic.http.get(f"/meetings/{meeting_id}", params={"find": "oldest"}).text
    assert _options(found) == ["BOARD-OLDEST"] and 'id="more-candidates"' not in found
    token = clinic.csrf(f"/meetings/{meeting_id}")
    added = clinic.http.post(
        f"/meetings/{meeting_id}/cases", data={"case_id": oldest, "csrf_token": token}
    )
    assert added.status_code == 303
    again = clinic.http.get(f"/meetings/{meeting_id}", params={"find": "oldest"}).text
    assert _options(again) == [] and "is left to add" in again


def test_a_meeting_search_longer_than_a_patient_id_is_a_clear_422(clinic: Any) -> None:
    meeting_id = _meeting(clinic)
    response = clinic.http.get(f"/meetings/{meeting_id}", params={"find": "x" * 65})
    assert response.status_code == 422 and "find" in response.text
