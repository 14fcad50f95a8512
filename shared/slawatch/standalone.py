"""``slawatch standalone``: ingest, evaluator and notifier in one process.

For a small team or a first try: the in-process bus instead of Kafka, an embedded
SQLite store (migrated on start), one HTTP port serving ``POST /v1/events``,
``/v1/clocks``, ``/v1/escalations`` (and acknowledgements), ``/healthz``, ``/readyz``
and ``/metrics``. The three services are the real ones: the notifier keeps its
escalations in the store (they go on after a restart), takes acknowledgements, and
sends through every channel the definitions name. SLA events and notification records
(sent, failed, suppressed) are printed as they are published; a ``console`` channel's
own line is left out, as the record says it. With ``kafka`` given, raw events are also
consumed from the Kafka topics. With ``demo``, a feed posts a help desk's tickets over
HTTP, with the wall clock's times, so clocks start, warn and breach within a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import httpx
import orjson
import structlog

from slawatch.bus.memory import MemoryBus
from slawatch.clock.catalog import Catalog
from slawatch.replay.table import clock_name, describe
from slawatch.serving import accept_at_start
from slawatch.settings import Settings, Topics
from slawatch.store.common import restart_log
from slawatch.store.migrate import ensure_sqlite_directory, upgrade
from slawatch.timeutil import format_time
from slawatch_notifier.api import escalations_router
from slawatch_notifier.channels import Channel, build_channels
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.process import assemble

__all__ = ["run_standalone"]

log = structlog.get_logger("slawatch.standalone")


class _Discard(io.StringIO):
    """A console channel's stream here: the printer shows the notification records."""

    def write(self, text: str) -> int:
        return len(text)


class ConsolePrinter:
    """Prints the SLA events, notification records and acknowledgements published on the
    bus, one line each, as they appear (what ``make run`` shows a newcomer)."""

    def __init__(self, bus: MemoryBus, topics: list[str], out: TextIO) -> None:
        self.bus, self.topics, self.out = bus, topics, out
        self.positions: dict[tuple[str, int], int] = {}

    def _print(self, body: dict[str, Any]) -> None:
        stamp = str(body["time"]).replace("T", " ").replace("Z", "")[:19]
        line = f"{stamp}  {body['subject']:<16} {clock_name(body):<44} {describe(body)}"
        self.out.write(line + "\n")

    def drain(self) -> None:
        """Print every record published since the last call."""
        for topic in self.topics:
            for partition in range(self.bus.partitions(topic)):
                offset = self.positions.get((topic, partition), 0)
                for record in self.bus.read(topic, partition, offset, 500):
                    self.positions[topic, partition] = record.offset + 1
                    self._print(orjson.loads(record.value))
        self.out.flush()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.2)
        self.drain()


async def demo_feed(url: str, stop: asyncio.Event, clock: Callable[[], int]) -> None:
    """Post a help desk's tickets every few seconds: some answered in time, some not."""
    rnd = random.Random(7)
    ids = itertools.count(1)
    async with httpx.AsyncClient(timeout=10) as client:
        for n in itertools.count(1):
            if stop.is_set():
                return
            now = clock()
            ticket = f"DEMO-{n}"
            events: list[dict[str, Any]] = [
                {
                    "id": f"demo-{next(ids)}",
                    "type": "ticket.created",
                    "time": format_time(now),
                    "source": "demo",
                    "ticket": {
                        "id": ticket,
                        "status": "open",
                        "priority": ("P1", "P3", "P2")[(n - 1) % 3],
                        "customer": rnd.choice(["acme", "globex", "initech"]),
                        "customer_tier": "gold",
                        "assignee": "ann",
                        "assignee_group": "l1",
                    },
                }
            ]
            answered = n - 2
            if answered > 0 and answered % 2 == 0:
                events.append(
                    {
                        "id": f"demo-{next(ids)}",
                        "type": "ticket.commented",
                        "time": format_time(now),
                        "source": "demo",
                        "ticket": {"id": f"DEMO-{answered}"},
                        "comment": {"author_role": "agent", "public": True},
                    }
                )
            try:
                await client.post(url, content=orjson.dumps(events),
                                  headers={"content-type": "application/json"})  # fmt: skip
            except httpx.HTTPError as exc:
                log.warning("demo feed could not post", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=8)


