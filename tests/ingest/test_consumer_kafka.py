"""The ingest consumer on the real broker: raw topics in, canonical, acks and dead letters out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import orjson
import pytest
from prometheus_client import CollectorRegistry

from slawatch.bus import Message
from slawatch.bus.kafka import KafkaPublisher, ensure_topics
from slawatch.observability import new_registry, render
from slawatch.settings import Settings, Topics
from slawatch.timeutil import SECOND
from slawatch_ingest.consumer import ConsumerState, IngestConsumer
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.metrics import IngestMetrics
from slawatch_ingest.service import IngestService
from tests.ingest.kafka_support import (
    TIMEOUT_S,
    committed,
    create_topics,
    delete_topics,
    kafka_settings,
    produce,
    read_topic,
    settings_for,
    unique_prefix,
)
from tests.ingest.samples import BAD_INPUTS, ack, raw, ticket_created, uptime

__all__ = ["kafka_settings"]

pytestmark = pytest.mark.kafka


@dataclass
class Harness:
    consumer: IngestConsumer
    registry: CollectorRegistry

    def metrics_text(self) -> str:
        return render(self.registry)[0].decode()


@asynccontextmanager
async def running(settings: Settings, publisher: object | None = None) -> AsyncIterator[Harness]:
    registry = new_registry("ingest", runtime=False)
    metrics = IngestMetrics(registry, topics=[settings.topic(t) for t in settings.raw_topics])
    kafka = KafkaPublisher.from_settings(settings)
    await kafka.start()
    consumer = IngestConsumer(
        settings,
        publisher or kafka,  # type: ignore[arg-type]
        metrics,
        DuplicateFilter(settings.dedup_horizon, settings.dedup_capacity),
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield Harness(consumer, registry)
    finally:
        consumer.request_stop()
        await asyncio.wait_for(task, TIMEOUT_S)
        await kafka.stop()


def docs(records: Sequence[object]) -> list[dict[str, object]]:
    return [orjson.loads(r.value) for r in records]  # type: ignore[attr-defined]


async def test_raw_records_become_canonical_records_keyed_by_subject(
    kafka_settings: Settings,
) -> None:
    s = kafka_settings
    async with running(s):
        await produce(
            s.kafka_bootstrap,
            s.topic(Topics.TICKETS),
            [
                (b"T-1", raw(ticket_created("e-1", "T-1"))),
                (b"T-2", raw(ticket_created("e-2", "T-2"))),
                (b"T-1", raw(ack("a-1", "ticket:T-1"))),
            ],
        )
        await produce(s.kafka_bootstrap, s.topic(Topics.UPTIME), [(b"api", raw(uptime()))])
        canonical = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 3)
        acks = await read_topic(s.kafka_bootstrap, s.topic(Topics.ACKS), 1)
    by_id = {orjson.loads(r.value)["id"]: r for r in canonical}
    assert sorted(by_id) == ["e-1", "e-2", "u-1"]
    assert by_id["e-1"].key == b"ticket:T-1"
    assert by_id["e-2"].key == b"ticket:T-2"
    assert by_id["u-1"].key == b"service:api"
    assert all("received_at" in orjson.loads(r.value) for r in canonical)
    [acked] = acks
    assert acked.key == b"ticket:T-1"
    assert orjson.loads(acked.value)["type"] == "escalation.acknowledged"


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
async def test_raw_records_compressed_by_their_producer_are_read(
    kafka_settings: Settings, codec: str
) -> None:
    s = kafka_settings.model_copy(update={"kafka_compression": codec})
    async with running(s):
        await produce(
            s.kafka_bootstrap,
            s.topic(Topics.TICKETS),
            [(b"T-1", raw(ticket_created("e-1", "T-1")))],
            compression_type=codec,
        )
        [canonical] = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 1)
    assert orjson.loads(canonical.value)["id"] == "e-1"


async def test_a_record_its_topic_refuses_is_dead_lettered_and_the_stream_goes_on() -> None:
    """A canonical topic created before slawatch, with a small record limit."""
    prefix = unique_prefix()
    s = settings_for(prefix)
    small = {"max.message.bytes": "100000"}
    await ensure_topics(s.kafka_bootstrap, [s.topic(Topics.CANONICAL)], 3, small)
    await create_topics(s)
    big = ticket_created("big", "T-1")
    big["ticket"]["description"] = "x" * 200_000
    try:
        async with running(s) as harness:
            await produce(
                s.kafka_bootstrap,
                s.topic(Topics.TICKETS),
                [(b"T-1", raw(big)), (b"T-2", raw(ticket_created("after", "T-2")))],
            )
            [letter] = await read_topic(s.kafka_bootstrap, s.topic(Topics.DEADLETTER), 1)
            [canonical] = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 1)
            text = harness.metrics_text()
        dead = orjson.loads(letter.value)
        assert dead["reason"] == "too_large"
        assert s.topic(Topics.CANONICAL) in dead["error"]
        assert "max.message.bytes" in dead["error"]
        assert dead["raw_truncated"] is False
        assert orjson.loads(dead["raw"])["id"] == "big"
        assert orjson.loads(canonical.value)["id"] == "after"
        tickets = s.topic(Topics.TICKETS)
        rejected = f'reason="too_large",result="rejected",topic="{tickets}"'
        assert f"slawatch_ingest_events_total{{{rejected}}} 1.0" in text
        accepted = f'reason="",result="accepted",topic="{tickets}"'
        assert f"slawatch_ingest_events_total{{{accepted}}} 1.0" in text
        assert 'slawatch_ingest_deadletters_total{reason="too_large"} 1.0' in text
    finally:
        await delete_topics(s.kafka_bootstrap, prefix)


async def test_every_bad_input_kind_is_dead_lettered_and_the_stream_goes_on(
    kafka_settings: Settings,
) -> None:
    s = kafka_settings
    kinds = sorted(BAD_INPUTS)
    huge = b'{"id": "huge", "pad": "' + b"x" * 10_000_000 + b'"}'
    records: list[tuple[bytes | None, bytes]] = [(b"T-1", BAD_INPUTS[k][0]) for k in kinds]
    records += [
        (b"T-1", huge),
        (None, raw(ticket_created("no-key", "T-3"))),
        (b"T-9", raw(ticket_created("after", "T-9"))),
    ]
    async with running(s) as harness:
        topic = s.topic(Topics.TICKETS)
        await produce(s.kafka_bootstrap, topic, [(b"T-1", r) for _, r in records[:1]])
        await produce(s.kafka_bootstrap, topic, records[1:])
        letters = await read_topic(s.kafka_bootstrap, s.topic(Topics.DEADLETTER), len(kinds) + 1)
        canonical = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 2)
        text = harness.metrics_text()
    reasons = sorted(orjson.loads(r.value)["reason"] for r in letters)
    assert reasons == sorted([BAD_INPUTS[k][1] for k in kinds] + ["too_large"])
    for record in letters:
        letter = orjson.loads(record.value)
        assert record.key == b"T-1"
        assert letter["topic"] == s.topic(Topics.TICKETS)
        assert letter["error"]
        if letter["reason"] == "too_large":
            assert letter["raw_size"] == len(huge)
            assert letter["raw_truncated"] is True
            assert letter["raw"].encode() == huge[: s.deadletter_raw_max_bytes]
        else:
            assert letter["raw_truncated"] is False
    assert sorted(orjson.loads(r.value)["id"] for r in canonical) == ["after", "no-key"]
    topic_label = f'topic="{s.topic(Topics.TICKETS)}"'
    assert (
        f'slawatch_ingest_events_total{{reason="too_large",result="rejected",{topic_label}}} 1.0'
        in text
    )
    assert f'slawatch_ingest_events_total{{reason="",result="accepted",{topic_label}}} 2.0' in text
    assert 'slawatch_ingest_deadletters_total{reason="bad_time"} 1.0' in text


async def test_duplicates_within_the_horizon_are_dropped(kafka_settings: Settings) -> None:
    s = kafka_settings
    event = raw(ticket_created("e-1", "T-1"))
    other_source = raw(ticket_created("e-1", "T-1", source="zendesk"))
    async with running(s) as harness:
        await produce(
            s.kafka_bootstrap,
            s.topic(Topics.TICKETS),
            [(b"T-1", event), (b"T-1", event), (b"T-1", other_source), (b"T-1", event)],
        )
        canonical = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 2, settle=2.0)
        text = harness.metrics_text()
    assert len(canonical) == 2
    assert sorted(str(d.get("source")) for d in docs(canonical)) == ["jira", "zendesk"]
    assert 'reason="",result="duplicate"' in text
    duplicates = (
        'slawatch_ingest_events_total{reason="",result="duplicate",'
        f'topic="{s.topic(Topics.TICKETS)}"}} 2.0'
    )
    assert duplicates in text


async def test_a_restarted_consumer_resumes_from_the_committed_offsets(
    kafka_settings: Settings,
) -> None:
    s = kafka_settings
    tickets = s.topic(Topics.TICKETS)
    first = [(f"T-{i}".encode(), raw(ticket_created(f"e-{i}", f"T-{i}"))) for i in range(10)]
    second = [(f"T-{i}".encode(), raw(ticket_created(f"e-{i}", f"T-{i}"))) for i in range(10, 20)]
    async with running(s):
        await produce(s.kafka_bootstrap, tickets, first)
        await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 10)
    offsets = await committed(s.kafka_bootstrap, s.group("ingest"))
    assert sum(o for (topic, _), o in offsets.items() if topic == tickets) == 10
    await produce(s.kafka_bootstrap, tickets, second)
    async with running(s):
        canonical = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 20, settle=2.0)
    ids = [str(d["id"]) for d in docs(canonical)]
    assert sorted(ids) == sorted(f"e-{i}" for i in range(20))
    assert len(ids) == 20  # the first ten were committed, so not read again


class CrashAfterFirstPublish:
    """Publishes the first batch, then fails as if the process died before the commit."""

    def __init__(self, inner: KafkaPublisher) -> None:
        self.inner = inner
        self.calls = 0

    async def publish(self, messages: Sequence[Message]) -> None:
        self.calls += 1
        await self.inner.publish(messages)
        if self.calls == 1:
            raise RuntimeError("crash between publish and commit")


async def test_a_crash_before_the_commit_loses_nothing(kafka_settings: Settings) -> None:
    s = kafka_settings
    tickets = s.topic(Topics.TICKETS)
    events = [(f"T-{i}".encode(), raw(ticket_created(f"e-{i}", f"T-{i}"))) for i in range(10)]
    await produce(s.kafka_bootstrap, tickets, events)
    inner = KafkaPublisher.from_settings(s)
    await inner.start()
    try:
        crashing = CrashAfterFirstPublish(inner)
        async with running(s, publisher=crashing) as harness:
            canonical = await read_topic(
                s.kafka_bootstrap, s.topic(Topics.CANONICAL), 10, settle=3.0
            )
            text = harness.metrics_text()
    finally:
        await inner.stop()
    ids = [str(d["id"]) for d in docs(canonical)]
    assert set(ids) == {f"e-{i}" for i in range(10)}
    assert len(ids) > 10  # the first batch was published twice: at-least-once
    assert 'slawatch_ingest_retries_total{operation="consumer"} 1.0' in text
    offsets = await committed(s.kafka_bootstrap, s.group("ingest"))
    assert sum(o for (topic, _), o in offsets.items() if topic == tickets) == 10


async def test_readiness_lag_and_stop(kafka_settings: Settings) -> None:
    s = kafka_settings
    async with running(s) as harness:
        assert harness.consumer.status()[0] is False
        async with asyncio.timeout(TIMEOUT_S):
            while (
                not harness.consumer.status()[0]
                or len(harness.consumer.status()[1]["partitions"]) < 6
            ):
                await asyncio.sleep(0.1)
        await produce(s.kafka_bootstrap, s.topic(Topics.TICKETS), [(b"T-1", raw(ticket_created()))])
        await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 1)
        async with asyncio.timeout(TIMEOUT_S):
            while "slawatch_ingest_consumer_lag{" not in harness.metrics_text():
                await asyncio.sleep(0.1)
        ok, details = harness.consumer.status()
        text = harness.metrics_text()
    assert ok, details
    assert details["state"] == "running"
    assert details["lag"] == 0
    assert "slawatch_ingest_last_poll_timestamp_seconds" in text
    assert "slawatch_ingest_commit_seconds_count" in text
    assert harness.consumer.state is ConsumerState.STOPPED
    assert "slawatch_ingest_consumer_lag{" not in harness.metrics_text()


async def test_the_service_creates_its_topics_and_serves_http_and_kafka() -> None:
    prefix = unique_prefix()
    s = settings_for(prefix, dedup_horizon=600 * SECOND)
    service = IngestService(s)
    stop = asyncio.Event()
    runner = asyncio.create_task(service.run_until(stop))
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while service.server_task is None or not service.publisher.started:
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.port}") as c:
                while (await c.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.1)
                answer = await c.post(
                    "/v1/events",
                    content=raw(uptime("u-http")),
                    headers={"Content-Type": "application/json"},
                )
                await produce(
                    s.kafka_bootstrap, s.topic(Topics.TICKETS), [(b"T-1", raw(ticket_created()))]
                )
                canonical = await read_topic(s.kafka_bootstrap, s.topic(Topics.CANONICAL), 2)
                metrics = (await c.get("/metrics")).text
                ready = (await c.get("/readyz")).json()
        assert answer.status_code == 200
        assert answer.json()["results"][0]["result"] == "accepted"
        assert sorted(str(d["id"]) for d in docs(canonical)) == ["e-1", "u-http"]
        assert ready["ready"] is True
        assert ready["checks"]["kafka"]["publisher"] == "connected"
        assert 'slawatch_build_info{service="ingest"' in metrics
        assert "process_cpu_seconds_total" in metrics
    finally:
        stop.set()
        await asyncio.wait_for(runner, TIMEOUT_S)
        await delete_topics(s.kafka_bootstrap, prefix)
    assert service.consumer.state is ConsumerState.STOPPED
    assert not service.publisher.started
