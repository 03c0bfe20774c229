"""the case list's filter keys stored with each case version, so the list pages in the database

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("list_stage", "list_relapse_type", "list_relapse_pattern")
#: Versions read and updated per round trip while the keys of stored versions are filled in.
BATCH = 200


def upgrade() -> None:
    with op.batch_alter_table("case_versions", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Text(), nullable=False, server_default="not_assessed")
            )
    _fill_keys()
    with op.batch_alter_table("case_versions", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(name, server_default=None)


def _fill_keys() -> None:
    """Each stored version's keys, from the assessment stored with it."""
    from rhabdo.service.caselist import list_keys

    bind = op.get_bind()
    versions = sa.table(
        "case_versions",
        sa.column("id", sa.Integer()),
        sa.column("assessment", sa.JSON()),
        *(sa.column(name, sa.Text()) for name in COLUMNS),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.assessment)
            .where(versions.c.id > last, versions.c.assessment.is_not(None))
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for version_id, assessment in rows:
            keys = list_keys(assessment if isinstance(assessment, dict) else None)
            values: dict[str, Any] = {
                "list_stage": keys.stage,
                "list_relapse_type": keys.relapse_type,
                "list_relapse_pattern": keys.relapse_pattern,
            }
            bind.execute(versions.update().where(versions.c.id == version_id).values(**values))
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("case_versions", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
