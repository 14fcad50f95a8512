"""``slawatch serve evaluator``: wires settings, store, Kafka and the HTTP API, and runs them.

The only wall clock of the evaluator is :func:`slawatch.serving.wall_clock`, passed
down to the runtime and the API. The service refuses to start on a database whose schema is
not at the newest migration (run ``slawatch migrate`` first).
"""

from __future__ import annotations

import asyncio
import signal

import structlog
import uvicorn

from slawatch.bus.kafka import KafkaPublisher
from slawatch.bus.source import KafkaSource
from slawatch.observability import new_registry
from slawatch.serving import (
    check_schema,
    kafka_options,
    load_definitions_versions,
    owner_name,
    wall_clock,
)
from slawatch.settings import Settings, Topics
from slawatch_evaluator import store
from slawatch_evaluator.api import create_app
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.runtime import Evaluator

__all__ = ["serve"]

log = structlog.get_logger("slawatch.evaluator")


async def serve(settings: Settings) -> None:
    """Run the evaluator until SIGTERM or SIGINT."""
    db = store.create_engine(settings.database_url)
    await check_schema(db)
    versions = await load_definitions_versions(settings, db)
    registry = new_registry("evaluator")
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
