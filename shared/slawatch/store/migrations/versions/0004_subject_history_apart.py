"""Subjects' histories apart from their state, and compact encodings for the hot tables.

``subjects`` (one JSON record per subject, history inside) becomes ``subject_states``
(the record without history, as orjson bytes) and ``subject_history`` (one row per
event line), so a commit writes what a batch changed rather than whole histories.
The outbox's headers become text. Existing rows are converted.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_IN_RECORD_ONLY = ("history", "ids")


def _split(record: Any) -> tuple[bytes, list[str]]:
    if isinstance(record, str | bytes):
        record = orjson.loads(record)
    history = record.get("history")
    state = {k: v for k, v in record.items() if k not in _IN_RECORD_ONLY}
    state["kept"] = history is not None
    return orjson.dumps(state), list(history or ())


def _ids(lines: list[str]) -> list[list[str | None]]:
    pairs = set()
    for line in lines:
        event = orjson.loads(line)
        pairs.add((event.get("source"), event["id"]))
    ordered = sorted(pairs, key=lambda p: (p[0] or "", p[0] is None, p[1]))
    return [list(p) for p in ordered]


def upgrade() -> None:
    states = op.create_table(
        "subject_states",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("next_due", sa.BigInteger, nullable=True),
    )
    op.create_index("subject_states_by_partition", "subject_states", ["topic", "partition"])
    history = op.create_table(
        "subject_history",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("line", sa.Text, nullable=False),
    )
    bind = op.get_bind()
    old = sa.table(
        "subjects",
        sa.column("key"),
        sa.column("topic"),
        sa.column("partition"),
        sa.column("record"),
        sa.column("next_due"),
    )
    for row in bind.execute(sa.select(old)):
        state, lines = _split(row.record)
        bind.execute(
            states.insert().values(
                key=row.key,
                topic=row.topic,
                partition=row.partition,
                state=state,
                next_due=row.next_due,
            )
        )
        if lines:
            bind.execute(
                history.insert(),
                [
                    {
                        "topic": row.topic,
                        "partition": row.partition,
                        "key": row.key,
                        "seq": n,
                        "line": line,
                    }
                    for n, line in enumerate(lines)
                ],
            )
    op.drop_index("subjects_by_partition", table_name="subjects")
    op.drop_table("subjects")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox ALTER COLUMN headers TYPE text USING headers::text")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox ALTER COLUMN headers TYPE jsonb USING headers::jsonb")
    json = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
    subjects = op.create_table(
        "subjects",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("record", json, nullable=False),
        sa.Column("next_due", sa.BigInteger, nullable=True),
    )
    op.create_index("subjects_by_partition", "subjects", ["topic", "partition"])
    states = sa.table(
        "subject_states", sa.column("key"), sa.column("topic"), sa.column("partition"),
        sa.column("state", sa.LargeBinary), sa.column("next_due"),
    )  # fmt: skip
    history = sa.table("subject_history", sa.column("key"), sa.column("seq"), sa.column("line"))
    for row in bind.execute(sa.select(states)):
        record = orjson.loads(row.state)
        lines = [
            r.line
            for r in bind.execute(
                sa.select(history.c.line).where(history.c.key == row.key).order_by(history.c.seq)
            )
        ]
        kept = record.pop("kept", True)
        record["history"] = lines if kept else None
        record["ids"] = None if not kept else _ids(lines)
        bind.execute(
            subjects.insert().values(
                key=row.key,
                topic=row.topic,
                partition=row.partition,
                record=record,
                next_due=row.next_due,
            )
        )
    op.drop_table("subject_history")
    op.drop_index("subject_states_by_partition", table_name="subject_states")
    op.drop_table("subject_states")
