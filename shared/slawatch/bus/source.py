"""Where a service's partitioned records come from: a Kafka consumer group, or the
in-process bus (the evaluator's canonical records, the notifier's SLA events).

Offsets are not committed to Kafka: they are stored with the state they produced
(``slawatch_evaluator.store``, ``slawatch_notifier.store``), and the source seeks to
them when a partition is assigned. Assignment callbacks run before records of a newly
assigned partition are returned; the revoke callback runs before its records stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

from slawatch.bus.base import Record
from slawatch.bus.memory import MemoryBus

__all__ = ["KafkaSource", "MemorySource", "OnAssign", "OnRevoke", "Source", "TopicPart"]

TopicPart = tuple[str, int]
OnAssign = Callable[[list[TopicPart]], Awaitable[dict[TopicPart, int]]]
"""Claims newly assigned partitions; returns the offset to read each from."""
OnRevoke = Callable[[list[TopicPart]], Awaitable[None]]


class Source(Protocol):
    """A partitioned stream of records with externally stored offsets."""

    last_poll: float
    joined: bool
    """Whether the first assignment (possibly of nothing) has arrived."""

    async def start(self, on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        """Join and begin; callbacks are awaited on every (re)assignment."""

    async def poll(self, timeout: float, max_records: int) -> dict[TopicPart, list[Record]]:
        """The next records per partition (possibly none, after ``timeout`` seconds)."""
        ...

    def seek(self, part: TopicPart, offset: int) -> None:
        """Read ``part`` from ``offset`` next."""

    def lag(self) -> dict[TopicPart, int]:
        """Records behind the end, per assigned partition (as last seen)."""
        ...

    def assigned(self) -> set[TopicPart]:
        """The partitions assigned now."""
        ...

    async def stop(self) -> None:
        """Leave and close."""

    def stalled_for(self, limit: float) -> float | None:
        """Seconds without progress, when over ``limit``: no poll returned, or (with
        partitions assigned) no fetch of them answered. ``None`` while progressing."""
        ...


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, source: KafkaSource) -> None:
        self.source = source

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        parts = sorted((tp.topic, tp.partition) for tp in revoked)
        if parts and self.source.on_revoke is not None:
            await self.source.on_revoke(parts)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        parts = sorted((tp.topic, tp.partition) for tp in assigned)
        if parts and self.source.on_assign is not None:
            offsets = await self.source.on_assign(parts)
            for part, offset in offsets.items():
                self.source.seek(part, offset)
        self.source.assigned_at = time.monotonic()  # after loading: fetching starts now
        self.source.joined = True


class KafkaSource:
    """A consumer group, offsets kept by the caller.

    ``co_partitioned`` uses the range assignor, so partition *p* of every topic goes to
    the same member (the notifier reads ``sla-events`` and ``acks`` that way).
    """

    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        group: str,
        *,
        client_id: str,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 1_000,
        max_poll_interval_ms: int = 300_000,
        co_partitioned: bool = False,
        instance_id: str | None = None,
    ) -> None:
        self.topics = topics
        strategy = (RangePartitionAssignor,) if co_partitioned else (RoundRobinPartitionAssignor,)
        self.consumer = AIOKafkaConsumer(
            partition_assignment_strategy=strategy,
            group_instance_id=instance_id,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            max_poll_interval_ms=max_poll_interval_ms,
            rebalance_timeout_ms=max(session_timeout_ms, 30_000),
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self.on_assign: OnAssign | None = None
        self.on_revoke: OnRevoke | None = None
        self.last_poll = time.monotonic()
        self.assigned_at = self.last_poll
        self.joined = False
        self._positions: dict[TopicPart, int] = {}

    async def start(self, on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        self.on_assign, self.on_revoke = on_assign, on_revoke
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_Listener(self))

    async def poll(self, timeout: float, max_records: int) -> dict[TopicPart, list[Record]]:
        batches = await self.consumer.getmany(
            timeout_ms=max(0, int(timeout * 1000)), max_records=max_records
        )
        self.last_poll = time.monotonic()
        result: dict[TopicPart, list[Record]] = {}
        for tp, messages in batches.items():
            part = (tp.topic, tp.partition)
            result[part] = [
                Record(
                    m.topic,
                    m.partition,
                    m.offset,
                    m.key,
                    m.value or b"",
                    m.timestamp,
                    tuple(m.headers or ()),
                )
                for m in messages
            ]
            if messages:
                self._positions[part] = messages[-1].offset + 1
        return result

    def seek(self, part: TopicPart, offset: int) -> None:
        self.consumer.seek(TopicPartition(*part), offset)
        self._positions[part] = offset

    def assigned(self) -> set[TopicPart]:
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def lag(self) -> dict[TopicPart, int]:
        lags: dict[TopicPart, int] = {}
        for tp in self.consumer.assignment():
            part = (tp.topic, tp.partition)
            end = self.consumer.highwater(tp)
            if end is not None and part in self._positions:
                lags[part] = max(0, end - self._positions[part])
        return lags

    def stalled_for(self, limit: float) -> float | None:
        """As :meth:`Source.stalled_for`. A consumer can go on returning empty polls while
        it no longer fetches (aiokafka #1154, #625): each assigned partition's last fetch
        answer (``last_poll_timestamp``) shows it."""
        now = time.monotonic()
        idle = now - self.last_poll
        assignment = self.consumer.assignment()
        if assignment:
            wall = time.time()
            for tp in assignment:  # each partition: one a fetch no longer reaches counts
                fetched = self.consumer.last_poll_timestamp(tp)
                since = self.assigned_at
                if fetched is not None:
                    since = max(since, now - max(wall - fetched / 1000, 0))
                idle = max(idle, now - since)
        return idle if idle > limit else None

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.consumer.stop(), timeout=10)


class MemorySource:
    """Every partition of topics on the in-process bus, always assigned to this one reader."""

    def __init__(self, bus: MemoryBus, topics: list[str]) -> None:
        self.bus = bus
        self.topics = topics
        self.positions: dict[TopicPart, int] = {}
        self.last_poll = time.monotonic()
        self.joined = False

    async def start(self, on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        parts = [(t, p) for t in self.topics for p in range(self.bus.partitions(t))]
        offsets = await on_assign(parts)
        self.joined = True
        for part in parts:
            self.positions[part] = offsets.get(part, 0)

    async def poll(self, timeout: float, max_records: int) -> dict[TopicPart, list[Record]]:
        result = self._read(max_records)
        if not result and timeout > 0:
            for topic in self.topics:
                wanted = {p: o for (t, p), o in self.positions.items() if t == topic}
                if await self.bus.wait_for(topic, wanted, timeout=timeout):
                    break
            result = self._read(max_records)
        self.last_poll = time.monotonic()
        return result

    def _read(self, max_records: int) -> dict[TopicPart, list[Record]]:
        result: dict[TopicPart, list[Record]] = {}
        for part, offset in self.positions.items():
            records = self.bus.read(part[0], part[1], offset, max_records)
            if records:
                result[part] = records
                self.positions[part] = records[-1].offset + 1
        return result

    def seek(self, part: TopicPart, offset: int) -> None:
        self.positions[part] = offset

    def assigned(self) -> set[TopicPart]:
        return set(self.positions)

    def lag(self) -> dict[TopicPart, int]:
        return {
            part: max(0, self.bus.end_offset(*part) - offset)
            for part, offset in self.positions.items()
        }

    def stalled_for(self, limit: float) -> float | None:
        idle = time.monotonic() - self.last_poll
        return idle if idle > limit else None

    async def stop(self) -> None:
        return None
