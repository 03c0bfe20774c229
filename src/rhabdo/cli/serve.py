"""``rhabdo serve`` (the web app, JSON API and CDS Hooks service) and ``rhabdo admin``."""

from __future__ import annotations

import sys

import click

from rhabdo.cli.common import fail


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Bring the database schema up to date before starting.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each with its own database pool).",
)
def serve_cmd(host: str, port: int, migrate: bool, workers: int) -> None:
    """Run the service.

    Settings come from RHABDO_* environment variables: RHABDO_ENV, RHABDO_SECRET_KEY,
    RHABDO_DATABASE_URL, RHABDO_BASE_URL, RHABDO_CDS_ISSUERS_FILE, RHABDO_TRUSTED_PROXIES,
    RHABDO_THREADS.  Without RHABDO_DATABASE_URL the database is rhabdo.sqlite3 in the per-user
    data folder (RHABDO_DATA_DIR, else $XDG_DATA_HOME/rhabdo, else ~/.local/share/rhabdo), the
    same one `rhabdo admin` uses.  Development mode (the default) listens on loopback only.
    """
    import os

    from rhabdo.service.settings import (
        Environment,
        StartupRefused,
        check_bind,
        check_startup,
        get_settings,
    )

    try:
        settings = get_settings()
        check_startup(settings)
        check_bind(settings, host)
    except StartupRefused as exc:
        fail(f"refusing to start: {exc}")
    except (ValueError, OSError) as exc:
        fail(f"settings: {exc}")
    import uvicorn

    if settings.environment is Environment.DEVELOPMENT and "RHABDO_SECRET_KEY" not in os.environ:
        # One random secret per start, shared by this start's worker processes.
        os.environ["RHABDO_SECRET_KEY"] = settings.secret_key
    if migrate:
        from rhabdo.service.migrate import upgrade

        upgrade(settings.database_url)
    # uvicorn's own access log prints full paths and query strings; ours logs route templates.
    import copy

    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["rhabdo"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    from rhabdo.service.app import describe_database

    click.echo(f"rhabdo serve: database {describe_database(settings.database_url)}", err=True)
    uvicorn.run(
        "rhabdo.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="info",
        log_config=log_config,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )


@click.group("admin")
def admin_group() -> None:
    """Administer the service: database schema and user accounts."""


@admin_group.command("migrate")
def migrate_cmd() -> None:
    """Create or upgrade the database schema (SQLite file or PostgreSQL URL)."""
    from rhabdo.service.migrate import current_revision, upgrade
    from rhabdo.service.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    click.echo(f"database schema at revision {current_revision(url)}")


@admin_group.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["viewer", "clinician", "admin"]),
    default="clinician",
    show_default=True,
)
@click.option("--centre", default=None, help="The centre whose cases this user may see.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_cmd(username: str, role: str, centre: str | None, password_stdin: bool) -> None:
    """Create a user account (the first admin is created this way)."""
    from rhabdo.service import store
    from rhabdo.service.db import make_engine, make_sessionmaker
    from rhabdo.service.migrate import upgrade
    from rhabdo.service.settings import get_settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from rhabdo.service.app import describe_database

    url = get_settings().database_url
    click.echo(f"database {describe_database(url)}", err=True)
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            store.create_user(db, username, password, store.Role(role), centre)
    except store.StoreError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    click.echo(f"created {role} {username}" + (f" at centre {centre}" if centre else ""))


@admin_group.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
def create_token_cmd(username: str, name: str) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    from sqlalchemy import select

    from rhabdo.service import store
    from rhabdo.service.db import User, make_engine, make_sessionmaker
    from rhabdo.service.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as db:
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                fail(f"username: {username!r} does not exist")
            _, secret = store.create_api_token(db, user, name)
    finally:
        engine.dispose()
    click.echo(secret)
