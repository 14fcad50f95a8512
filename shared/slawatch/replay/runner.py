"""``slawatch replay``: the pipeline over a file of events, in simulated time (``replay.md``).

Processing time is the latest ``received_at`` (or ``time``) of the events read so far,
then ``until``. Each advance of processing time is one step (the timers now due), and
each input event read is the next (its outputs); a step's outputs are sorted by
:meth:`~slawatch.outputs.Output.sort_key`. The same input gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from slawatch.clock.engine import Engine, Verdict
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import parse_event, raw_for_report
from slawatch.events.model import InputEvent, Rejection, TicketEvent
from slawatch.outputs import Output

__all__ = ["Cause", "ReplayProblem", "ReplayStats", "replay"]


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
    engine = (
        Engine(versions, lateness=lateness)
        if retention is None
        else Engine(versions, lateness=lateness, retention=retention)
    )
    stats = ReplayStats()
    now: int | None = None

    def problem(number: int, raw: bytes, error: str, reason: str) -> None:
        report = ReplayProblem(number, error, raw_for_report(raw), reason)
        stats.problems.append(report)
        if on_problem is not None:
            on_problem(report)

    def step(outputs: list[Output], cause: Cause) -> None:
        if outputs:
            outputs.sort(key=Output.sort_key)
            stats.outputs += len(outputs)
            emit(outputs, cause)

    for number, raw in enumerate(lines, 1):
        stats.lines = number
        if not raw.strip():
            continue
        event = parse_event(raw)
        if isinstance(event, Rejection):
            stats.rejected += 1
            problem(number, raw, event.message, event.reason.value)
            continue
        arrival = _arrival(event)
        if until is not None and arrival > until:
            stats.after_until += 1
            continue
        verdict = engine.check(event, now if now is not None else arrival)
        if verdict is Verdict.DUPLICATE:
            stats.duplicates += 1
            continue
        if verdict is Verdict.TOO_LATE:
            stats.too_late += 1
            problem(
                number, raw, "too_late: the history this late event needs was discarded", "too_late"
            )
            continue
        if now is None or arrival > now:
            now = arrival
            step(engine.due(now), Cause(None, None, now))
        result = engine.apply(event, now)
        if result.verdict is Verdict.TOO_LATE:
            stats.too_late += 1
            problem(
                number, raw, "too_late: the history this late event needs was discarded", "too_late"
            )
            continue
        if result.verdict is Verdict.RECOMPUTED:
            stats.recomputed += 1
        elif result.verdict is Verdict.IGNORED and isinstance(event, TicketEvent):
            stats.ignored += 1
        else:
            stats.applied += 1
        step(result.outputs, Cause(number, event, now))
    final = until if until is not None else now
    if final is not None:
        step(engine.due(final + 1), Cause(None, None, final))
    return stats
