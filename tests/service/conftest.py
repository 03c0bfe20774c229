"""Fixtures for the service tests: a real PostgreSQL 15 server, databases, apps, users, JWTs.

The PostgreSQL server is started once per session by ``rhabdo.service.pgserver`` (initdb into
a temporary directory, a free loopback port, its unix socket in the same directory) and stopped
at the end; the load benchmark uses the same helper.  Tests parametrised over ``db_url`` run
against SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import BASE_URL, ISSUER, KID, Browserless


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL 15 server; yields its admin URL (database ``postgres``)."""
    from rhabdo.service.pgserver import PostgresUnavailable, temporary_server

    try:
        with temporary_server(["fsync=off"]) as server:
            yield server.admin_url
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


def _new_pg_database(admin_url: str) -> str:
    from rhabdo.service.pgserver import create_database

    return create_database(admin_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database at the latest schema: an SQLite file, or a new PostgreSQL database."""
    from rhabdo.service.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rhabdo.sqlite3'}"
    else:
        url = _new_pg_database(request.getfixturevalue("postgres_server"))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def client_key() -> Any:
    """The CDS client's EC P-384 signing key (ES384, as the specification recommends)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def client_jwks(client_key: Any) -> dict[str, Any]:
    import jwt

    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(client_key.public_key()))
    public.update(kid=KID, use="sig", alg="ES384")
    return {"keys": [public]}


@pytest.fixture
def settings_for(client_jwks: dict[str, Any]) -> Callable[..., Any]:
    from rhabdo.service.settings import Environment, Settings, TrustedIssuer

    def build(url: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": Environment.TESTING,
            "secret_key": "s" * 48,
            "database_url": url,
            "base_url": BASE_URL,
            "cookie_secure": False,
            "cds_trusted_issuers": (TrustedIssuer(issuer=ISSUER, jwks=client_jwks, centre=None),),
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def make_client(settings_for: Callable[..., Any]) -> Iterator[Callable[..., Browserless]]:
    from rhabdo.service.app import create_app

    made: list[Browserless] = []

    def build(url: str, **overrides: Any) -> Browserless:
        c = Browserless(create_app(settings_for(url, **overrides)))
        made.append(c)
        return c

    yield build
    for c in made:
        c.http.close()
        c.app.state.engine.dispose()


@pytest.fixture
def service(db_url: str, make_client: Callable[..., Browserless]) -> Browserless:
    return make_client(db_url)
