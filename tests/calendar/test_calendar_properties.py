"""Properties of BusinessCalendar, and agreement with the slow reference, on random calendars.

Instants are drawn around the DST transitions (and local new years) of several zones,
including half-hour shifts (Lord Howe), midnight gaps (Havana) and a skipped day (Apia).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from slawatch.calendar import BusinessCalendar
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import DAY, HOUR, SECOND, from_datetime, to_datetime
from tests.calendar import calendar_reference as ref

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Havana",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Europe/London",
    "Asia/Kolkata",
    "UTC",
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def offset(tz: ZoneInfo, instant: int) -> timedelta | None:
    return to_datetime(instant).astimezone(tz).utcoffset()


@cache
def anchors(zone: str) -> tuple[int, ...]:
    """The zone's transitions from 2008 to 2030, and its local new years."""
    tz = ZoneInfo(zone)
    found = [ref.resolve(tz, datetime(y, 1, 1)) for y in range(2008, 2031)]
    t = from_datetime(to_datetime(0).replace(year=2008))
    while t < found[-1]:
        if offset(tz, t) != offset(tz, t + DAY):
            lo, hi = t, t + DAY
            while hi - lo > SECOND:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(tz, mid) == offset(tz, t) else (lo, mid)
            found.append(hi)
        t += DAY
    return tuple(sorted(found))


@st.composite
def day_spans(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    unit = draw(st.sampled_from((900, 1800, 3600, 1)))
    points = sorted(draw(st.sets(st.integers(0, 86400 // unit), max_size=6)))
    seconds = [p * unit for p in points]
    return tuple(zip(seconds[::2], seconds[1::2], strict=False))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CalendarDef, int]:
    zone = draw(st.sampled_from(ZONES))
    anchor = draw(st.sampled_from(anchors(zone)))
    week = tuple(draw(day_spans()) for _ in range(7))
    assume(sum(e - s for spans in week for s, e in spans) >= 1800)
    base = ref.local_date(ZoneInfo(zone), anchor)
    closed = draw(st.sets(st.integers(-6, 6), max_size=5))
    holidays = frozenset(base + timedelta(days=i) for i in closed)
    start = anchor + draw(st.integers(-3 * DAY, 3 * DAY))
    return CalendarDef("random", zone, week, holidays=holidays), start


def weekly(definition: CalendarDef) -> int:
    return sum(e - s for spans in definition.week for s, e in spans) * SECOND


def amounts(definition: CalendarDef) -> st.SearchStrategy[int]:
    most = min(5 * 24 * HOUR, 3 * weekly(definition))
    return st.one_of(
        st.integers(0, most),
        st.integers(0, most // (15 * 60 * SECOND)).map(lambda n: n * 900 * SECOND),
    )


def merged(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


@SETTINGS
@given(st.data(), scenarios())
def test_matches_the_reference(data: st.DataObject, scenario: tuple[CalendarDef, int]) -> None:
    definition, a = scenario
    calendar = BusinessCalendar(definition)
    b = a + data.draw(st.integers(0, 8 * DAY))
    x = data.draw(amounts(definition))
    assert calendar.elapsed(a, b) == ref.elapsed(definition, a, b)
    assert merged(list(calendar.intervals(a, b))) == ref.intervals(definition, a, b)
    assert calendar.advance(a, x) == ref.advance(definition, a, x)
    assert calendar.is_open(a) == ref.is_open(definition, a)
    assert calendar.next_opening(a) == max(a, next(ref.intervals_from(definition, a))[0])


@SETTINGS
@given(st.data(), scenarios())
def test_advance_is_the_earliest_instant_reaching_the_amount(
    data: st.DataObject, scenario: tuple[CalendarDef, int]
) -> None:
    definition, a = scenario
    calendar = BusinessCalendar(definition)
    x = data.draw(amounts(definition))
    deadline = calendar.advance(a, x)
    assert deadline >= a
    assert calendar.elapsed(a, deadline) == x
    if x > 0:
        assert calendar.elapsed(a, deadline - 1) < x
        assert calendar.is_open(deadline - 1)
    else:
        assert deadline == a


@SETTINGS
@given(st.data(), scenarios())
def test_elapsed_is_additive_bounded_and_monotone(
    data: st.DataObject, scenario: tuple[CalendarDef, int]
) -> None:
    definition, a = scenario
    calendar = BusinessCalendar(definition)
    b = a + data.draw(st.integers(0, 10 * DAY))
    c = b + data.draw(st.integers(0, 400 * DAY))
    ab, bc, ac = calendar.elapsed(a, b), calendar.elapsed(b, c), calendar.elapsed(a, c)
    assert ab + bc == ac
    assert 0 <= ab <= b - a
    assert 0 <= bc <= c - b
    assert calendar.elapsed(b, a) == 0 if b > a else True
    pieces = list(calendar.intervals(a, c))
    assert sum(e - s for s, e in pieces) == ac
    assert all(a <= s < e <= c for s, e in pieces)
    assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(pieces))


@SETTINGS
@given(st.data(), scenarios())
def test_is_open_agrees_with_intervals_and_next_opening(
    data: st.DataObject, scenario: tuple[CalendarDef, int]
) -> None:
    definition, a = scenario
    calendar = BusinessCalendar(definition)
    t = a + data.draw(st.integers(0, 2 * DAY))
    opening = calendar.next_opening(t)
    assert calendar.is_open(t) == bool(list(calendar.intervals(t, t + 1)))
    assert calendar.is_open(t) == (opening == t)
    assert calendar.is_open(opening)
    assert calendar.elapsed(t, opening) == 0
    assert not calendar.is_open(opening - 1) or opening == t
    for s, e in calendar.intervals(a, a + 3 * DAY):
        assert calendar.is_open(s)
        assert calendar.is_open(e - 1)
        assert calendar.elapsed(s, e) == e - s


@SETTINGS
@given(st.integers(-(10**16), 10**16), st.integers(0, 10**13), st.integers(0, 10**13))
def test_always_open(a: int, width: int, x: int) -> None:
    calendar = BusinessCalendar(CalendarDef("24x7", "UTC", (), always_open=True))
    assert calendar.elapsed(a, a + width) == width
    assert calendar.advance(a, x) == a + x
    assert calendar.is_open(a)
    assert list(calendar.intervals(a, a + width)) == ([(a, a + width)] if width else [])
