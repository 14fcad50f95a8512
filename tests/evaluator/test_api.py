"""The evaluator's HTTP API: clocks with every upcoming instant; readiness."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.settings import Settings, Topics
from slawatch.store.schema import DEADLINE_UNKNOWN, subject_states
from slawatch.timeutil import MINUTE, SECOND, format_time, parse_time
from slawatch_evaluator import api
from slawatch_evaluator.api import create_app
from slawatch_evaluator.runtime import Evaluator
from tests.evaluator.test_runtime_memory import evaluator, publish, settings  # noqa: F401
from tests.support.pipeline import canonical
from tests.support.replaying import versions

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
    await ev._committed([(topic, 0)])  # on PostgreSQL a commit is queued
    other = evaluator(settings, bus, owner="b")  # owns no partition: reads the store
    other_app = create_app(other, CollectorRegistry(), lambda: NOW + 5 * MINUTE)
    transport = httpx.ASGITransport(app=other_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        stored = (await c.get("/v1/clocks", params={"subject": "ticket:T-1"})).json()
        assert stored["source"] == "store"
        assert stored["clocks"] == listed
    await other.db.dispose()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
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


def gold_created(eid: str, time: str, tid: str, priority: str) -> dict[str, Any]:
    return {"id": eid, "type": "ticket.created", "time": time,
            "ticket": {"id": tid, "status": "open", "priority": priority,
                       "customer_tier": "gold", "assignee_group": "l1"}}  # fmt: skip


async def owning(
    settings: Settings,  # noqa: F811
    bus: MemoryBus,
    partition: int,
    owner: str = "a",
) -> Evaluator:
    """An evaluator that owns ``partition`` and has applied and committed, at ``NOW``,
    what it holds."""
    topic = settings.topic(Topics.CANONICAL)
    ev = evaluator(settings, bus, owner=owner)
    ev.clock = lambda: NOW
    await ev.on_assign([(topic, partition)])
    await ev._step(ev.workers[(topic, partition)], bus.read(topic, partition, 0, 1000), NOW)
    await ev._committed([(topic, partition)])
    return ev


async def listing(ev: Evaluator, now: int, **params: Any) -> dict[str, Any]:
    """``GET /v1/clocks`` of ``ev`` at ``now``, which must answer 200."""
    app = create_app(ev, CollectorRegistry(), lambda: now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get("/v1/clocks", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_clocks_due_soon_across_tickets_soonest_first(settings: Settings) -> None:  # noqa: F811
    """At 09:35 T-1's first response (P1, 30m) is 5 minutes past its deadline, its breach
    held for the step that fires it; T-3's falls due at 09:55 and T-2's (P3, 4h of office
    time from 10:20 Amsterdam) at 14:20 UTC. The listing reads the store, as committed."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    events = [
        gold_created("e1", "2026-03-02T09:00:00Z", "T-1", "P1"),
        gold_created("e2", "2026-03-02T09:20:00Z", "T-2", "P3"),
        gold_created("e3", "2026-03-02T09:25:00Z", "T-3", "P1"),
    ]
    await publish(bus, topic, canonical([orjson.dumps(e) for e in events], NOW))
    ev = await owning(settings, bus, 0)
    worker = ev.workers[(topic, 0)]
    now = [NOW + 5 * MINUTE]

    async def due(**params: Any) -> dict[str, Any]:
        return await listing(ev, now[0], **params)

    def shown(answer: dict[str, Any]) -> list[tuple[str, str, str | None, bool, int]]:
        return [
            (c["subject"], c["target"], c["deadline"], c["breached"], c["overdue_seconds"])
            for c in answer["clocks"]
        ]

    soon = await due(due_within="30m")
    assert (soon["as_of"], soon["due_by"], soon["source"], soon["more"]) == (
        "2026-03-02T09:35:00Z", "2026-03-02T10:05:00Z", "store", False,
    )  # fmt: skip
    assert shown(soon) == [
        ("ticket:T-1", "first_response", "2026-03-02T09:30:00Z", False, 300),
        ("ticket:T-3", "first_response", "2026-03-02T09:55:00Z", False, 0),
    ]
    later = await due(due_within="5h", target="first_response")
    assert [c["subject"] for c in later["clocks"]] == ["ticket:T-1", "ticket:T-3", "ticket:T-2"]
    assert later["clocks"][2]["deadline"] == "2026-03-02T14:20:00Z"
    resolution = await due(due_within="1d", sla="gold", target="resolution")
    assert [(c["subject"], c["deadline"]) for c in resolution["clocks"]] == [
        ("ticket:T-1", "2026-03-03T09:00:00Z"),
        ("ticket:T-3", "2026-03-03T09:25:00Z"),
    ]
    first = await due(due_within="30m", limit=1)
    assert ([c["subject"] for c in first["clocks"]], first["more"]) == (["ticket:T-1"], True)
    assert (await due(due_within="1d", sla="silver"))["clocks"] == []
    await ev._step(worker, [], NOW + 10 * MINUTE)  # fires T-1's breach
    await ev._committed([(topic, 0)])
    now[0] = NOW + 10 * MINUTE
    breached = await due(due_within="1m")
    assert shown(breached) == [
        ("ticket:T-1", "first_response", "2026-03-02T09:30:00Z", True, 600),
    ]
    await ev.db.dispose()


