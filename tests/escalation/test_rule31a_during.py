"""Rule 31a: `during:` holds a notification until its calendar's next opening."""

from __future__ import annotations

from slawatch.escalation import Planner
from tests.escalation.driving import drive
from tests.escalation.making import ack, at, breached, brief, catalog, doc, stopped, warning
from tests.support.replaying import created, ticket, versions

HELD = """
steps:
  - when: {event: sla.breached}
    notify: ["person:manager"]
    during: office
  - after: 30m
    notify: ["team:support"]
"""
MONDAY_EVENING = at("20:00")
TUESDAY_OPENING = at("2026-03-03T09:00:00Z")


def test_a_notification_due_outside_working_time_is_held_until_the_next_opening() -> None:
    p = Planner(catalog(doc(HELD)))
    assert p.on_output(breached(MONDAY_EVENING), MONDAY_EVENING) == []
    (view,) = p.running()
    assert [(d.step, d.time, d.held) for d in view.due] == [(1, TUESDAY_OPENING, True)]
    assert p.next_wakeup() == TUESDAY_OPENING
    assert p.due(TUESDAY_OPENING) == []
    notes = p.due(TUESDAY_OPENING + 1)
    assert brief(notes) == [("2026-03-03T09:00:00Z", 1, 0, "step", "email", "manager@example.com")]


def test_inside_working_time_it_goes_at_once() -> None:
    p = Planner(catalog(doc(HELD)))
    assert len(p.on_output(breached(at("11:00")), at("11:00"))) == 1


def test_later_after_delays_count_from_the_actual_send() -> None:
    p = Planner(catalog(doc(HELD)))
    p.on_output(breached(MONDAY_EVENING), MONDAY_EVENING)
    notes = p.due(at("2026-03-03T12:00:00Z"))
    assert [(n.step, n.body["time"]) for n in notes] == [
        (1, "2026-03-03T09:00:00Z"),
        (2, "2026-03-03T09:30:00Z"),
    ]


def test_a_held_notification_is_dropped_when_the_instance_stops_first() -> None:
    p = Planner(catalog(doc(HELD)))
    p.on_output(breached(MONDAY_EVENING), MONDAY_EVENING)
    p.on_output(breached(MONDAY_EVENING, subject="ticket:T-2"), MONDAY_EVENING)
    tuesday_eight = at("2026-03-03T08:00:00Z")
    p.on_output(stopped(tuesday_eight), tuesday_eight)
    p.on_ack(ack(tuesday_eight, "ticket:T-2"), tuesday_eight)
    assert p.due(at("2026-03-04T00:00:00Z")) == []


def test_a_stop_at_the_opening_instant_stops_it_first() -> None:
    p = Planner(catalog(doc(HELD)))
    p.on_output(breached(MONDAY_EVENING), MONDAY_EVENING)
    assert p.due(TUESDAY_OPENING) == []
    p.on_output(stopped(TUESDAY_OPENING), TUESDAY_OPENING)
    assert p.due(TUESDAY_OPENING + 1) == []


def test_repeats_are_held_too_and_count_from_the_actual_send() -> None:
    chain = """
    steps:
      - when: {event: sla.breached}
        notify: ["person:manager"]
        repeat: {every: 4h, times: 3}
        during: office
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(breached(at("10:00")), at("10:00"))
    notes = p.due(at("2026-03-04T00:00:00Z"))
    assert [(n.repeat, n.body["time"]) for n in notes] == [
        (1, "2026-03-02T14:00:00Z"),
        (2, "2026-03-03T09:00:00Z"),
        (3, "2026-03-03T13:00:00Z"),
    ]


def test_a_held_notification_still_goes_when_a_later_step_fires_meanwhile() -> None:
    chain = """
    steps:
      - when: {event: sla.warning}
        notify: ["team:support"]
        during: office
        repeat: {every: 1h, times: 3}
      - when: {event: sla.breached}
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(warning(at("19:30"), 0.5), at("19:30"))
    assert len(p.on_output(breached(MONDAY_EVENING), MONDAY_EVENING)) == 1
    notes = p.due(at("2026-03-04T00:00:00Z"))
    assert [(n.step, n.repeat, n.body["time"]) for n in notes] == [(1, 0, "2026-03-03T09:00:00Z")]


def test_a_held_step_of_a_stop_on_event_is_dropped_with_its_instance() -> None:
    chain = """
    steps:
      - when: {event: sla.clock.stopped}
        notify: ["person:manager"]
        during: office
    """
    p = Planner(catalog(doc(chain)))
    assert p.on_output(stopped(MONDAY_EVENING), MONDAY_EVENING) == []
    assert p.running() == []
    assert p.due(at("2026-03-04T00:00:00Z")) == []


def test_replay_holds_a_night_breach_until_the_office_opens() -> None:
    definitions = doc(HELD)
    run = drive(
        versions((definitions, None)),
        [
            created("e1", "2026-03-02T19:00:00Z"),
            ticket("e2", "2026-03-03T09:10:00Z", status="resolved"),
        ],
        until=at("2026-03-03T12:00:00Z"),
    )
    resolution = [n for n in run.notifications if n["target"] == "resolution"]
    assert [(n["step"], n["time"]) for n in resolution] == [(1, "2026-03-03T09:00:00Z")]
