"""Tumour-board meetings, decisions, history with changes and reasons, the case list's columns
and filters, and imports of a patient id that already has a case (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from service_helpers import EXAMPLES, require_modules, synthetic_case

from rhabdo.service import meetings, store
from rhabdo.service.changes import case_changes, change_label
from rhabdo.service.meeting_pages import page_one


@pytest.fixture
def clinic(service: Any) -> Any:
    service.add_user("onc", "clinician")
    service.sign_in("onc")
    return service


def _create(clinic: Any, patient_id: str, **diagnosis: Any) -> str:
    doc = synthetic_case(patient_id)
    doc["diagnosis"].update(diagnosis)
    with clinic.app.state.sessionmaker() as db:
        from rhabdo.case.io import parse_case
        from rhabdo.service.assessing import assessed_for_store

        v = store.create_case(
            db,
            doc,
            label=patient_id,
            username="onc",
            centre=None,
            source="test",
            assessed=assessed_for_store(parse_case(doc)),
        )
        return v.case_id


def _meeting(clinic: Any) -> str:
    token = clinic.csrf("/meetings")
    made = clinic.http.post(
        "/meetings",
        data={"meeting_date": "2026-12-14", "title": "Sarcoma board", "csrf_token": token},
    )
    assert made.status_code == 303
    return str(made.headers["location"].rsplit("/", 1)[1])


def test_a_meeting_agenda_a_decision_and_its_revision(clinic: Any) -> None:
    first = _create(clinic, "MTG-1")
    second = _create(clinic, "MTG-2")
    meeting_id = _meeting(clinic)
    token = clinic.csrf(f"/meetings/{meeting_id}")
    for case_id in (first, second, first):  # adding twice is harmless
        r = clinic.http.post(
            f"/meetings/{meeting_id}/cases", data={"case_id": case_id, "csrf_token": token}
        )
        assert r.status_code == 303
    agenda = clinic.http.get(f"/meetings/{meeting_id}").text
    assert agenda.count("not yet decided") == 2
    assert agenda.index("MTG-1") < agenda.index("MTG-2")

    decide = {
        "decision": "VIT for 2 cycles, then restage",
        "rationale": "Late local relapse; vincristine tolerated",
        "case_version": "1",
        "base_revision": "0",
        "n": "1",
        "csrf_token": token,
    }
    r = clinic.http.post(f"/meetings/{meeting_id}/cases/{first}/decision", data=decide)
    assert r.status_code == 303
    # a stale form (still at revision 0) is refused, not silently superseding
    stale = clinic.http.post(f"/meetings/{meeting_id}/cases/{first}/decision", data=decide)
    assert stale.status_code == 409 and "revision 1" in stale.text
    revised = dict(decide, decision="Local therapy first", base_revision="1")
    assert (
        clinic.http.post(f"/meetings/{meeting_id}/cases/{first}/decision", data=revised).status_code
        == 303
    )
    with clinic.app.state.sessionmaker() as db:
        meeting = meetings.get_meeting(db, meeting_id, None)
        revisions = meetings.decision_history(db, meeting, first)
        assert [d.revision for d in revisions] == [2, 1]
        assert revisions[1].decision == "VIT for 2 cycles, then restage"  # kept, not overwritten
        assert all(d.case_version == 1 and d.recorded_by == "onc" for d in revisions)
        actions = [e.action for e in store.audit_events(db)]
    assert actions.count("decision_recorded") == 2
    assert "meeting_created" in actions and "meeting_case_added" in actions
    # shown on the case page and in its history
    case_page = clinic.http.get(f"/cases/{first}").text
    assert 'id="board-decision"' in case_page and "Local therapy first" in case_page
    history = clinic.http.get(f"/cases/{first}/history").text
    assert "VIT for 2 cycles, then restage" in history and "Local therapy first" in history


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"decision": "", "rationale": "why"}, "decision: required"),
        ({"decision": "what", "rationale": "  "}, "rationale: required"),
        ({"decision": "what", "rationale": "why", "case_version": "7"}, "version 7 not found"),
    ],
)
def test_a_decision_needs_text_rationale_and_a_real_version(
    clinic: Any, form: dict[str, str], message: str
) -> None:
    case_id = _create(clinic, "MTG-3")
    meeting_id = _meeting(clinic)
    token = clinic.csrf(f"/meetings/{meeting_id}")
    clinic.http.post(
        f"/meetings/{meeting_id}/cases", data={"case_id": case_id, "csrf_token": token}
    )
    data = {"case_version": "1", "base_revision": "0", "n": "1", "csrf_token": token, **form}
    r = clinic.http.post(f"/meetings/{meeting_id}/cases/{case_id}/decision", data=data)
    assert r.status_code in (404, 422) and message in r.text


def test_a_viewer_cannot_record_a_decision_and_other_centres_see_nothing(clinic: Any) -> None:
    case_id = _create(clinic, "MTG-4")
    meeting_id = _meeting(clinic)
    token = clinic.csrf(f"/meetings/{meeting_id}")
    clinic.http.post(
        f"/meetings/{meeting_id}/cases", data={"case_id": case_id, "csrf_token": token}
    )
    clinic.add_user("other", "clinician", centre="elsewhere")
    clinic.http.post("/signout", data={"csrf_token": token})
    clinic.sign_in("other")
    assert clinic.http.get(f"/meetings/{meeting_id}").status_code == 404
    token = clinic.csrf("/meetings")
    foreign = clinic.http.post(
        f"/meetings/{meeting_id}/cases/{case_id}/decision",
        data={"decision": "x", "rationale": "y", "case_version": "1", "csrf_token": token},
    )
    assert foreign.status_code == 404


def test_meeting_date_must_be_a_real_date(clinic: Any) -> None:
    token = clinic.csrf("/meetings")
    r = clinic.http.post("/meetings", data={"meeting_date": "2026-02-30", "csrf_token": token})
    assert r.status_code == 422 and "not a real date (YYYY-MM-DD)" in r.text


def test_presentation_and_summary_pdf(clinic: Any) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html", "weasyprint")
    case_id = _create(clinic, "MTG-5")
    meeting_id = _meeting(clinic)
    token = clinic.csrf(f"/meetings/{meeting_id}")
    clinic.http.post(
        f"/meetings/{meeting_id}/cases", data={"case_id": case_id, "csrf_token": token}
    )
    shown = clinic.http.get(f"/meetings/{meeting_id}/present", params={"n": 1})
    assert shown.status_code == 200
    assert 'class="present"' in shown.text and "Case 1 of 1" in shown.text
    assert 'id="findings"' not in shown.text  # page one only, not the detail
    pdf = clinic.http.get(f"/meetings/{meeting_id}/summary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_page_one_takes_the_marked_summary_section() -> None:
    html = (
        "<html><head><style>h1{}</style></head><body><header id='h'>T</header><main>"
        '<section id="page-one">P<section id="inner">I</section>Q</section>'
        '<nav>N</nav><section id="timeline">X</section></main></body></html>'
    )
    one = page_one(html)
    assert one.endswith("Q</section>") and "<header" in one and "<style>" in one
    assert "X" not in one and "N" not in one


def test_page_one_stops_at_the_first_detail_section() -> None:
    html = (
        "<html><head><style>h1{}</style></head><body><header id='h'>T</header>"
        '<section id="glance">G</section><section id="timeline">X</section></body></html>'
    )
    one = page_one(html)
    assert "G" in one and "X" not in one and "<style>" in one


def test_history_lists_changes_field_by_field_with_the_reason(clinic: Any) -> None:
    case_id = _create(clinic, "HIST-1")
    form = clinic.http.get(f"/cases/{case_id}/edit").text
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    values["diagnosis.max_diameter_cm"] = "7"
    values["reason"] = "restaging MRI 2022-02-01"
    values["diagnosis.distant_metastases.__known"] = "known"
    values.pop("_action", None)
    values.update({"diagnosis.primary_site": "paratesticular", "diagnosis.histology": "embryonal"})
    values.update({"events[0].kind": "relapse", "events[0].sites[0].extent": "local"})
    values.update({"patient.sex": "male", "diagnosis.foxo1_fusion": "negative"})
    values.update({"diagnosis.regional_nodes": "N0"})
    r = clinic.http.post(f"/cases/{case_id}/edit", data=values)
    assert r.status_code == 303, r.text[:2000]
    history = clinic.http.get(f"/cases/{case_id}/history").text
    assert "restaging MRI 2022-02-01" in history
    assert "Tumour size at diagnosis (largest diameter, cm)" in history
    assert "<del>4.5</del> → <ins>7</ins>" in history


def test_case_changes_name_fields_in_words() -> None:
    before = synthetic_case("X")
    after = synthetic_case("X")
    after["diagnosis"]["foxo1_fusion"] = "pax3_foxo1"
    after["events"][0]["sites"].append({"extent": "regional"})
    changes = {c.path: c for c in case_changes(before, after)}
    assert changes["diagnosis.foxo1_fusion"].label == "FOXO1 fusion status"
    assert changes["events[0].sites[1].extent"].before == "unknown"
    assert change_label("first_line.chemotherapy[0].dose_unit") == (
        "Unit of the dose per administration — first-line treatment, chemotherapy agent 1"
    )
    assert case_changes(before, before) == []


def test_case_list_columns_search_and_filters(clinic: Any) -> None:
    require_modules("rhabdo.engine")
    _create(clinic, "LIST-SMALL")
    _create(clinic, "LIST-BIG", primary_site="extremity", max_diameter_cm=9.0)
    listing = clinic.http.get("/cases").text
    for header in ("Stage", "Relapse type", "Relapse pattern", "Last assessed"):
        assert f"<th>{header}</th>" in listing
    stages = re.findall(r'data-label="Stage">([^<]+)<', listing)
    assert len(stages) == 2 and len(set(stages)) == 2
    # A filter's value is the stored list key of the option labelled as the column shows it.
    key = re.search(rf'<option value="([^"]+)">{re.escape(stages[0])}</option>', listing)
    assert key, f"no stage filter option labelled {stages[0]!r}"
    one = clinic.http.get("/cases", params={"stage": html.unescape(key[1])}).text
    assert one.count('data-label="Case"') == 1
    assert clinic.http.get("/cases", params={"q": "SMALL"}).text.count('data-label="Case"') == 1
    assert "local" in re.findall(r'data-label="Relapse type">([^<]+)<', listing)


def test_importing_a_known_patient_id_asks_before_saving(clinic: Any) -> None:
    text = (EXAMPLES / "local-relapse-paratesticular.yaml").read_text("utf-8")
    token = clinic.csrf("/cases/import")

    def upload() -> Any:
        return clinic.http.post(
            "/cases/import",
            data={"kind": "case", "csrf_token": token},
            files={"file": ("case.yaml", text.encode(), "application/yaml")},
        )

    first = upload()
    assert first.status_code == 303
    case_id = first.headers["location"].rsplit("/", 1)[1]
    asked = upload()
    assert asked.status_code == 200 and 'id="duplicate"' in asked.text
    with clinic.app.state.sessionmaker() as db:
        assert len(store.list_cases(db, None)) == 1  # nothing saved while asking
    document = re.search(r'name="document" value="([^"]*)"', asked.text)
    assert document
    import html as html_lib

    doc = html_lib.unescape(document.group(1))
    as_version = clinic.http.post(
        "/cases/import/confirm",
        data={"document": doc, "source": "file", "choice": case_id, "csrf_token": token},
    )
    assert as_version.status_code == 303 and case_id in as_version.headers["location"]
    as_new = clinic.http.post(
        "/cases/import/confirm",
        data={"document": doc, "source": "file", "choice": "new", "csrf_token": token},
    )
    assert as_new.status_code == 303 and case_id not in as_new.headers["location"]
    with clinic.app.state.sessionmaker() as db:
        records = store.list_cases(db, None)
        assert sorted(r.current_version for r in records) == [1, 2]
        _, v2 = store.get_version(db, case_id, None, 2)
        assert v2.reason == "imported from a case file"
    bogus = clinic.http.post(
        "/cases/import/confirm",
        data={"document": doc, "source": "file", "choice": "not-a-case", "csrf_token": token},
    )
    assert bogus.status_code == 422


def test_the_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from rhabdo.service.db import Base, make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_a_viewer_sees_meetings_without_forms_and_cannot_change_them(clinic: Any) -> None:
    case_id = _create(clinic, "MTG-6")
    meeting_id = _meeting(clinic)
    token = clinic.csrf(f"/meetings/{meeting_id}")
    clinic.http.post(
        f"/meetings/{meeting_id}/cases", data={"case_id": case_id, "csrf_token": token}
    )
    clinic.add_user("reader", "viewer")
    clinic.http.post("/signout", data={"csrf_token": token})
    clinic.sign_in("reader")
    listing = clinic.http.get("/meetings").text
    assert 'id="new-meeting"' not in listing and "Sarcoma board" in listing
    agenda = clinic.http.get(f"/meetings/{meeting_id}").text
    assert "MTG-6" in agenda and "Remove" not in agenda and 'id="add-case"' not in agenda
    token = clinic.csrf("/meetings")
    denied = clinic.http.post(
        f"/meetings/{meeting_id}/cases/{case_id}/decision",
        data={"decision": "x", "rationale": "y", "case_version": "1", "csrf_token": token},
    )
    assert denied.status_code == 403
    assert clinic.http.post("/meetings", data={"csrf_token": token}).status_code == 403
