"""Tumour-board meeting pages: the list of meetings, a meeting's agenda, the full-screen
presentation of each case's page one with the decision form, and the meeting summary PDF.

Routes are plain functions, so FastAPI runs them in its thread pool: the database calls and the
WeasyPrint rendering of the summary never block the event loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from rhabdo.service import meetings, store
from rhabdo.service.assessing import (
    EngineUnavailable,
    render_report_html,
    report_fragment,
    stored_or_fresh,
)
from rhabdo.service.auth import DB, Clinician, CurrentUser, Principal
from rhabdo.service.bodies import OffLoopJsonRoute
from rhabdo.service.db import Meeting

#: Sections of the report that make up its first page (the header and the summary); the
#: first section with another id starts the detail a reader can skip to.
# How many cases the "add a case" list offers at once; a search by patient id reaches the rest.
CANDIDATES_SHOWN = 100
PAGE_ONE_SECTIONS = ("header", "page-one", "summary", "glance")
_SECTION = re.compile(r'<section\b[^>]*\bid="([^"]+)"', re.I)
_SECTION_TAG = re.compile(r"<(/?)section\b", re.I)
_HEADER = re.compile(r"<header\b.*?</header>", re.S | re.I)
_STYLES = re.compile(r"<style[^>]*>.*?</style>", re.S | re.I)


def _element_at(html: str, start: int) -> str:
    """The ``<section>`` element that opens at ``start``, up to its matching close tag."""
    depth = 0
    for m in _SECTION_TAG.finditer(html, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start : html.index(">", m.end()) + 1]
    return html[start:]


def page_one(report_html: str) -> str:
    """The report's page one (its styles, header and decision summary) from its full HTML.

    When the report marks its summary as ``<section id="page-one">`` exactly that section is
    taken; an older report is cut before its first detail section."""
    fragment = report_fragment(report_html)
    marked = re.search(r'<section\b[^>]*\bid="page-one"', fragment, re.I)
    if marked:
        header = _HEADER.search(fragment)
        return (
            "".join(_STYLES.findall(fragment))
            + (header.group(0) if header else "")
            + _element_at(fragment, marked.start())
        )
    for m in _SECTION.finditer(fragment):
        if m.group(1) not in PAGE_ONE_SECTIONS:
            return fragment[: m.start()]
    return fragment


def _page_one_for(db: Any, case_id: str, centre: str | None) -> tuple[Any, Any, str | None]:
    """(record, current version, page-one HTML or None when the engine is unavailable)."""
    from rhabdo.case.io import parse_case

    rec, version = store.get_version(db, case_id, centre)
    case = parse_case(version.document)
    try:
        html = page_one(render_report_html(case, stored_or_fresh(case, version.assessment)))
    except EngineUnavailable:
        html = None
    return rec, version, html


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise meetings.MeetingError(
            "meeting_date: not a real date (YYYY-MM-DD), e.g. 2026-12-14"
        ) from None


def router() -> APIRouter:
    from rhabdo.service.web import embedded_report, page, templates

    r = APIRouter(include_in_schema=False, route_class=OffLoopJsonRoute)

    def _meetings_page(
        request: Request, user: Principal, db: Any, status: int = 200, error: str | None = None
    ) -> HTMLResponse:
        return page(
            request,
            "meetings.html",
            user,
            status=status,
            meetings=meetings.list_meetings(db, user.centre),
            error=error,
            today=dt.date.today().isoformat(),
        )

    @r.get("/meetings")
    def list_meetings(request: Request, user: CurrentUser, db: DB) -> HTMLResponse:
        return _meetings_page(request, user, db)

    @r.post("/meetings")
    def create_meeting(
        request: Request,
        user: Clinician,
        db: DB,
        meeting_date: Annotated[str, Form(max_length=40)] = "",
        title: Annotated[str, Form(max_length=400)] = "",
    ) -> Response:
        try:
            meeting = meetings.create_meeting(
                db,
                meeting_date=_parse_date(meeting_date),
                title=title,
                username=user.username,
                centre=user.centre,
            )
        except meetings.MeetingError as exc:
            return _meetings_page(request, user, db, status=422, error=str(exc))
        return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)

    def _agenda_page(
        request: Request,
        user: Principal,
        db: Any,
        meeting: Meeting,
        status: int = 200,
        error: str | None = None,
        find: str = "",
    ) -> HTMLResponse:
        items = meetings.agenda(db, meeting)
        on_agenda = {i.case.id for i in items}
        query = find.strip() or None
        matching = store.list_cases(db, user.centre, query, limit=CANDIDATES_SHOWN + len(on_agenda))
        candidates = [c for c in matching if c.id not in on_agenda][:CANDIDATES_SHOWN]
        more = store.count_cases(db, user.centre, query) - len(on_agenda) > len(candidates)
        return page(
            request,
            "meeting.html",
            user,
            status=status,
            meeting=meeting,
            items=items,
            candidates=candidates,
            candidates_shown=CANDIDATES_SHOWN,
            more_candidates=more,
            find=find,
            error=error,
        )

    @r.get("/meetings/{meeting_id}")
    def show_meeting(
        request: Request,
        user: CurrentUser,
        db: DB,
        meeting_id: str,
        find: Annotated[str, Query(max_length=64)] = "",
    ) -> HTMLResponse:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        store.audit(db, user.username, store.AuditAction.VIEW, "meeting", meeting.id, None)
        return _agenda_page(request, user, db, meeting, find=find)

    @r.post("/meetings/{meeting_id}/cases")
    def add_case(
        request: Request,
        user: Clinician,
        db: DB,
        meeting_id: str,
        case_id: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        try:
            meetings.add_case(db, meeting, case_id, user.username)
        except (store.NotFound, meetings.MeetingError) as exc:
            message = (
                "case: choose a case from the list" if isinstance(exc, store.NotFound) else str(exc)
            )
            return _agenda_page(request, user, db, meeting, status=422, error=message)
        return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)

    @r.post("/meetings/{meeting_id}/cases/{case_id}/remove")
    def remove_case(user: Clinician, db: DB, meeting_id: str, case_id: str) -> Response:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        meetings.remove_case(db, meeting, case_id, user.username)
        return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)

    def _present_page(
        request: Request,
        user: Principal,
        db: Any,
        meeting: Meeting,
        n: int,
        *,
        status: int = 200,
        error: str | None = None,
        draft: dict[str, str] | None = None,
    ) -> HTMLResponse:
        items = meetings.agenda(db, meeting)
        if not items:
            return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)  # type: ignore[return-value]
        n = min(max(n, 1), len(items))
        item = items[n - 1]
        rec, version, summary = _page_one_for(db, item.case.id, meeting.centre)
        store.audit(
            db,
            user.username,
            store.AuditAction.VIEW,
            "case",
            rec.id,
            f"version={version.version} meeting={meeting.id}",
        )
        return page(
            request,
            "present.html",
            user,
            status=status,
            meeting=meeting,
            n=n,
            total=len(items),
            item=item,
            record=rec,
            version=version,
            summary=Markup(embedded_report(summary)) if summary is not None else None,
            history=meetings.decision_history(db, meeting, rec.id),
            error=error,
            draft=draft or {},
        )

    @r.get("/meetings/{meeting_id}/present")
    def present(
        request: Request,
        user: CurrentUser,
        db: DB,
        meeting_id: str,
        n: Annotated[int, Query(ge=1, le=meetings.MAX_AGENDA)] = 1,
    ) -> HTMLResponse:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        return _present_page(request, user, db, meeting, n)

    @r.post("/meetings/{meeting_id}/cases/{case_id}/decision")
    def record_decision(
        request: Request,
        user: Clinician,
        db: DB,
        meeting_id: str,
        case_id: str,
        decision: Annotated[str, Form(max_length=meetings.MAX_DECISION * 2)] = "",
        rationale: Annotated[str, Form(max_length=meetings.MAX_RATIONALE * 2)] = "",
        case_version: Annotated[int, Form(ge=1, le=1_000_000)] = 1,
        base_revision: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
        n: Annotated[int, Form(ge=1, le=meetings.MAX_AGENDA)] = 1,
    ) -> Response:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        try:
            meetings.record_decision(
                db,
                meeting,
                case_id,
                case_version=case_version,
                decision=decision,
                rationale=rationale,
                base_revision=base_revision,
                username=user.username,
            )
        except (meetings.MeetingError, meetings.DecisionConflict) as exc:
            status = 409 if isinstance(exc, meetings.DecisionConflict) else 422
            return _present_page(
                request,
                user,
                db,
                meeting,
                n,
                status=status,
                error=str(exc),
                draft={"decision": decision, "rationale": rationale},
            )
        return RedirectResponse(f"/meetings/{meeting.id}/present?n={n}#decision", status_code=303)

    @r.get("/meetings/{meeting_id}/summary.pdf")
    def summary_pdf(user: CurrentUser, db: DB, meeting_id: str) -> Response:
        meeting = meetings.get_meeting(db, meeting_id, user.centre)
        parts = []
        for item in meetings.agenda(db, meeting):
            rec, version, summary = _page_one_for(db, item.case.id, meeting.centre)
            parts.append((item, rec, version, summary))
        html = (
            templates()
            .get_template("meeting_summary.html")
            .render(meeting=meeting, parts=parts, generated=dt.date.today().isoformat())
        )
        pdf = render_meeting_pdf(html)
        store.audit(db, user.username, store.AuditAction.EXPORT, "meeting.pdf", meeting.id, None)
        name = f"tumour-board-{meeting.meeting_date.isoformat()}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return r


def render_meeting_pdf(html: str) -> bytes:
    """The meeting summary as PDF (WeasyPrint; called from a worker thread, never the loop)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:
        raise EngineUnavailable(f"the PDF renderer cannot be loaded ({exc.name})") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf
