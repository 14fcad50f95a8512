"""A slow, obviously-correct business calendar to check :mod:`slawatch.calendar` against.

It walks local dates one by one and resolves each boundary by trying both folds and
keeping the candidates whose UTC instant reads back as the wall time (the earliest
wins); a wall time with no such instant is in a gap, and resolves to the first
second, found by stepping, whose wall clock is at or past it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import from_datetime, to_datetime


def wall(tz: ZoneInfo, instant: int) -> datetime:
    return to_datetime(instant).astimezone(tz).replace(tzinfo=None, fold=0)


def resolve(tz: ZoneInfo, local: datetime) -> int:
    candidates = [from_datetime(local.replace(tzinfo=tz, fold=fold)) for fold in (0, 1)]
    valid = [u for u in candidates if wall(tz, u) == local]
    if valid:
        return min(valid)
    u = min(candidates)
    while wall(tz, u) < local:
        u += 60_000_000
    while wall(tz, u - 1_000_000) >= local:
        u -= 1_000_000
    return u


def local_date(tz: ZoneInfo, instant: int) -> date:
    return to_datetime(instant).astimezone(tz).date()


def day_intervals(definition: CalendarDef, day: date) -> list[tuple[int, int]]:
    if day in definition.holidays:
        return []
    tz = ZoneInfo(definition.timezone)
    midnight = datetime(day.year, day.month, day.day)
    out = []
    for first, last in definition.week[day.weekday()]:
        start = resolve(tz, midnight + timedelta(seconds=first))
        end = resolve(tz, midnight + timedelta(seconds=last))
        if end > start:
            out.append((start, end))
    return out


def intervals_from(definition: CalendarDef, instant: int) -> Iterator[tuple[int, int]]:
    """Every working interval ending after ``instant``, unclipped, in order."""
    day = local_date(ZoneInfo(definition.timezone), instant) - timedelta(days=2)
    while True:
        for start, end in day_intervals(definition, day):
            if end > instant:
                yield start, end
        day += timedelta(days=1)


def intervals(definition: CalendarDef, start: int, end: int) -> list[tuple[int, int]]:
    """The working intervals clipped to ``[start, end)``, adjacent ones merged."""
    if definition.always_open:
        return [(start, end)] if end > start else []
    out: list[tuple[int, int]] = []
    for s, e in intervals_from(definition, start):
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        if e <= s:
            continue
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def elapsed(definition: CalendarDef, start: int, end: int) -> int:
    return sum(e - s for s, e in intervals(definition, start, end))


def advance(definition: CalendarDef, start: int, amount: int) -> int:
    if amount == 0 or definition.always_open:
        return start + amount
    remaining = amount
    for s, e in intervals_from(definition, start):
        s = max(s, start)
        if e - s >= remaining:
            return s + remaining
        remaining -= e - s
    raise AssertionError("unreachable")


def is_open(definition: CalendarDef, instant: int) -> bool:
    return bool(intervals(definition, instant, instant + 1))
