"""Rules 10-17: starting, stopping, pausing, business time, deadlines, warnings, breaches, goals."""

from __future__ import annotations

from tests.support.replaying import created, run, ticket


def sla(target: str, *, calendars: str = "") -> str:
    return f"""
{calendars}
slas:
  - id: gold
    kind: customer
    targets:
{target}
"""


RESOLUTION = sla(
    """
      - id: resolution
        start: [{event: created, if: {not: {status: [resolved, closed]}}},
                {event: status_entered, status: open, from: [resolved, closed]}]
        stop: [{event: status_entered, status: [resolved, closed]}]
        pause_while: {status: [waiting]}
        goals:
          - {when: {priority: P1}, target: 1h, calendar: "24x7"}
          - {when: {priority: P2}, target: 2h, calendar: office}
          - {target: 4h, calendar: "24x7"}
        warn_at: [0.5, 0.75, 30m]
""",
    calendars="""
calendars:
  office:
    timezone: UTC
    week: {mon-fri: ["09:00-17:00"]}
""",
)


# rule 10


def test_start_paused_is_started_then_paused_at_the_same_time() -> None:
    r = run(RESOLUTION, [created("e1", "2026-03-02T09:00:00Z", status="waiting")])
    outs = r.outputs
    assert [o["type"] for o in outs] == ["sla.clock.started", "sla.clock.paused"]
    assert outs[0]["time"] == outs[1]["time"] == "2026-03-02T09:00:00Z"
    assert outs[1]["deadline"] is None


def test_cycles_are_numbered_and_a_start_with_an_open_clock_does_nothing() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:10:00Z", status="open"),
            ticket("e3", "2026-03-02T09:20:00Z", status="resolved"),
            ticket("e4", "2026-03-02T09:30:00Z", status="open"),
            ticket("e5", "2026-03-02T09:40:00Z", status="closed"),
            ticket("e6", "2026-03-02T09:50:00Z", status="open"),
        ],
    )
    assert [o["cycle"] for o in r.of("sla.clock.started")] == [1, 2, 3]
    assert [o["cycle"] for o in r.of("sla.clock.stopped")] == [1, 2]


def test_cycle_numbers_count_cancelled_cycles() -> None:
    defs = RESOLUTION.replace("kind: customer", "kind: customer\n    applies_to: {region: eu}")
    r = run(
        defs,
        [
            created("e1", "2026-03-02T09:00:00Z", region="eu"),
            ticket("e2", "2026-03-02T09:10:00Z", region="us"),
            ticket("e3", "2026-03-02T09:20:00Z", region="eu", status="resolved"),
            ticket("e4", "2026-03-02T09:30:00Z", status="open"),
        ],
    )
    assert [o["cycle"] for o in r.of("sla.clock.started")] == [1, 2]


def test_guarded_created_trigger_keeps_a_resolved_ticket_from_starting() -> None:
    r = run(RESOLUTION, [created("e1", "2026-03-02T09:00:00Z", status="resolved")])
    assert r.outputs == []


def test_update_for_unseen_ticket_counts_fields_as_changed_from_null_but_not_created() -> None:
    r = run(RESOLUTION, [ticket("e1", "2026-03-02T09:00:00Z", status="open")])
    assert r.outputs == []
    r = run(
        RESOLUTION.replace("from: [resolved, closed]", "from: [null, resolved, closed]"),
        [ticket("e1", "2026-03-02T09:00:00Z", status="open")],
    )
    assert len(r.of("sla.clock.started")) == 1


def test_second_created_is_an_update() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:10:00Z", status="resolved"),
            created("e3", "2026-03-02T09:20:00Z", status="resolved"),
        ],
    )
    assert len(r.of("sla.clock.started")) == 1


# rule 10a / 11


GROUP_CLOCK = sla(
    """
      - id: per_group
        start: [{event: field_changed, field: assignee_group}]
        stop: [{event: field_changed, field: assignee_group}]
        goals:
          - {when: {priority: P1}, target: 1h, calendar: "24x7"}
          - {target: 4h, calendar: "24x7"}
"""
)


def test_one_event_can_end_a_cycle_and_begin_the_next() -> None:
    r = run(
        GROUP_CLOCK,
        [
            created("e1", "2026-03-02T09:00:00Z", assignee_group="l1"),
            ticket("e2", "2026-03-02T09:30:00Z", assignee_group="l2", priority="P1"),
        ],
    )
    (stop,) = r.of("sla.clock.stopped")
    assert stop["cycle"] == 1 and stop["goal_seconds"] == 14400
    assert [o["cycle"] for o in r.of("sla.clock.started")] == [1, 2]
    assert r.of("sla.clock.started", cycle=2)[0]["goal_seconds"] == 3600
    assert r.of("sla.goal.changed") == []


def test_stop_trigger_without_open_clock_does_nothing() -> None:
    r = run(RESOLUTION, [ticket("e1", "2026-03-02T09:00:00Z", status="resolved")])
    assert r.outputs == []


