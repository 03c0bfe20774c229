"""The JSON API: versioned cases, 409 on stale edits, 422 naming fields, assessments, reports,
FHIR import, the OpenAPI document; and that patient identifiers never reach the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from service_helpers import example_case, require_modules, synthetic_case


@pytest.fixture
def api(service: Any) -> Any:
    service.add_user("onc", "clinician")
    service.headers = {"Authorization": f"Bearer {service.token_for('onc')}"}
    return service


def test_create_read_edit_and_list_versions(api: Any) -> None:
    made = api.http.post(
        "/api/v1/cases", json={"case": synthetic_case("API-1")}, headers=api.headers
    )
    assert made.status_code == 201
    body = made.json()
    case_id = body["id"]
    assert body["version"] == 1 and body["label"] == "API-1" and body["saved_by"] == "onc"
    edited = synthetic_case("API-1")
    edited["diagnosis"]["max_diameter_cm"] = 7.5
    second = api.http.put(
        f"/api/v1/cases/{case_id}", json={"base_version": 1, "case": edited}, headers=api.headers
    )
    assert second.status_code == 200 and second.json()["version"] == 2
    current = api.http.get(f"/api/v1/cases/{case_id}", headers=api.headers).json()
    assert current["version"] == 2 and current["case"]["diagnosis"]["max_diameter_cm"] == 7.5
    first = api.http.get(f"/api/v1/cases/{case_id}/versions/1", headers=api.headers).json()
    assert first["case"]["diagnosis"]["max_diameter_cm"] == 4.5
    versions = api.http.get(f"/api/v1/cases/{case_id}/versions", headers=api.headers).json()
    assert [v["version"] for v in versions] == [1, 2]
    listed = api.http.get("/api/v1/cases", params={"q": "API"}, headers=api.headers).json()
    assert [c["id"] for c in listed] == [case_id]


def test_a_stale_edit_is_409_and_nothing_is_lost(api: Any) -> None:
    case_id = api.http.post(
        "/api/v1/cases", json={"case": synthetic_case()}, headers=api.headers
    ).json()["id"]
    ok = api.http.put(
        f"/api/v1/cases/{case_id}",
        json={"base_version": 1, "case": synthetic_case()},
        headers=api.headers,
    )
    assert ok.status_code == 200
    stale = api.http.put(
        f"/api/v1/cases/{case_id}",
        json={"base_version": 1, "case": synthetic_case()},
        headers=api.headers,
    )
    assert stale.status_code == 409
    assert "current version is 2" in stale.json()["detail"]
    versions = api.http.get(f"/api/v1/cases/{case_id}/versions", headers=api.headers).json()
    assert len(versions) == 2


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["diagnosis"].update(max_diameter_cm=-1), "diagnosis.max_diameter_cm"),
        (lambda c: c["diagnosis"].update(histology="banana"), "diagnosis.histology"),
        (lambda c: c.update(colour="blue"), "colour"),
        (lambda c: c["diagnosis"].update(date="2010-01-01"), "diagnosis.date"),
        (lambda c: c["patient"].pop("id"), "patient.id"),
    ],
)
def test_an_invalid_case_is_422_naming_the_field(api: Any, mutate: Any, field: str) -> None:
    case = synthetic_case()
    mutate(case)
    response = api.http.post("/api/v1/cases", json={"case": case}, headers=api.headers)
    assert response.status_code == 422
    assert field in [p["field"] for p in response.json()["detail"]]


def test_malformed_requests_are_422_not_500(api: Any) -> None:
    for body in ({}, {"case": "x"}, {"case": {}, "extra": 1}, [], None):
        response = api.http.post("/api/v1/cases", json=body, headers=api.headers)
        assert response.status_code == 422, body
    bad_version = api.http.put(
        "/api/v1/cases/x", json={"base_version": 0, "case": {}}, headers=api.headers
    )
    assert bad_version.status_code == 422
    assert api.http.get("/api/v1/cases/nope", headers=api.headers).status_code == 404


def test_assess_without_storing(api: Any) -> None:
    require_modules("rhabdo.engine")
    response = api.http.post("/api/v1/assess", json={"case": example_case()}, headers=api.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patient_id"] and "stage.pretreatment" in body["findings"]
    assert body["provenance"]["engine_version"]
    assert api.http.get("/api/v1/cases", headers=api.headers).json() == []


def test_stored_versions_record_engine_and_knowledge_versions(api: Any) -> None:
    require_modules("rhabdo.engine")
    made = api.http.post("/api/v1/cases", json={"case": example_case()}, headers=api.headers).json()
    assert made["engine_version"] and made["knowledge_version"]
    assessment = api.http.get(f"/api/v1/cases/{made['id']}/assessment", headers=api.headers)
    assert assessment.status_code == 200
    assert assessment.json()["provenance"]["engine_version"] == made["engine_version"]


def test_reports(api: Any) -> None:
    require_modules("rhabdo.engine", "rhabdo.report.html", "rhabdo.report.pdf")
    case_id = api.http.post(
        "/api/v1/cases", json={"case": example_case()}, headers=api.headers
    ).json()["id"]
    html = api.http.get(f"/api/v1/cases/{case_id}/report.html", headers=api.headers)
    assert html.status_code == 200 and "<html" in html.text.lower()
    pdf = api.http.get(f"/api/v1/cases/{case_id}/report.pdf", headers=api.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_fhir_import(api: Any) -> None:
    require_modules("rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export", "rhabdo.engine")
    from rhabdo.case.io import parse_case
    from rhabdo.interop.fhir_export import case_to_bundle

    bundle = case_to_bundle(parse_case(synthetic_case("FHIR-1")))
    peek = api.http.post("/api/v1/import/fhir", json={"bundle": bundle}, headers=api.headers)
    assert peek.status_code == 200 and "id" not in peek.json()
    assert peek.json()["case"]["patient"]["id"] == "FHIR-1"
    stored = api.http.post(
        "/api/v1/import/fhir", json={"bundle": bundle, "store": True}, headers=api.headers
    )
    assert stored.status_code == 200 and stored.json()["version"] == 1
    broken = api.http.post(
        "/api/v1/import/fhir", json={"bundle": {"resourceType": "Patient"}}, headers=api.headers
    )
    assert broken.status_code == 422


def test_openapi_document_needs_sign_in_and_lists_the_api(api: Any) -> None:
    assert api.http.get("/api/openapi.json").status_code == 401
    doc = api.http.get("/api/openapi.json", headers=api.headers).json()
    paths = set(doc["paths"])
    assert {
        "/api/v1/assess",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/versions",
        "/api/v1/cases/{case_id}/assessment",
        "/api/v1/cases/{case_id}/report.pdf",
        "/cds-services",
    } <= paths
    assert not any(p.startswith("/cases") for p in paths)  # pages are not API


def test_views_and_exports_are_audited(api: Any) -> None:
    from rhabdo.service import store

    case_id = api.http.post(
        "/api/v1/cases", json={"case": synthetic_case()}, headers=api.headers
    ).json()["id"]
    api.http.get(f"/api/v1/cases/{case_id}", headers=api.headers)
    with api.app.state.sessionmaker() as db:
        actions = [
            (e.action, e.object_id) for e in store.audit_events(db) if e.object_id == case_id
        ]
    assert ("save", case_id) in actions and ("view", case_id) in actions


def test_patient_identifiers_never_reach_the_logs(
    api: Any, client_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every route that touches a case is exercised with a distinctive id and date of birth."""
    from service_helpers import BASE_URL, make_jwt

    secret_id = "ZZPATIENT-4711"
    dob = "2011-11-23"
    case = synthetic_case(secret_id)
    case["patient"]["date_of_birth"] = dob
    caplog.set_level(logging.DEBUG)
    made = api.http.post("/api/v1/cases", json={"case": case}, headers=api.headers).json()
    case_id = made["id"]
    api.http.get(f"/api/v1/cases/{case_id}", headers=api.headers)
    api.http.get("/api/v1/cases", params={"q": secret_id}, headers=api.headers)
    api.http.put(
        f"/api/v1/cases/{case_id}", json={"base_version": 1, "case": case}, headers=api.headers
    )
    api.http.put(
        f"/api/v1/cases/{case_id}", json={"base_version": 1, "case": case}, headers=api.headers
    )
    bad = dict(case, patient={**case["patient"], "sex": "unknown-code"})
    api.http.post("/api/v1/cases", json={"case": bad}, headers=api.headers)
    api.sign_in("onc")
    api.http.get("/cases", params={"q": secret_id})
    api.http.get(f"/cases/{case_id}")
    api.http.get(f"/cases/{case_id}/history")
    url = f"{BASE_URL}/cds-services/rhabdo-patient-view"
    api.http.post(
        "/cds-services/rhabdo-patient-view",
        headers={"Authorization": f"Bearer {make_jwt(client_key, url)}"},
        json={
            "hook": "patient-view",
            "hookInstance": "x",
            "context": {"userId": "Practitioner/1", "patientId": secret_id},
            "prefetch": {"patient": {"resourceType": "Patient", "id": secret_id, "birthDate": dob}},
        },
    )
    lines = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    assert lines, "nothing was logged: the check would be empty"
    assert any(line.startswith("rhabdo.service.access GET /cases/{case_id} ") for line in lines)
    leaks = [line for line in lines if secret_id in line or dob in line]
    assert leaks == []


def test_nul_characters_are_refused_not_500(api: Any) -> None:
    """Found by the fuzzer on PostgreSQL, which cannot store NUL in text."""
    assert (
        api.http.get("/api/v1/cases", params={"q": "a\x00b"}, headers=api.headers).status_code
        == 200
    )
    assert api.http.get("/api/v1/cases/a%00b", headers=api.headers).status_code == 404
    token = api.csrf()
    response = api.http.post(
        "/signin", data={"username": "on\x00c", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 401
