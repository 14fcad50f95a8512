"""Rule 18 for chains: a running instance keeps the steps it started with."""

from __future__ import annotations

from slawatch.escalation import Planner
from tests.escalation.driving import drive
from tests.escalation.making import at, breached, catalog, doc, stopped
from tests.support.replaying import created, ticket, versions

FIRST = """
steps:
  - when: {event: sla.breached}
    notify: ["person:manager"]
  - after: 30m
    notify: ["team:support"]
"""
SECOND = """
steps:
  - when: {event: sla.breached}
    notify: ["team:support"]
stop_on: [acknowledged]
"""
SINCE = "2026-03-02T09:30:00Z"


def test_the_chain_comes_from_the_version_the_cycle_runs_under() -> None:
    p = Planner(catalog(doc(FIRST), (doc(SECOND), SINCE)))
    old = p.on_output(breached(at("10:00"), version=1), at("10:00"))
    new = p.on_output(breached(at("10:00"), cycle=2, version=2), at("10:00"))
    assert [n.body["recipient"] for n in old] == ["manager@example.com"]
    assert [n.body["recipient"] for n in new] == ["support@example.com"]
    assert [(v.cycle, v.definitions_version) for v in p.running()] == [(1, 1), (2, 2)]


def test_a_running_instance_keeps_its_frozen_steps_and_stop_on() -> None:
    p = Planner(catalog(doc(FIRST), (doc(SECOND), SINCE)))
    p.on_output(breached(at("10:00"), version=1), at("10:00"))
    assert [n.body["recipient"] for n in p.due(at("10:31"))] == ["support@example.com"]
    p.on_output(stopped(at("10:40"), version=2), at("10:40"))
    assert p.running() == []


def test_in_replay_a_cycle_started_before_a_new_version_escalates_on_the_old_chain() -> None:
    vs = versions((doc(FIRST), None), (doc(SECOND), SINCE))
    run = drive(
        vs,
        [
            created("e1", "2026-03-02T09:00:00Z", "T-1"),
            created("e2", "2026-03-02T09:40:00Z", "T-2"),
            ticket("e3", "2026-03-02T12:00:00Z", "T-1", status="resolved"),
            ticket("e4", "2026-03-02T12:00:00Z", "T-2", status="resolved"),
        ],
        until=at("12:30"),
    )
    resolution = [n for n in run.notifications if n["target"] == "resolution"]
    assert [(n["subject"], n["step"], n["recipient"], n["time"]) for n in resolution] == [
        ("ticket:T-1", 1, "manager@example.com", "2026-03-02T10:00:00Z"),
        ("ticket:T-1", 2, "support@example.com", "2026-03-02T10:30:00Z"),
        ("ticket:T-2", 1, "support@example.com", "2026-03-02T10:40:00Z"),
    ]
    assert [v.subject for v in run.planner.running() if v.target == "resolution"] == ["ticket:T-2"]
