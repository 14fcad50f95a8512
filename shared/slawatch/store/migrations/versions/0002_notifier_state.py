"""The notifier's state: escalation planners per partition, the notification log, acks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "escalation_state",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("record", JSON, nullable=False),
    )
    op.create_table(
        "notification_log",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("escalation", sa.String(255), nullable=False),
        sa.Column("escalation_id", sa.String(1024), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("notice", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(255), nullable=True),
        sa.Column("recipient", sa.String(1024), nullable=True),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("record", JSON, nullable=False),
        sa.Column("event", JSON, nullable=True),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
        sa.Column("sent_by", sa.String(255), nullable=True),
    )
    op.create_index("notification_log_pending", "notification_log", ["status", "next_attempt_at"])
    op.create_index("notification_log_recipient", "notification_log", ["recipient", "sent_at"])
    op.create_index("notification_log_escalation", "notification_log", ["escalation_id"])
    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("sla", sa.String(255), nullable=True),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("cycle", sa.Integer, nullable=True),
        sa.Column("by", sa.String(512), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("acknowledgements")
    op.drop_table("notification_log")
    op.drop_table("escalation_state")
