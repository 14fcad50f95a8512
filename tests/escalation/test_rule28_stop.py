"""Rules 28 and 28a: when an instance starts and stops, acknowledgements, retractions."""

from __future__ import annotations

from slawatch.escalation import Planner
from slawatch.outputs import OutputType
from tests.escalation.making import (
    ack,
    at,
    breached,
    brief,
    cancelled,
    catalog,
    doc,
    retraction,
    service_output,
    stopped,
    ticket_output,
    warning,
)

CHAIN = """
steps:
  - when: {event: sla.warning}
    notify: ["team:support"]
  - when: {event: sla.breached}
    notify: ["person:lead"]
  - after: 30m
    notify: ["person:manager"]
    repeat: {every: 30m, times: 3}
STOP_ON
"""


def chain(stop_on: str = "") -> str:
    return CHAIN.replace("STOP_ON", stop_on)


def test_an_instance_starts_only_with_an_event_that_fires_a_step() -> None:
    p = Planner(catalog(doc(chain())))
    assert p.on_output(ticket_output(OutputType.STARTED, at("09:00")), at("09:00")) == []
    assert p.on_output(stopped(at("09:10"), "met"), at("09:10")) == []
    assert p.running() == []
    p.on_output(warning(at("09:30"), 0.5, cycle=2), at("09:30"))
    (view,) = p.running()
    assert (view.cycle, view.started, view.escalation) == (2, at("09:30"), "main")


def test_by_default_the_clock_stopping_stops_it_and_it_fires_nothing_more() -> None:
    p = Planner(catalog(doc(chain())))
    p.on_output(breached(at("10:00")), at("10:00"))
    assert [n.repeat for n in p.due(at("11:01"))] == [0, 1]
    assert p.on_output(stopped(at("11:05")), at("11:05")) == []
    assert p.running() == []
    assert p.due(at("13:00")) == []
    assert p.next_wakeup() is None
    assert p.on_output(warning(at("11:10"), 0.5), at("11:10")) == []


def test_without_the_clock_in_stop_on_it_runs_on_until_the_cycle_is_cancelled() -> None:
    p = Planner(catalog(doc(chain("stop_on: [acknowledged]"))))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_output(stopped(at("10:10")), at("10:10"))
    assert [n.repeat for n in p.due(at("11:01"))] == [0, 1]
    p.on_output(cancelled(at("11:05")), at("11:05"))
    assert p.running() == []
    assert p.due(at("13:00")) == []


def test_a_step_fired_by_a_stop_on_event_fires_then_the_instance_stops() -> None:
    finale = """
    steps:
      - when: {event: sla.breached}
        notify: ["person:lead"]
      - when: {event: sla.clock.stopped, outcome: breached}
        notify: ["team:support"]
        repeat: {every: 10m, times: 2}
    """
    p = Planner(catalog(doc(finale)))
    p.on_output(breached(at("10:00")), at("10:00"))
    notes = p.on_output(stopped(at("10:20")), at("10:20"))
    assert brief(notes) == [("2026-03-02T10:20:00Z", 2, 0, "step", "email", "support@example.com")]
    assert p.running() == []
    assert p.due(at("12:00")) == []


def test_any_sla_event_type_in_stop_on_stops_it_but_a_retraction_changes_nothing() -> None:
    p = Planner(catalog(doc(chain("stop_on: [sla.breached, sla.retracted]"))))
    p.on_output(warning(at("09:30"), 0.5), at("09:30"))
    other = warning(at("09:20"), 0.5, target="response")
    p.on_output(retraction(other, at("09:40")), at("09:40"))
    assert len(p.running()) == 1
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    assert [n.step for n in notes] == [2, 2]
    assert p.running() == []


def test_the_close_of_its_window_stops_an_availability_instance() -> None:
    sre = """
    steps:
      - when: {event: sla.availability.breached}
        notify: ["person:lead"]
        repeat: {every: 1h, times: 5}
    stop_on: [acknowledged]
    """
    p = Planner(catalog(doc(sre)))
    p.on_output(service_output(OutputType.AVAILABILITY_BREACHED, at("10:00")), at("10:00"))
    assert len(p.due(at("11:01"))) == 2
    closed = service_output(
        OutputType.WINDOW_CLOSED, at("11:30"), outcome="breached", availability=0.99
    )
    p.on_output(closed, at("11:30"))
    assert p.running() == []
    assert p.due(at("20:00")) == []


