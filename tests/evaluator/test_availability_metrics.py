"""Availability objectives as gauges: availability so far and error budget remaining."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.settings import Settings, Topics
from slawatch.timeutil import parse_time
from slawatch_evaluator import store
from slawatch_evaluator.availability_metrics import AvailabilityReading
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


async def up_then_down(settings: Settings) -> tuple[MemoryBus, str]:  # noqa: F811
    """A bus whose canonical topic has ``api`` up from April 1 and down from NOW."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    raw = [orjson.dumps({"id": i, "type": "uptime.status", "time": t, "service": "api",
                         "status": s})
           for i, t, s in [("u1", "2026-04-01T00:00:00Z", "up"),
                           ("u2", "2026-04-10T00:00:00Z", "down")]]  # fmt: skip
    await publish(bus, topic, canonical(raw, NOW))
    return bus, topic


def evaluator(
    settings: Settings,  # noqa: F811
    bus: MemoryBus,
    owner: str,
    now: int,
) -> tuple[Evaluator, CollectorRegistry]:
    """An evaluator of ``UPTIME`` on ``bus``'s canonical topic, its clock stopped at
    ``now``, and the registry of its metrics."""
    defs = versions((UPTIME, None))
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.declare(defs)
    ev = Evaluator(settings=settings, versions=defs,
                   db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [settings.topic(Topics.CANONICAL)]), publisher=bus,
                   metrics=metrics, clock=lambda: now, owner=owner)  # fmt: skip
    return ev, registry


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
    await ev._committed(list(ev._commits))
    await ev.db.dispose()


async def test_downtime_counters_add_what_each_refresh_saw_and_revoked_series_go(
    settings: Settings,  # noqa: F811
) -> None:
    bus, topic = await up_then_down(settings)
    registry = CollectorRegistry()
    defs = versions((UPTIME, None))
    metrics = EvaluatorMetrics(registry)
    metrics.declare(defs)
    ev = Evaluator(settings=settings, versions=defs,
                   db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [topic]), publisher=bus,
                   metrics=metrics, clock=lambda: NOW, owner="t")  # fmt: skip
    labels = {"sla": "api-uptime", "kind": "customer"}

    def sample(name: str, **extra: str) -> float | None:
        return registry.get_sample_value(name, {**labels, **extra})

    assert sample("slawatch_sla_objective_ratio") == pytest.approx(0.999)
    assert sample("slawatch_sla_downtime_seconds_total") == 0
    assert sample("slawatch_sla_outcomes_total", target="availability", outcome="no_data") == 0
    await ev.on_assign([(topic, 0)])
    worker: PartitionWorker = ev.workers[(topic, 0)]
    await ev._step(worker, bus.read(topic, 0, 0, 10), NOW)
    ev._gauges(NOW)
    assert sample("slawatch_sla_downtime_seconds_total") == 0  # a baseline, not 9 days
    assert sample("slawatch_sla_measured_seconds_total") == 0
    ev._gauges(NOW + 1_800_000_000)
    assert sample("slawatch_sla_downtime_seconds_total") == pytest.approx(1800)
    assert sample("slawatch_sla_measured_seconds_total") == pytest.approx(1800)
    ev._gauges(NOW + 3_600_000_000)
    assert sample("slawatch_sla_downtime_seconds_total") == pytest.approx(3600)
    assert sample("slawatch_availability_ratio") is not None

    await ev.on_revoke([(topic, 0)])
    ev._gauges(NOW + 5_400_000_000)
    assert sample("slawatch_availability_ratio") is None
    assert sample("slawatch_error_budget_remaining_ratio") is None
    assert sample("slawatch_sla_downtime_seconds_total") == pytest.approx(3600)
    await ev.db.dispose()


def test_lag_series_of_partitions_no_longer_owned_are_removed() -> None:
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.show_lag({0: 5, 1: 7})
    metrics.show_lag({1: 2})
    lag = "slawatch_evaluator_consumer_lag"
    assert registry.get_sample_value(lag, {"partition": "0"}) is None
    assert registry.get_sample_value(lag, {"partition": "1"}) == 2


