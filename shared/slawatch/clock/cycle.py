"""One clock cycle of one ticket target: a small state machine over business time.

A cycle is running or paused until it is closed (stopped or cancelled). It keeps
``acc``, the business microseconds accrued up to ``since`` under its current goal's
calendar, plus the instants it paused and resumed, so a goal change can recompute
elapsed time under another calendar (rule 17). Instants are integer microseconds.

Errors: :class:`IllegalTransition` for a move the state machine refuses (pausing a
paused cycle, touching a closed one, time going backwards).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from slawatch.calendar import BusinessCalendar
from slawatch.clock.catalog import Threshold, VersionView
from slawatch.definitions.model import Goal, Sla, Target
from slawatch.timeutil import format_time

__all__ = ["Cycle", "CycleState", "IllegalTransition"]


class IllegalTransition(RuntimeError):
    """A cycle was asked to make a move its state does not allow."""


class CycleState(StrEnum):
    """Where a cycle is."""

    RUNNING = "running"
    """Accruing business time."""
    PAUSED = "paused"
    """Matching ``pause_while``: accruing nothing."""
    CLOSED = "closed"
    """Stopped or cancelled; kept only for its outputs."""


# Read on every event and timer: module globals rather than ``CycleState.RUNNING``, whose
# look-up through the enum's class costs several times a global's under Python 3.11.
_RUNNING: Final = CycleState.RUNNING
_PAUSED: Final = CycleState.PAUSED
_CLOSED: Final = CycleState.CLOSED


class Cycle:
    """A clock: one run of one target for one ticket."""

    __slots__ = (
        "_deadline",
        "_deadline_text",
        "_due",
        "_due_known",
        "acc",
        "breach_deadline",
        "calendar",
        "fired",
        "goal",
        "number",
        "order",
        "since",
        "sla",
        "started",
        "state",
        "target",
        "toggles",
        "version",
    )

    def __init__(
        self,
        version: VersionView,
        sla: Sla,
        target: Target,
        order: int,
        number: int,
        started: int,
        goal: Goal,
    ) -> None:
        self.version = version
        self.sla = sla
        self.target = target
        self.order = order
        self.number = number
        self.started = started
        self.goal = goal
        self.calendar: BusinessCalendar = version.calendar(goal)
        self.state = _RUNNING
        self.acc = 0
        self.since = started
        self.toggles: list[int] | None = None
        self.fired = 0
        self.breach_deadline: int | None = None
        self._due: int | None = None
        self._due_known = False
        self._deadline: int | None = None
        self._deadline_text: str | None = None

    @property
    def running(self) -> bool:
        """Whether the cycle accrues time."""
        return self.state is _RUNNING

    @property
    def breached(self) -> bool:
        """Whether the cycle has breached (final for the cycle, rule 16)."""
        return self.breach_deadline is not None

    def elapsed_at(self, t: int) -> int:
        """Business microseconds accrued at ``t`` (``t`` not before the last change)."""
        if self.state is _RUNNING:
            if t < self.since:
                raise IllegalTransition(
                    f"elapsed asked at {t}, before the last change {self.since}"
                )
            return self.acc + self.calendar.elapsed(self.since, t)
        return self.acc

    def deadline(self) -> int | None:
        """The instant elapsed reaches the goal if the cycle keeps running; ``None`` if paused."""
        if self.state is not _RUNNING:
            return None
        if self._deadline is None:
            self._deadline = self.calendar.advance(self.since, max(0, self.goal.target - self.acc))
        return self._deadline

    def deadline_field(self) -> int | None:
        """The ``deadline`` of an output (``events.md``)."""
        if self.breach_deadline is not None:
            return self.breach_deadline
        return self.deadline()

    def deadline_written(self) -> str | None:
        """:meth:`deadline_field` as an output writes it, kept until a move or the breach
        can change it."""
        text = self._deadline_text
        if text is None:
            deadline = self.deadline_field()
            if deadline is None:
                return None
            text = self._deadline_text = format_time(deadline)
        return text

    def thresholds(self) -> tuple[Threshold, ...]:
        """The warning points of the goal in force."""
        return self.version.thresholds(self.target, self.goal.target)

    def next_due(self) -> int | None:
        """The next instant a warning point or the breach falls due, if running."""
        if self._due_known:
            return self._due
        due: int | None = None
        if self.state is _RUNNING and self.breach_deadline is None:
            want = self.goal.target
            for at, index, _ in self.thresholds():
                if not self.fired & (1 << index):
                    want = at
                    break
            due = self.calendar.advance(self.since, max(0, want - self.acc))
        self._due = due
        self._due_known = True
        return due

    # --- moves -------------------------------------------------------------------

    def _check_open(self, t: int) -> None:
        self._due_known = False
        self._deadline = None
        self._deadline_text = None
        if self.state is _CLOSED:
            raise IllegalTransition("the cycle is closed")
        if t < self.since:
            raise IllegalTransition(f"time went backwards: {t} < {self.since}")

    def pause(self, t: int) -> None:
        """Stop accruing at ``t``."""
        self._check_open(t)
        if self.state is not _RUNNING:
            raise IllegalTransition("pause of a cycle that is not running")
        self.acc += self.calendar.elapsed(self.since, t)
        self.since = t
        self.state = _PAUSED
        self._toggle(t)

    def resume(self, t: int) -> None:
        """Accrue again from ``t``."""
        self._check_open(t)
        if self.state is not _PAUSED:
            raise IllegalTransition("resume of a cycle that is not paused")
        self.since = t
        self.state = _RUNNING
        self._toggle(t)

    def _toggle(self, t: int) -> None:
        # A new list, never the old one extended: a record exported before (and
        # encoded later, while the engine goes on) keeps the toggles it had.
        self.toggles = [t] if self.toggles is None else [*self.toggles, t]

    def close(self, t: int) -> int:
        """Stop or cancel at ``t``; returns elapsed at ``t``."""
        self._check_open(t)
        elapsed = self.elapsed_at(t)
        self.acc = elapsed
        self.since = t
        self.state = _CLOSED
        return elapsed

    def running_intervals(self, t: int) -> list[tuple[int, int]]:
        """The intervals the cycle ran in, from its start up to ``t``."""
        marks = [self.started, *(self.toggles or ())]
        spans = []
        for i in range(0, len(marks), 2):
            end = marks[i + 1] if i + 1 < len(marks) else t
            if end > marks[i]:
                spans.append((marks[i], min(end, t)))
        return spans

    def change_goal(self, goal: Goal, t: int) -> tuple[int, int | None]:
        """Apply a new goal at ``t``, recomputing elapsed under its calendar (rule 17).

        Returns the new elapsed and, when it reaches the new goal, the instant within the
        running intervals at which it did.
        """
        self._check_open(t)
        calendar = self.version.calendar(goal)
        elapsed = 0
        reached: int | None = None
        for a, b in self.running_intervals(t):
            span = calendar.elapsed(a, b)
            if reached is None and elapsed + span >= goal.target:
                reached = calendar.advance(a, goal.target - elapsed)
            elapsed += span
        self.goal = goal
        self.calendar = calendar
        self.acc = elapsed
        self.since = t
        return elapsed, reached

    def mark(self, index: int) -> None:
        """Mark a warning point fired or passed."""
        self.fired |= 1 << index
        self._due_known = False

    def is_marked(self, index: int) -> bool:
        """Whether a warning point fired or was passed."""
        return bool(self.fired & (1 << index))

    def breach(self, deadline: int) -> None:
        """Record the breach (once per cycle); every warning point counts as passed."""
        if self.breach_deadline is not None:
            raise IllegalTransition("a cycle breaches at most once")
        self.breach_deadline = deadline
        self._due_known = False
        self._deadline_text = None
        for _, index, _ in self.thresholds():
            self.mark(index)
