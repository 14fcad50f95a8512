"""``slawatch serve evaluator``: wires settings, store, Kafka and the HTTP API, and runs them.

The only wall clock of the evaluator is :func:`wall_clock`, passed down to the
runtime and the API. The service refuses to start on a database whose schema is
not at the newest migration (run ``slawatch migrate`` first).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from datetime import UTC, datetime
from typing import Any

import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus.kafka import KafkaPublisher
from slawatch.definitions import DefinitionsError
from slawatch.definitions.model import DefinitionsVersion
from slawatch.errors import ConfigurationError
from slawatch.settings import Settings, Topics
from slawatch.store import current_revision, head_revision
from slawatch.store.versions import accept_and_load
from slawatch.timeutil import from_datetime
from slawatch_evaluator import store
from slawatch_evaluator.api import create_app
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.runtime import Evaluator
from slawatch_evaluator.source import KafkaSource

__all__ = ["load_definitions_versions", "serve", "wall_clock"]

log = structlog.get_logger("slawatch.evaluator")


def wall_clock() -> int:
    """Processing time, live: the wall clock as an instant."""
    return from_datetime(datetime.now(UTC))


async def load_definitions_versions(
    settings: Settings, db: AsyncEngine
) -> list[DefinitionsVersion]:
    """Every definitions version: the stored ones, plus ``SLAWATCH_DEFINITIONS`` if it changed."""
    if settings.definitions is None:
        raise ConfigurationError("set SLAWATCH_DEFINITIONS to the path of the definitions document")
    try:
        document = settings.definitions.read_text(encoding="utf-8")
        return await accept_and_load(db, document, wall_clock())
    except OSError as exc:
        raise ConfigurationError(f"cannot read {settings.definitions}: {exc}") from None
    except DefinitionsError as exc:
        problems = "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
        raise ConfigurationError(f"{settings.definitions} is invalid: {problems}") from None


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
    if current != head_revision():
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, not {head_revision()}:"
            " run `slawatch migrate` first"
        )


async def serve(settings: Settings) -> None:
    """Run the evaluator until SIGTERM or SIGINT."""
    db = store.create_engine(settings.database_url)
    await check_schema(db)
    versions = await load_definitions_versions(settings, db)
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.declare(versions)
    owner = owner_name(settings)
    source = KafkaSource(
        settings.kafka_bootstrap,
        [settings.topic(Topics.CANONICAL)],
        settings.group("evaluator"),
        client_id=f"slawatch-evaluator-{owner}",
        **kafka_options(settings),
    )
    publisher = KafkaPublisher.from_settings(settings, client_id=f"slawatch-evaluator-{owner}")
    await publisher.start()
    evaluator = Evaluator(
        settings=settings,
        versions=versions,
        db=db,
        source=source,
        publisher=publisher,
        metrics=metrics,
        clock=wall_clock,
        owner=owner,
    )
    app = create_app(evaluator, registry, wall_clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, lifespan="off")
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    web = asyncio.create_task(server.serve(), name="http")
    log.info("evaluator started", owner=owner, port=settings.port)
    try:
        await evaluator.run(stop)
    finally:
        server.should_exit = True
        await web
        await publisher.stop()
        await db.dispose()
