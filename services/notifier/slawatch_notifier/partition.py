"""One partition's escalations: the pure planner, fed SLA events and acknowledgements.

A :class:`NotifierPartition` does no I/O: records and processing time in, intents to
log out (:class:`~slawatch_notifier.store.Intent`), plus the state to persist with
them. The ticket fields ``if:`` reads are those at the SLA event's time, and those
``role:assignee`` reads the latest known: both come in the headers the evaluator
puts on each SLA event (:mod:`slawatch.bus.headers`), and the latest are refreshed
from the evaluator's committed state before a later step fires (:meth:`refresh`), so
a reassignment that produced no SLA event is seen (rule 29). A backfilled event
fires no step (rule 27).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from slawatch.bus.base import Record
from slawatch.bus.headers import BACKFILL_HEADER, Ticket, tickets_of
from slawatch.clock.catalog import Catalog
from slawatch.escalation import Notification, Planner
from slawatch.escalation.chains import StopReason
from slawatch.events import parse_canonical
from slawatch.events.model import Acknowledgement
from slawatch.outputs import Output, OutputType
from slawatch.store.common import Claim, OutboxEntry
from slawatch.timeutil import DAY, SECOND
from slawatch_notifier.store import Intent

log = structlog.get_logger("slawatch.notifier")

__all__ = [
    "NotifierBatch",
    "NotifierPartition",
    "escalation_id",
]

FORGET_EVERY = 3600 * SECOND
"""How often a partition drops the escalations it will never hear of again."""

CATCH_UP = 5 * SECOND
"""Records older than this, with more to read, mean the notifier is catching up."""

MAX_CAUSES = 10_000
"""SLA events kept per partition to render the notifications of later steps they caused."""


def escalation_id(body: dict[str, Any]) -> str:
    """An escalation's id: ``SUBJECT/SLA/TARGET/CYCLE`` (or ``.../WINDOW_START`` for a service)."""
    scope = body.get("cycle") if body.get("cycle") is not None else body.get("window_start")
    return f"{body['subject']}/{body['sla']}/{body['target']}/{scope}"


def record_output(record: Record, catalog: Catalog) -> tuple[Output, Ticket | None]:
    """An ``sla-events`` record as the planner takes it, and the latest ticket it carries."""
    headers = dict(record.headers)
    now, at_event = tickets_of(headers)
    body = orjson.loads(record.value)
    return catalog.output(body, backfill=BACKFILL_HEADER in headers, ticket=at_event), now


@dataclass(slots=True)
class NotifierBatch:
    """What one batch decided."""

    intents: list[Intent] = field(default_factory=list)
    records: list[OutboxEntry] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    ack_latencies: list[tuple[str, float]] = field(default_factory=list)
    """``(chain, seconds from start to acknowledgement)`` of each escalation acked
    (from the planner's stops)."""
    next_sla: int = 0
    next_acks: int = 0
    missing_version: int | None = None
    """A definitions version an SLA event names and the catalog lacks: the batch stops
    before that event (the caller loads the stored versions and reads on from there)."""
    stopped: list[tuple[str, int, str]] = field(default_factory=list)
    """Escalations stopped in this batch: ``(escalation id, when, why)``; their step
    notifications due by then and waiting for a retry are withdrawn (``suppressed``)."""
    malformed: int = 0
    """Records of ``sla-events`` or ``acks`` that were not an SLA event or an
    acknowledgement, left out."""
    skipped: int = 0
    """SLA events left out: their version is in :attr:`NotifierPartition.unknown_versions`."""


