"""Maintenance: planned occurrences and announced windows, as spans of instants (rule 21).

Planned rules are RFC 5545 rrules read in the objective's time zone with DTSTART
1970-01-01T00:00:00 local unless the rule gives one; each occurrence starts at its
local time resolved by rule 13 and lasts its ``duration`` of real time.
:func:`planned_spans` enumerates the occurrences touching one window once (cached, so
services sharing a definition share the work). :class:`Announcements` keeps a service's
announced windows: each counts only from its own event ``time``, and a later event for
the same ``window_id`` replaces (or cancels) it from that later time on, so the past
part of a replaced window stays maintenance. A span is ``(start, end)``, half-open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrule, rruleset, rrulestr

from slawatch.availability.windows import zone
from slawatch.calendar import resolve_local
from slawatch.definitions.model import Maintenance
from slawatch.timeutil import DAY, from_datetime, to_datetime

__all__ = ["Announcements", "Span", "clip", "merge", "planned_spans"]

Span = tuple[int, int]

_DTSTART = datetime(1970, 1, 1)
_SLACK = timedelta(days=2)


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of spans as sorted, disjoint, non-touching spans; empty spans dropped."""
    result: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def clip(spans: Iterable[Span], lo: int, hi: int) -> list[Span]:
    """The parts of spans inside ``[lo, hi)``, non-empty ones only."""
    return [(max(a, lo), min(b, hi)) for a, b in spans if a < hi and b > lo]


@lru_cache(maxsize=256)
def _rule(text: str) -> rrule | rruleset:
    return rrulestr(text, dtstart=_DTSTART)


def _starts(text: str, tz_name: str, duration: int, lo: int, hi: int) -> list[int]:
    rule = _rule(text)
    head = next(iter(rule), None)
    if head is None:
        return []
    if head.tzinfo is not None:
        after, before = to_datetime(lo - duration - DAY), to_datetime(hi + DAY)
        return [from_datetime(o) for o in rule.between(after, before, inc=True)]
    tz = zone(tz_name)
    local_lo = to_datetime(lo).astimezone(tz).replace(tzinfo=None)
    local_hi = to_datetime(hi).astimezone(tz).replace(tzinfo=None)
    after = local_lo - timedelta(microseconds=duration) - _SLACK
    return [resolve_local(tz, o) for o in rule.between(after, local_hi + _SLACK, inc=True)]


@lru_cache(maxsize=4096)
def planned_spans(
    rules: tuple[Maintenance, ...], tz_name: str, lo: int, hi: int
) -> tuple[Span, ...]:
    """The planned maintenance of ``rules`` inside ``[lo, hi)``, merged."""
    spans: list[Span] = []
    for rule in rules:
        for start in _starts(rule.rrule, tz_name, rule.duration, lo, hi):
            spans.append((start, start + rule.duration))
    return tuple(merge(clip(spans, lo, hi)))


class Announcements:
    """A service's announced maintenance windows (``maintenance.window`` events).

    ``current`` maps a ``window_id`` to ``(start, end, since)``: the window in force and
    the event time it counts from. ``past`` holds the spans that replaced or cancelled
    windows had already counted.
    """

    __slots__ = ("current", "past")

    def __init__(self) -> None:
        self.current: dict[str, tuple[int, int, int]] = {}
        self.past: list[Span] = []

    def apply(self, window_id: str, start: int, end: int, time: int, cancelled: bool) -> None:
        """Announce, replace or cancel a window at event time ``time``."""
        previous = self.current.pop(window_id, None)
        if previous is not None:
            counted = (max(previous[0], previous[2]), min(previous[1], time))
            if counted[0] < counted[1]:
                self.past.append(counted)
        if not cancelled:
            self.current[window_id] = (start, end, time)

    def spans(self) -> list[Span]:
        """Every span announced maintenance covers, as known now (not merged)."""
        spans = list(self.past)
        for start, end, since in self.current.values():
            if max(start, since) < end:
                spans.append((max(start, since), end))
        return spans

    def prune(self, before: int) -> None:
        """Forget what ends at or before ``before`` (it can no longer touch a window)."""
        self.past = [s for s in self.past if s[1] > before]
        for window_id in [w for w, (_, end, _) in self.current.items() if end <= before]:
            del self.current[window_id]
