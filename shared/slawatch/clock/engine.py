"""The evaluator's engine: every subject's clocks, their timers, duplicates and late events.

The engine is pure: it reads no clock and does no I/O. The caller passes processing
time ``now`` to every call (rule 4):

- :meth:`Engine.check` says whether an event would be applied, before it moves time;
- :meth:`Engine.apply` applies an input event and returns the outputs it causes;
- :meth:`Engine.due` fires the timers due by processing time ``now``;
- :meth:`Engine.next_wakeup` is the processing time at which :meth:`due` next has work.

Late events (rule 6) recompute their subject from its history; outputs the
recomputation no longer produces are withdrawn with ``sla.retracted``.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import partial
from typing import Any, Final, Literal, NamedTuple

import orjson

from slawatch.clock.catalog import Catalog
from slawatch.clock.kinds import TICKETS, kind_of_event, kind_of_key
from slawatch.clock.snapshot import (
    FORMAT,
    SnapshotError,
    decode_history,
    history_from_record,
    history_to_record,
)
from slawatch.clock.subject import IdSet, Subject
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import encode_event
from slawatch.events.model import Acknowledgement, InputEvent
from slawatch.outputs import Output, OutputType, output_id
from slawatch.timeutil import DAY, format_time

__all__ = ["Applied", "Engine", "StoredChange", "Verdict"]

DEFAULT_RETENTION = 7 * DAY


class Verdict(StrEnum):
    """What became of an input event."""

    APPLIED = "applied"
    """Applied in order."""
    RECOMPUTED = "recomputed"
    """A late event: its subject was recomputed from history (rule 6)."""
    DUPLICATE = "duplicate"
    """Its (subject, source, id) was already applied (rule 5)."""
    IGNORED = "ignored"
    """For a deleted ticket, or of a kind this engine does not evaluate."""
    TOO_LATE = "too_late"
    """Late, and the history it needs was discarded (rule 6a)."""


# The members the per-event paths use, as module globals: under Python 3.11 a member read
# off its class (``Verdict.APPLIED``) goes through ``EnumType.__getattr__``'s attribute
# hook, at several times the cost of a global's look-up.
_APPLIED: Final = Verdict.APPLIED
_RECOMPUTED: Final = Verdict.RECOMPUTED
_DUPLICATE: Final = Verdict.DUPLICATE
_IGNORED: Final = Verdict.IGNORED
_TOO_LATE: Final = Verdict.TOO_LATE
_WINDOW_CLOSED: Final = OutputType.WINDOW_CLOSED

_NOT_APPLIED: Final = frozenset((_DUPLICATE, _TOO_LATE, _IGNORED))
"""The verdicts on which an event changes nothing."""


class Applied(NamedTuple):
    """The verdict on one input event and the outputs it caused.

    A named tuple rather than a frozen dataclass: one is made per event, and a frozen
    dataclass's ``__init__`` costs several times as much.
    """

    verdict: Verdict
    outputs: list[Output]


def _line(event: InputEvent, raw: bytes | str | None) -> str:
    if raw is None:
        return encode_event(event).decode()
    return raw if isinstance(raw, str) else raw.decode()


def _prefix(history: Sequence[InputEvent], end: int) -> Sequence[InputEvent]:
    return history[:end]


def _latest(mark: int | None, outputs: Iterable[Output]) -> int | None:
    for out in outputs:
        if mark is None or out.time > mark:
            mark = out.time
    return mark


class StoredChange(NamedTuple):
    """What a store writes for one changed subject (:meth:`Engine.export_change`).

    ``record`` is the subject without its history; the history changed by ``lines``
    appended at position ``start``, after deleting the stored history when ``rewrite``.
    ``deadline`` is the soonest deadline of the subject's open ticket clocks
    (:meth:`SubjectKind.soonest_deadline`), so that a store can find the clocks due by
    an instant without decoding every record. A named tuple, as :class:`Applied` is,
    for the cost of making one per subject.
    """

    key: str
    record: dict[str, Any]
    due: int | None
    rewrite: bool
    start: int
    lines: list[str]
    deadline: int | None


def _caught_up(event: InputEvent, lateness: int) -> int | None:
    """Until when applying ``event`` emitted as backfill, if it is backfilled."""
    if not event.backfill:
        return None
    processed = event.received_at if event.received_at is not None else event.time
    return max(event.time + 1, processed - lateness)


def _with_held(due: int | None, held: Sequence[Output]) -> int | None:
    """``due``, or the time of the first held output (they are in time order) if sooner."""
    if held and (due is None or held[0].time < due):
        return held[0].time
    return due


def _flag_backfill(outputs: Sequence[Output], until: int | None) -> None:
    """Mark as backfill the outputs timed before ``until`` (all of an event's own)."""
    if until is not None:
        for out in outputs:
            if out.time < until:
                out.backfill = True


def _retraction(out: Output, now: int) -> Output:
    body = out.body
    retracted = {
        "id": output_id("sla.retracted", body["id"]),
        "type": OutputType.RETRACTED.value,
        "time": format_time(now),
        "sla": body["sla"],
        "target": body["target"],
        "kind": body["kind"],
    }
    if "underpins" in body:
        retracted["underpins"] = body["underpins"]  # every output has it (events.md)
    retracted["subject"] = body["subject"]
    if "cycle" in body:
        retracted["cycle"] = body["cycle"]
    else:
        retracted["window_start"] = body["window_start"]
        retracted["window_end"] = body["window_end"]
    retracted["definitions_version"] = body["definitions_version"]
    retracted["retracts"] = body["id"]
    retracted["reason"] = "late_event"
    return Output(
        OutputType.RETRACTED, now, out.subject, out.order, out.cycle, retracted, retracts=out
    )


class Engine:
    """All subjects' clocks under a set of definitions versions."""

    def __init__(
        self,
        versions: Sequence[DefinitionsVersion],
        *,
        lateness: int = 0,
        retention: int = DEFAULT_RETENTION,
    ) -> None:
        self.catalog = Catalog(versions)
        self.lateness = lateness
        self.retention = retention
        self.subjects: dict[str, Subject] = {}
        self._heap: list[tuple[int, str]] = []

    # --- input events ------------------------------------------------------------

    def _expire(self, subject: Subject, now: int) -> None:
        """Compact closed windows past retention; drop an idle subject's history past it.

        Nothing expires for a subject with no closed window that is not idle.
        """
        while subject.closes and now >= subject.closes[0][1] + self.retention:
            boundary = subject.closes[0][0]
            subject.closes = subject.closes[1:]
            self._compact(subject, boundary)
        if (
            subject.history is not None
            and subject.idle_since is not None
            and subject.kind.is_idle(subject.state)
            and now >= subject.idle_since + self.retention
        ):
            subject.history = None
            subject.ids = None
            subject.stored = None

    def check(self, event: InputEvent, now: int) -> Verdict:
        """Whether ``event`` would be applied at processing time ``now``, without applying it."""
        if kind_of_event(event) is None:
            return _IGNORED
        subject = self.subjects.get(event.subject)
        if subject is None:
            return _APPLIED
        return self._verdict(subject, event, now)

    def _verdict(self, subject: Subject, event: InputEvent, now: int) -> Verdict:
        """:meth:`check`'s answer for an event of a known subject."""
        if subject.closes or subject.idle_since is not None:
            self._expire(subject, now)
        ids = subject.ids
        if ids is not None and (event.source, event.id) in ids:
            return _DUPLICATE
        if subject.is_late(event.time):
            if subject.history is None or subject.before_base(event.time):
                return _TOO_LATE
            return _RECOMPUTED
        return _APPLIED

    def apply(
        self,
        event: InputEvent,
        now: int,
        verdict: Verdict | None = None,
        raw: bytes | str | None = None,
    ) -> Applied:
        """Apply an input event at processing time ``now``.

        ``verdict`` is :meth:`check`'s answer for the same event and ``now``, when the caller
        already has it; ``raw`` is the JSON the event was parsed from, kept as its history
        line instead of encoding the event again.
        """
        kind = kind_of_event(event)
        if kind is None:
            if verdict is None:
                verdict = _IGNORED
            subject = None
        else:
            key = event.subject
            subject = self.subjects.get(key)
            if verdict is None:
                verdict = _APPLIED if subject is None else self._verdict(subject, event, now)
        if verdict in _NOT_APPLIED:
            return Applied(verdict, [])
        assert kind is not None and not isinstance(event, Acknowledgement)
        if subject is None:
            subject = self.subjects[key] = Subject(key, kind)
        if verdict is _RECOMPUTED:
            outputs = self._recompute(subject, event, now)
        else:
            state = subject.state
            if kind.ignores(state):
                verdict = _IGNORED
            lines = subject.history
            history = subject.past_events if kind is TICKETS and lines is not None else None
            time = event.time
            if subject.due is not None and subject.due < time:
                outputs = self._hold(subject, kind.fire_before(state, key, time), now)
                made = kind.apply(state, key, event, self.catalog, history)
                if made and subject.held:
                    outputs += self._release(subject, None, now)
                outputs += made
            else:
                outputs = kind.apply(state, key, event, self.catalog, history)
                if outputs and subject.held:
                    outputs[:0] = self._release(subject, None, now)
            subject.last_time = time
            if lines is not None:
                lines.append(_line(event, raw))
            due = kind.next_due(state)
            limit = now - self.lateness
            if subject.held and subject.held[0].time < limit:
                outputs += self._release(subject, limit, now)
            if due is not None and due < limit:
                late = kind.fire_before(state, key, limit)
                self._mark_timers(subject, late, now)
                outputs += late
                due = kind.next_due(state)
            self._settle(subject, now, due)
        ids = subject.ids
        if ids is not None:
            ids.add((event.source, event.id))
        if event.backfill:
            for out in outputs:
                out.backfill = True
        if verdict is _RECOMPUTED:
            self._settle(subject, now)
        return Applied(verdict, outputs)

    def _mark_timers(self, subject: Subject, timer_outputs: Sequence[Output], now: int) -> None:
        mark = _latest(subject.timer_mark, timer_outputs)
        silent = subject.kind.fired(subject.state)
        if silent is not None and (mark is None or silent > mark):
            mark = silent
        subject.timer_mark = mark
        for out in timer_outputs:
            if out.type is _WINDOW_CLOSED:
                subject.closes += ((out.time, now),)

    def _hold(self, subject: Subject, timers: list[Output], now: int) -> list[Output]:
        """Of the timer outputs an event made its subject reach, those due by processing
        time (``time + lateness < now``, rule 4); the rest wait in ``held`` until then."""
        if self.lateness and timers:
            limit = now - self.lateness
            held = [o for o in timers if o.time >= limit]
            if held:
                timers = [o for o in timers if o.time < limit]
                subject.held = [*subject.held, *held]
        self._mark_timers(subject, timers, now)
        return timers

    def _release(self, subject: Subject, limit: int | None, now: int) -> list[Output]:
        """The held outputs due before ``limit`` (all with ``None``: the subject's next
        output is about to go out, and they come before it), taken out of ``held``."""
        held = subject.held
        if limit is None:
            ready, subject.held = list(held), ()
        else:
            ready = [o for o in held if o.time < limit]
            subject.held = [o for o in held if o.time >= limit] or ()
        self._mark_timers(subject, ready, now)
        return ready

    def _compact(self, subject: Subject, boundary: int) -> None:
        """Drop a service's history before a closed window's end, keeping the state there."""
        if subject.history is None:
            return
        kind, key = subject.kind, subject.key
        events = decode_history(subject.history)
        state = self._base_state(subject)
        kept: list[str] = []
        ids = IdSet()
        for line, ev in zip(subject.history, events, strict=True):
            if ev.time < boundary:
                kind.fire_before(state, key, ev.time)
                kind.apply(state, key, ev, self.catalog, None)
            else:
                kept.append(line)
                ids.add((ev.source, ev.id))
        kind.fire_before(state, key, boundary)
        subject.base = kind.to_record(state, self.catalog)
        subject.base_time = boundary
        subject.history = kept
        subject.ids = ids
        subject.stored = None

    def _base_state(self, subject: Subject) -> Any:
        if subject.base is None:
            return subject.kind.new_state()
        return subject.kind.from_record(subject.base, self.catalog)

    def _settle(self, subject: Subject, now: int, due: int | Literal[False] | None = False) -> None:
        if not subject.kind.is_idle(subject.state):
            subject.idle_since = None
        elif subject.idle_since is None:
            subject.idle_since = now
        if due is False:
            due = subject.kind.next_due(subject.state)
        due = _with_held(due, subject.held)
        if due != subject.due:
            subject.due = due
            if due is not None:
                heapq.heappush(self._heap, (due, subject.key))

    # --- late events ---------------------------------------------------------------

    def _fold(
        self, subject: Subject, history: Sequence[InputEvent], now: int, *, flag: bool = False
    ) -> tuple[Any, list[Output], int | None]:
        """A subject recomputed from its history: its state, standing outputs and timer mark.

        With ``flag``, outputs are marked ``backfill`` as they were when first emitted, so
        far as the history tells: a backfilled event's own, and the timers its application
        caught up, those due before its processing time (``received_at``, or ``time``)
        less lateness.
        """
        kind, key = subject.kind, subject.key
        state = self._base_state(subject)
        outputs: list[Output] = []
        mark: int | None = None
        caught_up: int | None = None
        for i, ev in enumerate(history):
            timers = kind.fire_before(state, key, ev.time)
            applied = kind.apply(state, key, ev, self.catalog, partial(_prefix, history, i))
            if flag:
                _flag_backfill(timers, caught_up)
                caught_up = _caught_up(ev, self.lateness)
                _flag_backfill(applied, caught_up)
            outputs += timers
            outputs += applied
            mark = _latest(mark, timers)
        timers = kind.fire_before(state, key, now - self.lateness)
        if flag:
            _flag_backfill(timers, caught_up)
        outputs += timers
        mark = _latest(mark, timers)
        silent = kind.fired(state)
        if silent is not None and (mark is None or silent > mark):
            mark = silent
        return state, outputs, mark

    def _recompute(self, subject: Subject, event: InputEvent, now: int) -> list[Output]:
        assert subject.history is not None
        old = decode_history(subject.history)
        times = [e.time for e in old]
        new = list(old)
        new.insert(bisect.bisect_right(times, event.time), event)
        _, before, _ = self._fold(subject, old, now, flag=True)
        state, after, mark = self._fold(subject, new, now)
        before_ids = {o.id for o in before}
        after_ids = {o.id for o in after}
        held_ids = {o.id for o in subject.held}
        outputs = [
            _retraction(o, now) for o in before if o.id not in after_ids and o.id not in held_ids
        ]
        outputs += [o for o in after if o.id not in before_ids]
        subject.held = [o for o in subject.held if o.id in after_ids] or ()
        subject.state = state
        subject.history = [encode_event(e).decode() for e in new]
        subject.stored = None
        subject.timer_mark = mark
        subject.last_time = max(times[-1], event.time) if times else event.time
        return outputs

    # --- timers --------------------------------------------------------------------

    def next_wakeup(self) -> int | None:
        """The earliest processing time at which a timer fires: its due instant plus lateness.

        A timer fires once processing time is *later* than this (rule 4).
        """
        heap = self._heap
        while heap:
            due, key = heap[0]
            if self.subjects[key].due == due:
                return due + self.lateness
            heapq.heappop(heap)
        return None

    def due(self, now: int, fired: set[str] | None = None) -> list[Output]:
        """Fire every timer due at processing time ``now``: those with ``due + lateness < now``.

        ``fired`` collects the subjects whose timers fired, with an output or not.
        """
        limit = now - self.lateness
        outputs: list[Output] = []
        heap = self._heap
        while heap and heap[0][0] < limit:
            due, key = heapq.heappop(heap)
            subject = self.subjects[key]
            if subject.due != due:
                continue
            if subject.held:
                outputs += self._release(subject, limit, now)
            made = subject.kind.fire_before(subject.state, key, limit)
            self._mark_timers(subject, made, now)
            outputs += made
            if fired is not None:
                fired.add(key)
            subject.due = None
            self._settle(subject, now)
        return outputs

    # --- snapshots -----------------------------------------------------------------

    def _record(self, subject: Subject) -> dict[str, Any]:
        return {
            "key": subject.key,
            "state": subject.kind.to_record(subject.state, self.catalog),
            "last_time": subject.last_time,
            "timer_mark": subject.timer_mark,
            "idle_since": subject.idle_since,
            "due": subject.due,
            "base": subject.base,
            "base_time": subject.base_time,
            "closes": list(map(list, subject.closes)),
            "kept": subject.history is not None,
            **({"held": [[o.body, o.backfill] for o in subject.held]} if subject.held else {}),
        }

    def export_subject(self, key: str) -> dict[str, Any]:
        """One subject as a JSON-ready record, history and applied ids included (snapshots)."""
        subject = self.subjects[key]
        record = self._record(subject)
        record["history"] = history_to_record(subject.history)
        record["ids"] = None if subject.ids is None else subject.ids.to_record()
        return record

    def export_change(self, key: str) -> StoredChange:
        """What a store must write for one subject since its last export (or import).

        The store keeps the history apart, one line per event, so a commit writes the
        lines a batch added rather than the whole history again.
        """
        subject = self.subjects[key]
        history = subject.history or []
        stored = subject.stored
        start = 0 if stored is None else stored
        change = StoredChange(
            key,
            self._record(subject),
            subject.due,
            stored is None,
            start,
            history[start:],
            subject.kind.soonest_deadline(subject.state),
        )
        subject.stored = len(history)
        return change

    def import_subject(self, record: dict[str, Any]) -> None:
        """Restore one subject from :meth:`export_subject`'s record, replacing any in memory."""
        history = history_from_record(record["history"])
        ids = record["ids"]
        subject = self._restore(record, history, None if ids is None else IdSet.from_record(ids))
        subject.stored = None

    def import_stored(self, record: dict[str, Any], lines: list[str]) -> None:
        """Restore one subject from a stored :meth:`export_change` record and its history.

        A ticket's clocks are decoded when the subject is next used, and keep the timer
        the record holds (a ticket's terms are bound when its clocks start). A service's
        timer is taken from its restored state: versions stored since the record may
        bring an objective in.
        """
        kind = kind_of_key(record["key"])
        due = record["due"]
        if kind is TICKETS:
            subject = Subject(record["key"], kind, None)
            subject.freeze(record["state"], self.catalog)
        else:
            subject = Subject(record["key"], kind, kind.from_record(record["state"], self.catalog))
            due = kind.next_due(subject.state)
        subject.history = lines if record["kept"] else None
        subject.derive_ids()
        subject.stored = len(lines)
        self._register(subject, record, due)

    def _restore(
        self, record: dict[str, Any], history: list[str] | None, ids: IdSet | None
    ) -> Subject:
        kind = kind_of_key(record["key"])
        subject = Subject(record["key"], kind)
        subject.state = kind.from_record(record["state"], self.catalog)
        subject.history = history
        subject.ids = ids
        self._register(subject, record, kind.next_due(subject.state))
        return subject

    def _register(self, subject: Subject, record: dict[str, Any], due: int | None) -> None:
        """Put a restored subject in place, with the record's marks and its timer at ``due``."""
        subject.last_time = record["last_time"]
        subject.timer_mark = record["timer_mark"]
        subject.idle_since = record["idle_since"]
        subject.base = record.get("base")
        subject.base_time = record.get("base_time")
        subject.closes = tuple((c[0], c[1]) for c in record.get("closes") or ())
        held = record.get("held") or ()
        subject.held = [self.catalog.output(body, backfill=bool(f)) for body, f in held] or ()
        due = _with_held(due, subject.held)
        self.subjects[subject.key] = subject
        subject.due = due
        if due is not None:
            heapq.heappush(self._heap, (due, subject.key))

    def snapshot(self) -> bytes:
        """The whole engine state as bytes; :meth:`restore` takes them back."""
        return orjson.dumps(
            {
                "format": FORMAT,
                "versions": [v.number for v in self.catalog.versions],
                "subjects": [self.export_subject(k) for k in sorted(self.subjects)],
            }
        )

    def restore(self, data: bytes) -> None:
        """Replace this engine's subjects with those of a :meth:`snapshot`."""
        record = orjson.loads(data)
        if record.get("format") != FORMAT:
            raise SnapshotError(f"unknown snapshot format {record.get('format')!r}")
        if record["versions"] != [v.number for v in self.catalog.versions]:
            raise SnapshotError("the snapshot was taken under other definitions versions")
        self.subjects = {}
        self._heap = []
        for subject in record["subjects"]:
            self.import_subject(subject)
