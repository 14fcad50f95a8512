"""The evaluator's durable state: its partitions' subjects, offsets and outputs.

:func:`commit` writes a batch (subject records, the history lines the batch added,
the next offset to read, the outputs for the outbox) in one transaction, only while
the caller's claim on the partition is current (:mod:`slawatch.store.common` has
ownership, fencing and the outbox). On PostgreSQL the rows go in bulk (``unnest``,
``COPY``); elsewhere through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from slawatch.clock.engine import StoredChange
from slawatch.store.common import (
    DB_ERRORS,
    Claim,
    Fenced,
    OutboxEntry,
    OutboxRow,
    StoreError,
    asyncpg_of,
    claim,
    count_pending,
    create_engine,
    fence,
    insert,
    pending,
    write_outbox,
)
from slawatch.store.schema import (
    DEADLINE_UNKNOWN,
    availability_counted,
    subject_history,
    subject_states,
)
from slawatch_evaluator.availability_metrics import Counted

__all__ = [
    "DB_ERRORS",
    "Claim",
    "Fenced",
    "OutboxEntry",
    "OutboxRow",
    "StoreError",
    "Stored",
    "claim",
    "commit",
    "count_pending",
    "create_engine",
    "due_rows",
    "load_counted",
    "load_subjects",
    "pending",
    "save_counted",
    "unknown_deadlines",
]

Stored = tuple[bytes, list[str]]
"""A subject as stored: its record (orjson bytes) and its history lines in order."""

_UPSERT_STATES = """
INSERT INTO subject_states (key, topic, partition, state, next_due, deadline)
SELECT k, $1, $2, s, d, l
FROM unnest($3::varchar[], $4::bytea[], $5::bigint[], $6::bigint[]) AS u(k, s, d, l)
ON CONFLICT (key) DO UPDATE SET state = excluded.state, topic = excluded.topic,
    partition = excluded.partition, next_due = excluded.next_due,
    deadline = excluded.deadline
"""
_DELETE_HISTORY = """
DELETE FROM subject_history WHERE topic = $1 AND partition = $2 AND key = ANY($3::varchar[])
"""
_STATES = "SELECT key, state FROM subject_states WHERE topic = $1 AND partition = $2"
_HISTORY = "SELECT key, seq, line FROM subject_history WHERE topic = $1 AND partition = $2"
_HISTORY_COLUMNS = ("topic", "partition", "key", "seq", "line")


async def load_state(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    """One subject's stored record (as :meth:`Engine.export_change` made it), or ``None``."""
    found = (
        await conn.execute(sa.select(subject_states.c.state).where(subject_states.c.key == key))
    ).first()
    return None if found is None else dict(orjson.loads(bytes(found.state)))


async def load_subjects(conn: AsyncConnection, topic: str, partition: int) -> list[Stored]:
    """Every subject of a partition: its stored record (orjson bytes) and history lines.

    Lines are put in order here rather than by the database, which would sort a
    partition's whole history for it.
    """
    driver = await asyncpg_of(conn, begin=True)
    if driver is not None:
        states = await driver.fetch(_STATES, topic, partition)
        history = await driver.fetch(_HISTORY, topic, partition)
    else:
        states = list(
            await conn.execute(
                sa.select(subject_states.c.key, subject_states.c.state).where(
                    subject_states.c.topic == topic, subject_states.c.partition == partition
                )
            )
        )
        history = list(
            await conn.execute(
                sa.select(
                    subject_history.c.key, subject_history.c.seq, subject_history.c.line
                ).where(subject_history.c.topic == topic, subject_history.c.partition == partition)
            )
        )
    numbered: dict[str, list[tuple[int, str]]] = {}
    for key, seq, line in history:
        found = numbered.get(key)
        if found is None:
            numbered[key] = [(seq, line)]
        else:
            found.append((seq, line))
    lines = {key: [line for _, line in sorted(found)] for key, found in numbered.items()}
    return [(bytes(state), lines.get(key, [])) for key, state in states]


async def unknown_deadlines(conn: AsyncConnection, topic: str, partition: int) -> list[str]:
    """The subjects of a partition whose row was written before deadlines were kept
    (migration 0010): their owner writes them again once it has loaded them."""
    found = await conn.execute(
        sa.select(subject_states.c.key).where(
            subject_states.c.topic == topic,
            subject_states.c.partition == partition,
            subject_states.c.deadline == DEADLINE_UNKNOWN,
        )
    )
    return list(found.scalars())


