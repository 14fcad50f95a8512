"""One input partition's clocks: the engine, fed a batch of records at a time.

A :class:`PartitionWorker` is synchronous and does no I/O: it turns consumed records
and processing time into a :class:`Batch` (outputs, dead letters, the records of the
subjects it changed, the next offset), which the service commits in one transaction.
It runs in a worker thread so that CPU-heavy batches do not starve the event loop
(and aiokafka's heartbeat, aiokafka#678).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Final

import orjson

from slawatch import collector
from slawatch.bus import Record
from slawatch.bus.headers import (
    BACKFILL_HEADER,
    TICKET_AT_EVENT_HEADER,
    TICKET_HEADER,
    Ticket,
    encode_ticket,
)
from slawatch.clock import Engine, Verdict
from slawatch.clock.engine import StoredChange
from slawatch.definitions.model import DefinitionsVersion
from slawatch.escalation.chains import chain_for
from slawatch.events import parse_canonical, raw_for_report
from slawatch.events.model import Acknowledgement, EventType, Rejection, TicketEvent
from slawatch.outputs import Output, uuid5_text
from slawatch.timeutil import format_time
from slawatch_evaluator.store import Claim

__all__ = ["REWRITES_PER_BATCH", "Batch", "DeadLetter", "PartitionWorker"]

REWRITES_PER_BATCH = 2_000
"""Subjects a batch exports at most for :meth:`PartitionWorker.rewrite`, beside its own:
about a batch's worth, so that no batch takes much longer than the others."""

_DUPLICATE: Final = Verdict.DUPLICATE
_TOO_LATE: Final = Verdict.TOO_LATE
_CREATED: Final = EventType.TICKET_CREATED
"""Module globals for the loop over records (see ``slawatch.clock.engine``'s)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A consumed record the evaluator could not apply."""

    id: str
    key: str
    payload: str
    reason: str


