"""Server-rendered pages: sign-in, case list and search, the case form, import, the assessment
page (the HTML report's content, with PDF download), version history, API tokens, audit log."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from rhabdo import labels
from rhabdo.errors import CaseValidationError, FieldProblem
from rhabdo.service import caselist, forms, meetings, store
from rhabdo.service.assessing import (
    EngineUnavailable,
    assessed_for_store,
    render_report_html,
    render_report_pdf,
    report_fragment,
    stored_or_fresh,
)
from rhabdo.service.auth import (
    DB,
    Admin,
    Clinician,
    CurrentUser,
    Principal,
    SignInThrottled,
    SubmittedForm,
    check_csrf,
    client_address,
    csrf_token,
    end_session,
    start_session,
)
from rhabdo.service.bodies import OffLoopJsonRoute
from rhabdo.service.changes import case_changes

HERE = Path(__file__).parent
MAX_UPLOAD_BYTES = 2_000_000


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.globals["inline_css"] = Markup((HERE / "static" / "style.css").read_text("utf-8"))
    t.env.filters["words"] = labels.words
    t.env.filters["field_label"] = labels.field_label
    return t


def page(
    request: Request, name: str, user: Principal | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    ctx.update(request=request, user=user, csrf=csrf_token(request))
    return templates().TemplateResponse(request, name, ctx, status_code=status)


_HEADING = re.compile(r"<(/?)h([1-5])\b", re.I)
_MAIN = re.compile(r"<(/?)main\b", re.I)
_PAGE_SELECTOR = re.compile(r"(^|[}\s,])(html|body)(\s*[{,])", re.M)


def embedded_report(fragment: str) -> str:
    """The report's body fitted into a page that has its own ``h1``, ``main`` and styles:
    headings one level down (the page keeps a single ``h1``), the report's ``main`` a ``div``,
    and its ``html``/``body`` rules scoped to ``#report`` so they do not restyle the page."""

    def style(m: re.Match[str]) -> str:
        return _PAGE_SELECTOR.sub(r"\1#report\3", m.group(0))

    scoped = re.sub(r"<style[^>]*>.*?</style>", style, fragment, flags=re.S | re.I)
    scoped = _MAIN.sub(lambda m: f"<{m.group(1)}div", scoped)  # the page has the one <main>
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", scoped)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/cases"


