"""The evaluator's HTTP API: clocks with every upcoming instant; readiness."""

from __future__ import annotations

import time

import httpx
import orjson
from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.settings import Settings, Topics
from slawatch.timeutil import MINUTE, parse_time
from slawatch_evaluator.api import create_app
from tests.evaluator.test_runtime_memory import evaluator, publish, settings  # noqa: F401
from tests.support.pipeline import canonical

NOW = parse_time("2026-03-02T09:30:00Z")


async def test_clocks_of_a_subject_with_all_upcoming_instants(settings: Settings) -> None:  # noqa: F811
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    created = {"id": "e1", "type": "ticket.created", "time": "2026-03-02T09:00:00Z",
               "ticket": {"id": "T-1", "status": "open", "priority": "P1",
                          "customer_tier": "gold", "assignee_group": "l1"}}  # fmt: skip
    await publish(bus, topic, canonical([orjson.dumps(created)], NOW))
    ev = evaluator(settings, bus)
    ev.clock = lambda: NOW
    await ev.on_assign([(topic, 0)])
    worker = ev.workers[(topic, 0)]
    await ev._step(worker, bus.read(topic, 0, 0, 10), NOW)
    app = create_app(ev, CollectorRegistry(), lambda: NOW + 5 * MINUTE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        listed = (await c.get("/v1/clocks", params={"subject": "ticket:T-1"})).json()["clocks"]
        resolution = next(x for x in listed if x["target"] == "resolution")
        assert resolution["state"] == "running"
        assert resolution["elapsed_seconds"] == 2100
        assert [(u["type"], u.get("threshold"), u["at"]) for u in resolution["upcoming"]] == [
            ("sla.warning", 0.5, "2026-03-02T14:00:00Z"),
            ("sla.warning", 0.9, "2026-03-03T08:12:00Z"),
            ("sla.breached", None, "2026-03-03T09:00:00Z"),
        ]
        one = await c.get(f"/v1/clocks/{resolution['id']}")
        assert one.status_code == 200 and one.json()["id"] == "ticket:T-1/gold/resolution/1"
        assert (await c.get("/v1/clocks", params={"subject": "ticket:nope"})).status_code == 404
        assert (await c.get("/v1/clocks/not-an-id")).status_code == 400
        ready = await c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["started"] is False
    ev.health.started = True
    assert ev.ready()[0] is False
    ev.source.joined = True  # type: ignore[misc]
    assert ev.ready()[0] is True
    ev.source.last_poll = time.monotonic() - 3600  # type: ignore[misc]
    ok, detail = ev.ready()
    assert ok is False and detail["consumer_stalled"] is True
    await ev.db.dispose()
