"""The Kafka adapter (aiokafka): a publisher, topic creation, and safe consumers.

:class:`KafkaPublisher` implements :class:`~slawatch.bus.base.Publisher` with an
idempotent ``AIOKafkaProducer`` (``acks="all"``, ``enable_idempotence=True``, a linger
of a few milliseconds so one ``publish`` goes out in few requests). ``publish`` sends
every message and returns only once the broker has acknowledged all of them; if any
was not acknowledged it raises :class:`~slawatch.bus.base.PublishError`, and some of
the others may have been written: callers retry the whole call (at-least-once, which
the evaluator absorbs by rule 5). After an error that leaves the idempotent producer
unusable (an out-of-order sequence, a timeout: aiokafka issue #1017), the next
``publish`` replaces the producer first.

Large records. An input event is at most ``max_event_bytes`` (1 MiB), but the records
slawatch writes can be larger: a canonical event gains ``received_at``, and a dead
letter quotes the raw bytes as a JSON string, where escaping may grow them up to six
times. So the producer's ``max_request_size`` and the ``max.message.bytes`` of every
topic :func:`ensure_topics` creates for slawatch are ``Settings.max_record_bytes``
(8 MiB), and a dead letter quotes at most ``deadletter_raw_max_bytes`` of a record,
cut to fit under that limit (the ingest pipeline does it, recording the original size).
The raw topics ingest creates take ``raw_max_record_bytes`` (32 MiB), so a 10 MB raw
record reaches ingest, is dead-lettered truncated, with its size, and stays whole in
its raw topic at the offset the dead letter names. Nothing here needs a broker
setting: the topic-level ``max.message.bytes`` overrides ``message.max.bytes``.
Reading large records needs nothing either: since fetch v3 the broker returns a first
record batch larger than ``max_partition_fetch_bytes`` whole.

:func:`ensure_topics` creates the missing topics of a list with
``AIOKafkaAdminClient`` and leaves existing ones as they are (their partitions and
configuration are not changed or checked); it is safe to call at every start and from
several processes at once.

:func:`build_consumer` makes an ``AIOKafkaConsumer`` with the project's defaults
instead of aiokafka's (``shared/notes/performance-and-reliability.md``, section 3):
no auto-commit (services commit after their output is acknowledged), ``earliest``
reset (a new group reads everything rather than skipping), ``read_committed``, and a
30 s session with a 3 s heartbeat, so that a busy event loop (aiokafka #678) does not
cost the group membership.

Errors: :class:`~slawatch.bus.base.PublishError` (publishing), and
:class:`~slawatch.bus.base.BusError` for a topic that could not be created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RecordListTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner

from slawatch.bus.base import BusError, Message, PublishError, RecordRefused
from slawatch.settings import Settings
from slawatch.timeutil import SECOND

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "KafkaPublisher",
    "build_consumer",
    "consumer_from_settings",
    "ensure_topics",
    "topic_config",
]

DEFAULT_MAX_REQUEST_BYTES: Final = 8 * 1_048_576
"""The default of ``Settings.max_record_bytes``."""

_TOPIC_ALREADY_EXISTS: Final = 36
_BATCH_BYTES: Final = 1_048_576
_PARTITION_CACHE: Final = 200_000
_FATAL_FOR_PRODUCER: Final = (OutOfOrderSequenceNumber, ProducerFenced, KafkaTimeoutError)
_REFUSALS: Final = (MessageSizeTooLargeError, RecordListTooLargeError)
"""Errors no retry mends: the record is larger than its topic or the producer takes."""


def _refusal(results: Sequence[object], oversized: Sequence[Message], limit: int) -> str:
    """Why records were refused: the broker's first refusal, else the producer's limit."""
    refusal = next((r for r in results if isinstance(r, _REFUSALS)), None)
    if refusal is not None:
        return f"{type(refusal).__name__}: {refusal}"
    size = len(oversized[0].value)
    return f"MessageSizeTooLargeError: a record of {size} bytes is above max_request_size ({limit})"


def topic_config(max_record_bytes: int) -> dict[str, str]:
    """The configuration slawatch gives the topics it creates."""
    return {"max.message.bytes": str(max_record_bytes)}


_CODECS: dict[str, str | None] = {c: c for c in ("gzip", "snappy", "lz4", "zstd")} | {"none": None}


class KafkaPublisher:
    """Publishes to Kafka and waits for every acknowledgement.

    ``start()`` connects (raising :class:`~slawatch.bus.base.BusError` when the broker
    is unreachable); ``stop()`` flushes and closes; ``publish`` before ``start`` raises
    :class:`~slawatch.bus.base.PublishError`.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        max_request_size: int = DEFAULT_MAX_REQUEST_BYTES,
        linger_ms: int = 5,
        compression: str | None = None,
        client_id: str = "slawatch",
        request_timeout_ms: int = 30_000,
        metadata_max_age_ms: int = 300_000,
    ) -> None:
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "compression_type": compression,
            "max_request_size": max_request_size,
            "max_batch_size": min(max_request_size, _BATCH_BYTES),
            "request_timeout_ms": request_timeout_ms,
            "metadata_max_age_ms": metadata_max_age_ms,
        }
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[tuple[str, bytes], int] = {}
        self._counts: dict[str, int] = {}
        self._broken = False
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, client_id: str = "slawatch") -> KafkaPublisher:
        """A publisher configured from ``settings``."""
        return cls(
            settings.kafka_bootstrap,
            max_request_size=settings.max_record_bytes,
            linger_ms=settings.kafka_linger_ms,
            compression=_CODECS[settings.kafka_compression],
            client_id=client_id,
        )

    @property
    def started(self) -> bool:
        """Whether ``start`` succeeded and ``stop`` was not called since."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect to the broker (idempotent)."""
        async with self._lock:
            if self._producer is None:
                self._producer = await self._new_producer()

    async def stop(self) -> None:
        """Send what is pending and close (idempotent)."""
        async with self._lock:
            producer, self._producer = self._producer, None
            if producer is not None:
                await producer.stop()

    async def __aenter__(self) -> KafkaPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except Exception as exc:
            await producer.stop()
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise BusError(f"cannot connect to Kafka: {self.last_error}") from exc
        self._broken = False
        return producer

    async def publish(self, messages: Sequence[Message]) -> None:
        """Send every message and wait until all are acknowledged (order kept per key).

        Messages are packed into record batches per partition (``create_batch``), which
        costs a fraction of one ``send`` per message; keys go to the partitions
        ``send`` would choose (murmur2, as Kafka's Java client). A record larger than
        the producer takes is found before anything is sent, and none is sent:
        :class:`~slawatch.bus.base.RecordRefused` then has all of them as
        ``candidates``; when the broker refuses batches as too large, their records.
        """
        if not messages:
            return
        producer = await self._usable_producer()
        sent: list[tuple[asyncio.Future[Any], list[Message]]] = []
        oversized: list[Message] = []
        failure: BaseException | None = None
        try:
            oversized = self._oversized(messages)
            if not oversized:
                await self._pack(producer, messages, sent)
        except Exception as exc:
            failure = exc
        results = await asyncio.gather(*(f for f, _ in sent), return_exceptions=True)
        # after a refused batch, the idempotent producer's later batches to that partition
        # are refused as out of sequence: they are not acknowledged either, not a failure
        refusals: tuple[type[BaseException], ...] = _REFUSALS
        if any(isinstance(r, _REFUSALS) for r in results):
            refusals = (*_REFUSALS, OutOfOrderSequenceNumber)
        outcomes = zip(sent, results, strict=True)
        refused = [m for (_, batch), r in outcomes if isinstance(r, refusals) for m in batch]
        if failure is None:
            errors = (r for r in results if isinstance(r, BaseException))
            failure = next((r for r in errors if not isinstance(r, refusals)), None)
        if failure is None and (oversized or refused):
            self._broken = True  # a refused batch leaves the idempotent sequence behind
            self.last_error = _refusal(results, oversized, self._options["max_request_size"])
            raise RecordRefused(
                f"not acknowledged: {self.last_error}", candidates=refused or messages
            )
        if failure is not None:
            if isinstance(failure, KafkaError):
                self._failed(failure)
            else:
                self.last_error = f"{type(failure).__name__}: {failure}"
            raise PublishError(
                f"not acknowledged: {type(failure).__name__}: {failure}"
            ) from failure
        self.last_error = None

    async def _pack(
        self,
        producer: AIOKafkaProducer,
        messages: Sequence[Message],
        sent: list[tuple[asyncio.Future[Any], list[Message]]],
    ) -> None:
        batches: dict[tuple[str, int], tuple[Any, list[Message]]] = {}
        for topic in {message.topic for message in messages}:
            count = len(await producer.partitions_for(topic))
            if self._counts.setdefault(topic, count) != count:
                self._counts[topic] = count  # the topic grew: keys move, as send() would
                self._partitions.clear()
        known = self._partitions
        header_lists: dict[tuple[tuple[str, bytes], ...], list[Any]] = {}
        for message in messages:
            topic, key, value, pairs = message
            headers = header_lists.get(pairs)
            if headers is None:
                headers = header_lists[pairs] = list(pairs)
            partition = known.get((topic, key)) if key is not None else None
            if partition is None:
                partition = await self._partition_of(producer, topic, key)
            slot = (topic, partition)
            open_batch = batches.get(slot)
            if open_batch is None:
                open_batch = batches[slot] = (producer.create_batch(), [])
            batch, members = open_batch
            if batch.append(key=key, value=value, timestamp=None, headers=headers):
                members.append(message)
                continue
            sent.append((await producer.send_batch(batch, topic, partition=partition), members))
            batch, members = batches[slot] = (producer.create_batch(), [message])
            if not batch.append(key=key, value=value, timestamp=None, headers=headers):
                raise PublishError(f"a record of {len(value)} bytes fits no batch")
        for (topic, partition), (batch, members) in batches.items():
            sent.append((await producer.send_batch(batch, topic, partition=partition), members))

    def _oversized(self, messages: Sequence[Message]) -> list[Message]:
        """The messages above the producer's ``max_request_size``."""
        limit = self._options["max_request_size"]
        extras: dict[tuple[tuple[str, bytes], ...], int] = {}
        found = []
        for message in messages:
            _, key, value, pairs = message
            extra = extras.get(pairs)
            if extra is None:
                extra = extras[pairs] = sum(len(n) + len(v) for n, v in pairs)
            if len(value) + (len(key) if key else 0) + extra > limit:
                found.append(message)
        return found

    async def _partition_of(self, producer: AIOKafkaProducer, topic: str, key: bytes | None) -> int:
        cached = self._partitions.get((topic, key)) if key is not None else None
        if cached is not None:
            return cached
        known = sorted(await producer.partitions_for(topic))
        partition: int = self._partitioner(key, known, known)
        if key is not None:
            if len(self._partitions) >= _PARTITION_CACHE:
                self._partitions.clear()
            self._partitions[(topic, key)] = partition
        return partition

    async def _usable_producer(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                raise PublishError("the Kafka publisher is not started")
            if self._broken:
                old, self._producer = self._producer, None
                try:
                    await old.stop()
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                try:
                    self._producer = await self._new_producer()
                except BusError as exc:
                    self._producer = old
                    raise PublishError(str(exc)) from exc
            return self._producer

    def _failed(self, exc: KafkaError) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, _FATAL_FOR_PRODUCER):
            self._broken = True


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int,
    config: Mapping[str, str] | None = None,
    *,
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> list[str]:
    """Create the topics of ``names`` that do not exist; return the ones created.

    Raises :class:`~slawatch.bus.base.BusError` when the broker cannot be reached within
    ``timeout`` seconds or refuses to create a topic for another reason than that it
    exists.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=name,
                        num_partitions=partitions,
                        replication_factor=replication_factor,
                        topic_configs=dict(config or {}),
                    )
                    for name in wanted
                ]
            )
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BusError(f"cannot create topics on {bootstrap}: {type(exc).__name__}: {exc}") from exc
    finally:
        await admin.close()
    created: list[str] = []
    failures: list[str] = []
    for entry in response.topic_errors:
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:
            failures.append(f"{name}: error {code} {message or ''}".rstrip())
    if failures:
        raise BusError("cannot create topics: " + "; ".join(failures))
    return created


def build_consumer(
    bootstrap: str,
    group_id: str | None,
    topics: Sequence[str] = (),
    *,
    client_id: str = "slawatch",
    instance_id: str | None = None,
    session_timeout: int = 30 * SECOND,
    heartbeat_interval: int = 3 * SECOND,
    max_poll_interval: int = 300 * SECOND,
    max_poll_records: int | None = None,
    **overrides: Any,
) -> AIOKafkaConsumer:
    """An unstarted consumer with the project's defaults (durations in microseconds).

    ``topics`` subscribes at construction; pass none to ``subscribe`` (with a rebalance
    listener) or ``assign`` later. ``instance_id`` enables static membership, so a
    restart within the session timeout does not rebalance. ``overrides`` go to
    ``AIOKafkaConsumer`` as they are.
    """
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "group_instance_id": instance_id,
        "client_id": client_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "session_timeout_ms": session_timeout // 1000,
        "heartbeat_interval_ms": heartbeat_interval // 1000,
        "max_poll_interval_ms": max_poll_interval // 1000,
        "max_poll_records": max_poll_records,
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def consumer_from_settings(
    settings: Settings, service: str, topics: Sequence[str] = (), **overrides: Any
) -> AIOKafkaConsumer:
    """:func:`build_consumer` for ``service``'s group (``settings.group(service)``)."""
    return build_consumer(
        settings.kafka_bootstrap,
        settings.group(service),
        topics,
        client_id=f"slawatch-{service}",
        instance_id=settings.instance_id,
        session_timeout=settings.kafka_session_timeout,
        heartbeat_interval=settings.kafka_heartbeat_interval,
        max_poll_interval=settings.kafka_max_poll_interval,
        max_poll_records=settings.batch_max_records,
        **overrides,
    )