async def test_every_evaluator_lists_the_due_clocks_of_every_partition(
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Evaluator ``a`` owns partition 0, ``b`` partition 1, ``c`` none. Each lists the
    same 120 first-response clocks, soonest first; ``limit`` and ``more`` hold across
    pages of the store's rows (of 100 here: the last ten tickets' ``l2`` clocks are on
    the second); a record that cannot be read is counted, not listed."""
    monkeypatch.setattr(api, "STORE_PAGE", 100)
    bus = MemoryBus(partitions=2)
    topic = settings.topic(Topics.CANONICAL)
    events = [
        gold_created(f"e{i}", format_time(parse_time("2026-03-02T09:00:00Z") + i * 10 * SECOND),
                     f"T-{i}", "P1")
        for i in range(120)
    ]  # fmt: skip
    for late in events[110:]:  # their l2 clocks are due after every row of the first page
        late["ticket"]["assignee_group"] = "l2"
    await publish(bus, topic, canonical([orjson.dumps(e) for e in events], NOW))
    a, b = await owning(settings, bus, 0, "a"), await owning(settings, bus, 1, "b")
    c = evaluator(settings, bus, owner="c")
    now = [NOW + 5 * MINUTE]
    owned = set(a.workers[(topic, 0)].engine.subjects)
    assert 0 < len(owned) < 120

    async def due(ev: Evaluator, **params: Any) -> dict[str, Any]:
        return await listing(ev, now[0], **params)

    def listed(answer: dict[str, Any]) -> list[tuple[str, str | None, int]]:
        return [(x["subject"], x["deadline"], x["overdue_seconds"]) for x in answer["clocks"]]

    want = [
        (f"ticket:T-{i}", format_time(parse_time("2026-03-02T09:30:00Z") + i * 10 * SECOND),
         max(0, 300 - 10 * i))
        for i in range(120)
    ]  # fmt: skip
    from_a, from_b, from_c = [await due(ev, due_within="30m", limit=1000) for ev in (a, b, c)]
    assert listed(from_c) == want
    assert (from_c["source"], from_c["more"], from_c["unreadable"]) == ("store", False, 0)
    assert from_a == from_b == from_c
    first = await due(c, due_within="30m", limit=50)
    assert (listed(first), first["more"]) == (want[:50], True)
    exact = await due(c, due_within="30m", limit=120)
    assert (listed(exact), exact["more"]) == (want, False)
    assert (await due(c, due_within="1d", sla="silver"))["clocks"] == []
    resolutions = await due(c, due_within="1d", target="resolution", limit=3)
    assert [x["deadline"] for x in resolutions["clocks"]] == [
        "2026-03-03T09:00:00Z", "2026-03-03T09:00:10Z", "2026-03-03T09:00:20Z",
    ]  # fmt: skip
    l2 = await due(c, due_within="2h", sla="l2", limit=5)
    assert [(x["subject"], x["deadline"]) for x in l2["clocks"]] == [
        (f"ticket:T-{i}", format_time(parse_time("2026-03-02T10:18:20Z") + (i - 110) * 10 * SECOND))
        for i in range(110, 115)
    ]
    assert l2["more"] is True
    await b._step(b.workers[(topic, 1)], [], NOW + 40 * MINUTE)  # fires b's breaches
    await b._committed([(topic, 1)])
    now[0] = NOW + 40 * MINUTE
    late = await due(c, due_within="1m", target="first_response", limit=1000)
    assert [(x["subject"], x["breached"]) for x in late["clocks"]] == [
        (subject, subject not in owned) for subject, _, _ in want
    ]
    async with c.db.begin() as conn:
        await conn.execute(
            subject_states.update().where(subject_states.c.key == "ticket:T-7").values(state=b"{")
        )
    broken = await due(c, due_within="1m", target="first_response", limit=1000)
    assert broken["unreadable"] == 1
    assert [x["subject"] for x in broken["clocks"]] == [
        subject for subject, _, _ in want if subject != "ticket:T-7"
    ]
    for ev in (a, b, c):
        await ev.db.dispose()


async def test_rows_written_before_deadlines_were_kept_are_listed_then_written_again(
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row whose ``deadline`` is not known (written before migration 0010) is listed
    from the store all the same, and its owner writes the real one after loading it,
    whether or not the partition has records to apply, ``REWRITES_PER_BATCH`` a batch."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    events = [
        gold_created("e1", "2026-03-02T09:00:00Z", "T-1", "P1"),
        gold_created("e2", "2026-03-02T09:20:00Z", "T-2", "P3"),
    ]
    await publish(bus, topic, canonical([orjson.dumps(e) for e in events], NOW))
    owner = await owning(settings, bus, 0)
    await owner.db.dispose()

    async def deadlines(ev: Evaluator) -> dict[str, int | None]:
        async with ev.db.connect() as conn:
            rows = await conn.execute(sa.select(subject_states.c.key, subject_states.c.deadline))
            return {row.key: row.deadline for row in rows}

    reader = evaluator(settings, bus, owner="b")
    written = await deadlines(reader)
    assert written == {
        "ticket:T-1": parse_time("2026-03-02T09:30:00Z"),
        "ticket:T-2": parse_time("2026-03-02T14:20:00Z"),
    }
    async with reader.db.begin() as conn:
        await conn.execute(subject_states.update().values(deadline=DEADLINE_UNKNOWN))
    answer = await listing(reader, NOW, due_within="10h")
    assert [(x["subject"], x["target"]) for x in answer["clocks"]] == [
        ("ticket:T-1", "first_response"),
        ("ticket:T-2", "first_response"),
    ]
    monkeypatch.setattr("slawatch_evaluator.partition.REWRITES_PER_BATCH", 1)
    restarted = evaluator(settings, bus)
    restarted.clock = lambda: NOW
    await restarted.on_assign([(topic, 0)])
    worker = restarted.workers[(topic, 0)]
    for left in (1, 0):  # a row a batch
        assert worker.is_due(NOW)
        await restarted._step(worker, [], NOW)
        await restarted._committed([(topic, 0)])
        known = await deadlines(reader)
        assert sum(d == DEADLINE_UNKNOWN for d in known.values()) == left
    assert known == written
    assert not worker.is_due(NOW)
    for ev in (reader, restarted):
        await ev.db.dispose()


UPTIME = """
availability:
  - id: api-uptime
    service: api
    objective: 99.9
    window: month
    warn_at_budget: [0.5]
  - id: api-rolling
    service: api
    objective: 99
    window: {rolling: 1d}
