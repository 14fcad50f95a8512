"""Helpers for the tests on the real broker (``deploy/kafka/start.sh``).

They fail, never skip, when ``SLAWATCH_KAFKA_BOOTSTRAP`` is unset or the broker is
unreachable, like ``tests/infra/test_infra_smoke.py``. Every test gets topics and a
consumer group of its own, under a random prefix, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from slawatch.bus import BusError
from slawatch.settings import Settings
from slawatch_ingest.service import ensure_ingest_topics

TIMEOUT_S = 60.0
RAW_MAX_BYTES = 16 * 1_048_576
"""Raw topics in the tests accept records this large (the 10 MB record)."""


def kafka_bootstrap() -> str:
    value = os.environ.get("SLAWATCH_KAFKA_BOOTSTRAP", "").strip()
    if not value:
        pytest.fail(
            "SLAWATCH_KAFKA_BOOTSTRAP is not set. Start the broker with deploy/kafka/start.sh "
            'and run eval "$(deploy/env.sh)" (or deselect these tests with -m "not kafka").',
            pytrace=False,
        )
    return value


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}."


def settings_for(prefix: str, **overrides: Any) -> Settings:
    options: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap(),
        "topic_prefix": prefix,
        "consumer_group_prefix": prefix,
        "kafka_session_timeout": "6s",
        "kafka_heartbeat_interval": "1s",
        "retry_backoff_max": "1s",
        "port": 0,
    }
    options.update(overrides)
    return Settings(**options)


async def create_topics(settings: Settings) -> None:
    """The topics ingest creates at start, as it creates them."""
    try:
        await ensure_ingest_topics(settings)
    except BusError as exc:
        pytest.fail(f"Kafka is unreachable or refused the topics: {exc}", pytrace=False)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


@pytest.fixture
async def kafka_settings() -> AsyncIterator[Settings]:
    """Settings on fresh topics, created as ingest creates them."""
    prefix = unique_prefix()
    settings = settings_for(prefix)
    await create_topics(settings)
    try:
        yield settings
    finally:
        await delete_topics(settings.kafka_bootstrap, prefix)


async def produce(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]], **options: Any
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=RAW_MAX_BYTES,
        **options,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, count: int, *, timeout: float = TIMEOUT_S, settle: float = 0.0
) -> list[Any]:
    """At least ``count`` records of ``topic`` from the beginning (all partitions); with
    ``settle``, keep reading that many more seconds to catch extra records."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(batch)
        if settle:
            loop = asyncio.get_running_loop()
            end = loop.time() + settle
            while loop.time() < end:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(batch)
    finally:
        await consumer.stop()
    return found


async def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


def values(records: Sequence[Any]) -> list[bytes]:
    return [r.value for r in records]
