"""The notifier's loop: partitions of ``sla-events`` and ``acks`` claimed, planned, committed.

``sla-events`` and ``acks`` are keyed by subject and have as many partitions, and the
group uses Kafka's range assignor, so partition *p* of both belongs to one notifier.
Per batch: feed the SLA events and acknowledgements read, each at the instant it was
written, firing what fell due in between, then what is due at processing time (unless
catching up: :meth:`~slawatch_notifier.partition.NotifierPartition.process`); then
write in one transaction (fenced by the partition's epoch) the planner's state, both
next offsets and the new intents. Senders deliver
the intents; the relay publishes notification records.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus.base import Record
from slawatch.bus.source import Source, TopicPart
from slawatch.clock.catalog import Catalog
from slawatch.definitions import DefinitionsError
from slawatch.definitions.model import DefinitionsVersion
from slawatch.settings import Settings, Topics
from slawatch.store import common
from slawatch.store.relay import OutboxRelay
from slawatch.store.versions import stored_after
from slawatch_notifier import store
from slawatch_notifier.metrics import MALFORMED, UNKNOWN_VERSION, NotifierMetrics
from slawatch_notifier.partition import NotifierPartition

__all__ = ["Notifier"]

log = structlog.get_logger("slawatch.notifier")
_DB_ERRORS = common.DB_ERRORS


async def _nothing() -> None:
    return None


class Notifier:
    """One notifier process: the partitions it owns and their planners."""

    def __init__(
        self,
        *,
        settings: Settings,
        catalog: Catalog,
        db: AsyncEngine,
        source: Source,
        relay: OutboxRelay,
        metrics: NotifierMetrics,
        clock: Callable[[], int],
        owner: str,
        sent: asyncio.Event,
    ) -> None:
        self.settings, self.catalog, self.db, self.source = settings, catalog, db, source
        self.relay, self.metrics, self.clock, self.owner = relay, metrics, clock, owner
        self.sent = sent
        self.sla_topic = settings.topic(Topics.SLA_EVENTS)
        self.acks_topic = settings.topic(Topics.ACKS)
        self.partitions: dict[int, NotifierPartition] = {}
        self.broken: set[int] = set()
        self.started = False
        self.on_versions: Callable[[], Awaitable[None]] = _nothing
        """Called after newer definitions versions were loaded (the channels follow)."""

    async def _load(self, partition: int) -> NotifierPartition:
        async with self.db.begin() as conn:
            sla = await common.claim(conn, self.sla_topic, partition, self.owner)
            acks = await common.claim(conn, self.acks_topic, partition, self.owner)
            record = await store.load_state(conn, self.sla_topic, partition)
        worker = NotifierPartition(
            sla,
            acks,
            self.catalog,
            record,
            records_topic=self.settings.topic(Topics.NOTIFICATIONS),
            forget_after=2 * self.settings.retention,
        )
        log.info("notifier partition loaded", partition=partition, epoch=sla.epoch)
        return worker

    async def on_assign(self, parts: list[TopicPart]) -> dict[TopicPart, int]:
        """Claim partition *p* of both topics together; the offsets to read them from."""
        offsets: dict[TopicPart, int] = {}
        for partition in sorted({p for _, p in parts}):
            try:
                worker = await self._load(partition)
            except _DB_ERRORS as exc:
                log.warning("notifier partition load failed", partition=partition, error=str(exc))
                self.broken.add(partition)
                continue
            self.partitions[partition] = worker
            self.broken.discard(partition)
            offsets[(self.sla_topic, partition)] = worker.next_sla
            offsets[(self.acks_topic, partition)] = worker.next_acks
        self.metrics.partitions.set(len(self.partitions))
        return offsets

    async def on_revoke(self, parts: list[TopicPart]) -> None:
        """Forget revoked partitions (all they did is committed)."""
        for _, partition in parts:
            self.partitions.pop(partition, None)
            self.broken.discard(partition)
        self.metrics.partitions.set(len(self.partitions))

    async def _recover(self, partition: int) -> None:
        try:
            worker = await self._load(partition)
        except _DB_ERRORS:
            return
        self.partitions[partition] = worker
        self.source.seek((self.sla_topic, partition), worker.next_sla)
        self.source.seek((self.acks_topic, partition), worker.next_acks)
        self.broken.discard(partition)

    async def _refresh(self, worker: NotifierPartition, now: int) -> None:
        """Read the current tickets of the steps about to fire; on failure keep the older."""
        subjects = worker.due_subjects(now)
        if not subjects:
            return
        try:
            async with self.db.connect() as conn:
                tickets = await store.current_tickets(conn, sorted(subjects))
        except _DB_ERRORS as exc:
            log.warning("ticket refresh failed; using the SLA events' copies", error=str(exc))
            return
        worker.refresh(tickets)

    async def _step(
        self,
        worker: NotifierPartition,
        sla: Sequence[Record],
        acks: Sequence[Record],
        now: int,
        behind: bool = False,
    ) -> None:
        await self._refresh(worker, now)
        batch = await asyncio.to_thread(
            functools.partial(worker.process, behind=behind), sla, acks, now
        )
        claims = [(worker.sla_claim, batch.next_sla), (worker.acks_claim, batch.next_acks)]
        try:
            async with self.db.begin() as conn:
                withdrawn = await store.commit(
                    conn,
                    claims,
                    batch.state,
                    batch.intents,
                    batch.acks,
                    batch.records,
                    batch.stopped,
                    self.settings.topic(Topics.NOTIFICATIONS),
                )
        except common.Fenced:
            self.metrics.fenced.inc()
            self.partitions.pop(worker.partition, None)
            return
        except _DB_ERRORS as exc:
            self.metrics.store_errors.inc()
            self.partitions.pop(worker.partition, None)
            self.broken.add(worker.partition)
            log.warning(
                "notifier commit failed; reloading", partition=worker.partition, error=str(exc)
            )
            return
        if batch.acks:
            self.metrics.acks.inc(len(batch.acks))
        for chain, latency in batch.ack_latencies:
            self.metrics.time_to_ack.labels(escalation=chain).observe(latency)
        if batch.intents:
            self.metrics.planned((i.channel, i.status) for i in batch.intents)
            for intent in batch.intents:
                self.metrics.planned_steps.labels(
                    escalation=intent.escalation, notice=intent.notice
                ).inc()
            self.sent.set()
        if withdrawn:
            self.metrics.suppressed_as(withdrawn)
        if batch.records or withdrawn:
            self.relay.wake()
        if batch.skipped:
            self.metrics.skipped.labels(reason=UNKNOWN_VERSION).inc(batch.skipped)
        if batch.malformed:
            self.metrics.skipped.labels(reason=MALFORMED).inc(batch.malformed)
        if batch.missing_version is not None:
            await self._load_versions(worker, batch.missing_version)

    async def _load_versions(self, worker: NotifierPartition, number: int) -> None:
        """Take the definitions versions stored since this process started (an evaluator
        accepted a new document), then read the partition on from where the batch
        stopped. A version that is not stored at all has its SLA events skipped."""
        if await self.take_new_versions() and not self.catalog.has(number):
            worker.unknown_versions.add(number)
            log.error(
                "SLA events name a definitions version that is not stored; skipped",
                version=number,
                partition=worker.partition,
            )
        self.source.seek((self.sla_topic, worker.partition), worker.next_sla)
        self.source.seek((self.acks_topic, worker.partition), worker.next_acks)

    async def take_new_versions(self) -> bool:
        """Take the definitions versions stored since the catalog was built (``slawatch
        apply``, or an evaluator that accepted a changed document); whether the store
        could be read. Loading one rebuilds the channels from the newest (rule 18)."""
        try:
            held = max(v.number for v in self.catalog.versions)
            stored = await stored_after(self.db, held)
            if stored is None:
                return True
            added = self.catalog.add(stored)
        except _DB_ERRORS as exc:
            log.warning("definitions versions could not be loaded", error=str(exc))
            return False
        except DefinitionsError as exc:
            problems = [f"{p.path}: {p.message}" for p in exc.problems]
            log.error("a stored definitions version is invalid; not taken up", problems=problems)
            return False
        if added:
            log.info("definitions versions loaded", versions=added)
            self.metrics.declare(
                [DefinitionsVersion(v.number, v.effective_from, v.definitions)
                 for v in self.catalog.versions]
            )  # fmt: skip
            await self.on_versions()
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Consume and plan until ``stop``."""
        await self.source.start(self.on_assign, self.on_revoke)
        self.started = True
        last_gauges, last_look = 0.0, time.monotonic()
        poll = self.settings.definitions_poll / 1e6
        try:
            while not stop.is_set():
                if poll and time.monotonic() - last_look >= poll:
                    await self.take_new_versions()
                    last_look = time.monotonic()
                batches = await self.source.poll(0.2, self.settings.batch_max_records)
                self.metrics.last_poll.set(time.time())
                now = self.clock()
                lag = self.source.lag()
                self.metrics.show_lag(lag)
                topics = (self.sla_topic, self.acks_topic)
                recovering = set(self.broken)
                for partition in recovering:
                    await self._recover(partition)
                for partition, worker in list(self.partitions.items()):
                    if partition in recovering:
                        continue
                    sla = [
                        r
                        for r in batches.get((self.sla_topic, partition), ())
                        if r.offset >= worker.next_sla
                    ]
                    acks = [
                        r
                        for r in batches.get((self.acks_topic, partition), ())
                        if r.offset >= worker.next_acks
                    ]
                    if sla or acks or worker.is_due(now):
                        behind = any(lag.get((t, partition), 0) > 0 for t in topics)
                        await self._step(worker, sla, acks, now, behind)
                if time.monotonic() - last_gauges > 2.0:
                    await self._gauges(now)
                    last_gauges = time.monotonic()
        finally:
            await self.source.stop()

    async def _gauges(self, now: int) -> None:
        running: Counter[str] = Counter()
        for worker in list(self.partitions.values()):
            with worker.lock:
                running += worker.planner.running_chains()
        self.metrics.show_running(running)
        try:
            async with self.db.connect() as conn:
                overdue = await store.overdue(conn, now - 60_000_000)
        except _DB_ERRORS:
            return
        self.metrics.steps_overdue.set(overdue)

    def ready(self) -> tuple[bool, dict[str, object]]:
        """Whether this notifier makes progress."""
        stalled = self.source.stalled_for(self.settings.stall_after / 1e6) is not None
        detail: dict[str, object] = {
            "started": self.started,
            "partitions": sorted(self.partitions),
            "broken_partitions": sorted(self.broken),
            "consumer_stalled": stalled,
            "outbox_relay_ok": self.relay.healthy,
        }
        return self.started and not stalled and not self.broken and self.relay.healthy, detail
