"""CDS Hooks 2.0: discovery, the ``patient-view`` service and its feedback endpoint.

Specification: ``shared/fixtures/cds-hooks-2.0/specification.md`` (Discovery, Calling a CDS
Service, Providing FHIR Resources, CDS Service Response, Feedback, Trusting CDS Clients) and
``hook-patient-view.md``.  Every request body is validated against the JSON Schemas in
``service/schemas`` before use; every response is validated before it is sent (configurable).

Client authentication (spec section *Trusting CDS Clients*): the service and feedback
endpoints require ``Authorization: Bearer <JWT>`` signed with an asymmetric algorithm by a key
from a configured issuer's JWK Set; ``iss`` must be on the allow-list, ``aud`` must be the URL of
the endpoint called, ``exp``/``iat``/``jti`` are required, and a ``jti`` is accepted once.  Keys are
configured out of band; ``jku`` URLs are never fetched.  Discovery is public.

Cards (indicators in increasing urgency ``info`` < ``warning`` < ``critical``):
* a summary card (``info``): stage, clinical group, risk group(s) and relapse timing, with a
  link to the full assessment in rhabdo;
* a ``warning`` card for each biopsy recommendation of strength *recommended*;
* a card for each dose-threshold signal: an exposure finding whose details report a threshold
  reached, or a recommendation of strength *caution* (``warning``) or *avoid* (``critical``)
  that rests on an exposure finding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from rhabdo.service import store
from rhabdo.service.auth import DB
from rhabdo.service.cds_schemas import problems, validator
from rhabdo.service.settings import Settings, TrustedIssuer

log = logging.getLogger("rhabdo.service.cds")

PATIENT_VIEW_ID = "rhabdo-patient-view"

#: Prefetch templates of the patient-view service: the patient and the resources the FHIR
#: mapping reads (primary and secondary cancer conditions, staging/genomic/disease-status
#: observations, procedures and radiotherapy, chemotherapy administrations and requests, and the
#: care plans that group them into treatment lines).
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "carePlans": "CarePlan?patient={{context.patientId}}",
}

#: JWS algorithms accepted: asymmetric only (the spec forbids ``none`` and HMAC).
ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)

OVERRIDE_REASON_SYSTEM = "https://rhabdo.org/fhir/CodeSystem/cds-override-reason"
OVERRIDE_REASONS = [
    {
        "system": OVERRIDE_REASON_SYSTEM,
        "code": "already-addressed",
        "display": "Already done or planned",
    },
    {
        "system": OVERRIDE_REASON_SYSTEM,
        "code": "not-applicable",
        "display": "Does not apply to this patient",
    },
    {
        "system": OVERRIDE_REASON_SYSTEM,
        "code": "team-decision",
        "display": "Tumour board decided otherwise",
    },
]

SUMMARY_MAX_CHARS = 139


class JwtRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReplayCache:
    """``jti`` values seen until their token expires (a token is accepted once)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, issuer: str, jti: str, exp: float) -> bool:
        now = time.time()
        key = f"{issuer}\x00{jti}"
        with self._lock:
            if len(self._seen) > 10000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = exp
            return True


def _trusted(settings: Settings, issuer: object) -> TrustedIssuer:
    for candidate in settings.cds_trusted_issuers:
        if candidate.issuer == issuer:
            return candidate
    raise JwtRefused("issuer is not on the allow-list")


@lru_cache(maxsize=64)
def _keyset(jwks_json: str) -> Any:
    """The parsed JWK Set of an issuer (parsing a key costs more than verifying with it)."""
    import jwt

    return jwt.PyJWKSet.from_dict(json.loads(jwks_json))


