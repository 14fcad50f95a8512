"""On SQLite, outbox numbers are never reused (``AUTOINCREMENT``).

Without it SQLite gives a new row the largest number in the table plus one, so once
the relay had deleted every row, the next batch got the number of one already
published. The relay, which tells published rows from waiting ones by their number,
then published a batch twice and could delete a waiting one unpublished. PostgreSQL's
sequence never reuses a number: nothing changes there.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


_COLUMNS = "seq, source_topic, source_partition, entries, body, created_at"


def _recreate(*, autoincrement: bool) -> None:
    """The outbox made again with or without ``AUTOINCREMENT``, its rows and numbers kept."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.create_table(
        "outbox_new",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_topic", sa.String(255), nullable=False),
        sa.Column("source_partition", sa.Integer, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sqlite_autoincrement=autoincrement,
    )
    bind.exec_driver_sql(f"INSERT INTO outbox_new ({_COLUMNS}) SELECT {_COLUMNS} FROM outbox")
    op.drop_index("outbox_by_source", table_name="outbox")
    op.drop_table("outbox")
    op.rename_table("outbox_new", "outbox")
    op.create_index("outbox_by_source", "outbox", ["source_topic", "source_partition", "seq"])


def upgrade() -> None:
    _recreate(autoincrement=True)


def downgrade() -> None:
    _recreate(autoincrement=False)