async def test_each_objective_shows_its_service_status_and_when_it_last_heard(
    settings: Settings,  # noqa: F811
) -> None:
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    statuses = [("u1", "2026-04-09T23:50:00Z", "up", "a"),
                ("u2", "2026-04-09T23:58:00Z", "down", "b")]  # fmt: skip
    raw = [orjson.dumps({"id": i, "type": "uptime.status", "time": t, "service": "api",
                         "status": s, "check": c}) for i, t, s, c in statuses]  # fmt: skip
    await publish(bus, topic, canonical(raw, NOW))
    registry = CollectorRegistry()
    ev = Evaluator(settings=settings, versions=versions((UPTIME + "    stale_after: 5m\n", None)),
                   db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [topic]), publisher=bus,
                   metrics=EvaluatorMetrics(registry), clock=lambda: NOW, owner="t")  # fmt: skip
    labels = {"sla": "api-uptime", "kind": "customer"}

    def shown() -> dict[str, float | None]:
        return {
            s: registry.get_sample_value("slawatch_availability_status", {**labels, "status": s})
            for s in ("up", "degraded", "down", "unknown")
        }

    await ev.on_assign([(topic, 0)])
    await ev._step(ev.workers[(topic, 0)], bus.read(topic, 0, 0, 10), NOW)
    ev._gauges(NOW)
    assert shown() == {"up": 0, "degraded": 0, "down": 1, "unknown": 0}
    last = registry.get_sample_value("slawatch_availability_last_status_timestamp_seconds", labels)
    assert last == parse_time("2026-04-09T23:58:00Z") / 1e6
    ev._gauges(NOW + 3 * 60_000_000)  # both checks stale: nothing is measured
    assert shown() == {"up": 0, "degraded": 0, "down": 0, "unknown": 1}
    await ev.on_revoke([(topic, 0)])
    ev._gauges(NOW + 4 * 60_000_000)
    assert set(shown().values()) == {None}
    assert registry.get_sample_value(
        "slawatch_availability_last_status_timestamp_seconds", labels
    ) is None  # fmt: skip
    await ev.db.dispose()


TICKETS_V2 = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: ack
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
  - id: l2-ola
    kind: ola
    underpins: gold
    targets:
      - id: ack
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
availability:
  - id: api-uptime
    service: api
    objective: 99.5
    window: {rolling: 30d}
    timezone: Europe/Amsterdam
