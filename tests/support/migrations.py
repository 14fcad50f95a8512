"""Checking a migration of the outbox: upgrade, then relay what it kept."""

from __future__ import annotations

import sqlalchemy as sa

from slawatch.bus.memory import MemoryBus
from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade
from slawatch.store.relay import OutboxRelay

SOURCE = ("t.canonical", 0)


async def upgrade_and_relay(url: str) -> tuple[MemoryBus, int]:
    """Migrate ``url`` to the head, relay the outbox of ``SOURCE`` to an in-process bus;
    the bus and the outbox rows left."""
    upgrade(url)
    db = create_engine(url)
    bus = MemoryBus(partitions=1)
    await OutboxRelay(db, bus, lambda: [SOURCE]).drain()
    async with db.connect() as conn:
        left = int((await conn.execute(sa.text("SELECT count(*) FROM outbox"))).scalar_one())
    await db.dispose()
    return bus, left
