"""Rule 31: processing time, emission instants, same-instant stops, real-time delays."""

from __future__ import annotations

from slawatch.escalation import Planner
from slawatch.timeutil import SECOND
from tests.escalation.driving import drive
from tests.escalation.making import at, breached, catalog, doc, stopped
from tests.support.replaying import created, ticket, versions

CHAIN = """
steps:
  - when: {event: sla.breached}
    notify: ["person:manager"]
  - after: 30m
    notify: ["team:support"]
  - after: 10m
    notify: ["team:support"]
"""


def test_a_when_step_fires_at_the_emission_instant_of_its_event() -> None:
    p = Planner(catalog(doc(CHAIN)))
    (note,) = p.on_output(breached(at("10:00")), at("10:00") + 30 * SECOND)
    assert note.body["time"] == "2026-03-02T10:00:30Z"
    assert p.next_wakeup() == at("10:30") + 30 * SECOND


def test_due_fires_strictly_before_its_limit_and_in_time_order_through_cascades() -> None:
    p = Planner(catalog(doc(CHAIN)))
    p.on_output(breached(at("10:00")), at("10:00"))
    assert p.due(at("10:30")) == []
    notes = p.due(at("12:00"))
    assert [(n.step, n.body["time"]) for n in notes] == [
        (2, "2026-03-02T10:30:00Z"),
        (3, "2026-03-02T10:40:00Z"),
    ]
    assert p.next_wakeup() is None


def test_a_stop_on_event_at_the_instant_a_step_is_due_stops_it_first() -> None:
    p = Planner(catalog(doc(CHAIN)))
    p.on_output(breached(at("10:00")), at("10:00"))
    assert p.due(at("10:30")) == []
    p.on_output(stopped(at("10:30")), at("10:30"))
    assert p.due(at("12:00")) == []
    assert p.next_wakeup() is None


def test_after_delays_are_real_time_not_business_time() -> None:
    chain = CHAIN.replace("after: 30m", "after: 16h")
    p = Planner(catalog(doc(chain)))
    friday = at("2026-03-06T16:50:00Z")
    p.on_output(breached(friday), friday)
    assert p.next_wakeup() == at("2026-03-07T08:50:00Z")


def test_replay_with_lateness_notifies_at_the_breach_plus_lateness() -> None:
    definitions = doc(CHAIN)
    run = drive(
        versions((definitions, None)),
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T10:35:00Z", status="resolved"),
        ],
        until=at("12:00"),
        lateness=30 * SECOND,
    )
    notes = [(n["step"], n["time"]) for n in run.notifications if n["target"] == "resolution"]
    assert notes == [(1, "2026-03-02T10:00:30Z"), (2, "2026-03-02T10:30:30Z")]
