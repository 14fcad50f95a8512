"""Micro-benchmark of business-time arithmetic: nanoseconds per call.

Run as ``.venv/bin/python bench/calendar_bench.py``. Year chunks are built before
timing, so the figures are the steady-state cost per event.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, timedelta

from slawatch.calendar import BusinessCalendar
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import DAY, HOUR, parse_time

CALLS = 200_000

OFFICE_WEEK = tuple(
    ((8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)) if d < 5 else () for d in range(7)
)
DECEMBER = frozenset(date(2026, 11, 30) + timedelta(days=i) for i in range(32) if i % 9)


def per_call(fn: Callable[[int, int], int], pairs: list[tuple[int, int]]) -> float:
    begin = time.perf_counter_ns()
    for a, b in pairs:
        fn(a, b)
    return (time.perf_counter_ns() - begin) / len(pairs)


def main() -> None:
    rng = random.Random(7)
    year = parse_time("2026-01-01T00:00:00Z")
    instants = [year + rng.randrange(360 * DAY) for _ in range(CALLS)]
    spans = [(t, t + rng.randrange(10 * DAY)) for t in instants]
    december = [parse_time("2026-11-27T10:00:00Z") + rng.randrange(DAY) for _ in range(CALLS)]
    calendars = {
        "24x7": BusinessCalendar(CalendarDef("24x7", "UTC", (), always_open=True)),
        "office": BusinessCalendar(CalendarDef("office", "Europe/Amsterdam", OFFICE_WEEK)),
        "holidays": BusinessCalendar(
            CalendarDef("holidays", "Europe/Amsterdam", OFFICE_WEEK, holidays=DECEMBER)
        ),
    }
    for calendar in calendars.values():
        calendar.elapsed(year - DAY, year + 400 * DAY)
    rows = [
        ("24x7", "elapsed (span < 10d)", calendars["24x7"].elapsed, spans),
        ("24x7", "advance 4h", calendars["24x7"].advance, [(t, 4 * HOUR) for t in instants]),
        ("office", "elapsed (span < 10d)", calendars["office"].elapsed, spans),
        ("office", "advance 1h", calendars["office"].advance, [(t, HOUR) for t in instants]),
        ("office", "advance 4h", calendars["office"].advance, [(t, 4 * HOUR) for t in instants]),
        ("office", "is_open", lambda t, _: int(calendars["office"].is_open(t)), spans),
        (
            "holidays",
            "advance 1h (late Nov)",
            calendars["holidays"].advance,
            [(t, HOUR) for t in december],
        ),
        (
            "holidays",
            "advance 5d (across Dec)",
            calendars["holidays"].advance,
            [(t, 120 * HOUR) for t in december],
        ),
        (
            "holidays",
            "elapsed across Dec",
            calendars["holidays"].elapsed,
            [(t, t + 40 * DAY) for t in december],
        ),
    ]
    for name, what, fn, pairs in rows:
        print(f"{name:<9} {what:<26} {per_call(fn, pairs):7.0f} ns/call")


if __name__ == "__main__":
    main()
