"""Tumour-board meetings: the agenda of cases for a date, and the board's decision on each.

A decision is never overwritten: recording it again adds revision n+1, so the record shows
what the board decided, why, who wrote it down, when, and on which version of the case.  Every
change is audited.  Like ``store``, each function is one transaction on a SQLAlchemy
``Session`` and a user sees only the meetings and cases of their own centre.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rhabdo.service import store
from rhabdo.service.db import BoardDecision, CaseRecord, Meeting, MeetingCase, utcnow

MAX_TITLE = 200
MAX_DECISION = 4000
MAX_RATIONALE = 8000
MAX_AGENDA = 100


class MeetingError(store.StoreError):
    """A meeting or decision could not be saved as asked (the message names the field)."""


class DecisionConflict(store.StoreError):
    """Someone recorded a decision for this case since the form was opened."""

    def __init__(self, current_revision: int) -> None:
        self.current_revision = current_revision
        super().__init__(
            f"decision: another decision (revision {current_revision}) was recorded since you "
            "opened this form; review it and record yours again"
        )


@dataclass(frozen=True)
class AgendaItem:
    position: int
    case: CaseRecord
    decision: BoardDecision | None


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    text = value.replace("\x00", "").strip()
    if required and not text:
        raise MeetingError(f"{field}: required")
    if len(text) > limit:
        raise MeetingError(f"{field}: at most {limit} characters")
    return text


def create_meeting(
    db: Session, *, meeting_date: dt.date, title: str, username: str, centre: str | None
) -> Meeting:
    meeting = Meeting(
        id=str(uuid.uuid4()),
        centre=centre,
        meeting_date=meeting_date,
        title=_text(title, "title", MAX_TITLE, required=False) or "Tumour board",
        created_by=username,
    )
    db.add(meeting)
    db.commit()
    store.audit(db, username, store.AuditAction.MEETING_CREATED, "meeting", meeting.id, None)
    return meeting


def list_meetings(db: Session, centre: str | None, limit: int = 200) -> Sequence[Meeting]:
    where = Meeting.centre.is_(None) if centre is None else Meeting.centre == centre
    return db.scalars(
        select(Meeting).where(where).order_by(Meeting.meeting_date.desc()).limit(limit)
    ).all()


def get_meeting(db: Session, meeting_id: str, centre: str | None) -> Meeting:
    try:
        valid = str(uuid.UUID(meeting_id)) == meeting_id
    except ValueError:
        valid = False
    meeting = db.get(Meeting, meeting_id) if valid else None
    if meeting is None or meeting.centre != centre:
        raise store.NotFound("meeting not found")
    return meeting


def add_case(db: Session, meeting: Meeting, case_id: str, username: str) -> MeetingCase:
    """Put a case (of the meeting's centre) at the end of the agenda; adding it twice is a no-op."""
    store.get_case(db, case_id, meeting.centre)
    existing = db.scalar(
        select(MeetingCase).where(
            MeetingCase.meeting_id == meeting.id, MeetingCase.case_id == case_id
        )
    )
    if existing is not None:
        return existing
    count = db.scalar(
        select(func.count()).select_from(MeetingCase).where(MeetingCase.meeting_id == meeting.id)
    )
    if (count or 0) >= MAX_AGENDA:
        raise MeetingError(f"case: a meeting holds at most {MAX_AGENDA} cases")
    last = db.scalar(
        select(func.max(MeetingCase.position)).where(MeetingCase.meeting_id == meeting.id)
    )
    item = MeetingCase(
        meeting_id=meeting.id, case_id=case_id, position=(last or 0) + 1, added_by=username
    )
    db.add(item)
    try:
        db.commit()
    except IntegrityError:  # added concurrently by someone else: the same outcome
        db.rollback()
        found = db.scalar(
            select(MeetingCase).where(
                MeetingCase.meeting_id == meeting.id, MeetingCase.case_id == case_id
            )
        )
        assert found is not None
        return found
    store.audit(
        db, username, store.AuditAction.MEETING_CASE_ADDED, "meeting", meeting.id, f"case={case_id}"
    )
    return item


def remove_case(db: Session, meeting: Meeting, case_id: str, username: str) -> None:
    """Take a case off the agenda (decisions already recorded for it are kept)."""
    item = db.scalar(
        select(MeetingCase).where(
            MeetingCase.meeting_id == meeting.id, MeetingCase.case_id == case_id
        )
    )
    if item is None:
        raise store.NotFound("case is not on this meeting's agenda")
    db.delete(item)
    db.commit()
    store.audit(
        db,
        username,
        store.AuditAction.MEETING_CASE_REMOVED,
        "meeting",
        meeting.id,
        f"case={case_id}",
    )


def agenda(db: Session, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's cases in order, each with the latest decision recorded at this meeting."""
    rows = db.execute(
        select(MeetingCase, CaseRecord)
        .join(CaseRecord, CaseRecord.id == MeetingCase.case_id)
        .where(MeetingCase.meeting_id == meeting.id)
        .order_by(MeetingCase.position)
    ).all()
    latest = {d.case_id: d for d in _latest_decisions(db, meeting.id)}
    return [
        AgendaItem(position=i + 1, case=rec, decision=latest.get(rec.id))
        for i, (_, rec) in enumerate(rows)
    ]


def _latest_decisions(db: Session, meeting_id: str) -> Sequence[BoardDecision]:
    newest = (
        select(BoardDecision.case_id, func.max(BoardDecision.revision).label("rev"))
        .where(BoardDecision.meeting_id == meeting_id)
        .group_by(BoardDecision.case_id)
        .subquery()
    )
    return db.scalars(
        select(BoardDecision)
        .join(
            newest,
            (BoardDecision.case_id == newest.c.case_id) & (BoardDecision.revision == newest.c.rev),
        )
        .where(BoardDecision.meeting_id == meeting_id)
    ).all()


def record_decision(
    db: Session,
    meeting: Meeting,
    case_id: str,
    *,
    case_version: int,
    decision: str,
    rationale: str,
    base_revision: int,
    username: str,
) -> BoardDecision:
    """Record the board's decision on a case as revision ``base_revision + 1``.

    ``case_version`` is the version the board looked at; it must exist.  ``base_revision`` is
    the revision the form showed (0 for none): if someone has recorded another since, the
    decision is refused with ``DecisionConflict`` rather than silently superseding theirs.
    """
    store.get_version(db, case_id, meeting.centre, case_version)
    on_agenda = db.scalar(
        select(MeetingCase.id).where(
            MeetingCase.meeting_id == meeting.id, MeetingCase.case_id == case_id
        )
    )
    if on_agenda is None:
        raise store.NotFound("case is not on this meeting's agenda")
    text = _text(decision, "decision", MAX_DECISION, required=True)
    why = _text(rationale, "rationale", MAX_RATIONALE, required=True)
    current = (
        db.scalar(
            select(func.max(BoardDecision.revision)).where(
                BoardDecision.meeting_id == meeting.id, BoardDecision.case_id == case_id
            )
        )
        or 0
    )
    if current != base_revision:
        raise DecisionConflict(current)
    row = BoardDecision(
        meeting_id=meeting.id,
        case_id=case_id,
        case_version=case_version,
        revision=current + 1,
        decision=text,
        rationale=why,
        recorded_by=username,
        recorded_at=utcnow(),
    )
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise DecisionConflict(current + 1) from None
    store.audit(
        db,
        username,
        store.AuditAction.DECISION_RECORDED,
        "case",
        case_id,
        f"meeting={meeting.id} revision={row.revision} case_version={case_version}",
    )
    return row


@dataclass(frozen=True)
class CaseDecision:
    meeting: Meeting
    decision: BoardDecision


def decisions_for_case(db: Session, case_id: str, centre: str | None) -> list[CaseDecision]:
    """Every decision revision on a case, newest first, with its meeting."""
    store.get_case(db, case_id, centre)
    rows = db.execute(
        select(BoardDecision, Meeting)
        .join(Meeting, Meeting.id == BoardDecision.meeting_id)
        .where(BoardDecision.case_id == case_id)
        .order_by(Meeting.meeting_date.desc(), BoardDecision.revision.desc())
    ).all()
    return [CaseDecision(meeting=m, decision=d) for d, m in rows]


def decision_history(db: Session, meeting: Meeting, case_id: str) -> Sequence[BoardDecision]:
    return db.scalars(
        select(BoardDecision)
        .where(BoardDecision.meeting_id == meeting.id, BoardDecision.case_id == case_id)
        .order_by(BoardDecision.revision.desc())
    ).all()
