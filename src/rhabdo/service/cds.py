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
* a ``critical`` card first for each emergency warning (spinal cord compression recorded);
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
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from rhabdo.interop.fhir_diagnosis import (
    DiagnosisEvidence,
    Verdict,
    chart_diagnosis,
    conditions_of,
)
from rhabdo.service import store
from rhabdo.service.auth import DB
from rhabdo.service.bodies import OffLoopJsonRoute
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


_EC_ALGORITHM = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_RSA_ALGORITHMS = frozenset(a for a in ALLOWED_ALGORITHMS if a[:2] in ("RS", "PS"))


def key_algorithms(jwk: dict[str, Any]) -> frozenset[str]:
    """The algorithms a configured key may verify: its ``alg`` when the JWK names one, else
    the one its curve fixes (EC) or the RSA family; nothing for any other key type.

    Pinning stops a token from choosing an algorithm that does not fit the key (RS256 against
    an EC key), which must be a refusal, never a crash.
    """
    named = jwk.get("alg")
    kty = jwk.get("kty")
    if kty == "EC":
        fits = {_EC_ALGORITHM[jwk["crv"]]} if jwk.get("crv") in _EC_ALGORITHM else set()
    elif kty == "RSA":
        fits = set(_RSA_ALGORITHMS)
    else:
        fits = set()
    if isinstance(named, str):
        fits &= {named}
    return frozenset(fits)


def verify_client_jwt(
    token: str, settings: Settings, audiences: list[str], replay: ReplayCache
) -> dict[str, Any]:
    """Check a CDS client's JWT as *Trusting CDS Clients* requires; return its claims."""
    claims = verify_client_jwt_signature(token, settings, audiences)
    claim_jti(claims, replay)
    return claims


def claim_jti(claims: dict[str, Any], replay: ReplayCache) -> None:
    """Refuse a token whose ``jti`` this issuer has used before (one use per token)."""
    if not replay.claim(str(claims["iss"]), str(claims["jti"]), float(claims["exp"])):
        raise JwtRefused("jti was already used (replay)")


def verify_client_jwt_signature(
    token: str, settings: Settings, audiences: list[str]
) -> dict[str, Any]:
    """Everything *Trusting CDS Clients* requires of a JWT except the one-time ``jti``:
    issuer on the allow-list, its key and pinned algorithm, signature, audience, expiry and
    lifetime; return the claims."""
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
    jwk = next(
        (k for k in issuer.jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid),
        {},
    )
    if alg not in key_algorithms(jwk):
        raise JwtRefused(f"algorithm {alg!r} does not fit the key {kid!r}")
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
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise JwtRefused(f"token refused ({type(exc).__name__})") from None
    if float(claims["exp"]) - float(claims["iat"]) > settings.cds_jwt_max_lifetime_s:
        raise JwtRefused("token lifetime is longer than allowed")
    return claims


def authenticate_client(request: Request, audiences: list[str]) -> TrustedIssuer | None:
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        if settings.cds_require_jwt:
            raise JwtRefused("Authorization: Bearer <JWT> is required")
        return None
    token = header[7:].strip()
    # The transport check (``app.BodyLimit``) verified this very token for these audiences
    # before the body was read; only its one-time use is left to check.
    checked = getattr(request.state, "cds_jwt", None)
    if checked is not None and checked[0] == token and set(audiences) <= set(checked[1]):
        claims = checked[2]
    else:
        claims = verify_client_jwt_signature(token, settings, audiences)
    claim_jti(claims, request.app.state.jti_cache)
    # The EHR user the call was made for, for the audit log (fhirUser, else sub).
    user = claims.get("fhirUser") or claims.get("sub")
    request.state.cds_user = str(user) if user else None
    return _trusted(settings, claims["iss"])


# ---------------------------------------------------------------- FHIR data


class PreconditionFailed(Exception):
    """The FHIR data needed could not be obtained (spec: 412 Precondition Failed)."""


