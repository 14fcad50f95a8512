"""The ticket headers on ``sla-events``: ``if:`` reads the ticket at the event's time,
``role:assignee`` the latest (rules 27 and 29), from the evaluator's batch to the
notifier's decisions."""

from __future__ import annotations

import orjson

from slawatch.bus import Record
from slawatch.bus.headers import TICKET_AT_EVENT_HEADER, TICKET_HEADER, decode_ticket
from slawatch.clock.catalog import Catalog
from slawatch.definitions.model import DefinitionsVersion
from slawatch.settings import Settings
from slawatch.store.common import Claim
from slawatch.timeutil import parse_time
from slawatch_evaluator.partition import Batch, PartitionWorker
from slawatch_notifier.partition import NotifierPartition
from tests.support.pipeline import canonical
from tests.support.replaying import versions

DEFINITIONS = """
slas:
  - id: gold
    kind: customer
    escalation: tiers
    targets:
      - id: response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 1h, calendar: "24x7"}]
escalations:
  tiers:
    steps:
      - when: {event: sla.breached, if: {customer_tier: silver}}
        notify: ["role:assignee"]
      - when: {event: sla.breached, if: {customer_tier: gold}}
        notify: ["person:director"]
people:
  lead: {email: lead@example.com}
  manager: {email: manager@example.com}
  director: {email: director@example.com}
channels:
  email: {type: smtp, host: smtp.example.com, port: 587, from: "slawatch@example.com"}
"""
NOW = parse_time("2026-03-02T10:03:00Z")
VERSIONS = versions((DEFINITIONS, None))


def ticket_event(eid: str, kind: str, time: str, **fields: object) -> bytes:
    return orjson.dumps({"id": eid, "type": kind, "time": time, "ticket": {"id": "T-1", **fields}})


def evaluate(*raw: bytes, definitions: list[DefinitionsVersion] = VERSIONS) -> Batch:
    worker = PartitionWorker(
        Claim("canonical", 0, 1, 0), definitions, lateness=0, retention=Settings().retention
    )
    records = [
        Record("canonical", 0, n, key, value) for n, (key, value) in enumerate(canonical(raw, NOW))
    ]
    return worker.process(records, NOW)


REASSIGNED_AFTER_ITS_BREACH = (
    ticket_event("e1", "ticket.created", "2026-03-02T09:00:00Z", status="open",
                 customer_tier="silver", assignee="lead"),
    ticket_event("e2", "ticket.updated", "2026-03-02T10:02:00Z", customer_tier="gold",
                 assignee="manager"),
)  # fmt: skip
"""A silver ticket that breaches at 10:00, then turns gold and moves to another assignee
in an event read in the same batch."""


def sla_records(batch: Batch) -> list[Record]:
    return [
        Record("sla-events", 0, n, out.subject.encode(), out.to_json(), None, headers)
        for n, (out, headers) in enumerate(zip(batch.outputs, batch.headers, strict=True))
    ]


def test_a_ticket_changed_after_its_breach_carries_both_tickets() -> None:
    batch = evaluate(*REASSIGNED_AFTER_ITS_BREACH)
    pairs = zip(batch.outputs, batch.headers, strict=True)
    by_type = {out.body["type"]: dict(headers) for out, headers in pairs}
    assert set(by_type) == {"sla.clock.started", "sla.breached"}
    for kind in by_type:
        assert decode_ticket(by_type[kind][TICKET_HEADER])[0]["customer_tier"] == "gold"
        at_event = decode_ticket(by_type[kind][TICKET_AT_EVENT_HEADER])[0]
        assert (at_event["customer_tier"], at_event["assignee"]) == ("silver", "lead")


def test_a_ticket_unchanged_since_its_event_carries_one_ticket() -> None:
    batch = evaluate(
        ticket_event("e1", "ticket.created", "2026-03-02T09:00:00Z", status="open",
                     customer_tier="silver"),
    )  # fmt: skip
    assert [out.body["type"] for out in batch.outputs] == ["sla.clock.started", "sla.breached"]
    assert [{name for name, _ in headers} for headers in batch.headers] == [{TICKET_HEADER}] * 2


def test_no_ticket_at_the_event_is_sent_for_a_chain_without_if() -> None:
    without_if = DEFINITIONS.replace(", if: {customer_tier: silver}", "").replace(
        ", if: {customer_tier: gold}", ""
    )
    assert "if:" not in without_if
    batch = evaluate(*REASSIGNED_AFTER_ITS_BREACH, definitions=versions((without_if, None)))
    assert len(batch.outputs) == 2
    assert [{name for name, _ in headers} for headers in batch.headers] == [{TICKET_HEADER}] * 2


def test_the_notifier_fires_on_the_ticket_at_the_breach_and_notifies_the_latest_assignee() -> None:
    batch = evaluate(*REASSIGNED_AFTER_ITS_BREACH)
    notifier = NotifierPartition(
        Claim("sla-events", 0, 1, 0),
        Claim("acks", 0, 1, 0),
        Catalog(VERSIONS),
        None,
        records_topic="notifications",
    )
    decided = notifier.process(sla_records(batch), [], NOW)
    assert [(i.step, i.recipient) for i in decided.intents] == [(1, "manager@example.com")]
