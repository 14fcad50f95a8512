"""The migrations build the schema the code declares (``slawatch.store.schema``)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from slawatch.store.migrate import upgrade
from slawatch.store.schema import metadata


def test_the_migrated_tables_and_columns_are_the_declared_ones(tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/state.db")
    engine = sa.create_engine(f"sqlite:///{tmp_path}/state.db")
    inspector = sa.inspect(engine)
    migrated = {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }
    declared = {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}
    assert migrated == declared
    keys = inspector.get_pk_constraint("availability_counted")["constrained_columns"]
    assert keys == ["topic", "sla", "kind"]
    engine.dispose()
