"""``slawatch replay``: the pipeline over a file of events, in simulated time (``replay.md``).

Processing time is the latest ``received_at`` (or ``time``) of the events read so far,
then ``until``. Each advance of processing time is one step (the timers and the
notifications now due), and each input event read is the next (its outputs and the
notifications they fire); a step is sorted by time, subject, SLA and target, cycle,
then type, notifications last. The escalation planner runs with channels simulated.
The same input gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson

from slawatch.clock.engine import Engine, Verdict
from slawatch.definitions.model import DefinitionsVersion
from slawatch.escalation import Notification, Planner
from slawatch.events import parse_event, raw_for_report
from slawatch.events.model import Acknowledgement, InputEvent, Rejection, TicketEvent
from slawatch.outputs import Output

Emitted: TypeAlias = Output | Notification
"""One line of replay's output: an SLA event or a notification."""

__all__ = ["Cause", "Emitted", "ReplayProblem", "ReplayStats", "Replayer", "replay"]


@dataclass(frozen=True, slots=True)
class ReplayProblem:
    """An input line that was not applied: its number, the error and the raw text."""

    line: int
    error: str
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a step's outputs happened: an input event (by line) or processing time moving."""

    line: int | None
    event: InputEvent | None
    now: int


@dataclass(slots=True)
class ReplayStats:
    """Counts of what happened to the input."""

    lines: int = 0
    applied: int = 0
    recomputed: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: int = 0
    too_late: int = 0
    after_until: int = 0
    outputs: int = 0
    problems: list[ReplayProblem] = field(default_factory=list)


def _sort_key(item: Emitted) -> tuple[Any, ...]:
    return item.sort_key()


def _arrival(event: InputEvent) -> int:
    return event.received_at if event.received_at is not None else event.time


TOO_LATE = "too_late: the history this late event needs was discarded (rule 6a)"


class Replayer:
    """Replay's state between lines: the engine, processing time and counts.

    Feed lines in arrival order with :meth:`feed`, then :meth:`finish`. ``emit`` is called
    once per non-empty step. :meth:`snapshot` and :meth:`restore` let a run stop after
    any line and go on in another process with the same output.
    """

    def __init__(
        self,
        versions: Sequence[DefinitionsVersion],
        *,
        emit: Callable[[Sequence[Emitted], Cause], None],
        until: int | None = None,
        lateness: int = 0,
        retention: int | None = None,
        on_problem: Callable[[ReplayProblem], None] | None = None,
    ) -> None:
        self.engine = (
            Engine(versions, lateness=lateness)
            if retention is None
            else Engine(versions, lateness=lateness, retention=retention)
        )
        self.planner = Planner(self.engine.catalog, ticket=self._ticket)
        self.lateness = lateness
        self.emit = emit
        self.until = until
        self.on_problem = on_problem
        self.stats = ReplayStats()
        self.now: int | None = None

    def _problem(self, number: int, raw: bytes, error: str, reason: str) -> None:
        report = ReplayProblem(number, error, raw_for_report(raw), reason)
        self.stats.problems.append(report)
        if self.on_problem is not None:
            self.on_problem(report)

    def _ticket(self, subject: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self.engine.subjects.get(subject)
        return None if found is None else (found.state.fields, found.state.attributes)

    def _step(self, items: list[Emitted], cause: Cause) -> None:
        if items:
            items.sort(key=_sort_key)
            self.stats.outputs += len(items)
            self.emit(items, cause)

    def _advance(self, limit: int, cause: Cause) -> set[str]:
        """Fire the timers due before ``limit``, feeding each to the planner at its emission.

        Returns the subjects whose timers fired, with an output or not (a check going
        stale): their next event may now be late.
        """
        step: list[Emitted] = []
        fired: set[str] = set()
        timers = self.engine.due(limit, fired)
        if not timers and self.planner.next_wakeup() is None:
            return fired
        timers.sort(key=Output.sort_key)
        for out in timers:
            emission = out.time + self.lateness
            step += self.planner.due(emission)
            step += self.planner.on_output(out, emission)
            step.append(out)
        step += self.planner.due(limit)
        self._step(step, cause)
        return fired

    def feed(self, number: int, raw: bytes) -> None:
        """Read input line ``number``."""
        stats, engine = self.stats, self.engine
        stats.lines = number
        if not raw.strip():
            return
        event = parse_event(raw)
        if isinstance(event, Rejection):
            stats.rejected += 1
            self._problem(number, raw, event.message, event.reason.value)
            return
        arrival = _arrival(event)
        if self.until is not None and arrival > self.until:
            stats.after_until += 1
            return
        verdict = engine.check(event, self.now if self.now is not None else arrival)
        if verdict is Verdict.DUPLICATE:
            stats.duplicates += 1
            return
        if verdict is Verdict.TOO_LATE:
            stats.too_late += 1
            self._problem(number, raw, TOO_LATE, "too_late")
            return
        known: Verdict | None = verdict if verdict is Verdict.APPLIED else None
        if self.now is None or arrival > self.now:
            self.now = arrival
            touched = self._advance(arrival, Cause(None, None, arrival))
            if getattr(event, "subject", None) in touched:
                known = None
        if isinstance(event, Acknowledgement):
            stats.applied += 1
            self.planner.on_ack(event, self.now)
            return
        result = engine.apply(event, self.now, known, raw)
        if result.verdict is Verdict.TOO_LATE:
            stats.too_late += 1
            self._problem(number, raw, TOO_LATE, "too_late")
            return
        if result.verdict is Verdict.RECOMPUTED:
            stats.recomputed += 1
        elif result.verdict is Verdict.IGNORED and isinstance(event, TicketEvent):
            stats.ignored += 1
        else:
            stats.applied += 1
        if result.outputs:
            step: list[Emitted] = list(result.outputs)
            step += self.planner.on_outputs(result.outputs, self.now)
            self._step(step, Cause(number, event, self.now))

    def finish(self) -> ReplayStats:
        """Advance processing time to ``until`` (or where the input left it); fire what is due."""
        final = self.until if self.until is not None else self.now
        if final is not None:
            self._advance(final + 1, Cause(None, None, final))
        return self.stats

    def snapshot(self) -> bytes:
        """The replay's state after the lines fed so far."""
        return orjson.dumps(
            {
                "now": self.now,
                "engine": orjson.Fragment(self.engine.snapshot()),
                "planner": self.planner.to_record(),
            }
        )

    def restore(self, data: bytes) -> None:
        """Continue from a :meth:`snapshot`."""
        record = orjson.loads(data)
        self.now = record["now"]
        self.engine.restore(orjson.dumps(record["engine"]))
        self.planner = Planner.from_record(
            record["planner"], self.engine.catalog, ticket=self._ticket
        )


def replay(
    versions: Sequence[DefinitionsVersion],
    lines: Iterable[bytes],
    *,
    emit: Callable[[Sequence[Emitted], Cause], None],
    until: int | None = None,
    lateness: int = 0,
    retention: int | None = None,
    on_problem: Callable[[ReplayProblem], None] | None = None,
) -> ReplayStats:
    """Run every line through the engine, calling ``emit`` once per non-empty step."""
    replayer = Replayer(
        versions,
        emit=emit,
        until=until,
        lateness=lateness,
        retention=retention,
        on_problem=on_problem,
    )
    for number, raw in enumerate(lines, 1):
        replayer.feed(number, raw)
    return replayer.finish()
