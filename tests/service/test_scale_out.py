"""Scale out (issue 16 §6): two ``rhabdo serve`` processes against one PostgreSQL behave as
one service: a jti used on one is refused on the other, a session signed out on one is
refused on the other, and concurrent edits across both give one success and the rest 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import LiveServer, server_env
from service_helpers import PASSWORD, make_jwt, synthetic_case
from test_concurrency import sign_in

from rhabdo.service.cds import PATIENT_VIEW_ID

pytestmark = pytest.mark.postgres
EDITORS = 8


@pytest.fixture
def two_servers(postgres_server: str, tmp_path: Path, client_jwks: dict[str, Any]) -> Any:
    from conftest import _new_pg_database
    from rhabdo.service import store
    from rhabdo.service.db import make_engine, make_sessionmaker
    from rhabdo.service.migrate import upgrade

    url = _new_pg_database(postgres_server)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        user = store.create_user(db, "onc", PASSWORD, store.Role.CLINICIAN)
        token = store.create_api_token(db, user, "test")[1]
    engine.dispose()
    # Both processes answer as one public service (one JWT audience), as behind a proxy.
    env = server_env(url, tmp_path, client_jwks, RHABDO_BASE_URL="https://rms.example.org")
    servers = [LiveServer(env, tmp_path / f"server{n}.log") for n in range(2)]
    try:
        yield servers, token
    finally:
        for server in servers:
            server.stop()


def test_a_jti_is_used_once_across_processes(two_servers: Any, client_key: Any) -> None:
    (a, b), _ = two_servers
    jwt = make_jwt(client_key, f"https://rms.example.org/cds-services/{PATIENT_VIEW_ID}")
    body = {"hook": "patient-view", "context": {}}  # 400 once authenticated
    headers = {"Authorization": f"Bearer {jwt}"}
    path = f"/cds-services/{PATIENT_VIEW_ID}"
    assert httpx.post(a.base_url + path, json=body, headers=headers).status_code == 400
    again = httpx.post(b.base_url + path, json=body, headers=headers)
    assert again.status_code == 401 and "replay" in again.text


def test_sign_out_on_one_process_ends_the_session_on_the_other(two_servers: Any) -> None:
    (a, b), _ = two_servers
    browser = sign_in(a.base_url, "onc")
    cookies = dict(browser.cookies)
    with httpx.Client(base_url=b.base_url, cookies=cookies) as other:
        assert other.get("/api/v1/cases").status_code == 200
        html = browser.get("/cases").text
        token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert browser.post("/signout", data={"csrf_token": token}).status_code == 303
        assert other.get("/api/v1/cases").status_code == 401
    browser.close()


def test_concurrent_edits_across_processes_give_one_success(two_servers: Any) -> None:
    (a, b), token = two_servers
    auth = {"Authorization": f"Bearer {token}"}
    made = httpx.post(a.base_url + "/api/v1/cases", json={"case": synthetic_case()}, headers=auth)
    case_id = made.json()["id"]

    def edit(n: int) -> int:
        server = (a, b)[n % 2]
        case = synthetic_case()
        case["diagnosis"]["max_diameter_cm"] = 5 + n
        return httpx.put(
            f"{server.base_url}/api/v1/cases/{case_id}",
            json={"base_version": 1, "case": case},
            headers=auth,
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(EDITORS) as pool:
        statuses = sorted(pool.map(edit, range(EDITORS)))
    assert statuses == [200] + [409] * (EDITORS - 1)
    versions = httpx.get(f"{b.base_url}/api/v1/cases/{case_id}/versions", headers=auth).json()
    assert [v["version"] for v in versions] == [1, 2]
