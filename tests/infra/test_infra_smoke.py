"""Smoke tests for the real infrastructure started by deploy/kafka and deploy/postgres.

They need the services to be running and the caller to export:

    SLAWATCH_KAFKA_BOOTSTRAP=127.0.0.1:9092
    SLAWATCH_TEST_DATABASE_URL=postgresql+asyncpg://slawatch:slawatch@127.0.0.1:55432/slawatch

They never skip: an unset variable or an unreachable service is a failure, so a
CI run that forgot to start the infrastructure cannot pass by running nothing.
Deselect them explicitly with ``-m "not kafka and not postgres"`` when working
without the services.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

TIMEOUT_S = 60.0


def _required_env(name: str, how: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set. {how} "
            f'(or deselect these tests with -m "not kafka and not postgres").',
            pytrace=False,
        )
    return value


def kafka_bootstrap() -> str:
    return _required_env(
        "SLAWATCH_KAFKA_BOOTSTRAP",
        "Start the broker with deploy/kafka/start.sh and export "
        "SLAWATCH_KAFKA_BOOTSTRAP=127.0.0.1:9092",
    )


def database_url() -> str:
    return _required_env(
        "SLAWATCH_TEST_DATABASE_URL",
        "Start PostgreSQL with deploy/postgres/start.sh and export "
        'SLAWATCH_TEST_DATABASE_URL="$(deploy/postgres/url.sh)"',
    )


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
    except Exception as exc:
        await admin.close()
        error = f"{type(exc).__name__}: {exc}"
    else:
        return admin
    pytest.fail(
        f"Kafka is unreachable at SLAWATCH_KAFKA_BOOTSTRAP={bootstrap}: {error}", pytrace=False
    )


@pytest.fixture
async def kafka_topic() -> AsyncIterator[tuple[str, str]]:
    """A fresh 3-partition topic, deleted afterwards. Yields (bootstrap, topic)."""
    bootstrap = kafka_bootstrap()
    topic = f"slawatch-smoke-{uuid.uuid4().hex[:12]}"
    admin = await _admin(bootstrap)
    try:
        resp = await admin.create_topics(
            [NewTopic(name=topic, num_partitions=3, replication_factor=1)]
        )
        errors = [(t[0], t[1]) for t in resp.topic_errors if t[1] != 0]
        assert not errors, f"CreateTopics failed: {errors}"
        yield bootstrap, topic
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()


async def _consume(consumer: AIOKafkaConsumer, expected: int) -> list[tuple[bytes, bytes]]:
    received: list[tuple[bytes, bytes]] = []
    while len(received) < expected:
        batches = await consumer.getmany(timeout_ms=1000)
        for records in batches.values():
            received.extend((r.key, r.value) for r in records)
    return received


@pytest.mark.kafka
async def test_kafka_idempotent_produce_and_group_consume(
    kafka_topic: tuple[str, str],
) -> None:
    bootstrap, topic = kafka_topic
    sent = [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(10)]

    async with asyncio.timeout(TIMEOUT_S):
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            for key, value in sent:
                meta = await producer.send_and_wait(topic, value=value, key=key)
                assert meta.topic == topic
                assert meta.offset >= 0
        finally:
            await producer.stop()

        group = f"{topic}-group"
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            received = await _consume(consumer, len(sent))
            await consumer.commit()
            assignment = consumer.assignment()
            committed = {tp: await consumer.committed(tp) for tp in assignment}
        finally:
            await consumer.stop()

    assert sorted(received) == sorted(sent)
    assert {tp.partition for tp in assignment} == {0, 1, 2}
    # The group's committed offsets cover every record.
    assert sum(off or 0 for off in committed.values()) == len(sent)

    admin = await _admin(bootstrap)
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    assert sum(o.offset for o in offsets.values()) == len(sent)


@pytest.mark.kafka
async def test_kafka_transactional_produce_read_committed(
    kafka_topic: tuple[str, str],
) -> None:
    """Needs transaction.state.log.{replication.factor,min.isr}=1 on one broker."""
    bootstrap, topic = kafka_topic
    async with asyncio.timeout(TIMEOUT_S):
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic}-tx")
        await producer.start()
        try:
            async with producer.transaction():
                await producer.send_and_wait(topic, b"committed", key=b"k", partition=0)
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"aborted", key=b"k", partition=0)
            await producer.abort_transaction()
            async with producer.transaction():
                await producer.send_and_wait(topic, b"committed-2", key=b"k", partition=0)
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            received = await _consume(consumer, 2)
        finally:
            await consumer.stop()

    assert [v for _, v in received] == [b"committed", b"committed-2"]


@pytest.mark.postgres
async def test_postgres_connect_and_query() -> None:
    url = database_url()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        conn = None
    if conn is None:
        pytest.fail(
            f"PostgreSQL is unreachable at SLAWATCH_TEST_DATABASE_URL={url}: {error}",
            pytrace=False,
        )
    try:
        async with asyncio.timeout(TIMEOUT_S):
            row = await conn.fetchrow(
                "SELECT current_setting('server_version_num')::int AS version,"
                " current_user AS usr, current_database() AS db,"
                " current_setting('fsync') AS fsync"
            )
            assert row is not None
            assert row["version"] >= 150000
            assert row["fsync"] == "on"  # the durability tests rely on it

            async with conn.transaction():
                await conn.execute("CREATE TEMP TABLE smoke (id int PRIMARY KEY, note text)")
                await conn.executemany("INSERT INTO smoke VALUES ($1, $2)", [(1, "a"), (2, "b")])
                total = await conn.fetchval("SELECT sum(id) FROM smoke")
            assert total == 3
    finally:
        await conn.close()