def test_cycles_and_windows_escalate_independently() -> None:
    p = Planner(catalog(doc(chain())))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_output(breached(at("10:00"), cycle=2), at("10:00"))
    p.on_output(breached(at("10:00"), subject="ticket:T-2"), at("10:00"))
    p.on_output(stopped(at("10:10")), at("10:10"))
    assert [(v.subject, v.cycle) for v in p.running()] == [("ticket:T-1", 2), ("ticket:T-2", 1)]


# rule 28a


def test_an_acknowledgement_stops_the_running_instances_of_its_subject_it_matches() -> None:
    p = Planner(catalog(doc(chain())))
    for cycle in (1, 2):
        p.on_output(breached(at("10:00"), cycle=cycle), at("10:00"))
    p.on_output(breached(at("10:00"), target="response"), at("10:00"))
    p.on_output(breached(at("10:00"), subject="ticket:T-2"), at("10:00"))
    p.on_ack(ack(at("10:05"), cycle=2), at("10:05"))
    p.on_ack(ack(at("10:06"), target="response", sla="gold"), at("10:06"))
    p.on_ack(ack(at("10:07"), sla="other"), at("10:07"))
    assert [(v.subject, v.target, v.cycle) for v in p.running()] == [
        ("ticket:T-1", "resolution", 1),
        ("ticket:T-2", "resolution", 1),
    ]
    p.on_ack(ack(at("10:08"), by="person:duty", note="on it"), at("10:08"))
    assert [v.subject for v in p.running()] == ["ticket:T-2"]
    assert [n.subject for n in p.due(at("12:01"))] == ["ticket:T-2"] * 4


def test_an_acknowledgement_records_who_and_when() -> None:
    p = Planner(catalog(doc(chain())))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_ack(ack(at("10:02"), by="person:duty", note="on it", eid="a-7"), at("10:05"))
    (group,) = p.to_record()["groups"]
    stop = group["instances"][0]["stop"]
    assert stop == ["acknowledged", at("10:05"), "a-7", "person:duty", "on it"]


def test_an_acknowledgement_does_nothing_when_stop_on_leaves_it_out() -> None:
    p = Planner(catalog(doc(chain("stop_on: [sla.clock.stopped]"))))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_ack(ack(at("10:05")), at("10:05"))
    assert len(p.running()) == 1
    assert len(p.due(at("10:31"))) == 1


def test_an_empty_stop_on_leaves_only_cancellation_to_stop_the_instance() -> None:
    p = Planner(catalog(doc(chain("stop_on: []"))))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_ack(ack(at("10:05")), at("10:05"))
    p.on_output(stopped(at("10:10")), at("10:10"))
    assert len(p.running()) == 1
    p.on_output(cancelled(at("10:20")), at("10:20"))
    assert p.running() == []


def test_an_acknowledgement_with_a_cycle_never_matches_a_window() -> None:
    sre = """
    steps:
      - when: {event: sla.availability.warning}
        notify: ["person:lead"]
    """
    p = Planner(catalog(doc(sre)))
    warn = service_output(OutputType.AVAILABILITY_WARNING, at("10:00"), threshold=0.5)
    p.on_output(warn, at("10:00"))
    p.on_ack(ack(at("10:05"), "service:api", cycle=1), at("10:05"))
    assert len(p.running()) == 1
    p.on_ack(ack(at("10:06"), "service:api", target="availability"), at("10:06"))
    assert p.running() == []


def test_an_acknowledgement_before_anything_fired_changes_nothing() -> None:
    p = Planner(catalog(doc(chain())))
    p.on_ack(ack(at("09:50")), at("09:50"))
    assert len(p.on_output(breached(at("10:00")), at("10:00"))) == 2


# retraction


