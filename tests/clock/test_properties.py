"""Properties of the engine over generated ticket streams (hypothesis)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.replaying import versions

from slawatch.calendar import calendar_for
from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay import Cause, Replayer
from slawatch.replay.runner import Emitted
from slawatch.timeutil import SECOND, format_time, parse_time

DEFINITIONS = """
calendars:
  office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["09:00-12:00", "13:00-17:00"]}
    holidays: {dates: ["2026-03-04"]}
slas:
  - id: gold
    kind: customer
    applies_to: {not: {customer_tier: free}}
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals:
          - {when: {priority: P1}, target: 1h, calendar: "24x7"}
          - {target: 4h, calendar: office}
        warn_at: [0.5, 0.75, 15m]
      - id: resolution
        start: [{event: created, if: {not: {status: [resolved]}}},
                {event: status_entered, status: open, from: [resolved]}]
        stop: [{event: status_entered, status: [resolved]}]
        pause_while: {status: [waiting]}
        goals:
          - {when: {priority: P1}, target: 2h, calendar: office}
          - {when: {priority: P2}, target: 8h, calendar: office}
          - {target: 3h, calendar: "24x7"}
        warn_at: [0.5, 30m]
"""
ONE_CALENDAR = DEFINITIONS.replace("calendar: office", 'calendar: "24x7"')
BASE = parse_time("2026-03-02T08:00:00Z")
VERSIONS = versions((DEFINITIONS, None))
FLAT_VERSIONS = versions((ONE_CALENDAR, None))


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Ticket events in time order (equal times allowed), ids unique."""
    count = draw(st.integers(1, 25))
    events: list[dict[str, Any]] = []
    created: set[str] = set()
    minute = 0
    for n in range(count):
        minute += draw(st.sampled_from([0, 0, 5, 30, 60, 120, 400]))
        tid = draw(st.sampled_from(["T-1", "T-2", "T-3"]))
        time = format_time(BASE + minute * 60 * SECOND)
        kind = (
            "ticket.created"
            if tid not in created
            else draw(
                st.sampled_from(
                    ["ticket.updated", "ticket.updated", "ticket.commented", "ticket.created"]
                )
            )
        )
        created.add(tid)
        ticket: dict[str, Any] = {"id": tid}
        if kind != "ticket.commented" or draw(st.booleans()):
            if draw(st.booleans()) or kind == "ticket.created":
                ticket["status"] = draw(st.sampled_from(["open", "waiting", "resolved"]))
            if draw(st.booleans()):
                ticket["priority"] = draw(st.sampled_from(["P1", "P2", "P3"]))
            if draw(st.integers(0, 9)) == 0:
                ticket["customer_tier"] = draw(st.sampled_from(["free", "gold"]))
        event: dict[str, Any] = {"id": f"e{n}", "type": kind, "time": time, "ticket": ticket}
        if kind == "ticket.commented":
            event["comment"] = {
                "author_role": draw(st.sampled_from(["agent", "customer"])),
                "public": draw(st.booleans()),
            }
        events.append(event)
    return events


def replay_lines(
    vs: Sequence[DefinitionsVersion],
    events: Sequence[dict[str, Any]],
    split: int | None = None,
    lateness: int = 0,
) -> list[dict[str, Any]]:
    """Replay events; with ``split``, snapshot after that many lines and go on in a new replayer."""
    until = BASE + 5 * 24 * 3600 * SECOND
    out: list[dict[str, Any]] = []

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        out.extend(json.loads(o.to_json()) for o in outputs)

    replayer = Replayer(vs, emit=emit, until=until, lateness=lateness)
    for number, event in enumerate(events, 1):
        if split is not None and number == split + 1:
            data = replayer.snapshot()
            replayer = Replayer(vs, emit=emit, until=until, lateness=lateness)
            replayer.restore(data)
        replayer.feed(number, json.dumps(event).encode())
    replayer.finish()
    return out


