"""BusinessCalendar on ordinary days: the worked examples, each method, caching, limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from slawatch.calendar import BusinessCalendar, calendar_for
from slawatch.calendar.business import MAX_IDLE_YEARS
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import DAY, HOUR, MINUTE, parse_time

H = 3600
NINE_TO_FIVE = tuple(((9 * H, 17 * H),) if d < 5 else () for d in range(7))
OFFICE = CalendarDef("office", "Europe/Amsterdam", NINE_TO_FIVE)
KINGS_DAY = CalendarDef(
    "office", "Europe/Amsterdam", NINE_TO_FIVE, holidays=frozenset({date(2026, 4, 27)})
)
NIGHT = CalendarDef("night", "Europe/Amsterdam", (((22 * H, 24 * H),), ((0, 6 * H),)) + ((),) * 5)
ALWAYS = CalendarDef("24x7", "UTC", (), always_open=True)


def t(text: str) -> int:
    return parse_time(text)


@pytest.mark.parametrize(
    ("definition", "start", "amount", "deadline"),
    [
        (OFFICE, "2026-03-03T14:30:00Z", 4 * HOUR, "2026-03-04T10:30:00Z"),
        (OFFICE, "2026-03-06T13:00:00Z", 4 * HOUR, "2026-03-09T09:00:00Z"),
        (OFFICE, "2026-03-06T13:00:00Z", 6 * HOUR, "2026-03-09T11:00:00Z"),
        (KINGS_DAY, "2026-04-24T13:00:00Z", 3 * HOUR, "2026-04-28T08:00:00Z"),
        (KINGS_DAY, "2026-04-24T13:00:00Z", 4 * HOUR, "2026-04-28T09:00:00Z"),
    ],
)
def test_worked_examples(definition: CalendarDef, start: str, amount: int, deadline: str) -> None:
    calendar = BusinessCalendar(definition)
    assert calendar.advance(t(start), amount) == t(deadline)
    assert calendar.elapsed(t(start), t(deadline)) == amount


def test_goal_reached_at_the_end_of_an_interval_is_that_end() -> None:
    calendar = BusinessCalendar(OFFICE)
    assert calendar.advance(t("2026-03-03T08:00:00Z"), 8 * HOUR) == t("2026-03-03T16:00:00Z")
    assert calendar.advance(t("2026-03-03T15:00:00Z"), HOUR) == t("2026-03-03T16:00:00Z")
    assert calendar.advance(t("2026-03-06T12:00:00Z"), 4 * HOUR) == t("2026-03-06T16:00:00Z")
    assert calendar.advance(t("2026-03-03T20:00:00Z"), 8 * HOUR) == t("2026-03-04T16:00:00Z")


def test_advance_from_a_closed_instant_starts_at_the_next_opening() -> None:
    calendar = BusinessCalendar(OFFICE)
    assert calendar.advance(t("2026-03-07T10:00:00Z"), MINUTE) == t("2026-03-09T08:01:00Z")
    assert calendar.advance(t("2026-03-07T10:00:00Z"), 0) == t("2026-03-07T10:00:00Z")
    with pytest.raises(ValueError, match="negative"):
        calendar.advance(t("2026-03-07T10:00:00Z"), -1)


def test_elapsed() -> None:
    calendar = BusinessCalendar(KINGS_DAY)
    assert calendar.elapsed(t("2026-04-20T00:00:00Z"), t("2026-05-04T00:00:00Z")) == 72 * HOUR
    assert calendar.elapsed(t("2026-04-27T08:00:00Z"), t("2026-04-27T15:00:00Z")) == 0
    assert calendar.elapsed(t("2026-04-28T10:00:00Z"), t("2026-04-28T09:00:00Z")) == 0
    assert calendar.elapsed(t("2026-04-28T10:00:00Z"), t("2026-04-28T10:00:00Z")) == 0
    assert calendar.elapsed(t("2026-04-28T06:59:59Z"), t("2026-04-28T07:00:01Z")) == 1_000_000


def test_is_open_and_next_opening() -> None:
    calendar = BusinessCalendar(KINGS_DAY)
    assert calendar.is_open(t("2026-04-24T08:00:00Z"))
    assert not calendar.is_open(t("2026-04-24T15:00:00Z"))
    assert calendar.is_open(t("2026-04-24T14:59:59.999999Z"))
    assert not calendar.is_open(t("2026-04-27T10:00:00Z"))
    assert calendar.next_opening(t("2026-04-24T10:00:00Z")) == t("2026-04-24T10:00:00Z")
    assert calendar.next_opening(t("2026-04-24T15:00:00Z")) == t("2026-04-28T07:00:00Z")
    assert calendar.next_opening(t("2026-04-28T07:00:00Z")) == t("2026-04-28T07:00:00Z")


def test_intervals_are_clipped_and_in_order() -> None:
    calendar = BusinessCalendar(KINGS_DAY)
    got = list(calendar.intervals(t("2026-04-24T12:00:00Z"), t("2026-04-29T10:00:00Z")))
    assert got == [
        (t("2026-04-24T12:00:00Z"), t("2026-04-24T15:00:00Z")),
        (t("2026-04-28T07:00:00Z"), t("2026-04-28T15:00:00Z")),
        (t("2026-04-29T07:00:00Z"), t("2026-04-29T10:00:00Z")),
    ]
    assert list(calendar.intervals(t("2026-04-25T00:00:00Z"), t("2026-04-26T00:00:00Z"))) == []
    assert list(calendar.intervals(t("2026-04-29T00:00:00Z"), t("2026-04-28T00:00:00Z"))) == []


def test_night_shift_across_midnight() -> None:
    calendar = BusinessCalendar(NIGHT)
    monday_22 = t("2026-03-02T21:00:00Z")
    assert calendar.advance(monday_22, 3 * HOUR) == t("2026-03-03T00:00:00Z")
    assert calendar.advance(monday_22, 2 * HOUR) == t("2026-03-02T23:00:00Z")
    assert calendar.is_open(t("2026-03-02T23:00:00Z"))
    assert calendar.elapsed(t("2026-03-02T00:00:00Z"), t("2026-03-09T00:00:00Z")) == 8 * HOUR
    assert list(calendar.intervals(t("2026-03-02T00:00:00Z"), t("2026-03-04T00:00:00Z"))) == [
        (monday_22, t("2026-03-03T05:00:00Z"))
    ]
    assert calendar.advance(t("2026-03-03T05:00:00Z"), MINUTE) == t("2026-03-09T21:01:00Z")


def test_always_open_is_plain_arithmetic() -> None:
    calendar = BusinessCalendar(ALWAYS)
    a, b = t("2026-03-29T00:30:00Z"), t("2027-01-01T00:00:00Z")
    assert calendar.id == "24x7"
    assert calendar.elapsed(a, b) == b - a
    assert calendar.elapsed(b, a) == 0
    assert calendar.advance(a, 5 * DAY) == a + 5 * DAY
    assert calendar.is_open(a)
    assert calendar.next_opening(a) == a
    assert list(calendar.intervals(a, b)) == [(a, b)]
    assert list(calendar.intervals(b, a)) == []


def test_spans_across_years() -> None:
    calendar = BusinessCalendar(OFFICE)
    start, end = t("2020-01-01T00:00:00Z"), t("2030-01-01T00:00:00Z")
    workdays = sum(1 for i in range(3653) if (date(2020, 1, 1) + timedelta(days=i)).weekday() < 5)
    assert calendar.elapsed(start, end) == workdays * 8 * HOUR
    assert calendar.advance(start, workdays * 8 * HOUR) == t("2029-12-31T16:00:00Z")
    pieces = list(calendar.intervals(start, end))
    assert len(pieces) == workdays
    assert sum(e - s for s, e in pieces) == workdays * 8 * HOUR


def test_years_without_business_time_are_skipped() -> None:
    closed_2027 = frozenset(date(2027, 1, 1) + timedelta(days=i) for i in range(365))
    calendar = BusinessCalendar(
        CalendarDef("office", "Europe/Amsterdam", NINE_TO_FIVE, holidays=closed_2027)
    )
    assert calendar.advance(t("2026-12-31T15:00:00Z"), 2 * HOUR) == t("2028-01-03T09:00:00Z")
    assert calendar.next_opening(t("2026-12-31T16:00:00Z")) == t("2028-01-03T08:00:00Z")
    assert calendar.elapsed(t("2026-12-31T00:00:00Z"), t("2028-01-04T00:00:00Z")) == 16 * HOUR


def test_a_calendar_without_working_time_gives_up() -> None:
    calendar = BusinessCalendar(CalendarDef("never", "Europe/Amsterdam", ((),) * 7))
    start = t("2026-01-01T00:00:00Z")
    with pytest.raises(ValueError, match=f"no working time in {MAX_IDLE_YEARS} years"):
        calendar.advance(start, HOUR)
    with pytest.raises(ValueError, match="no working time"):
        calendar.next_opening(start)
    assert calendar.elapsed(start, start + 10 * 365 * DAY) == 0
    assert not calendar.is_open(start)


def test_instants_out_of_range_raise_value_error() -> None:
    calendar = BusinessCalendar(OFFICE)
    with pytest.raises(ValueError, match="out of range"):
        calendar.is_open(t("9999-12-31T00:00:00Z"))


def test_calendar_for_is_cached() -> None:
    calendar = calendar_for(OFFICE)
    assert calendar_for(OFFICE) is calendar
    assert calendar_for(CalendarDef("office", "Europe/Amsterdam", NINE_TO_FIVE)) is calendar
    assert calendar_for(KINGS_DAY) is not calendar
    assert calendar.id == "office"
    assert repr(calendar) == "BusinessCalendar('office')"
