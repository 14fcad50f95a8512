"""Business-time arithmetic on one calendar (``semantics.md`` rules 13 and 14).

:class:`BusinessCalendar` answers how much business time lies between two instants
and when a given amount of it will have elapsed. Working intervals are precomputed
per local year (:mod:`slawatch.calendar.years`) on first use, so every query is a
few bisections; the ``24x7`` calendar is plain subtraction. Queries that find no
working time in :data:`MAX_IDLE_YEARS` consecutive years raise :class:`ValueError`.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from slawatch.calendar.years import YearChunk
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import EPOCH

__all__ = ["MAX_IDLE_YEARS", "BusinessCalendar", "calendar_for"]

MAX_IDLE_YEARS = 100
_MIN_YEAR, _MAX_YEAR = 2, 9998


class BusinessCalendar:
    """The business time of a :class:`CalendarDef`; instants are microseconds UTC."""

    __slots__ = ("_always", "_by_year", "_last", "_lock", "_lows", "_sorted", "_tz", "definition")

    def __init__(self, definition: CalendarDef) -> None:
        self.definition = definition
        self._always = definition.always_open
        self._tz = None if self._always else ZoneInfo(definition.timezone)
        self._by_year: dict[int, YearChunk] = {}
        self._lows: list[int] = []
        self._sorted: list[YearChunk] = []
        self._last: YearChunk | None = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """The calendar's id."""
        return self.definition.id

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.definition.id!r})"

    def elapsed(self, start: int, end: int) -> int:
        """Business microseconds in ``[start, end)``; 0 when ``end <= start``."""
        if end <= start:
            return 0
        if self._always:
            return end - start
        chunk = self._chunk_at(start)
        if end <= chunk.hi:
            return chunk.accrued_at(end) - chunk.accrued_at(start)
        total = chunk.total - chunk.accrued_at(start)
        chunk = self._year(chunk.year + 1)
        while end > chunk.hi:
            total += chunk.total
            chunk = self._year(chunk.year + 1)
        return total + chunk.accrued_at(end)

    def advance(self, start: int, amount: int) -> int:
        """The earliest instant ``t >= start`` with ``elapsed(start, t) == amount``."""
        if amount <= 0:
            if amount == 0:
                return start
            raise ValueError(f"cannot advance by a negative amount ({amount})")
        if self._always:
            return start + amount
        chunk = self._chunk_at(start)
        target = chunk.accrued_at(start) + amount
        idle = 0
        while target > chunk.total:
            target -= chunk.total
            idle = 0 if chunk.total else idle + 1
            self._check_idle(idle, start)
            chunk = self._year(chunk.year + 1)
        return chunk.reach(target)

    def is_open(self, t: int) -> bool:
        """Whether ``t`` lies inside a working interval."""
        if self._always:
            return True
        return bisect_right(self._chunk_at(t).bounds, t) & 1 == 1

    def next_opening(self, t: int) -> int:
        """``t`` when open, else the start of the next working interval."""
        if self._always:
            return t
        chunk = self._chunk_at(t)
        j = bisect_right(chunk.bounds, t)
        if j & 1:
            return t
        idle = 0
        while j == len(chunk.bounds):
            idle += 1
            self._check_idle(idle, t)
            chunk = self._year(chunk.year + 1)
            j = 0
        return chunk.bounds[j]

    def intervals(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """The working intervals clipped to ``[start, end)``, in order; adjacent ones may touch."""
        if end <= start:
            return
        if self._always:
            yield start, end
            return
        chunk = self._chunk_at(start)
        j = bisect_right(chunk.bounds, start) & ~1
        while True:
            bounds = chunk.bounds
            while j < len(bounds) and bounds[j] < end:
                yield max(bounds[j], start), min(bounds[j + 1], end)
                j += 2
            if j < len(bounds) or chunk.hi >= end:
                return
            chunk = self._year(chunk.year + 1)
            j = 0

    def _chunk_at(self, t: int) -> YearChunk:
        chunk = self._last
        if chunk is not None and chunk.lo <= t < chunk.hi:
            return chunk
        i = bisect_right(self._lows, t) - 1
        if i >= 0 and t < self._sorted[i].hi:
            chunk = self._sorted[i]
        else:
            chunk = self._year(self._local_year(t))
            while t < chunk.lo:
                chunk = self._year(chunk.year - 1)
            while t >= chunk.hi:
                chunk = self._year(chunk.year + 1)
        self._last = chunk
        return chunk

    def _local_year(self, t: int) -> int:
        try:
            return (EPOCH + timedelta(microseconds=t)).astimezone(self._tz).year
        except OverflowError:
            raise ValueError(f"instant out of range: {t}") from None

    def _year(self, year: int) -> YearChunk:
        chunk = self._by_year.get(year)
        if chunk is not None:
            return chunk
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise ValueError(f"calendar {self.id!r}: year {year} out of range")
        assert self._tz is not None
        with self._lock:
            chunk = self._by_year.get(year)
            if chunk is None:
                chunk = YearChunk(self.definition, self._tz, year)
                i = bisect_right(self._lows, chunk.lo)
                self._lows.insert(i, chunk.lo)
                self._sorted.insert(i, chunk)
                self._by_year[year] = chunk
        return chunk

    def _check_idle(self, idle: int, since: int) -> None:
        if idle > MAX_IDLE_YEARS:
            raise ValueError(
                f"calendar {self.id!r} has no working time in {MAX_IDLE_YEARS} years after {since}"
            )


_CACHE_LIMIT = 4096
_by_identity: dict[int, tuple[CalendarDef, BusinessCalendar]] = {}
_by_value: dict[CalendarDef, BusinessCalendar] = {}
_cache_lock = threading.Lock()


def calendar_for(definition: CalendarDef) -> BusinessCalendar:
    """The shared :class:`BusinessCalendar` of a definition (equal definitions share one)."""
    entry = _by_identity.get(id(definition))
    if entry is not None and entry[0] is definition:
        return entry[1]
    with _cache_lock:
        if len(_by_identity) >= _CACHE_LIMIT:
            _by_identity.clear()
            _by_value.clear()
        calendar = _by_value.get(definition)
        if calendar is None:
            calendar = _by_value[definition] = BusinessCalendar(definition)
        _by_identity[id(definition)] = (definition, calendar)
    return calendar
