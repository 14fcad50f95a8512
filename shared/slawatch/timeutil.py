"""Instants, durations and their written forms.

Inside slawatch an instant is an ``int``: microseconds since the Unix epoch,
UTC. Integer microseconds keep business-time and error-budget arithmetic
exact (``semantics.md`` rule 23) and cheap; aware UTC ``datetime`` values are
produced only at the edges (:func:`to_datetime`). Local time exists only in
:mod:`slawatch.calendar`.

Errors: :class:`TimeFormatError` (a ``ValueError``) for any unparsable time or
duration.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

__all__ = [
    "EPOCH",
    "SECOND",
    "TimeFormatError",
    "ceil_micros",
    "format_duration",
    "format_seconds",
    "format_time",
    "from_datetime",
    "parse_duration",
    "parse_time",
    "remember",
    "to_datetime",
]

Instant = int
"""Microseconds since 1970-01-01T00:00:00Z."""

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICRO = timedelta(microseconds=1)


class TimeFormatError(ValueError):
    """A time or duration that does not parse."""


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse_time(text: str) -> Instant:
    """Parse an RFC 3339 time with an offset; digits below the microsecond are dropped.

    A leap second (second 60, which RFC 3339 allows) is the last microsecond of its
    minute: instants here count no leap seconds, as POSIX time does not.
    """
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise TimeFormatError(f"not an RFC 3339 time with an offset: {text[:64]!r}")
    year, month, day, hour, minute, sec = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micros = int((frac + "000000")[:6])
    if sec == 60:
        sec, micros = 59, 999_999
    try:
        dt = datetime(year, month, day, hour, minute, sec, micros, tzinfo=UTC)
    except ValueError as exc:
        raise TimeFormatError(f"not a valid time: {text[:64]!r} ({exc})") from None
    instant = from_datetime(dt)
    if m.group(9):
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * MINUTE
        if int(m.group(10)) > 23 or int(m.group(11)) > 59:
            raise TimeFormatError(f"bad offset in {text[:64]!r}")
        instant = instant - offset if m.group(9) == "+" else instant + offset
    return instant


def from_datetime(dt: datetime) -> Instant:
    """An aware datetime as an instant."""
    if dt.tzinfo is None:
        raise TimeFormatError("naive datetime: an offset is required")
    return (dt - EPOCH) // _ONE_MICRO


def to_datetime(instant: Instant) -> datetime:
    """An instant as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=instant)


_MINUTE_TEXT: dict[int, str] = {}
_MINUTE_TEXT_LIMIT = 16_384
_DAY_TEXT: dict[int, str] = {}
_DAY_TEXT_LIMIT = 4_096
_MINUTES_PER_DAY = DAY // MINUTE


def remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Put ``key`` in a look-up cache, emptying it first when it holds ``limit`` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def _minute_text(minute: int) -> str:
    """``YYYY-MM-DDTHH:MM:`` of a minute since the epoch, its date part cached per day."""
    day, of_day = divmod(minute, _MINUTES_PER_DAY)
    date = _DAY_TEXT.get(day)
    if date is None:
        d = to_datetime(day * DAY)
        date = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"
        remember(_DAY_TEXT, day, date, _DAY_TEXT_LIMIT)
    hour, minute_of_hour = divmod(of_day, 60)
    return f"{date}{hour:02d}:{minute_of_hour:02d}:"


def format_time(instant: Instant) -> str:
    """RFC 3339 in UTC with ``Z``; six fractional digits only when there is a fraction."""
    minute, rest = divmod(instant, MINUTE)
    head = _MINUTE_TEXT.get(minute)
    if head is None:
        head = _minute_text(minute)
        remember(_MINUTE_TEXT, minute, head, _MINUTE_TEXT_LIMIT)
    sec, micros = divmod(rest, SECOND)
    if micros:
        return f"{head}{sec:02d}.{micros:06d}Z"
    return f"{head}{sec:02d}Z"


def format_seconds(micros: int) -> int | float:
    """Microseconds as a JSON number of seconds: integral values without a fraction."""
    whole, frac = divmod(micros, SECOND)
    if frac == 0:
        return whole
    return micros / SECOND


def ceil_micros(value: Fraction) -> int:
    """The smallest whole microsecond count not below an exact value."""
    return math.ceil(value)


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.ASCII)
_UNITS = (7 * DAY, DAY, HOUR, MINUTE, SECOND)


def parse_duration(text: str) -> int:
    """Microseconds of ``30s``, ``15m``, ``2h``, ``1d`` (24h), ``1w`` (7d) or a combination."""
    if not isinstance(text, str) or not text:
        raise TimeFormatError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 1d, 1h30m)")
    m = _DURATION.fullmatch(text.strip())
    if m is None or not any(m.groups()):
        raise TimeFormatError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 1d, 1h30m)")
    groups = m.groups()
    return sum(int(g) * unit for g, unit in zip(groups, _UNITS, strict=True) if g)


def format_duration(micros: int) -> str:
    """A duration in the written form (``1h30m``); sub-second parts as fractional seconds."""
    if micros == 0:
        return "0s"
    parts = []
    rest = micros
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "m")):
        n, rest = divmod(rest, unit)
        if n:
            parts.append(f"{n}{name}")
    if rest:
        whole, frac = divmod(rest, SECOND)
        secs = f"{whole}.{frac:06d}".rstrip("0") if frac else str(whole)
        parts.append(f"{secs}s")
    return "".join(parts)
