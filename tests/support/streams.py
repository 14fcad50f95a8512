"""Generated event streams for pipeline tests: a help desk's tickets, in arrival order."""

from __future__ import annotations

import heapq
import random
from typing import Any

import orjson

from slawatch.timeutil import MINUTE, format_time, parse_time

DESK = """
calendars:
  office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["08:00-12:00", "13:00-17:00"]}
    holidays: {dates: ["2026-03-04"]}
slas:
  - id: gold
    kind: customer
    applies_to: {customer_tier: gold}
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals:
          - {when: {priority: P1}, target: 30m, calendar: 24x7}
          - {target: 4h, calendar: office}
        warn_at: [0.5, 0.75, 15m]
      - id: resolution
        start: [{event: created}, {event: status_entered, status: open, from: [resolved]}]
        stop: [{event: status_entered, status: [resolved, closed]}]
        pause_while: {status: waiting}
        goals:
          - {when: {priority: [P1, P2]}, target: 8h, calendar: office}
          - {target: 2d, calendar: 24x7}
        warn_at: [0.5, 0.9]
  - id: l2
    kind: ola
    applies_to: {assignee_group: l2}
    targets:
      - id: acknowledge
        start: [{event: field_changed, field: assignee_group, to: l2}]
        stop: [{event: field_changed, field: assignee, from: null}]
        goals: [{target: 1h, calendar: 24x7}]
"""

START = parse_time("2026-03-02T07:00:00Z")


def tickets(count: int, seed: int = 1, *, duplicates: float = 0.02) -> list[dict[str, Any]]:
    """About six events per ticket over a week of March 2026, with some duplicates."""
    rnd = random.Random(seed)
    heap: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0

    def add(t: int, event: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        event.setdefault("id", f"g{seq}")
        event["time"] = format_time(t)
        event["source"] = "gen"
        heapq.heappush(heap, (t, seq, event))

    for n in range(count):
        tid = f"T-{seed}-{n}"
        t = START + rnd.randrange(5 * 24 * 60) * MINUTE
        fields = {
            "id": tid,
            "status": "open",
            "priority": rnd.choice(["P1", "P2", "P3"]),
            "customer_tier": rnd.choice(["gold", "gold", "silver"]),
            "assignee_group": "l1",
        }
        add(t, {"type": "ticket.created", "ticket": fields})
        t += rnd.randrange(1, 300) * MINUTE
        if rnd.random() < 0.3:
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "assignee_group": "l2"}})
            t += rnd.randrange(1, 120) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "assignee": "ann"}})
        add(t, {"type": "ticket.commented", "ticket": {"id": tid},
                "comment": {"author_role": "agent", "public": rnd.random() < 0.8}})  # fmt: skip
        if rnd.random() < 0.4:
            t += rnd.randrange(1, 600) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "waiting"}})
            t += rnd.randrange(1, 900) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "open"}})
        if rnd.random() < 0.3:
            t += rnd.randrange(1, 60) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "priority": "P1"}})
        t += rnd.randrange(30, 3000) * MINUTE
        add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "resolved"}})
        if rnd.random() < 0.15:
            t += rnd.randrange(60, 2000) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "open"}})
    events = []
    while heap:
        _, _, event = heapq.heappop(heap)
        events.append(event)
        if rnd.random() < duplicates:
            events.append(dict(event))
    return events


def lines(events: list[dict[str, Any]]) -> list[bytes]:
    """Events as JSON lines."""
    return [orjson.dumps(e) for e in events]
