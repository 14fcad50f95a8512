"""One window of one availability objective for one service (rules 20-26).

An :class:`ObjectiveWindow` tallies measured time by status from its ``origin`` (the
window's start, or the later instant measuring began) up to ``since``, and keeps
``due``: the projected instant of the next budget warning or of the breach if the
status in force does not change. Projections are exact (measured time as fractions of a
microsecond) and the instant is the first whole microsecond not before the exact one.
The window is driven by :mod:`slawatch.availability.service`: advance it to an
instant, set its status, then fire what is due there.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Any, NamedTuple

from slawatch.availability.budget import (
    Rates,
    Tally,
    allowance,
    availability_ratio,
    credit_percent,
    crossing,
    outcome,
    rates,
    ratio_number,
    seconds_number,
)
from slawatch.availability.maintenance import Span, clip, merge
from slawatch.availability.measured import MeasuredTime
from slawatch.availability.status import Check, Status, next_expiry
from slawatch.clock.catalog import VersionView
from slawatch.definitions.model import Availability
from slawatch.outputs import Output, OutputType, output_id
from slawatch.timeutil import SECOND, format_time

__all__ = ["TARGET", "ObjectiveWindow", "WindowReading"]

TARGET = "availability"
"""The ``target`` of every availability output."""


class WindowReading(NamedTuple):
    """A window's availability and budget remaining (fractions), and its downtime and
    measured seconds, from its start to an instant."""

    availability: float | None
    remaining: float | None
    downtime_seconds: float
    measured_seconds: float


def _points(objective: Availability) -> tuple[tuple[Fraction, int], ...]:
    return tuple(sorted((f, i) for i, f in enumerate(objective.warn_at_budget)))


class ObjectiveWindow:
    """The open window of one objective: its layout, tallies, status and projection."""

    __slots__ = (
        "breached",
        "due",
        "end",
        "fired",
        "measured",
        "objective",
        "order",
        "origin",
        "planned",
        "points",
        "scheduled",
        "share",
        "since",
        "start",
        "status",
        "tally",
        "version",
    )

    def __init__(
        self,
        objective: Availability,
        version: VersionView,
        order: int,
        bounds: tuple[int, int],
        origin: int,
        planned: tuple[Span, ...],
        announced: Iterable[Span],
        status: Status,
    ) -> None:
        self.objective = objective
        self.version = version
        self.order = order
        self.start, self.end = bounds
        self.origin = origin
        self.planned = planned
        self.points = _points(objective)
        self.share = allowance(objective.objective)
        self.since = origin
        self.tally = Tally()
        self.status = status
        self.fired = 0
        self.breached = False
        self.due: int | None = None
        self.measured = MeasuredTime(
            version.calendars[objective.calendar], list(planned), origin, self.end
        )
        self.scheduled = 0
        self.set_maintenance(announced)
        self.reproject()

    # --- layout -------------------------------------------------------------------

    def set_maintenance(self, announced: Iterable[Span]) -> None:
        """Lay out measured time with the planned and the announced maintenance known now."""
        holes = merge([*self.planned, *clip(announced, self.origin, self.end)])
        self.measured = MeasuredTime(self.measured.calendar, holes, self.origin, self.end)
        self.scheduled = self.measured.elapsed(self.origin, self.end)

    # --- state at ``since`` ---------------------------------------------------------

    def advance(self, t: int) -> None:
        """Tally measured time up to ``t`` under the status in force."""
        if t > self.since:
            amount = self.measured.elapsed(self.since, t)
            if amount:
                self.tally.add(self.status, amount)
            self.since = t

    def downtime(self) -> Fraction:
        """Downtime so far (rule 22)."""
        o = self.objective
        return self.tally.downtime(o.degraded_weight, o.unknown_counts_as)

    def base(self) -> int:
        """Scheduled measured time minus the unknown time excluded so far (rule 23)."""
        return self.scheduled - self.tally.excluded(self.objective.unknown_counts_as)

    def measured_so_far(self) -> int:
        """Measured time from the origin to ``since``, excluded unknown time left out."""
        return self.tally.measured(self.objective.unknown_counts_as)

    def reading(self, now: int) -> WindowReading:
        """The window's figures at ``now``, for metrics, from one read of its tally.

        Reads the window without changing it: the status in force is assumed to hold
        from the last change to ``now``. A ratio is ``None`` while its base is zero.
        """
        tally = self._tally_at(now)
        o = self.objective
        measured = tally.measured(o.unknown_counts_as)
        downtime = tally.downtime(o.degraded_weight, o.unknown_counts_as)
        availability = None if measured <= 0 else float(1 - downtime / measured)
        budget = self.share * (self.scheduled - tally.excluded(o.unknown_counts_as))
        remaining = None if budget <= 0 else float(1 - downtime / budget)
        return WindowReading(availability, remaining, float(downtime / SECOND), measured / SECOND)

    def _tally_at(self, now: int) -> Tally:
        tally = copy.copy(self.tally)
        upto = min(now, self.end)
        if upto > self.since:
            amount = self.measured.elapsed(self.since, upto)
            if amount:
                tally.add(self.status, amount)
        return tally

    def left(self) -> int:
        """Measured time still scheduled after ``since``."""
        return self.scheduled - self.tally.total

    def next_due(self, checks: Iterable[Check]) -> int:
        """The earliest of the projection, the next staleness of a check and the window end."""
        due = self.end
        projected = self.due
        if projected is not None and projected < due:
            due = projected
        stale_after = self.objective.stale_after
        if stale_after is not None:
            expiry = next_expiry(checks, self.since, stale_after)
            if expiry is not None and expiry < due:
                due = expiry
        return due

    # --- projection -----------------------------------------------------------------

    def reproject(self) -> None:
        """Recompute ``due`` from the state at ``since``."""
        self.due = None if self.breached else self._projection()

    def upcoming(self) -> list[tuple[float | None, int | None]]:
        """Every budget warning not reached yet (its threshold), then the breach (``None``),
        each with the instant it falls due if the status in force holds, else ``None``."""
        if self.breached:
            return []
        o = self.objective
        r = rates(self.status, o.degraded_weight, o.unknown_counts_as)
        d, base, left = self.downtime(), self.base(), self.left()
        items: list[tuple[float | None, int | None]] = []
        for fraction, index in self.points:
            if not self.fired >> index & 1:
                m = crossing(d, base, self.share, fraction, r)
                at = (
                    None
                    if m is None or m > left
                    else self.measured.advance(self.since, math.ceil(m))
                )
                items.append((o.warn_at_budget_written[index], at))
        items.append((None, self._breach_at(r, d, base, left)))
        return items

    def _projection(self) -> int | None:
        o = self.objective
        r = rates(self.status, o.degraded_weight, o.unknown_counts_as)
        d, base, left = self.downtime(), self.base(), self.left()
        for fraction, index in self.points:
            if not self.fired >> index & 1:
                m = crossing(d, base, self.share, fraction, r)
                if m is None or m > left:
                    return None
                return self.measured.advance(self.since, math.ceil(m))
        return self._breach_at(r, d, base, left)

    def _breach_at(self, r: Rates, d: Fraction, base: int, left: int) -> int | None:
        budget = self.share * base
        if d > budget:
            return self.since
        slope = r.downtime + self.share * r.excluded
        if slope == 0:
            return None
        m = (budget - d) / slope
        if m >= left:
            return None
        if m.denominator == 1:
            return self.measured.next_accruing(self.measured.advance(self.since, int(m)))
        return self.measured.advance(self.since, math.ceil(m))

    def _exceeded(self, d: Fraction, budget: Fraction) -> bool:
        if d != budget:
            return d > budget
        o = self.objective
        r = rates(self.status, o.degraded_weight, o.unknown_counts_as)
        return (r.downtime > 0 or r.excluded > 0) and self.measured.accrues_at(self.since)

    # --- outputs --------------------------------------------------------------------

    def fire(self, subject: str, service: str, outs: list[Output]) -> None:
        """Emit the breach or the nearest warning reached at ``since`` (rules 24, 25)."""
        d = self.downtime()
        budget = self.share * self.base()
        if not self.breached and self._exceeded(d, budget):
            self.breached = True
            self.fired = (1 << len(self.points)) - 1
            self._emit(
                outs,
                subject,
                service,
                OutputType.AVAILABILITY_BREACHED,
                {
                    "availability": self._ratio(availability_ratio(d, self.measured_so_far())),
                    "budget_seconds": seconds_number(budget),
                    "downtime_seconds": seconds_number(d),
                },
            )
        elif budget > 0:
            reached = None
            for fraction, index in self.points:
                if not self.fired >> index & 1 and d >= fraction * budget:
                    self.fired |= 1 << index
                    reached = index
            if reached is not None:
                threshold = self.objective.warn_at_budget_written[reached]
                self._emit(
                    outs,
                    subject,
                    service,
                    OutputType.AVAILABILITY_WARNING,
                    {
                        "budget_consumed": ratio_number(d / budget),
                        "threshold": threshold,
                        "availability": self._ratio(availability_ratio(d, self.measured_so_far())),
                    },
                    (threshold,),
                )
        self.reproject()

    def close(self, subject: str, service: str, outs: list[Output]) -> None:
        """Emit ``sla.availability.window_closed`` (rule 26); ``since`` is the window end."""
        d = self.downtime()
        base = self.base()
        availability = availability_ratio(d, base)
        self._emit(
            outs, subject, service, OutputType.WINDOW_CLOSED,
            {
                "availability": self._ratio(availability),
                "outcome": outcome(availability, self.objective.objective).value,
                "credit_percent": credit_percent(availability, self.objective.credits),
                "downtime_seconds": seconds_number(d),
                "measured_seconds": seconds_number(base),
            },
        )  # fmt: skip

    @staticmethod
    def _ratio(value: Fraction | None) -> int | float | None:
        return None if value is None else ratio_number(value)

    def _emit(
        self,
        outs: list[Output],
        subject: str,
        service: str,
        kind: OutputType,
        extras: dict[str, Any],
        discriminator: tuple[Any, ...] = (),
    ) -> None:
        o = self.objective
        t = self.since
        time_text = format_time(t)
        start_text = format_time(self.start)
        body: dict[str, Any] = {
            "id": output_id(
                kind.value, subject, o.id, TARGET, start_text, time_text, *discriminator
            ),
            "type": kind.value,
            "time": time_text,
            "sla": o.id,
            "target": TARGET,
            "kind": o.kind.value,
            "subject": subject,
            "window_start": start_text,
            "window_end": format_time(self.end),
            "labels": {"service": service},
            "definitions_version": self.version.number,
        }
        body.update(extras)
        outs.append(Output(kind, t, subject, self.order, 0, body))
