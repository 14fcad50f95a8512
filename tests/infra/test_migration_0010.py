"""Migration 0010 marks the deadline of every stored ticket not known, and goes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support.migrations import database_at

from slawatch.store.common import create_engine
from slawatch.store.migrate import downgrade, upgrade
from slawatch.store.schema import DEADLINE_UNKNOWN

ROW = (
    "INSERT INTO subject_states (key, topic, partition, state, next_due)"
    " VALUES (:key, 't.canonical', 0, :state, NULL)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at revision 0009 holding a ticket and a service."""
    async with database_at(request.param, tmp_path, "0009") as path:
        await _write_0009_rows(path)
        yield path


async def _write_0009_rows(url: str) -> None:
    db = create_engine(url)
    async with db.begin() as conn:
        for key in ("ticket:T-1", "service:api"):
            await conn.execute(sa.text(ROW), {"key": key, "state": b"{}"})
    await db.dispose()


async def _columns(url: str) -> dict[str, object]:
    """Each row's ``deadline``; empty when the column is not there."""
    db = create_engine(url)
    try:
        async with db.connect() as conn:
            names = await conn.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("subject_states")]
            )
            if "deadline" not in names:
                return {}
            rows = await conn.execute(sa.text("SELECT key, deadline FROM subject_states"))
            return {row.key: row.deadline for row in rows}
    finally:
        await db.dispose()


async def test_stored_tickets_get_an_unknown_deadline_and_services_none(url: str) -> None:
    """Also a ticket an evaluator of the older version inserts after the migration."""
    upgrade(url)
    assert await _columns(url) == {"ticket:T-1": DEADLINE_UNKNOWN, "service:api": None}
    db = create_engine(url)
    async with db.begin() as conn:
        await conn.execute(sa.text(ROW), {"key": "ticket:T-2", "state": b"{}"})
    await db.dispose()
    assert (await _columns(url))["ticket:T-2"] == DEADLINE_UNKNOWN
    downgrade(url, "0009")
    assert await _columns(url) == {}
