"""The evaluator's loop on the in-process bus, on SQLite and on the real PostgreSQL:
outputs, restarts, fencing, commits queued behind each other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from slawatch.bus.base import Message
from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.serving import wall_clock
from slawatch.settings import Settings, Topics
from slawatch.store.migrate import upgrade
from slawatch.timeutil import SECOND
from slawatch_evaluator import store
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.runtime import Evaluator
from tests.support.live import fresh_database
from tests.support.pipeline import canonical, comparable, replayed
from tests.support.replaying import versions
from tests.support.streams import DESK, lines, tickets

VERSIONS = versions((DESK, None))
DRAIN_TIMEOUT = 180.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    """SQLite (one commit at a time) and PostgreSQL (commits queued behind each other)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/state.db"
        upgrade(url)
        yield Settings(database_url=url, lateness=0, topic_prefix="t.")
        return
    async with fresh_database() as (_, url):
        yield Settings(database_url=url, lateness=0, topic_prefix="t.")


def evaluator(settings: Settings, bus: MemoryBus, owner: str = "a") -> Evaluator:
    return Evaluator(
        settings=settings,
        versions=VERSIONS,
        db=store.create_engine(settings.database_url),
        source=MemorySource(bus, [settings.topic(Topics.CANONICAL)]),
        publisher=bus,
        metrics=EvaluatorMetrics(CollectorRegistry()),
        clock=wall_clock,
        owner=owner,
    )


async def run_until_drained(ev: Evaluator, bus: MemoryBus, settings: Settings) -> None:
    """Run ``ev`` until it has committed and published everything on the bus.

    Generous on time (a slow shared host runs the small-batch case on SQLite for tens of
    seconds), and says so when it gives up rather than letting a comparison fail later.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(ev.run(stop))
    topic = settings.topic(Topics.CANONICAL)
    deadline = asyncio.get_running_loop().time() + DRAIN_TIMEOUT
    drained = False
    while not drained and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        consumed = all(
            w.next_offset == bus.end_offset(topic, w.claim.partition) for w in ev.workers.values()
        )
        drained = bool(ev.workers) and consumed and await pending(ev) == 0
    stop.set()
    await task
    await ev.db.dispose()
    assert drained, f"the evaluator did not consume and publish everything in {DRAIN_TIMEOUT} s"


async def pending(ev: Evaluator) -> int:
    async with ev.db.connect() as conn:
        return len(await store.pending(conn, list(ev.workers), 10_000))


def outputs(bus: MemoryBus, settings: Settings) -> list[dict[str, Any]]:
    topic = settings.topic(Topics.SLA_EVENTS)
    return [
        json.loads(r.value)
        for p in range(bus.partitions(topic))
        for r in bus.read(topic, p, 0, 10**9)
    ]


async def publish(bus: MemoryBus, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    await bus.publish([Message(topic, key, value) for key, value in records])


async def test_outputs_equal_replay(settings: Settings) -> None:
    bus = MemoryBus(partitions=3)
    records = canonical(lines(tickets(60)), wall_clock() - 60 * SECOND)
    await publish(bus, settings.topic(Topics.CANONICAL), records)
    await run_until_drained(evaluator(settings, bus), bus, settings)
    got = outputs(bus, settings)
    want = replayed(VERSIONS, [v for _, v in records])
    assert len(want) > 200
    assert comparable(got) == comparable(want)


async def test_restart_resumes_from_the_last_commit(settings: Settings) -> None:
    bus = MemoryBus(partitions=3)
    records = canonical(lines(tickets(60, seed=2)), wall_clock() - 60 * SECOND)
    topic = settings.topic(Topics.CANONICAL)
    half = len(records) // 2
    await publish(bus, topic, records[:half])
    await run_until_drained(evaluator(settings, bus), bus, settings)
    await publish(bus, topic, records[half:])
    await run_until_drained(evaluator(settings, bus, owner="b"), bus, settings)
    got = outputs(bus, settings)
    assert comparable(got) == comparable(replayed(VERSIONS, [v for _, v in records]))


async def test_small_batches_with_commits_queued_behind_each_other_equal_replay(
    settings: Settings,
) -> None:
    bus = MemoryBus(partitions=2)
    records = canonical(lines(tickets(40, seed=5)), wall_clock() - 60 * SECOND)
    await publish(bus, settings.topic(Topics.CANONICAL), records)
    small = settings.model_copy(update={"batch_max_records": 3})
    ev = evaluator(small, bus)
    await run_until_drained(ev, bus, small)
    assert ev.metrics.commit_seconds._sum.get() > 0
    got = outputs(bus, settings)
    assert comparable(got) == comparable(replayed(VERSIONS, [v for _, v in records]))


async def test_a_stop_while_a_commit_is_in_flight_publishes_all_that_was_committed(
    settings: Settings,
) -> None:
    bus = MemoryBus(partitions=2)
    records = canonical(lines(tickets(40, seed=7)), wall_clock() - 60 * SECOND)
    await publish(bus, settings.topic(Topics.CANONICAL), records)
    small = settings.model_copy(update={"batch_max_records": 5})
    ev = evaluator(small, bus)
    stop = asyncio.Event()
    task = asyncio.create_task(ev.run(stop))
    deadline = asyncio.get_running_loop().time() + DRAIN_TIMEOUT
    caught = False
    while not caught and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.001)
        in_flight = any(not t.done() for chain in ev._commits.values() for t in chain)
        committed = not ev.concurrent_commits and ev.metrics.commit_seconds._sum.get() > 0
        caught = in_flight or committed
    stop.set()
    await task
    assert caught, f"no commit began within {DRAIN_TIMEOUT} s"
    assert await pending(ev) == 0
    assert outputs(bus, settings)
    await ev.db.dispose()


async def claimed_from_a_zombie(
    settings: Settings, seed: int
) -> tuple[MemoryBus, str, Evaluator, Evaluator]:
    """A one-partition stream whose partition ``zombie`` claimed, then ``successor``."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    await publish(bus, topic, canonical(lines(tickets(5, seed=seed)), wall_clock()))
    zombie = evaluator(settings, bus, owner="zombie")
    await zombie.on_assign([(topic, 0)])
    successor = evaluator(settings, bus, owner="successor")
    await successor.on_assign([(topic, 0)])
    return bus, topic, zombie, successor


