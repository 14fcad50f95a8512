"""Read-only views of open clocks at an instant, for the evaluator's API.

A view gives a clock's state, elapsed and remaining business time at ``now``, how far
past its goal it is, and every upcoming warning point and the breach with the instant
each falls due if the clock keeps running (``None`` while it is paused).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slawatch.clock.cycle import Cycle, CycleState
from slawatch.clock.ticket import TicketState
from slawatch.timeutil import format_seconds, format_time

__all__ = [
    "ClockView",
    "clock_id",
    "clock_views",
    "due_clock_views",
    "parse_clock_id",
]


def clock_id(subject: str, sla: str, target: str, cycle: int) -> str:
    """A clock's stable, readable id: ``SUBJECT/SLA/TARGET/CYCLE``."""
    return f"{subject}/{sla}/{target}/{cycle}"


def parse_clock_id(text: str) -> tuple[str, str, str, str] | None:
    """The (subject, sla, target, cycle) of a clock id, or ``None`` if it is not one.

    The last part is a ticket clock's cycle number, or an availability objective's
    window start (or ``rolling``).
    """
    parts = text.rsplit("/", 3)
    if len(parts) != 4 or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]


@dataclass(frozen=True, slots=True)
class ClockView:
    """One open clock as the API shows it; ``deadline`` is its ``deadline`` field's instant."""

    id: str
    body: dict[str, Any]
    deadline: int | None = None


def _time_or_none(instant: int | None) -> str | None:
    return None if instant is None else format_time(instant)


def _upcoming(cycle: Cycle) -> list[dict[str, Any]]:
    running = cycle.state is CycleState.RUNNING
    items: list[dict[str, Any]] = []
    if cycle.breached:
        return items
    for at, index, _ in cycle.thresholds():
        if cycle.is_marked(index):
            continue
        due = cycle.calendar.advance(cycle.since, max(0, at - cycle.acc)) if running else None
        items.append(
            {
                "type": "sla.warning",
                "threshold": cycle.target.warn_at[index].written,
                "at": _time_or_none(due),
            }
        )
    deadline = cycle.deadline()
    items.append({"type": "sla.breached", "at": _time_or_none(deadline)})
    return items


def clock_views(subject: str, state: TicketState, now: int) -> list[ClockView]:
    """The open clocks of one ticket at processing time ``now``."""
    return [_view(subject, state, cycle, now) for cycle in state.open.values()]


def due_clock_views(
    subject: str,
    state: TicketState,
    now: int,
    until: int,
    *,
    sla: str | None = None,
    target: str | None = None,
) -> list[ClockView]:
    """The open clocks of one ticket (of ``sla`` and ``target`` when given) that have
    breached or, running, fall due by ``until`` (overdue ones included): a desk's
    "breaching soon" queue."""
    return [
        _view(subject, state, cycle, now)
        for cycle in state.open.values()
        if (sla is None or cycle.sla.id == sla)
        and (target is None or cycle.target.id == target)
        and _is_due_by(cycle, until)
    ]


def _is_due_by(cycle: Cycle, until: int) -> bool:
    """Whether a clock's ``deadline`` is at or before ``until``: a breached clock's is the
    past instant it breached at (unless event times run ahead of the clock), a running
    one's when it will; a paused clock that has not breached has none."""
    deadline = cycle.deadline_field()
    return deadline is not None and deadline <= until


def _view(subject: str, state: TicketState, cycle: Cycle, now: int) -> ClockView:
    elapsed = cycle.elapsed_at(max(now, cycle.since))
    ident = clock_id(subject, cycle.sla.id, cycle.target.id, cycle.number)
    deadline = cycle.deadline_field()
    return ClockView(
        ident,
        {
            "id": ident,
            "subject": subject,
            "sla": cycle.sla.id,
            "target": cycle.target.id,
            "kind": cycle.sla.kind.value,
            "cycle": cycle.number,
            "state": cycle.state.value,
            "started": format_time(cycle.started),
            "goal_seconds": format_seconds(cycle.goal.target),
            "calendar": cycle.goal.calendar,
            "elapsed_seconds": format_seconds(elapsed),
            "remaining_seconds": format_seconds(max(0, cycle.goal.target - elapsed)),
            "overdue_seconds": format_seconds(max(0, elapsed - cycle.goal.target)),
            "breached": cycle.breached,
            "deadline": _time_or_none(deadline),
            "upcoming": _upcoming(cycle),
            "labels": state.labels(),
            "definitions_version": cycle.version.number,
            "as_of": format_time(now),
        },
        deadline,
    )
