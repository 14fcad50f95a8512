"""The Kafka side of ingest: consume the raw topics, publish, then commit.

:class:`IngestConsumer` runs one consumer of the group ``settings.group("ingest")`` on
the raw topics (``settings.raw_topics`` after the prefix). For each batch that
``getmany`` returns it:

1. decides every record with :func:`~slawatch_ingest.pipeline.ingest_one` (canonical,
   duplicate or dead letter; a bad record never raises);
2. publishes the canonical records and the dead letters in one
   :meth:`~slawatch.bus.base.Publisher.publish`, retrying the same messages with
   backoff until the bus acknowledges all of them;
3. only then commits the batch's offsets.

So delivery is at-least-once: a crash between 2 and 3 ingests the batch again, and
the evaluator drops the repeats (rule 5). A batch whose publish did not complete (the
consumer was stopped or rebuilt meanwhile) is not committed and its events are
forgotten by the duplicate filter, so their redelivery is not dropped.

Failures:

- a failed poll is retried with backoff; after several in a row, or any error that is
  not a Kafka error, the consumer is closed and rebuilt (it rejoins the group and
  resumes from the committed offsets);
- a failed commit because the group rebalanced meanwhile is logged: the new owner of
  the partition re-reads from the last commit (duplicates, no loss);
- on revocation, the rebalance waits for the batch in flight to be published and
  committed (``on_partitions_revoked``), and the lag series of the partition is removed.

A stuck consumer (partitions assigned, but no fetch response and no records for
``settings.stall_after``: aiokafka can stop fetching without an error, issues #1154,
#625, #1037) is rebuilt like a failed one.

Readiness (:meth:`IngestConsumer.status`): not ready before the first successful
poll, while publishing keeps failing, and while the consumer looks stuck (no
successful poll, or no fetch progress, for ``settings.stall_after``). Lag is the last
stable offset minus the position, per partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError, RecordTooLargeError

from slawatch.bus import Publisher, PublishError
from slawatch.bus.kafka import consumer_from_settings
from slawatch.observability import get_logger
from slawatch.serving import wall_clock
from slawatch.settings import Settings
from slawatch.timeutil import SECOND
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.delivery import Decided, deliver
from slawatch_ingest.metrics import IngestMetrics, Operation
from slawatch_ingest.pipeline import Origin, Result, Routed, ingest_one

__all__ = ["Backoff", "ConsumerState", "IngestConsumer"]

SERVICE: Final = "ingest"
_POLL_ERRORS_BEFORE_REBUILD: Final = 5
_log = get_logger(__name__)


class ConsumerState(StrEnum):
    """Where the consumer is."""

    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class Backoff:
    """Exponential backoff with a ceiling: 0.1 s, 0.2 s, ... up to ``maximum`` seconds."""

    def __init__(self, maximum: float, initial: float = 0.1) -> None:
        self._initial = min(initial, maximum)
        self._maximum = maximum
        self._next = self._initial

    def next(self) -> float:
        """The next wait, and double the one after."""
        wait = self._next
        self._next = min(self._next * 2, self._maximum)
        return wait

    def reset(self) -> None:
        """Start again from the shortest wait."""
        self._next = self._initial


class _Abandoned(Exception):
    """A batch was given up because the consumer is stopping."""


class _Stalled(Exception):
    """The consumer stopped fetching without an error; it is rebuilt."""


class IngestConsumer:
    """The consume, publish, commit loop of ingest (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        publisher: Publisher,
        metrics: IngestMetrics,
        dedup: DuplicateFilter,
        *,
        clock: Callable[[], int] = wall_clock,
        consumer_factory: Callable[[], AIOKafkaConsumer] | None = None,
        poll_timeout: float = 0.5,
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._metrics = metrics
        self._dedup = dedup
        self._clock = clock
        self._topics = [settings.topic(name) for name in settings.raw_topics]
        self._factory = consumer_factory or self._default_consumer
        self._poll_ms = int(poll_timeout * 1000)
        self._stop = asyncio.Event()
        self._batch_lock = asyncio.Lock()
        self._backoff_max = settings.retry_backoff_max / SECOND
        self.state = ConsumerState.STARTING
        self._started_at = time.monotonic()
        self._last_poll: float | None = None
        self._last_progress: float | None = None
        self._publish_failing_since: float | None = None
        self._last_error: str | None = None
        self._assigned: set[TopicPartition] = set()
        self._lag: dict[TopicPartition, int] = {}
        self.batches = 0

    @property
    def topics(self) -> list[str]:
        """The raw topics consumed."""
        return list(self._topics)

    def _default_consumer(self) -> AIOKafkaConsumer:
        return consumer_from_settings(self._settings, SERVICE)

    def request_stop(self) -> None:
        """Ask :meth:`run` to finish the batch in flight and return."""
        self._stop.set()

    async def run(self) -> None:
        """Consume until :meth:`request_stop`; never raises for broker or input trouble."""
        backoff = Backoff(self._backoff_max)
        while not self._stop.is_set():
            consumer = self._factory()
            try:
                await consumer.start()
                consumer.subscribe(self._topics, listener=_Listener(self))
                self.state = ConsumerState.RUNNING
                _log.info("ingest consumer started", topics=self._topics)
                await self._consume(consumer, backoff)
            except asyncio.CancelledError:
                raise
            except _Abandoned as exc:
                _log.warning(
                    "stopped with a batch not published; it is read again later", error=str(exc)
                )
            except Exception as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"
                self.state = ConsumerState.RESTARTING
                self._metrics.retries.labels(Operation.CONSUMER).inc()
                _log.error("ingest consumer failed; rebuilding it", error=self._last_error)
            finally:
                await self._close(consumer)
            if not self._stop.is_set():
                await self._sleep(backoff.next())
        self.state = ConsumerState.STOPPED
        _log.info("ingest consumer stopped")

    async def _close(self, consumer: AIOKafkaConsumer) -> None:
        self._forget_assignment()
        try:
            async with asyncio.timeout(self._settings.kafka_session_timeout / SECOND):
                await consumer.stop()
        except Exception as exc:
            _log.warning("closing the consumer failed", error=f"{type(exc).__name__}: {exc}")

    async def _sleep(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            pass

    async def _consume(self, consumer: AIOKafkaConsumer, backoff: Backoff) -> None:
        poll_errors = 0
        while not self._stop.is_set():
            try:
                batches = await consumer.getmany(
                    timeout_ms=self._poll_ms, max_records=self._settings.batch_max_records
                )
            except RecordTooLargeError as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._metrics.retries.labels(Operation.POLL).inc()
                _log.error("a record is larger than the fetch size; it was skipped", error=str(exc))
                continue
            except KafkaError as exc:
                poll_errors += 1
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._metrics.retries.labels(Operation.POLL).inc()
                _log.warning("poll failed", error=self._last_error, attempt=poll_errors)
                if poll_errors >= _POLL_ERRORS_BEFORE_REBUILD:
                    raise
                await self._sleep(backoff.next())
                continue
            poll_errors = 0
            backoff.reset()
            now = time.monotonic()
            self._last_poll = now
            self._metrics.last_poll.set(time.time())
            if batches:
                async with self._batch_lock:
                    await self._process(consumer, batches)
                self._last_progress = time.monotonic()
            await self._update_lag(consumer)
            stalled = self._fetch_stalled_for()
            if stalled is not None:
                raise _Stalled(f"no fetch progress for {stalled:.0f}s with partitions assigned")

    async def _process(
        self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[Any]]
    ) -> None:
        now = self._clock()
        decided: list[Decided] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batches.items():
            if not records:
                continue
            for record in records:
                raw = record.value if record.value is not None else b""
                origin = Origin(record.topic, record.partition, record.offset, record.key)
                item = ingest_one(raw, origin, now=now, settings=self._settings, dedup=self._dedup)
                if item.result is Result.REJECTED:
                    _log.warning(
                        "rejected a record",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        reason=item.reason,
                        field=item.field,
                        error=item.error,
                    )
                decided.append(Decided(raw, origin, item))
            offsets[tp] = records[-1].offset + 1
        try:
            routed = await self._publish(decided, now)
        except BaseException:
            for d in decided:
                if d.routed.dedup_key is not None:
                    self._dedup.forget(d.routed.dedup_key)
            raise
        for d, item in zip(decided, routed, strict=True):
            self._metrics.routed(d.origin.topic, item)
        self._metrics.delivered(routed)
        await self._commit(consumer, offsets)
        self.batches += 1

    async def _publish(self, decided: Sequence[Decided], now: int) -> list[Routed]:
        backoff = Backoff(self._backoff_max)
        while True:
            started = time.perf_counter()
            try:
                routed = await deliver(
                    self._publisher, decided, now=now, settings=self._settings, dedup=self._dedup
                )
            except PublishError as exc:
                self._last_error = str(exc)
                if self._publish_failing_since is None:
                    self._publish_failing_since = time.monotonic()
                self._metrics.retries.labels(Operation.PUBLISH).inc()
                _log.warning("publish failed; retrying", error=str(exc), records=len(decided))
                if self._stop.is_set():
                    raise _Abandoned("stopping with a batch not acknowledged") from exc
                await self._sleep(backoff.next())
                if self._stop.is_set():
                    raise _Abandoned("stopping with a batch not acknowledged") from exc
                continue
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
            self._publish_failing_since = None
            return routed

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        started = time.perf_counter()
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            self._metrics.retries.labels(Operation.COMMIT).inc()
            _log.warning(
                "commit failed after a rebalance; the partitions' new owner re-reads the batch",
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)

    async def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in list(consumer.assignment()):
            if tp not in self._assigned:
                continue
            try:
                await self._partition_lag(consumer, tp)
            except (AssertionError, IllegalStateError, KafkaError, TimeoutError):
                continue  # revoked meanwhile, or no position yet

    async def _partition_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        fetched = consumer.last_poll_timestamp(tp)
        if fetched is not None:
            seen = time.monotonic() - max(time.time() - fetched / 1000, 0.0)
            if self._last_progress is None or seen > self._last_progress:
                self._last_progress = seen
        end = consumer.last_stable_offset(tp)
        if end is None or end < 0:
            end = consumer.highwater(tp)
        if end is None:
            return
        async with asyncio.timeout(1.0):
            position = await consumer.position(tp)
        if tp not in self._assigned:
            return
        lag = max(end - position, 0)
        self._lag[tp] = lag
        self._metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)

    def _fetch_stalled_for(self) -> float | None:
        if not self._assigned or self._last_progress is None:
            return None
        idle = time.monotonic() - self._last_progress
        return idle if idle > self._settings.stall_after / SECOND else None

    def _assign(self, assigned: set[TopicPartition]) -> None:
        self._assigned = set(assigned)
        self._last_progress = time.monotonic()

    def _forget_assignment(self) -> None:
        for tp in self._assigned:
            with contextlib.suppress(KeyError):
                self._metrics.consumer_lag.remove(tp.topic, str(tp.partition))
        self._assigned = set()
        self._lag = {}

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._batch_lock:
            pass
        self._forget_assignment()

    def status(self) -> tuple[bool, dict[str, Any]]:
        """Whether the consumer is ready, and why not (see the module docstring)."""
        now = time.monotonic()
        stall = self._settings.stall_after / SECOND
        details: dict[str, Any] = {
            "state": self.state.value,
            "topics": self._topics,
            "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in self._assigned),
            "lag": sum(self._lag.values()),
        }
        if self._last_poll is not None:
            details["seconds_since_poll"] = round(now - self._last_poll, 3)
        problems: list[str] = []
        if self.state is not ConsumerState.RUNNING:
            problems.append(f"consumer is {self.state.value}")
        if self._last_poll is None:
            problems.append("no successful poll yet")
        elif now - self._last_poll > stall:
            problems.append(f"no successful poll for {now - self._last_poll:.0f}s (stuck)")
        stalled = self._fetch_stalled_for()
        if stalled is not None:
            problems.append(f"no fetch progress for {stalled:.0f}s (stuck)")
        if self._publish_failing_since is not None:
            problems.append(f"publishing fails since {now - self._publish_failing_since:.0f}s")
        if problems:
            details["problems"] = problems
            if self._last_error is not None:
                details["last_error"] = self._last_error
        return not problems, details


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: IngestConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._owner._assign(set(assigned))
        _log.info(
            "partitions assigned",
            partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
        )
