"""Migration 0006 turns each waiting output into an outbox row of its own, in order,
and its downgrade turns them back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support.live import fresh_database
from tests.support.migrations import database_at, upgrade_and_relay

from slawatch.store.common import create_engine
from slawatch.store.migrate import downgrade, upgrade

ROW = (
    "INSERT INTO outbox (id, source_topic, source_partition, topic, key, payload, headers)"
    " VALUES (:id, 't.canonical', 0, 't.sla-events', :key, :payload, :headers)"
)
WAITING = [
    {"id": "a", "key": "ticket:T-1", "payload": '{"id":"a"}', "headers": None},
    {
        "id": "b",
        "key": "ticket:T-2",
        "payload": '{"id":"b"}',
        "headers": '[["slawatch-ticket","{\\"fields\\":{}}"],["slawatch-backfill","1"]]',
    },
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at revision 0005 holding the ``WAITING`` outputs."""
    async with database_at(request.param, tmp_path, "0005") as path:
        await _write_0005_rows(path)
        yield path


async def _write_0005_rows(url: str) -> None:
    db = create_engine(url)
    async with db.begin() as conn:
        for row in WAITING:
            await conn.execute(sa.text(ROW), row)
    await db.dispose()


async def test_outputs_waiting_before_0006_go_out_in_order_with_their_headers(url: str) -> None:
    bus, left = await upgrade_and_relay(url)
    out = bus.read("t.sla-events", 0, 0, 10)
    assert [(r.key, r.value) for r in out] == [
        (b"ticket:T-1", b'{"id":"a"}'),
        (b"ticket:T-2", b'{"id":"b"}'),
    ]
    assert [r.headers for r in out] == [
        (),
        (("slawatch-ticket", b'{"fields":{}}'), ("slawatch-backfill", b"1")),
    ]
    assert left == 0


async def test_the_downgrade_gives_back_a_row_per_output(url: str) -> None:
    upgrade(url)
    downgrade(url, "0005")
    db = create_engine(url)
    async with db.connect() as conn:
        rows = (
            await conn.execute(sa.text("SELECT id, key, payload, headers FROM outbox ORDER BY seq"))
        ).all()
    await db.dispose()
    assert [tuple(r) for r in rows] == [tuple(w.values()) for w in WAITING]


@pytest.mark.postgres
async def test_the_body_is_compressed_with_lz4_on_postgresql() -> None:
    async with fresh_database() as (_, path):
        db = create_engine(path)
        async with db.connect() as conn:
            query = sa.text(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = 'outbox'::regclass AND attname = 'body'"
            )
            method = (await conn.execute(query)).scalar_one()
        await db.dispose()
    assert method == b"l"  # asyncpg reads the "char" type as bytes