def router() -> APIRouter:
    from rhabdo.case.io import case_to_dict, parse_case, parse_case_text

    r = APIRouter(include_in_schema=False, route_class=OffLoopJsonRoute)

    @r.get("/signin")
    def signin_form(request: Request, db: DB, next: str | None = None) -> HTMLResponse:
        return page(
            request,
            "signin.html",
            None,
            next=_safe_next(next),
            error=None,
            no_accounts=not store.has_users(db),
        )

    @r.post("/signin")
    def signin(
        request: Request,
        db: DB,
        username: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
        next: Annotated[str, Form()] = "/cases",
    ) -> Response:
        check_csrf(request, csrf_token_)
        limiter = request.app.state.signin_limiter
        keys = ("user:" + username.lower(), "addr:" + client_address(request))
        try:
            limiter.check(*keys)
        except SignInThrottled as exc:
            throttled = page(
                request,
                "signin.html",
                None,
                status=429,
                next=_safe_next(next),
                error=f"Too many failed attempts. Try again in {exc.retry_after_s} seconds.",
            )
            throttled.headers["Retry-After"] = str(exc.retry_after_s)
            return throttled
        user = store.authenticate(db, username, password)
        if user is None:
            limiter.failed(*keys)
            store.audit(db, None, store.AuditAction.SIGN_IN_FAILED, "user", username[:64], None)
            return page(
                request,
                "signin.html",
                None,
                status=401,
                next=_safe_next(next),
                error="Wrong username or password.",
            )
        limiter.succeeded(*keys)
        start_session(request, db, user)
        store.audit(db, user.username, store.AuditAction.SIGN_IN, "user", user.username, None)
        return RedirectResponse(_safe_next(next), status_code=303)

    @r.post("/signout")
    def signout(request: Request, user: CurrentUser, db: DB) -> Response:
        store.audit(db, user.username, store.AuditAction.SIGN_OUT, "user", user.username, None)
        end_session(request, db)
        return RedirectResponse("/signin", status_code=303)

    @r.get("/")
    def home(user: CurrentUser) -> Response:
        return RedirectResponse("/cases", status_code=303)

    @r.get("/cases")
    def cases(
        request: Request,
        user: CurrentUser,
        db: DB,
        q: Annotated[str | None, Query(max_length=64)] = None,
        stage: Annotated[str, Query(max_length=200)] = "",
        relapse_type: Annotated[str, Query(max_length=200)] = "",
        relapse_pattern: Annotated[str, Query(max_length=200)] = "",
        page_number: Annotated[int, Query(alias="page", ge=1, le=caselist.MAX_PAGE_NUMBER)] = 1,
    ) -> HTMLResponse:
        filters = caselist.Filters(stage, relapse_type, relapse_pattern)
        shown = caselist.page_of_cases(db, user.centre, q, filters, page_number)
        detail = f"page={shown.page} shown={len(shown.rows)} of={shown.total}"
        store.audit(
            db,
            user.username,
            store.AuditAction.LIST,
            "cases",
            None,
            ("search=yes " if q else "") + ("filtered=yes " if filters.asked() else "") + detail,
        )
        params = {k: v for k, v in {"q": q or "", **filters.asked()}.items() if v}

        def link(number: int) -> str:
            return "/cases?" + urlencode({**params, "page": number})

        return page(
            request,
            "cases.html",
            user,
            cases=shown.rows,
            listing=shown,
            choices=shown.choices,
            filters=filters,
            filtered=bool(filters.asked()),
            q=q or "",
            previous_page=link(shown.page - 1) if shown.page > 1 else None,
            next_page=link(shown.page + 1) if shown.page < shown.pages else None,
        )

    def _form_page(
        request: Request,
        user: Principal,
        *,
        data: dict[str, Any] | None,
        problems: list[FieldProblem],
        action: str,
        title: str,
        base_version: int | None,
        status: int = 200,
        conflict: str | None = None,
        focus: str | None = None,
        message: str | None = None,
        reason: str = "",
    ) -> HTMLResponse:
        errors = forms.errors_by_field(problems)
        return page(
            request,
            "case_form.html",
            user,
            status=status,
            title=title,
            action=action,
            fields=forms.render_fields(data, errors, focus=focus),
            problems=problems,
            problem_labels=[labels.field_label(p.field) for p in problems],
            base_version=base_version,
            conflict=conflict,
            message=message,
            reason=reason,
            editing=base_version is not None,
        )

    @r.get("/cases/new")
    def new_case(request: Request, user: Clinician) -> HTMLResponse:
        return _form_page(
            request,
            user,
            data=None,
            problems=[],
            action="/cases/new",
            title="New case",
            base_version=None,
        )

    def _submitted(form: Any) -> tuple[dict[str, Any], Any]:
        doc = forms.form_to_document(forms.FormValues(form))
        return doc, form

    def _button_pressed(form: Any) -> str | None:
        action = form.get(forms.ACTION)
        return action if isinstance(action, str) and action and action != "save" else None

    def _after_button(
        request: Request,
        user: Principal,
        form: Any,
        action: str,
        *,
        target: str,
        title: str,
        base_version: int | None,
    ) -> HTMLResponse:
        values = forms.FormValues(form)
        draft = forms.form_to_document(values, keep_blank=True)
        done = forms.apply_action(draft, action, values)
        reason = form.get("reason")
        return _form_page(
            request,
            user,
            data=done.document,
            problems=[],
            action=target,
            title=title,
            base_version=base_version,
            focus=done.focus,
            message=done.message,
            reason=reason if isinstance(reason, str) else "",
        )

    @r.post("/cases/new")
    def create_case(request: Request, user: Clinician, db: DB, form: SubmittedForm) -> Response:
        doc, form = _submitted(form)
        button = _button_pressed(form)
        if button:
            return _after_button(
                request,
                user,
                form,
                button,
                target="/cases/new",
                title="New case",
                base_version=None,
            )
        try:
            case = forms.validate_document(doc)
        except CaseValidationError as exc:
            return _form_page(
                request,
                user,
                data=doc,
                problems=exc.problems,
                action="/cases/new",
                title="New case",
                base_version=None,
                status=422,
            )
        v = store.create_case(
            db,
            case_to_dict(case),
            label=case.patient.id,
            username=user.username,
            centre=user.centre,
            source="form",
            assessed=assessed_for_store(case),
        )
        return RedirectResponse(f"/cases/{v.case_id}", status_code=303)

    @r.get("/cases/import")
    def import_form(request: Request, user: Clinician) -> HTMLResponse:
        return page(request, "import.html", user, problems=[], unmapped=[])

    @r.post("/cases/import")
    def import_case(request: Request, user: Clinician, db: DB, form: SubmittedForm) -> Response:
        upload = form.get("file")
        kind = form.get("kind")
        problems: list[FieldProblem] = []
        unmapped: list[str] = []
        if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
            problems = [
                FieldProblem("file", "choose a case file (YAML/JSON) or a FHIR Bundle (JSON)")
            ]
            return page(request, "import.html", user, status=422, problems=problems, unmapped=[])
        raw = upload.file.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[union-attr]
        name = str(getattr(upload, "filename", "") or "upload")
        try:
            if len(raw) > MAX_UPLOAD_BYTES:
                raise CaseValidationError([FieldProblem("file", "file is too large")])
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CaseValidationError([FieldProblem("file", "not UTF-8 text")]) from None
            if kind == "fhir":
                from rhabdo.interop.fhir_import import case_from_bundle

                try:
                    bundle = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise CaseValidationError(
                        [FieldProblem("file", f"not valid JSON: {exc.msg}")]
                    ) from None
                if not isinstance(bundle, dict):
                    raise CaseValidationError(
                        [FieldProblem("file", "a FHIR Bundle is a JSON object")]
                    )
                imported = case_from_bundle(bundle)
                case = imported.case
                unmapped = [str(u) for u in imported.unmapped]
                source = "fhir"
            else:
                case = parse_case_text(
                    text, source=name, fmt="json" if name.endswith(".json") else "yaml"
                )
                source = "file"
        except CaseValidationError as exc:
            return page(
                request, "import.html", user, status=422, problems=exc.problems, unmapped=[]
            )
        same = _same_patient(db, user, case.patient.id)
        if same:  # never a silent duplicate: ask whether this is a new version or a new case
            return page(
                request,
                "import.html",
                user,
                problems=[],
                unmapped=unmapped,
                duplicates=same,
                document=json.dumps(case_to_dict(case)),
                source=source,
                patient_id=case.patient.id,
            )
        return _store_import(request, user, db, case, source, unmapped, target=None)

    def _same_patient(db: Any, user: Principal, patient_id: str) -> list[Any]:
        return list(store.cases_with_label(db, user.centre, patient_id))

    def _store_import(
        request: Request,
        user: Principal,
        db: Any,
        case: Any,
        source: str,
        unmapped: list[str],
        target: Any,
    ) -> Response:
        if target is None:
            v = store.create_case(
                db,
                case_to_dict(case),
                label=case.patient.id,
                username=user.username,
                centre=user.centre,
                source=source,
                assessed=assessed_for_store(case),
            )
        else:
            v = store.save_version(
                db,
                target.id,
                target.current_version,
                case_to_dict(case),
                label=case.patient.id,
                username=user.username,
                centre=user.centre,
                source=source,
                assessed=assessed_for_store(case),
                reason=f"imported from a {'FHIR bundle' if source == 'fhir' else 'case file'}",
            )
        store.audit(db, user.username, store.AuditAction.IMPORT, "case", v.case_id, source)
        if unmapped:  # reported, never dropped silently
            return page(
                request, "import.html", user, problems=[], unmapped=unmapped, created=v.case_id
            )
        return RedirectResponse(f"/cases/{v.case_id}", status_code=303)

    @r.post("/cases/import/confirm")
    def confirm_import(
        request: Request,
        user: Clinician,
        db: DB,
        document: Annotated[str, Form(max_length=MAX_UPLOAD_BYTES)] = "",
        source: Annotated[str, Form(max_length=16)] = "file",
        unmapped: Annotated[list[str] | None, Form()] = None,
        choice: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        """The clinician's answer for an import whose patient id already has a case."""
        try:
            data = json.loads(document)
        except json.JSONDecodeError:
            data = None
        case = parse_case(data)  # validated again: the document came back from the browser
        if choice == "new":
            target = None
        else:
            target = next(
                (c for c in _same_patient(db, user, case.patient.id) if c.id == choice), None
            )
            if target is None:
                raise CaseValidationError(
                    [FieldProblem("choice", "choose a version of an existing case or a new case")]
                )
        kind = source if source in ("file", "fhir") else "file"
        return _store_import(request, user, db, case, kind, list(unmapped or []), target)

    def _assessment_view(
        request: Request,
        user: Principal,
        db: Any,
        case: Any,
        stored: dict[str, Any] | None,
        **ctx: Any,
    ) -> HTMLResponse:
        report = None
        unavailable = None
        assessment = None
        try:
            assessment = stored_or_fresh(case, stored)
            report = Markup(embedded_report(report_fragment(render_report_html(case, assessment))))
        except EngineUnavailable as exc:
            unavailable = str(exc)
        return page(
            request,
            "assessment.html",
            user,
            report=report,
            unavailable=unavailable,
            assessment=assessment,
            **ctx,
        )

    @r.get("/cases/{case_id}")
    def show_case(
        request: Request,
        user: CurrentUser,
        db: DB,
        case_id: str,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> HTMLResponse:
        rec, v = store.get_version(db, case_id, user.centre, version)
        store.audit(
            db, user.username, store.AuditAction.VIEW, "case", case_id, f"version={v.version}"
        )
        case = parse_case(v.document)
        return _assessment_view(
            request,
            user,
            db,
            case,
            v.assessment,
            record=rec,
            version=v,
            pdf_url=f"/cases/{case_id}/report.pdf?version={v.version}",
            decisions=meetings.decisions_for_case(db, case_id, user.centre),
        )

    @r.get("/cases/{case_id}/report.pdf")
    def case_pdf(
        user: CurrentUser,
        db: DB,
        case_id: str,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> Response:
        _, v = store.get_version(db, case_id, user.centre, version)
        case = parse_case(v.document)
        pdf = render_report_pdf(case, stored_or_fresh(case, v.assessment), f"{case_id}:{v.version}")
        store.audit(
            db,
            user.username,
            store.AuditAction.EXPORT,
            "report.pdf",
            case_id,
            f"version={v.version}",
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": _pdf_name(case_id, v.version)},
        )

    @r.get("/cases/{case_id}/edit")
    def edit_form(request: Request, user: Clinician, db: DB, case_id: str) -> HTMLResponse:
        rec, v = store.get_version(db, case_id, user.centre)
        store.audit(
            db, user.username, store.AuditAction.VIEW, "case", case_id, f"version={v.version}"
        )
        return _form_page(
            request,
            user,
            data=v.document,
            problems=[],
            action=f"/cases/{case_id}/edit",
            title=f"Edit case {rec.label} (version {v.version})",
            base_version=v.version,
        )

    @r.post("/cases/{case_id}/edit")
    def save_edit(
        request: Request, user: Clinician, db: DB, case_id: str, form: SubmittedForm
    ) -> Response:
        rec = store.get_case(db, case_id, user.centre)
        doc, form = _submitted(form)
        base_raw = form.get("base_version")
        try:
            base_version = int(base_raw) if isinstance(base_raw, str) else 0
        except ValueError:
            base_version = 0
        title = f"Edit case {rec.label}"
        action = f"/cases/{case_id}/edit"
        button = _button_pressed(form)
        if button and base_version >= 1:
            return _after_button(
                request,
                user,
                form,
                button,
                target=action,
                title=title,
                base_version=base_version,
            )
        if base_version < 1:
            return _form_page(
                request,
                user,
                data=doc,
                problems=[FieldProblem("base_version", "missing or not a number")],
                action=action,
                title=title,
                base_version=rec.current_version,
                status=422,
            )
        try:
            case = forms.validate_document(doc)
        except CaseValidationError as exc:
            return _form_page(
                request,
                user,
                data=doc,
                problems=exc.problems,
                action=action,
                title=title,
                base_version=base_version,
                status=422,
            )
        try:
            store.save_version(
                db,
                case_id,
                base_version,
                case_to_dict(case),
                label=case.patient.id,
                username=user.username,
                centre=user.centre,
                source="form",
                assessed=assessed_for_store(case),
                reason=reason if isinstance(reason := form.get("reason"), str) else None,
            )
        except store.VersionConflict as exc:
            return _form_page(
                request,
                user,
                data=doc,
                problems=[],
                action=action,
                title=title,
                base_version=base_version,
                status=409,
                conflict=str(exc),
            )
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    @r.get("/cases/{case_id}/history")
    def case_history(request: Request, user: CurrentUser, db: DB, case_id: str) -> HTMLResponse:
        rec = store.get_case(db, case_id, user.centre)
        ordered = list(store.history(db, case_id, user.centre))
        changed = [
            case_changes(ordered[i - 1].document if i else None, v.document)
            for i, v in enumerate(ordered)
        ]
        rows = list(reversed(list(zip(ordered, changed, strict=True))))
        store.audit(db, user.username, store.AuditAction.VIEW, "history", case_id, None)
        return page(
            request,
            "history.html",
            user,
            record=rec,
            versions=[v for v, _ in rows],
            rows=rows,
            decisions=meetings.decisions_for_case(db, case_id, user.centre),
        )

    @r.get("/cds/assessments/{snapshot_id}")
    def cds_assessment(
        request: Request, user: CurrentUser, db: DB, snapshot_id: str
    ) -> HTMLResponse:
        snap = store.get_cds_snapshot(db, snapshot_id, user.centre)
        store.audit(db, user.username, store.AuditAction.VIEW, "cds_assessment", snapshot_id, None)
        return _assessment_view(
            request,
            user,
            db,
            parse_case(snap.document),
            None,
            record=None,
            version=None,
            snapshot=snap,
            pdf_url=None,
        )

    @r.get("/tokens")
    def tokens(request: Request, user: CurrentUser, db: DB) -> HTMLResponse:
        return page(
            request,
            "tokens.html",
            user,
            tokens=store.list_tokens(db, store.get_user(db, user.user_id)),  # type: ignore[arg-type]
            new_secret=None,
        )

    @r.post("/tokens")
    def create_token(
        request: Request,
        user: CurrentUser,
        db: DB,
        name: Annotated[str, Form(max_length=100)] = "token",
    ) -> HTMLResponse:
        account = store.get_user(db, user.user_id)
        assert account is not None
        _, secret = store.create_api_token(db, account, name)
        return page(
            request, "tokens.html", user, tokens=store.list_tokens(db, account), new_secret=secret
        )

    @r.post("/tokens/{token_id}/revoke")
    def revoke(user: CurrentUser, db: DB, token_id: int) -> Response:
        account = store.get_user(db, user.user_id)
        assert account is not None
        store.revoke_token(db, account, token_id)
        return RedirectResponse("/tokens", status_code=303)

    @r.get("/audit")
    def audit_log(request: Request, user: Admin, db: DB) -> HTMLResponse:
        return page(request, "audit.html", user, events=store.audit_events(db))

    return r


def _pdf_name(case_id: str, version: int) -> str:
    return f'attachment; filename="rhabdo-{case_id[:8]}-v{version}.pdf"'
