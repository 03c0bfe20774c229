"""``create_app(settings)``: the FastAPI application (web pages, JSON API, CDS Hooks).

No work happens at import time: the engine, sessions, rate limiter and templates are built
inside ``create_app``.  The access log written here names the route template (``/cases/{case_id}``),
never the concrete path or query string, so no identifier a user typed reaches the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rhabdo.errors import CaseValidationError
from rhabdo.service import store
from rhabdo.service.assessing import EngineUnavailable
from rhabdo.service.auth import (
    CsrfFailed,
    CurrentUser,
    Forbidden,
    NotAuthenticated,
    SignInThrottled,
)
from rhabdo.service.settings import DEFAULT_SECRET, Environment, Settings, check_startup

access_log = logging.getLogger("rhabdo.service.access")
log = logging.getLogger("rhabdo.service")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}
#: Sent in production only (the service is then reached over https through a proxy).
HSTS = "max-age=31536000; includeSubDomains"


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/cds-services")) or "application/json" in request.headers.get(
        "accept", ""
    )


def _error(
    request: Request, status: int, heading: str, message: Any, headers: dict[str, str] | None = None
) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    from rhabdo.service.web import templates

    text = (
        message
        if isinstance(message, str)
        else "; ".join(
            f"{m.get('field', '')}: {m.get('problem', m.get('msg', ''))}"
            if isinstance(m, dict)
            else str(m)
            for m in message
        )
    )
    return templates().TemplateResponse(
        request,
        "error.html",
        {
            "request": request,
            "user": None,
            "csrf": "",
            "status": status,
            "heading": heading,
            "message": text,
        },
        status_code=status,
        headers=headers,
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _anon(request: Request, exc: NotAuthenticated) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "sign-in or an API token is required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path if request.method == "GET" else "/cases"
        return RedirectResponse(f"/signin?next={target}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, "Not allowed", exc.message)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _error(
            request,
            403,
            "Request refused",
            "the form's CSRF token is missing or wrong; reload the page and try again",
        )

    @app.exception_handler(SignInThrottled)
    async def _throttled(request: Request, exc: SignInThrottled) -> Response:
        return _error(
            request, 429, "Too many attempts", str(exc), {"Retry-After": str(exc.retry_after_s)}
        )

    @app.exception_handler(store.NotFound)
    async def _not_found(request: Request, exc: store.NotFound) -> Response:
        return _error(request, 404, "Not found", str(exc))

    @app.exception_handler(store.VersionConflict)
    async def _conflict(request: Request, exc: store.VersionConflict) -> Response:
        return _error(request, 409, "Conflict", str(exc))

    @app.exception_handler(store.StoreError)
    async def _store_error(request: Request, exc: store.StoreError) -> Response:
        return _error(request, 400, "Not saved", str(exc))

    @app.exception_handler(CaseValidationError)
    async def _invalid_case(request: Request, exc: CaseValidationError) -> Response:
        problems = [{"field": p.field, "problem": p.problem} for p in exc.problems]
        return _error(request, 422, "Invalid case", problems)

    @app.exception_handler(EngineUnavailable)
    async def _engine(request: Request, exc: EngineUnavailable) -> Response:
        return _error(request, 503, "Not available", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            problems.append(
                {"field": ".".join(loc) or "(request)", "problem": str(err.get("msg", "invalid"))}
            )
        return _error(request, 422, "Invalid request", problems)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> Response:
        # The database refused a value (e.g. a NUL character); the input was at fault.
        return _error(
            request, 400, "Invalid input", "a value contains characters that cannot be stored"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, "Error", exc.detail, getattr(exc, "headers", None))


class HeadersAndAccessLog:
    """Pure ASGI middleware: security headers on every response (errors included, HSTS in
    production), and one access-log line naming the route template (``/cases/{case_id}``),
    never the path or query string.  An unhandled error still gets a 500 with the headers."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if hsts:
            self.headers.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False
        extra = list(self.headers)
        if scope["path"].startswith("/cds-services"):
            extra.append((b"access-control-allow-origin", b"*"))

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not response_started:
                await _plain_response(send_with_headers, 500, "internal error")
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            access_log.info(
                "%s %s %d %.1fms",
                scope.get("method", "-"),
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )


