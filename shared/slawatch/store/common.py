"""What the services' stores share: partition ownership with fencing, and the outbox.

Each input partition belongs to one owner at a time, fenced by an ``epoch``:
:func:`claim` bumps it, and a service's commit writes only while the caller's epoch is
still current (:func:`fence`). Outputs are written to the ``outbox`` with the state
that produced them and published by a relay, which deletes what it publishes
(:func:`take`) and reads back only what was not handed to it (:func:`pending`).

Errors::

    StoreError        the database refused or failed
    └── Fenced        another owner claimed the partition since
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from slawatch.store.schema import outbox, partitions

__all__ = [
    "DB_ERRORS",
    "Claim",
    "Fenced",
    "OutboxEntry",
    "OutboxRow",
    "StoreError",
    "asyncpg_of",
    "claim",
    "count_pending",
    "create_engine",
    "fence",
    "headers_of",
    "headers_text",
    "insert",
    "pending",
    "take",
    "write_outbox",
]


DB_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    ConnectionError,
    TimeoutError,
)
"""What a database that is down, restarting or unreachable raises: retry, do not crash."""


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


class OutboxEntry(NamedTuple):
    """An output to write to the outbox with the batch that produced it (a tuple: one is
    built per output)."""

    id: str
    topic: str
    key: str
    payload: str
    headers: tuple[tuple[str, bytes], ...] = ()


class OutboxRow(NamedTuple):
    """An output waiting to be published."""

    seq: int
    topic: str
    key: str
    payload: str
    headers: tuple[tuple[str, bytes], ...] = ()


def headers_text(headers: tuple[tuple[str, bytes], ...]) -> str | None:
    """Record headers as the outbox stores them: JSON text of ``[name, value]`` pairs."""
    if not headers:
        return None
    return orjson.dumps([[name, value.decode()] for name, value in headers]).decode()


def headers_of(text: str | None) -> tuple[tuple[str, bytes], ...]:
    """Record headers from :func:`headers_text`."""
    return tuple((name, value.encode()) for name, value in orjson.loads(text)) if text else ()


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


async def asyncpg_of(conn: AsyncConnection, *, begin: bool = False) -> Any | None:
    """The asyncpg connection under ``conn``, inside its transaction; ``None`` elsewhere.

    The bulk paths (``COPY``, ``unnest``) use it on PostgreSQL. SQLAlchemy begins its
    transaction at the first statement through ``conn``; with ``begin`` a trivial one is
    run when none has been, else ``None`` is returned outside a transaction.
    """
    if conn.dialect.name != "postgresql":
        return None
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is not None and begin and not driver.is_in_transaction() and conn.in_transaction():
        await conn.execute(sa.text("SELECT 1"))
    if driver is None or not driver.is_in_transaction():
        return None
    return driver


def insert(conn: AsyncConnection, table: sa.Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database {dialect}")


async def claim(conn: AsyncConnection, topic: str, partition: int, owner: str) -> Claim:
    """Take a partition over: bump its epoch (fencing any earlier owner) and read its offset."""
    await conn.execute(
        insert(conn, partitions)
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


async def fence(conn: AsyncConnection, claimed: Claim, next_offset: int) -> None:
    """Record the next offset to read, if ``claimed`` is still current; else :class:`Fenced`."""
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


async def write_outbox(
    conn: AsyncConnection, source: tuple[str, int], entries: Sequence[OutboxEntry]
) -> list[int]:
    """Add outputs to the outbox; returns their ``seq`` numbers, in order.

    An id may appear again (re-emitted after a retraction). The numbers let the caller
    hand the committed rows to the relay (:meth:`~slawatch.store.relay.OutboxRelay.offer`)
    instead of having it read them back.
    """
    if not entries:
        return []
    driver = await asyncpg_of(conn)
    if driver is not None:
        topic, partition = source
        seqs: list[int] = await driver.fetchval(_NEXT_SEQS, len(entries))
        texts: dict[tuple[tuple[str, bytes], ...], str | None] = {}
        records = []
        for seq, e in zip(seqs, entries, strict=True):
            text = texts.get(e.headers, _MISSING)
            if text is _MISSING:
                text = texts[e.headers] = headers_text(e.headers)
            records.append((seq, e.id, topic, partition, e.topic, e.key, e.payload, text))
        await driver.copy_records_to_table("outbox", columns=_OUTBOX_COLUMNS, records=records)
        return seqs
    rows = await conn.execute(
        outbox.insert().returning(outbox.c.seq, sort_by_parameter_order=True),
        [
            {
                "id": entry.id,
                "source_topic": source[0],
                "source_partition": source[1],
                "topic": entry.topic,
                "key": entry.key,
                "payload": entry.payload,
                "headers": headers_text(entry.headers),
            }
            for entry in entries
        ],
    )
    return [int(seq) for seq in rows.scalars()]


_MISSING: Any = object()
_NEXT_SEQS = """
WITH outbox_seq AS MATERIALIZED (SELECT pg_get_serial_sequence('outbox', 'seq')::regclass AS s)
SELECT array_agg(n ORDER BY n) FROM (
    SELECT nextval(outbox_seq.s) AS n FROM outbox_seq, generate_series(1, $1)
) AS taken
"""
"""``$1`` outbox numbers, ascending, in one array. The sequence is looked up once (the
materialized CTE): called per row, ``pg_get_serial_sequence`` cost 7 times the numbers."""
_OUTBOX_COLUMNS = (
    "seq", "id", "source_topic", "source_partition", "topic", "key", "payload", "headers",
)  # fmt: skip


async def pending(
    conn: AsyncConnection, owned: Sequence[tuple[str, int]], limit: int
) -> list[OutboxRow]:
    """Outbox rows of the owned partitions, oldest first, locked for this relay."""
    if not owned:
        return []
    driver = await asyncpg_of(conn, begin=True)
    if driver is not None:
        rows = await driver.fetch(_PENDING, [t for t, _ in owned], [p for _, p in owned], limit)
    else:
        query = (
            sa.select(
                outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.headers
            )
            .where(_owned(owned))
            .order_by(outbox.c.seq)
            .limit(limit)
        )
        rows = list(await conn.execute(query))
    decoded: dict[str | None, tuple[tuple[str, bytes], ...]] = {}
    found = []
    for seq, topic, key, payload, text in rows:
        headers = decoded.get(text)
        if headers is None:
            headers = decoded[text] = headers_of(text)
        found.append(OutboxRow(seq, topic, key, payload, headers))
    return found


_PENDING = """
SELECT seq, topic, key, payload, headers FROM outbox
WHERE (source_topic, source_partition) IN (
    SELECT t, p FROM unnest($1::varchar[], $2::int[]) AS owned(t, p))
ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED
"""
_TAKE = "DELETE FROM outbox WHERE seq = ANY($1::bigint[]) RETURNING seq"


def _owned(owned: Sequence[tuple[str, int]]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(sa.and_(outbox.c.source_topic == t, outbox.c.source_partition == p) for t, p in owned)
    )


async def count_pending(conn: AsyncConnection, owned: Sequence[tuple[str, int]]) -> int:
    """How many outputs of the owned partitions wait to be published."""
    if not owned:
        return 0
    query = sa.select(sa.func.count()).where(_owned(owned))
    return int((await conn.execute(query)).scalar_one())


async def take(conn: AsyncConnection, seqs: Sequence[int]) -> set[int]:
    """Delete outbox rows about to be published; returns the ``seq`` numbers still there.

    Rows another relay took meanwhile are not returned (the deletion waits for that
    relay's transaction). Publish inside the same transaction: if publishing fails, the
    rollback puts the rows back.
    """
    if not seqs:
        return set()
    driver = await asyncpg_of(conn, begin=True)
    if driver is not None:
        return {row[0] for row in await driver.fetch(_TAKE, list(seqs))}
    result = await conn.execute(
        outbox.delete().where(outbox.c.seq.in_(seqs)).returning(outbox.c.seq)
    )
    return {int(seq) for seq in result.scalars()}
