"""Definitions versions kept in the database, so a changed document becomes a new version.

A service starts with the document at ``SLAWATCH_DEFINITIONS``. If it differs from the
newest stored version, it is stored as the next version, in force from the moment it
is accepted (rule 18: ``effective_from`` may not be earlier than the submission).
Every stored version is loaded, so clocks and escalations keep running under the
version they started with (a frozen chain stays frozen across restarts and edits).
The first version is in force from the start. Each version keeps the public holidays
resolved when it was accepted (:func:`pinned_holidays`), and is loaded with them, so
upgrading the ``holidays`` package never changes an accepted version.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime
from typing import NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.definitions import DefinitionsError, Problem, load_definitions
from slawatch.definitions.model import Definitions, DefinitionsVersion
from slawatch.store.schema import definitions_versions
from slawatch.timeutil import format_time

__all__ = [
    "StoredVersion",
    "accept_and_load",
    "load_stored",
    "newest_number",
    "pinned_holidays",
    "stored_after",
    "stored_as",
    "stored_versions",
]


class StoredVersion(NamedTuple):
    """A stored definitions version as it is kept: its document unparsed."""

    number: int
    effective_from: int | None
    accepted_at: datetime
    digest: str
    document: str


async def accept_and_load(
    db: AsyncEngine, document: str, now: int, effective_from: int | None = None
) -> list[DefinitionsVersion]:
    """Store ``document`` as a new version if it changed; return every version, numbered.

    A new version is in force from ``effective_from``, by default ``now``; an instant
    before ``now`` raises :class:`~slawatch.definitions.DefinitionsError` (rule 18). The
    first version is in force from the beginning.
    """
    digest = hashlib.sha256(document.encode()).hexdigest()
    pinned = pinned_holidays(load_definitions(document))
    for _ in range(5):
        try:
            async with db.begin() as conn:
                rows = (
                    await conn.execute(
                        sa.select(definitions_versions).order_by(definitions_versions.c.number)
                    )
                ).all()
                if rows and rows[-1].digest == digest:
                    break
                number = rows[-1].number + 1 if rows else 1
                pending = rows[-1].effective_from if rows else None
                if pending is not None and (effective_from or now) < pending:
                    message = (
                        f"version {rows[-1].number} comes into force at {format_time(pending)};"
                        " a newer version may not come into force before it (set"
                        " SLAWATCH_DEFINITIONS_EFFECTIVE_FROM to that time or later)"
                    )
                    raise DefinitionsError([Problem("effective_from", message)])
                if effective_from is not None and effective_from < now:
                    message = (
                        f"{format_time(effective_from)} is before the time of submission,"
                        f" {format_time(now)}: a version may not apply to the past"
                    )
                    raise DefinitionsError([Problem("effective_from", message)])
                await conn.execute(
                    definitions_versions.insert().values(
                        number=number,
                        effective_from=None if number == 1 else (effective_from or now),
                        digest=digest,
                        document=document,
                        holidays=pinned,
                    )
                )
            break
        except IntegrityError:
            continue
    return await load_stored(db)


async def stored_versions(db: AsyncEngine) -> list[StoredVersion]:
    """Every stored version, oldest first, without parsing its document."""
    t = definitions_versions
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(t.c.number, t.c.effective_from, t.c.accepted_at, t.c.digest,
                          t.c.document).order_by(t.c.number)
            )
        ).all()  # fmt: skip
    return [StoredVersion(*row) for row in rows]


async def newest_number(db: AsyncEngine) -> int | None:
    """The number of the newest stored version; ``None`` with none stored."""
    async with db.connect() as conn:
        number: int | None = await conn.scalar(
            sa.select(sa.func.max(definitions_versions.c.number))
        )
    return number


async def stored_after(db: AsyncEngine, number: int) -> list[DefinitionsVersion] | None:
    """Every stored version if one newer than version ``number`` is stored, else ``None``
    (one cheap query when nothing is new: running services ask this every poll)."""
    newest = await newest_number(db)
    if newest is None or newest <= number:
        return None
    return await load_stored(db)


async def stored_as(db: AsyncEngine, document: str) -> tuple[int | None, int | None]:
    """The newest version stored with exactly ``document`` (``None``: none is), and the
    newest stored version's number."""
    digest = hashlib.sha256(document.encode()).hexdigest()
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(definitions_versions.c.number, definitions_versions.c.digest)
            )
        ).all()
    same = [r.number for r in rows if r.digest == digest]
    return max(same, default=None), max((r.number for r in rows), default=None)


async def load_stored(db: AsyncEngine) -> list[DefinitionsVersion]:
    """Every stored version, numbered, oldest first."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(definitions_versions).order_by(definitions_versions.c.number)
            )
        ).all()
    return [
        DefinitionsVersion(
            r.number, r.effective_from, _with_pinned(load_definitions(r.document), r.holidays)
        )
        for r in rows
    ]


def pinned_holidays(definitions: Definitions) -> str:
    """The public holidays a document's calendars resolve to now, as stored with it:
    JSON, per calendar with a ``country``, the package version and the dates."""
    calendars = definitions.calendars
    pinned = {
        c.id: {
            "package": c.holidays_package_version,
            "public": sorted(d.isoformat() for d in c.holidays - c.explicit_dates),
        }
        for c in calendars.values()
        if c.country is not None
    }
    return orjson.dumps(pinned, option=orjson.OPT_SORT_KEYS).decode()


def _with_pinned(definitions: Definitions, stored: str | None) -> Definitions:
    """``definitions`` with each calendar's public holidays as they were stored."""
    if not stored:
        return definitions
    calendars = dict(definitions.calendars)
    for cid, pinned in orjson.loads(stored).items():
        cal = calendars.get(cid)
        if cal is None or cal.country is None:
            continue
        public = frozenset(date.fromisoformat(d) for d in pinned["public"])
        calendars[cid] = dataclasses.replace(
            cal, holidays=cal.explicit_dates | public, holidays_package_version=pinned["package"]
        )
    return dataclasses.replace(definitions, calendars=calendars)
