"""Fixtures for the service tests: a real PostgreSQL 15 server, databases, apps, users, JWTs.

The PostgreSQL server is started once per session from ``/usr/lib/postgresql/15/bin`` (initdb
into a temporary directory, a free loopback port, its unix socket in the same directory) and
stopped at the end.  Tests parametrised over ``db_url`` run against SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import BASE_URL, ISSUER, KID, Browserless

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as(user: pwd.struct_passwd | None, argv: list[str]) -> None:
    if user is None:
        subprocess.run(argv, check=True, capture_output=True)
    else:
        subprocess.run(
            ["runuser", "-u", user.pw_name, "--", *argv], check=True, capture_output=True
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL 15 server; yields its admin URL (database ``postgres``)."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 server binaries are absent ({PG_BIN}/initdb)")
    runner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="rhabdo-pg-"))
    if runner is not None:
        os.chown(root, runner.pw_uid, runner.pw_gid)
    data = root / "data"
    port = _free_port()
    _run_as(
        runner,
        [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "rhabdo", "-E", "UTF8"],
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run_as(
        runner,
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
    )
    try:
        yield f"postgresql+psycopg://rhabdo@127.0.0.1:{port}/postgres"
    finally:
        _run_as(runner, [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _new_pg_database(admin_url: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


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
