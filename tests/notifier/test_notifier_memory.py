"""The notifier's loop on SQLite and an in-process bus, stepped by hand.

A notifier started before a new definitions version was stored takes it when an SLA
event names it, instead of failing; a version never stored has its events skipped and
counted, and the events after it are planned. A step still waiting for a retry when its
escalation is acknowledged is withdrawn.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.bus import Message, Record
from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.clock.catalog import Catalog
from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.definitions.model import DefinitionsVersion
from slawatch.settings import Settings, Topics
from slawatch.store.common import create_engine, unpack_entries
from slawatch.store.migrate import upgrade
from slawatch.store.schema import notification_log, outbox
from slawatch.store.versions import accept_and_load
from slawatch.timeutil import SECOND, parse_time
from slawatch_notifier.api import create_app
from slawatch_notifier.channels import Channel, build_channels
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.process import NotifierProcess, assemble
from slawatch_notifier.runtime import Notifier
from tests.notifier.test_catch_up import DEFINITIONS, sla_records
from tests.support.receivers import SmtpServer
from tests.support.replaying import versions

NOW = parse_time("2026-03-02T10:00:30Z")
NEWER = (
    DEFINITIONS.replace('notify: ["person:lead"]', 'notify: ["person:manager"]')
    + "  ops: {type: console}\n"
)


def with_version(record: Record, number: int, topic: str) -> Message:
    """The SLA event as if emitted under definitions version ``number``."""
    body = orjson.loads(record.value)
    body["definitions_version"] = number
    body["id"] = f"{body['id']}-v{number}"
    return Message(topic, record.key or b"", orjson.dumps(body), record.headers)


@dataclass
class Live:
    """A notifier on SQLite and an in-process bus, stepped by hand."""

    db: AsyncEngine
    bus: MemoryBus
    topics: list[str]
    parts: NotifierProcess
    registry: CollectorRegistry
    catalog: Catalog

    async def step(self, now: int = NOW) -> None:
        notifier = self.parts.notifier
        worker = notifier.partitions[0]
        sla = self.bus.read(self.topics[0], 0, worker.next_sla, 10)
        acks = self.bus.read(self.topics[1], 0, worker.next_acks, 10)
        await notifier._step(worker, sla, acks, now)

    async def logged(self) -> list[Any]:
        async with self.db.connect() as conn:
            return list(await conn.execute(notification_log.select()))


async def live(tmp_path: Path, *documents: str, smtp_port: int = 25) -> Live:
    """A notifier that started with the first document; the others stored after it."""
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    upgrade(url)
    db = create_engine(url)
    catalog = Catalog(await accept_and_load(db, documents[0], NOW))
    for later in documents[1:]:
        await accept_and_load(db, later, NOW)  # an evaluator restarted with a new document
    settings = Settings(database_url=url, topic_prefix="t.", notify_attempts=3)
    bus = MemoryBus(partitions=1)
    topics = [settings.topic(Topics.SLA_EVENTS), settings.topic(Topics.ACKS)]
    for topic in topics:
        bus.create_topic(topic)
    registry = CollectorRegistry()
    email = {
        "email": ChannelDefinition("email", "smtp", (("host", "127.0.0.1"), ("port", smtp_port),
                                                     ("starttls", False),
                                                     ("from", "slawatch@example.com")))
    }  # fmt: skip
    channels = build_channels(email, {}, settings=settings)
    metrics = NotifierMetrics(registry)
    metrics.declare([DefinitionsVersion(v.number, v.effective_from, v.definitions)
                     for v in catalog.versions])  # fmt: skip

    def rebuild() -> dict[str, Channel]:
        return build_channels(catalog.latest.definitions.channels, {}, settings=settings)

    parts = assemble(settings=settings, catalog=catalog, db=db,
                     source=MemorySource(bus, topics), publisher=bus, channels=channels,
                     metrics=metrics, clock=lambda: NOW, owner="t", senders=1,
                     rebuild=rebuild)  # fmt: skip
    await parts.notifier.on_assign([(t, 0) for t in topics])
    return Live(db, bus, topics, parts, registry, catalog)


async def test_an_event_of_a_newer_stored_version_is_planned_under_it(tmp_path: Path) -> None:
    line = await live(tmp_path, DEFINITIONS, NEWER)
    breach = sla_records()["sla.breached"]
    await line.bus.publish([with_version(breach, n, line.topics[0]) for n in (9, 2)])
    for _ in range(3):
        await line.step()
    worker = line.parts.notifier.partitions[0]
    assert line.catalog.has(2) and not line.catalog.has(9)
    assert worker.unknown_versions == {9}
    logged = sorted((r.recipient, r.subject) for r in await line.logged())
    assert logged == [("manager@example.com", "ticket:T-1")]  # version 2's chain
    labels = {"reason": "unknown_definitions_version"}
    assert line.registry.get_sample_value("slawatch_notifier_events_skipped_total", labels) == 1
    assert worker.next_sla == 2
    assert set(line.parts.senders[0].channels) == {"email", "ops"}  # version 2's channels
    await line.db.dispose()


async def test_a_version_stored_while_running_is_taken_up_before_an_event_names_it(
    tmp_path: Path,
) -> None:
    """``slawatch apply`` while the notifier runs: within a poll it holds the new version
    and sends through its channels (rule 18), with no SLA event of that version yet."""
    line = await live(tmp_path, DEFINITIONS)
    notifier = line.parts.notifier
    notifier.settings = notifier.settings.model_copy(update={"definitions_poll": SECOND // 20})
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    await accept_and_load(line.db, NEWER, NOW)
    for _ in range(400):
        await asyncio.sleep(0.05)
        if line.catalog.has(2):
            break
    stop.set()
    await task
    assert line.catalog.has(2)
    assert set(line.parts.senders[0].channels) == {"email", "ops"}  # version 2's channels
    labels = {"channel": "ops", "status": "failed"}
    assert line.registry.get_sample_value("slawatch_notifications_total", labels) == 0
    await line.db.dispose()


async def test_a_step_still_being_retried_when_acknowledged_is_withdrawn(tmp_path: Path) -> None:
    """Rule 28: a stopped escalation fires nothing more; a page the channel has not taken
    yet (here the SMTP server refused it once) is not sent after the acknowledgement."""
    with SmtpServer() as smtp:
        smtp.box.refuse = True
        line = await live(tmp_path, DEFINITIONS, smtp_port=smtp.port)
        breach = sla_records()["sla.breached"]
        await line.bus.publish([with_version(breach, 1, line.topics[0])])
        await line.step()
        sender = line.parts.senders[0]
        assert sender.zone_of({"definitions_version": 1, "calendar": "24x7"}) == "UTC"
        assert await sender.send_one()
        (row,) = await line.logged()
        assert (row.status, row.attempts, row.error) == ("pending", 1, "smtp_temporary")
        ack = {"id": "a-1", "type": "escalation.acknowledged", "time": "2026-03-02T10:00:40Z",
               "subject": "ticket:T-1", "by": "lead"}  # fmt: skip
        await line.bus.publish([Message(line.topics[1], b"ticket:T-1", orjson.dumps(ack))])
        await line.step(NOW + 20 * SECOND)
        (row,) = await line.logged()
        assert (row.status, row.error) == ("suppressed", "acknowledged")
        smtp.box.refuse = False
        sender.clock = lambda: NOW + 3600 * SECOND  # type: ignore[method-assign]
        assert not await sender.send_one()
        assert smtp.box.message_ids() == []
        async with line.db.connect() as conn:
            entries = [
                e for r in await conn.execute(outbox.select()) for e in unpack_entries(r.body)
            ]
        (record,) = [orjson.loads(e.payload) for e in entries]
        assert (record["status"], record["reason"]) == ("suppressed", "acknowledged")
        labels = {"channel": "email", "status": "suppressed"}
        assert line.registry.get_sample_value("slawatch_notifications_total", labels) == 1
        value = line.registry.get_sample_value
        email = {"channel": "email"}
        why = {r: value("slawatch_notifications_suppressed_total", {**email, "reason": r})
               for r in ("acknowledged", "rate_limited", "retracted", "stopped")}  # fmt: skip
        assert why == {"acknowledged": 1, "rate_limited": 0, "retracted": 0, "stopped": 0}
        chain = {"escalation": "tiers"}
        assert value("slawatch_escalation_notifications_total", {**chain, "notice": "step"}) == 1
        assert value("slawatch_escalation_time_to_ack_seconds_count", chain) == 1
        assert value("slawatch_escalation_time_to_ack_seconds_sum", chain) == 20  # read 20 s later
        await line.parts.notifier._gauges(NOW + 20 * SECOND)
        assert value("slawatch_escalations_running", chain) == 0
        await line.db.dispose()


async def test_any_notifier_lists_the_escalations_of_every_partition(tmp_path: Path) -> None:
    line = await live(tmp_path, DEFINITIONS)
    breach = sla_records()["sla.breached"]
    await line.bus.publish([with_version(breach, 1, line.topics[0])])
    await line.step()
    owner = line.parts.notifier
    settings = owner.settings
    other = Notifier(settings=settings, catalog=line.catalog, db=line.db,
                     source=MemorySource(line.bus, line.topics), relay=line.parts.relay,
                     metrics=NotifierMetrics(CollectorRegistry()), clock=lambda: NOW,
                     owner="u", sent=asyncio.Event())  # fmt: skip
    for notifier in (owner, other):
        app = create_app(notifier, line.db, line.bus, settings, CollectorRegistry(), lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            (found,) = (await client.get("/v1/escalations")).json()["escalations"]
        assert found["id"] == "ticket:T-1/gold/response/1"
        assert [n["recipient"] for n in found["notifications"]] == ["lead@example.com"]
    await line.db.dispose()


def test_suppressed_notifications_are_counted_by_reason_from_zero() -> None:
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    metrics.declare(versions((DEFINITIONS, None)))
    value = registry.get_sample_value

    def why(channel: str) -> dict[str, float | None]:
        return {
            r: value("slawatch_notifications_suppressed_total", {"channel": channel, "reason": r})
            for r in ("acknowledged", "rate_limited", "retracted", "stopped")
        }

    assert why("email") == {"acknowledged": 0, "rate_limited": 0, "retracted": 0, "stopped": 0}
    metrics.suppressed_as([("email", "sla.clock.stopped"), ("email", "retracted"),
                           ("email", "sla.clock.cancelled"), (None, "acknowledged")])  # fmt: skip
    assert why("email") == {"acknowledged": 0, "rate_limited": 0, "retracted": 1, "stopped": 2}
    assert why("none")["acknowledged"] == 1
    total = value("slawatch_notifications_total", {"channel": "email", "status": "suppressed"})
    assert total == 3
