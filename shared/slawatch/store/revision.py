"""The schema revision the code needs, and the one a database is at, without Alembic.

The services check the revision on every start; importing Alembic for that cost them
about 0.15 s of a restart. ``tests/serving/test_serving.py`` checks that
``SCHEMA_REVISION`` is the newest migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["SCHEMA_REVISION", "current_revision"]

SCHEMA_REVISION = "0010"
"""The newest migration (``slawatch migrate`` brings a database to it)."""


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    async with engine.connect() as conn:
        known = await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version"))
        if not known:
            return None
        found = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        return found.scalar_one_or_none()
