"""Calendar-aligned availability windows (rule 20).

:func:`window_at` gives the window of an objective that contains an instant: a
``month`` starts at 00:00 local on the 1st, a ``quarter`` on 1 January, April, July
and October, a ``week`` on Monday, all in the objective's time zone. Boundaries are
local midnights resolved by rule 13 (a midnight in a DST gap is the first instant
after it), so a month spanning a DST change has its real length.

Errors: :class:`ValueError` for a rolling window, which has no calendar boundaries.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from slawatch.calendar import resolve_local
from slawatch.definitions.model import WindowKind
from slawatch.timeutil import to_datetime

__all__ = ["window_at", "zone"]


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name."""
    return ZoneInfo(name)


def _first_day(kind: WindowKind, day: date) -> date:
    if kind is WindowKind.MONTH:
        return day.replace(day=1)
    if kind is WindowKind.WEEK:
        return day - timedelta(days=day.weekday())
    if kind is WindowKind.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"a {kind.value} window has no calendar boundaries")


def _shift(kind: WindowKind, first: date, steps: int) -> date:
    if kind is WindowKind.WEEK:
        return first + timedelta(days=7 * steps)
    months = (3 if kind is WindowKind.QUARTER else 1) * steps
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _midnight(tz: ZoneInfo, day: date) -> int:
    return resolve_local(tz, datetime(day.year, day.month, day.day))


def window_at(kind: WindowKind, tz: ZoneInfo, t: int) -> tuple[int, int]:
    """``(start, end)`` of the ``kind`` window in ``tz`` with ``start <= t < end``."""
    first = _first_day(kind, to_datetime(t).astimezone(tz).date())
    start = _midnight(tz, first)
    while t < start:
        first = _shift(kind, first, -1)
        start = _midnight(tz, first)
    following = _shift(kind, first, 1)
    end = _midnight(tz, following)
    while t >= end:
        start, following = end, _shift(kind, following, 1)
        end = _midnight(tz, following)
    return start, end
