"""Migration 0005 keeps what was not yet published and drops what was."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from tests.support.migrations import upgrade_and_relay

from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade

ROW = (
    "INSERT INTO outbox (id, source_topic, source_partition, topic, key, payload, published_at)"
    " VALUES (:id, 't.canonical', 0, 't.sla-events', 'ticket:T-1', :payload, {at})"
)


async def test_rows_published_before_0005_are_gone_and_pending_ones_go_out(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
    upgrade(url, "0004")
    db = create_engine(url)
    async with db.begin() as conn:
        await conn.execute(
            sa.text(ROW.format(at="CURRENT_TIMESTAMP")), {"id": "sent", "payload": "1"}
        )
        await conn.execute(sa.text(ROW.format(at="NULL")), {"id": "waiting", "payload": "2"})
    await db.dispose()
    bus, left = await upgrade_and_relay(url)
    assert [r.value for r in bus.read("t.sla-events", 0, 0, 10)] == [b"2"]
    assert left == 0
