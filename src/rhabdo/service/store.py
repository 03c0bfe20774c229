"""Storage operations: users, API tokens, versioned cases, the audit log, CDS Hooks records.

Functions take an open SQLAlchemy ``Session`` and commit themselves, so each call is one
transaction.  Nothing here logs case content: the audit log stores who did what to which
internal case id, never a patient identifier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rhabdo.service.db import (
    ApiToken,
    AuditEvent,
    CaseRecord,
    CaseVersion,
    CdsFeedback,
    CdsSnapshot,
    User,
    WebSession,
    utcnow,
)

API_TOKEN_PREFIX = "rhabdo_"
#: The largest version number a case can have (the column is a 32-bit integer).
MAX_VERSION = 2**31 - 1


class Role(StrEnum):
    """What a user may do: viewers read, clinicians also save and assess, admins also administer."""

    VIEWER = "viewer"
    CLINICIAN = "clinician"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "clinician": 1, "admin": 2}[self.value]


class AuditAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    VIEW = "view"
    SAVE = "save"
    EXPORT = "export"
    IMPORT = "import"
    ASSESS = "assess"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    USER_CREATED = "user_created"
    CDS_CALL = "cds_call"
    CDS_FEEDBACK = "cds_feedback"
    MEETING_CREATED = "meeting_created"
    MEETING_CASE_ADDED = "meeting_case_added"
    MEETING_CASE_REMOVED = "meeting_case_removed"
    DECISION_RECORDED = "decision_recorded"
    LIST = "list"


class StoreError(Exception):
    """Base class of storage errors the HTTP layer turns into 4xx responses."""


class NotFound(StoreError):
    pass


class VersionConflict(StoreError):
    """The case was saved by someone else since the version the editor started from."""

    def __init__(self, case_id: str, base_version: int, current_version: int) -> None:
        self.case_id = case_id
        self.base_version = base_version
        self.current_version = current_version
        super().__init__(
            f"case was changed since version {base_version}: the current version is "
            f"{current_version}; reload it and apply your edits again"
        )


class UserExists(StoreError):
    pass


# ---------------------------------------------------------------- users and tokens


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


#: A hash verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH: list[str] = []


def authenticate(db: Session, username: str, password: str) -> User | None:
    clean = _clean(username) or ""
    user = db.scalar(select(User).where(User.username == clean)) if clean == username else None
    if user is None or not user.active:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
        verify_password(_DUMMY_HASH[0], password)
        return None
    return user if verify_password(user.password_hash, password) else None


#: Password length rules (NIST SP 800-63B 5.1.1.2 asks for at least 8 and allows 64 or more).
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_REPEATED = re.compile(r"^(.{1,6}?)\1+$", re.S)
_EDGES = "0123456789!@#$%^&*()-_=+.,;:?~ "


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The blocklist of commonly used passwords (``service/data/common-passwords.txt``)."""
    text = (Path(__file__).parent / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused (NIST SP 800-63B 5.1.1.2: length, then a blocklist of
    common passwords, repetitive patterns and context words such as the username), or None.
    No composition rules (digits, symbols) are imposed, as the guideline advises."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"use at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"use at most {MAX_PASSWORD_CHARS} characters"
    lowered = password.lower()
    blocked = common_passwords()
    if lowered in blocked or lowered.strip(_EDGES) in blocked:
        return "this is a commonly used password; choose another"
    if not lowered.strip(_EDGES):
        return "digits and symbols alone are too easy to guess"
    if _REPEATED.match(lowered) or len(set(lowered)) < 4:
        return "a repeated character or pattern is too easy to guess"
    if len(username) >= 3 and username.lower() in lowered:
        return "the password must not contain the username"
    return None


def create_user(
    db: Session, username: str, password: str, role: Role, centre: str | None = None
) -> User:
    problem = password_problem(password, username)
    if problem is not None:
        raise StoreError(f"password: {problem}")
    if (
        not username
        or len(username) > 64
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise StoreError("username: 1-64 letters, digits, '.', '-' or '_'")
    user = User(
        username=username, password_hash=hash_password(password), role=role.value, centre=centre
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise UserExists(f"username: {username!r} already exists") from None
    audit(db, None, AuditAction.USER_CREATED, "user", username, f"role={role.value}")
    return user


def has_users(db: Session) -> bool:
    """Whether any account exists (the sign-in page explains how to create the first)."""
    return db.scalar(select(User.id).limit(1)) is not None


def get_user(db: Session, user_id: int) -> User | None:
    user = db.get(User, user_id)
    return user if user is not None and user.active else None


def create_session(db: Session, digest: str, user_id: int, csrf: str, max_age_s: int) -> WebSession:
    """A new server-side session (expired ones are deleted on the way)."""
    now = time.time()
    db.execute(delete(WebSession).where(WebSession.expires_at < now))
    session = WebSession(
        id=digest, user_id=user_id, csrf=csrf, created_at=now, expires_at=now + max_age_s
    )
    db.add(session)
    db.commit()
    return session


def session_user(db: Session, digest: str) -> tuple[User, str] | None:
    """The active user of an unexpired session and the session's CSRF token, or None."""
    session = db.get(WebSession, digest)
    if session is None or session.expires_at < time.time():
        return None
    user = get_user(db, session.user_id)
    return None if user is None else (user, session.csrf)


def delete_session(db: Session, digest: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id == digest))
    db.commit()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(db: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new per-user API token; the secret is returned once and only its hash is stored."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=(_clean(name) or "")[:100] or "token",
        token_sha256=_token_digest(secret),
    )
    db.add(token)
    db.commit()
    audit(db, user.username, AuditAction.TOKEN_CREATED, "token", str(token.id), None)
    return token, secret


def user_for_token(db: Session, secret: str) -> User | None:
    token = db.scalar(
        select(ApiToken).where(
            ApiToken.token_sha256 == _token_digest(secret), ApiToken.revoked.is_(False)
        )
    )
    return get_user(db, token.user_id) if token is not None else None


def list_tokens(db: Session, user: User) -> Sequence[ApiToken]:
    return db.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()


def revoke_token(db: Session, user: User, token_id: int) -> None:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("token not found")
    token.revoked = True
    db.commit()
    audit(db, user.username, AuditAction.TOKEN_REVOKED, "token", str(token_id), None)


# ---------------------------------------------------------------- audit


def audit(
    db: Session,
    username: str | None,
    action: AuditAction,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: str | None = None,
    *,
    commit: bool = True,
) -> None:
    """Record an event; with ``commit=False`` it joins the caller's transaction (a save and
    its event then commit together or not at all)."""
    db.add(audit_event(username, action, object_type, object_id, detail))
    if commit:
        db.commit()


def audit_event(
    username: str | None,
    action: AuditAction,
    object_type: str | None,
    object_id: str | None,
    detail: str | None,
) -> AuditEvent:
    """The audit row (texts cleaned and cut to their columns)."""
    return AuditEvent(
        username=_cut(username, 64),
        action=action.value,
        object_type=_cut(object_type, 32),
        object_id=_cut(object_id, 64),
        detail=_clean(detail),
    )


def _cut(text: str | None, limit: int) -> str | None:
    clean = _clean(text)
    return None if clean is None else clean[:limit]


def audit_events(db: Session, limit: int = 200) -> Sequence[AuditEvent]:
    return db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class Assessed:
    """The engine and knowledge versions and the assessment stored beside a case version."""

    engine_version: str | None
    knowledge_version: str | None
    assessment: dict[str, Any] | None


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _clean(text: str | None) -> str | None:
    """Text safe for every database (PostgreSQL refuses NUL characters)."""
    return None if text is None else text.replace("\x00", "")


def _visible(record: CaseRecord | None, centre: str | None) -> CaseRecord:
    # A user of one centre must not learn that another centre's case exists: same 404.
    if record is None or record.centre != centre:
        raise NotFound("case not found")
    return record


def create_case(
    db: Session,
    document: dict[str, Any],
    *,
    label: str,
    username: str,
    centre: str | None,
    source: str,
    assessed: Assessed,
    reason: str | None = None,
) -> CaseVersion:
    case_id = str(uuid.uuid4())
    now = utcnow()
    db.add(
        CaseRecord(
            id=case_id,
            centre=centre,
            label=label,
            current_version=1,
            created_by=username,
            created_at=now,
            updated_at=now,
        )
    )
    db.flush()
    version = _new_version(case_id, 1, document, username, source, assessed, now, reason)
    db.add(version)
    audit(db, username, AuditAction.SAVE, "case", case_id, "version=1", commit=False)
    db.commit()
    return version


def _new_version(
    case_id: str,
    number: int,
    document: dict[str, Any],
    username: str,
    source: str,
    assessed: Assessed,
    now: dt.datetime,
    reason: str | None = None,
) -> CaseVersion:
    from rhabdo.service.caselist import list_keys

    keys = list_keys(assessed.assessment)
    return CaseVersion(
        case_id=case_id,
        version=number,
        document=document,
        saved_by=username,
        saved_at=now,
        source=source,
        engine_version=assessed.engine_version,
        knowledge_version=assessed.knowledge_version,
        assessment=assessed.assessment,
        reason=_clean(reason.strip()[:500]) if reason and reason.strip() else None,
        list_stage=keys.stage,
        list_relapse_type=keys.relapse_type,
        list_relapse_pattern=keys.relapse_pattern,
    )


def save_version(
    db: Session,
    case_id: str,
    base_version: int,
    document: dict[str, Any],
    *,
    label: str,
    username: str,
    centre: str | None,
    source: str,
    assessed: Assessed,
    reason: str | None = None,
) -> CaseVersion:
    """Save an edit made from ``base_version`` as a new version, or raise ``VersionConflict``.

    The compare-and-set on ``cases.current_version`` and the unique (case, version) pair make
    the check hold under concurrent writers on SQLite and PostgreSQL alike.
    """
    record = get_case(db, case_id, centre)
    now = utcnow()
    moved = db.execute(
        update(CaseRecord)
        .where(CaseRecord.id == case_id, CaseRecord.current_version == base_version)
        .values(current_version=base_version + 1, updated_at=now, label=label)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        db.refresh(record)
        raise VersionConflict(case_id, base_version, record.current_version)
    version = _new_version(
        case_id, base_version + 1, document, username, source, assessed, now, reason
    )
    db.add(version)
    audit(
        db, username, AuditAction.SAVE, "case", case_id, f"version={version.version}", commit=False
    )
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        db.refresh(record)
        raise VersionConflict(case_id, base_version, record.current_version) from None
    return version


def get_case(db: Session, case_id: str, centre: str | None) -> CaseRecord:
    if not _is_uuid(case_id):
        raise NotFound("case not found")
    return _visible(db.get(CaseRecord, case_id), centre)


def get_version(
    db: Session, case_id: str, centre: str | None, version: int | None = None
) -> tuple[CaseRecord, CaseVersion]:
    record = get_case(db, case_id, centre)
    number = record.current_version if version is None else version
    if not 1 <= number <= MAX_VERSION:  # beyond any stored version and the column's range
        raise NotFound(f"version {number} not found")
    row = db.scalar(
        select(CaseVersion).where(CaseVersion.case_id == case_id, CaseVersion.version == number)
    )
    if row is None:
        raise NotFound(f"version {number} not found")
    return record, row


def history(db: Session, case_id: str, centre: str | None) -> Sequence[CaseVersion]:
    get_case(db, case_id, centre)
    return db.scalars(
        select(CaseVersion).where(CaseVersion.case_id == case_id).order_by(CaseVersion.version)
    ).all()


#: The most cases one page of a list may hold.
MAX_PAGE = 500


def list_cases(
    db: Session,
    centre: str | None,
    query: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> Sequence[CaseRecord]:
    """One page of the centre's cases (newest first), optionally matching ``query``."""
    stmt = _cases_matching(centre, query)
    return db.scalars(
        stmt.order_by(CaseRecord.updated_at.desc(), CaseRecord.id)
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    ).all()


def cases_with_label(db: Session, centre: str | None, label: str) -> Sequence[CaseRecord]:
    """Every case of the centre whose patient id (label) is exactly ``label``, however many
    other cases contain it: the duplicate check on import must not miss one."""
    return db.scalars(
        select(CaseRecord)
        .where(_of_centre(centre), CaseRecord.label == label)
        .order_by(CaseRecord.updated_at.desc(), CaseRecord.id)
    ).all()


def count_cases(db: Session, centre: str | None, query: str | None = None) -> int:
    """How many of the centre's cases match ``query`` (for paging)."""
    sub = _cases_matching(centre, query).subquery()
    return int(db.scalar(select(func.count()).select_from(sub)) or 0)


def _cases_matching(centre: str | None, query: str | None) -> Any:
    return select(CaseRecord).where(*case_search(centre, query))


def _of_centre(centre: str | None) -> Any:
    """The condition for the centre's own cases (``None``: cases of no centre)."""
    return CaseRecord.centre.is_(None) if centre is None else CaseRecord.centre == centre


def case_search(centre: str | None, query: str | None) -> list[Any]:
    """The conditions for the centre's cases whose patient id (label) or case id contains
    ``query`` (case-insensitive, as typed: ``%`` and ``_`` match themselves)."""
    conditions: list[Any] = [_of_centre(centre)]
    query = _clean(query)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = "%" + escaped + "%"
        conditions.append(
            or_(
                CaseRecord.label.ilike(pattern, escape="\\"),
                CaseRecord.id.ilike(pattern, escape="\\"),
            )
        )
    return conditions


# ---------------------------------------------------------------- CDS Hooks


def save_cds_snapshot(
    db: Session,
    *,
    hook_instance: str,
    issuer: str | None,
    centre: str | None,
    document: dict[str, Any],
    card_uuids: list[str],
) -> str:
    snapshot_id = str(uuid.uuid4())
    db.add(
        CdsSnapshot(
            id=snapshot_id,
            hook_instance=hook_instance[:100],
            issuer=issuer,
            centre=centre,
            document=document,
            card_uuids=card_uuids,
        )
    )
    db.commit()
    return snapshot_id


def get_cds_snapshot(db: Session, snapshot_id: str, centre: str | None) -> CdsSnapshot:
    snap = db.get(CdsSnapshot, snapshot_id) if _is_uuid(snapshot_id) else None
    if snap is None or snap.centre != centre:
        raise NotFound("assessment not found")
    return snap


def save_feedback(
    db: Session, service_id: str, items: list[dict[str, Any]], issuer: str | None
) -> int:
    for item in items:
        db.add(
            CdsFeedback(
                service_id=service_id,
                card_uuid=str(item["card"]),
                outcome=str(item["outcome"]),
                accepted_suggestions=item.get("acceptedSuggestions"),
                override_reason=item.get("overrideReason"),
                outcome_timestamp=str(item["outcomeTimestamp"]),
                issuer=issuer,
            )
        )
    db.commit()
    return len(items)


def feedback_rows(db: Session) -> Sequence[CdsFeedback]:
    return db.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
