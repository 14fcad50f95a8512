"""The outbox holds only what is not yet published.

The relay used to mark each published row (``published_at``) and delete it minutes
later: two writes per output. It now deletes rows as it publishes them, so the
column and its partial index go; rows already published are deleted here.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM outbox WHERE published_at IS NOT NULL")
    op.drop_index("outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("published_at")
    op.create_index("outbox_by_source", "outbox", ["source_topic", "source_partition", "seq"])


def downgrade() -> None:
    op.drop_index("outbox_by_source", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "outbox_pending",
        "outbox",
        ["source_topic", "source_partition", "seq"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
