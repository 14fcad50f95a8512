"""Rules 1-6a: event time, order, timers after events, processing time, duplicates, late events."""

from __future__ import annotations

from tests.support.replaying import created, run, ticket

from slawatch.timeutil import parse_time

FIRST_RESPONSE = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 1h, calendar: "24x7"}]
        warn_at: [0.5]
"""

RESOLUTION = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: resolution
        start: [{event: created}, {event: status_entered, status: open, from: [resolved]}]
        stop: [{event: status_entered, status: [resolved, closed]}]
        goals: [{target: 4h, calendar: "24x7"}]
        warn_at: [0.5]
"""


def reply(eid: str, time: str, tid: str = "T-1", **kw: object) -> dict[str, object]:
    return ticket(eid, time, tid, comment=("agent", True), **kw)


# rule 1


def test_breach_time_is_the_deadline_not_when_it_was_noticed() -> None:
    r = run(
        FIRST_RESPONSE,
        [created("e1", "2026-03-02T09:00:00Z"), created("x", "2026-03-02T13:00:00Z", "T-9")],
    )
    (breach,) = r.of("sla.breached", subject="ticket:T-1")
    assert breach["time"] == "2026-03-02T10:00:00Z"
    assert breach["deadline"] == "2026-03-02T10:00:00Z"


def test_outputs_use_utc_with_z_whatever_the_input_offset() -> None:
    r = run(
        FIRST_RESPONSE, [created("e1", "2026-03-02T10:00:00+01:00")], until="2026-03-02T12:00:00Z"
    )
    assert r.of("sla.clock.started")[0]["time"] == "2026-03-02T09:00:00Z"
    assert r.of("sla.breached")[0]["time"] == "2026-03-02T10:00:00Z"


# rule 2


def test_equal_times_keep_arrival_order() -> None:
    resolve_then_reopen = [
        created("e1", "2026-03-02T09:00:00Z"),
        ticket("e2", "2026-03-02T10:00:00Z", status="resolved"),
        ticket("e3", "2026-03-02T10:00:00Z", status="open"),
    ]
    r = run(RESOLUTION, resolve_then_reopen, until="2026-03-02T20:00:00Z")
    assert [o["cycle"] for o in r.of("sla.clock.started")] == [1, 2]
    reopen_then_resolve = [resolve_then_reopen[0], resolve_then_reopen[2], resolve_then_reopen[1]]
    r = run(RESOLUTION, reopen_then_resolve, until="2026-03-02T20:00:00Z")
    assert [o["cycle"] for o in r.of("sla.clock.started")] == [1]
    assert r.of("sla.clock.stopped")[0]["time"] == "2026-03-02T10:00:00Z"


# rule 3


def test_reply_at_the_deadline_meets_the_goal() -> None:
    r = run(
        FIRST_RESPONSE, [created("e1", "2026-03-02T09:00:00Z"), reply("e2", "2026-03-02T10:00:00Z")]
    )
    assert r.of("sla.breached") == []
    assert r.of("sla.clock.stopped")[0]["outcome"] == "met"


def test_stop_at_a_warning_point_emits_no_warning() -> None:
    r = run(
        FIRST_RESPONSE, [created("e1", "2026-03-02T09:00:00Z"), reply("e2", "2026-03-02T09:30:00Z")]
    )
    assert r.of("sla.warning") == []


def test_event_at_the_deadline_of_another_subject_is_applied_before_the_timer() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            created("e2", "2026-03-02T09:00:00Z", "T-2"),
            reply("e3", "2026-03-02T10:00:00Z", "T-2"),
            reply("e4", "2026-03-02T10:00:00Z", "T-1"),
        ],
    )
    assert r.of("sla.breached") == []
    assert [o["outcome"] for o in r.of("sla.clock.stopped")] == ["met", "met"]


# rule 4


def test_timer_waits_for_lateness_and_fires_at_end_when_until_allows() -> None:
    events = [created("e1", "2026-03-02T09:00:00Z")]
    assert (
        run(FIRST_RESPONSE, events, until="2026-03-02T10:09:59Z", lateness="10m").of("sla.breached")
        == []
    )
    (breach,) = run(FIRST_RESPONSE, events, until="2026-03-02T10:10:00Z", lateness="10m").of(
        "sla.breached"
    )
    assert breach["time"] == "2026-03-02T10:00:00Z"


def test_timer_fires_once_processing_time_passes_due_plus_lateness() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            created("e2", "2026-03-02T10:05:00Z", "T-2"),
            created("e3", "2026-03-02T10:11:00Z", "T-3"),
        ],
        lateness="10m",
    )
    step_of_breach = next(
        i for i, (_, outs) in enumerate(r.steps) if any(o["type"] == "sla.breached" for o in outs)
    )
    cause, _ = r.steps[step_of_breach]
    assert cause.event is None
    started_t3 = next(
        i for i, (c, _) in enumerate(r.steps) if c.event is not None and c.event.id == "e3"
    )
    started_t2 = next(
        i for i, (c, _) in enumerate(r.steps) if c.event is not None and c.event.id == "e2"
    )
    assert started_t2 < step_of_breach < started_t3


def test_an_event_of_the_subject_within_lateness_does_not_fire_its_timer_early() -> None:
    """The update at 10:02 carries T-1 past its 10:00 deadline, but with 5m lateness the
    breach goes out once processing time passes 10:05 (here at 10:20), not at 10:02."""
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("u1", "2026-03-02T10:02:00Z", region="us"),
            created("e9", "2026-03-02T10:20:00Z", "T-9"),
        ],
        lateness="5m",
    )
    ((cause, outs),) = [(c, o) for c, o in r.steps if any(x["type"] == "sla.breached" for x in o)]
    assert cause.event is None and cause.now == parse_time("2026-03-02T10:20:00Z")
    assert [(o["type"], o["time"]) for o in outs] == [("sla.breached", "2026-03-02T10:00:00Z")]


