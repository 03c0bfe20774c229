"""Who is calling: sessions (signed cookie + CSRF token), per-user API tokens, roles, centres.

* Browser users sign in with a password (argon2 hash) and get a signed, HTTP-only session
  cookie (``Secure`` outside development).  Every state-changing request made with the session
  must carry the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
* API clients send ``Authorization: Bearer rhabdo_...`` (a per-user token); no cookie, no CSRF.
* Sign-in failures are rate limited per username and per client address.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rhabdo.service import store
from rhabdo.service.store import Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: Role
    centre: str | None
    via: str  # "session" or "token"

    def may(self, role: Role) -> bool:
        return self.role.rank >= role.rank


class NotAuthenticated(Exception):
    """No valid session or token; pages redirect to sign-in, the API answers 401."""


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CsrfFailed(Exception):
    pass


class SignInThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")


class SignInLimiter:
    """Sliding-window count of failed sign-ins per key (username, client address)."""

    def __init__(self, max_failures: int, window_s: int) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.max_failures:
                    raise SignInThrottled(max(1, int(self.window_s - (now - q[0]))))

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not submitted:
        raise CsrfFailed()
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfFailed()


def db_session(request: Request) -> Any:
    maker = request.app.state.sessionmaker
    with maker() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def _principal_from_request(request: Request, db: Session) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()
        if not secret.startswith(store.API_TOKEN_PREFIX):
            return None
        user = store.user_for_token(db, secret)
        if user is None:
            return None
        return Principal(user.id, user.username, Role(user.role), user.centre, "token")
    uid = request.session.get("uid")
    issued = request.session.get("iat")
    if not isinstance(uid, int) or not isinstance(issued, int | float):
        return None
    if time.time() - issued > request.app.state.settings.session_max_age_s:
        request.session.clear()
        return None
    user = store.get_user(db, uid)
    if user is None:
        request.session.clear()
        return None
    return Principal(user.id, user.username, Role(user.role), user.centre, "session")


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _signed_in(request: Request, db: DB) -> Principal | None:
    """The caller's principal from the database (a plain function: FastAPI runs it in the
    thread pool, so a slow or exhausted connection pool never blocks the event loop)."""
    return _principal_from_request(request, db)


async def current_principal(
    request: Request, principal: Annotated[Principal | None, Depends(_signed_in)]
) -> Principal:
    """The signed-in user; state-changing session requests must carry the CSRF token."""
    if principal is None:
        raise NotAuthenticated()
    if principal.via == "session" and request.method not in SAFE_METHODS:
        submitted = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        check_csrf(request, submitted)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def submitted_form(request: Request) -> FormData:
    """The request's form, read on the event loop (I/O) before a plain route runs in a thread."""
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(submitted_form)]


def require(role: Role) -> Any:
    async def _dep(principal: CurrentUser) -> Principal:
        if not principal.may(role):
            raise Forbidden(f"this needs the {role.value} role; you are {principal.role.value}")
        return principal

    return Depends(_dep)


Clinician = Annotated[Principal, require(Role.CLINICIAN)]
Admin = Annotated[Principal, require(Role.ADMIN)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