"""

UP_THEN_DOWN = [
    {"id": f"u{i}", "type": "uptime.status", "time": t, "service": "api", "status": s}
    for i, (t, s) in enumerate([("2026-03-02T09:00:00Z", "up"), ("2026-03-02T09:10:00Z", "down")])
]
"""Service ``api`` up at 09:00 on March 2, down from 09:10."""


async def test_a_service_shows_its_objectives_with_upcoming_instants(settings: Settings) -> None:  # noqa: F811
    """From 09:00 on March 2 the window has 2,559,600 s left: a 2,559.6 s budget; the
    service is down from 09:10, so half of it is gone at 09:31:19.8 and all at 09:52:39.6."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    await publish(bus, topic, canonical([orjson.dumps(d) for d in UP_THEN_DOWN], NOW))
    ev = evaluator(settings, bus)
    ev.versions = versions((UPTIME, None))
    ev.clock = lambda: NOW
    await ev.on_assign([(topic, 0)])
    worker = ev.workers[(topic, 0)]
    await ev._step(worker, bus.read(topic, 0, 0, 10), NOW)
    app = create_app(ev, CollectorRegistry(), lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get("/v1/clocks", params={"subject": "service:api"})
        assert answer.status_code == 200
        month, rolling = answer.json()["clocks"]
        assert month["id"] == "service:api/api-uptime/availability/2026-03-01T00:00:00Z"
        assert (month["status"], month["downtime_seconds"], month["measured_seconds"]) == (
            "down",
            1200,
            1800,
        )
        assert month["budget_remaining"] == pytest.approx(1 - 1200 / 2559.6)
        assert [(u["type"], u.get("threshold"), u["at"]) for u in month["upcoming"]] == [
            ("sla.availability.warning", 0.5, "2026-03-02T09:31:19.800000Z"),
            ("sla.availability.breached", None, "2026-03-02T09:52:39.600000Z"),
        ]
        assert (rolling["id"], rolling["window_seconds"]) == (
            "service:api/api-rolling/availability/rolling",
            86400,
        )
        assert rolling["availability"] == pytest.approx(1 - 1200 / 1800)
        one = await c.get(f"/v1/clocks/{month['id']}")
        assert one.status_code == 200 and one.json()["sla"] == "api-uptime"
        missing = await c.get("/v1/clocks/service:api/api-uptime/availability/2026-02-01T00:00:00Z")
        assert missing.status_code == 404
    await ev.db.dispose()


async def test_a_store_read_knows_the_versions_taken_up_since_the_first_read(
    settings: Settings,  # noqa: F811
) -> None:
    """An evaluator that owns no partition reads a service from the store. Once the
    owner runs under a newer version, the record names it: until the reader takes that
    version up (as its poll does) the answer is a 503 saying so, and then the record is
    read against every version the reader holds, not those of its first read."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    web = UPTIME.replace("service: api", "service: web")
    first = versions((web, None))
    both = versions((web, None), (UPTIME, "2026-03-02T09:05:00Z"))
    owner, reader = evaluator(settings, bus), evaluator(settings, bus, owner="b")
    owner.versions = reader.versions = first
    owner.clock = lambda: NOW
    await owner.on_assign([(topic, 0)])
    await publish(bus, topic, canonical([orjson.dumps(UP_THEN_DOWN[0])], NOW))
    await owner._step(owner.workers[(topic, 0)], bus.read(topic, 0, 0, 10), NOW)
    await owner._committed([(topic, 0)])
    app = create_app(reader, CollectorRegistry(), lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        before = await c.get("/v1/clocks", params={"subject": "service:api"})
        assert (before.status_code, before.json()["clocks"]) == (200, [])
        await owner.db.dispose()
        owner = evaluator(settings, bus)  # restarted with both versions
        owner.versions = both
        owner.clock = lambda: NOW
        await owner.on_assign([(topic, 0)])
        await publish(bus, topic, canonical([orjson.dumps(UP_THEN_DOWN[1])], NOW))
        await owner._step(owner.workers[(topic, 0)], bus.read(topic, 0, 1, 10), NOW)
        await owner._committed([(topic, 0)])
        early = await c.get("/v1/clocks", params={"subject": "service:api"})
        assert early.status_code == 503
        assert early.json()["error"] == (
            "service:api cannot be read from the store: unknown definitions version 2"
        )
        await reader.adopt(both)
        after = await c.get("/v1/clocks", params={"subject": "service:api"})
        assert after.status_code == 200, after.text
        assert after.json()["source"] == "store"
        month, _rolling = after.json()["clocks"]
        assert (month["definitions_version"], month["measured_seconds"]) == (2, 1500)
        assert month["downtime_seconds"] == 1200
    await owner.db.dispose()
    await reader.db.dispose()


async def test_errors_are_json_with_an_error_message_and_probes_may_use_head(
    settings: Settings,  # noqa: F811
) -> None:
    ev = evaluator(settings, MemoryBus(partitions=1))
    app = create_app(ev, CollectorRegistry(), lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        missing = await c.get("/v1/clocks")
        assert missing.status_code == 400
        assert "due_within" in missing.json()["error"]
        both = await c.get("/v1/clocks", params={"subject": "ticket:T-1", "due_within": "1h"})
        assert both.status_code == 400
        bad = await c.get("/v1/clocks", params={"due_within": "soon"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("due_within: ")
        empty = await c.get("/v1/clocks", params={"subject": ""})
        assert empty.status_code == 400 and "subject" in empty.json()["error"]
        unknown = await c.get("/v1/clocks", params={"subject": "ticket:nope"})
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "ticket:nope is not known"
        bare = await c.get("/v1/clocks", params={"subject": "nope"})
        assert bare.status_code == 404
        assert bare.json()["error"] == "nope is not known (a subject is ticket:ID or service:NAME)"
        nowhere = await c.get("/v2/nothing")
        assert (nowhere.status_code, nowhere.json()) == (404, {"error": "Not Found"})
        assert (await c.head("/healthz")).status_code == 200
    await ev.db.dispose()
