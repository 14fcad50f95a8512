"""The database schema, as SQLAlchemy Core tables; Alembic migrations create it.

One schema serves PostgreSQL (the services) and SQLite (standalone). JSON columns
are JSONB on PostgreSQL.

- ``partitions``: per input partition, its owner's fencing ``epoch`` and the next
  offset to read; an owner whose epoch is no longer current may write nothing.
- ``subject_states``: each subject's engine record without its history
  (``Engine.export_change``), as orjson bytes, by partition, with its next timer and
  its open ticket clocks' soonest deadline (``-1``: written before that was kept);
- ``subject_history``: each subject's history, one event line per row, in order.
- ``outbox``: output events written with the state that produced them, one row per
  committed batch, until a relay has published them to the bus (it deletes them as it
  publishes).
- ``availability_counted``: per canonical topic and availability objective, the window
  and the downtime and measured seconds its owner has added to the Prometheus counters
  so far, so that the next owner goes on from there.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "DEADLINE_UNKNOWN",
    "acknowledgements",
    "availability_counted",
    "definitions_versions",
    "escalation_state",
    "metadata",
    "notification_log",
    "outbox",
    "partitions",
    "subject_history",
    "subject_states",
]

metadata = sa.MetaData()

JSON = sa.JSON().with_variant(JSONB(), "postgresql")

partitions = sa.Table(
    "partitions",
    metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("owner", sa.String(255), nullable=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

DEADLINE_UNKNOWN = -1
"""``subject_states.deadline`` of a row written before the column was (migration 0010)."""

subject_states = sa.Table(
    "subject_states",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("next_due", sa.BigInteger, nullable=True),
    sa.Column("deadline", sa.BigInteger, nullable=True, server_default=str(DEADLINE_UNKNOWN)),
    sa.Index("subject_states_by_partition", "topic", "partition"),
    sa.Index(
        "subject_states_by_deadline",
        "topic",
        "deadline",
        "key",
        postgresql_where=sa.text("deadline IS NOT NULL"),
        sqlite_where=sa.text("deadline IS NOT NULL"),
    ),
)

availability_counted = sa.Table(
    "availability_counted",
    metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("sla", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("downtime_seconds", sa.Float, nullable=False),
    sa.Column("measured_seconds", sa.Float, nullable=False),
)

subject_history = sa.Table(
    "subject_history",
    metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("line", sa.Text, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("source_topic", sa.String(255), nullable=False),
    sa.Column("source_partition", sa.Integer, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("outbox_by_source", "source_topic", "source_partition", "seq"),
    sqlite_autoincrement=True,
)
"""Outputs committed and not yet published: one row per committed batch of a source
partition, ``body`` its outputs (``slawatch.store.common.pack_entries``)."""

escalation_state = sa.Table(
    "escalation_state",
    metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("record", JSON, nullable=False),
)

notification_log = sa.Table(
    "notification_log",
    metadata,
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
    sa.Index("notification_log_pending", "status", "next_attempt_at"),
    sa.Index("notification_log_recipient", "recipient", "sent_at"),
    sa.Index("notification_log_escalation", "escalation_id"),
)

acknowledgements = sa.Table(
    "acknowledgements",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("subject", sa.String(512), nullable=False),
    sa.Column("sla", sa.String(255), nullable=True),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("cycle", sa.Integer, nullable=True),
    sa.Column("by", sa.String(512), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("at", sa.BigInteger, nullable=False),
)

definitions_versions = sa.Table(
    "definitions_versions",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("effective_from", sa.BigInteger, nullable=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column(
        "accepted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("holidays", sa.Text, nullable=True),
)
