"""The outbox relay: publishes committed outputs to the bus, then marks them published.

Rows are taken oldest first, locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) for the
whole publish, so two relays never publish the same rows at once. A crash between the
bus's acknowledgement and the mark publishes those rows again, with the same ids.
Published rows are deleted a few minutes later, so the outbox stays small.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus.base import BusError, Message, Publisher
from slawatch.store import common

__all__ = ["OutboxRelay"]

log = structlog.get_logger("slawatch.outbox")

BATCH = 5000
PURGE_EVERY = 30.0
"""Seconds between deletions of published rows."""
KEEP_PUBLISHED = 300
"""Seconds a published row is kept (for inspection) before it is deleted."""
_ERRORS: tuple[type[BaseException], ...] = (*common.DB_ERRORS, BusError)


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

    def wake(self) -> None:
        """Publish soon: new rows were committed."""
        self._wake.set()

    async def once(self) -> int:
        """Publish one batch; returns how many rows."""
        async with self.db.begin() as conn:
            rows = await common.pending(conn, self.owned(), BATCH)
            if rows:
                await self.publisher.publish(
                    [Message(r.topic, r.key.encode(), r.payload.encode(), r.headers) for r in rows]
                )
                await common.mark_published(conn, [r.seq for r in rows])
        self.published(len(rows))
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set, then once more for rows committed meanwhile."""
        backoff = 0.1
        counted = purged = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            self._wake.clear()
            last_round = stop.is_set()
            try:
                while await self.once() == BATCH:
                    pass
                self.healthy = True
                backoff = 0.1
                if time.monotonic() - counted > 2.0:
                    async with self.db.connect() as conn:
                        self.backlog(await common.count_pending(conn, self.owned()))
                    counted = time.monotonic()
                if time.monotonic() - purged > PURGE_EVERY:
                    async with self.db.begin() as conn:
                        await common.purge_published(conn, KEEP_PUBLISHED)
                    purged = time.monotonic()
            except _ERRORS as exc:
                self.failed()
                self.healthy = False
                log.warning("outbox relay failed; retrying", error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._wake.set()
            if last_round:
                return
