"""The Kafka adapter on the real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from slawatch.bus import BusError, Message, PublishError, RecordRefused
from slawatch.bus.kafka import KafkaPublisher, build_consumer, ensure_topics, topic_config
from tests.ingest.kafka_support import TIMEOUT_S, delete_topics, kafka_bootstrap, read_topic

pytestmark = pytest.mark.kafka


@pytest.fixture
async def prefix() -> object:
    name = f"test-bus-{uuid.uuid4().hex[:10]}."
    yield name
    await delete_topics(kafka_bootstrap(), name)


async def _max_message_bytes(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": None})]
        )
    finally:
        await admin.close()
    for resource in response.resources:
        for entry in resource[4]:
            if entry[0] == "max.message.bytes":
                return str(entry[1])
    raise AssertionError("max.message.bytes not described")


async def test_ensure_topics_creates_missing_topics_once(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    names = [prefix + "a", prefix + "b"]
    created = await ensure_topics(bootstrap, names, 2, topic_config(8 * 1_048_576))
    assert sorted(created) == names
    again = await ensure_topics(bootstrap, [*names, prefix + "c"], 2)
    assert again == [prefix + "c"]
    assert await ensure_topics(bootstrap, [], 2) == []
    assert await _max_message_bytes(bootstrap, prefix + "a") == str(8 * 1_048_576)


async def test_ensure_topics_reports_refusals(prefix: str) -> None:
    with pytest.raises(BusError, match="cannot create topics"):
        await ensure_topics(kafka_bootstrap(), [prefix + "bad name!"], 1)


async def test_ensure_topics_on_an_unreachable_broker_raises_bus_error() -> None:
    with pytest.raises(BusError):
        await ensure_topics("127.0.0.1:1", ["x"], 1, timeout=2.0)


async def test_publish_waits_for_every_ack_and_keeps_order_per_key(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    topic = prefix + "out"
    await ensure_topics(bootstrap, [topic], 3)
    async with KafkaPublisher(bootstrap) as publisher:
        assert publisher.started
        await publisher.publish(
            [Message(topic, f"k{i % 3}".encode(), str(i).encode()) for i in range(30)]
        )
        await publisher.publish([])
    assert not publisher.started
    records = await read_topic(bootstrap, topic, 30)
    by_key: dict[bytes, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(record.key, []).append(int(record.value))
    assert by_key == {f"k{k}".encode(): list(range(k, 30, 3)) for k in range(3)}
    assert len({(r.key, r.partition) for r in records}) == 3


async def send_plainly(bootstrap: str, topic: str, keys: list[bytes]) -> None:
    """One record per key through aiokafka's own partitioner (``send``), for comparison."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key in keys:
            await producer.send_and_wait(topic, b"v", key=key)
    finally:
        await producer.stop()


async def test_publish_puts_each_key_where_a_plain_send_would(prefix: str) -> None:
    """Batched publishing partitions by key as ``send`` does, so co-partitioned topics agree."""
    bootstrap = kafka_bootstrap()
    batched, plain = prefix + "batched", prefix + "plain"
    await ensure_topics(bootstrap, [batched, plain], 5)
    keys = [f"ticket:T-{n}".encode() for n in range(200)]
    headers = (("slawatch-ticket", b'{"a":1}'),)
    async with KafkaPublisher(bootstrap) as publisher:
        await publisher.publish([Message(batched, k, b"v" * 3000, headers) for k in keys])
    await send_plainly(bootstrap, plain, keys)
    got = {r.key: r.partition for r in await read_topic(bootstrap, batched, len(keys))}
    want = {r.key: r.partition for r in await read_topic(bootstrap, plain, len(keys))}
    assert got == want
    assert len(set(got.values())) == 5
    [record] = [r for r in await read_topic(bootstrap, batched, len(keys)) if r.key == keys[0]]
    assert list(record.headers) == [("slawatch-ticket", b'{"a":1}')]


async def test_keys_follow_a_topic_that_grew_as_a_plain_send_would(prefix: str) -> None:
    """The publisher's key-to-partition cache is dropped when a topic's partitions grow."""
    bootstrap = kafka_bootstrap()
    grown, plain = prefix + "grown", prefix + "plain"
    await ensure_topics(bootstrap, [grown], 2)
    await ensure_topics(bootstrap, [plain], 6)
    keys = [f"ticket:T-{n}".encode() for n in range(60)]
    async with KafkaPublisher(bootstrap, metadata_max_age_ms=300) as publisher:
        await publisher.publish([Message(grown, k, b"before") for k in keys])
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_partitions({grown: NewPartitions(6)})
        finally:
            await admin.close()
        await asyncio.sleep(1.5)
        await publisher.publish([Message(grown, k, b"after") for k in keys])
    await send_plainly(bootstrap, plain, keys)
    after = {r.key: r.partition for r in await read_topic(bootstrap, grown, 2 * len(keys))
             if r.value == b"after"}  # fmt: skip
    want = {r.key: r.partition for r in await read_topic(bootstrap, plain, len(keys))}
    assert after == want
    assert max(after.values()) > 1


