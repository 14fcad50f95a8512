"""Each definitions version keeps the public holidays resolved when it was accepted.

``holidays`` is JSON: per calendar with a ``country``, the ``holidays`` package version
and the public-holiday dates it gave (``{"eu-office": {"package": "0.60", "public":
["2026-01-01", ...]}}``). Loading a version uses them, so upgrading the package never
changes an accepted version (``definitions.md``). Versions stored before this revision
are pinned here with the package installed now, the best that is still known.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("definitions_versions", sa.Column("holidays", sa.Text, nullable=True))
    from slawatch.definitions import DefinitionsError, load_definitions
    from slawatch.store.versions import pinned_holidays

    bind = op.get_bind()
    table = sa.table(
        "definitions_versions",
        sa.column("number"),
        sa.column("document"),
        sa.column("holidays"),
    )
    for number, document in bind.execute(sa.select(table.c.number, table.c.document)).all():
        try:
            pinned = pinned_holidays(load_definitions(document))
        except DefinitionsError:
            continue  # a document today's validation refuses: left unpinned, loading says why
        bind.execute(table.update().where(table.c.number == number).values(holidays=pinned))


def downgrade() -> None:
    with op.batch_alter_table("definitions_versions") as batch:
        batch.drop_column("holidays")