async def due_rows(
    conn: AsyncConnection, topic: str, until: int, after: tuple[int, str] | None, count: int
) -> list[tuple[str, bytes, int]]:
    """Up to ``count`` ticket rows of ``topic`` whose soonest deadline is by ``until``, as
    (key, record, deadline), in order of deadline and key from after ``after``. No
    clock of a row is due before the row's deadline."""
    c = subject_states.c
    query = sa.select(c.key, c.state, c.deadline).where(
        c.deadline.is_not(None), c.deadline <= until, c.topic == topic, c.key.startswith("ticket:")
    )
    if after is not None:
        query = query.where(sa.tuple_(c.topic, c.deadline, c.key) > (topic, *after))
    rows = await conn.execute(query.order_by(c.deadline, c.key).limit(count))
    return [(r.key, bytes(r.state), r.deadline) for r in rows]


async def load_counted(conn: AsyncConnection, topic: str) -> Counted:
    """What the owners of the objectives of ``topic`` have counted so far (the
    :class:`~slawatch_evaluator.availability_metrics.AvailabilityMetrics` records)."""
    table = availability_counted.c
    rows = await conn.execute(
        sa.select(
            table.sla, table.kind, table.window_start, table.downtime_seconds,
            table.measured_seconds,
        ).where(table.topic == topic)
    )  # fmt: skip
    return {(r.sla, r.kind): (r.window_start, r.downtime_seconds, r.measured_seconds) for r in rows}


async def save_counted(conn: AsyncConnection, topic: str, counted: Counted) -> None:
    """Record what this process has counted for some objectives of ``topic``."""
    rows = [
        {"topic": topic, "sla": sla, "kind": kind, "window_start": start,
         "downtime_seconds": downtime, "measured_seconds": measured}
        for (sla, kind), (start, downtime, measured) in sorted(counted.items())
    ]  # fmt: skip
    if not rows:
        return
    stmt = insert(conn, availability_counted)
    excluded = stmt.excluded
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["topic", "sla", "kind"],
            set_={"window_start": excluded.window_start,
                  "downtime_seconds": excluded.downtime_seconds,
                  "measured_seconds": excluded.measured_seconds},
        ),
        rows,
    )  # fmt: skip


async def commit(
    conn: AsyncConnection,
    claimed: Claim,
    next_offset: int,
    changes: Sequence[StoredChange],
    outputs: Sequence[OutboxEntry],
) -> list[int]:
    """Write one batch if ``claimed`` is still current; raise :class:`Fenced` otherwise.

    ``changes`` are the subjects the batch changed; ``outputs`` go to the outbox, and
    their outbox numbers are returned. A batch is never written twice: it commits with
    the offset it consumed up to. Run it inside a transaction (``engine.begin()``); the
    fence is checked first.
    """
    await fence(conn, claimed, next_offset)
    if changes:
        driver = await asyncpg_of(conn)
        if driver is not None:
            await _write_bulk(driver, claimed, changes)
        else:
            await _write(conn, claimed, changes)
    return await write_outbox(conn, (claimed.topic, claimed.partition), outputs)


async def _write_bulk(driver: Any, claimed: Claim, changes: Sequence[StoredChange]) -> None:
    topic, partition = claimed.topic, claimed.partition
    await driver.execute(
        _UPSERT_STATES,
        topic,
        partition,
        [c.key for c in changes],
        [orjson.dumps(c.record) for c in changes],
        [c.due for c in changes],
        [c.deadline for c in changes],
    )
    rewritten = [c.key for c in changes if c.rewrite]
    if rewritten:
        await driver.execute(_DELETE_HISTORY, topic, partition, rewritten)
    lines = [
        (topic, partition, c.key, c.start + n, line)
        for c in changes
        for n, line in enumerate(c.lines)
    ]
    if lines:
        await driver.copy_records_to_table(
            "subject_history", columns=_HISTORY_COLUMNS, records=lines
        )


async def _write(conn: AsyncConnection, claimed: Claim, changes: Sequence[StoredChange]) -> None:
    topic, partition = claimed.topic, claimed.partition
    rows = [
        {
            "key": c.key,
            "topic": topic,
            "partition": partition,
            "state": orjson.dumps(c.record),
            "next_due": c.due,
            "deadline": c.deadline,
        }
        for c in changes
    ]
    stmt = insert(conn, subject_states)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "state": stmt.excluded.state,
                "topic": stmt.excluded.topic,
                "partition": stmt.excluded.partition,
                "next_due": stmt.excluded.next_due,
                "deadline": stmt.excluded.deadline,
            },
        ),
        rows,
    )
    rewritten = [c.key for c in changes if c.rewrite]
    if rewritten:
        await conn.execute(
            subject_history.delete().where(
                subject_history.c.topic == topic,
                subject_history.c.partition == partition,
                subject_history.c.key.in_(rewritten),
            )
        )
    lines = [
        {"topic": topic, "partition": partition, "key": c.key, "seq": c.start + n, "line": line}
        for c in changes
        for n, line in enumerate(c.lines)
    ]
    if lines:
        await conn.execute(subject_history.insert(), lines)
