"""A notifier reading old records (after downtime, or with a backlog) decides as replay
would: each SLA event and acknowledgement counts at the instant it was written, and what
fell due is fired in between, so a stop written before a step fell due stops it."""

from __future__ import annotations

import orjson
import pytest

from slawatch.bus import Record
from slawatch.clock.catalog import Catalog
from slawatch.settings import Settings
from slawatch.store.common import Claim
from slawatch.timeutil import parse_time
from slawatch_evaluator.partition import PartitionWorker
from slawatch_notifier import partition
from slawatch_notifier.partition import NotifierBatch, NotifierPartition
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
      - when: {event: sla.breached}
        notify: ["person:lead"]
      - after: 30m
        notify: ["person:manager"]
people:
  lead: {email: lead@example.com}
  manager: {email: manager@example.com}
channels:
  email: {type: smtp, host: smtp.example.com, port: 587, from: "slawatch@example.com"}
"""
VERSIONS = versions((DEFINITIONS, None))


def sla_records() -> dict[str, Record]:
    """The breach (10:00) and the stop (10:15) of T-1, each stamped when it was written."""
    raw = [
        {"id": "e1", "type": "ticket.created", "time": "2026-03-02T09:00:00Z",
         "ticket": {"id": "T-1", "status": "open"}},
        {"id": "e2", "type": "ticket.commented", "time": "2026-03-02T10:15:00Z",
         "ticket": {"id": "T-1"}, "comment": {"author_role": "agent", "public": True}},
    ]  # fmt: skip
    now = parse_time("2026-03-02T10:20:00Z")
    worker = PartitionWorker(
        Claim("canonical", 0, 1, 0), VERSIONS, lateness=0, retention=Settings().retention
    )
    encoded = canonical([orjson.dumps(r) for r in raw], now)
    batch = worker.process(
        [Record("canonical", 0, n, k, v) for n, (k, v) in enumerate(encoded)], now
    )
    found = {}
    for n, (out, headers) in enumerate(zip(batch.outputs, batch.headers, strict=True)):
        stamp = out.time // 1000
        found[out.body["type"]] = Record("sla-events", 0, n, out.subject.encode(), out.to_json(),
                                         stamp, headers)  # fmt: skip
    return found


def ack_record(at: str) -> Record:
    ack = {"id": "a1", "type": "escalation.acknowledged", "time": at, "subject": "ticket:T-1",
           "by": "lead"}  # fmt: skip
    return Record("acks", 0, 0, b"ticket:T-1", orjson.dumps(ack), parse_time(at) // 1000)


def notifier(record: dict[str, object] | None = None) -> NotifierPartition:
    return NotifierPartition(Claim("sla-events", 0, 1, 0), Claim("acks", 0, 1, 0),
                             Catalog(VERSIONS), record, records_topic="n")  # fmt: skip


def sent(batch: NotifierBatch) -> list[tuple[str | None, str]]:
    return [(i.recipient, i.record["time"]) for i in batch.intents]


def test_a_stop_read_after_downtime_stops_the_step_due_before_it_was_read() -> None:
    records = sla_records()
    n = notifier()
    first = n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    assert sent(first) == [("lead@example.com", "2026-03-02T10:00:00Z")]
    later = n.process([records["sla.clock.stopped"]], [], parse_time("2026-03-02T10:40:00Z"))
    assert sent(later) == []


def test_an_acknowledgement_read_late_counts_when_it_was_written() -> None:
    records = sla_records()
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    later = n.process([], [ack_record("2026-03-02T10:10:00Z")], parse_time("2026-03-02T10:40:00Z"))
    assert sent(later) == []
    assert later.acks[0]["at"] == parse_time("2026-03-02T10:10:00Z")


def test_while_behind_nothing_fires_past_the_last_record_read() -> None:
    records = sla_records()
    n = notifier()
    now = parse_time("2026-03-02T10:40:00Z")
    first = n.process([records["sla.breached"]], [], now, behind=True)
    assert sent(first) == [("lead@example.com", "2026-03-02T10:00:00Z")]
    assert n.process([records["sla.clock.stopped"]], [], now).intents == []


def test_caught_up_the_step_fires_when_due() -> None:
    records = sla_records()
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    due = n.process([], [], parse_time("2026-03-02T10:30:01Z"))
    assert sent(due) == [("manager@example.com", "2026-03-02T10:30:00Z")]


def test_after_a_restart_nothing_counts_before_what_was_fired() -> None:
    records = sla_records()
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    fired = n.process([], [], parse_time("2026-03-02T10:30:01Z"))
    assert len(fired.intents) == 1
    again = notifier(orjson.loads(orjson.dumps(fired.state)))
    assert again.fired_to == parse_time("2026-03-02T10:30:01Z")
    stop = again.process([records["sla.clock.stopped"]], [], parse_time("2026-03-02T10:31:00Z"))
    assert [i.notice for i in stop.intents] == []


def test_records_that_are_not_sla_events_or_acks_are_left_out_and_counted() -> None:
    records = sla_records()
    junk = [Record("sla-events", 0, 7, b"x", b"not json", None),
            Record("sla-events", 0, 8, b"x", b'{"type": "sla.exploded"}', None)]  # fmt: skip
    n = notifier()
    now = parse_time("2026-03-02T10:00:30Z")
    batch = n.process([*junk, records["sla.breached"]], [Record("acks", 0, 3, b"x", b"{}")], now)
    assert batch.malformed == 3
    assert (batch.next_sla, batch.next_acks) == (9, 4)
    assert sent(batch) == [("lead@example.com", "2026-03-02T10:00:00Z")]


def test_escalations_that_stopped_long_ago_are_forgotten_and_the_state_shrinks() -> None:
    records = sla_records()
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    n.process([records["sla.clock.stopped"]], [], parse_time("2026-03-02T10:20:00Z"))
    assert n.planner.subjects() == {"ticket:T-1"} and n.tickets and n.events
    same_week = n.process([], [], parse_time("2026-03-09T10:20:00Z"))
    assert n.planner.subjects() == {"ticket:T-1"}
    weeks_later = n.process([], [], parse_time("2026-03-17T10:20:00Z"))
    assert n.planner.subjects() == set() and n.tickets == {} and n.events == {}
    assert len(orjson.dumps(weeks_later.state)) < len(orjson.dumps(same_week.state))


def test_past_the_cap_the_causes_of_running_escalations_are_kept_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(partition, "MAX_CAUSES", 2)
    records = sla_records()
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    (running,) = n.events
    n.events = {"idle-1": {"subject": "ticket:OLD"}, **n.events, "idle-2": {"subject": "x"}}
    n._evict_causes()
    assert list(n.events) == [running, "idle-2"]


def test_a_retraction_notice_carries_the_retraction_not_the_event_it_repeats() -> None:
    records = sla_records()
    breach = orjson.loads(records["sla.breached"].value)
    retraction = {key: breach[key] for key in ("sla", "target", "kind", "subject", "cycle",
                                               "definitions_version")}  # fmt: skip
    retraction.update(id="x-1", type="sla.retracted", time="2026-03-02T10:05:00Z",
                      retracts=breach["id"], reason="late_event")  # fmt: skip
    stamp = parse_time("2026-03-02T10:05:00Z") // 1000
    withdrawn = Record("sla-events", 0, 5, b"ticket:T-1", orjson.dumps(retraction), stamp)
    n = notifier()
    n.process([records["sla.breached"]], [], parse_time("2026-03-02T10:00:30Z"))
    (notice,) = n.process([withdrawn], [], parse_time("2026-03-02T10:05:30Z")).intents
    assert (notice.notice, notice.record["cause"]) == ("retraction", breach["id"])
    assert notice.event is not None and notice.event["type"] == "sla.retracted"