async def _plain_response(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: Report downloads render a document (seconds each on a busy machine, one at a time per
#: process): their deadline is this many times the ordinary one.
REPORT_SUFFIXES = ("/report.pdf", "/report.html")
REPORT_DEADLINE_FACTOR = 4


class Deadline:
    """Pure ASGI middleware: a request not answered within ``seconds`` gets 503, so no request
    (a slow database, an exhausted pool) holds its client for ever."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        seconds = self.seconds * (
            REPORT_DEADLINE_FACTOR if scope["path"].endswith(REPORT_SUFFIXES) else 1
        )
        try:
            async with asyncio.timeout(seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            access_log.warning("request deadline of %.0f s passed", seconds)
            if not response_started:
                await _plain_response(
                    send, 503, "the service is busy; try again", [(b"retry-after", b"5")]
                )


class BodyLimit:
    """Pure ASGI middleware: a request body larger than ``max_bytes`` gets 413 before it is
    read (declared ``Content-Length``) or as soon as it passes the limit (chunked); a CDS Hooks
    call without a valid client JWT gets 401 before its body is read."""

    def __init__(self, app: ASGIApp, max_bytes: int, cds_check: Any = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.cds_check = cds_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _plain_response(send, 413, _too_large(self.max_bytes))
            return
        if self.cds_check is not None and scope["path"].startswith("/cds-services/"):
            # A signature check costs a millisecond of CPU: never on the event loop.
            refused = await anyio.to_thread.run_sync(self.cds_check, scope)
            if refused is not None:
                await _plain_response(
                    send, 401, refused, [(b"www-authenticate", b'Bearer error="invalid_token"')]
                )
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)


def _too_large(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes"


def _cds_precheck(settings: Settings) -> Any:
    """Check a CDS client's JWT from the headers alone (signature, issuer, audience, expiry)
    before the body is read.  The verified token, its audiences and claims are left in the
    request state, so the route checks only the one-time ``jti`` rather than verifying the
    signature a second time."""
    from rhabdo.service import cds

    def check(scope: Scope) -> str | None:
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        if not header.lower().startswith("bearer "):
            if settings.cds_require_jwt:
                return "CDS client authentication failed: Authorization: Bearer <JWT> is required"
            return None
        path = scope["path"]
        audiences = [
            settings.public_base + path,
            settings.public_base + path.removesuffix("/feedback"),
        ]
        token = header[7:].strip()
        try:
            claims = cds.verify_client_jwt_signature(token, settings, audiences)
        except cds.JwtRefused as exc:
            return f"CDS client authentication failed: {exc.reason}"
        scope.setdefault("state", {})["cds_jwt"] = (token, tuple(audiences), claims)
        return None

    return check


class _NoRequestUrls(logging.Filter):
    """Drop httpx's "HTTP Request: GET <url>" records: FHIR URLs carry patient ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


def _keep_urls_out_of_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _NoRequestUrls) for f in logger.filters):
        logger.addFilter(_NoRequestUrls())


def create_app(settings: Settings) -> FastAPI:
    """The whole service for ``settings``; refuses unsafe settings outside development."""
    check_startup(settings)
    if settings.secret_key == DEFAULT_SECRET:
        # Development only (check_startup refuses it elsewhere): never a known secret.
        settings = settings.model_copy(update={"secret_key": secrets.token_urlsafe(32)})
    _keep_urls_out_of_logs()
    from rhabdo import __version__
    from rhabdo.service import api, cds, meeting_pages, web
    from rhabdo.service.auditqueue import AuditQueue, flush_periodically
    from rhabdo.service.db import make_engine, make_sessionmaker
    from rhabdo.service.shared import DbReplayCache, DbSignInLimiter

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Plain routes and dependencies run in this many threads; the pool matches it.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        log.info("database: %s", describe_database(settings.database_url))
        audit_queue.deferred = True
        flusher = asyncio.create_task(flush_periodically(audit_queue))
        try:
            yield
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            audit_queue.deferred = False
            # Whatever is still queued is written before the process ends.
            await anyio.to_thread.run_sync(audit_queue.flush)
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="rhabdo",
        version=__version__,
        description="Decision support for relapsed, refractory and metastatic rhabdomyosarcoma: "
        "JSON API and CDS Hooks services.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.database_url, pool_size=settings.threads)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # Shared by every server process through the database (see rhabdo.service.shared).
    app.state.signin_limiter = DbSignInLimiter(
        app.state.sessionmaker, settings.signin_max_failures, settings.signin_window_s
    )
    app.state.jti_cache = DbReplayCache(app.state.sessionmaker)
    app.state.audit_queue = audit_queue = AuditQueue(app.state.sessionmaker)
    app.state.cds_cache = cds.AssessmentCache()
    app.state.fhir_transport = None  # tests put an httpx.MockTransport here

    _install_handlers(app)
    app.include_router(web.router())
    app.include_router(meeting_pages.router())
    app.include_router(api.router())
    app.include_router(cds.router())

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_document(user: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="rhabdo_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        cds_check=_cds_precheck(settings),
    )
    app.add_middleware(Deadline, seconds=settings.request_timeout_s)
    # Added last, so it runs outermost and sees every response (including errors).
    app.add_middleware(HeadersAndAccessLog, hsts=settings.environment is Environment.PRODUCTION)
    return app


def describe_database(url: str) -> str:
    """The database URL with any password hidden (printed at start)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and several workers: settings from the environment."""
    from rhabdo.service.settings import get_settings

    return create_app(get_settings())
