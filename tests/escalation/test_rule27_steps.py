"""Rule 27: which chain, `when:` filters, skipping, `after:`, `repeat`, backfill."""

from __future__ import annotations

from slawatch.escalation import Planner
from slawatch.outputs import OutputType
from slawatch.timeutil import MINUTE
from tests.escalation.driving import drive
from tests.escalation.making import (
    at,
    breached,
    brief,
    catalog,
    doc,
    service_output,
    stopped,
    ticket_output,
    warning,
)
from tests.support.replaying import created, ticket, versions

THREE = """
steps:
  - when: {event: sla.warning, at_least: 0.75}
    notify: ["team:support"]
  - when: {event: sla.breached}
    notify: ["person:manager"]
  - after: 30m
    notify: ["person:lead"]
"""


def test_at_least_compares_a_fraction_threshold_as_written() -> None:
    p = Planner(catalog(doc(THREE)))
    assert p.on_output(warning(at("09:30"), 0.5), at("09:30")) == []
    assert p.running() == []
    notes = p.on_output(warning(at("09:45"), 0.75), at("09:45"))
    assert brief(notes) == [("2026-03-02T09:45:00Z", 1, 0, "step", "email", "support@example.com")]


def test_at_least_compares_a_duration_point_as_a_fraction_of_the_goal_in_force() -> None:
    p = Planner(catalog(doc(THREE)))
    assert p.on_output(warning(at("09:40"), "20m", goal="1h"), at("09:40")) == []
    assert len(p.on_output(warning(at("09:45"), "15m", goal="1h"), at("09:45"))) == 1
    q = Planner(catalog(doc(THREE)))
    assert q.on_output(warning(at("09:45"), "15m", goal="30m"), at("09:45")) == []


def test_at_least_on_an_availability_warning_compares_the_budget_fraction() -> None:
    chain = """
    steps:
      - when: {event: sla.availability.warning, at_least: 0.6}
        notify: ["team:support"]
    """
    p = Planner(catalog(doc(chain)))
    half = service_output(
        OutputType.AVAILABILITY_WARNING, at("10:00"), threshold=0.5, budget_consumed=0.5
    )
    assert p.on_output(half, at("10:00")) == []
    late = service_output(
        OutputType.AVAILABILITY_WARNING, at("11:00"), threshold=0.9, budget_consumed=0.9
    )
    (note,) = p.on_output(late, at("11:00"))
    assert note.body["window_start"] == "2026-03-01T00:00:00Z"
    assert "cycle" not in note.body
    assert note.body["target"] == "availability"


def test_target_filter_takes_an_id_or_a_list() -> None:
    chain = """
    steps:
      - when: {event: sla.breached, target: resolution}
        notify: ["person:manager"]
      - when: {event: sla.clock.stopped, target: [response, resolution]}
        notify: ["person:lead"]
    """
    p = Planner(catalog(doc(chain)))
    assert p.on_output(breached(at("10:00"), target="response"), at("10:00")) == []
    assert len(p.on_output(breached(at("10:00")), at("10:00"))) == 1
    q = Planner(catalog(doc(chain)))
    assert len(q.on_output(stopped(at("10:00"), target="response"), at("10:00"))) == 2


def test_outcome_filter() -> None:
    chain = """
    steps:
      - when: {event: sla.clock.stopped, outcome: breached}
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    assert p.on_output(stopped(at("10:00"), "met"), at("10:00")) == []
    assert len(p.on_output(stopped(at("10:00"), "breached", cycle=2), at("10:00"))) == 1


def test_if_condition_sees_the_ticket_with_the_event_labels_over_it() -> None:
    chain = """
    steps:
      - when: {event: sla.breached, if: {priority: [P1, P2], attributes.vip: true}}
        notify: ["person:manager"]
    """
    ticket = {"ticket:T-1": ({"priority": "P3"}, {"vip": True})}
    p = Planner(catalog(doc(chain)), ticket=ticket.get)
    assert p.on_output(breached(at("10:00"), labels={"priority": "P4"}), at("10:00")) == []
    hit = breached(at("10:00"), subject="ticket:T-1", cycle=2, labels={"priority": "P1"})
    assert len(p.on_output(hit, at("10:00"))) == 1
    ticket["ticket:T-1"] = ({"priority": "P1"}, {"vip": False})
    miss = breached(at("10:00"), cycle=3, labels={"priority": "P1"})
    assert p.on_output(miss, at("10:00")) == []


def test_if_condition_reads_the_ticket_the_event_carries_before_the_current_one() -> None:
    chain = """
    steps:
      - when: {event: sla.breached, if: {customer_tier: gold}}
        notify: ["person:lead"]
      - when: {event: sla.breached, if: {customer_tier: silver}}
        notify: ["person:manager"]
    """
    current = {"ticket:T-1": ({"customer_tier": "gold"}, {})}
    p = Planner(catalog(doc(chain)), ticket=current.get)
    out = breached(at("10:00"))
    out.ticket = ({"customer_tier": "silver"}, {})
    notes = p.on_output(out, at("10:05"))
    assert {n.body["recipient"] for n in notes} == {"manager@example.com"}


IF_TIER = """
steps:
  - when: {event: sla.breached, if: {customer_tier: gold}}
    notify: ["person:lead"]
  - when: {event: sla.breached, if: {customer_tier: silver}}
    notify: ["person:manager"]
