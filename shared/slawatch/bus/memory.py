"""An in-process event bus for the standalone process and for tests.

:class:`MemoryBus` keeps named topics, each with a fixed number of partitions; each
partition is an append-only list of :class:`~slawatch.bus.base.Record` with offsets
0, 1, 2, ... It implements the :class:`~slawatch.bus.base.Publisher` protocol.

- Partitioning: a record with a key goes to partition ``zlib.crc32(key) % partitions``,
  stable across processes and runs (not Kafka's murmur2: records never move between this
  bus and Kafka, so only stability matters); a record without a key goes round-robin.
- Topics: :meth:`MemoryBus.create_topic` makes one (idempotent); with
  ``auto_create=True`` (the default) publishing to an unknown topic creates it with the
  default partition count, else it raises :class:`~slawatch.bus.base.PublishError`.
- Publishing is atomic: every message of a :meth:`~MemoryBus.publish` call is appended,
  or (unknown topic) none.
- Consumers read with :meth:`MemoryBus.read` from their own offsets (the bus keeps no
  consumer state) and :meth:`MemoryBus.wait_for` new records without polling.
- Memory is not bounded: every record stays until the process ends. That is right for
  the small deployments and tests this bus is for; use Kafka for anything long-running
  and busy.

Not thread-safe: use it from one event loop.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slawatch.bus.base import Message, PublishError, Record

__all__ = ["MemoryBus", "partition_for_key"]


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition of a keyed record: ``crc32(key) % partitions``."""
    return zlib.crc32(key) % partitions


@dataclass(slots=True)
class _Topic:
    logs: list[list[Record]]
    next_unkeyed: int = 0
    changed: asyncio.Event | None = field(default=None)

    def end_offsets(self) -> list[int]:
        return [len(log) for log in self.logs]


class MemoryBus:
    """Named, partitioned, in-memory topics."""

    def __init__(self, partitions: int = 3, *, auto_create: bool = True) -> None:
        if partitions < 1:
            raise ValueError("a topic has at least one partition")
        self._default_partitions = partitions
        self._auto_create = auto_create
        self._topics: dict[str, _Topic] = {}

    def create_topic(self, name: str, partitions: int | None = None) -> None:
        """Create ``name`` unless it exists (an existing topic keeps its partitions)."""
        count = self._default_partitions if partitions is None else partitions
        if count < 1:
            raise ValueError("a topic has at least one partition")
        if name not in self._topics:
            self._topics[name] = _Topic(logs=[[] for _ in range(count)])

    def topics(self) -> list[str]:
        """The names of the existing topics, sorted."""
        return sorted(self._topics)

    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has; ``KeyError`` if it does not exist."""
        return len(self._topics[topic].logs)

    def end_offset(self, topic: str, partition: int) -> int:
        """The offset the next record of the partition will get (its record count)."""
        return len(self._topics[topic].logs[partition])

    async def publish(self, messages: Sequence[Message]) -> None:
        """Append every message, in order; ``PublishError`` for an unknown topic when
        ``auto_create`` is off (and then nothing is appended)."""
        for message in messages:
            if message.topic not in self._topics:
                if not self._auto_create:
                    raise PublishError(f"unknown topic {message.topic!r}")
                self.create_topic(message.topic)
        timestamp_ms = time.time_ns() // 1_000_000
        touched: set[str] = set()
        for message in messages:
            topic = self._topics[message.topic]
            if message.key is None:
                partition = topic.next_unkeyed % len(topic.logs)
                topic.next_unkeyed += 1
            else:
                partition = partition_for_key(message.key, len(topic.logs))
            log = topic.logs[partition]
            log.append(
                Record(
                    topic=message.topic,
                    partition=partition,
                    offset=len(log),
                    key=message.key,
                    value=message.value,
                    timestamp_ms=timestamp_ms,
                    headers=message.headers,
                )
            )
            touched.add(message.topic)
        for name in touched:
            self._notify(self._topics[name])

    def read(self, topic: str, partition: int, offset: int, max_records: int) -> list[Record]:
        """Up to ``max_records`` records of the partition from ``offset`` on (fewer at its
        end; none for an unknown topic)."""
        if offset < 0 or max_records < 0:
            raise ValueError("offset and max_records are not negative")
        state = self._topics.get(topic)
        if state is None:
            return []
        return state.logs[partition][offset : offset + max_records]

    async def wait_for(
        self,
        topic: str,
        positions: Mapping[int, int] | None = None,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Wait until some partition of ``topic`` has a record at or after the reader's
        position (``positions[partition]``, 0 when absent; ``None``: any new record from
        now on). True when there is one, False after ``timeout`` seconds.

        Checking and waiting happen without a suspension point in between, so a record
        published between a reader's :meth:`read` and this call is never missed.
        """
        if topic not in self._topics:
            self.create_topic(topic)
        state = self._topics[topic]
        wanted = dict(enumerate(state.end_offsets())) if positions is None else dict(positions)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            ends = state.end_offsets()
            if any(end > wanted.get(p, 0) for p, end in enumerate(ends)):
                return True
            if state.changed is None:
                state.changed = asyncio.Event()
            changed = state.changed
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return False

    @staticmethod
    def _notify(topic: _Topic) -> None:
        if topic.changed is not None:
            topic.changed.set()
            topic.changed = None
