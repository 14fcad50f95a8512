"""The evaluator's loop: partitions claimed and loaded, batches applied and committed, relayed.

Per batch and partition the order is: fire the timers due at processing time,
apply the records, then write in one transaction the changed subjects, the next
offset and the outputs (the outbox), fenced by the partition's epoch. On PostgreSQL
partitions step concurrently, and a partition's commit is queued behind its previous
one so that its next batch runs in the engine while the database writes: the engine
is ahead of the database by at most two batches, which a failed commit discards
(the partition is reloaded). The relay publishes committed outputs with an
idempotent producer and deletes them. A crash anywhere loses nothing: on restart the
partition is loaded from its last commit and the records after it are read again
(a crash between publishing and deleting can publish an output twice, with the same
id).

A database failure during a commit marks the partition broken: it is reloaded
from its last commit, and read again from there, as soon as the database answers.

Every ``definitions_poll`` the evaluator looks for definitions versions stored since it
started (``slawatch apply``); once the commits in flight are in, it reloads each of its
partitions from its last commit under every version, as a restart would.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.availability import ServiceState, rolling_figures, statuses_at
from slawatch.bus.base import Publisher, Record
from slawatch.bus.source import Source, TopicPart
from slawatch.clock.cycle import CycleState
from slawatch.clock.kinds import TICKETS
from slawatch.definitions import DefinitionsError
from slawatch.definitions.model import DefinitionsVersion
from slawatch.settings import Settings, Topics
from slawatch.store.relay import OutboxRelay
from slawatch.store.versions import stored_after
from slawatch_evaluator import store
from slawatch_evaluator.availability_metrics import AvailabilityReading, Counted
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.partition import Batch, PartitionWorker

__all__ = ["Evaluator", "Health"]

log = structlog.get_logger("slawatch.evaluator")

_DB_ERRORS = store.DB_ERRORS
GAUGES_EVERY = 1.0
"""Seconds between recomputations of the gauges, at the least."""
GAUGES_SHARE = 0.02
"""At most this share of the loop's time goes to the gauges (they walk every subject)."""


@dataclass(slots=True)
class Health:
    """What readiness is judged on."""

    started: bool = False
    last_commit_ok: bool = True
    broken: set[TopicPart] = field(default_factory=set)