"""


def test_if_sees_the_ticket_at_the_breach_though_it_changed_before_the_breach_was_read() -> None:
    run = drive(
        versions((doc(IF_TIER), None)),
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="silver"),
            ticket("e2", "2026-03-02T10:02:00Z", customer_tier="gold"),
        ],
        until=at("12:00"),
        lateness=5 * MINUTE,
    )
    recipients = {n["recipient"] for n in run.notifications if n["target"] == "resolution"}
    assert recipients == {"manager@example.com"}


PAUSING = """
slas:
  - id: gold
    kind: customer
    escalation: tiers
    targets:
      - id: resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        pause_while: {status: waiting}
        goals: [{target: 1h, calendar: "24x7"}]
escalations:
  tiers:
    steps:
      - when: {event: sla.breached, if: {customer_tier: gold}}
        notify: ["person:lead"]
      - when: {event: sla.breached, if: {customer_tier: silver}}
        notify: ["person:manager"]
people:
  lead: {email: lead@example.com}
  manager: {email: manager@example.com}
channels:
  email: {type: smtp, host: smtp.example.com, port: 587, from: "slawatch@example.com"}
"""


def test_if_sees_the_ticket_at_a_recomputed_breach_not_as_it_is_now() -> None:
    run = drive(
        versions((PAUSING, None)),
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="silver"),
            ticket("e2", "2026-03-02T10:30:00Z", customer_tier="gold"),
            # Late: the 10:00 breach moves to 10:10 while the ticket was still silver.
            ticket("e3", "2026-03-02T09:10:00Z", status="waiting"),
            ticket("e4", "2026-03-02T09:20:00Z", status="open"),
        ],
        until=at("12:00"),
    )
    breaches = [
        o for o in run.outputs if o["type"] == "sla.breached" and o["target"] == "resolution"
    ]
    assert [b["time"] for b in breaches] == ["2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z"]
    late = [n for n in run.notifications if n["cause"] == breaches[1]["id"]]
    assert {n["recipient"] for n in late} == {"manager@example.com"}


def test_the_target_chain_overrides_the_sla_chain_and_no_chain_starts_nothing() -> None:
    p = Planner(catalog(doc(THREE)))
    notes = p.on_output(breached(at("10:00"), target="update"), at("10:00"))
    assert [n.body["escalation"] for n in notes] == ["side"]
    assert p.on_output(breached(at("10:00"), sla="plain"), at("10:00")) == []


def test_a_step_that_fires_skips_earlier_unfired_steps_for_good() -> None:
    p = Planner(catalog(doc(THREE)))
    assert [n.step for n in p.on_output(breached(at("10:00")), at("10:00"))] == [2]
    assert p.on_output(warning(at("10:10"), 0.9), at("10:10")) == []
    (view,) = p.running()
    assert view.waiting == ()
    assert [(d.step, d.time) for d in view.due] == [(3, at("10:30"))]


def test_after_fires_d_after_the_step_before_it_first_fired() -> None:
    p = Planner(catalog(doc(THREE)))
    p.on_output(warning(at("09:45"), 0.75), at("09:45"))
    p.on_output(breached(at("10:00")), at("10:07"))
    assert p.next_wakeup() == at("10:37")
    assert p.due(at("10:37")) == []
    assert brief(p.due(at("10:37") + 1)) == [
        ("2026-03-02T10:37:00Z", 3, 0, "step", "chat", "@lead"),
        ("2026-03-02T10:37:00Z", 3, 0, "step", "email", "lead@example.com"),
    ]


def test_after_never_fires_when_the_step_before_it_is_skipped_or_never_fires() -> None:
    chain = """
    steps:
      - when: {event: sla.warning}
        notify: ["team:support"]
      - after: 10m
        notify: ["person:lead"]
      - when: {event: sla.breached}
        notify: ["person:manager"]
      - after: 10m
        notify: ["person:lead"]
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(breached(at("10:00")), at("10:00"))
    assert [(d.step, d.time) for d in p.running()[0].due] == [(4, at("10:10"))]
    q = Planner(catalog(doc(chain)))
    q.on_output(warning(at("09:30"), 0.5), at("09:30"))
    q.on_output(breached(at("09:35")), at("09:35"))
    assert {n.step for n in q.due(at("12:00"))} == {4}
    assert [(s.step, s.time) for s in q.running()[0].sent] == [
        (1, at("09:30")),
        (3, at("09:35")),
        (4, at("09:45")),
    ]


