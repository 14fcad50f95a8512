"""What every service does at its edge: the schema check, definitions versions, its names."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.errors import ConfigurationError
from slawatch.serving import (
    check_schema,
    kafka_options,
    load_definitions_versions,
    owner_name,
    wall_clock,
)
from slawatch.settings import Settings
from slawatch.store.common import create_engine
from slawatch.store.migrate import downgrade, head_revision, upgrade
from slawatch.store.revision import SCHEMA_REVISION
from slawatch.store.versions import accept_and_load
from slawatch.timeutil import SECOND, parse_time
from tests.support.live import fresh_database
from tests.support.streams import DESK


async def test_a_database_behind_the_newest_migration_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
    upgrade(url, "0004")
    db = create_engine(url)
    with pytest.raises(ConfigurationError, match="run `slawatch migrate` first") as refused:
        await check_schema(db)
    assert f"at 0004, not {head_revision()}" in str(refused.value)
    upgrade(url)
    await check_schema(db)
    await db.dispose()


def test_the_revision_the_services_check_is_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_REVISION


async def test_an_empty_database_is_refused_as_at_nothing(tmp_path: Path) -> None:
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    with pytest.raises(ConfigurationError, match="at nothing, not"):
        await check_schema(db)
    await db.dispose()


@pytest.mark.postgres
async def test_the_schema_check_reads_postgresql_revisions() -> None:
    async with fresh_database() as (_, url):
        db = create_engine(url)
        await check_schema(db)
        downgrade(url, "0005")
        with pytest.raises(ConfigurationError, match="at 0005, not"):
            await check_schema(db)
        await db.dispose()


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[Settings, AsyncEngine, Path]]:
    """Settings with a valid document, and a migrated SQLite store."""
    url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
    upgrade(url)
    db = create_engine(url)
    document = tmp_path / "definitions.yaml"
    document.write_text(DESK)
    yield Settings(database_url=url, definitions=document), db, document
    await db.dispose()


async def test_definitions_versions_are_stored_and_a_change_is_the_next_one(
    stored: tuple[Settings, AsyncEngine, Path],
) -> None:
    settings, db, document = stored
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    document.write_text(DESK.replace("8h", "9h", 1))
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1, 2]


async def test_without_a_document_the_stored_versions_are_used(
    stored: tuple[Settings, AsyncEngine, Path],
) -> None:
    settings, db, _ = stored
    unset = settings.model_copy(update={"definitions": None})
    with pytest.raises(ConfigurationError, match="store one with `slawatch apply`"):
        await load_definitions_versions(unset, db)
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    assert [v.number for v in await load_definitions_versions(unset, db)] == [1]


async def test_a_file_left_behind_after_an_apply_is_not_stored_again(
    stored: tuple[Settings, AsyncEngine, Path],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Version 2 was applied from another file; the service's own file still holds
    version 1: a restart keeps version 2 in force instead of storing 1 again as 3."""
    settings, db, document = stored
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    await accept_and_load(db, DESK.replace("8h", "9h", 1), wall_clock())
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1, 2]
    captured = capsys.readouterr()
    said = captured.out + captured.err + caplog.text
    assert "the definitions document is an older version's" in said
    document.write_text(DESK.replace("8h", "10h", 1))  # a new edit is a new version
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1, 2, 3]


async def test_an_invalid_edit_leaves_the_stored_versions_in_force(
    stored: tuple[Settings, AsyncEngine, Path],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, db, document = stored
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    document.write_text(DESK.replace("8h", "8hrs", 1))
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1]
    captured = capsys.readouterr()
    said = captured.out + captured.err + caplog.text  # wherever logging was configured to go
    assert "the definitions document is invalid and was not accepted" in said
    assert "not a duration: '8hrs'" in said


async def test_a_change_comes_into_force_when_it_says_never_before_it_is_given(
    stored: tuple[Settings, AsyncEngine, Path],
) -> None:
    settings, db, document = stored
    assert await load_definitions_versions(settings, db)
    document.write_text(DESK.replace("8h", "9h", 1))
    past = parse_time("2020-01-01T00:00:00Z")
    too_early = settings.model_copy(update={"definitions_effective_from": past})
    assert [v.number for v in await load_definitions_versions(too_early, db)] == [1]
    april = parse_time("2099-04-01T00:00:00Z")
    later = settings.model_copy(update={"definitions_effective_from": april})
    versions = await load_definitions_versions(later, db)
    assert [(v.number, v.effective_from) for v in versions] == [(1, None), (2, april)]
    # a fix edited in meanwhile may not come into force before the pending version
    document.write_text(DESK.replace("8h", "10h", 1))
    assert [v.number for v in await load_definitions_versions(settings, db)] == [1, 2]
    assert [v.number for v in await load_definitions_versions(later, db)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("slas: [{id: 1}]", "is invalid: "),
    ],
)
async def test_unusable_definitions_are_a_configuration_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
    upgrade(url)
    db = create_engine(url)
    document = tmp_path / "definitions.yaml"
    if content is not None:
        document.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        await load_definitions_versions(Settings(database_url=url, definitions=document), db)
    with pytest.raises(ConfigurationError, match="set SLAWATCH_DEFINITIONS"):
        await load_definitions_versions(Settings(database_url=url), db)
    await db.dispose()


def test_the_owner_is_the_instance_id_or_the_host_and_process() -> None:
    assert owner_name(Settings(instance_id="evaluator-1")) == "evaluator-1"
    assert owner_name(Settings()) == f"{socket.gethostname()}:{os.getpid()}"


def test_kafka_options_are_milliseconds_with_static_membership() -> None:
    settings = Settings(
        kafka_session_timeout=45 * SECOND,
        kafka_heartbeat_interval=5 * SECOND,
        kafka_max_poll_interval=120 * SECOND,
        instance_id="evaluator-1",
    )
    assert kafka_options(settings) == {
        "session_timeout_ms": 45_000,
        "heartbeat_interval_ms": 5_000,
        "max_poll_interval_ms": 120_000,
        "instance_id": "evaluator-1",
    }


def test_the_wall_clock_is_microseconds_since_the_epoch() -> None:
    before = time.time_ns() // 1000
    now = wall_clock()
    assert before <= now <= time.time_ns() // 1000