async def test_a_queued_commit_behind_a_fenced_one_is_not_written(settings: Settings) -> None:
    bus, topic, zombie, successor = await claimed_from_a_zombie(settings, seed=6)
    worker = zombie.workers[(topic, 0)]
    read = bus.read(topic, 0, 0, 100)
    await zombie._step(worker, read[:5], wall_clock())
    await zombie._step(worker, read[5:], wall_clock())
    await zombie._committed([(topic, 0)])
    assert zombie.metrics.fenced._value.get() == 1
    async with zombie.db.connect() as conn:
        assert await store.load_subjects(conn, topic, 0) == []
        assert await store.count_pending(conn, [(topic, 0)]) == 0
    await zombie.db.dispose()
    await successor.db.dispose()


async def test_stale_owner_is_fenced(settings: Settings) -> None:
    bus, topic, zombie, successor = await claimed_from_a_zombie(settings, seed=3)
    worker = zombie.workers[(topic, 0)]
    await zombie._step(worker, bus.read(topic, 0, 0, 100), wall_clock())
    await zombie._committed([(topic, 0)])
    assert (topic, 0) not in zombie.workers
    assert zombie.metrics.fenced._value.get() == 1
    async with zombie.db.connect() as conn:
        assert await store.load_subjects(conn, topic, 0) == []
    await zombie.db.dispose()
    await successor.db.dispose()


async def test_bad_canonical_record_goes_to_the_dead_letter_topic(settings: Settings) -> None:
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    good = canonical(lines(tickets(1, seed=4)), wall_clock())
    await publish(bus, topic, [(b"ticket:X", b"not json"), *good])
    await run_until_drained(evaluator(settings, bus), bus, settings)
    dead = [orjson.loads(r.value) for r in bus.read(settings.topic(Topics.DEADLETTER), 0, 0, 10)]
    assert [(d["reason"], d["raw"], d["offset"]) for d in dead] == [("not_json", "not json", 0)]
    assert outputs(bus, settings)
