"""Definitions versions in the store (rule 18 live): a changed document is the next version."""

from __future__ import annotations

from pathlib import Path

from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade
from slawatch.store.versions import accept_and_load
from tests.support.streams import DESK


async def test_a_changed_document_becomes_the_next_version_from_now(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/v.db"
    upgrade(url)
    db = create_engine(url)
    first = await accept_and_load(db, DESK, 1000)
    assert [(v.number, v.effective_from) for v in first] == [(1, None)]
    again = await accept_and_load(db, DESK, 2000)
    assert [(v.number, v.effective_from) for v in again] == [(1, None)]
    edited = DESK.replace("target: 30m", "target: 45m")
    second = await accept_and_load(db, edited, 3000)
    assert [(v.number, v.effective_from) for v in second] == [(1, None), (2, 3000)]
    goals = [v.definitions.slas[0].targets[0].goals[0].target for v in second]
    assert goals == [30 * 60 * 10**6, 45 * 60 * 10**6]
    restarted = await accept_and_load(db, edited, 4000)
    assert [(v.number, v.effective_from) for v in restarted] == [(1, None), (2, 3000)]
    await db.dispose()
