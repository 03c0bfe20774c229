"""No freeze under concurrency (issue 16 §1): many signed-in requests at once against a real
uvicorn server on loopback leave the event loop free, so the unauthenticated discovery probe is
still answered, every request succeeds, and SIGTERM stops the server gracefully."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import LiveServer, server_env
from service_helpers import PASSWORD

CLIENTS = 50
ROUNDS = 3


def _add_user(db_url: str, username: str) -> None:
    from rhabdo.service import store
    from rhabdo.service.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as db:
            store.create_user(db, username, PASSWORD, store.Role.VIEWER)
    finally:
        engine.dispose()


def sign_in(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    html = client.get("/signin").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    done = client.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": match[1]}
    )
    assert done.status_code == 303, done.text
    return client


def test_many_signed_in_requests_do_not_freeze_the_server(db_url: str, tmp_path: Path) -> None:
    _add_user(db_url, "viewer")
    server = LiveServer(server_env(db_url, tmp_path), tmp_path / "server.log")
    try:
        signed_in = sign_in(server.base_url, "viewer")
        cookies = dict(signed_in.cookies)
        signed_in.close()
        started = threading.Barrier(CLIENTS + 1)

        def one_client(_: int) -> list[int]:
            with httpx.Client(base_url=server.base_url, cookies=cookies, timeout=60) as c:
                started.wait()
                return [c.get("/api/v1/cases").status_code for _ in range(ROUNDS)]

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = pool.map(one_client, range(CLIENTS))
            started.wait()
            # An unauthenticated probe while the signed-in load runs: answered, not timed out.
            probe: Any = httpx.get(server.base_url + "/cds-services", timeout=15)
            statuses = [s for batch in results for s in batch]
        assert probe.status_code == 200
        assert statuses == [200] * (CLIENTS * ROUNDS)
    finally:
        code = server.stop(grace_s=10)
    assert code is not None, "SIGTERM was not honoured within 10 s"


@pytest.mark.parametrize("path", ["/api/v1/cases"])
def test_sigterm_stops_a_busy_server(db_url: str, tmp_path: Path, path: str) -> None:
    _add_user(db_url, "viewer")
    server = LiveServer(server_env(db_url, tmp_path), tmp_path / "server.log")
    signed_in = sign_in(server.base_url, "viewer")
    try:
        assert signed_in.get(path).status_code == 200
    finally:
        signed_in.close()
        code = server.stop(grace_s=10)
    assert code is not None, "SIGTERM was not honoured within 10 s"