class NotifierPartition:
    """The planner of one partition of ``sla-events`` (and the same partition of ``acks``)."""

    def __init__(
        self,
        sla_claim: Claim,
        acks_claim: Claim,
        catalog: Catalog,
        record: dict[str, Any] | None,
        *,
        records_topic: str,
        forget_after: int = 14 * DAY,
    ) -> None:
        self.sla_claim, self.acks_claim = sla_claim, acks_claim
        self.catalog = catalog
        self.records_topic = records_topic
        self.tickets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.fired_to = 0
        self.forget_after = forget_after
        self.forgot_at = 0
        self.unknown_versions: set[int] = set()
        """Versions not stored even after a reload: SLA events naming one are skipped."""
        if record is None:
            self.planner = Planner(catalog, ticket=self.ticket, status="pending")
        else:
            self.planner = Planner.from_record(
                record["planner"], catalog, ticket=self.ticket, status="pending"
            )
            self.tickets = {k: (v[0], v[1]) for k, v in record["tickets"].items()}
            self.events = dict(record["events"])
            self.fired_to = int(record.get("fired_to", 0))
        self.next_sla = sla_claim.next_offset
        self.next_acks = acks_claim.next_offset
        self.lock = threading.Lock()

    @property
    def partition(self) -> int:
        """The partition number."""
        return self.sla_claim.partition

    def ticket(self, subject: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The ticket's fields and attributes: as of its latest SLA event, or as refreshed."""
        return self.tickets.get(subject)

    def due_subjects(self, now: int) -> set[str]:
        """The subjects with a step to fire at ``now``, whose tickets to refresh first."""
        with self.lock:
            return self.planner.due_subjects(now)

    def refresh(self, tickets: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Take newer ticket fields (:func:`~slawatch_notifier.store.current_tickets`)."""
        with self.lock:
            self.tickets.update(tickets)

    def process(
        self, sla: Sequence[Record], acks: Sequence[Record], now: int, *, behind: bool = False
    ) -> NotifierBatch:
        """Feed the SLA events and acknowledgements read at ``now`` in the order they were
        written, firing before each what fell due by then; then what is due at ``now``.

        Each record counts at its broker timestamp (no later than ``now``, never before
        what was already fired), as replay feeds an event at its emission: a notifier
        catching up stops a chain at a stop event written before a step fell due, rather
        than sending the step first. While ``behind`` (more records wait to be read and
        these are older than :data:`CATCH_UP`), nothing is fired past the last record.
        An SLA event of a definitions version the catalog lacks ends the batch before it
        (``missing_version``), unless that version is known to be missing for good
        (:attr:`unknown_versions`): then the event is skipped and counted.
        """
        with self.lock:
            return self._process(sla, acks, now, behind)

    def _process(
        self, sla: Sequence[Record], acks: Sequence[Record], now: int, behind: bool
    ) -> NotifierBatch:
        batch = NotifierBatch(next_sla=self.next_sla, next_acks=self.next_acks)
        decided: list[Notification] = []
        # retraction notices by id -> the sla.retracted that made them: their message says
        # what was withdrawn and why, not the still-valid event whose cause they repeat
        withdrawn: dict[str, dict[str, Any]] = {}
        merged = sorted(
            [(self._at(r, now), 0, i, r) for i, r in enumerate(sla)]
            + [(self._at(r, now), 1, i, r) for i, r in enumerate(acks)]
        )
        for at, kind, _, record in merged:
            if kind == 0:
                try:
                    out, latest = record_output(record, self.catalog)
                    number = int(out.body["definitions_version"])
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("an sla-events record is not an SLA event; skipped",
                                offset=record.offset, error=repr(exc))  # fmt: skip
                    batch.next_sla = record.offset + 1
                    batch.malformed += 1
                    continue
                if not self.catalog.has(number):
                    if number not in self.unknown_versions:
                        batch.missing_version = number
                        break
                    batch.next_sla = record.offset + 1
                    batch.skipped += 1
                    continue
                decided += self.planner.due(at)
                self.fired_to = at
                batch.next_sla = record.offset + 1
                fired = self._sla_event(out, latest, at)
                if out.type is OutputType.RETRACTED:
                    withdrawn.update((n.id, out.body) for n in fired)
                decided += fired
            else:
                decided += self.planner.due(at)
                self.fired_to = at
                batch.next_acks = record.offset + 1
                self._ack(record, at, batch)
        else:
            if not (behind and merged and merged[-1][0] < now - CATCH_UP):
                decided += self.planner.due(now)
                self.fired_to = now
        for notification in decided:
            body = notification.body
            intent = Intent(
                id=notification.id,
                escalation=body["escalation"],
                escalation_id=escalation_id(body),
                subject=body["subject"],
                step=notification.step,
                repeat=notification.repeat,
                notice=str(body["notice"]),
                channel=notification.channel,
                recipient=body.get("recipient"),
                due_at=notification.time,
                status="pending" if body["status"] == "pending" else body["status"],
                record=body,
                event=withdrawn.get(notification.id) or self.events.get(str(body["cause"])),
                error=body.get("error"),
            )
            batch.intents.append(intent)
            if intent.status != "pending":
                batch.records.append(
                    OutboxEntry(
                        intent.id,
                        self.records_topic,
                        intent.subject,
                        notification.to_json().decode(),
                    )
                )
        for scope, chain, started, stop in self.planner.take_stops():
            ident = escalation_id({"subject": scope.subject, "sla": scope.sla,
                                   "target": scope.target, "cycle": scope.cycle,
                                   "window_start": scope.window_start})  # fmt: skip
            batch.stopped.append((ident, stop.at, stop.reason))
            if stop.reason == StopReason.ACKNOWLEDGED:
                batch.ack_latencies.append((chain, (stop.at - started) / 1e6))
        self._forget(now)
        self.next_sla, self.next_acks = batch.next_sla, batch.next_acks
        batch.state = {
            "planner": self.planner.to_record(),
            "tickets": {k: [f, a] for k, (f, a) in self.tickets.items()},
            "events": self.events,
            "fired_to": self.fired_to,
        }
        return batch

    def _forget(self, now: int) -> None:
        """At most hourly: drop the cycles and windows whose escalations all stopped more
        than ``forget_after`` ago (no SLA event reaches them once the evaluator's history
        is gone), and the tickets and SLA events no kept escalation needs (a later SLA
        event brings its ticket along again)."""
        if now - self.forgot_at < FORGET_EVERY:
            return
        self.forgot_at = now
        self.planner.forget(now - self.forget_after)
        kept = self.planner.subjects()
        self.tickets = {k: v for k, v in self.tickets.items() if k in kept}
        self.events = {k: v for k, v in self.events.items() if v.get("subject") in kept}

    def _at(self, record: Record, now: int) -> int:
        stamp = record.timestamp_ms
        at = now if stamp is None else min(now, stamp * 1000)
        return max(at, self.fired_to)

    def _sla_event(self, out: Output, latest: Ticket | None, at: int) -> list[Notification]:
        body = out.body
        if latest is not None:
            self.tickets[out.subject] = latest
        fired = self.planner.on_output(out, at)
        if fired:
            self.events[body["id"]] = body
            if len(self.events) > MAX_CAUSES:
                self._evict_causes()
        return fired

    def _evict_causes(self) -> None:
        """Keep at most :data:`MAX_CAUSES` SLA events: first drop those of subjects with no
        running escalation (their later steps will not come), then the oldest."""
        running = self.planner.running_subjects()
        events = self.events
        first = sorted(events, key=lambda k: events[k].get("subject") in running)
        for key in first[: len(events) - MAX_CAUSES]:
            del events[key]

    def _ack(self, record: Record, at: int, batch: NotifierBatch) -> None:
        event = parse_canonical(record.value)
        if not isinstance(event, Acknowledgement):
            log.warning("an acks record is not an acknowledgement; skipped", offset=record.offset)
            batch.malformed += 1
            return
        self.planner.on_ack(event, at)
        batch.acks.append(
            {
                "id": event.id,
                "subject": event.subject,
                "sla": event.sla,
                "target": event.target,
                "cycle": event.cycle,
                "by": event.by,
                "note": event.note,
                "at": at,
            }
        )

    def is_due(self, now: int) -> bool:
        """Whether a scheduled step falls due by ``now``."""
        wakeup = self.planner.next_wakeup()
        return wakeup is not None and wakeup < now
