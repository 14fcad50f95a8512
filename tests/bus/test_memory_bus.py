from __future__ import annotations

import asyncio
import zlib

import pytest

from slawatch.bus import MemoryBus, Message, Publisher, PublishError, partition_for_key


def _publisher(bus: MemoryBus) -> Publisher:
    return bus


async def test_keyed_records_go_to_the_crc32_partition_in_order() -> None:
    bus = MemoryBus(partitions=4)
    await _publisher(bus).publish(
        [Message("t", b"ticket:T-1", b"a"), Message("t", b"ticket:T-1", b"b")]
    )
    partition = zlib.crc32(b"ticket:T-1") % 4
    assert partition_for_key(b"ticket:T-1", 4) == partition
    records = bus.read("t", partition, 0, 10)
    assert [(r.offset, r.value) for r in records] == [(0, b"a"), (1, b"b")]
    assert all(r.key == b"ticket:T-1" and r.topic == "t" for r in records)
    assert all(r.timestamp_ms is not None for r in records)
    assert bus.end_offset("t", partition) == 2


async def test_unkeyed_records_go_round_robin() -> None:
    bus = MemoryBus(partitions=3)
    await bus.publish([Message("t", None, bytes([i])) for i in range(6)])
    assert [bus.end_offset("t", p) for p in range(3)] == [2, 2, 2]


async def test_read_pages_through_a_partition() -> None:
    bus = MemoryBus(partitions=1)
    await bus.publish([Message("t", b"k", str(i).encode()) for i in range(5)])
    assert [r.offset for r in bus.read("t", 0, 1, 2)] == [1, 2]
    assert [r.offset for r in bus.read("t", 0, 4, 10)] == [4]
    assert bus.read("t", 0, 5, 10) == []
    assert bus.read("missing", 0, 0, 10) == []
    with pytest.raises(ValueError, match="not negative"):
        bus.read("t", 0, -1, 1)


async def test_topics_are_created_with_their_partition_count() -> None:
    bus = MemoryBus(partitions=3)
    bus.create_topic("wide", 8)
    bus.create_topic("wide", 2)  # idempotent: keeps 8
    await bus.publish([Message("auto", b"k", b"v")])
    assert bus.partitions("wide") == 8
    assert bus.partitions("auto") == 3
    assert bus.topics() == ["auto", "wide"]


async def test_without_auto_create_an_unknown_topic_fails_and_nothing_is_written() -> None:
    bus = MemoryBus(auto_create=False)
    bus.create_topic("known")
    with pytest.raises(PublishError):
        await bus.publish([Message("known", b"k", b"v"), Message("unknown", b"k", b"v")])
    assert sum(bus.end_offset("known", p) for p in range(bus.partitions("known"))) == 0


async def test_wait_for_wakes_on_a_new_record() -> None:
    bus = MemoryBus(partitions=2)
    bus.create_topic("t")
    waiter = asyncio.create_task(bus.wait_for("t", {0: 0, 1: 0}, timeout=5))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await bus.publish([Message("t", b"k", b"v")])
    assert await waiter is True


async def test_wait_for_returns_at_once_when_records_are_beyond_the_position() -> None:
    bus = MemoryBus(partitions=1)
    await bus.publish([Message("t", b"k", b"v")])
    assert await bus.wait_for("t", {0: 0}, timeout=0) is True
    assert await bus.wait_for("t", {0: 1}, timeout=0.01) is False


async def test_wait_for_without_positions_waits_for_a_later_record() -> None:
    bus = MemoryBus(partitions=1)
    await bus.publish([Message("t", b"k", b"old")])
    assert await bus.wait_for("t", timeout=0.01) is False
    waiter = asyncio.create_task(bus.wait_for("t", timeout=5))
    await asyncio.sleep(0)
    await bus.publish([Message("t", b"k", b"new")])
    assert await waiter is True


async def test_a_consumer_loop_sees_every_record() -> None:
    bus = MemoryBus(partitions=2)
    bus.create_topic("t")
    seen: list[bytes] = []
    positions = {0: 0, 1: 0}

    async def consume() -> None:
        while len(seen) < 20:
            for p in positions:
                records = bus.read("t", p, positions[p], 3)
                seen.extend(r.value for r in records)
                positions[p] += len(records)
            if len(seen) < 20:
                await bus.wait_for("t", positions, timeout=5)

    task = asyncio.create_task(consume())
    for i in range(20):
        await bus.publish([Message("t", str(i % 5).encode(), str(i).encode())])
        if i % 3 == 0:
            await asyncio.sleep(0)
    await asyncio.wait_for(task, 5)
    assert sorted(seen, key=int) == [str(i).encode() for i in range(20)]
