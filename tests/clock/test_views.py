"""Clock views (the evaluator's ``GET /v1/clocks``): remaining and overdue business time."""

from __future__ import annotations

from typing import Any

import orjson
from tests.support.replaying import created, ticket, versions

from slawatch.clock import Engine
from slawatch.clock.views import clock_views, due_clock_views
from slawatch.events import parse_event
from slawatch.events.model import InputEvent
from slawatch.timeutil import MINUTE, SECOND, parse_time

FIRST_RESPONSE = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent}]
        pause_while: {status: waiting}
        goals: [{target: 30m, calendar: "24x7"}]
"""
CREATED = parse_time("2026-03-02T09:00:00Z")
LATENESS = 30 * SECOND


def view(engine: Engine, now: int) -> dict[str, Any]:
    (found,) = clock_views("ticket:T-1", engine.subjects["ticket:T-1"].state, now)
    return found.body


def parsed(event: dict[str, Any]) -> InputEvent:
    result = parse_event(orjson.dumps(event))
    assert isinstance(result, InputEvent)
    return result


def engine_with(*events: dict[str, Any], now: int) -> Engine:
    engine = Engine(versions((FIRST_RESPONSE, None)), lateness=LATENESS)
    for event in events:
        engine.apply(parsed(event), now)
    return engine


def test_a_clock_before_its_deadline_has_time_remaining_and_none_overdue() -> None:
    engine = engine_with(created("e1", "2026-03-02T09:00:00Z"), now=CREATED)
    body = view(engine, CREATED + 10 * MINUTE)
    assert (body["remaining_seconds"], body["overdue_seconds"], body["breached"]) == (
        1200,
        0,
        False,
    )


def test_past_its_deadline_a_clock_is_overdue_before_its_breach_is_emitted() -> None:
    """Within lateness of the deadline the breach waits for late events (rule 4), but
    the view already says how far past the goal the clock is."""
    engine = engine_with(created("e1", "2026-03-02T09:00:00Z"), now=CREATED)
    now = CREATED + 30 * MINUTE + 20 * SECOND
    assert engine.due(now) == []  # the breach is held until deadline + lateness
    body = view(engine, now)
    assert (body["remaining_seconds"], body["overdue_seconds"], body["breached"]) == (0, 20, False)
    assert body["upcoming"] == [{"type": "sla.breached", "at": "2026-03-02T09:30:00Z"}]


def test_a_breached_clock_stays_overdue_and_a_paused_one_stops_growing_its_overdue() -> None:
    engine = engine_with(created("e1", "2026-03-02T09:00:00Z"), now=CREATED)
    fired = engine.due(CREATED + 31 * MINUTE)
    assert [o.body["type"] for o in fired] == ["sla.breached"]
    body = view(engine, CREATED + 45 * MINUTE)
    assert (body["overdue_seconds"], body["breached"], body["upcoming"]) == (900, True, [])
    engine.apply(
        parsed(ticket("e2", "2026-03-02T09:50:00Z", status="waiting")), CREATED + 50 * MINUTE
    )
    later = view(engine, CREATED + 90 * MINUTE)
    assert (later["state"], later["overdue_seconds"]) == ("paused", 1200)


def test_the_due_views_are_the_clocks_whose_deadline_is_by_the_instant() -> None:
    """T-1 breached at 09:30; T-2, created at 09:50, falls due at 10:20; T-3 is paused.
    Each ticket's exported change carries its soonest deadline, the store's index."""
    engine = engine_with(created("e1", "2026-03-02T09:00:00Z"), now=CREATED)
    for event in (
        created("e2", "2026-03-02T09:50:00Z", tid="T-2"),
        created("e3", "2026-03-02T09:50:00Z", tid="T-3", status="waiting"),
    ):
        engine.apply(parsed(event), CREATED + 50 * MINUTE)
    assert [o.subject for o in engine.due(CREATED + 51 * MINUTE)] == ["ticket:T-1"]
    now = CREATED + 60 * MINUTE

    def due_by(until: int) -> list[tuple[str, int | None, bool]]:
        return [
            (key, v.deadline, v.body["breached"])
            for key, subject in engine.subjects.items()
            for v in due_clock_views(key, subject.state, now, until)
        ]

    assert due_by(now) == [("ticket:T-1", CREATED + 30 * MINUTE, True)]
    assert due_by(CREATED + 80 * MINUTE) == [
        ("ticket:T-1", CREATED + 30 * MINUTE, True),
        ("ticket:T-2", CREATED + 80 * MINUTE, False),
    ]
    assert due_by(CREATED + 80 * MINUTE) == due_by(CREATED + 100 * 24 * 60 * MINUTE)
    exported = {key: engine.export_change(key).deadline for key in engine.subjects}
    assert exported == {
        "ticket:T-1": CREATED + 30 * MINUTE,
        "ticket:T-2": CREATED + 80 * MINUTE,
        "ticket:T-3": None,
    }
    breached = engine.subjects["ticket:T-1"].state
    assert due_clock_views("ticket:T-1", breached, now, now, sla="x") == []