def test_a_retraction_stops_the_instance_and_tells_each_address_once_of_its_last_message() -> None:
    p = Planner(catalog(doc(chain())))
    warn = warning(at("09:30"), 0.5)
    breach = breached(at("10:00"))
    p.on_output(warn, at("09:30"))
    p.on_output(breach, at("10:00"))
    p.due(at("11:01"))
    notes = p.on_output(retraction(warn, at("11:10")), at("11:10"))
    assert sorted(
        (n.body["channel"], n.body["recipient"], n.step, n.repeat, n.body["cause"]) for n in notes
    ) == [
        ("chat", "@lead", 2, 0, breach.id),
        ("email", "lead@example.com", 2, 0, breach.id),
        ("email", "manager@example.com", 3, 1, breach.id),
        ("email", "support@example.com", 1, 0, warn.id),
    ]
    assert {n.body["notice"] for n in notes} == {"retraction"}
    assert {n.body["time"] for n in notes} == {"2026-03-02T11:10:00Z"}
    assert p.running() == []
    assert p.due(at("13:00")) == []


def test_after_a_retraction_a_later_event_of_the_cycle_starts_anew_from_step_one() -> None:
    p = Planner(catalog(doc(chain())))
    breach = breached(at("10:00"))
    p.on_output(breach, at("10:00"))
    p.on_output(retraction(breach, at("10:20")), at("10:20"))
    moved = breached(at("10:15"))
    notes = p.on_output(moved, at("10:20"))
    assert [(n.step, n.body["cause"]) for n in notes] == [(2, moved.id), (2, moved.id)]
    p.on_output(warning(at("10:25"), 0.9), at("10:25"))
    (view,) = p.running()
    assert [s.step for s in view.sent] == [2]


def test_on_outputs_feeds_retractions_first() -> None:
    p = Planner(catalog(doc(chain())))
    warn = warning(at("09:30"), 0.5)
    p.on_output(warn, at("09:30"))
    moved = warning(at("09:25"), 0.5)
    notes = p.on_outputs([moved, retraction(warn, at("09:40"))], at("09:40"))
    assert sorted((n.body["notice"], n.body["cause"]) for n in notes) == sorted(
        [("retraction", warn.id), ("step", moved.id)]
    )
    assert len(p.running()) == 1


def test_a_retraction_of_an_event_that_fired_no_step_changes_nothing() -> None:
    p = Planner(catalog(doc(chain())))
    breach = breached(at("10:00"))
    p.on_output(breach, at("10:00"))
    ignored = ticket_output(OutputType.GOAL_CHANGED, at("10:05"))
    p.on_output(ignored, at("10:05"))
    assert p.on_output(retraction(ignored, at("10:10")), at("10:10")) == []
    assert len(p.running()) == 1


def test_a_stopped_instance_whose_cause_is_retracted_still_tells_those_it_reached() -> None:
    p = Planner(catalog(doc(chain())))
    breach = breached(at("10:00"))
    p.on_output(breach, at("10:00"))
    p.on_ack(ack(at("10:05")), at("10:05"))
    notes = p.on_output(retraction(breach, at("10:20")), at("10:20"))
    assert brief(notes) == [
        ("2026-03-02T10:20:00Z", 2, 0, "retraction", "chat", "@lead"),
        ("2026-03-02T10:20:00Z", 2, 0, "retraction", "email", "lead@example.com"),
    ]
    assert p.on_output(retraction(breach, at("10:30")), at("10:30")) == []


def test_a_backfilled_retraction_still_stops_and_tells_those_reached() -> None:
    p = Planner(catalog(doc(chain())))
    breach = breached(at("10:00"))
    p.on_output(breach, at("10:00"))
    withdrawn = retraction(breach, at("10:20"))
    withdrawn.backfill = True
    assert len(p.on_output(withdrawn, at("10:20"))) == 2
    assert p.running() == []


def test_forget_drops_finished_cycles_only() -> None:
    p = Planner(catalog(doc(chain())))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_output(breached(at("10:00"), cycle=2), at("10:00"))
    p.on_output(stopped(at("10:10")), at("10:10"))
    assert p.forget(at("10:10")) == 0
    assert p.forget(at("10:11")) == 1
    assert [v.cycle for v in p.running()] == [2]
    assert len(p.to_record()["groups"]) == 1
