"""Availability objectives as gauges: availability so far and error budget remaining."""

from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.settings import Settings, Topics
from slawatch.timeutil import parse_time
from slawatch_evaluator import store
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.partition import PartitionWorker
from slawatch_evaluator.runtime import Evaluator
from tests.evaluator.test_runtime_memory import publish, settings  # noqa: F401
from tests.support.pipeline import canonical
from tests.support.replaying import versions

UPTIME = """
availability:
  - id: api-uptime
    service: api
    objective: 99.9
    window: month
    timezone: UTC
"""
NOW = parse_time("2026-04-10T00:00:00Z")


async def test_gauges_follow_the_current_window(settings: Settings) -> None:  # noqa: F811
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    statuses = [("u1", "2026-04-01T00:00:00Z", "up"), ("u2", "2026-04-07T08:00:00Z", "down"),
                ("u3", "2026-04-07T10:00:00Z", "up")]  # fmt: skip
    raw = [orjson.dumps({"id": i, "type": "uptime.status", "time": t, "service": "api",
                         "status": s}) for i, t, s in statuses]  # fmt: skip
    await publish(bus, topic, canonical(raw, NOW))
    registry = CollectorRegistry()
    ev = Evaluator(settings=settings, versions=versions((UPTIME, None)),
                   db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [topic]), publisher=bus,
                   metrics=EvaluatorMetrics(registry), clock=lambda: NOW, owner="t")  # fmt: skip
    await ev.on_assign([(topic, 0)])
    worker: PartitionWorker = ev.workers[(topic, 0)]
    await ev._step(worker, bus.read(topic, 0, 0, 10), NOW)
    ev._gauges(NOW)
    labels = {"sla": "api-uptime", "kind": "customer"}
    availability = registry.get_sample_value("slawatch_availability_ratio", labels)
    remaining = registry.get_sample_value("slawatch_error_budget_remaining_ratio", labels)
    assert availability == pytest.approx(1 - 7200 / (9 * 86400))
    assert remaining == pytest.approx(1 - 7200 / 2592)
    await ev.db.dispose()
