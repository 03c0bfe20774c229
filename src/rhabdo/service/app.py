"""``create_app(settings)``: the FastAPI application (web pages, JSON API, CDS Hooks).

No work happens at import time: the engine, sessions, rate limiter and templates are built
inside ``create_app``.  The access log written here names the route template (``/cases/{case_id}``),
never the concrete path or query string, so no identifier a user typed reaches the logs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

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
    SignInLimiter,
    SignInThrottled,
)
from rhabdo.service.settings import Settings, check_startup

access_log = logging.getLogger("rhabdo.service.access")

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
    """Pure ASGI middleware: security headers on every response, and one access-log line
    naming the route template (``/cases/{case_id}``), never the path or query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if scope["path"].startswith("/cds-services"):
            extra.append((b"access-control-allow-origin", b"*"))

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
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
    _keep_urls_out_of_logs()
    from rhabdo import __version__
    from rhabdo.service import api, cds, meeting_pages, web
    from rhabdo.service.db import make_engine, make_sessionmaker

    app = FastAPI(
        title="rhabdo",
        version=__version__,
        description="Decision support for relapsed, refractory and metastatic rhabdomyosarcoma: "
        "JSON API and CDS Hooks services.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.signin_limiter = SignInLimiter(settings.signin_max_failures, settings.signin_window_s)
    app.state.jti_cache = cds.ReplayCache()
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
    # Added last, so it runs outermost and sees every response (including errors).
    app.add_middleware(HeadersAndAccessLog)
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and several workers: settings from the environment."""
    from rhabdo.service.settings import get_settings

    return create_app(get_settings())
