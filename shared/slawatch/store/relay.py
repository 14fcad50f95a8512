"""The outbox relay: publishes committed outputs to the bus and deletes them.

A writer that knows what it committed hands the rows over (:meth:`OutboxRelay.offer`),
so the relay does not read them back; anything else (rows left by an earlier owner of
a partition, rows of a writer that does not offer, rows of a failed attempt) is read
from the outbox oldest first, locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
Either way the rows are deleted and published in one transaction, so two relays never
publish the same rows at once and a failed publish leaves them in place. A crash
between the bus's acknowledgement and the commit publishes those rows again, with the
same ids.

Order per source partition is kept: a relay reads the outbox before it publishes what
was offered whenever it may hold older rows (at start, after :meth:`wake`, after a
failure, after a quiet spell), and offered rows a read has already published are
skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus.base import BusError, Message, Publisher
from slawatch.store import common

__all__ = ["OutboxRelay"]

log = structlog.get_logger("slawatch.outbox")

BATCH = 5000
"""Outputs a relay publishes per round, at most (an outbox row's outputs go together)."""
IDLE_READ = 0.5
"""Seconds without an offer after which the outbox is read for rows nobody offered."""
_ERRORS: tuple[type[BaseException], ...] = (*common.DB_ERRORS, BusError)


@dataclass(frozen=True, slots=True)
class _Offered:
    source: tuple[str, int]
    seqs: Sequence[int]
    entries: Sequence[common.OutboxEntry]


class OutboxRelay:
    """Publishes the outbox rows of the partitions ``owned()`` returns."""

    def __init__(
        self,
        db: AsyncEngine,
        publisher: Publisher,
        owned: Callable[[], list[tuple[str, int]]],
        *,
        published: Callable[[int], None] = lambda n: None,
        failed: Callable[[], None] = lambda: None,
        backlog: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.owned = owned
        self.published = published
        self.failed = failed
        self.backlog = backlog
        self.healthy = True
        self._wake = asyncio.Event()
        self._offered: deque[_Offered] = deque()
        self._read = True
        self._stopping = False

    def wake(self) -> None:
        """Publish soon, reading the outbox first: rows were committed that nobody offers,
        or a partition was just claimed and may hold rows of its previous owner."""
        self._read = True
        self._wake.set()

    def stop(self) -> None:
        """End :meth:`run` after one more round: call it once every writer is done."""
        self._stopping = True
        self._wake.set()

    def offer(
        self,
        source: tuple[str, int],
        seqs: Sequence[int],
        entries: Sequence[common.OutboxEntry],
    ) -> None:
        """Publish soon the rows just committed for ``source`` (:func:`common.write_outbox`)."""
        if entries:
            self._offered.append(_Offered(source, seqs, entries))
            self._wake.set()

    async def drain(self) -> None:
        """Publish everything there is: read the outbox first if it may hold older rows."""
        if self._read:
            while await self._read_once():
                pass
            self._read = False
        while self._offered:
            await self._offered_once()

    async def _read_once(self) -> int:
        """Publish the oldest outbox rows (about ``BATCH`` outputs); how many outputs."""
        async with self.db.begin() as conn:
            rows = await common.pending(conn, self.owned(), BATCH)
            if rows:
                await common.take(conn, [r.seq for r in rows])
                await self.publisher.publish(
                    [Message(r.topic, r.key.encode(), r.payload.encode(), r.headers) for r in rows]
                )
        self.published(len(rows))
        return len(rows)

    async def _offered_once(self) -> None:
        owned = set(self.owned())
        seqs: list[int] = []
        entries: list[common.OutboxEntry] = []
        while self._offered and len(seqs) < BATCH:
            offered = self._offered.popleft()
            if offered.source in owned:
                seqs += offered.seqs
                entries += offered.entries
        if not seqs:
            return
        async with self.db.begin() as conn:
            there = await common.take(conn, seqs)
            messages = [
                Message(e.topic, e.key.encode(), e.payload.encode(), e.headers)
                for seq, e in zip(seqs, entries, strict=True)
                if seq in there
            ]
            if messages:
                await self.publisher.publish(messages)
        self.published(len(messages))

    async def _backlog(self) -> int:
        """Rows waiting: those offered, or (when the outbox is to be read) the outbox's."""
        if not self._read:
            return sum(len(offered.seqs) for offered in self._offered)
        async with self.db.connect() as conn:
            return await common.count_pending(conn, self.owned())

    async def run(self) -> None:
        """Relay until :meth:`stop`, then once more for rows committed meanwhile."""
        backoff = 0.1
        counted = 0.0
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_READ)
            except TimeoutError:
                self._read = True
            self._wake.clear()
            last_round = self._stopping
            try:
                if time.monotonic() - counted > 2.0:
                    self.backlog(await self._backlog())
                    counted = time.monotonic()
                await self.drain()
                self.healthy = True
                backoff = 0.1
            except _ERRORS as exc:
                self.failed()
                self.healthy = False
                log.warning("outbox relay failed; retrying", error=str(exc))
                self._offered.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self.wake()
            if last_round:
                return
