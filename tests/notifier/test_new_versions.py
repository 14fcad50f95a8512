"""A notifier started before a new definitions version was stored takes it when an SLA
event names it, instead of failing; a version never stored has its events skipped and
counted, and the events after it are planned."""

from __future__ import annotations

from pathlib import Path

import orjson
from prometheus_client import CollectorRegistry

from slawatch.bus import Message, Record
from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.clock.catalog import Catalog
from slawatch.settings import Settings, Topics
from slawatch.store.common import create_engine
from slawatch.store.migrate import upgrade
from slawatch.store.schema import notification_log
from slawatch.store.versions import accept_and_load
from slawatch.timeutil import parse_time
from slawatch_notifier.channels import build_channels
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.process import assemble
from tests.notifier.test_catch_up import DEFINITIONS, sla_records

NOW = parse_time("2026-03-02T10:00:30Z")
NEWER = DEFINITIONS.replace('notify: ["person:lead"]', 'notify: ["person:manager"]')


def with_version(record: Record, number: int, topic: str) -> Message:
    """The SLA event as if emitted under definitions version ``number``."""
    body = orjson.loads(record.value)
    body["definitions_version"] = number
    body["id"] = f"{body['id']}-v{number}"
    return Message(topic, record.key or b"", orjson.dumps(body), record.headers)


async def test_an_event_of_a_newer_stored_version_is_planned_under_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    upgrade(url)
    db = create_engine(url)
    first = await accept_and_load(db, DEFINITIONS, NOW)
    catalog = Catalog(first)
    await accept_and_load(db, NEWER, NOW)  # an evaluator restarted with a new document
    settings = Settings(database_url=url, topic_prefix="t.")
    bus = MemoryBus(partitions=1)
    topics = [settings.topic(Topics.SLA_EVENTS), settings.topic(Topics.ACKS)]
    for topic in topics:
        bus.create_topic(topic)
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    channels = build_channels(catalog.latest.definitions.channels, {}, settings=settings)
    parts = assemble(settings=settings, catalog=catalog, db=db,
                     source=MemorySource(bus, topics), publisher=bus, channels=channels,
                     metrics=metrics, clock=lambda: NOW, owner="t", senders=1)  # fmt: skip
    breach = sla_records()["sla.breached"]
    await bus.publish([with_version(breach, n, topics[0]) for n in (9, 2)])
    notifier = parts.notifier
    await notifier.on_assign([(t, 0) for t in topics])
    worker = notifier.partitions[0]
    for _ in range(3):
        records = bus.read(topics[0], 0, worker.next_sla, 10)
        await notifier._step(worker, records, [], NOW)
    assert catalog.has(2) and not catalog.has(9)
    assert worker.unknown_versions == {9}
    async with db.connect() as conn:
        logged = sorted(
            (r.recipient, r.subject) for r in await conn.execute(notification_log.select())
        )
    assert logged == [("manager@example.com", "ticket:T-1")]  # version 2's chain
    labels = {"reason": "unknown_definitions_version"}
    assert registry.get_sample_value("slawatch_notifier_events_skipped_total", labels) == 1
    assert worker.next_sla == 2
    await db.dispose()