def standing(outputs: list[dict[str, Any]]) -> list[str]:
    """The ids of outputs emitted and not retracted.

    Ids, not bodies: rule 6 withdraws an output only when its id is no longer produced,
    so an output whose id stands keeps the details (elapsed, deadline) it was emitted with.
    A retracted id that a later recomputation produces again stands again.
    """
    kept: set[str] = set()
    for o in outputs:
        if o["type"] == "sla.retracted":
            kept.discard(o["retracts"])
        else:
            kept.add(o["id"])
    return sorted(kept)


def by_cycle(outputs: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    cycles: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for o in outputs:
        if o["type"] != "sla.retracted":
            cycles[(o["subject"], o["target"], o["cycle"])].append(o)
    return cycles


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(streams())
def test_same_input_gives_byte_identical_output(events: list[dict[str, Any]]) -> None:
    """Replay is deterministic."""
    assert replay_lines(VERSIONS, events) == replay_lines(VERSIONS, events)


@SETTINGS
@given(streams())
def test_elapsed_never_decreases_under_one_calendar(events: list[dict[str, Any]]) -> None:
    """Within a cycle, elapsed business time never decreases between outputs on one calendar."""
    for outs in by_cycle(replay_lines(VERSIONS, events)).values():
        last: dict[str, float] = {}
        for o in sorted(outs, key=lambda o: parse_time(o["time"])):
            assert o["elapsed_seconds"] >= last.get(o["calendar"], 0)
            last[o["calendar"]] = o["elapsed_seconds"]


@SETTINGS
@given(streams())
def test_paused_time_never_counts(events: list[dict[str, Any]]) -> None:
    """A stopped cycle's elapsed is the business time of its running spans, nothing more."""
    office = calendar_for(VERSIONS[0].definitions.calendars["office"])
    for outs in by_cycle(replay_lines(VERSIONS, events)).values():
        stops = [o for o in outs if o["type"] in ("sla.clock.stopped", "sla.clock.cancelled")]
        if not stops:
            continue
        running_from: int | None = None
        total = 0
        calendar = stops[0]["calendar"]
        for o in outs:
            t = parse_time(o["time"])
            if o["type"] in ("sla.clock.started", "sla.clock.resumed"):
                running_from = t
            elif o["type"] in ("sla.clock.paused", "sla.clock.stopped", "sla.clock.cancelled"):
                if running_from is not None:
                    total += (
                        t - running_from if calendar == "24x7" else office.elapsed(running_from, t)
                    )
                running_from = None
        assert stops[0]["elapsed_seconds"] * SECOND == total


@SETTINGS
@given(streams())
def test_each_cycle_breaches_at_most_once(events: list[dict[str, Any]]) -> None:
    """At most one breach per cycle."""
    for outs in by_cycle(replay_lines(VERSIONS, events)).values():
        assert sum(1 for o in outs if o["type"] == "sla.breached") <= 1


@SETTINGS
@given(streams(), st.data())
def test_a_duplicate_changes_nothing(events: list[dict[str, Any]], data: st.DataObject) -> None:
    """Delivering an applied event again, even with other content, changes no output."""
    original = data.draw(st.sampled_from(events))
    at = data.draw(st.integers(events.index(original) + 1, len(events)))
    duplicate = {**original, "time": format_time(BASE + 9 * 24 * 3600 * SECOND)}
    if data.draw(st.booleans()):
        duplicate["ticket"] = {**original["ticket"], "status": "resolved"}
    with_duplicate = [*events[:at], duplicate, *events[at:]]
    assert replay_lines(VERSIONS, with_duplicate) == replay_lines(VERSIONS, events)


@SETTINGS
@given(streams(), st.data())
def test_snapshot_and_restore_split_changes_nothing(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """events[:k], snapshot, restore, events[k:] gives byte-identical output to one run."""
    k = data.draw(st.integers(0, len(events)))
    assert replay_lines(VERSIONS, events, split=k) == replay_lines(VERSIONS, events)


@SETTINGS
@given(streams(), st.data())
def test_snapshot_and_restore_split_changes_nothing_with_lateness(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """The same with lateness: timer outputs an event made its subject reach before they
    were due by processing time wait in the snapshot and go out as they would have."""
    k = data.draw(st.integers(0, len(events)))
    late = data.draw(st.sampled_from([10 * 60 * SECOND, 2 * 3600 * SECOND]))
    split = replay_lines(VERSIONS, events, split=k, lateness=late)
    assert split == replay_lines(VERSIONS, events, lateness=late)


@SETTINGS
@given(streams(), st.randoms(use_true_random=False))
def test_late_arrival_converges_to_the_in_order_outputs(
    events: list[dict[str, Any]], rnd: Any
) -> None:
    """Any arrival order that keeps equal-time events in order ends with the in-order outputs.

    What stands after retractions equals what in-order arrival emits: late events are
    recomputed from history (rule 6) and equal times keep their arrival order (rule 2).
    """
    order = list(range(len(events)))
    rnd.shuffle(order)
    keyed = sorted(order, key=lambda i: order.index(i))
    by_time: dict[str, list[int]] = defaultdict(list)
    for i in range(len(events)):
        by_time[events[i]["time"]].append(i)
    slots = {t: iter(ix) for t, ix in by_time.items()}
    arrival = [next(slots[events[i]["time"]]) for i in keyed]
    shuffled = [events[i] for i in arrival]
    assert standing(replay_lines(FLAT_VERSIONS, shuffled)) == standing(
        replay_lines(FLAT_VERSIONS, events)
    )


UPTIME = versions(
    (
        """
availability:
  - id: api-uptime
    service: api
    objective: 99.0
    window: week
    timezone: UTC
    stale_after: 10m
    unknown_counts_as: up
    warn_at_budget: [0.25, 0.5]
""",
        None,
    )
)


@st.composite
def uptime_streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Status and maintenance events of ``api`` (and of ``other``) in time order, ids unique.

    Gaps beyond ``stale_after`` let checks go stale: timers that fire with no output.
    """
    events: list[dict[str, Any]] = []
    minute = 0
    for n in range(draw(st.integers(1, 20))):
        minute += draw(st.sampled_from([0, 0, 1, 5, 12, 30]))
        time = format_time(BASE + minute * 60 * SECOND)
        service = draw(st.sampled_from(["api", "api", "api", "other"]))
        if service == "api" and draw(st.integers(0, 5)) == 0:
            start = BASE + (minute + draw(st.sampled_from([0, 3, 20]))) * 60 * SECOND
            length = draw(st.sampled_from([5, 30, 90])) * 60 * SECOND
            events.append(
                {"id": f"m{n}", "type": "maintenance.window", "time": time, "service": service,
                 "start": format_time(start), "end": format_time(start + length)}
            )  # fmt: skip
            continue
        event = {"id": f"u{n}", "type": "uptime.status", "time": time, "service": service,
                 "status": draw(st.sampled_from(["up", "down", "down", "degraded"]))}  # fmt: skip
        check = draw(st.sampled_from([None, "a", "b"]))
        if check is not None:
            event["check"] = check
        events.append(event)
    return events


@SETTINGS
@given(uptime_streams(), st.randoms(use_true_random=False))
def test_late_uptime_arrival_converges_to_the_in_order_outputs(
    events: list[dict[str, Any]], rnd: Any
) -> None:
    """As for tickets: a service's event read after processing time passed its time (past
    the instant a check went stale, too) ends with what in-order arrival emits."""
    order = list(range(len(events)))
    rnd.shuffle(order)
    by_time: dict[str, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        by_time[event["time"]].append(i)
    slots = {t: iter(ix) for t, ix in by_time.items()}
    shuffled = [events[next(slots[events[i]["time"]])] for i in order]
    assert standing(replay_lines(UPTIME, shuffled)) == standing(replay_lines(UPTIME, events))
