"""A notifier's working parts, wired once for ``serve notifier`` and for standalone.

:func:`assemble` builds the planning loop (:class:`~slawatch_notifier.runtime.Notifier`),
its senders and the relay that publishes notification records, around a store, a
source of ``sla-events`` and ``acks``, a publisher and the channels.
:meth:`NotifierProcess.run` runs them until ``stop`` and shuts them down in order: the
senders finish before the relay stops, so the records of their last sends go out.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus.base import Publisher
from slawatch.bus.source import Source
from slawatch.clock.catalog import Catalog
from slawatch.errors import ConfigurationError
from slawatch.observability.logs import get_logger
from slawatch.settings import Settings
from slawatch.store.relay import OutboxRelay
from slawatch_notifier.channels import Channel
from slawatch_notifier.messages import local_zone
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.runtime import Notifier
from slawatch_notifier.sender import Sender
from slawatch_notifier.store import LOG_SOURCE

__all__ = ["NotifierProcess", "assemble"]

log = get_logger("slawatch.notifier")


@dataclass
class NotifierProcess:
    """The planning loop, its senders, the relay of notification records, the channels."""

    notifier: Notifier
    senders: list[Sender]
    relay: OutboxRelay
    channels: Mapping[str, Channel]
    wake: asyncio.Event
    rebuild: Callable[[], Mapping[str, Channel]] | None = None

    async def refresh_channels(self) -> None:
        """Build the channels of the newest definitions (a version loaded while running
        may add or change one) and hand them to the senders; on a settings problem keep
        the channels in use and log why."""
        if self.rebuild is None:
            return
        try:
            fresh = self.rebuild()
        except ConfigurationError as exc:
            log.error("the newest definitions' channels cannot be built; keeping the old ones",
                      error=str(exc))  # fmt: skip
            return
        stale, self.channels = self.channels, fresh
        for sender in self.senders:
            sender.channels = fresh
        for channel in stale.values():
            await channel.close()
        log.info("channels rebuilt from the newest definitions", channels=sorted(fresh))

    async def run(self, stop: asyncio.Event) -> None:
        """Plan and send until ``stop``; then stop the senders, the relay, the channels."""
        relaying = asyncio.create_task(self.relay.run(), name="notifier-relay")
        sending = [
            asyncio.create_task(s.run(stop), name=f"sender-{n}") for n, s in enumerate(self.senders)
        ]
        try:
            await self.notifier.run(stop)
        finally:
            stop.set()
            self.wake.set()
            await asyncio.gather(*sending, return_exceptions=True)
            self.relay.stop()
            await asyncio.gather(relaying, return_exceptions=True)
            for channel in self.channels.values():
                await channel.close()


def assemble(
    *,
    settings: Settings,
    catalog: Catalog,
    db: AsyncEngine,
    source: Source,
    publisher: Publisher,
    channels: Mapping[str, Channel],
    metrics: NotifierMetrics,
    clock: Callable[[], int],
    owner: str,
    senders: int,
    rebuild: Callable[[], Mapping[str, Channel]] | None = None,
) -> NotifierProcess:
    """The parts of one notifier process, ``senders`` of them delivering; ``rebuild``
    builds the channels again when a newer definitions version is loaded."""
    relay = OutboxRelay(
        db,
        publisher,
        lambda: [LOG_SOURCE],
        published=metrics.published.inc,
        failed=metrics.publish_errors.inc,
        backlog=metrics.outbox_pending.set,
    )
    wake = asyncio.Event()
    notifier = Notifier(
        settings=settings,
        catalog=catalog,
        db=db,
        source=source,
        relay=relay,
        metrics=metrics,
        clock=clock,
        owner=owner,
        sent=wake,
    )
    delivering = [
        Sender(
            db=db,
            channels=channels,
            settings=settings,
            metrics=metrics,
            clock=clock,
            owner=owner,
            wake=wake,
            finished=relay.wake,
            zone_of=functools.partial(local_zone, catalog),
            environ=os.environ,
        )
        for _ in range(senders)
    ]
    parts = NotifierProcess(notifier, delivering, relay, channels, wake, rebuild)
    notifier.on_versions = parts.refresh_channels
    return parts