class Evaluator:
    """One evaluator process: the partitions it owns and their engines."""

    def __init__(
        self,
        *,
        settings: Settings,
        versions: Sequence[DefinitionsVersion],
        db: AsyncEngine,
        source: Source,
        publisher: Publisher,
        metrics: EvaluatorMetrics,
        clock: Callable[[], int],
        owner: str,
    ) -> None:
        self.settings = settings
        self.versions = list(versions)
        self.db = db
        self.source = source
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.owner = owner
        self.workers: dict[TopicPart, PartitionWorker] = {}
        self._commits: dict[TopicPart, list[asyncio.Task[None]]] = {}
        self.concurrent_commits = db.dialect.name == "postgresql"  # SQLite: one writer
        self.health = Health()
        self.sla_topic = settings.topic(Topics.SLA_EVENTS)
        self.deadletter_topic = settings.topic(Topics.DEADLETTER)
        self.counted: Counted = {}
        """What the owners of the objectives had counted, as of the latest assignment."""
        self._saved: Counted = {}
        self._saving: asyncio.Task[None] | None = None
        self._looking: asyncio.Task[list[DefinitionsVersion] | None] | None = None
        self.relay = OutboxRelay(
            db,
            publisher,
            lambda: list(self.workers),
            published=metrics.published.inc,
            failed=metrics.publish_errors.inc,
            backlog=metrics.outbox_pending.set,
        )

    # --- assignment ----------------------------------------------------------------

    async def _load(self, part: TopicPart) -> PartitionWorker:
        began = time.perf_counter()
        async with self.db.begin() as conn:
            claimed = await store.claim(conn, part[0], part[1], self.owner)
            records = await store.load_subjects(conn, part[0], part[1])
            unknown = await store.unknown_deadlines(conn, part[0], part[1])
            self.counted = await store.load_counted(conn, part[0])
        self.relay.wake()  # rows the previous owner left go out before this one's
        worker = PartitionWorker(
            claimed,
            self.versions,
            lateness=self.settings.lateness,
            retention=self.settings.retention,
        )
        await asyncio.to_thread(worker.load, records)
        worker.rewrite(unknown)
        self.metrics.load_seconds.observe(time.perf_counter() - began)
        log.info("partition loaded", partition=part[1], epoch=claimed.epoch,
                 offset=claimed.next_offset, subjects=len(records))  # fmt: skip
        return worker

    async def on_assign(self, parts: list[TopicPart]) -> dict[TopicPart, int]:
        """Claim and load newly assigned partitions; the offsets to read them from."""
        offsets: dict[TopicPart, int] = {}
        loaded = await asyncio.gather(*(self._load(part) for part in parts), return_exceptions=True)
        for part, worker in zip(parts, loaded, strict=True):
            if isinstance(worker, BaseException):
                if not isinstance(worker, _DB_ERRORS):
                    raise worker
                log.warning(
                    "partition load failed; will retry", partition=part[1], error=str(worker)
                )
                self.health.broken.add(part)
                continue
            self.workers[part] = worker
            self.health.broken.discard(part)
            offsets[part] = worker.next_offset
        self.metrics.partitions.set(len(self.workers))
        return offsets

    async def on_revoke(self, parts: list[TopicPart]) -> None:
        """Forget revoked partitions once the commits in flight for them are done."""
        await self._committed(parts)
        for part in parts:
            self.workers.pop(part, None)
            self.health.broken.discard(part)
        self.metrics.partitions.set(len(self.workers))

    async def _recover(self, part: TopicPart) -> None:
        if part not in self.source.assigned():
            self.health.broken.discard(part)
            return
        try:
            worker = await self._load(part)
        except _DB_ERRORS as exc:
            log.warning("partition still unavailable", partition=part[1], error=str(exc))
            return
        self.workers[part] = worker
        self.source.seek(part, worker.next_offset)
        self.health.broken.discard(part)
        self.metrics.partitions.set(len(self.workers))
        log.info("partition recovered", partition=part[1], offset=worker.next_offset)

    # --- definitions versions -------------------------------------------------------

    async def _stored_since(self) -> list[DefinitionsVersion] | None:
        """Every stored version if one was stored after those held; else ``None``.
        A failure is logged, and the next look tries again."""
        try:
            return await stored_after(self.db, self.versions[-1].number)
        except _DB_ERRORS as exc:
            log.warning("looking for new definitions versions failed", error=str(exc))
        except DefinitionsError as exc:
            problems = [f"{p.path}: {p.message}" for p in exc.problems]
            log.error("a stored definitions version is invalid; not taken up", problems=problems)
        return None

    async def adopt(self, versions: Sequence[DefinitionsVersion]) -> None:
        """Run under ``versions`` (every stored one) from now on: once the commits in
        flight are in, each owned partition is reloaded from its last commit with them
        and read on from there."""
        await self._committed(list(self._commits))
        self.versions = list(versions)
        self.metrics.declare(self.versions)
        for part in list(self.workers):
            if self.workers.pop(part, None) is None:
                continue  # revoked meanwhile
            self.health.broken.add(part)
            await self._recover(part)
        log.info("definitions versions taken up", versions=[v.number for v in self.versions])

    def _look_for_versions(self) -> list[DefinitionsVersion] | None:
        """What the last look for new versions found, starting the next look if due."""
        looking = self._looking
        if looking is not None and not looking.done():
            return None
        found = looking.result() if looking is not None else None
        self._looking = None
        return found

    # --- batches -------------------------------------------------------------------

    def _outbox(self, batch: Batch) -> list[store.OutboxEntry]:
        rows = [
            store.OutboxEntry(o.id, self.sla_topic, o.subject, o.to_json().decode(), headers)
            for o, headers in zip(batch.outputs, batch.headers, strict=True)
        ]
        rows += [
            store.OutboxEntry(d.id, self.deadletter_topic, d.key, d.payload)
            for d in batch.dead_letters
        ]
        return rows

    def _count(self, batch: Batch) -> None:
        m = self.metrics
        for verdict, n in batch.verdicts.items():
            m.events.labels(result=verdict).inc(n)
            if verdict == "duplicate":
                m.duplicates.inc(n)
        for reason, n in batch.unexpected.items():
            m.unexpected.labels(reason=reason).inc(n)
        for dead in batch.dead_letters:
            m.dead_letters.labels(reason=dead.reason).inc()
        m.count(batch.outputs)
        if batch.event_time_lag is not None:
            m.event_time_lag.set(batch.event_time_lag)

    async def _step(self, worker: PartitionWorker, records: Sequence[Record], now: int) -> None:
        """Apply a batch; commit it, or (on PostgreSQL) queue its commit behind the last one.

        A queued commit lets the next batch of the partition run in the engine while the
        database writes this one. At most two commits of a partition are in flight.
        """
        chain = self._commits.setdefault(worker.key, [])
        while chain and (chain[0].done() or len(chain) >= 2):
            await chain.pop(0)
        began = time.perf_counter()
        batch = await asyncio.to_thread(worker.process, records, now)
        self.metrics.batch_seconds.observe(time.perf_counter() - began)
        if not self.concurrent_commits:
            await self._commit(worker, batch, None)
            return
        previous = chain[-1] if chain else None
        chain.append(asyncio.create_task(self._commit(worker, batch, previous)))

    async def _commit(
        self, worker: PartitionWorker, batch: Batch, previous: asyncio.Task[None] | None
    ) -> None:
        part = worker.key
        if previous is not None:
            await asyncio.wait([previous])
            if previous.cancelled() or previous.exception() is not None:
                return  # raised where the chain is reaped; this batch is never written
        if self.workers.get(part) is not worker:
            return  # an earlier commit failed or the partition was revoked: it is reloaded
        began = time.perf_counter()
        entries = self._outbox(batch)
        try:
            async with self.db.begin() as conn:
                seqs = await store.commit(
                    conn, worker.claim, batch.next_offset, batch.changes, entries
                )
        except store.Fenced as exc:
            self.metrics.fenced.inc()
            self.workers.pop(part, None)
            self.metrics.partitions.set(len(self.workers))
            log.warning(
                "fenced: another evaluator owns the partition", partition=part[1], error=str(exc)
            )
            return
        except _DB_ERRORS as exc:
            self.metrics.store_errors.inc()
            self.health.last_commit_ok = False
            self.workers.pop(part, None)
            self.health.broken.add(part)
            log.warning("commit failed; reloading the partition", partition=part[1], error=str(exc))
            return
        self.health.last_commit_ok = True
        self.metrics.commit_seconds.observe(time.perf_counter() - began)
        self._count(batch)
        self.relay.offer(part, seqs, entries)

    async def _committed(self, parts: Sequence[TopicPart]) -> None:
        """Wait for the commits in flight of ``parts`` (a failed one is logged)."""
        tasks = [task for part in parts for task in self._commits.pop(part, [])]
        if tasks:
            await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                log.error("commit failed", exc_info=task.exception())

    def _reap(self) -> None:
        """Drop finished commits; raise what one of them raised unexpectedly."""
        for chain in self._commits.values():
            while chain and chain[0].done():
                chain.pop(0).result()

    def _poll_timeout(self, now: int) -> float:
        wakeups = [w.engine.next_wakeup() for w in self.workers.values()]
        nearest = min((w for w in wakeups if w is not None), default=None)
        if self.health.broken:
            return 0.5
        if nearest is None:
            return 1.0
        return min(1.0, max(0.0, (nearest - now) / 1e6 + 0.001))

    def _gauges(self, now: int) -> None:
        overdue = 0
        limit = now - self.settings.lateness
        readings: list[AvailabilityReading] = []
        clocks: Counter[tuple[str, str, CycleState, bool]] = Counter()
        for worker in self.workers.values():
            for subject in worker.engine.subjects.values():
                if subject.due is not None and subject.due < limit:
                    overdue += 1
                if subject.kind is TICKETS:
                    clocks.update(subject.ticket_clocks())
                else:
                    readings += _availability(subject.state, now)
        self.metrics.show_clocks(clocks)
        self.metrics.timers_overdue.set(overdue)
        self.metrics.objectives.show(readings, self.counted)
        self.metrics.show_definitions(now)
        self.metrics.show_lag({part[1]: lag for part, lag in self.source.lag().items()})

    async def run(self, stop: asyncio.Event) -> None:
        """Consume, evaluate and commit until ``stop`` is set."""
        await self.source.start(self.on_assign, self.on_revoke)
        self.health.started = True
        relay = asyncio.create_task(self.relay.run(), name="outbox-relay")
        next_gauges = next_look = 0.0
        poll = self.settings.definitions_poll / 1e6
        try:
            while not stop.is_set():
                found = self._look_for_versions()
                if found is not None:
                    await self.adopt(found)
                if poll and self._looking is None and time.monotonic() >= next_look:
                    self._looking = asyncio.create_task(self._stored_since())
                    next_look = time.monotonic() + poll
                batches = await self.source.poll(
                    self._poll_timeout(self.clock()), self.settings.batch_max_records
                )
                self.metrics.last_poll.set(time.time())
                now = self.clock()
                recovered = set(self.health.broken)
                for part in recovered:
                    await self._recover(part)
                steps = []
                for part, worker in list(self.workers.items()):
                    if part in recovered:
                        continue
                    records = [r for r in batches.get(part, ()) if r.offset >= worker.next_offset]
                    if records or worker.is_due(now):
                        steps.append(self._step(worker, records, now))
                if self.concurrent_commits:
                    await asyncio.gather(*steps)
                    self._reap()
                else:
                    for step in steps:
                        await step
                began = time.monotonic()
                if began >= next_gauges:
                    self._gauges(now)
                    if self._saving is None or self._saving.done():
                        self._saving = asyncio.create_task(self._save_counted())
                    spent = time.monotonic() - began
                    next_gauges = began + max(GAUGES_EVERY, spent / GAUGES_SHARE)
        finally:
            stop.set()
            if self._saving is not None:
                await self._saving
            if self._looking is not None:
                await asyncio.wait([self._looking])
            await self._committed(list(self._commits))
            self.relay.stop()  # after the last commit is in, so its rows go out
            await relay
            await self.source.stop()

    async def _save_counted(self) -> None:
        """Record what the availability counters have counted since the last save, so
        that the next owner of an objective goes on from there. It runs beside the loop
        (a slow database never holds the gauges up), one at a time; a failure is
        retried at the next refresh."""
        counted = self.metrics.objectives.counted
        changed = {k: v for k, v in counted.items() if self._saved.get(k) != v}
        if not changed:
            return
        try:
            async with self.db.begin() as conn:
                await store.save_counted(conn, self.settings.topic(Topics.CANONICAL), changed)
        except _DB_ERRORS as exc:
            log.warning("saving the availability counters' progress failed", error=str(exc))
            return
        except Exception:
            log.exception("saving the availability counters' progress failed")
            return
        self._saved = counted

    # --- readiness ------------------------------------------------------------------

    def ready(self) -> tuple[bool, dict[str, object]]:
        """Whether this evaluator makes progress, and why not."""
        stalled = self.source.stalled_for(self.settings.stall_after / 1e6) is not None
        detail: dict[str, object] = {
            "started": self.health.started,
            "joined": self.source.joined,
            "partitions": sorted(p for _, p in self.workers),
            "broken_partitions": sorted(p for _, p in self.health.broken),
            "consumer_stalled": stalled,
            "last_commit_ok": self.health.last_commit_ok,
            "outbox_relay_ok": self.relay.healthy,
        }
        ok = (
            self.health.started
            and self.source.joined
            and not stalled
            and not self.health.broken
            and self.health.last_commit_ok
            and self.relay.healthy
        )
        return ok, detail


def _availability(state: ServiceState, now: int) -> list[AvailabilityReading]:
    statuses = statuses_at(state, now)
    last = max((check.time for check in state.checks.values()), default=None)
    readings = []
    closed = {
        key: tuple((start, down, measured) for _, start, down, measured in kept)
        for key, kept in state.closed.items()
    }
    for window in state.windows.values():
        r = window.reading(now)
        totals = (window.start, r.downtime_seconds, r.measured_seconds)
        objective = window.objective
        readings.append(
            AvailabilityReading(
                objective.id,
                objective.kind.value,
                r.availability,
                r.remaining,
                totals,
                status=statuses[objective.id],
                last_status=last,
                closed=closed.pop(objective.id, ()),
            )
        )
    for objective_id, ended in closed.items():  # objectives with no open window now
        kind = state.closed[objective_id][-1][0]
        readings.append(AvailabilityReading(objective_id, kind, None, None, closed=ended))
    for objective_id, (availability, remaining) in rolling_figures(state, now).items():
        kind = state.rolling[objective_id].objective.kind.value
        status = statuses[objective_id]
        readings.append(
            AvailabilityReading(objective_id, kind, availability, remaining, None, status, last)
        )
    return readings
