"""Helpers shared by the service tests (imported by name; tests/ is not a package)."""

from __future__ import annotations

import importlib
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

BASE_URL = "http://testserver"
ISSUER = "https://ehr.example.org/"
KID = "test-key-1"
PASSWORD = "correct horse battery staple"


def make_jwt(
    key: Any,
    aud: str,
    *,
    iss: str = ISSUER,
    kid: str = KID,
    alg: str = "ES384",
    exp_in: int = 300,
    iat_offset: int = 0,
    jti: str | None = None,
    **extra: Any,
) -> str:
    import jwt

    now = int(time.time()) + iat_offset
    claims = {
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + exp_in,
        "jti": jti or str(uuid.uuid4()),
        **extra,
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


class Browserless:
    """A TestClient with helpers for users, sign-in and CSRF."""

    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        self.app = app
        self.http = TestClient(app, base_url=BASE_URL, follow_redirects=False)

    def add_user(self, username: str, role: str = "clinician", centre: str | None = None) -> None:
        from rhabdo.service import store

        with self.app.state.sessionmaker() as db:
            store.create_user(db, username, PASSWORD, store.Role(role), centre)

    def csrf(self, path: str = "/signin") -> str:
        html = self.http.get(path).text
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        token = self.csrf()
        return self.http.post(
            "/signin", data={"username": username, "password": password, "csrf_token": token}
        )

    def token_for(self, username: str) -> str:
        from sqlalchemy import select

        from rhabdo.service import store
        from rhabdo.service.db import User

        with self.app.state.sessionmaker() as db:
            user = db.scalar(select(User).where(User.username == username))
            assert user is not None
            return store.create_api_token(db, user, "test")[1]


def module_available(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def require_modules(*names: str) -> None:
    """Skip (with the reason) when a part another engineer is still writing is not importable."""
    for name in names:
        if not module_available(name):
            pytest.skip(f"{name} is not importable yet (written by another engineer)")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_case(name: str = "local-relapse-paratesticular.yaml") -> dict[str, Any]:
    import json

    import yaml

    data = yaml.safe_load((EXAMPLES / name).read_text("utf-8"))
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))  # YAML dates -> ISO text
    return plain


def synthetic_case(patient_id: str = "SYN-0001") -> dict[str, Any]:
    """A small synthetic case (made up for tests)."""
    return {
        "patient": {"id": patient_id, "sex": "male", "date_of_birth": "2012-03-04"},
        "diagnosis": {
            "date": "2020-05-06",
            "primary_site": "paratesticular",
            "histology": "embryonal",
            "foxo1_fusion": "negative",
            "max_diameter_cm": 4.5,
            "regional_nodes": "N0",
            "distant_metastases": [],
        },
        "events": [{"kind": "relapse", "date": "2022-01-10", "sites": [{"extent": "local"}]}],
    }
