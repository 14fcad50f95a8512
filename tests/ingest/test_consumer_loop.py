"""The consume, publish, commit loop against a scripted consumer (no broker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError

from slawatch.bus import MemoryBus, Message, PublishError
from slawatch.observability import new_registry, render
from slawatch.settings import Settings
from slawatch.timeutil import SECOND
from slawatch_ingest.consumer import Backoff, ConsumerState, IngestConsumer
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.metrics import IngestMetrics
from tests.ingest.samples import raw, ticket_created

SETTINGS = Settings(topic_prefix="t.", retry_backoff_max="1s", stall_after="1s")
TP = TopicPartition("t.tickets", 0)


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class FakeConsumer:
    """Hands out scripted poll results: a dict of records, or an exception to raise."""

    script: list[Any]
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    commit_errors: list[Exception] = field(default_factory=list)
    fetched_at_ms: float | None = None
    stopped: bool = False
    listener: Any = None
    position_: int = 0

    async def start(self) -> None:
        pass

    def subscribe(self, topics: Sequence[str], listener: Any) -> None:
        self.listener = listener

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        if self.listener is not None:
            listener, self.listener = self.listener, None
            await listener.on_partitions_assigned({TP})
        if not self.script:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        for records in step.values():
            self.position_ = records[-1].offset + 1
        return dict(step)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.commits.append(dict(offsets))

    async def stop(self) -> None:
        self.stopped = True

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def last_stable_offset(self, tp: TopicPartition) -> int:
        return self.position_ + 3

    def highwater(self, tp: TopicPartition) -> int:
        return self.position_ + 3

    async def position(self, tp: TopicPartition) -> int:
        return self.position_

    def last_poll_timestamp(self, tp: TopicPartition) -> float:
        return self.fetched_at_ms if self.fetched_at_ms is not None else time.time() * 1000


class FlakyPublisher:
    def __init__(self, bus: MemoryBus, failures: int) -> None:
        self.bus = bus
        self.failures = failures
        self.calls = 0

    async def publish(self, messages: Sequence[Message]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise PublishError("broker away")
        await self.bus.publish(messages)


def batch(*events: bytes, start: int = 0) -> dict[TopicPartition, list[FakeRecord]]:
    return {
        TP: [FakeRecord(TP.topic, 0, start + i, b"T-1", value) for i, value in enumerate(events)]
    }


def make(
    consumers: list[FakeConsumer], publisher: Any, dedup: DuplicateFilter | None = None
) -> tuple[IngestConsumer, IngestMetrics, Any]:
    registry = new_registry("ingest", runtime=False)
    metrics = IngestMetrics(registry, topics=["t.tickets"])
    queue = list(consumers)
    consumer = IngestConsumer(
        SETTINGS,
        publisher,
        metrics,
        dedup if dedup is not None else DuplicateFilter(600 * SECOND, 100),
        consumer_factory=lambda: queue.pop(0),  # type: ignore[arg-type,return-value]
        poll_timeout=0.02,
    )
    return consumer, metrics, registry


async def until(condition: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def canonical(bus: MemoryBus) -> list[dict[str, Any]]:
    if "t.canonical" not in bus.topics():
        return []
    return [
        orjson.loads(r.value)
        for p in range(bus.partitions("t.canonical"))
        for r in bus.read("t.canonical", p, 0, 1000)
    ]


async def test_publish_is_retried_and_the_commit_follows_it() -> None:
    bus = MemoryBus()
    fake = FakeConsumer([batch(raw(ticket_created("e-1")), b"junk")])
    publisher = FlakyPublisher(bus, failures=2)
    consumer, _, registry = make([fake], publisher)
    task = asyncio.create_task(consumer.run())
    lag = 'slawatch_ingest_consumer_lag{partition="0",topic="t.tickets"} 3.0'
    await until(lambda: fake.commits and lag in render(registry)[0].decode())
    consumer.request_stop()
    await asyncio.wait_for(task, 10)
    assert fake.commits == [{TP: 2}]
    assert publisher.calls == 3
    assert [d["id"] for d in canonical(bus)] == ["e-1"]
    text = render(registry)[0].decode()
    assert 'slawatch_ingest_retries_total{operation="publish"} 2.0' in text
    assert 'slawatch_ingest_deadletters_total{reason="not_json"} 1.0' in text
    assert lag not in text  # removed with the assignment
    assert fake.stopped
    assert consumer.state is ConsumerState.STOPPED


async def test_repeated_poll_errors_rebuild_the_consumer() -> None:
    bus = MemoryBus()
    broken = FakeConsumer([KafkaConnectionError("no broker")] * 5)
    healthy = FakeConsumer([batch(raw(ticket_created("e-1")))])
    consumer, _, registry = make([broken, healthy], bus)
    task = asyncio.create_task(consumer.run())
    await until(lambda: healthy.commits)
    consumer.request_stop()
    await asyncio.wait_for(task, 10)
    assert broken.stopped
    text = render(registry)[0].decode()
    assert 'slawatch_ingest_retries_total{operation="poll"} 5.0' in text
    assert 'slawatch_ingest_retries_total{operation="consumer"} 1.0' in text
    assert [d["id"] for d in canonical(bus)] == ["e-1"]


async def test_a_failed_commit_after_a_rebalance_does_not_stop_the_loop() -> None:
    bus = MemoryBus()
    fake = FakeConsumer(
        [batch(raw(ticket_created("e-1"))), batch(raw(ticket_created("e-2")), start=1)],
        commit_errors=[CommitFailedError("rebalanced")],
    )
    consumer, _, _ = make([fake], bus)
    task = asyncio.create_task(consumer.run())
    await until(lambda: fake.commits)
    consumer.request_stop()
    await asyncio.wait_for(task, 10)
    assert fake.commits == [{TP: 2}]
    assert sorted(d["id"] for d in canonical(bus)) == ["e-1", "e-2"]


async def test_stopping_while_publish_fails_commits_nothing_and_forgets_the_events() -> None:
    bus = MemoryBus()
    dedup = DuplicateFilter(600 * SECOND, 100)
    fake = FakeConsumer([batch(raw(ticket_created("e-1")))])
    publisher = FlakyPublisher(bus, failures=1_000)
    consumer, _, _ = make([fake], publisher, dedup)
    task = asyncio.create_task(consumer.run())
    await until(lambda: publisher.calls >= 2)
    ready, details = consumer.status()
    assert not ready
    assert any("publishing fails" in p for p in details["problems"])
    consumer.request_stop()
    await asyncio.wait_for(task, 10)
    assert fake.commits == []
    assert len(dedup) == 0


async def test_a_consumer_that_stops_fetching_is_reported_stuck_and_rebuilt() -> None:
    stuck = FakeConsumer([])
    healthy = FakeConsumer([batch(raw(ticket_created("e-1")))])
    consumer, _, registry = make([stuck, healthy], MemoryBus())
    task = asyncio.create_task(consumer.run())
    try:
        await until(lambda: consumer.status()[0])
        stuck.fetched_at_ms = time.time() * 1000
        await asyncio.sleep(0.5)
        assert consumer.status()[0]
        await until(lambda: stuck.stopped)
        await until(lambda: bool(healthy.commits))
        await until(lambda: consumer.status()[0])
    finally:
        consumer.request_stop()
        await asyncio.wait_for(task, 10)
    text = render(registry)[0].decode()
    assert 'slawatch_ingest_retries_total{operation="consumer"} 1.0' in text


def test_stuck_consumer_status_says_why() -> None:
    consumer, _, _ = make([], MemoryBus())
    consumer.state = ConsumerState.RUNNING
    consumer._last_poll = time.monotonic()
    consumer._assign({TP})
    consumer._last_progress = time.monotonic() - 5
    ready, details = consumer.status()
    assert not ready
    assert any("no fetch progress" in p for p in details["problems"])
    consumer._last_poll = time.monotonic() - 5
    assert any("no successful poll for" in p for p in consumer.status()[1]["problems"])


async def test_not_ready_before_the_first_poll() -> None:
    consumer, _, _ = make([], MemoryBus())
    ready, details = consumer.status()
    assert not ready
    assert "no successful poll yet" in details["problems"]


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(maximum=1.0)
    assert [backoff.next() for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.1
