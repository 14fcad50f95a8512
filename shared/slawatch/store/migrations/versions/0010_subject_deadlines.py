"""Each subject's soonest clock deadline, so that a due listing reads only those due.

``subject_states.deadline`` is the earliest ``deadline`` among a ticket's open clocks
that have one (running, or breached); ``NULL`` when it has none (and for services).
``GET /v1/clocks?due_within=`` reads the rows due by an instant through the index on
it. Ticket rows written before this revision (or inserted by an evaluator of an older
version, the column's default) hold ``-1``, "not known yet": the listing decodes them as
it would any due row, and their owner writes the real value with its first commit after
loading them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNKNOWN = -1
"""The ``deadline`` of a ticket row written before this revision, and the column's
default: a row an evaluator of an older version inserts is read as one of those."""


def upgrade() -> None:
    column = sa.Column("deadline", sa.BigInteger, nullable=True, server_default=str(UNKNOWN))
    op.add_column("subject_states", column)
    op.execute(sa.text("UPDATE subject_states SET deadline = NULL WHERE key NOT LIKE 'ticket:%'"))
    op.create_index(
        "subject_states_by_deadline",
        "subject_states",
        ["topic", "deadline", "key"],
        postgresql_where=sa.text("deadline IS NOT NULL"),
        sqlite_where=sa.text("deadline IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("subject_states_by_deadline", table_name="subject_states")
    op.drop_column("subject_states", "deadline")