def verify_client_jwt(
    token: str, settings: Settings, audiences: list[str], replay: ReplayCache
) -> dict[str, Any]:
    """Check a CDS client's JWT as *Trusting CDS Clients* requires; return its claims."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise JwtRefused("not a well-formed JWT") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise JwtRefused(f"algorithm {alg!r} is not accepted (asymmetric algorithms only)")
    if str(header.get("typ", "")).upper() != "JWT":
        raise JwtRefused("header typ must be JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwtRefused("header kid is required")
    issuer = _trusted(settings, unverified.get("iss"))
    try:
        key = _keyset(json.dumps(issuer.jwks, sort_keys=True))[kid]
    except (jwt.PyJWTError, KeyError):
        raise JwtRefused("no configured key of this issuer has that kid") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=audiences,
            issuer=issuer.issuer,
            leeway=30,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise JwtRefused("token has expired") from None
    except jwt.InvalidAudienceError:
        raise JwtRefused("audience is not this endpoint") from None
    except jwt.InvalidSignatureError:
        raise JwtRefused("signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise JwtRefused(f"token refused ({type(exc).__name__})") from None
    if float(claims["exp"]) - float(claims["iat"]) > settings.cds_jwt_max_lifetime_s:
        raise JwtRefused("token lifetime is longer than allowed")
    if not replay.claim(issuer.issuer, str(claims["jti"]), float(claims["exp"])):
        raise JwtRefused("jti was already used (replay)")
    return claims


def authenticate_client(request: Request, audiences: list[str]) -> TrustedIssuer | None:
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        if settings.cds_require_jwt:
            raise JwtRefused("Authorization: Bearer <JWT> is required")
        return None
    claims = verify_client_jwt(header[7:].strip(), settings, audiences, request.app.state.jti_cache)
    return _trusted(settings, claims["iss"])


# ---------------------------------------------------------------- FHIR data


class PreconditionFailed(Exception):
    """The FHIR data needed could not be obtained (spec: 412 Precondition Failed)."""


def _resources(value: Any) -> list[dict[str, Any]]:
    """The resources in one prefetch value (a resource or a searchset Bundle)."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [
            e["resource"]
            for e in value.get("entry", []) or []
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") != "OperationOutcome"
        ]
    if value.get("resourceType") in (None, "OperationOutcome"):
        return []
    return [value]


def _fetch(request: Request, body: dict[str, Any], query: str) -> Any:
    """Read one prefetch query from the client's FHIR server with the given access token."""
    import httpx

    settings: Settings = request.app.state.settings
    base = str(body["fhirServer"]).rstrip("/")
    token = body["fhirAuthorization"]["access_token"]
    url = f"{base}/{query}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    with httpx.Client(
        transport=request.app.state.fhir_transport, timeout=settings.fhir_fetch_timeout_s
    ) as client:
        try:
            response = client.get(url, headers=headers)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        # Follow at most four further pages of a search.
        pages = 0
        while isinstance(data, dict) and data.get("resourceType") == "Bundle" and pages < 4:
            nxt = next(
                (
                    ln.get("url")
                    for ln in data.get("link", []) or []
                    if ln.get("relation") == "next"
                ),
                None,
            )
            if not nxt or not str(nxt).startswith(base):
                break
            pages += 1
            try:
                more = client.get(str(nxt), headers=headers)
                page = more.json() if more.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                break
            if not isinstance(page, dict):
                break
            data = {
                **data,
                "entry": (data.get("entry") or []) + (page.get("entry") or []),
                "link": page.get("link", []),
            }
        return data


