"""Migration 0004 converts stored subjects (history inside) into state rows and history rows."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa
from tests.support.replaying import versions
from tests.support.streams import DESK

from slawatch.clock import Engine
from slawatch.events import parse_event
from slawatch.events.model import InputEvent
from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade
from slawatch_evaluator import store

VERSIONS = versions((DESK, None))
CREATED = orjson.dumps(
    {
        "id": "e1",
        "source": "desk",
        "type": "ticket.created",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1", "status": "open", "priority": "P2", "customer_tier": "gold"},
    }
)


async def test_subjects_written_before_0004_load_after_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
    upgrade(url, "0003")
    engine = Engine(VERSIONS)
    event = parse_event(CREATED)
    assert isinstance(event, InputEvent)
    engine.apply(event, event.time)
    old_record = engine.export_subject("ticket:T-1")
    old_record.pop("kept")
    db = create_engine(url)
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO subjects (key, topic, partition, record, next_due) "
                "VALUES (:key, 't', 0, :record, :due)"
            ),
            {"key": "ticket:T-1", "record": orjson.dumps(old_record).decode(), "due": None},
        )
    await db.dispose()
    upgrade(url)
    db = create_engine(url)
    async with db.connect() as conn:
        stored = await store.load_subjects(conn, "t", 0)
    await db.dispose()
    assert len(stored) == 1
    record, lines = stored[0]
    assert lines == old_record["history"]
    restored = Engine(VERSIONS)
    restored.import_stored(orjson.loads(record), lines)
    again = restored.export_subject("ticket:T-1")
    again.pop("kept")
    assert again == old_record
