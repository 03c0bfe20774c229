"""The JSON API (``/api/v1``): assess without storing; create, read, list and version cases;
assessments and reports; FHIR Bundle import.  Authentication: a per-user API token
(``Authorization: Bearer rhabdo_...``) or a browser session with its CSRF header."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rhabdo.service import store
from rhabdo.service.assessing import (
    assess_case,
    assessed_for_store,
    render_report_html,
    render_report_pdf,
    stored_or_fresh,
)
from rhabdo.service.auth import DB, Clinician, CurrentUser
from rhabdo.service.bodies import OffLoopJsonRoute
from rhabdo.service.db import CaseRecord, CaseVersion

CaseDocument = Annotated[
    dict[str, Any], Field(description="A case in the rhabdo case format (see `rhabdo schema`).")
]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: CaseDocument


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_version: int = Field(ge=1, le=1_000_000, description="The version the edit started from.")
    case: CaseDocument


class FhirImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bundle: dict[str, Any]
    store: bool = False


class CaseSummary(BaseModel):
    id: str
    label: str
    current_version: int
    updated_at: str


class VersionOut(BaseModel):
    case_id: str
    version: int
    saved_by: str
    saved_at: str
    source: str
    engine_version: str | None
    knowledge_version: str | None


class CaseOut(VersionOut):
    id: str
    label: str
    current_version: int
    case: dict[str, Any]


def _summary(r: CaseRecord) -> CaseSummary:
    return CaseSummary(
        id=r.id,
        label=r.label,
        current_version=r.current_version,
        updated_at=r.updated_at.isoformat(),
    )


def _version(v: CaseVersion) -> VersionOut:
    return VersionOut(
        case_id=v.case_id,
        version=v.version,
        saved_by=v.saved_by,
        saved_at=v.saved_at.isoformat(),
        source=v.source,
        engine_version=v.engine_version,
        knowledge_version=v.knowledge_version,
    )


def _case_out(r: CaseRecord, v: CaseVersion) -> CaseOut:
    return CaseOut(
        **_version(v).model_dump(),
        id=r.id,
        label=r.label,
        current_version=r.current_version,
        case=v.document,
    )


def router() -> APIRouter:
    from rhabdo.case.io import case_to_dict, parse_case

    r = APIRouter(prefix="/api/v1", tags=["API"], route_class=OffLoopJsonRoute)

    @r.post("/assess", summary="Assess a case without storing it")
    def assess_only(user: CurrentUser, db: DB, body: CaseCreate) -> JSONResponse:
        case = parse_case(body.case)
        assessment = assess_case(case)
        store.audit(db, user.username, store.AuditAction.ASSESS, "case", None, "not stored")
        return JSONResponse(assessment.model_dump(mode="json"))

    @r.get(
        "/cases",
        summary="List cases (newest first), one page at a time",
        description="`X-Total-Count` gives the number of matching cases; a `Link` header "
        'with rel="next" gives the next page while there is one.',
    )
    def list_cases(
        request: Request,
        response: Response,
        user: CurrentUser,
        db: DB,
        q: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> list[CaseSummary]:
        rows = store.list_cases(db, user.centre, q, limit=limit, offset=offset)
        total = store.count_cases(db, user.centre, q)
        store.audit(
            db,
            user.username,
            store.AuditAction.LIST,
            "cases",
            None,
            f"search=yes offset={offset} shown={len(rows)}"
            if q
            else f"offset={offset} shown={len(rows)}",
        )
        response.headers["X-Total-Count"] = str(total)
        if offset + len(rows) < total:
            following = request.url.include_query_params(offset=offset + len(rows), limit=limit)
            response.headers["Link"] = f'<{following}>; rel="next"'
        return [_summary(c) for c in rows]

    @r.post("/cases", status_code=201, summary="Create a case (version 1)")
    def create(user: Clinician, db: DB, body: CaseCreate) -> CaseOut:
        case = parse_case(body.case)
        v = store.create_case(
            db,
            case_to_dict(case),
            label=case.patient.id,
            username=user.username,
            centre=user.centre,
            source="api",
            assessed=assessed_for_store(case),
        )
        return _case_out(store.get_case(db, v.case_id, user.centre), v)

    @r.get("/cases/{case_id}", summary="The current version of a case")
    def read(user: CurrentUser, db: DB, case_id: str) -> CaseOut:
        rec, v = store.get_version(db, case_id, user.centre)
        store.audit(
            db, user.username, store.AuditAction.VIEW, "case", case_id, f"version={v.version}"
        )
        return _case_out(rec, v)

    @r.put(
        "/cases/{case_id}",
        summary="Save an edit as a new version (409 if base_version is stale)",
        responses={409: {"description": "The case was changed since base_version."}},
    )
    def update(user: Clinician, db: DB, case_id: str, body: CaseUpdate) -> CaseOut:
        case = parse_case(body.case)
        v = store.save_version(
            db,
            case_id,
            body.base_version,
            case_to_dict(case),
            label=case.patient.id,
            username=user.username,
            centre=user.centre,
            source="api",
            assessed=assessed_for_store(case),
        )
        return _case_out(store.get_case(db, case_id, user.centre), v)

    @r.get("/cases/{case_id}/versions", summary="Every saved version of a case")
    def versions(user: CurrentUser, db: DB, case_id: str) -> list[VersionOut]:
        rows = store.history(db, case_id, user.centre)
        store.audit(db, user.username, store.AuditAction.VIEW, "history", case_id, None)
        return [_version(v) for v in rows]

    @r.get("/cases/{case_id}/versions/{version}", summary="One version of a case")
    def read_version(user: CurrentUser, db: DB, case_id: str, version: int) -> CaseOut:
        rec, v = store.get_version(db, case_id, user.centre, version)
        store.audit(
            db, user.username, store.AuditAction.VIEW, "case", case_id, f"version={v.version}"
        )
        return _case_out(rec, v)

    def _assessed(
        user: Any, db: Any, case_id: str, version: int | None
    ) -> tuple[Any, Any, CaseVersion]:
        _, v = store.get_version(db, case_id, user.centre, version)
        case = parse_case(v.document)
        return case, stored_or_fresh(case, v.assessment), v

    @r.get("/cases/{case_id}/assessment", summary="The assessment of a version (default: current)")
    def assessment(
        user: CurrentUser, db: DB, case_id: str, version: Annotated[int | None, Query(ge=1)] = None
    ) -> JSONResponse:
        _, a, v = _assessed(user, db, case_id, version)
        store.audit(
            db, user.username, store.AuditAction.VIEW, "assessment", case_id, f"version={v.version}"
        )
        return JSONResponse(a.model_dump(mode="json"))

    @r.get("/cases/{case_id}/report.html", response_class=HTMLResponse, summary="HTML report")
    def report_html(
        user: CurrentUser, db: DB, case_id: str, version: Annotated[int | None, Query(ge=1)] = None
    ) -> HTMLResponse:
        case, a, v = _assessed(user, db, case_id, version)
        store.audit(
            db,
            user.username,
            store.AuditAction.EXPORT,
            "report.html",
            case_id,
            f"version={v.version}",
        )
        return HTMLResponse(render_report_html(case, a, f"{case_id}:{v.version}"))

    @r.get(
        "/cases/{case_id}/report.pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
        summary="PDF report",
    )
    def report_pdf(
        user: CurrentUser, db: DB, case_id: str, version: Annotated[int | None, Query(ge=1)] = None
    ) -> Response:
        case, a, v = _assessed(user, db, case_id, version)
        store.audit(
            db,
            user.username,
            store.AuditAction.EXPORT,
            "report.pdf",
            case_id,
            f"version={v.version}",
        )
        return Response(
            render_report_pdf(case, a, f"{case_id}:{v.version}"),
            media_type="application/pdf",
            headers={"Content-Disposition": _pdf_name(case_id, v.version)},
        )

    @r.post("/import/fhir", summary="Read a case from a FHIR R4 Bundle (optionally store it)")
    def import_fhir(user: CurrentUser, db: DB, body: Annotated[FhirImport, Body()]) -> JSONResponse:
        from rhabdo.interop.fhir_import import case_from_bundle

        if body.store and not user.may(store.Role.CLINICIAN):
            from rhabdo.service.auth import Forbidden

            raise Forbidden("storing a case needs the clinician role")
        result = case_from_bundle(body.bundle)
        doc = case_to_dict(result.case)
        out: dict[str, Any] = {"case": doc, "unmapped": _plain(result.unmapped)}
        if body.store:
            v = store.create_case(
                db,
                doc,
                label=result.case.patient.id,
                username=user.username,
                centre=user.centre,
                source="fhir",
                assessed=assessed_for_store(result.case),
            )
            out["id"], out["version"] = v.case_id, v.version
        store.audit(db, user.username, store.AuditAction.IMPORT, "fhir", out.get("id"), None)
        return JSONResponse(out)

    return r


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return _plain(dataclasses.asdict(value))
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _pdf_name(case_id: str, version: int) -> str:
    return f'attachment; filename="rhabdo-{case_id[:8]}-v{version}.pdf"'