class PatientMismatch(Exception):
    """The Patient prefetched or fetched (or a resource's subject) is not ``context.patientId``.

    The service then answers with an error and no cards: cards about another patient's
    record must never reach this chart.  ``status`` is 400 when the client's own prefetch
    contradicts its context and 412 when the FHIR server answered with another patient.
    """

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL after parsing; None for anything else.

    A URL carrying user information (``https://fhir.example@attacker.example``) has no
    origin here: such links are never followed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower().rstrip("."), port or default


def _normalised_base(url: str) -> tuple[tuple[str, str, int] | None, str]:
    """A FHIR base URL compared by origin and path (``https://h:443/r4/`` = ``https://h/r4``)."""
    return origin(url), urlsplit(url).path.rstrip("/")


def allowed_fhir_server(settings: Settings, client: TrustedIssuer | None, server: str) -> str:
    """``server`` when the calling issuer may have it read; else ``PreconditionFailed``.

    Allowed: an https URL (http only with the development setting ``fhir_allow_http``) that
    equals, after parsing, one of the ``fhir_servers`` configured for the client's issuer.
    """
    found = origin(server)
    if found is None:
        raise PreconditionFailed("fhirServer is not a plain http(s) URL; it was not read")
    if found[0] != "https" and not settings.fhir_allow_http:
        raise PreconditionFailed("fhirServer must use https; it was not read")
    if client is None:
        raise PreconditionFailed("an unauthenticated caller's fhirServer is never read")
    wanted = _normalised_base(server)
    if not any(
        origin(a) is not None and _normalised_base(a) == wanted for a in client.fhir_servers
    ):
        raise PreconditionFailed("fhirServer is not configured for this CDS client; not read")
    return server.rstrip("/")


@dataclass
class FhirReader:
    """Reads prefetch queries from one FHIR server under one deadline for the whole call.

    Every response is streamed: the deadline is checked after each chunk and each socket read
    may wait at most until the deadline, so a server that dribbles bytes cannot hold the call
    past it.  Search paging is followed to the end, up to ``max_pages`` pages per query, and
    only to links with exactly the server's origin.  What could not be read in full is listed
    in ``incomplete`` (in words, no identifiers) so the cards can say so.
    """

    base: str
    token: str
    transport: Any
    deadline: float
    max_pages: int
    max_bytes: int
    read_timeout_s: float
    clock: Callable[[], float] = time.monotonic
    incomplete: list[str] = field(default_factory=list)

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def _get(self, client: Any, url: str) -> Any:
        """The JSON of one GET, or None (refused, failed, too slow or too large)."""
        import httpx

        left = self.remaining()
        if left <= 0:
            raise _DeadlinePassed()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json"}
        wait = max(0.01, min(left, self.read_timeout_s))
        try:
            with client.stream(
                "GET", url, headers=headers, timeout=httpx.Timeout(wait)
            ) as response:
                if response.status_code != 200:
                    return None
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        return None
                    chunks.append(chunk)
                    if self.remaining() <= 0:
                        raise _DeadlinePassed()
        except httpx.TimeoutException:
            if self.remaining() <= 0:
                raise _DeadlinePassed() from None
            return None
        except httpx.HTTPError:
            return None
        try:
            return json.loads(b"".join(chunks))
        except ValueError:
            return None

    def read(self, client: Any, query: str, what: str) -> Any:
        """One prefetch query with its search pages merged; None when it could not be read."""
        try:
            data = self._get(client, f"{self.base}/{query}")
        except _DeadlinePassed:
            self.incomplete.append(f"{what}: not read before the deadline")
            return None
        if not (isinstance(data, dict) and data.get("resourceType") == "Bundle"):
            return data
        entries = list(data.get("entry") or [])
        server = origin(self.base)
        pages = 1
        while True:
            nxt = _next_link(data)
            if nxt is None:
                break
            if origin(nxt) != server:
                self.incomplete.append(
                    f"{what}: a further page was not read (its link leaves the FHIR server)"
                )
                break
            if pages >= self.max_pages:
                self.incomplete.append(
                    f"{what}: stopped after {self.max_pages} pages (the limit); more remain"
                )
                break
            try:
                page = self._get(client, nxt)
            except _DeadlinePassed:
                self.incomplete.append(f"{what}: pages after page {pages} not read in time")
                break
            if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
                self.incomplete.append(f"{what}: page {pages + 1} could not be read")
                break
            pages += 1
            entries.extend(page.get("entry") or [])
            data = page
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


class _DeadlinePassed(Exception):
    pass


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


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


@dataclass
class Gathered:
    """The patient's FHIR data as a collection Bundle, and what could not be read in full."""

    bundle: dict[str, Any]
    incomplete: list[str]


def _reader(request: Request, body: dict[str, Any], client: TrustedIssuer | None) -> FhirReader:
    settings: Settings = request.app.state.settings
    base = allowed_fhir_server(settings, client, str(body["fhirServer"]))
    return FhirReader(
        base=base,
        token=str(body["fhirAuthorization"]["access_token"]),
        transport=request.app.state.fhir_transport,
        deadline=time.monotonic() + settings.cds_call_deadline_s,
        max_pages=settings.fhir_max_pages,
        max_bytes=settings.fhir_max_response_bytes,
        read_timeout_s=settings.fhir_fetch_timeout_s,
    )


def gather_bundle(
    request: Request,
    body: dict[str, Any],
    client: TrustedIssuer | None = None,
    reader: FhirReader | None = None,
) -> Gathered:
    """Everything prefetched or fetched for the patient in context, checked to be theirs."""
    import httpx

    patient_id = str(body["context"]["patientId"])
    prefetch = body.get("prefetch") or {}
    can_fetch = bool(body.get("fhirAuthorization") and body.get("fhirServer"))
    resources: list[dict[str, Any]] = []
    fetched: list[dict[str, Any]] = []
    refused: str | None = None
    http: Any = None
    try:
        for key, template in PREFETCH.items():
            value = prefetch.get(key, ...) if isinstance(prefetch, dict) else ...
            got = _resources(value) if value is not ... else []
            answered = value is None or (
                (value is not ... and bool(got)) or _is_empty_search(value)
            )
            if answered:
                _check_patient(got, patient_id, status=400)
                resources.extend(got)
                continue
            if not can_fetch or refused is not None:
                continue
            if reader is None:
                try:
                    reader = _reader(request, body, client)
                except PreconditionFailed as exc:
                    refused = str(exc)
                    continue
            if http is None:
                http = httpx.Client(transport=reader.transport, follow_redirects=False)
            got = _resources(
                reader.read(http, template.replace("{{context.patientId}}", patient_id), key)
            )
            _check_patient(got, patient_id, status=412)
            fetched.extend(got)
    finally:
        if http is not None:
            http.close()
    resources.extend(fetched)
    if not any(r.get("resourceType") == "Patient" for r in resources):
        raise PreconditionFailed(
            "the Patient resource was neither prefetched nor retrievable with fhirAuthorization"
            + (f" ({refused})" if refused else "")
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
    return Gathered(
        {"resourceType": "Bundle", "type": "collection", "entry": entries},
        list(reader.incomplete) if reader is not None else [],
    )


_SUBJECT_KEYS = ("subject", "patient")


def _check_patient(resources: list[dict[str, Any]], patient_id: str, *, status: int) -> None:
    """Refuse a Patient, or a resource about a patient, that is not ``patient_id``."""
    for res in resources:
        if res.get("resourceType") == "Patient":
            if str(res.get("id", "")) != patient_id:
                raise PatientMismatch(
                    "the Patient resource is not the patient in context.patientId", status
                )
            continue
        for key in _SUBJECT_KEYS:
            ref = res.get(key)
            target = ref.get("reference") if isinstance(ref, dict) else None
            if not isinstance(target, str) or "Patient/" not in target:
                continue
            if target.rsplit("Patient/", 1)[1].split("/", 1)[0] != patient_id:
                raise PatientMismatch(
                    f"a {res.get('resourceType', 'resource')} is about another patient than "
                    "context.patientId",
                    status,
                )


def _is_empty_search(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.get("resourceType") == "Bundle" and not value.get("entry")
    )


# ---------------------------------------------------------------- cards


def _short(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def field_label(path: str) -> str:
    """A case field path in the clinic's words (``rhabdo.labels``)."""
    from rhabdo import labels

    return labels.field_label(str(path))


def value_label(finding_id: str, value: Any) -> str:
    """One value of a finding in the clinic's words (never an internal code)."""
    from rhabdo import labels

    if isinstance(value, dict):
        for key in ("label", "display", "value", "name"):
            if key in value and value[key] is not None:
                return value_label(finding_id, value[key])
    if isinstance(value, list | tuple):
        return ", ".join(value_label(finding_id, v) for v in value)
    return labels.value_label(finding_id, value)


def display_value(value: Any) -> str:
    return value_label("", value)


def finding_text(finding: Any) -> str:
    """A finding's answer for a card: its value, or what is still possible and what would decide."""
    status = str(finding.status)
    if status == "determined":
        return value_label(finding.id, finding.value)
    if status == "indeterminate":
        cands = " or ".join(value_label(finding.id, c) for c in finding.candidates) or "undecided"
        needs = ", ".join(field_label(n) for n in finding.needs)
        return f"{cands} (needs {needs})" if needs else cands
    return "not applicable"


#: Summary-card findings: (label, finding id), in the order a tumour board reads them.
SUMMARY_PARTS = (
    ("Stage", "stage.pretreatment"),
    ("Group", "group.clinical"),
    ("COG risk", "risk.cog"),
    ("EPSSG risk", "risk.epssg"),
    ("Relapse", "relapse.timing"),
)

#: Findings shown in the summary card's detail (id prefix -> label prefix).
DETAIL_PREFIXES = ("stage.", "group.", "risk.", "relapse.")


def _summary_findings(findings: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(label, findings[fid]) for label, fid in SUMMARY_PARTS if fid in findings]


def _bare(heading: str, text: str) -> str:
    """``text`` without the words its summary heading already says ("stage 2" -> "2")."""
    word = heading.split()[-1].lower()
    if text.lower().startswith(word + " "):
        text = text[len(word) + 1 :]
    if text.lower().endswith(" " + word):
        text = text[: -len(word) - 1]
    return text


def _short_value(heading: str, f: Any) -> str:
    status = str(f.status)
    if status == "determined":
        return _bare(heading, value_label(f.id, f.value))
    if status == "indeterminate":
        if f.candidates and len(f.candidates) <= 2:
            return " or ".join(_bare(heading, value_label(f.id, c)) for c in f.candidates) + "?"
        return "undetermined"
    return "not applicable"


def finding_label(finding_id: str) -> str:
    """A finding id in the clinic's words (``rhabdo.labels``)."""
    from rhabdo import labels

    return labels.finding_label(str(finding_id))


def _detail_lines(findings: dict[str, Any]) -> str:
    lines = []
    for fid, f in findings.items():
        if str(fid).startswith(DETAIL_PREFIXES) and str(f.status) != "not_applicable":
            lines.append(f"- **{finding_label(fid)}**: {finding_text(f)} — {f.reason}")
    return "\n".join(lines)


def assessment_link(settings: Settings, snapshot_id: str) -> dict[str, Any]:
    """The card link: a SMART app launch (``type: smart``) into the web app when a launch URL
    is configured, the assessment page otherwise (``type: absolute``)."""
    if settings.cds_smart_launch_url:
        return {
            "label": "Open the full assessment in rhabdo",
            "url": settings.cds_smart_launch_url,
            "type": "smart",
            "appContext": json.dumps({"assessment": snapshot_id}, separators=(",", ":")),
        }
    return {
        "label": "Open the full assessment in rhabdo",
        "url": f"{settings.public_base}/cds/assessments/{snapshot_id}",
        "type": "absolute",
    }


def build_cards(
    assessment: Any,
    *,
    source: dict[str, Any],
    assessment_url: str | None = None,
    unmapped_count: int,
    link: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The cards of one assessment (see the module docstring for which card and indicator)."""
    findings: dict[str, Any] = dict(assessment.findings)
    parts = _summary_findings(findings)
    parts = [(label, f) for label, f in parts if str(f.status) != "not_applicable"]
    summary = "; ".join(f"{label} {_short_value(label, f)}" for label, f in parts)
    if len("RMS: " + summary) > SUMMARY_MAX_CHARS:  # undecided values say so in one word
        summary = "; ".join(
            f"{label} "
            + (_short_value(label, f) if str(f.status) == "determined" else "undetermined")
            for label, f in parts
        )
    detail = _detail_lines(findings) or "No staging, group, risk or relapse findings."
    if assessment.missing_inputs:
        detail += "\n\n**Would decide more:** " + ", ".join(
            field_label(m.field) for m in assessment.missing_inputs
        )
    if unmapped_count:
        detail += (
            f"\n\n{unmapped_count} coded item(s) in the record could not be mapped "
            "and were not used."
        )
    if link is None:
        link = {
            "label": "Open the full assessment in rhabdo",
            "url": assessment_url or source.get("url", ""),
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
    for w in assessment.warnings:  # an emergency leads, before the summary
        if str(w.severity) == "emergency":
            head, _, rest = w.message.partition(": ")
            cards.insert(
                0,
                _urgent_card(
                    "Emergency: ", head, rest, list(w.citations), "critical", source, link
                ),
            )
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
                    f"Dose threshold reached ({finding_label(fid).lower()}): ",
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


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [cd for cd in concept.get("coding") or [] if isinstance(cd, dict)]


def _concept_words(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    texts = [str(concept["text"])] if concept.get("text") else []
    return texts + [str(cd["display"]) for cd in _codings(concept) if cd.get("display")]


def rms_diagnosis(bundle: dict[str, Any]) -> DiagnosisEvidence | None:
    """The verdict of the diagnosis gate on the chart's primary cancer, or None without one.

    The gate is the importer's (``rhabdo.interop.fhir_diagnosis``): ICD-O-3 morphology, SNOMED
    CT and ICD-10 codes, the mCODE histology extension and rhabdo's own coding are read the
    same way here and on import, so a chart gets RMS cards exactly when it would import as RMS.
    """
    return chart_diagnosis(bundle)


def _chart_condition_names(bundle: dict[str, Any]) -> list[str]:
    """Up to five Condition names of the chart (for a card that found no primary cancer)."""
    names = {
        words[0] for res in conditions_of(bundle) if (words := _concept_words(res.get("code")))
    }
    return sorted(names)[:5]


_CARD_TAG = b"rhabdo-cds-card\x00"


def _card_tag(secret: str, issuer: str | None, nonce: bytes) -> bytes:
    digest = hmac.new(
        secret.encode(), _CARD_TAG + (issuer or "").encode() + b"\x00" + nonce, hashlib.sha256
    ).digest()
    tag = bytearray(digest[:8])
    tag[0] = (tag[0] & 0x3F) | 0x80  # RFC 9562 variant bits
    return bytes(tag)


def issue_card_uuid(secret: str, issuer: str | None) -> str:
    """A fresh card uuid that only this service (holding ``secret``) can have issued.

    The first 8 bytes are random (version-4 bits set), the last 8 an HMAC of them and the
    calling issuer, so feedback can be checked against the cards issued to that client by
    any process that shares the secret, without a lookup.
    """
    nonce = bytearray(secrets.token_bytes(8))
    nonce[6] = (nonce[6] & 0x0F) | 0x40
    return str(uuid.UUID(bytes=bytes(nonce) + _card_tag(secret, issuer, bytes(nonce))))


def card_was_issued(secret: str, issuer: str | None, card: str) -> bool:
    """True when ``card`` is a uuid this service issued to ``issuer`` (see issue_card_uuid)."""
    try:
        raw = uuid.UUID(str(card)).bytes
    except ValueError:
        return False
    return hmac.compare_digest(raw[8:], _card_tag(secret, issuer, raw[:8]))


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


def router() -> APIRouter:
    r = APIRouter(tags=["CDS Hooks"], route_class=OffLoopJsonRoute)

    @r.get("/cds-services", summary="CDS Hooks discovery")
    async def discovery(request: Request) -> Response:
        """Answered on the event loop from a document built and checked once per process: an
        EHR's or a load balancer's probe never queues behind busy worker threads."""
        state = request.app.state
        body: bytes | None = getattr(state, "cds_discovery", None)
        if body is None:
            document = await anyio.to_thread.run_sync(
                _validated, request, "discovery-response", discovery_document(state.settings)
            )
            body = state.cds_discovery = json.dumps(document).encode()
        return Response(body, media_type="application/json")

    # CORS preflights are plain routes (not API operations): browsers send them unauthenticated.
    for path in ("/cds-services", "/cds-services/{rest:path}"):
        r.add_route(path, cors_preflight, methods=["OPTIONS"], include_in_schema=False)

    @r.post(f"/cds-services/{PATIENT_VIEW_ID}", summary="patient-view service")
    def patient_view(request: Request, body: dict[str, Any]) -> JSONResponse:
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
            gathered = gather_bundle(request, body, client)
        except PreconditionFailed as exc:
            raise HTTPException(status_code=412, detail=str(exc)) from None
        except PatientMismatch as exc:
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        evidence = rms_diagnosis(gathered.bundle)
        if evidence is None or evidence.verdict is not Verdict.RMS:
            return JSONResponse(_no_rms_response(request, client, gathered.bundle, evidence))
        # Cards are checked against the response schema when they are first built.  The
        # database session is opened here, in this worker thread, not as a dependency (two
        # more thread hops per call); an answer from the cache checks out no connection.
        with request.app.state.sessionmaker() as db:
            answer = _patient_view_cards(request, db, body, gathered.bundle, client)
        return JSONResponse(_with_read_notes(request, answer, gathered.incomplete, client))

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
        issuer = client.issuer if client else None
        unknown = [
            f"feedback/{i}/card: not a card this service issued to this client"
            for i, item in enumerate(body["feedback"])
            if not card_was_issued(settings.secret_key, issuer, str(item["card"]))
        ]
        if unknown:
            raise _bad_request(unknown)
        count = store.save_feedback(db, PATIENT_VIEW_ID, body["feedback"], issuer)
        store.audit(
            db,
            issuer,
            store.AuditAction.CDS_FEEDBACK,
            "cds",
            PATIENT_VIEW_ID,
            f"items={count}",
        )
        return JSONResponse({"stored": count})

    return r


#: CORS for browser-based CDS clients (spec: *Cross-Origin Resource Sharing*).  Clients
#: authenticate with a bearer JWT, never with cookies, so any origin may call and credentials
#: are not allowed (OWASP HTML5 cheat sheet: no ``Allow-Credentials`` with a wildcard).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
    "Access-Control-Max-Age": "600",
}


async def cors_preflight(request: Request) -> Response:
    """The answer to an OPTIONS preflight on a CDS Hooks path (204 with the CORS headers)."""
    return Response(status_code=204, headers=CORS_HEADERS)


def _no_rms_response(
    request: Request,
    client: TrustedIssuer | None,
    bundle: dict[str, Any],
    evidence: DiagnosisEvidence | None,
) -> dict[str, Any]:
    """One card saying the chart has no RMS diagnosis, naming the diagnosis found."""
    settings: Settings = request.app.state.settings
    if evidence is not None:
        why = evidence.refusal()
        found = why[:1].upper() + why[1:] + "."
    else:
        names = _chart_condition_names(bundle)
        found = (
            "The chart holds no primary cancer diagnosis; its conditions: " + "; ".join(names) + "."
            if names
            else "The chart holds no primary cancer diagnosis that rhabdo reads."
        )
    card = {
        "uuid": issue_card_uuid(settings.secret_key, client.issuer if client else None),
        "summary": "No rhabdomyosarcoma diagnosis in this chart; rhabdo made no assessment",
        "detail": found + " rhabdo assesses rhabdomyosarcoma only, so it shows no RMS "
        "staging, risk or treatment cards for this patient.",
        "indicator": "info",
        "source": {"label": "rhabdo decision support", "url": settings.public_base + "/"},
    }
    return _validated(request, "response", {"cards": [card]})


def _with_read_notes(
    request: Request, answer: dict[str, Any], incomplete: list[str], client: TrustedIssuer | None
) -> dict[str, Any]:
    """Each card with a uuid issued to this client; a warning when the record was cut short."""
    settings: Settings = request.app.state.settings
    client_issuer = client.issuer if client else None
    cards = [dict(card) for card in answer["cards"]]
    if incomplete:
        note = "The record was read incompletely: " + "; ".join(incomplete) + "."
        first = cards[0]
        first["detail"] = note + "\n\n" + str(first.get("detail", ""))
        cards.insert(
            1,
            {
                "summary": "Record read incompletely: this assessment may miss data",
                "detail": note + " Findings may rest on part of the treatment history; "
                "check the full record before acting on them.",
                "indicator": "warning",
                "source": first["source"],
            },
        )
    for card in cards:
        card["uuid"] = issue_card_uuid(settings.secret_key, client_issuer)
    # Every card was checked against the response schema when it was built (and cached);
    # a fresh uuid keeps it valid, so only a response with an added note is checked again.
    return _validated(request, "response", {"cards": cards}) if incomplete else {"cards": cards}


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
    answered: str
    if cached is None:
        try:
            snapshot_id, assessment, unmapped_count = _assess_bundle(db, body, bundle, client, key)
        except CaseValidationError as exc:
            found = sorted({f"{p.field}: {p.problem}" for p in exc.problems})[:10]
            return _validated(
                request,
                "response",
                {
                    "cards": [
                        {
                            "uuid": str(uuid.uuid4()),
                            "summary": "rhabdo could not read this record; no assessment was made",
                            "detail": "The FHIR data did not form a valid case.\n\n"
                            + "\n".join(f"- {f}" for f in found),
                            "indicator": "warning",
                            "source": source,
                        }
                    ]
                },
            )
        cards = build_cards(
            assessment,
            source=source,
            unmapped_count=unmapped_count,
            link=assessment_link(settings, snapshot_id),
        )
        _validated(request, "response", {"cards": cards})
        cached = (snapshot_id, cards, unmapped_count)
        cache.put(key, cached)
        answered = "assessed"
    else:
        answered = "cached"
    # Every answer is logged, cached or not, with the EHR user where the JWT names one.
    # Written in batches by the server's background task (see ``auditqueue``).
    issuer = client.issuer if client else None
    request.app.state.audit_queue.record(
        getattr(request.state, "cds_user", None) or issuer,
        store.AuditAction.CDS_CALL,
        "cds_assessment",
        cached[0],
        f"{answered}; issuer={issuer}",
    )
    # Same data, same cards: ``_with_read_notes`` copies each and gives it its own issued uuid
    # (for feedback), so the cached cards are never changed.
    return {"cards": cached[1]}


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
