"""Rule 30: one notification per key, the key's cause, and the record's id and order."""

from __future__ import annotations

import uuid

from slawatch.escalation import NOTIFICATION_RANK, Notification, Planner, notification_id
from slawatch.outputs import Output, OutputType
from tests.escalation.making import (
    at,
    breached,
    catalog,
    doc,
    retraction,
    ticket_output,
    warning,
)

CHAIN = """
steps:
  - when: {event: sla.warning}
    notify: ["person:manager"]
    repeat: {every: 10m, times: 1}
  - after: 30m
    notify: ["person:ghost"]
    repeat: {every: 10m, times: 1}
  - after: 15m
    notify: ["person:manager"]
"""


def test_the_id_is_the_uuid5_of_the_notification_key() -> None:
    name = "slawatch:notification|abc|2|1|step|email|lead@example.com"
    assert notification_id("abc", 2, 1, "step", "email", "lead@example.com") == str(
        uuid.uuid5(uuid.NAMESPACE_URL, name)
    )
    empty = "slawatch:notification|abc|1|0|step||"
    assert notification_id("abc", 1, 0, "step", None, None) == str(
        uuid.uuid5(uuid.NAMESPACE_URL, empty)
    )


def test_repeats_and_after_steps_carry_the_cause_of_the_first_firing_before_them() -> None:
    p = Planner(catalog(doc(CHAIN)))
    warn = warning(at("09:30"), 0.5)
    notes = p.on_output(warn, at("09:30")) + p.due(at("12:00"))
    assert [(n.step, n.repeat, n.channel) for n in notes] == [
        (1, 0, "email"),
        (1, 1, "email"),
        (2, 0, None),
        (2, 1, None),
        (3, 0, "email"),
    ]
    assert {n.body["cause"] for n in notes} == {warn.id}
    for n in notes:
        b = n.body
        assert n.id == notification_id(
            warn.id, b["step"], b["repeat"], b["notice"], b["channel"], b["recipient"]
        )


def test_the_same_event_fed_twice_is_notified_once() -> None:
    p = Planner(catalog(doc(CHAIN)))
    warn = warning(at("09:30"), 0.5)
    assert len(p.on_output(warn, at("09:30"))) == 1
    assert p.on_output(warn, at("09:31")) == []


def test_an_event_re_emitted_after_its_retraction_does_not_notify_the_same_key_again() -> None:
    p = Planner(catalog(doc(CHAIN)))
    warn = warning(at("09:30"), 0.5)
    p.on_output(warn, at("09:30"))
    assert len(p.on_output(retraction(warn, at("09:35")), at("09:35"))) == 1
    assert p.on_output(warn, at("09:36")) == []
    assert len(p.running()) == 1
    assert [n.repeat for n in p.due(at("09:47"))] == [1]


def test_notifications_sort_after_every_sla_output_of_their_instant_and_cycle() -> None:
    p = Planner(catalog(doc(CHAIN)))
    warn = warning(at("09:30"), 0.5)
    (note,) = p.on_output(warn, at("09:30"))
    same = [ticket_output(kind, at("09:30")) for kind in OutputType]
    items: list[Output | Notification] = [note, *same]
    items.sort(key=lambda x: x.sort_key())
    assert items[-1] is note
    assert max(o.sort_key()[4] for o in same) < NOTIFICATION_RANK
    later_cycle = ticket_output(OutputType.RETRACTED, at("09:30"), cycle=2)
    assert note.sort_key() < later_cycle.sort_key()
    assert breached(at("09:31")).sort_key() > note.sort_key()


def test_the_record_keys_are_in_the_contract_order() -> None:
    p = Planner(catalog(doc(CHAIN)))
    (note,) = p.on_output(warning(at("09:30"), 0.5), at("09:30"))
    assert list(note.body) == [
        "id",
        "type",
        "time",
        "escalation",
        "step",
        "repeat",
        "notice",
        "channel",
        "recipient",
        "cause",
        "subject",
        "sla",
        "target",
        "cycle",
        "status",
    ]
    assert note.to_json().startswith(b'{"id":"')
    sent = note.with_status("sent")
    assert sent.body["status"] == "sent" and note.body["status"] == "simulated"
    failed = note.with_status("failed", "timeout")
    assert list(failed.body)[-2:] == ["status", "error"]
    assert failed.key == note.key
