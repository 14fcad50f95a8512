"""One local year of a calendar's working time, as flat sorted arrays of instants.

A :class:`YearChunk` covers the instants from 00:00 local on 1 January of its year to
00:00 local on the next 1 January (both resolved by rule 13), so the chunks of
consecutive years tile the time line. It holds the year's working intervals (rule 13)
in UTC microseconds, adjacent ones merged, and the business time accrued from the
chunk's start to the end of each; all arithmetic on it is a bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from zoneinfo import ZoneInfo

from slawatch.calendar.localtime import resolve_naive
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import DAY, SECOND

__all__ = ["YearChunk", "year_start"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def year_start(tz: ZoneInfo, year: int) -> int:
    """The instant of 00:00 local on 1 January of ``year``."""
    return resolve_naive(tz, (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * DAY)


class YearChunk:
    """The working intervals of one local year.

    ``bounds`` alternates interval starts and ends (strictly increasing); ``accrued[i]``
    is the business time from ``lo`` to the end of interval ``i``; ``total`` is the
    year's business time.
    """

    __slots__ = ("accrued", "bounds", "hi", "lo", "total", "year")

    def __init__(self, definition: CalendarDef, tz: ZoneInfo, year: int) -> None:
        self.year = year
        self.lo = year_start(tz, year)
        self.hi = year_start(tz, year + 1)
        self.bounds: list[int] = []
        self.accrued: list[int] = []
        bounds, accrued = self.bounds, self.accrued
        week, holidays = definition.week, definition.holidays
        resolved: dict[int, int] = {}
        total = 0
        for ordinal in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()):
            spans = week[(ordinal - 1) % 7]
            if not spans or (holidays and date.fromordinal(ordinal) in holidays):
                continue
            midnight = (ordinal - _EPOCH_ORDINAL) * DAY
            for first, last in spans:
                start = _resolve(tz, midnight + first * SECOND, resolved)
                end = _resolve(tz, midnight + last * SECOND, resolved)
                if end <= start:
                    continue
                total += end - start
                if bounds and bounds[-1] == start:
                    bounds[-1] = end
                    accrued[-1] = total
                else:
                    bounds += (start, end)
                    accrued.append(total)
        self.total = total

    def accrued_at(self, t: int) -> int:
        """Business time in ``[lo, t)``, for ``lo <= t <= hi``."""
        j = bisect_right(self.bounds, t)
        if j & 1:
            return self.accrued[j >> 1] - (self.bounds[j] - t)
        return self.accrued[(j >> 1) - 1] if j else 0

    def reach(self, target: int) -> int:
        """The earliest instant with ``accrued_at == target``, for ``0 < target <= total``."""
        i = bisect_left(self.accrued, target)
        return self.bounds[2 * i + 1] - (self.accrued[i] - target)


def _resolve(tz: ZoneInfo, naive: int, memo: dict[int, int]) -> int:
    instant = memo.get(naive)
    if instant is None:
        instant = memo[naive] = resolve_naive(tz, naive)
    return instant
