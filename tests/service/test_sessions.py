"""Sessions, sign-in and the audit trail (issue 16 §4), and safe defaults (§2): server-side
sessions that sign-out ends, CSRF tokens that follow the session, sign-in backoff by user and
address that never locks a named user out, X-Forwarded-For only from configured proxies,
Retry-After on 429, password rules per NIST SP 800-63B, each save and its audit event in one
transaction, audited lists and version reads, paged case lists, the jti replay cache shared
through the database, a random development secret and the per-user default database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import BASE_URL, PASSWORD, make_jwt, synthetic_case

from rhabdo.service import store
from rhabdo.service.cds import PATIENT_VIEW_ID
from rhabdo.service.db import AuditEvent, CaseRecord
from rhabdo.service.settings import (
    DEFAULT_SECRET,
    Environment,
    Settings,
    StartupRefused,
    check_bind,
    default_database_url,
    settings_from_env,
)


def _events(service: Any, action: str) -> list[AuditEvent]:
    from sqlalchemy import select

    with service.app.state.sessionmaker() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_sign_out_ends_the_session_for_a_copied_cookie(service: Any) -> None:
    service.add_user("amy")
    assert service.sign_in("amy").status_code == 303
    copy = TestClient(service.app, base_url=BASE_URL, follow_redirects=False)
    copy.cookies.update(dict(service.http.cookies))
    assert copy.get("/api/v1/cases").status_code == 200
    token = service.csrf("/cases")
    assert service.http.post("/signout", data={"csrf_token": token}).status_code == 303
    assert copy.get("/api/v1/cases").status_code == 401
    assert copy.get("/cases").status_code == 303


def test_the_csrf_token_follows_the_session(service: Any) -> None:
    service.add_user("amy")
    before = service.csrf()
    service.sign_in("amy")
    after = service.csrf("/cases")
    assert after != before
    refused = service.http.post("/tokens", data={"name": "x", "csrf_token": before})
    assert refused.status_code == 403
    assert service.http.post("/tokens", data={"name": "x", "csrf_token": after}).status_code == 200


def _sign_in_from(client: Any, address: str, username: str, password: str) -> Any:
    token = client.csrf()
    return client.http.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": address},
    )


def test_failures_from_one_address_do_not_lock_the_user_out(db_url: str, make_client: Any) -> None:
    client = make_client(db_url, signin_max_failures=3, trusted_proxies=("testclient",))
    client.add_user("amy")
    statuses = [
        _sign_in_from(client, "10.0.0.1", "amy", "wrong password!").status_code for _ in range(8)
    ]
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}
    throttled = _sign_in_from(client, "10.0.0.1", "amy", PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert _sign_in_from(client, "10.0.0.2", "amy", PASSWORD).status_code == 303


def test_x_forwarded_for_is_ignored_from_unconfigured_peers(db_url: str, make_client: Any) -> None:
    client = make_client(db_url, signin_max_failures=3)
    client.add_user("amy")
    for n in range(3):
        assert _sign_in_from(client, f"10.0.0.{n}", "amy", "wrong password!").status_code == 401
    # A forged header naming a fresh address does not escape the throttle of the real peer.
    assert _sign_in_from(client, "10.9.9.9", "amy", PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 12"),
        ("password1234", "commonly used"),
        ("Password2024!", "commonly used"),
        ("!!baseball!!", "commonly used"),
        ("aaaaaaaaaaaaaa", "repeated"),
        ("abcabcabcabcabc", "repeated"),
        ("123456789012", "digits and symbols"),
        ("amy-likes-long-passwords", "username"),
        ("x" * 1025, "at most"),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    found = store.password_problem(password, "amy")
    assert found is not None and problem in found


@pytest.mark.parametrize("password", [PASSWORD, "Tumour board on Tuesday 9am", "ρ-αβδομυοσάρκωμα"])
def test_good_passwords_are_accepted(password: str) -> None:
    assert store.password_problem(password, "amy") is None


def test_the_blocklist_is_loaded_and_cited() -> None:
    text = (Path(store.__file__).parent / "data" / "common-passwords.txt").read_text("utf-8")
    assert "SecLists" in text and "800-63B" in text
    assert "baseball" in store.common_passwords() and len(store.common_passwords()) > 200


def test_a_save_and_its_audit_event_commit_together(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    def broken(*args: Any) -> AuditEvent:
        raise RuntimeError("the audit row could not be made")

    monkeypatch.setattr(store, "audit_event", broken)
    with service.app.state.sessionmaker() as db, pytest.raises(RuntimeError):
        store.create_case(
            db,
            synthetic_case(),
            label="L",
            username="amy",
            centre=None,
            source="api",
            assessed=store.Assessed(None, None, None),
        )
    with service.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(CaseRecord)) == 0


def test_lists_searches_and_version_reads_are_audited_and_lists_are_paged(
    service: Any,
) -> None:
    service.add_user("onc")
    auth = {"Authorization": f"Bearer {service.token_for('onc')}"}
    ids = [
        service.http.post(
            "/api/v1/cases", json={"case": synthetic_case(f"P-{n}")}, headers=auth
        ).json()["id"]
        for n in range(3)
    ]
    first = service.http.get("/api/v1/cases", params={"limit": 2}, headers=auth)
    assert len(first.json()) == 2 and first.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    rest = service.http.get("/api/v1/cases", params={"limit": 2, "offset": 2}, headers=auth)
    assert len(rest.json()) == 1 and "Link" not in rest.headers
    assert {c["id"] for c in first.json() + rest.json()} == set(ids)
    service.http.get("/api/v1/cases", params={"q": "P-1"}, headers=auth)
    service.http.get(f"/api/v1/cases/{ids[0]}/versions", headers=auth)
    listed = _events(service, "list")
    assert len(listed) == 3 and sum("search=yes" in (e.detail or "") for e in listed) == 1
    assert "P-1" not in " ".join(e.detail or "" for e in listed)  # no patient id in the log
    assert [e.object_id for e in _events(service, "view") if e.object_type == "history"] == [ids[0]]


def test_a_jti_used_on_one_process_is_refused_on_another(
    db_url: str, make_client: Any, client_key: Any
) -> None:
    url = f"{BASE_URL}/cds-services/{PATIENT_VIEW_ID}"
    token = make_jwt(client_key, url)
    body = {"hook": "patient-view", "context": {}}  # 400 once authenticated
    first, second = make_client(db_url), make_client(db_url)
    headers = {"Authorization": f"Bearer {token}"}
    assert first.http.post(url, json=body, headers=headers).status_code == 400
    again = second.http.post(url, json=body, headers=headers)
    assert again.status_code == 401 and "replay" in again.text


class TestSafeDefaults:
    def test_development_gets_a_random_secret_per_start(self) -> None:
        one, two = settings_from_env({}), settings_from_env({})
        assert DEFAULT_SECRET not in (one.secret_key, two.secret_key)
        assert one.secret_key != two.secret_key and len(one.secret_key) >= 32

    def test_the_app_never_signs_with_the_built_in_secret(self) -> None:
        from rhabdo.service.app import create_app

        app = create_app(Settings(database_url="sqlite://"))
        assert app.state.settings.secret_key != DEFAULT_SECRET

    @pytest.mark.parametrize(("host", "refused"), [("0.0.0.0", True), ("127.0.0.1", False)])
    def test_development_listens_on_loopback_only(self, host: str, refused: bool) -> None:
        dev = Settings(database_url="sqlite://")
        if refused:
            with pytest.raises(StartupRefused, match="loopback"):
                check_bind(dev, host)
        else:
            check_bind(dev, host)
        check_bind(
            Settings(
                environment=Environment.PRODUCTION, secret_key="k" * 40, database_url="sqlite://"
            ),
            host,
        )

    def test_the_default_database_is_per_user_not_per_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        env = {"XDG_DATA_HOME": str(tmp_path / "data")}
        expected = f"sqlite:///{tmp_path / 'data' / 'rhabdo' / 'rhabdo.sqlite3'}"
        monkeypatch.chdir(tmp_path)
        assert settings_from_env(env).database_url == expected
        monkeypatch.chdir("/")
        assert settings_from_env(env).database_url == expected == default_database_url(env)
        chosen = {"RHABDO_DATA_DIR": str(tmp_path / "mine")}
        assert settings_from_env(chosen).database_url.endswith("/mine/rhabdo.sqlite3")


def test_cached_cds_answers_are_logged_with_the_ehr_user(service: Any, client_key: Any) -> None:
    from service_helpers import require_modules
    from test_cds import _prefetch_from_case, _request

    require_modules("rhabdo.engine", "rhabdo.interop.fhir_import", "rhabdo.interop.fhir_export")
    prefetch = _prefetch_from_case(synthetic_case("CDS-2"))
    body = _request(prefetch)
    body["context"]["patientId"] = prefetch["patient"]["id"]
    url = f"/cds-services/{PATIENT_VIEW_ID}"
    for user in ("Practitioner/dr-a", "Practitioner/dr-b"):
        token = make_jwt(client_key, BASE_URL + url, fhirUser=user, sub="ignored")
        answer = service.http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
    calls = _events(service, "cds_call")
    assert [(e.username, (e.detail or "").split(";")[0]) for e in calls] == [
        ("Practitioner/dr-a", "assessed"),
        ("Practitioner/dr-b", "cached"),
    ]
