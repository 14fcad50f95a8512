"""The evaluator's durable state: partition ownership, subjects and the outbox.

Each input partition belongs to one owner at a time, fenced by an ``epoch``:
:func:`claim` bumps it, and :func:`commit` writes a batch (subject records, the next
offset to read, the output events for the outbox) in one transaction only while the
caller's epoch is still current. A stale owner's commit raises :class:`Fenced` and
writes nothing.

Errors::

    StoreError        the database refused or failed
    └── Fenced        another owner claimed the partition since
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from slawatch.store.schema import outbox, partitions, subjects

__all__ = [
    "Claim",
    "Fenced",
    "OutboxRow",
    "StoreError",
    "claim",
    "commit",
    "count_pending",
    "create_engine",
    "load_subjects",
    "mark_published",
    "pending",
]


class StoreError(RuntimeError):
    """The database refused or failed."""


class Fenced(StoreError):
    """The partition was claimed by another owner: this one may write nothing more."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A partition claimed: the owner's epoch and the next offset to read."""

    topic: str
    partition: int
    epoch: int
    next_offset: int


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An output waiting to be published."""

    seq: int
    topic: str
    key: str
    payload: str


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` with orjson for JSON columns."""
    options: dict[str, Any] = {
        "json_serializer": lambda value: orjson.dumps(value).decode(),
        "json_deserializer": orjson.loads,
        "pool_pre_ping": True,
    }
    if url.startswith("postgresql"):
        options["pool_size"] = 5
    return create_async_engine(url, **options)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database {dialect}")


async def claim(conn: AsyncConnection, topic: str, partition: int, owner: str) -> Claim:
    """Take a partition over: bump its epoch (fencing any earlier owner) and read its offset."""
    await conn.execute(
        _insert(conn, partitions)
        .values(topic=topic, partition=partition, epoch=0, next_offset=0)
        .on_conflict_do_nothing(index_elements=["topic", "partition"])
    )
    row = (
        await conn.execute(
            partitions.update()
            .where(partitions.c.topic == topic, partitions.c.partition == partition)
            .values(epoch=partitions.c.epoch + 1, owner=owner, updated_at=sa.func.now())
            .returning(partitions.c.epoch, partitions.c.next_offset)
        )
    ).one()
    return Claim(topic, partition, int(row.epoch), int(row.next_offset))


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
    outputs: Sequence[tuple[str, str, str, str]],
) -> None:
    """Write one batch if ``claimed`` is still current; raise :class:`Fenced` otherwise.

    ``records`` maps subject keys to their engine records; ``outputs`` are
    (id, topic, key, payload) tuples for the outbox. An id may legitimately appear
    again (an output retracted and later produced again, rule 6); a batch is never
    written twice, because it commits with the offset it consumed up to.
    Run it inside a transaction (``engine.begin()``); the fence is checked first.
    """
    fenced = await conn.execute(
        partitions.update()
        .where(
            partitions.c.topic == claimed.topic,
            partitions.c.partition == claimed.partition,
            partitions.c.epoch == claimed.epoch,
        )
        .values(next_offset=next_offset, updated_at=sa.func.now())
    )
    if fenced.rowcount != 1:
        raise Fenced(
            f"{claimed.topic}[{claimed.partition}] epoch {claimed.epoch} is no longer current"
        )
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
        stmt = _insert(conn, subjects)
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
    if outputs:
        await conn.execute(
            outbox.insert(),
            [
                {
                    "id": oid,
                    "source_topic": claimed.topic,
                    "source_partition": claimed.partition,
                    "topic": topic,
                    "key": key,
                    "payload": payload,
                }
                for oid, topic, key, payload in outputs
            ],
        )


async def pending(
    conn: AsyncConnection, owned: Sequence[tuple[str, int]], limit: int
) -> list[OutboxRow]:
    """Unpublished outbox rows of the owned partitions, oldest first, locked for this relay."""
    if not owned:
        return []
    query = (
        sa.select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.payload)
        .where(outbox.c.published_at.is_(None), _owned(owned))
        .order_by(outbox.c.seq)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [OutboxRow(r.seq, r.topic, r.key, r.payload) for r in await conn.execute(query)]


def _owned(owned: Sequence[tuple[str, int]]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(sa.and_(outbox.c.source_topic == t, outbox.c.source_partition == p) for t, p in owned)
    )


async def count_pending(conn: AsyncConnection, owned: Sequence[tuple[str, int]]) -> int:
    """How many outputs of the owned partitions wait to be published."""
    if not owned:
        return 0
    query = sa.select(sa.func.count()).where(outbox.c.published_at.is_(None), _owned(owned))
    return int((await conn.execute(query)).scalar_one())


async def mark_published(conn: AsyncConnection, seqs: Sequence[int]) -> None:
    """Mark outbox rows published."""
    if seqs:
        await conn.execute(
            outbox.update().where(outbox.c.seq.in_(seqs)).values(published_at=sa.func.now())
        )


async def purge_published(conn: AsyncConnection, older_than_seconds: int) -> int:
    """Delete rows published more than ``older_than_seconds`` ago; returns how many."""
    cutoff = sa.func.now() - sa.text(f"interval '{int(older_than_seconds)} seconds'")
    if conn.dialect.name == "sqlite":
        cutoff = sa.func.datetime("now", f"-{int(older_than_seconds)} seconds")
    result = await conn.execute(
        outbox.delete().where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
    )
    return int(result.rowcount or 0)
