"""``slawatch replay``: the pipeline over a file of events, in simulated time (``replay.md``).

Processing time is the latest ``received_at`` (or ``time``) of the events read so far,
then ``until``. Each advance of processing time is one step (the timers now due), and
each input event read is the next (its outputs); a step's outputs are sorted by
:meth:`~slawatch.outputs.Output.sort_key`. The same input gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from slawatch.clock.engine import Engine, Verdict
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import parse_event, raw_for_report
from slawatch.events.model import InputEvent, Rejection, TicketEvent
from slawatch.outputs import Output

__all__ = ["Cause", "ReplayProblem", "ReplayStats", "Replayer", "replay"]


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
        emit: Callable[[Sequence[Output], Cause], None],
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

    def _step(self, outputs: list[Output], cause: Cause) -> None:
        if outputs:
            outputs.sort(key=Output.sort_key)
            self.stats.outputs += len(outputs)
            self.emit(outputs, cause)

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
        known: Verdict | None = verdict
        if self.now is None or arrival > self.now:
            self.now = arrival
            self._step(engine.due(arrival), Cause(None, None, arrival))
            known = None
        result = engine.apply(event, self.now, known)
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
        self._step(result.outputs, Cause(number, event, self.now))

    def finish(self) -> ReplayStats:
        """Advance processing time to ``until`` (or where the input left it); fire what is due."""
        final = self.until if self.until is not None else self.now
        if final is not None:
            self._step(self.engine.due(final + 1), Cause(None, None, final))
        return self.stats

    def snapshot(self) -> bytes:
        """The replay's state after the lines fed so far."""
        return orjson.dumps({"now": self.now, "engine": orjson.Fragment(self.engine.snapshot())})

    def restore(self, data: bytes) -> None:
        """Continue from a :meth:`snapshot`."""
        record = orjson.loads(data)
        self.now = record["now"]
        self.engine.restore(orjson.dumps(record["engine"]))


def replay(
    versions: Sequence[DefinitionsVersion],
    lines: Iterable[bytes],
    *,
    emit: Callable[[Sequence[Output], Cause], None],
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
