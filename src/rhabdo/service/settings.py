"""Service settings, read from ``RHABDO_*`` environment variables by a cached factory.

Nothing is read at import time: ``get_settings()`` builds the settings on first call and caches
them; tests build ``Settings(...)`` directly and pass them to ``create_app``.
``check_startup`` refuses to run outside development with the default secret or insecure
cookies, as the issue requires.
"""

from __future__ import annotations

import json
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: The development secret; a deployment that keeps it is refused (see ``check_startup``).
DEFAULT_SECRET = "change-me-development-only"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"


class TrustedIssuer(BaseModel):
    """A CDS client allowed to call the CDS Hooks services: its ``iss`` and public JWK Set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    jwks: dict[str, Any] = Field(description="A JWK Set: {'keys': [...]} (public keys only).")
    centre: str | None = Field(
        default=None, description="The centre whose users may open assessments from this client."
    )
    fhir_servers: tuple[str, ...] = Field(
        default=(),
        description="Base URLs of the FHIR servers the CDS service may read for this client "
        "(with the fhirAuthorization it sends); none: the service reads prefetch only.",
    )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    secret_key: str = DEFAULT_SECRET
    database_url: str = Field(
        default_factory=lambda: default_database_url(),
        description="SQLite file or PostgreSQL URL; by default an SQLite file in the per-user "
        "data folder, the same wherever rhabdo is run from.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the service; the CDS Hooks JWT audience is built from it.",
    )
    cookie_secure: bool = True
    session_max_age_s: int = 8 * 3600
    signin_max_failures: int = 5
    signin_window_s: int = 15 * 60
    cds_trusted_issuers: tuple[TrustedIssuer, ...] = ()
    cds_require_jwt: bool = True
    cds_jwt_max_lifetime_s: int = 3600
    validate_cds_responses: bool = True
    fhir_fetch_timeout_s: float = 5.0
    threads: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Worker threads per process for blocking work (database, rendering); "
        "each may hold one database connection, so the pool is sized from it.",
    )
    request_timeout_s: float = Field(
        default=30.0, gt=0, description="A request still unanswered after this gets 503."
    )
    shutdown_timeout_s: int = Field(
        default=5, ge=1, description="Seconds open requests get to finish after SIGTERM."
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses of reverse proxies whose X-Forwarded-For header is believed.",
    )
    max_body_bytes: int = Field(
        default=10_000_000, ge=1024, description="Larger request bodies get 413 unread."
    )
    fhir_allow_http: bool = Field(
        default=False,
        description="Development only: allow plain-http FHIR servers (never in production).",
    )
    fhir_max_pages: int = Field(
        default=50, ge=1, le=1000, description="Search pages read per prefetch query at most."
    )
    fhir_max_response_bytes: int = Field(default=20_000_000, ge=1024)
    cds_call_deadline_s: float = Field(
        default=10.0, gt=0, description="One deadline for all FHIR reads of one hook call."
    )
    cds_smart_launch_url: str | None = Field(
        default=None,
        description="SMART app launch URL of the web app; cards then link with type smart.",
    )

    @property
    def public_base(self) -> str:
        return self.base_url.rstrip("/")


def data_dir(env: dict[str, str] | None = None) -> Path:
    """The per-user data folder: ``$RHABDO_DATA_DIR``, else ``$XDG_DATA_HOME/rhabdo``, else
    ``~/.local/share/rhabdo`` (XDG Base Directory specification)."""
    env = dict(os.environ if env is None else env)
    if env.get("RHABDO_DATA_DIR"):
        return Path(env["RHABDO_DATA_DIR"]).expanduser()
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else None
    return (base or Path.home() / ".local" / "share") / "rhabdo"


def default_database_url(env: dict[str, str] | None = None) -> str:
    """The default database: ``rhabdo.sqlite3`` in the per-user data folder (an absolute path,
    so ``rhabdo serve`` and ``rhabdo admin`` find the same file from any working folder)."""
    return f"sqlite:///{(data_dir(env) / 'rhabdo.sqlite3').resolve()}"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_bind(settings: Settings, host: str) -> None:
    """Development mode serves plain http with relaxed cookies: loopback addresses only."""
    if settings.environment is Environment.DEVELOPMENT and host not in LOOPBACK_HOSTS:
        raise StartupRefused(
            f"--host {host}: development mode listens on loopback only (127.0.0.1); "
            "set RHABDO_ENV=production, a secret and TLS in front to serve a network "
            "(see the README's deployment section)"
        )


class StartupRefused(Exception):
    """The settings are unsafe for the configured environment."""


def check_startup(settings: Settings) -> None:
    """Refuse a non-development service that keeps the default secret or insecure cookies."""
    if settings.environment is Environment.DEVELOPMENT:
        return
    if settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32:
        raise StartupRefused(
            "RHABDO_SECRET_KEY: set a random secret of at least 32 characters "
            f"(the default secret is allowed only in development; environment is "
            f"{settings.environment.value})"
        )
    if settings.environment is Environment.PRODUCTION and not settings.cookie_secure:
        raise StartupRefused("RHABDO_COOKIE_SECURE: session cookies must be secure in production")
    if settings.environment is Environment.PRODUCTION and settings.fhir_allow_http:
        raise StartupRefused("RHABDO_FHIR_ALLOW_HTTP: FHIR servers must use https in production")


def _issuers_from_file(path: str) -> tuple[TrustedIssuer, ...]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(TrustedIssuer.model_validate(item) for item in data.get("issuers", []))


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    """Build settings from ``RHABDO_*`` variables (unset ones keep their defaults)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    simple = {
        "RHABDO_ENV": "environment",
        "RHABDO_SECRET_KEY": "secret_key",
        "RHABDO_DATABASE_URL": "database_url",
        "RHABDO_BASE_URL": "base_url",
        "RHABDO_COOKIE_SECURE": "cookie_secure",
        "RHABDO_SIGNIN_MAX_FAILURES": "signin_max_failures",
        "RHABDO_THREADS": "threads",
        "RHABDO_REQUEST_TIMEOUT_S": "request_timeout_s",
        "RHABDO_SHUTDOWN_TIMEOUT_S": "shutdown_timeout_s",
        "RHABDO_MAX_BODY_BYTES": "max_body_bytes",
        "RHABDO_FHIR_ALLOW_HTTP": "fhir_allow_http",
        "RHABDO_CDS_DEADLINE_S": "cds_call_deadline_s",
        "RHABDO_CDS_SMART_LAUNCH_URL": "cds_smart_launch_url",
    }
    for var, field in simple.items():
        if var in env:
            values[field] = env[var]
    if "RHABDO_TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = tuple(
            p.strip() for p in env["RHABDO_TRUSTED_PROXIES"].split(",") if p.strip()
        )
    if "RHABDO_CDS_ISSUERS_FILE" in env:
        values["cds_trusted_issuers"] = _issuers_from_file(env["RHABDO_CDS_ISSUERS_FILE"])
    if values.get("environment", "development") == "development" and "secret_key" not in values:
        # No built-in secret: a random one per start (sessions end when the server restarts).
        values["secret_key"] = secrets.token_urlsafe(32)
    if "database_url" not in values:
        values["database_url"] = default_database_url(env)
    if "cookie_secure" not in values and values.get("environment", "development") == "development":
        # Development runs on plain http://127.0.0.1; secure cookies would never be sent back.
        values["cookie_secure"] = False
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; read from the environment on first use)."""
    return settings_from_env()
