"""The outbox relay on SQLite and on the real PostgreSQL: offered rows, rows read back,
order per source partition, failed publishes, two relays at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.support.live import fresh_database

from slawatch.bus.base import Message, PublishError
from slawatch.bus.memory import MemoryBus
from slawatch.store.common import (
    OutboxEntry,
    create_engine,
    pack_entries,
    unpack_entries,
    write_outbox,
)
from slawatch.store.migrate import upgrade
from slawatch.store.relay import BATCH, OutboxRelay

SOURCE = ("t.canonical", 0)
OTHER = ("t.canonical", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/outbox.db"
        upgrade(url)
        engine = create_engine(url)
        yield engine
        await engine.dispose()
        return
    async with fresh_database() as (_, url):
        engine = create_engine(url)
        yield engine
        await engine.dispose()


def entries(*ids: str) -> list[OutboxEntry]:
    return [OutboxEntry(i, "t.sla-events", "ticket:T-1", f'{{"id":"{i}"}}') for i in ids]


async def commit(db: AsyncEngine, source: tuple[str, int], rows: list[OutboxEntry]) -> list[int]:
    async with db.begin() as conn:
        return await write_outbox(conn, source, rows)


async def left(db: AsyncEngine) -> int:
    """Outputs still in the outbox."""
    async with db.connect() as conn:
        query = sa.text("SELECT coalesce(sum(entries), 0) FROM outbox")
        return int((await conn.execute(query)).scalar_one())


async def rows_in_outbox(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM outbox"))).scalar_one())


def published(bus: MemoryBus) -> list[str]:
    topic = "t.sla-events"
    return [
        r.value.decode()[7:-2]
        for p in range(bus.partitions(topic))
        for r in bus.read(topic, p, 0, 10**9)
    ]


def relay_for(db: AsyncEngine, bus: MemoryBus, owned: Sequence[tuple[str, int]]) -> OutboxRelay:
    return OutboxRelay(db, bus, lambda: list(owned))


async def test_offered_rows_are_published_in_order_and_deleted(db: AsyncEngine) -> None:
    bus = MemoryBus(partitions=1)
    relay = relay_for(db, bus, [SOURCE])
    await relay.drain()
    for batch in (("a", "b"), ("c",), ("d", "e")):
        rows = entries(*batch)
        relay.offer(SOURCE, await commit(db, SOURCE, rows), rows)
    await relay.drain()
    assert published(bus) == ["a", "b", "c", "d", "e"]
    assert await left(db) == 0


async def test_rows_nobody_offered_go_out_first(db: AsyncEngine) -> None:
    bus = MemoryBus(partitions=1)
    await commit(db, SOURCE, entries("old-1", "old-2"))
    relay = relay_for(db, bus, [SOURCE])
    relay.wake()
    rows = entries("new")
    relay.offer(SOURCE, await commit(db, SOURCE, rows), rows)
    await relay.drain()
    assert published(bus) == ["old-1", "old-2", "new"]
    assert await left(db) == 0


async def test_offered_rows_a_read_published_are_not_published_again(db: AsyncEngine) -> None:
    bus = MemoryBus(partitions=1)
    relay = relay_for(db, bus, [SOURCE])
    rows = entries("a", "b")
    seqs = await commit(db, SOURCE, rows)
    await relay.drain()  # a read (the relay starts by reading) takes them
    relay.offer(SOURCE, seqs, rows)
    await relay.drain()
    assert published(bus) == ["a", "b"]


async def test_offered_rows_of_a_partition_no_longer_owned_stay_for_its_next_owner(
    db: AsyncEngine,
) -> None:
    bus = MemoryBus(partitions=1)
    relay = relay_for(db, bus, [SOURCE])
    await relay.drain()
    mine, theirs = entries("mine"), entries("theirs")
    relay.offer(OTHER, await commit(db, OTHER, theirs), theirs)
    relay.offer(SOURCE, await commit(db, SOURCE, mine), mine)
    await relay.drain()
    assert published(bus) == ["mine"]
    assert await left(db) == 1
    next_owner = relay_for(db, bus, [OTHER])
    await next_owner.drain()
    assert published(bus) == ["mine", "theirs"]


class FailingOnce(MemoryBus):
    """An in-process bus whose first publish is refused."""

    def __init__(self) -> None:
        super().__init__(partitions=1)
        self.refused = 0

    async def publish(self, messages: Sequence[Message]) -> None:
        if not self.refused:
            self.refused += 1
            raise PublishError("broker unavailable")
        await super().publish(messages)


async def test_a_refused_publish_leaves_the_rows_and_they_go_out_once_in_order(
    db: AsyncEngine,
) -> None:
    bus = FailingOnce()
    relay = OutboxRelay(db, bus, lambda: [SOURCE])
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.05)
    for batch in (("a", "b"), ("c",)):
        rows = entries(*batch)
        relay.offer(SOURCE, await commit(db, SOURCE, rows), rows)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if await left(db) == 0:
            break
    relay.stop()
    await task
    assert bus.refused == 1
    assert published(bus) == ["a", "b", "c"]
    assert relay.healthy


async def test_more_rows_than_one_round_all_go_out(db: AsyncEngine) -> None:
    bus = MemoryBus(partitions=1)
    ids = [f"r{n}" for n in range(BATCH + 10)]
    await commit(db, SOURCE, entries(*ids))
    relay = relay_for(db, bus, [SOURCE])
    await relay.drain()
    assert published(bus) == ids


async def test_a_batch_is_one_row_whose_outputs_share_its_number(db: AsyncEngine) -> None:
    first = await commit(db, SOURCE, entries("a", "b", "c"))
    second = await commit(db, SOURCE, entries("d"))
    assert len(set(first)) == 1 and len(first) == 3
    assert second[0] > first[0]
    assert await rows_in_outbox(db) == 2
    assert await left(db) == 4


def test_packed_outputs_keep_their_fields_and_headers() -> None:
    headers = (("slawatch-ticket", '{"fields":{"priority":"P1","title":"é"}}'.encode()),)
    batch = [
        OutboxEntry("a", "t.sla-events", "ticket:T-1", '{"id":"a","x":"\\"}', headers),
        OutboxEntry("b", "t.deadletter", "", '{"id":"b"}'),
        OutboxEntry("c", "t.sla-events", "ticket:T-2", '{"id":"c"}', headers),
    ]
    assert unpack_entries(pack_entries(batch)) == batch


async def test_many_batches_past_one_round_go_out_by_reading_in_order(db: AsyncEngine) -> None:
    bus = MemoryBus(partitions=1)
    expected: list[str] = []
    for n in range(7):
        ids = [f"b{n}-{i}" for i in range(BATCH // 3)]
        await commit(db, SOURCE if n % 2 else OTHER, entries(*ids))
        expected += ids
    relay = relay_for(db, bus, [SOURCE, OTHER])
    await relay.drain()
    assert published(bus) == expected
    assert await rows_in_outbox(db) == 0


@pytest.mark.postgres
async def test_two_relays_at_once_publish_every_row_once() -> None:
    async with fresh_database() as (_, url):
        db = create_engine(url)
        bus = MemoryBus(partitions=1)
        offering, reading = relay_for(db, bus, [SOURCE]), relay_for(db, bus, [SOURCE])
        await offering.drain()
        expected: list[str] = []
        for n in range(20):
            rows = entries(*(f"b{n}-{i}" for i in range(50)))
            expected += [r.id for r in rows]
            offering.offer(SOURCE, await commit(db, SOURCE, rows), rows)
            reading.wake()
            await asyncio.gather(offering.drain(), reading.drain())
        await db.dispose()
    assert sorted(published(bus)) == sorted(expected)


class Refusing(MemoryBus):
    """An in-process bus that refuses every publish (a broker that is down)."""

    async def publish(self, messages: Sequence[Message]) -> None:
        raise PublishError("broker unavailable")


async def test_the_backlog_counts_rows_waiting_while_the_bus_refuses(db: AsyncEngine) -> None:
    seen: list[int] = []
    relay = OutboxRelay(db, Refusing(partitions=1), lambda: [SOURCE], backlog=seen.append)
    task = asyncio.create_task(relay.run())
    rows = entries("a", "b", "c")
    relay.offer(SOURCE, await commit(db, SOURCE, rows), rows)
    for _ in range(100):
        await asyncio.sleep(0.1)
        if 3 in seen:
            break
    relay.stop()
    await task
    assert 3 in seen
    assert not relay.healthy
    assert await left(db) == 3


async def test_an_outbox_number_is_never_given_again(db: AsyncEngine) -> None:
    [first] = set(await commit(db, SOURCE, entries("a")))
    await relay_for(db, MemoryBus(partitions=1), [SOURCE]).drain()
    assert await rows_in_outbox(db) == 0
    [second] = set(await commit(db, SOURCE, entries("b")))
    assert second > first


async def test_a_batch_read_back_before_its_offer_is_taken_goes_out_once(db: AsyncEngine) -> None:
    """The relay reads a committed batch back before it takes the batch's offer, the
    outbox is then empty, and the next batch commits: each goes out once. (On SQLite the
    second batch got the first's number, so taking the first's offer deleted the second
    unpublished and published the first again.)"""
    bus = MemoryBus(partitions=1)
    relay = relay_for(db, bus, [SOURCE])
    relay.offer(SOURCE, await commit(db, SOURCE, entries("a")), entries("a"))
    await relay._read_once()  # the outbox read of a quiet spell, the offer still queued
    relay._read = False
    later = await commit(db, SOURCE, entries("b"))
    await relay.drain()
    relay.offer(SOURCE, later, entries("b"))
    await relay.drain()
    assert published(bus) == ["a", "b"]
    assert await left(db) == 0
