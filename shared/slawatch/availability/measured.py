"""Measured time of one window: business time of a calendar, minus maintenance (rule 21).

:class:`MeasuredTime` answers how much measured time lies between two instants, when a
given amount of it will have passed, and whether it accrues at an instant. Instants
are integer microseconds; the maintenance ``holes`` are sorted, disjoint spans inside
the window ``[lo, hi)``, and nothing outside the window is measured.
"""

from __future__ import annotations

from bisect import bisect_right

from slawatch.availability.maintenance import Span
from slawatch.calendar import BusinessCalendar

__all__ = ["MeasuredTime"]


class MeasuredTime:
    """Measured time in ``[lo, hi)``: ``calendar``'s working time outside ``holes``."""

    __slots__ = ("_ends", "calendar", "hi", "holes", "lo")

    def __init__(self, calendar: BusinessCalendar, holes: list[Span], lo: int, hi: int) -> None:
        self.calendar = calendar
        self.holes = holes
        self.lo = lo
        self.hi = hi
        self._ends = [end for _, end in holes]

    def elapsed(self, start: int, end: int) -> int:
        """Measured microseconds in ``[start, end)`` (clipped to the window)."""
        start = max(start, self.lo)
        end = min(end, self.hi)
        if end <= start:
            return 0
        calendar = self.calendar
        total = calendar.elapsed(start, end)
        holes = self.holes
        i = bisect_right(self._ends, start)
        while i < len(holes) and holes[i][0] < end:
            a, b = holes[i]
            total -= calendar.elapsed(max(a, start), min(b, end))
            i += 1
        return total

    def advance(self, start: int, amount: int) -> int:
        """The earliest ``t >= start`` with ``elapsed(start, t) == amount``.

        ``amount`` must not exceed the measured time left in the window after ``start``.
        """
        if amount <= 0:
            return start
        calendar = self.calendar
        t = max(start, self.lo)
        left = amount
        holes = self.holes
        i = bisect_right(self._ends, t)
        while i < len(holes):
            a, b = holes[i]
            if a > t:
                span = calendar.elapsed(t, a)
                if span >= left:
                    return calendar.advance(t, left)
                left -= span
            t = max(t, b)
            i += 1
        return calendar.advance(t, left)

    def _hole_end(self, t: int) -> int | None:
        i = bisect_right(self._ends, t)
        if i < len(self.holes) and self.holes[i][0] <= t:
            return self.holes[i][1]
        return None

    def accrues_at(self, t: int) -> bool:
        """Whether measured time accrues right after ``t`` (``t`` is inside a measured span)."""
        return self.lo <= t < self.hi and self.calendar.is_open(t) and self._hole_end(t) is None

    def next_accruing(self, t: int) -> int | None:
        """The earliest instant ``>= t`` at which measured time accrues, within the window."""
        t = max(t, self.lo)
        while t < self.hi:
            t = self.calendar.next_opening(t)
            if t >= self.hi:
                return None
            hole_end = self._hole_end(t)
            if hole_end is None:
                return t
            t = hole_end
        return None