"""


def test_the_info_series_follow_the_version_in_force() -> None:
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.declare(versions((UPTIME, "2026-04-01T00:00:00Z"),
                             (TICKETS_V2, "2026-04-20T00:00:00Z")))  # fmt: skip

    def info() -> list[dict[str, str]]:
        [family] = [m for m in registry.collect() if m.name == "slawatch_sla_info"]
        assert {s.value for s in family.samples} <= {1.0}
        return sorted((s.labels for s in family.samples), key=lambda labels: labels["sla"])

    metrics.show_definitions(parse_time("2026-03-31T00:00:00Z"))
    assert info() == []
    metrics.show_definitions(NOW)
    assert info() == [{"sla": "api-uptime", "kind": "customer", "service": "api",
                       "window": "month", "timezone": "UTC", "calendar": "24x7",
                       "underpins": "", "version": "1"}]  # fmt: skip
    metrics.show_definitions(parse_time("2026-04-20T00:00:00Z"))
    assert info() == [
        {"sla": "api-uptime", "kind": "customer", "service": "api", "window": "30d",
         "timezone": "Europe/Amsterdam", "calendar": "24x7", "underpins": "", "version": "2"},
        {"sla": "gold", "kind": "customer", "service": "", "window": "", "timezone": "",
         "calendar": "", "underpins": "", "version": "2"},
        {"sla": "l2-ola", "kind": "ola", "service": "", "window": "", "timezone": "",
         "calendar": "", "underpins": "gold", "version": "2"},
    ]  # fmt: skip


async def count_half_an_hour_then_stop(
    owner: tuple[Evaluator, CollectorRegistry], bus: MemoryBus, then: int | None = None
) -> CollectorRegistry:
    """Let an evaluator take the canonical partition, count from NOW to 00:30, save what
    it counted, process the timers due at ``then`` if given, commit, and stop as if
    killed (never revoked nor refreshed again); its registry."""
    ev, registry = owner
    part = (ev.settings.topic(Topics.CANONICAL), 0)
    await ev.on_assign([part])
    await ev._step(ev.workers[part], bus.read(*part, 0, 10), NOW)
    for minutes in (0, 30):
        ev._gauges(NOW + minutes * 60_000_000)
        await ev._save_counted()
    if then is not None:
        await ev._step(ev.workers[part], [], then)
    await ev._committed(list(ev._commits))
    await ev.db.dispose()
    return registry


async def test_a_new_owner_counts_from_where_the_last_one_stopped(
    settings: Settings,  # noqa: F811
) -> None:
    """A restart or takeover: the seconds between the old owner's last refresh and the
    new one's first are counted once, by the new owner."""
    bus, topic = await up_then_down(settings)
    labels = {"sla": "api-uptime", "kind": "customer"}

    counted_by_first = await count_half_an_hour_then_stop(
        evaluator(settings, bus, "first", NOW), bus
    )
    downtime = "slawatch_sla_downtime_seconds_total"
    assert counted_by_first.get_sample_value(downtime, labels) == pytest.approx(1800)

    second, counted_by_second = evaluator(settings, bus, "second", NOW)
    await second.on_assign([(topic, 0)])
    second._gauges(NOW + 60 * 60_000_000)
    assert counted_by_second.get_sample_value(downtime, labels) == pytest.approx(1800)
    measured = "slawatch_sla_measured_seconds_total"
    assert counted_by_second.get_sample_value(measured, labels) == pytest.approx(1800)
    await second._save_counted()
    async with second.db.connect() as conn:
        saved = await store.load_counted(conn, topic)
    april = parse_time("2026-04-01T00:00:00Z")
    assert saved == {("api-uptime", "customer"): (april, 3600, 777_600 + 3600)}
    await second.db.dispose()


@pytest.mark.parametrize("closed_by", ["the new owner", "the old owner"])
async def test_the_rest_of_a_window_that_closed_before_the_new_owner_counted_is_counted(
    settings: Settings,  # noqa: F811
    closed_by: str,
) -> None:
    """The old owner counted April up to 00:30 on the 10th, then stopped; April closed
    before anyone counted again (with no owner at all, or with the old owner's last
    commit, made after the close, in the store). The new owner counts the rest of April
    and then May."""
    bus, topic = await up_then_down(settings)
    labels = {"sla": "api-uptime", "kind": "customer"}
    may = parse_time("2026-05-01T00:00:00Z")
    later = may + 3600 * 1_000_000

    first = evaluator(settings, bus, "first", later)
    await count_half_an_hour_then_stop(first, bus, later if closed_by == "the old owner" else None)

    second, registry = evaluator(settings, bus, "second", later)
    await second.on_assign([(topic, 0)])
    await second._step(second.workers[(topic, 0)], [], later)
    second._gauges(later)
    april_downtime, april_measured = 21 * 86400, 30 * 86400  # down from the 10th
    counted_downtime, counted_measured = 1800, 9 * 86400 + 1800
    downtime = registry.get_sample_value("slawatch_sla_downtime_seconds_total", labels)
    measured = registry.get_sample_value("slawatch_sla_measured_seconds_total", labels)
    assert downtime == pytest.approx(april_downtime - counted_downtime + 3600)
    assert measured == pytest.approx(april_measured - counted_measured + 3600)
    assert second.metrics.objectives.counted == {("api-uptime", "customer"): (may, 3600, 3600)}
    await second._committed(list(second._commits))
    await second.db.dispose()


