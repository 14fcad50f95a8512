"""``slawatch serve notifier``: wires settings, store, Kafka, channels and the HTTP API.

Channels are built from the newest definitions version; an unset ``${VAR}`` in one is
a configuration error and the notifier refuses to start (``definitions.md``).
"""

from __future__ import annotations

import asyncio
import os
import signal

import structlog
import uvicorn

from slawatch.bus.kafka import KafkaPublisher
from slawatch.bus.source import KafkaSource
from slawatch.clock.catalog import Catalog
from slawatch.observability import new_registry
from slawatch.serving import (
    check_schema,
    kafka_options,
    load_definitions_versions,
    owner_name,
    wall_clock,
)
from slawatch.settings import Settings, Topics
from slawatch.store import common
from slawatch_notifier.api import create_app
from slawatch_notifier.channels import Channel, build_channels
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.process import assemble

__all__ = ["serve"]

log = structlog.get_logger("slawatch.notifier")


async def serve(settings: Settings) -> None:
    """Run the notifier until SIGTERM or SIGINT."""
    db = common.create_engine(settings.database_url)
    await check_schema(db)
    versions = await load_definitions_versions(settings, db)
    catalog = Catalog(versions)

    def rebuild() -> dict[str, Channel]:
        latest = catalog.latest.definitions
        return build_channels(latest.channels, os.environ, settings=settings, directory=latest)

    channels = rebuild()
    registry = new_registry("notifier")
    metrics = NotifierMetrics(registry)
    metrics.declare(versions)
    owner = owner_name(settings)
    publisher = KafkaPublisher.from_settings(settings, client_id=f"slawatch-notifier-{owner}")
    await publisher.start()
    source = KafkaSource(
        settings.kafka_bootstrap,
        [settings.topic(Topics.SLA_EVENTS), settings.topic(Topics.ACKS)],
        settings.group("notifier"),
        client_id=f"slawatch-notifier-{owner}",
        co_partitioned=True,
        **kafka_options(settings),
    )
    parts = assemble(settings=settings, catalog=catalog, db=db, source=source,
                     publisher=publisher, channels=channels, metrics=metrics, clock=wall_clock,
                     owner=owner, senders=settings.notify_senders, rebuild=rebuild)  # fmt: skip
    app = create_app(parts.notifier, db, publisher, settings, registry, wall_clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, lifespan="off")
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve(), name="http")
    log.info("notifier started", owner=owner, port=settings.port, channels=sorted(channels))
    try:
        await parts.run(stop)
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        await publisher.stop()
        await db.dispose()
