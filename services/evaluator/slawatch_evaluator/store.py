"""The evaluator's durable state: its partitions' subjects, offsets and outputs.

:func:`commit` writes a batch (subject records, the next offset to read, the outputs
for the outbox) in one transaction, only while the caller's claim on the partition is
current (:mod:`slawatch.store.common` has ownership, fencing and the outbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from slawatch.store.common import (
    DB_ERRORS,
    Claim,
    Fenced,
    OutboxEntry,
    OutboxRow,
    StoreError,
    claim,
    count_pending,
    create_engine,
    fence,
    insert,
    mark_published,
    pending,
    purge_published,
    write_outbox,
)
from slawatch.store.schema import subjects

__all__ = [
    "DB_ERRORS",
    "Claim",
    "Fenced",
    "OutboxEntry",
    "OutboxRow",
    "StoreError",
    "claim",
    "commit",
    "count_pending",
    "create_engine",
    "load_subjects",
    "mark_published",
    "pending",
    "purge_published",
]


async def load_subjects(conn: AsyncConnection, topic: str, partition: int) -> list[dict[str, Any]]:
    """Every subject record of a partition."""
    result = await conn.execute(
        sa.select(subjects.c.record).where(
            subjects.c.topic == topic, subjects.c.partition == partition
        )
    )
    return [row.record for row in result]


async def commit(
    conn: AsyncConnection,
    claimed: Claim,
    next_offset: int,
    records: dict[str, dict[str, Any]],
    outputs: Sequence[OutboxEntry],
) -> None:
    """Write one batch if ``claimed`` is still current; raise :class:`Fenced` otherwise.

    ``records`` maps subject keys to their engine records; ``outputs`` go to the
    outbox. A batch is never written twice: it commits with the offset it consumed
    up to. Run it inside a transaction (``engine.begin()``); the fence is checked first.
    """
    await fence(conn, claimed, next_offset)
    if records:
        rows = [
            {
                "key": key,
                "topic": claimed.topic,
                "partition": claimed.partition,
                "record": record,
                "next_due": record.get("due"),
            }
            for key, record in records.items()
        ]
        stmt = insert(conn, subjects)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "record": stmt.excluded.record,
                    "topic": stmt.excluded.topic,
                    "partition": stmt.excluded.partition,
                    "next_due": stmt.excluded.next_due,
                },
            ),
            rows,
        )
    await write_outbox(conn, (claimed.topic, claimed.partition), outputs)