@dataclass(slots=True)
class Batch:
    """What one batch did: the outputs and dead letters to write, the subjects it changed."""

    next_offset: int
    outputs: list[Output] = field(default_factory=list)
    headers: list[tuple[tuple[str, bytes], ...]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    changes: list[StoredChange] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    event_time_lag: float | None = None


class PartitionWorker:
    """The engine of one claimed partition."""

    def __init__(
        self,
        claimed: Claim,
        versions: Sequence[DefinitionsVersion],
        *,
        lateness: int,
        retention: int,
    ) -> None:
        self.claim = claimed
        self.engine = Engine(versions, lateness=lateness, retention=retention)
        self.next_offset = claimed.next_offset
        self.lock = threading.Lock()
        self._rewrite: set[str] = set()
        self._if_chains: dict[tuple[object, object, object], bool] = {}
        self._any_if = any(
            step.condition is not None
            for version in self.engine.catalog.versions
            for chain in version.definitions.escalations.values()
            for step in chain.steps
        )

    @property
    def key(self) -> tuple[str, int]:
        """(topic, partition)."""
        return self.claim.topic, self.claim.partition

    def load(self, stored: Sequence[tuple[bytes, list[str]]]) -> None:
        """Restore the subjects of the partition from their stored records and histories.

        The cyclic garbage collector is paused meanwhile (:func:`slawatch.collector.paused`).
        """
        with self.lock, collector.paused():
            for state, lines in stored:
                self.engine.import_stored(orjson.loads(state), lines)

    def rewrite(self, keys: Sequence[str]) -> None:
        """Export these subjects with the next batches (``REWRITES_PER_BATCH`` a batch),
        changed or not: their stored rows lack a column the store fills in from the
        export (``deadline``, migration 0010)."""
        with self.lock:
            self._rewrite.update(keys)

    def is_due(self, now: int) -> bool:
        """Whether a timer fires at processing time ``now``, or subjects wait to be rewritten."""
        if self._rewrite:
            return True
        wakeup = self.engine.next_wakeup()
        return wakeup is not None and wakeup < now

    def process(self, records: Sequence[Record], now: int) -> Batch:
        """Fire the timers due at ``now``, then apply ``records`` in order."""
        with self.lock:
            return self._process(records, now)

    def _process(self, records: Sequence[Record], now: int) -> Batch:
        engine = self.engine
        batch = Batch(self.next_offset)
        touched: set[str] = set()
        timers = engine.due(now)
        outputs = batch.outputs
        outputs += timers
        touched.update(o.subject for o in timers)
        counts: dict[Verdict, int] = {}
        last_time: int | None = None
        for record in records:
            event = parse_canonical(record.value)
            if isinstance(event, Rejection):
                self._dead_letter(batch, record, event.message, event.reason.value, now)
                continue
            if isinstance(event, Acknowledgement):
                counts[Verdict.IGNORED] = counts.get(Verdict.IGNORED, 0) + 1
                continue
            known = type(event) is TicketEvent and event.subject in engine.subjects
            result = engine.apply(event, now, raw=record.value)
            verdict = result.verdict
            counts[verdict] = counts.get(verdict, 0) + 1
            if verdict is _TOO_LATE:
                message = "too_late: the history this late event needs was discarded (rule 6a)"
                self._dead_letter(batch, record, message, "too_late", now)
                continue
            if verdict is not _DUPLICATE:
                outputs += result.outputs
                touched.add(event.subject)
                if type(event) is TicketEvent and known == (event.type is _CREATED):
                    batch.unexpected["created_again" if known else "unknown_ticket"] += 1
                if not event.backfill:
                    last_time = event.time
        if records:
            batch.next_offset = records[-1].offset + 1
        verdicts = batch.verdicts
        for verdict, n in counts.items():
            verdicts[verdict.value] += n
        if last_time is not None:
            batch.event_time_lag = (now - last_time) / 1e6
        if self._rewrite:
            some = list(islice(self._rewrite, REWRITES_PER_BATCH))
            touched.update(some)
            self._rewrite.difference_update(some)
        subjects = engine.subjects
        batch.changes = [engine.export_change(key) for key in touched if key in subjects]
        headers: dict[tuple[str, bool, int, int], tuple[tuple[str, bytes], ...]] = {}
        current: dict[str, tuple[Ticket, bytes] | None] = {}
        append = batch.headers.append
        for out in outputs:
            at = out.ticket
            if at is not None and self._any_if and self._reads_ticket_at_event(out):
                key = (out.subject, out.backfill, id(at[0]), id(at[1]))
            else:
                key = (out.subject, out.backfill, 0, 0)
            found = headers.get(key)
            if found is None:
                found = headers[key] = self._headers(out, current)
            append(found)
        self.next_offset = batch.next_offset
        return batch

    def _headers(
        self, out: Output, current: dict[str, tuple[Ticket, bytes] | None]
    ) -> tuple[tuple[str, bytes], ...]:
        """What the notifier needs that the contract's body does not carry
        (:mod:`slawatch.bus.headers`); ``current`` keeps each subject's ticket header."""
        headers: list[tuple[str, bytes]] = []
        key = out.subject
        if key in current:
            now = current[key]
        else:
            subject = self.engine.subjects.get(key)
            state = subject.state if subject is not None else None
            if state is not None and hasattr(state, "fields"):
                ticket = (state.fields, state.attributes)
                now = current[key] = (ticket, encode_ticket(ticket))
            else:
                now = current[key] = None
        if now is not None:
            headers.append((TICKET_HEADER, now[1]))
            at = out.ticket
            if (
                at is not None
                and self._any_if
                and (at[0] is not now[0][0] or at[1] is not now[0][1])
                and self._reads_ticket_at_event(out)
            ):
                headers.append((TICKET_AT_EVENT_HEADER, encode_ticket(at)))
        if out.backfill:
            headers.append((BACKFILL_HEADER, b"1"))
        return tuple(headers)

    def _reads_ticket_at_event(self, out: Output) -> bool:
        """Whether the chain the output escalates on has a step with ``if:`` (rule 27)."""
        body = out.body
        key = (body["definitions_version"], body["sla"], body["target"])
        known = self._if_chains.get(key)
        if known is None:
            found = chain_for(self.engine.catalog, out)
            known = found is not None and any(s.condition is not None for s in found[1].steps)
            self._if_chains[key] = known
        return known

    def _dead_letter(self, batch: Batch, record: Record, error: str, reason: str, now: int) -> None:
        payload = {
            "error": error,
            "field": None,
            "reason": reason,
            "raw": raw_for_report(record.value),
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "received_at": format_time(now),
        }
        key = record.key.decode(errors="replace") if record.key else ""
        ident = uuid5_text(f"deadletter|{record.topic}|{record.partition}|{record.offset}")
        batch.dead_letters.append(DeadLetter(ident, key, orjson.dumps(payload).decode(), reason))
