"""Security: anonymous access refused everywhere but sign-in and discovery; CSRF; roles;
centres; sign-in rate limit; CDS Hooks JWT checks (spec: Trusting CDS Clients); settings."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from fastapi.routing import APIRoute
from service_helpers import BASE_URL, ISSUER, KID, PASSWORD, make_jwt, synthetic_case

from rhabdo.service.app import create_app
from rhabdo.service.cds import PATIENT_VIEW_ID
from rhabdo.service.settings import (
    DEFAULT_SECRET,
    Environment,
    Settings,
    StartupRefused,
    check_startup,
    settings_from_env,
)

PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("GET", "/cds-services")}
PV_URL = f"{BASE_URL}/cds-services/{PATIENT_VIEW_ID}"


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # a router included with include_router
            out += _api_routes(route.original_router.routes)
    return out


def _routes(app: Any) -> list[tuple[str, str]]:
    return [(m, r.path) for r in _api_routes(app.routes) for m in sorted(r.methods)]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_page_and_endpoint_refuses_anonymous_access(service: Any) -> None:
    routes = _routes(service.app)
    assert len(routes) > 20
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        response = service.http.request(method, _concrete(path), json={})
        if path.startswith("/cds-services/") or path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        else:
            # pages send the browser to sign in; state-changing posts are refused the same way
            assert response.status_code in (303, 401, 403), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/signin"), (method, path)
        checked += 1
    assert checked == len(routes) - len(PUBLIC)


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
def test_only_sign_in_and_discovery_are_public(service: Any, method: str, path: str) -> None:
    if method == "POST":
        response = service.http.post(path, data={})
        assert response.status_code == 403  # no CSRF token: refused, but not a redirect to sign-in
    else:
        assert service.http.request(method, path).status_code == 200


def test_sign_in_sets_a_secure_http_only_cookie(db_url: str, make_client: Any) -> None:
    client = make_client(db_url, cookie_secure=True)
    client.add_user("amy")
    client.http.get("/signin")
    cookie = client.http.get("/signin").headers.get("set-cookie", "")
    assert (
        "httponly" in cookie.lower()
        and "secure" in cookie.lower()
        and "samesite=lax" in cookie.lower()
    )


def test_sign_in_and_out(service: Any) -> None:
    service.add_user("amy")
    response = service.sign_in("amy")
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    assert service.http.get("/cases").status_code == 200
    token = service.csrf("/cases")
    assert service.http.post("/signout", data={"csrf_token": token}).status_code == 303
    assert service.http.get("/cases").status_code == 303


def test_wrong_password_is_refused(service: Any) -> None:
    service.add_user("amy")
    assert service.sign_in("amy", "not the password").status_code == 401
    assert service.http.get("/cases").status_code == 303


def test_sign_in_is_rate_limited(db_url: str, make_client: Any) -> None:
    client = make_client(db_url, signin_max_failures=3)
    client.add_user("amy")
    for _ in range(3):
        assert client.sign_in("amy", "wrong password!").status_code == 401
    throttled = client.sign_in("amy")  # even the right password, until the window passes
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.text


def test_open_redirect_after_sign_in_is_refused(service: Any) -> None:
    service.add_user("amy")
    token = service.csrf()
    response = service.http.post(
        "/signin",
        data={
            "username": "amy",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example",
        },
    )
    assert response.headers["location"] == "/cases"


class TestCsrf:
    def test_sign_in_without_token_is_refused(self, service: Any) -> None:
        service.add_user("amy")
        response = service.http.post("/signin", data={"username": "amy", "password": PASSWORD})
        assert response.status_code == 403

    def test_form_post_without_or_with_a_wrong_token_is_refused(self, service: Any) -> None:
        service.add_user("amy")
        service.sign_in("amy")
        data = {"patient.id": "SYN-9"}
        assert service.http.post("/cases/new", data=data).status_code == 403
        bad = service.http.post("/cases/new", data={**data, "csrf_token": "forged"})
        assert bad.status_code == 403
        good = service.http.post("/cases/new", data={**data, "csrf_token": service.csrf("/cases")})
        assert good.status_code == 303

    def test_json_with_a_session_needs_the_csrf_header(self, service: Any) -> None:
        service.add_user("amy")
        service.sign_in("amy")
        body = {"case": synthetic_case()}
        assert service.http.post("/api/v1/cases", json=body).status_code == 403
        headers = {"X-CSRF-Token": service.csrf("/cases")}
        assert service.http.post("/api/v1/cases", json=body, headers=headers).status_code == 201

    def test_api_tokens_need_no_csrf(self, service: Any) -> None:
        service.add_user("amy")
        token = service.token_for("amy")
        response = service.http.post(
            "/api/v1/cases",
            json={"case": synthetic_case()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201

    def test_a_wrong_api_token_is_refused(self, service: Any) -> None:
        for value in ("Bearer rhabdo_not-a-token", "Bearer something-else", "Basic abc"):
            response = service.http.get("/api/v1/cases", headers={"Authorization": value})
            assert response.status_code == 401


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_viewers_read_but_do_not_write(service: Any) -> None:
    service.add_user("cli", "clinician")
    service.add_user("view", "viewer")
    made = service.http.post(
        "/api/v1/cases", json={"case": synthetic_case()}, headers=_auth(service.token_for("cli"))
    )
    viewer = _auth(service.token_for("view"))
    assert service.http.get(f"/api/v1/cases/{made.json()['id']}", headers=viewer).status_code == 200
    refused = service.http.post("/api/v1/cases", json={"case": synthetic_case()}, headers=viewer)
    assert refused.status_code == 403
    service.sign_in("view")
    assert service.http.get("/cases/new").status_code == 403
    assert service.http.get("/audit").status_code == 403


def test_admins_see_the_audit_log(service: Any) -> None:
    service.add_user("root", "admin")
    service.sign_in("root")
    page = service.http.get("/audit")
    assert page.status_code == 200 and "sign_in" in page.text


def test_one_centre_cannot_read_another_centres_cases(service: Any) -> None:
    service.add_user("north1", centre="north")
    service.add_user("south1", centre="south")
    north, south = _auth(service.token_for("north1")), _auth(service.token_for("south1"))
    case_id = service.http.post(
        "/api/v1/cases", json={"case": synthetic_case("N-77")}, headers=north
    ).json()["id"]
    for path in (
        f"/api/v1/cases/{case_id}",
        f"/api/v1/cases/{case_id}/versions",
        f"/api/v1/cases/{case_id}/versions/1",
        f"/api/v1/cases/{case_id}/assessment",
    ):
        assert service.http.get(path, headers=south).status_code == 404, path
        assert service.http.get(path, headers=north).status_code != 404 or "assessment" in path
    edit = service.http.put(
        f"/api/v1/cases/{case_id}",
        headers=south,
        json={"base_version": 1, "case": synthetic_case("N-77")},
    )
    assert edit.status_code == 404
    assert service.http.get("/api/v1/cases", headers=south).json() == []
    service.sign_in("south1")
    assert service.http.get(f"/cases/{case_id}").status_code == 404
    assert service.http.get(f"/cases/{case_id}/history").status_code == 404


class TestCdsJwt:
    """Trusting CDS Clients: issuer allow-list, signature by a configured key, aud, exp."""

    body: ClassVar[dict[str, Any]] = {
        "hook": "patient-view",
        "context": {},
    }  # 400 once authenticated

    def _call(self, service: Any, token: str | None) -> Any:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return service.http.post(
            f"/cds-services/{PATIENT_VIEW_ID}", json=self.body, headers=headers
        )

    def test_a_valid_token_is_accepted(self, service: Any, client_key: Any) -> None:
        assert self._call(service, make_jwt(client_key, PV_URL)).status_code == 400

    def test_audience_may_be_a_list(self, service: Any, client_key: Any) -> None:
        assert self._call(service, make_jwt(client_key, [PV_URL])).status_code == 400  # type: ignore[arg-type]

    def test_missing_token(self, service: Any) -> None:
        assert self._call(service, None).status_code == 401

    def test_forged_signature(self, service: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        other = ec.generate_private_key(ec.SECP384R1())
        response = self._call(service, make_jwt(other, PV_URL))
        assert response.status_code == 401 and "signature" in response.json()["detail"]

    def test_expired(self, service: Any, client_key: Any) -> None:
        token = make_jwt(client_key, PV_URL, iat_offset=-600, exp_in=60)
        response = self._call(service, token)
        assert response.status_code == 401 and "expired" in response.json()["detail"]

    def test_wrong_audience(self, service: Any, client_key: Any) -> None:
        for aud in (
            f"{BASE_URL}/cds-services",
            "https://other.example/cds-services/" + PATIENT_VIEW_ID,
        ):
            response = self._call(service, make_jwt(client_key, aud))
            assert response.status_code == 401 and "audience" in response.json()["detail"]

    def test_issuer_not_on_the_allow_list(self, service: Any, client_key: Any) -> None:
        response = self._call(service, make_jwt(client_key, PV_URL, iss="https://rogue.example/"))
        assert response.status_code == 401 and "allow-list" in response.json()["detail"]

    def test_unknown_kid(self, service: Any, client_key: Any) -> None:
        assert self._call(service, make_jwt(client_key, PV_URL, kid="nope")).status_code == 401

    def test_replayed_jti(self, service: Any, client_key: Any) -> None:
        token = make_jwt(client_key, PV_URL, jti="once")
        assert self._call(service, token).status_code == 400
        response = self._call(service, token)
        assert response.status_code == 401 and "replay" in response.json()["detail"]

    def test_symmetric_and_unsigned_tokens(self, service: Any) -> None:
        import jwt

        claims = {"iss": ISSUER, "aud": PV_URL, "iat": 1, "exp": 2**31, "jti": "x"}
        hs = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": KID})
        none = jwt.encode(claims, None, algorithm="none", headers={"kid": KID})
        for token in (hs, none, "not.a.jwt", "garbage"):
            assert self._call(service, token).status_code == 401

    def test_too_long_lifetime(self, service: Any, client_key: Any) -> None:
        assert self._call(service, make_jwt(client_key, PV_URL, exp_in=86400)).status_code == 401

    def test_missing_required_claims(self, service: Any, client_key: Any) -> None:
        import jwt

        token = jwt.encode(
            {"iss": ISSUER, "aud": PV_URL},
            client_key,
            algorithm="ES384",
            headers={"kid": KID, "typ": "JWT"},
        )
        assert self._call(service, token).status_code == 401

    def test_feedback_needs_a_token_too(self, service: Any) -> None:
        response = service.http.post(
            f"/cds-services/{PATIENT_VIEW_ID}/feedback", json={"feedback": []}
        )
        assert response.status_code == 401


class TestSettings:
    @pytest.mark.parametrize("env", [Environment.TESTING, Environment.PRODUCTION])
    def test_default_secret_is_refused_outside_development(self, env: Environment) -> None:
        with pytest.raises(StartupRefused, match="RHABDO_SECRET_KEY"):
            create_app(
                Settings(environment=env, secret_key=DEFAULT_SECRET, database_url="sqlite://")
            )

    def test_short_secret_is_refused(self) -> None:
        with pytest.raises(StartupRefused):
            check_startup(Settings(environment=Environment.PRODUCTION, secret_key="short"))

    def test_insecure_cookies_refused_in_production(self) -> None:
        with pytest.raises(StartupRefused, match="COOKIE"):
            check_startup(
                Settings(
                    environment=Environment.PRODUCTION, secret_key="k" * 40, cookie_secure=False
                )
            )

    def test_development_may_use_the_default_secret(self) -> None:
        check_startup(Settings())

    def test_settings_from_environment(self) -> None:
        s = settings_from_env(
            {
                "RHABDO_ENV": "production",
                "RHABDO_SECRET_KEY": "k" * 40,
                "RHABDO_DATABASE_URL": "postgresql://u@h/db",
            }
        )
        assert s.environment is Environment.PRODUCTION and s.cookie_secure is True
        assert settings_from_env({}).cookie_secure is False  # development on plain http

    def test_get_settings_is_cached(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from rhabdo.service.settings import get_settings

        get_settings.cache_clear()
        monkeypatch.setenv("RHABDO_BASE_URL", "https://rms.example.org")
        try:
            assert get_settings() is get_settings()
            assert get_settings().public_base == "https://rms.example.org"
        finally:
            get_settings.cache_clear()


def test_security_headers(service: Any) -> None:
    headers = service.http.get("/signin").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
