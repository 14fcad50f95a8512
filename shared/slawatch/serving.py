"""What every long-running service shares at its edge.

The wall clock (the only reading of the current time: everything below the services
takes ``now`` as an argument), the schema check, the definitions versions, the name a
process owns partitions under, and its Kafka consumer options.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.definitions import DefinitionsError, load_definitions
from slawatch.definitions.diff import changes
from slawatch.definitions.model import DefinitionsVersion
from slawatch.errors import ConfigurationError
from slawatch.observability import get_logger
from slawatch.settings import Settings
from slawatch.store.revision import SCHEMA_REVISION, current_revision
from slawatch.store.versions import accept_and_load, load_stored, newest_number, stored_as
from slawatch.timeutil import from_datetime

__all__ = [
    "accept_at_start",
    "apply_document",
    "check_schema",
    "kafka_options",
    "load_definitions_versions",
    "owner_name",
    "plan_document",
    "wall_clock",
]


_log = get_logger(__name__)


def wall_clock() -> int:
    """Processing time, live: the wall clock as an instant."""
    return from_datetime(datetime.now(UTC))


async def load_definitions_versions(
    settings: Settings, db: AsyncEngine
) -> list[DefinitionsVersion]:
    """Every definitions version: the stored ones, plus ``SLAWATCH_DEFINITIONS`` if it changed.

    An invalid document is rejected with every problem logged, and the versions already
    stored stay in force (``definitions.md``); with none stored, the service cannot start.
    Unset, the stored versions are used as they are (``slawatch apply`` stores them). A
    document that is an older version's, with a newer one stored since (a file left
    behind after ``slawatch apply``), is not stored again: a warning says so.
    """
    if settings.definitions is None:
        stored = await _stored(db)
        if not stored:
            raise ConfigurationError(
                "no definitions version is stored: set SLAWATCH_DEFINITIONS to the path of the"
                " definitions document, or store one with `slawatch apply`"
            )
        return stored
    try:
        document = settings.definitions.read_text(encoding="utf-8")
        return await accept_at_start(
            db, document, wall_clock(), settings.definitions_effective_from, settings.definitions
        )
    except OSError as exc:
        raise ConfigurationError(f"cannot read {settings.definitions}: {exc}") from None
    except DefinitionsError as exc:
        problems = [f"{p.path}: {p.message}" for p in exc.problems]
        stored = await _stored(db)
        if not stored:
            raise ConfigurationError(
                f"{settings.definitions} is invalid: {'; '.join(problems)}"
            ) from None
        _log.error(
            "the definitions document is invalid and was not accepted; the stored versions"
            " stay in force",
            path=str(settings.definitions),
            problems=problems,
            in_force=stored[-1].number,
        )
        return stored


async def accept_at_start(
    db: AsyncEngine, document: str, now: int, effective_from: int | None, path: Path
) -> list[DefinitionsVersion]:
    """:func:`~slawatch.store.versions.accept_and_load` for a service starting with the
    document at ``path``, except that an older version's document, with a newer version
    stored since (a file left behind after ``slawatch apply``), is not stored again: a
    warning says so and the stored versions stay in force."""
    same, newest = await stored_as(db, document)
    if same is not None and same != newest:
        _log.warning(
            "the definitions document is an older version's; the newer stored versions"
            " stay in force (`slawatch apply` it to bring it back)",
            path=str(path),
            version=same,
            newest=newest,
        )
        return await _stored(db)
    return await accept_and_load(db, document, now, effective_from)


async def plan_document(db: AsyncEngine, document: str) -> tuple[int | None, list[str]]:
    """The newest stored version's number (``None``: none is stored) and what
    ``document`` changes against it (:func:`~slawatch.definitions.diff.changes`).

    Raises :class:`ConfigurationError` for an old schema or an invalid stored version.
    """
    await check_schema(db)
    stored = await _stored(db)
    newest = stored[-1] if stored else None
    planned = changes(newest.definitions if newest else None, load_definitions(document))
    return (newest.number if newest else None), planned


async def apply_document(
    db: AsyncEngine, document: str, now: int, effective_from: int | None
) -> tuple[DefinitionsVersion, bool]:
    """Store ``document`` as the next definitions version unless the newest already is
    it (``slawatch apply``); the newest version after, and whether it was stored now.
    Unlike a service's start, an older version's document is stored again (a rollback).

    Raises :class:`ConfigurationError` for an old schema and
    :class:`~slawatch.definitions.DefinitionsError` for an invalid document or instant.
    """
    await check_schema(db)
    before = await newest_number(db)
    versions = await accept_and_load(db, document, now, effective_from)
    return versions[-1], versions[-1].number != before


async def _stored(db: AsyncEngine) -> list[DefinitionsVersion]:
    try:
        return await load_stored(db)
    except DefinitionsError as bad:
        listed = "; ".join(f"{p.path}: {p.message}" for p in bad.problems)
        raise ConfigurationError(f"a stored definitions version is invalid: {listed}") from None


def port_problem(host: str, port: int) -> str | None:
    """Why the HTTP API could not listen on ``host:port``, or ``None`` if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def owner_name(settings: Settings) -> str:
    """This process's name in partition ownership records."""
    return settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"


def kafka_options(settings: Settings) -> dict[str, Any]:
    """Consumer timeouts from the settings, and static membership with ``SLAWATCH_INSTANCE_ID``.

    A restarted member with the same instance id takes its partitions back at once,
    instead of waiting for the session of its dead predecessor to time out.
    """
    return {
        "session_timeout_ms": settings.kafka_session_timeout // 1000,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval // 1000,
        "max_poll_interval_ms": settings.kafka_max_poll_interval // 1000,
        "instance_id": settings.instance_id,
    }


async def check_schema(db: AsyncEngine) -> None:
    """Refuse a database that ``slawatch migrate`` has not brought to the newest schema."""
    current = await current_revision(db)
    if current != SCHEMA_REVISION:
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, not {SCHEMA_REVISION}:"
            " run `slawatch migrate` first"
        )