async def test_windows_that_began_and_closed_while_no_evaluator_ran_are_counted(
    settings: Settings,  # noqa: F811
) -> None:
    """The old owner counted April up to 00:30 on the 10th; no evaluator ran again until
    an hour into June. The new owner counts the rest of April, all of May (the service
    down throughout) and June's first hour."""
    bus, topic = await up_then_down(settings)
    labels = {"sla": "api-uptime", "kind": "customer"}
    june = parse_time("2026-06-01T00:00:00Z")
    later = june + 3600 * 1_000_000
    await count_half_an_hour_then_stop(evaluator(settings, bus, "first", later), bus)

    second, registry = evaluator(settings, bus, "second", later)
    await second.on_assign([(topic, 0)])
    await second._step(second.workers[(topic, 0)], [], later)
    second._gauges(later)
    april_rest = (21 * 86400 - 1800, 30 * 86400 - (9 * 86400 + 1800))
    may = (31 * 86400, 31 * 86400)
    downtime = registry.get_sample_value("slawatch_sla_downtime_seconds_total", labels)
    measured = registry.get_sample_value("slawatch_sla_measured_seconds_total", labels)
    assert downtime == pytest.approx(april_rest[0] + may[0] + 3600)
    assert measured == pytest.approx(april_rest[1] + may[1] + 3600)
    assert second.metrics.objectives.counted == {("api-uptime", "customer"): (june, 3600, 3600)}
    await second._committed(list(second._commits))
    await second.db.dispose()


def test_the_last_window_of_an_objective_taken_out_of_the_definitions_is_counted() -> None:
    """A reading with no open window but a closed one: the closed window's rest counts."""
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    april = parse_time("2026-04-01T00:00:00Z")
    key = ("api-uptime", "customer")
    labels = {"sla": "api-uptime", "kind": "customer"}
    metrics.objectives.show([AvailabilityReading(*key, 0.99, 0.5, (april, 100.0, 1000.0))])
    closed = AvailabilityReading(*key, None, None, closed=((april, 160.0, 1500.0),))
    metrics.objectives.show([closed])
    metrics.objectives.show([closed])
    assert registry.get_sample_value("slawatch_sla_downtime_seconds_total", labels) == 60
    assert registry.get_sample_value("slawatch_sla_measured_seconds_total", labels) == 500
    assert registry.get_sample_value("slawatch_availability_ratio", labels) is None


def test_a_mark_from_a_later_window_adds_nothing_until_the_state_gets_there() -> None:
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    april, may = parse_time("2026-04-01T00:00:00Z"), parse_time("2026-05-01T00:00:00Z")
    key = ("api-uptime", "customer")
    labels = {"sla": "api-uptime", "kind": "customer"}

    def refresh(window: tuple[int, float, float]) -> float | None:
        reading = AvailabilityReading(*key, 0.99, 0.5, window)
        metrics.objectives.show([reading], {key: (may, 60.0, 600.0)})
        return registry.get_sample_value("slawatch_sla_downtime_seconds_total", labels)

    assert refresh((april, 5000.0, 2_500_000.0)) is None  # nothing counted into April again
    assert metrics.objectives.counted == {key: (may, 60.0, 600.0)}
    assert refresh((may, 100.0, 900.0)) == pytest.approx(40)


async def test_the_running_evaluator_records_what_it_counted(
    settings: Settings,  # noqa: F811
) -> None:
    bus, topic = await up_then_down(settings)
    defs = versions((UPTIME, None))
    metrics = EvaluatorMetrics(CollectorRegistry())
    metrics.declare(defs)
    clock = iter(NOW + n * 60_000_000 for n in range(1_000_000))
    ev = Evaluator(settings=settings, versions=defs,
                   db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [topic]), publisher=bus,
                   metrics=metrics, clock=lambda: next(clock), owner="t")  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(ev.run(stop))
    saved: dict[tuple[str, str], tuple[int, float, float]] = {}
    for _ in range(200):  # gauges refresh every second of the loop; each poll is a minute
        await asyncio.sleep(0.05)
        async with ev.db.connect() as conn:
            saved = dict(await store.load_counted(conn, topic))
        if saved and saved[("api-uptime", "customer")][1] > 0:
            break
    stop.set()
    await task
    await ev.db.dispose()
    start, downtime, measured = saved[("api-uptime", "customer")]
    assert start == parse_time("2026-04-01T00:00:00Z")
    assert downtime > 0 and measured > 777_600  # down since NOW, measured since April 1
