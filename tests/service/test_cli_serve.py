"""`rhabdo admin migrate|create-user|create-token`; `rhabdo serve` refusing unsafe settings."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from rhabdo.cli import cli
from rhabdo.service.settings import get_settings


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    get_settings.cache_clear()
    monkeypatch.setenv("RHABDO_DATABASE_URL", db_url)
    yield {"RHABDO_DATABASE_URL": db_url}
    get_settings.cache_clear()


def test_migrate_is_idempotent(env: dict[str, str]) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, ["admin", "migrate"])
        assert result.exit_code == 0, result.output
        assert "revision 0002" in result.output


def test_create_the_first_user_and_a_token(env: dict[str, str]) -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["admin", "create-user", "root", "--role", "admin", "--password-stdin"],
        input="a sufficiently long password\n",
    )
    assert made.exit_code == 0, made.output
    assert "created admin root" in made.output
    again = runner.invoke(
        cli,
        ["admin", "create-user", "root", "--password-stdin"],
        input="a sufficiently long password\n",
    )
    assert (
        again.exit_code == 2
        and "already exists" in again.output
        and "Traceback" not in again.output
    )
    token = runner.invoke(cli, ["admin", "create-token", "root"])
    assert token.exit_code == 0 and token.output.startswith("rhabdo_")
    missing = runner.invoke(cli, ["admin", "create-token", "nobody"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_a_weak_password_is_refused(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        cli, ["admin", "create-user", "amy", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 2 and "password" in result.output


def test_serve_refuses_the_default_secret_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("RHABDO_ENV", "production")
    monkeypatch.delenv("RHABDO_SECRET_KEY", raising=False)
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to start" in result.output and "RHABDO_SECRET_KEY" in result.output


def test_serve_reports_bad_settings_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("RHABDO_ENV", "staging")
    try:
        result: Any = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert (
        result.exit_code == 2 and "settings" in result.output and "Traceback" not in result.output
    )


def test_admin_and_serve_name_the_database_they_use(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without RHABDO_DATABASE_URL both use the per-user data folder, from any folder."""
    get_settings.cache_clear()
    monkeypatch.delenv("RHABDO_DATABASE_URL", raising=False)
    monkeypatch.delenv("RHABDO_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    try:
        made = CliRunner().invoke(
            cli, ["admin", "create-user", "root", "--password-stdin"], input="a long pass phrase\n"
        )
        refused = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    finally:
        get_settings.cache_clear()
    assert made.exit_code == 0, made.output
    database = tmp_path / "xdg" / "rhabdo" / "rhabdo.sqlite3"
    assert f"database sqlite:///{database}" in made.output and database.exists()
    assert refused.exit_code == 2 and "loopback" in refused.output