def test_repeat_fires_times_more_every_every_after_the_first_firing() -> None:
    chain = """
    steps:
      - when: {event: sla.breached}
        notify: ["person:manager"]
        repeat: {every: 20m, times: 2}
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(breached(at("10:00")), at("10:00"))
    notes = p.due(at("12:00"))
    assert [(n.body["time"], n.repeat) for n in notes] == [
        ("2026-03-02T10:20:00Z", 1),
        ("2026-03-02T10:40:00Z", 2),
    ]
    assert p.next_wakeup() is None


def test_repeat_stops_when_a_later_step_fires() -> None:
    chain = """
    steps:
      - when: {event: sla.warning}
        notify: ["team:support"]
        repeat: {every: 10m, times: 5}
      - when: {event: sla.breached}
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(warning(at("09:30"), 0.5), at("09:30"))
    assert [n.repeat for n in p.due(at("09:55"))] == [1, 2]
    p.on_output(breached(at("09:55")), at("09:55"))
    assert p.due(at("12:00")) == []


def test_a_later_after_step_due_with_a_repeat_goes_first_and_ends_the_repeats() -> None:
    chain = """
    steps:
      - when: {event: sla.breached}
        notify: ["team:support"]
        repeat: {every: 10m, times: 5}
      - after: 30m
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(breached(at("10:00")), at("10:00"))
    notes = p.due(at("12:00"))
    assert [(n.body["time"], n.step, n.repeat) for n in notes] == [
        ("2026-03-02T10:10:00Z", 1, 1),
        ("2026-03-02T10:20:00Z", 1, 2),
        ("2026-03-02T10:30:00Z", 2, 0),
    ]


def test_every_step_an_event_matches_fires_in_order_and_each_step_fires_once() -> None:
    chain = """
    steps:
      - when: {event: sla.warning, at_least: 0.5}
        notify: ["team:support"]
      - when: {event: sla.warning, at_least: 0.75}
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    assert [n.step for n in p.on_output(warning(at("09:45"), 0.75), at("09:45"))] == [1, 2]
    assert p.on_output(warning(at("09:54"), 0.9), at("09:54")) == []


def test_backfill_events_fire_no_step_but_still_stop_instances() -> None:
    p = Planner(catalog(doc(THREE)))
    assert p.on_output(breached(at("10:00"), backfill=True), at("10:00")) == []
    assert p.running() == []
    assert len(p.on_output(breached(at("10:00"), cycle=2), at("10:00"))) == 1
    assert p.on_output(stopped(at("10:10"), cycle=2, backfill=True), at("10:10")) == []
    assert p.running() == []
    assert p.due(at("12:00")) == []


def test_a_backfilled_event_does_not_fire_a_step_of_a_running_instance() -> None:
    p = Planner(catalog(doc(THREE)))
    p.on_output(warning(at("09:45"), 0.75), at("09:45"))
    assert p.on_output(breached(at("10:00"), backfill=True), at("10:00")) == []
    (view,) = p.running()
    assert view.waiting == (2,)
    assert p.due(at("12:00")) == []


def test_a_step_can_wait_for_any_sla_event_type() -> None:
    chain = """
    steps:
      - when: {event: sla.clock.paused}
        notify: ["person:manager"]
    """
    p = Planner(catalog(doc(chain)))
    paused = ticket_output(OutputType.PAUSED, at("09:10"))
    assert [n.body["cause"] for n in p.on_output(paused, at("09:10"))] == [paused.id]


def test_a_target_whose_escalation_is_null_has_no_chain_not_its_slas() -> None:
    opted_out = doc("""
    steps:
      - when: {event: sla.breached}
        notify: ["person:manager"]
    """).replace(
        '        goals: [{target: 30m, calendar: "24x7"}]\n',
        '        goals: [{target: 30m, calendar: "24x7"}]\n        escalation: null\n',
        1,
    )
    p = Planner(catalog(opted_out))
    assert p.on_output(breached(at("10:00"), target="response", goal="30m"), at("10:00")) == []
    assert len(p.on_output(breached(at("10:00"), target="resolution"), at("10:00"))) == 1