async def test_a_large_record_within_the_limit_is_published(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    topic = prefix + "large"
    await ensure_topics(bootstrap, [topic], 1, topic_config(8 * 1_048_576))
    async with KafkaPublisher(bootstrap) as publisher:
        await publisher.publish([Message(topic, b"k", b"x" * 6_000_000)])
    [record] = await read_topic(bootstrap, topic, 1)
    assert len(record.value) == 6_000_000


async def test_publish_errors_are_publish_errors(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    topic = prefix + "small"
    await ensure_topics(bootstrap, [topic], 1)
    publisher = KafkaPublisher(bootstrap, max_request_size=100_000, request_timeout_ms=3000)
    with pytest.raises(PublishError, match="not started"):
        await publisher.publish([Message(topic, b"k", b"v")])
    await publisher.start()
    try:
        with pytest.raises(PublishError, match="MessageSizeTooLarge"):
            await publisher.publish(
                [Message(topic, b"k", b"v"), Message(topic, b"k", b"x" * 200_000)]
            )
        with pytest.raises(PublishError):
            await publisher.publish([Message(prefix + "does-not-exist", b"k", b"v")])
        await publisher.publish([Message(topic, b"k", b"after")])
    finally:
        await publisher.stop()
    values = [r.value for r in await read_topic(bootstrap, topic, 1)]
    assert values == [b"after"], "a call with a record above the limit writes none of them"


async def test_records_the_broker_refuses_are_named_and_the_others_written(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    topic = prefix + "refusing"
    await ensure_topics(bootstrap, [topic], 4, {"max.message.bytes": "100000"})
    big = Message(topic, b"big", b"x" * 200_000)
    small = [Message(topic, f"k{n}".encode(), f"v{n}".encode()) for n in range(20)]
    async with KafkaPublisher(bootstrap) as publisher:
        with pytest.raises(RecordRefused, match="MessageSizeTooLarge") as refused:
            await publisher.publish([*small, big])
        await publisher.publish([Message(topic, b"k", b"after")])
    candidates = refused.value.candidates
    assert big in candidates
    assert len(candidates) < len(small) + 1, "only the refused batch is not acknowledged"
    written = {r.value for r in await read_topic(bootstrap, topic, 21 - len(candidates))}
    assert written == {m.value for m in small if m not in candidates} | {b"after"}


async def test_start_on_an_unreachable_broker_raises_bus_error() -> None:
    publisher = KafkaPublisher("127.0.0.1:1", request_timeout_ms=2000)
    with pytest.raises(BusError, match="cannot connect"):
        await asyncio.wait_for(publisher.start(), TIMEOUT_S)
    assert not publisher.started


async def test_built_consumers_read_from_the_start_and_never_auto_commit(prefix: str) -> None:
    bootstrap = kafka_bootstrap()
    topic = prefix + "in"
    await ensure_topics(bootstrap, [topic], 1)
    async with KafkaPublisher(bootstrap) as publisher:
        await publisher.publish([Message(topic, b"k", b"one"), Message(topic, b"k", b"two")])
    group = prefix + "group"
    consumer = build_consumer(bootstrap, group, [topic], session_timeout=6_000_000)
    await consumer.start()
    try:
        got: list[bytes] = []
        async with asyncio.timeout(TIMEOUT_S):
            while len(got) < 2:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    got.extend(r.value for r in batch)
        await asyncio.sleep(1.5)
        assert await consumer.committed(TopicPartition(topic, 0)) is None
    finally:
        await consumer.stop()
    assert got == [b"one", b"two"]


async def test_the_batches_after_a_refused_one_are_candidates_not_a_failure(prefix: str) -> None:
    """The idempotent producer refuses the batches after a refused one as out of
    sequence: they are named with it, so the caller can send them again."""
    bootstrap = kafka_bootstrap()
    topic = prefix + "after-refused"
    await ensure_topics(bootstrap, [topic], 1, {"max.message.bytes": "100000"})
    first, after = Message(topic, b"k", b"first"), Message(topic, b"k", b"after")
    big = Message(topic, b"k", b"x" * 1_200_000)
    async with KafkaPublisher(bootstrap) as publisher:
        with pytest.raises(RecordRefused) as refused:
            await publisher.publish([first, big, after])
        assert big in refused.value.candidates and after in refused.value.candidates
        await publisher.publish([after])
    assert [r.value for r in await read_topic(bootstrap, topic, 2)] == [b"first", b"after"]
