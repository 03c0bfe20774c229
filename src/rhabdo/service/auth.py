"""Who is calling: sessions (signed cookie + CSRF token), per-user API tokens, roles, centres.

* Browser users sign in with a password (argon2 hash) and get a signed, HTTP-only session
  cookie (``Secure`` outside development) carrying a random session secret; the session itself
  (user, expiry, CSRF token) is a database row, so signing out ends it on every server process
  and a copied cookie stops working.  Every state-changing request made with the session must
  carry the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
* API clients send ``Authorization: Bearer rhabdo_...`` (a per-user token); no cookie, no CSRF.
* Sign-in failures are throttled per user, per client address and per pair, with backoff
  (``shared.DbSignInLimiter``); ``X-Forwarded-For`` is believed only from configured proxies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rhabdo.service import store
from rhabdo.service.shared import SignInThrottled
from rhabdo.service.store import Role

__all__ = ["SignInThrottled"]

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


def csrf_token(request: Request) -> str:
    """The CSRF token: the signed-in session's (stored with it), or before sign-in one kept
    in the cookie, created on first use."""
    signed_in = getattr(request.state, "csrf", None)
    if isinstance(signed_in, str):
        return signed_in
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = getattr(request.state, "csrf", None) or request.session.get("csrf")
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
    sid = request.session.get("sid")
    if not isinstance(sid, str):
        return None
    found = store.session_user(db, _session_digest(sid))
    if found is None:
        request.session.clear()
        return None
    user, csrf = found
    request.state.csrf = csrf
    return Principal(user.id, user.username, Role(user.role), user.centre, "session")


def _session_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(request: Request, db: Session, user: Any) -> None:
    """Sign ``user`` in: a new server-side session with its own CSRF token (any earlier
    session of this browser is forgotten)."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    store.create_session(
        db,
        _session_digest(secret),
        user.id,
        csrf,
        request.app.state.settings.session_max_age_s,
    )
    request.session.clear()
    request.session["sid"] = secret
    request.state.csrf = csrf


def end_session(request: Request, db: Session) -> None:
    """Sign out: the session row is deleted, so the cookie is refused everywhere."""
    secret = request.session.get("sid")
    if isinstance(secret, str):
        store.delete_session(db, _session_digest(secret))
    request.session.clear()
    request.state.csrf = None


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _signed_in(request: Request, db: DB) -> Principal | None:
    """The caller's principal from the database (a plain function: FastAPI runs it in the
    thread pool, so a slow or exhausted connection pool never blocks the event loop).  The
    read transaction ends here, so a request waiting for a worker thread holds no connection:
    connections in use never exceed the threads, for which the pool is sized."""
    try:
        return _principal_from_request(request, db)
    finally:
        db.commit()


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
    """The client's address: the peer, or, when the peer is a configured proxy, the last
    ``X-Forwarded-For`` address that is not itself a configured proxy."""
    peer = request.client.host if request.client else "unknown"
    proxies = request.app.state.settings.trusted_proxies
    if peer not in proxies:
        return peer
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in proxies:
            return address[:64]
    return peer