async def run_standalone(
    settings: Settings,
    *,
    definitions: Path,
    demo: bool = False,
    kafka: str | None = None,
    exit_after: float | None = None,
    clock: Callable[[], int],
    out: TextIO = sys.stdout,
) -> None:
    """Run the three services in this process until SIGINT/SIGTERM or ``exit_after`` seconds.

    ``definitions`` is validated by the caller (``slawatch standalone`` lists its problems);
    here an invalid document raises :class:`~slawatch.definitions.DefinitionsError`.
    """
    import signal

    import uvicorn

    from slawatch.bus.source import MemorySource
    from slawatch.observability import new_registry
    from slawatch_evaluator import store
    from slawatch_evaluator.api import clocks_router
    from slawatch_evaluator.metrics import EvaluatorMetrics
    from slawatch_evaluator.runtime import Evaluator
    from slawatch_ingest.api import create_app
    from slawatch_ingest.dedup import DuplicateFilter
    from slawatch_ingest.metrics import IngestMetrics

    if "public_url" not in settings.model_fields_set:
        settings = settings.model_copy(
            update={"public_url": f"http://{settings.host}:{settings.port}"}
        )
    if settings.clocks_url is None:
        settings = settings.model_copy(update={"clocks_url": settings.public_url})
    ensure_sqlite_directory(settings.database_url)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration: noise here
    upgrade(settings.database_url)
    db = store.create_engine(settings.database_url)
    versions = await accept_at_start(
        db,
        definitions.read_text(encoding="utf-8"),
        clock(),
        settings.definitions_effective_from,
        definitions,
    )
    async with db.begin() as conn:
        rewound = 0
        for name in (Topics.CANONICAL, Topics.SLA_EVENTS, Topics.ACKS):
            rewound += await restart_log(conn, settings.topic(name))
    if rewound:
        log.info("the in-process bus starts empty: the kept state reads it from offset 0",
                 partitions=rewound)  # fmt: skip
    bus = MemoryBus(partitions=1)
    for name in (Topics.CANONICAL, Topics.SLA_EVENTS, Topics.ACKS, Topics.DEADLETTER,
                 Topics.NOTIFICATIONS):  # fmt: skip
        bus.create_topic(settings.topic(name))
    registry = new_registry("standalone")
    metrics = EvaluatorMetrics(registry)
    metrics.declare(versions)
    ingest_metrics = IngestMetrics(registry)
    notifier_metrics = NotifierMetrics(registry)
    notifier_metrics.declare(versions)
    evaluator = Evaluator(
        settings=settings,
        versions=versions,
        db=db,
        source=MemorySource(bus, [settings.topic(Topics.CANONICAL)]),
        publisher=bus,
        metrics=metrics,
        clock=clock,
        owner="standalone",
    )
    catalog = Catalog(versions)

    def rebuild() -> dict[str, Channel]:
        latest = catalog.latest.definitions
        return build_channels(
            latest.channels, os.environ, settings=settings, stream=_Discard(), directory=latest
        )

    channels = rebuild()
    sla_topic, acks_topic = settings.topic(Topics.SLA_EVENTS), settings.topic(Topics.ACKS)
    notifying = assemble(settings=settings, catalog=catalog, db=db,
                         source=MemorySource(bus, [sla_topic, acks_topic]), publisher=bus,
                         channels=channels, metrics=notifier_metrics, clock=clock,
                         owner="standalone", senders=1, rebuild=rebuild)  # fmt: skip
    notifier = notifying.notifier
    dedup = DuplicateFilter(settings.dedup_horizon, settings.dedup_capacity)

    def ready() -> tuple[bool, dict[str, object]]:
        evaluating, detail = evaluator.ready()
        notifying, more = notifier.ready()
        return evaluating and notifying, {"evaluator": detail, "notifier": more}

    app = create_app(settings, bus, registry, metrics=ingest_metrics, dedup=dedup,
                     ready=ready, clock=clock)  # fmt: skip
    app.include_router(clocks_router(evaluator, clock))
    app.include_router(escalations_router(notifier, db, bus, settings, clock))
    printed = [sla_topic, settings.topic(Topics.NOTIFICATIONS), settings.topic(Topics.ACKS)]
    printer = ConsolePrinter(bus, printed, out)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                       access_log=False, lifespan="off")
    )  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(server.serve(), name="http"),
        asyncio.create_task(evaluator.run(stop), name="evaluator"),
        asyncio.create_task(notifying.run(stop), name="notifier"),
        asyncio.create_task(printer.run(stop), name="printer"),
    ]
    if kafka is not None:
        from slawatch_ingest.consumer import IngestConsumer

        kafka_settings = settings.model_copy(update={"kafka_bootstrap": kafka})
        consumer = IngestConsumer(kafka_settings, bus, ingest_metrics, dedup, clock=clock)
        tasks.append(asyncio.create_task(consumer.run(), name="kafka-ingest"))
    base = f"http://{settings.host}:{settings.port}"
    subject = "ticket:DEMO-1" if demo else "ticket:ID"
    out.write(
        f"slawatch standalone on {base}\n"
        f"  POST {base}/v1/events          send events (JSON array or NDJSON)\n"
        f"  GET  {base}/v1/clocks?subject={subject}   {base}/v1/clocks?due_within=1h\n"
        f"  GET  {base}/v1/escalations      POST {base}/v1/escalations/ID/ack\n"
        f"  GET  {base}/metrics  {base}/readyz\n"
        f"  definitions {definitions}, store {settings.database_url}\n"
        "Below: SLA events at their own time, notifications when they were sent (UTC).\n\n"
    )
    out.flush()
    if demo:
        while not server.started and not tasks[0].done():
            await asyncio.sleep(0.05)
        tasks.append(asyncio.create_task(demo_feed(base + "/v1/events", stop, clock), name="demo"))
    if exit_after is not None:
        loop.call_later(exit_after, stop.set)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("standalone task failed", task=task.get_name(), error=repr(task.exception()))
    stop.set()
    server.should_exit = True
    if kafka is not None:
        consumer.request_stop()
    await asyncio.gather(*tasks, return_exceptions=True)
    printer.drain()
    await db.dispose()
