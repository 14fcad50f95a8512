"""Rule 29: every target on every address, teams as teams, role:assignee, no_address."""

from __future__ import annotations

from typing import Any

from slawatch.escalation import Planner
from slawatch.escalation.recipients import addresses
from tests.escalation.making import at, breached, brief, catalog, doc


def one_step(notify: str, extra: str = "") -> str:
    return f"""
    steps:
      - when: {{event: sla.breached}}
        notify: {notify}
      {extra}
    """


def test_each_target_is_notified_on_each_address_through_the_channel_of_its_name() -> None:
    p = Planner(catalog(doc(one_step('["person:lead", "person:manager"]'))))
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    assert [(n.notify_index, n.channel, n.body["recipient"]) for n in notes] == [
        (0, "chat", "@lead"),
        (0, "email", "lead@example.com"),
        (1, "email", "manager@example.com"),
    ]
    assert {n.body["status"] for n in notes} == {"simulated"}


def test_a_team_is_notified_on_its_own_addresses_not_member_by_member() -> None:
    p = Planner(catalog(doc(one_step('["team:support"]'))))
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    assert brief(notes) == [("2026-03-02T10:00:00Z", 1, 0, "step", "email", "support@example.com")]


def test_one_address_reached_through_two_targets_is_notified_once() -> None:
    people = "twin: {email: support@example.com}"
    p = Planner(catalog(doc(one_step('["team:support", "person:twin"]'), people=people)))
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    assert [n.body["recipient"] for n in notes] == ["support@example.com"]


def test_role_assignee_resolves_the_ticket_assignee_when_the_step_fires() -> None:
    chain = """
    steps:
      - when: {event: sla.breached}
        notify: ["role:assignee"]
      - after: 30m
        notify: ["role:assignee"]
    """
    ticket: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "ticket:T-1": ({"assignee": "manager"}, {})
    }
    p = Planner(catalog(doc(chain)), ticket=ticket.get)
    first = p.on_output(breached(at("10:00")), at("10:00"))
    assert [n.body["recipient"] for n in first] == ["manager@example.com"]
    ticket["ticket:T-1"] = ({"assignee": "lead"}, {})
    later = p.due(at("11:00"))
    assert [n.body["recipient"] for n in later] == ["@lead", "lead@example.com"]


def test_the_subjects_of_steps_about_to_fire_are_known_before_they_fire() -> None:
    chain = """
    steps:
      - when: {event: sla.breached}
        notify: ["role:assignee"]
      - after: 30m
        notify: ["role:assignee"]
    """
    p = Planner(catalog(doc(chain)))
    p.on_output(breached(at("10:00")), at("10:00"))
    p.on_output(breached(at("10:10"), subject="ticket:T-2"), at("10:10"))
    assert p.due_subjects(at("10:30")) == set()
    assert p.due_subjects(at("10:31")) == {"ticket:T-1"}
    assert p.due_subjects(at("11:00")) == {"ticket:T-1", "ticket:T-2"}
    assert p.due_subjects(at("11:00")) == {"ticket:T-1", "ticket:T-2"}  # nothing fired
    assert len(p.due(at("11:00"))) == 2
    assert p.due_subjects(at("11:00")) == set()


def test_a_target_with_no_address_is_reported_failed_never_dropped() -> None:
    p = Planner(catalog(doc(one_step('["person:ghost", "person:manager"]'))))
    ghost, manager = p.on_output(breached(at("10:00")), at("10:00"))
    assert ghost.channel is None
    assert ghost.body["channel"] is None and ghost.body["recipient"] is None
    assert ghost.body["status"] == "failed"
    assert ghost.body["error"] == "no_address"
    assert list(ghost.body)[-3:] == ["status", "error", "unresolved"]
    assert ghost.body["unresolved"] == ["person:ghost"]
    assert manager.body["status"] == "simulated" and "error" not in manager.body
    assert "unresolved" not in manager.body


def test_every_target_with_no_address_is_named_in_the_steps_one_failed_record() -> None:
    tickets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "ticket:T-1": ({"assignee": "nobody-we-know"}, {}),
    }
    notify = '["role:assignee", "person:ghost", "person:manager", "person:nemo"]'
    p = Planner(catalog(doc(one_step(notify), people="nemo: {}")), ticket=tickets.get)
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    failed = [n.body for n in notes if n.body["status"] == "failed"]
    assert len(failed) == 1, "one rule-30 key: null channel and recipient"
    assert failed[0]["unresolved"] == ["role:assignee", "person:ghost", "person:nemo"]
    assert [n.body["recipient"] for n in notes if n.body["status"] != "failed"] == [
        "manager@example.com"
    ]


def test_a_person_named_by_an_email_address_is_found_as_the_assignee() -> None:
    """Help desks often record the assignee as an email address; people may be named so."""
    tickets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "ticket:T-1": ({"assignee": "ann.lee+oncall@example.com"}, {})
    }
    named = doc(
        one_step('["role:assignee"]'),
        people='"ann.lee+oncall@example.com": {email: ann@example.com}',
    )
    p = Planner(catalog(named), ticket=tickets.get)
    [note] = p.on_output(breached(at("10:00")), at("10:00"))
    assert note.body["recipient"] == "ann@example.com"


def test_role_assignee_without_a_known_assignee_is_no_address() -> None:
    tickets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "ticket:T-1": ({"assignee": None}, {}),
        "ticket:T-2": ({"assignee": "nobody-we-know"}, {}),
    }
    p = Planner(catalog(doc(one_step('["role:assignee"]'))), ticket=tickets.get)
    for subject in ("ticket:T-1", "ticket:T-2", "ticket:T-3"):
        (note,) = p.on_output(breached(at("10:00"), subject=subject), at("10:00"))
        assert (note.body["status"], note.body["error"]) == ("failed", "no_address")


def test_no_address_is_reported_in_the_service_too_whatever_its_status() -> None:
    p = Planner(catalog(doc(one_step('["person:ghost", "person:lead"]'))), status="pending")
    notes = p.on_output(breached(at("10:00")), at("10:00"))
    assert [n.body["status"] for n in notes] == ["failed", "pending", "pending"]


def test_people_teams_and_channels_are_read_from_the_newest_version() -> None:
    first = doc(one_step('["person:lead"]'))
    newer = first.replace("lead@example.com", "lead@new.example.com").replace('chat: "@lead"', "")
    c = catalog(first, (newer, "2026-03-03T00:00:00Z"))
    p = Planner(c)
    notes = p.on_output(breached(at("10:00"), version=1), at("10:00"))
    assert [n.body["recipient"] for n in notes] == ["lead@new.example.com"]


def test_addresses_of_an_unknown_entry_are_empty() -> None:
    definitions = catalog(doc(one_step('["person:lead"]'))).latest.definitions
    assert addresses("person:nobody", definitions, None) == ()
    assert addresses("team:nobody", definitions, None) == ()
    assert addresses("role:assignee", definitions, None) == ()
    assert addresses("role:assignee", definitions, "manager") == (("email", "manager@example.com"),)