def test_a_stop_within_lateness_after_the_deadline_comes_after_the_breach() -> None:
    r = run(
        FIRST_RESPONSE,
        [created("e1", "2026-03-02T09:00:00Z"), reply("e2", "2026-03-02T10:03:00Z")],
        lateness="5m",
        until="2026-03-02T12:00:00Z",
    )
    ((_, outs),) = [(c, o) for c, o in r.steps if c.event is not None and c.event.id == "e2"]
    assert [(o["type"], o.get("outcome")) for o in outs] == [
        ("sla.breached", None),
        ("sla.clock.stopped", "breached"),
    ]


def test_received_at_drives_processing_time() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z", received_at="2026-03-02T09:00:01Z"),
            reply("e2", "2026-03-02T09:50:00Z", "T-9", received_at="2026-03-02T11:00:00Z"),
        ],
    )
    (breach,) = r.of("sla.breached")
    assert breach["time"] == "2026-03-02T10:00:00Z"


def test_late_event_within_lateness_still_stops_the_clock_in_time() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            reply("e2", "2026-03-02T09:59:00Z", received_at="2026-03-02T10:00:20Z"),
        ],
        lateness="30s",
        until="2026-03-02T12:00:00Z",
    )
    assert r.of("sla.breached") == []
    assert r.of("sla.retracted") == []
    assert r.of("sla.clock.stopped")[0]["outcome"] == "met"


# rule 5


def test_duplicate_is_applied_once_whatever_it_says() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:00:00Z", status="resolved"),
            ticket("e3", "2026-03-02T11:00:00Z", status="open"),
            ticket("e2", "2026-03-02T12:00:00Z", status="resolved"),
        ],
        until="2026-03-02T16:00:00Z",
    )
    assert r.stats is not None and r.stats.duplicates == 1
    assert len(r.of("sla.clock.stopped")) == 1
    assert r.of("sla.breached", cycle=2)[0]["time"] == "2026-03-02T15:00:00Z"


def test_same_id_from_another_source_is_not_a_duplicate() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z", source="jira"),
            ticket("e1", "2026-03-02T10:00:00Z", status="resolved", source="zendesk"),
        ],
    )
    assert r.stats is not None and r.stats.duplicates == 0
    assert len(r.of("sla.clock.stopped")) == 1


def test_duplicate_does_not_move_processing_time() -> None:
    r = run(
        FIRST_RESPONSE,
        [created("e1", "2026-03-02T09:00:00Z"), created("e1", "2026-03-02T12:00:00Z")],
    )
    assert r.of("sla.breached") == []


# rule 6


def test_late_reply_retracts_the_breach_and_stops_met() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            created("x", "2026-03-02T11:00:00Z", "T-9"),
            reply("e2", "2026-03-02T09:40:00Z"),
        ],
    )
    (breach,) = r.of("sla.breached", subject="ticket:T-1")
    (retraction,) = r.of("sla.retracted")
    assert retraction["retracts"] == breach["id"]
    assert retraction["reason"] == "late_event"
    assert retraction["time"] == "2026-03-02T11:00:00Z"
    assert retraction["cycle"] == 1 and retraction["sla"] == "gold"
    (stop,) = r.of("sla.clock.stopped")
    assert stop["outcome"] == "met" and stop["time"] == "2026-03-02T09:40:00Z"


def test_warning_that_moves_is_one_retraction_and_one_new_warning() -> None:
    defs = RESOLUTION.replace(
        "goals: [{target: 4h", "pause_while: {status: waiting}\n        goals: [{target: 4h"
    )
    r = run(
        defs,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            created("x", "2026-03-02T12:00:00Z", "T-9"),
            ticket("e2", "2026-03-02T10:00:00Z", status="waiting"),
            ticket("e3", "2026-03-02T10:30:00Z", status="open"),
        ],
        until="2026-03-02T12:00:00Z",
    )
    warnings = r.of("sla.warning")
    assert [w["time"] for w in warnings] == ["2026-03-02T11:00:00Z", "2026-03-02T11:30:00Z"]
    (retraction,) = r.of("sla.retracted")
    assert retraction["retracts"] == warnings[0]["id"]


def test_event_not_later_than_an_emitted_timer_output_is_late() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            created("x", "2026-03-02T11:00:00Z", "T-9"),
            reply("e2", "2026-03-02T10:00:00Z"),
        ],
    )
    assert len(r.of("sla.retracted")) == 1
    assert r.of("sla.clock.stopped")[0]["outcome"] == "met"


def test_late_event_that_changes_nothing_retracts_nothing() -> None:
    r = run(
        FIRST_RESPONSE,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e3", "2026-03-02T09:20:00Z", priority="P2"),
            ticket("e2", "2026-03-02T09:10:00Z", priority="P1"),
        ],
        until="2026-03-02T09:25:00Z",
    )
    assert r.stats is not None and r.stats.recomputed == 1
    assert r.of("sla.retracted") == []


# rule 6a


def test_late_event_after_retention_is_too_late() -> None:
    events = [
        created("e1", "2026-03-02T09:00:00Z"),
        reply("e2", "2026-03-02T09:10:00Z"),
        created("x", "2026-03-04T09:00:00Z", "T-9"),
        ticket("e3", "2026-03-02T09:05:00Z", priority="P1"),
    ]
    r = run(FIRST_RESPONSE, events, retention="1d")
    assert r.stats is not None and r.stats.too_late == 1
    assert r.stats.problems[0].line == 4
    r = run(FIRST_RESPONSE, events, retention="7d")
    assert r.stats is not None and r.stats.too_late == 0 and r.stats.recomputed == 1
