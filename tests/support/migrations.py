"""Checking a migration: a database at an older revision; for the outbox, upgrade and
relay what it kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa

from slawatch.bus.memory import MemoryBus
from slawatch.store.common import create_engine
from slawatch.store.migrate import downgrade, upgrade
from slawatch.store.relay import OutboxRelay
from tests.support.live import fresh_database

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


@asynccontextmanager
async def database_at(dialect: str, tmp_path: Path, revision: str) -> AsyncIterator[str]:
    """The URL of a new database (``sqlite`` or ``postgresql``) at ``revision``."""
    if dialect == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
        upgrade(url, revision)
        yield url
        return
    async with fresh_database() as (_, url):
        downgrade(url, revision)
        yield url
