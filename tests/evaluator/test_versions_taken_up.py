"""A definitions version stored while the evaluator runs (``slawatch apply``) is taken
up without a restart, and the outputs are replay's under both versions (rule 18)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.settings import Settings, Topics
from slawatch.store.versions import accept_and_load
from slawatch.timeutil import DAY, SECOND, format_time
from slawatch_evaluator import store
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.runtime import Evaluator
from tests.evaluator.test_runtime_memory import outputs, pending, publish, settings  # noqa: F401
from tests.support.pipeline import canonical, comparable, replayed
from tests.support.streams import DESK, START, lines, tickets

EDITED = DESK.replace("target: 4h, calendar: office", "target: 6h, calendar: office")
SWITCH = START + 5 * DAY // 2
"""When the edited version comes into force: half way through the stream."""
RECEIVED = START + 10 * DAY
"""Processing time: every record arrives then, and the evaluator's clock stands there."""


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 120.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_version_stored_while_running_is_taken_up(settings: Settings) -> None:  # noqa: F811
    settings = settings.model_copy(update={"definitions_poll": SECOND // 20})
    bus = MemoryBus(partitions=2)
    topic = settings.topic(Topics.CANONICAL)
    records = canonical(lines(tickets(80, seed=5)), RECEIVED)
    switch = format_time(SWITCH)  # written times sort as the instants do
    before = [r for r in records if json.loads(r[1])["time"] < switch]
    after = records[len(before) :]
    assert before and after and all(json.loads(v)["time"] >= switch for _, v in after)
    db = store.create_engine(settings.database_url)
    first = await accept_and_load(db, DESK, START)
    ev = Evaluator(settings=settings, versions=first, db=db,
                   source=MemorySource(bus, [topic]), publisher=bus,
                   metrics=EvaluatorMetrics(CollectorRegistry()), clock=lambda: RECEIVED,
                   owner="a")  # fmt: skip

    async def drained() -> bool:
        ends = {w.claim.partition: w.next_offset for w in ev.workers.values()}
        done = len(ends) == 2 and all(ends[p] == bus.end_offset(topic, p) for p in ends)
        return done and await pending(ev) == 0

    stop = asyncio.Event()
    task = asyncio.create_task(ev.run(stop))
    await publish(bus, topic, before)
    await wait_for(drained, "the first half")
    both = await accept_and_load(db, EDITED, START, SWITCH)
    assert [v.number for v in both] == [1, 2]

    async def taken_up() -> bool:
        return [v.number for v in ev.versions] == [1, 2] and len(ev.workers) == 2

    await wait_for(taken_up, "version 2 to be taken up")
    await publish(bus, topic, after)
    await wait_for(drained, "the second half")
    stop.set()
    await task
    await db.dispose()

    got = outputs(bus, settings)
    want = replayed(both, [v for _, v in records])
    assert comparable(got) == comparable(want)
    by_version = {o["definitions_version"] for o in got if o["type"] == "sla.clock.started"}
    assert by_version == {1, 2}
    edited = [o for o in got if o["type"] == "sla.clock.started" and o["goal_seconds"] == 21600]
    assert edited and all(o["definitions_version"] == 2 for o in edited)
