"""Definitions versions in the store (rule 18 live): a changed document is the next version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import sqlalchemy as sa

from slawatch.definitions import load_definitions
from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade
from slawatch.store.schema import definitions_versions
from slawatch.store.versions import accept_and_load, load_stored, pinned_holidays
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


NL_OFFICE = """
calendars:
  office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["09:00-17:00"]}
    holidays: {country: NL, dates: ["2026-12-24"]}
slas:
  - id: gold
    kind: customer
    targets:
      - id: response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 4h, calendar: office}]
"""


async def test_a_version_keeps_the_public_holidays_it_was_accepted_with(tmp_path: Path) -> None:
    """Upgrading the holidays package never changes an accepted version: what the
    package gave at acceptance is stored with the version and is what is loaded."""
    url = f"sqlite+aiosqlite:///{tmp_path}/v.db"
    upgrade(url)
    db = create_engine(url)
    [accepted] = await accept_and_load(db, NL_OFFICE, 1000)
    office = accepted.definitions.calendars["office"]
    assert date(2026, 4, 27) in office.holidays and date(2026, 12, 24) in office.holidays
    # as if an older package had not known King's Day and had known 5 May
    pinned = orjson.loads(pinned_holidays(load_definitions(NL_OFFICE)))
    assert pinned["office"]["package"] == office.holidays_package_version
    public = set(pinned["office"]["public"]) - {"2026-04-27"} | {"2026-05-05"}
    pinned["office"] = {"package": "0.1", "public": sorted(public)}
    async with db.begin() as conn:
        await conn.execute(
            sa.update(definitions_versions).values(holidays=orjson.dumps(pinned).decode())
        )
    [loaded] = await load_stored(db)
    office = loaded.definitions.calendars["office"]
    assert date(2026, 4, 27) not in office.holidays
    assert date(2026, 5, 5) in office.holidays and date(2026, 12, 24) in office.holidays
    assert office.holidays_package_version == "0.1"
    await db.dispose()


async def test_versions_stored_before_holidays_were_pinned_are_pinned_by_the_migration(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/v.db"
    upgrade(url, "0007")
    db = create_engine(url)
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO definitions_versions (number, digest, document) VALUES (1, 'x', :d)"
            ),
            {"d": NL_OFFICE},
        )
    upgrade(url)
    async with db.connect() as conn:
        stored = (await conn.execute(sa.select(definitions_versions.c.holidays))).scalar_one()
    assert orjson.loads(stored) == orjson.loads(pinned_holidays(load_definitions(NL_OFFICE)))
    await db.dispose()
