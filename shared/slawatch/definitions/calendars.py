"""Business calendars (``definitions.md``, the ``calendars`` section and "Holidays").

``week`` maps weekday keys to lists of ``"HH:MM-HH:MM"`` (or ``HH:MM:SS``) local working
intervals ``[start, end)``; ``24:00`` may end one. A key is a day (``mon`` .. ``sun``) or
a range in week order (``mon-fri``, ``sat-sun``); a range that wraps past Sunday
(``fri-mon``) is rejected: write ``fri-sun`` and ``mon``. Keys naming the same day merge;
overlapping intervals are an error, touching ones are joined. Holidays are the explicit
``dates`` plus the public holidays of ``country``/``subdivision`` in
:data:`~slawatch.calendar.holidays.HOLIDAY_YEARS`, resolved here once.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date

from slawatch.calendar.holidays import (
    UnknownHolidayRegion,
    package_version,
    resolve_public_holidays,
)
from slawatch.definitions.model import CalendarDef
from slawatch.definitions.problems import Report, at, describe
from slawatch.definitions.readers import NAME, Fields, identifier, mapping, string

__all__ = ["ALWAYS_OPEN", "WEEKDAYS", "calendar", "timezone", "working_seconds_per_day"]

ALWAYS_OPEN = CalendarDef(id="24x7", timezone="UTC", week=(), always_open=True)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CALENDAR_KEYS = frozenset({"timezone", "week", "holidays"})
_HOLIDAY_KEYS = frozenset({"country", "subdivision", "dates"})
_INTERVAL = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?-(\d{2}):(\d{2})(?::(\d{2}))?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DAY = 86_400
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


def timezone(report: Report, path: str, value: object) -> str | None:
    """An IANA time zone name."""
    name = string(report, path, value, "timezone")
    if name is None:
        return None
    if name not in _zone_names():
        report.error(
            path, f"unknown timezone {name!r}: use an IANA name such as Europe/Amsterdam or UTC"
        )
        return None
    return name


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


def calendar(report: Report, path: str, name: str, value: object) -> CalendarDef | None:
    """One entry of ``calendars``, named ``name``."""
    errors_before = len(report.errors)
    if name == ALWAYS_OPEN.id:
        report.error(path, "'24x7' is built in (every instant counts) and cannot be redefined")
    identifier(report, path, name, "a calendar name", NAME)
    fields = Fields.of(report, path, value, "a calendar", _CALENDAR_KEYS)
    if fields is None:
        return None
    zone = fields.required("timezone", timezone)
    week = fields.required("week", _week)
    closed = fields.optional("holidays", _holidays) or _Closures()
    if zone is None or week is None or len(report.errors) != errors_before:
        return None
    return CalendarDef(
        id=name,
        timezone=zone,
        week=week,
        holidays=closed.explicit | closed.public,
        country=closed.country,
        subdivision=closed.subdivision,
        explicit_dates=closed.explicit,
        holidays_package_version=package_version() if closed.country is not None else None,
    )


def working_seconds_per_day(cal: CalendarDef) -> float | None:
    """Average working seconds on a day that has working time; ``None`` for ``24x7``."""
    if cal.always_open:
        return None
    days = [sum(end - start for start, end in day) for day in cal.week]
    working = [seconds for seconds in days if seconds > 0]
    return sum(working) / len(working) if working else None


def _weekdays(report: Report, path: str, key: str) -> list[int] | None:
    first, sep, last = key.partition("-")
    if first in WEEKDAYS and (not sep or last in WEEKDAYS):
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if sep else start
        if end >= start:
            return list(range(start, end + 1))
        head = "sun" if first == "sun" else f"{first}-sun"
        tail = "mon" if last == "mon" else f"mon-{last}"
        report.error(path, f"weekday range {key!r} wraps past Sunday: write {head} and {tail}")
        return None
    report.error(
        path,
        f"unknown weekday {key!r}: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri",
    )
    return None


def _seconds(hours: str, minutes: str, seconds: str | None) -> int | None:
    h, m, s = int(hours), int(minutes), int(seconds or 0)
    if (h, m, s) == (24, 0, 0):
        return _DAY
    if h > 23 or m > 59 or s > 59:
        return None
    return (h * 60 + m) * 60 + s


def _interval(report: Report, path: str, value: object) -> tuple[int, int] | None:
    match = _INTERVAL.match(value) if isinstance(value, str) else None
    if match is None:
        report.error(
            path, f'a working interval must look like "09:00-17:00", not {describe(value)}'
        )
        return None
    start = _seconds(*match.group(1, 2, 3))
    end = _seconds(*match.group(4, 5, 6))
    if start is None or end is None or start == _DAY:
        report.error(
            path, f"{value!r} is not a valid time range (00:00 to 24:00, 24:00 only as an end)"
        )
        return None
    if end == start:
        report.error(path, f"working interval {value!r} is empty")
        return None
    if end < start:
        report.error(
            path,
            f"working interval {value!r} ends before it starts; "
            "a night shift is split at midnight, "
            'e.g. mon: ["22:00-24:00"] and tue: ["00:00-06:00"]',
        )
        return None
    return start, end


def _week(
    report: Report, path: str, value: object
) -> tuple[tuple[tuple[int, int], ...], ...] | None:
    body = mapping(report, path, value, "week")
    if body is None:
        return None
    errors_before = len(report.errors)
    days: list[list[tuple[int, int, str]]] = [[] for _ in WEEKDAYS]
    for key, intervals in body.items():
        key_path = at(path, key)
        weekdays = _weekdays(report, key_path, key)
        if not isinstance(intervals, list):
            report.error(
                key_path,
                'working intervals must be a list such as ["09:00-17:00"], '
                f"not {describe(intervals)}",
            )
            continue
        for index, text in enumerate(intervals):
            parsed = _interval(report, at(key_path, index), text)
            if parsed is not None and weekdays is not None:
                for day in weekdays:
                    days[day].append((parsed[0], parsed[1], at(key_path, index)))
    overlaps: dict[tuple[str, str], list[str]] = {}
    week = tuple(_merge_day(WEEKDAYS[day], items, overlaps) for day, items in enumerate(days))
    for (later, earlier), names in overlaps.items():
        report.error(
            later,
            f"overlaps {earlier} on {', '.join(names)}: "
            "working intervals may touch but not overlap",
        )
    if len(report.errors) != errors_before:
        return None
    if not any(week):
        report.error(path, "the calendar has no working time in its week")
        return None
    return week


def _merge_day(
    day: str, items: list[tuple[int, int, str]], overlaps: dict[tuple[str, str], list[str]]
) -> tuple[tuple[int, int], ...]:
    """Sorted, joined intervals of one day; overlapping ones are noted in ``overlaps``."""
    merged: list[tuple[int, int]] = []
    reach_path = ""
    for start, end, path in sorted(items):
        if merged and start < merged[-1][1]:
            overlaps.setdefault((path, reach_path), []).append(day)
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
                reach_path = path
        else:
            merged.append((start, end))
            reach_path = path
    return tuple(merged)


@dataclass(slots=True)
class _Closures:
    country: str | None = None
    subdivision: str | None = None
    explicit: frozenset[date] = frozenset()
    public: frozenset[date] = frozenset()


@functools.cache
def _public_holidays(country: str, subdivision: str | None) -> frozenset[date]:
    return resolve_public_holidays(country, subdivision)


def _holidays(report: Report, path: str, value: object) -> _Closures | None:
    fields = Fields.of(report, path, value, "holidays", _HOLIDAY_KEYS)
    if fields is None:
        return None
    closures = _Closures()
    closures.country = fields.optional("country", _region_code, "country")
    closures.subdivision = fields.optional("subdivision", _region_code, "subdivision")
    if fields.has("subdivision") and not fields.has("country"):
        report.error(fields.at("subdivision"), "a subdivision needs a country")
    if closures.country is not None and fields.valid:
        try:
            closures.public = _public_holidays(closures.country, closures.subdivision)
        except UnknownHolidayRegion as exc:
            region = closures.subdivision if "subdiv" in str(exc) else None
            key = "subdivision" if region is not None else "country"
            code = region or closures.country
            hint = " (codes are upper case, e.g. 'NL')" if code != code.upper() else ""
            report.error(
                fields.at(key), f"the holidays package does not know this region: {exc}{hint}"
            )
    closures.explicit = fields.optional("dates", _dates) or frozenset()
    return closures if fields.valid else None


def _region_code(report: Report, path: str, value: object, what: str) -> str | None:
    if isinstance(value, bool):
        report.error(path, f"{what} was read as a boolean: quote the code (e.g. 'NO')")
        return None
    return string(report, path, value, what)


def _dates(report: Report, path: str, value: object) -> frozenset[date]:
    if not isinstance(value, list):
        report.error(path, f'dates must be a list such as ["2026-12-24"], not {describe(value)}')
        return frozenset()
    found: set[date] = set()
    for index, item in enumerate(value):
        if type(item) is date:
            found.add(item)
            continue
        parsed: date | None = None
        if isinstance(item, str) and _DATE.match(item):
            try:
                parsed = date.fromisoformat(item)
            except ValueError:
                parsed = None
        if parsed is None:
            report.error(
                at(path, index),
                f"a holiday must be a date written YYYY-MM-DD, not {describe(item)}",
            )
        else:
            found.add(parsed)
    return frozenset(found)