def test_stop_at_next_opening_after_a_17h_deadline_is_breached() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T15:00:00Z", priority="P2"),
            ticket("e2", "2026-03-03T09:00:00Z", status="resolved"),
        ],
    )
    assert r.of("sla.breached")[0]["time"] == "2026-03-02T17:00:00Z"
    (stop,) = r.of("sla.clock.stopped")
    assert stop["outcome"] == "breached"
    assert stop["elapsed_seconds"] == 7200
    assert stop["deadline"] == "2026-03-02T17:00:00Z"


def test_clock_keeps_accruing_after_breach() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z", priority="P1"),
            ticket("e2", "2026-03-02T12:30:00Z", status="resolved"),
        ],
    )
    (stop,) = r.of("sla.clock.stopped")
    assert stop["elapsed_seconds"] == 3.5 * 3600


# rule 12


def test_paused_time_never_counts_and_moves_the_deadline() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:00:00Z", status="waiting"),
            ticket("e3", "2026-03-02T11:00:00Z", status="open"),
            ticket("e4", "2026-03-02T12:00:00Z", status="waiting"),
            ticket("e5", "2026-03-02T13:00:00Z", status="resolved"),
        ],
    )
    (stop,) = r.of("sla.clock.stopped")
    assert stop["elapsed_seconds"] == 2 * 3600
    (resumed,) = r.of("sla.clock.resumed")
    assert resumed["deadline"] == "2026-03-02T14:00:00Z"
    assert [o["elapsed_seconds"] for o in r.of("sla.clock.paused")] == [3600, 7200]


def test_resolving_a_paused_clock_stops_it() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:30:00Z", status="waiting"),
            ticket("e3", "2026-03-02T20:00:00Z", status="resolved"),
        ],
    )
    (stop,) = r.of("sla.clock.stopped")
    assert stop["outcome"] == "met" and stop["elapsed_seconds"] == 1800


# rules 13 and 14


DST = sla(
    """
      - id: resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 8h, calendar: berlin}]
""",
    calendars="""
calendars:
  berlin:
    timezone: Europe/Berlin
    week: {mon-sun: ["00:00-24:00"]}
""",
)


def test_whole_day_on_spring_forward_day_lasts_23_hours() -> None:
    r = run(
        DST.replace("target: 8h", "target: 1d"),
        [created("e1", "2026-03-28T23:00:00Z")],
        until="2026-03-31T00:00:00Z",
    )
    assert r.of("sla.breached")[0]["time"] == "2026-03-29T23:00:00Z"


def test_goal_reached_at_interval_end_has_deadline_at_that_end() -> None:
    r = run(
        RESOLUTION,
        [created("e1", "2026-03-02T15:00:00Z", priority="P2")],
        until="2026-03-04T00:00:00Z",
    )
    (breach,) = r.of("sla.breached")
    assert breach["deadline"] == "2026-03-02T17:00:00Z"


def test_business_time_skips_nights_and_weekends() -> None:
    r = run(
        RESOLUTION,
        [created("e1", "2026-03-06T16:00:00Z", priority="P2")],
        until="2026-03-10T00:00:00Z",
    )
    assert r.of("sla.clock.started")[0]["deadline"] == "2026-03-09T10:00:00Z"
    assert r.of("sla.breached")[0]["time"] == "2026-03-09T10:00:00Z"


# rule 15


def test_fraction_and_duration_warnings_with_remaining_seconds() -> None:
    r = run(RESOLUTION, [created("e1", "2026-03-02T09:00:00Z")], until="2026-03-02T14:00:00Z")
    warnings = r.of("sla.warning")
    assert [(w["threshold"], w["time"], w["remaining_seconds"]) for w in warnings] == [
        (0.5, "2026-03-02T11:00:00Z", 7200),
        (0.75, "2026-03-02T12:00:00Z", 3600),
        ("30m", "2026-03-02T12:30:00Z", 1800),
    ]


def test_duration_point_at_or_below_zero_is_ignored() -> None:
    defs = RESOLUTION.replace("warn_at: [0.5, 0.75, 30m]", "warn_at: [1h, 2h]")
    r = run(
        defs, [created("e1", "2026-03-02T09:00:00Z", priority="P1")], until="2026-03-02T11:00:00Z"
    )
    assert r.of("sla.warning") == []
    assert len(r.of("sla.breached")) == 1


def test_fraction_wins_when_it_falls_with_a_duration_point() -> None:
    defs = RESOLUTION.replace("warn_at: [0.5, 0.75, 30m]", "warn_at: [30m, 0.5]")
    r = run(
        defs, [created("e1", "2026-03-02T09:00:00Z", priority="P1")], until="2026-03-02T11:00:00Z"
    )
    (warning,) = r.of("sla.warning")
    assert warning["threshold"] == 0.5 and warning["time"] == "2026-03-02T09:30:00Z"


def test_paused_clock_does_not_warn() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:00:00Z", status="waiting"),
        ],
        until="2026-03-03T00:00:00Z",
    )
    assert r.of("sla.warning") == []
    assert r.of("sla.breached") == []