def gather_bundle(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """A collection Bundle of everything prefetched or fetched for the patient in context."""
    patient_id = body["context"]["patientId"]
    prefetch = body.get("prefetch") or {}
    can_fetch = bool(body.get("fhirAuthorization") and body.get("fhirServer"))
    resources: list[dict[str, Any]] = []
    for key, template in PREFETCH.items():
        value = prefetch.get(key, ...) if isinstance(prefetch, dict) else ...
        got = _resources(value) if value is not ... else []
        answered = value is None or ((value is not ... and bool(got)) or _is_empty_search(value))
        if not answered and can_fetch:
            got = _resources(
                _fetch(request, body, template.replace("{{context.patientId}}", patient_id))
            )
        resources.extend(got)
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        raise PreconditionFailed(
            "the Patient resource was neither prefetched nor retrievable with fhirAuthorization"
        )
    base = str(body.get("fhirServer") or "urn:rhabdo:cds-prefetch").rstrip("/")
    seen: set[tuple[str, str]] = set()
    entries = []
    for res in resources:
        ident = (str(res.get("resourceType")), str(res.get("id", "")))
        if ident[1] and ident in seen:
            continue
        seen.add(ident)
        entry: dict[str, Any] = {"resource": res}
        if ident[1]:
            entry["fullUrl"] = f"{base}/{ident[0]}/{ident[1]}"
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _is_empty_search(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.get("resourceType") == "Bundle" and not value.get("entry")
    )


# ---------------------------------------------------------------- cards


def _short(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def display_value(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("label", "display", "value", "name"):
            if key in value and value[key] is not None:
                return display_value(value[key])
        return ", ".join(f"{k} {display_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def finding_text(finding: Any) -> str:
    """A finding's answer for a card: its value, or what is still possible and what would decide."""
    status = str(finding.status)
    if status == "determined":
        return display_value(finding.value)
    if status == "indeterminate":
        cands = " or ".join(display_value(c) for c in finding.candidates) or "undecided"
        return f"{cands} (needs {', '.join(finding.needs)})"
    return "not applicable"


#: Summary-card findings: (label, id prefix), in the order a tumour board reads them.
SUMMARY_PARTS = (
    ("Stage", "stage."),
    ("Group", "group."),
    ("Risk", "risk."),
    ("Relapse", "relapse.timing"),
)


def _summary_findings(findings: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for label, prefix in SUMMARY_PARTS:
        for fid, f in findings.items():
            if fid.startswith(prefix):
                out.append((label, f))
    return out


def _short_value(f: Any) -> str:
    status = str(f.status)
    if status == "determined":
        return display_value(f.value)
    if status == "indeterminate":
        return "/".join(display_value(c) for c in f.candidates) + "?" if f.candidates else "unknown"
    return "n/a"


def _detail_lines(items: Iterable[tuple[str, Any]]) -> str:
    lines = []
    for label, f in items:
        lines.append(f"- **{label}** (`{f.id}`): {finding_text(f)} — {f.reason}")
    return "\n".join(lines)


def build_cards(
    assessment: Any, *, source: dict[str, Any], assessment_url: str, unmapped_count: int
) -> list[dict[str, Any]]:
    """The cards of one assessment (see the module docstring for which card and indicator)."""
    findings: dict[str, Any] = dict(assessment.findings)
    parts = _summary_findings(findings)
    seen_labels: dict[str, list[str]] = {}
    for label, f in parts:
        seen_labels.setdefault(label, []).append(_short_value(f))
    summary = "; ".join(f"{label} {' / '.join(vals)}" for label, vals in seen_labels.items())
    detail = _detail_lines(parts) or "No staging, group, risk or relapse findings."
    if assessment.missing_inputs:
        detail += "\n\n**Would decide more:** " + ", ".join(
            f"`{m.field}`" for m in assessment.missing_inputs
        )
    if unmapped_count:
        detail += (
            f"\n\n{unmapped_count} coded item(s) in the record could not be mapped "
            "and were not used."
        )
    link = {
        "label": "Open the full assessment in rhabdo",
        "url": assessment_url,
        "type": "absolute",
    }
    cards: list[dict[str, Any]] = [
        {
            "uuid": str(uuid.uuid4()),
            "summary": _short("RMS: " + (summary or "assessment available")),
            "detail": detail,
            "indicator": "info",
            "source": source,
            "links": [link],
        }
    ]
    for rec in assessment.recommendations:
        category = str(rec.category)
        strength = str(rec.strength)
        exposure_based = any(str(fid).startswith("exposure.") for fid in rec.based_on_findings)
        if category == "biopsy" and strength == "recommended":
            cards.append(
                _urgent_card(
                    "Biopsy advised: ",
                    rec.statement,
                    rec.reason,
                    rec.citations,
                    "warning",
                    source,
                    link,
                )
            )
        elif exposure_based and strength in ("caution", "avoid"):
            indicator = "critical" if strength == "avoid" else "warning"
            cards.append(
                _urgent_card(
                    "Dose threshold: ",
                    rec.statement,
                    rec.reason,
                    rec.citations,
                    indicator,
                    source,
                    link,
                )
            )
    for fid, f in findings.items():
        if fid.startswith("exposure.") and _threshold_reached(f.details):
            cards.append(
                _urgent_card(
                    "Dose threshold reached: ",
                    finding_text(f),
                    f.reason,
                    f.citations,
                    "warning",
                    source,
                    link,
                )
            )
    return cards


def _threshold_reached(details: dict[str, Any]) -> bool:
    return any("threshold" in str(k) and v is True for k, v in details.items())


def _urgent_card(
    prefix: str,
    statement: str,
    reason: str,
    citations: list[str],
    indicator: str,
    source: dict[str, Any],
    link: dict[str, Any],
) -> dict[str, Any]:
    refs = f"\n\nSources: {', '.join(citations)}" if citations else ""
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _short(prefix + statement),
        "detail": f"{statement}\n\n{reason}{refs}",
        "indicator": indicator,
        "source": source,
        "overrideReasons": OVERRIDE_REASONS,
        "links": [link],
    }


# ---------------------------------------------------------------- endpoints


def discovery_document(settings: Settings) -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": "patient-view",
                "title": "rhabdo: relapsed/refractory rhabdomyosarcoma summary",
                "description": (
                    "Stage, clinical group, risk group and relapse timing of a patient with "
                    "rhabdomyosarcoma, with urgent items (biopsy advised, dose thresholds) and a "
                    "link to the full evidence-linked assessment."
                ),
                "id": PATIENT_VIEW_ID,
                "prefetch": dict(PREFETCH),
                "usageRequirements": (
                    "Requests must carry a JWT signed by a configured CDS client key. Without "
                    "prefetch the service reads the FHIR server with the fhirAuthorization given."
                ),
            }
        ]
    }


def _bad_request(errors: list[str]) -> HTTPException:
    return HTTPException(
        status_code=400,
        detail=[
            {"field": e.split(": ", 1)[0], "problem": e.split(": ", 1)[-1]} for e in errors[:20]
        ],
    )


def _validated(request: Request, name: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` if it meets schema ``name``; a response breaking the spec is never sent."""
    if request.app.state.settings.validate_cds_responses and not validator(name).is_valid(document):
        errs = problems(name, document)
        log.error("CDS %s response failed its schema (%d problem(s))", name, len(errs))
        raise HTTPException(status_code=500, detail="response failed schema validation")
    return document


def _checked(request: Request, name: str, document: dict[str, Any]) -> JSONResponse:
    return JSONResponse(_validated(request, name, document))


def router() -> APIRouter:
    r = APIRouter(tags=["CDS Hooks"])

    @r.get("/cds-services", summary="CDS Hooks discovery")
    def discovery(request: Request) -> JSONResponse:
        return _checked(
            request, "discovery-response", discovery_document(request.app.state.settings)
        )

    @r.post(f"/cds-services/{PATIENT_VIEW_ID}", summary="patient-view service")
    def patient_view(request: Request, db: DB, body: dict[str, Any]) -> JSONResponse:
        settings: Settings = request.app.state.settings
        url = f"{settings.public_base}/cds-services/{PATIENT_VIEW_ID}"
        try:
            client = authenticate_client(request, [url])
        except JwtRefused as exc:
            return _unauthorised(exc.reason)
        errs = problems("request", body)
        if not errs:
            errs = [f"context/{e}" for e in problems("patient-view-context", body["context"])]
        if not errs and body["hook"] != "patient-view":
            errs = ["hook: this service answers the patient-view hook only"]
        if errs:
            raise _bad_request(errs)
        try:
            bundle = gather_bundle(request, body)
        except PreconditionFailed as exc:
            raise HTTPException(status_code=412, detail=str(exc)) from None
        # Cards are checked against the response schema when they are first built.
        return JSONResponse(_patient_view_cards(request, db, body, bundle, client))

    @r.post(f"/cds-services/{PATIENT_VIEW_ID}/feedback", summary="patient-view feedback")
    def feedback(request: Request, db: DB, body: dict[str, Any]) -> JSONResponse:
        settings: Settings = request.app.state.settings
        base = f"{settings.public_base}/cds-services/{PATIENT_VIEW_ID}"
        try:
            client = authenticate_client(request, [base + "/feedback", base])
        except JwtRefused as exc:
            return _unauthorised(exc.reason)
        errs = problems("feedback", body)
        if errs:
            raise _bad_request(errs)
        count = store.save_feedback(
            db, PATIENT_VIEW_ID, body["feedback"], client.issuer if client else None
        )
        store.audit(
            db,
            client.issuer if client else None,
            store.AuditAction.CDS_FEEDBACK,
            "cds",
            PATIENT_VIEW_ID,
            f"items={count}",
        )
        return JSONResponse({"stored": count})

    return r


def _unauthorised(reason: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"CDS client authentication failed: {reason}"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class AssessmentCache:
    """Recent assessments keyed by a digest of the FHIR data, the client and the day.

    ``assess`` is a pure function of the case and the date, so an EHR re-opening a chart whose
    data have not changed gets the same assessment without re-reading and re-assessing it.
    Entries live in process memory only and never in logs.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[str, Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(bundle: dict[str, Any], client: TrustedIssuer | None) -> str:
        blob = json.dumps(bundle, sort_keys=True, separators=(",", ":"), default=str)
        who = f"{client.issuer if client else ''}\x00{client.centre if client else ''}"
        day = dt.date.today().isoformat()
        return hashlib.sha256(f"{who}\x00{day}\x00{blob}".encode()).hexdigest()

    def get(self, key: str) -> tuple[str, Any, int] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: str, value: tuple[str, Any, int]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


def _patient_view_cards(
    request: Request,
    db: Any,
    body: dict[str, Any],
    bundle: dict[str, Any],
    client: TrustedIssuer | None,
) -> dict[str, Any]:
    from rhabdo.errors import CaseValidationError

    settings: Settings = request.app.state.settings
    source = {"label": "rhabdo decision support", "url": settings.public_base + "/"}
    cache: AssessmentCache = request.app.state.cds_cache
    key = cache.key(bundle, client)
    cached = cache.get(key)
    if cached is None:
        try:
            snapshot_id, assessment, unmapped_count = _assess_bundle(db, body, bundle, client, key)
        except CaseValidationError as exc:
            fields = sorted({p.field for p in exc.problems})[:10]
            return _validated(
                request,
                "response",
                {
                    "cards": [
                        {
                            "uuid": str(uuid.uuid4()),
                            "summary": "rhabdo could not read this record; no assessment was made",
                            "detail": "The FHIR data did not form a valid case. Fields: "
                            + ", ".join(f"`{f}`" for f in fields),
                            "indicator": "warning",
                            "source": source,
                        }
                    ]
                },
            )
        url = f"{settings.public_base}/cds/assessments/{snapshot_id}"
        cards = build_cards(
            assessment, source=source, assessment_url=url, unmapped_count=unmapped_count
        )
        _validated(request, "response", {"cards": cards})
        cached = (snapshot_id, cards, unmapped_count)
        cache.put(key, cached)
        store.audit(
            db,
            client.issuer if client else None,
            store.AuditAction.CDS_CALL,
            "cds_assessment",
            snapshot_id,
            None,
        )
    # Same data, same cards; each response gets its own card uuids (for feedback).
    return {"cards": [{**card, "uuid": str(uuid.uuid4())} for card in cached[1]]}


def _assess_bundle(
    db: Any, body: dict[str, Any], bundle: dict[str, Any], client: TrustedIssuer | None, key: str
) -> tuple[str, Any, int]:
    """Read the case from the FHIR data, assess it and keep it for the card's link."""
    from rhabdo.case.io import case_to_dict
    from rhabdo.engine import assess
    from rhabdo.interop.fhir_import import case_from_bundle
    from rhabdo.service.db import CdsSnapshot

    imported = case_from_bundle(bundle)
    assessment = assess(imported.case)
    snapshot_id = str(uuid.UUID(key[:32]))
    if db.get(CdsSnapshot, snapshot_id) is None:
        db.add(
            CdsSnapshot(
                id=snapshot_id,
                hook_instance=str(body["hookInstance"])[:100],
                issuer=client.issuer if client else None,
                centre=client.centre if client else None,
                document=case_to_dict(imported.case),
                card_uuids=[],
            )
        )
        db.commit()
    return snapshot_id, assessment, len(imported.unmapped or [])
