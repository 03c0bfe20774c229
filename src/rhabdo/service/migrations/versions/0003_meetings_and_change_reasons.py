"""tumour-board meetings, board decisions, and the reason given for a case version

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))

    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("centre", sa.String(length=64), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_centre"), ["centre"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meetings_meeting_date"), ["meeting_date"], unique=False
        )

    op.create_table(
        "meeting_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "case_id", name="uq_meeting_case"),
    )
    with op.batch_alter_table("meeting_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_cases_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meeting_cases_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "board_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "case_id", "revision", name="uq_board_decision_revision"),
    )
    with op.batch_alter_table("board_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_decisions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_board_decisions_meeting_id"), ["meeting_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("board_decisions")
    op.drop_table("meeting_cases")
    op.drop_table("meetings")
    with op.batch_alter_table("case_versions", schema=None) as batch_op:
        batch_op.drop_column("reason")