def test_warning_id_is_the_contract_uuid5() -> None:
    import uuid

    r = run(RESOLUTION, [created("e1", "2026-03-02T09:00:00Z")], until="2026-03-02T11:00:00Z")
    (warning,) = r.of("sla.warning")
    key = "slawatch:sla.warning|ticket:T-1|gold|resolution|1|2026-03-02T11:00:00Z|0.5"
    assert warning["id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, key))


# rule 16


def test_breach_once_and_final_even_when_the_goal_is_raised() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z", priority="P1"),
            ticket("e2", "2026-03-02T10:30:00Z", priority="P3"),
            ticket("e3", "2026-03-02T14:00:00Z", status="resolved"),
        ],
    )
    (breach,) = r.of("sla.breached")
    assert breach["time"] == "2026-03-02T10:00:00Z"
    (change,) = r.of("sla.goal.changed")
    assert change["deadline"] == "2026-03-02T10:00:00Z"
    assert r.of("sla.clock.stopped")[0]["outcome"] == "breached"
    assert r.of("sla.warning", time="2026-03-02T10:30:00Z") == []


# rule 17


def test_priority_raised_past_the_goal_breaches_at_once_with_past_deadline() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:30:00Z", priority="P1"),
        ],
        until="2026-03-02T12:00:00Z",
    )
    (change,) = r.of("sla.goal.changed")
    assert (change["previous_goal_seconds"], change["goal_seconds"]) == (14400, 3600)
    assert change["deadline"] == "2026-03-02T10:00:00Z", "the past instant, as the breach's"
    (breach,) = r.of("sla.breached")
    assert (breach["time"], breach["deadline"]) == ("2026-03-02T10:30:00Z", "2026-03-02T10:00:00Z")
    assert r.of("sla.warning") == []


def test_goal_change_onto_a_business_calendar_past_its_goal_writes_the_past_deadline() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z", priority="P3"),
            ticket("e2", "2026-03-02T10:00:00Z", status="waiting"),
            ticket("e3", "2026-03-02T10:30:00Z", status="open"),
            ticket("e4", "2026-03-02T12:00:00Z", priority="P2"),
        ],
        until="2026-03-03T12:00:00Z",
    )
    # 2h30m run by 12:00 (under the 4h goal); the 2h office goal was reached at 11:30.
    (change,) = r.of("sla.goal.changed")
    assert (change["time"], change["elapsed_seconds"]) == ("2026-03-02T12:00:00Z", 9000)
    assert change["deadline"] == "2026-03-02T11:30:00Z"
    (breach,) = r.of("sla.breached")
    assert (breach["time"], breach["deadline"]) == ("2026-03-02T12:00:00Z", "2026-03-02T11:30:00Z")


def test_goal_change_emits_only_the_crossed_point_nearest_the_goal() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:50:00Z", priority="P1"),
        ],
        until="2026-03-02T09:55:00Z",
    )
    (warning,) = r.of("sla.warning")
    assert warning["threshold"] == 0.75
    assert warning["time"] == "2026-03-02T09:50:00Z"
    assert warning["remaining_seconds"] == 600
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:50:00Z", priority="P1"),
        ],
        until="2026-03-02T10:30:00Z",
    )
    assert [w["threshold"] for w in r.of("sla.warning")] == [0.75]
    assert r.of("sla.breached")[0]["time"] == "2026-03-02T10:00:00Z"


def test_goal_change_recomputes_elapsed_under_the_new_calendar() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T07:00:00Z"),
            ticket("e2", "2026-03-02T10:00:00Z", priority="P2"),
        ],
        until="2026-03-02T12:00:00Z",
    )
    (change,) = r.of("sla.goal.changed")
    assert change["elapsed_seconds"] == 3600
    assert change["calendar"] == "office" and change["previous_calendar"] == "24x7"
    assert change["deadline"] == "2026-03-02T11:00:00Z"
    assert [w["threshold"] for w in r.of("sla.warning")] == [0.5, 0.75]
    assert r.of("sla.warning")[1]["time"] == "2026-03-02T10:30:00Z"


def test_goal_change_of_a_paused_clock_can_breach() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:30:00Z", status="waiting"),
            ticket("e3", "2026-03-02T11:00:00Z", priority="P1"),
        ],
        until="2026-03-02T12:00:00Z",
    )
    (breach,) = r.of("sla.breached")
    assert breach["time"] == "2026-03-02T11:00:00Z"
    assert breach["deadline"] == "2026-03-02T10:00:00Z"
    (change,) = r.of("sla.goal.changed")
    assert change["deadline"] == "2026-03-02T10:00:00Z", "breached by the change, though paused"


def test_goal_change_does_not_reprice_a_cycle_stopped_by_the_same_event() -> None:
    r = run(
        RESOLUTION,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:30:00Z", priority="P1", status="resolved"),
        ],
    )
    assert r.of("sla.goal.changed") == []
    (stop,) = r.of("sla.clock.stopped")
    assert stop["outcome"] == "met" and stop["goal_seconds"] == 14400
