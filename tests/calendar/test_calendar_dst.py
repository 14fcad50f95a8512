"""Rule 13 across DST transitions: resolve_local and working intervals on transition days."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from slawatch.calendar import BusinessCalendar, resolve_local
from slawatch.definitions.model import CalendarDef
from slawatch.timeutil import HOUR, MINUTE, parse_time

H = 3600


def t(text: str) -> int:
    return parse_time(text)


def on_sundays(timezone: str, *spans: tuple[int, int]) -> BusinessCalendar:
    return BusinessCalendar(CalendarDef("sun", timezone, ((),) * 6 + (spans,)))


def every_day(timezone: str, *spans: tuple[int, int]) -> BusinessCalendar:
    return BusinessCalendar(CalendarDef("daily", timezone, (spans,) * 7))


@pytest.mark.parametrize(
    ("zone", "local", "instant"),
    [
        ("Europe/Berlin", "2026-03-29T01:59:59", "2026-03-29T00:59:59Z"),
        ("Europe/Berlin", "2026-03-29T02:00:00", "2026-03-29T01:00:00Z"),
        ("Europe/Berlin", "2026-03-29T02:30:00", "2026-03-29T01:00:00Z"),
        ("Europe/Berlin", "2026-03-29T03:00:00", "2026-03-29T01:00:00Z"),
        ("Europe/Berlin", "2026-10-25T02:00:00", "2026-10-25T00:00:00Z"),
        ("Europe/Berlin", "2026-10-25T02:59:59", "2026-10-25T00:59:59Z"),
        ("Europe/Berlin", "2026-10-25T03:00:00", "2026-10-25T02:00:00Z"),
        ("America/New_York", "2026-03-08T02:15:00", "2026-03-08T07:00:00Z"),
        ("America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00Z"),
        ("America/Havana", "2026-03-08T00:00:00", "2026-03-08T05:00:00Z"),
        ("Australia/Lord_Howe", "2026-10-04T02:10:00", "2026-10-03T15:30:00Z"),
        ("Pacific/Apia", "2011-12-30T12:00:00", "2011-12-30T10:00:00Z"),
        ("UTC", "2026-06-01T12:00:00.000001", "2026-06-01T12:00:00.000001Z"),
    ],
)
def test_resolve_local(zone: str, local: str, instant: str) -> None:
    assert resolve_local(zone, datetime.fromisoformat(local)) == t(instant)
    assert resolve_local(ZoneInfo(zone), datetime.fromisoformat(local)) == t(instant)


def test_resolve_local_wants_a_naive_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        resolve_local("Europe/Berlin", datetime(2026, 3, 29, tzinfo=UTC))


def test_whole_days_last_their_real_length() -> None:
    calendar = every_day("Europe/Berlin", (0, 24 * H))
    assert calendar.elapsed(t("2026-03-28T23:00:00Z"), t("2026-03-29T22:00:00Z")) == 23 * HOUR
    assert calendar.elapsed(t("2026-10-24T22:00:00Z"), t("2026-10-25T23:00:00Z")) == 25 * HOUR
    assert calendar.advance(t("2026-03-28T23:00:00Z"), 23 * HOUR) == t("2026-03-29T22:00:00Z")
    assert calendar.elapsed(t("2026-01-01T00:00:00Z"), t("2027-01-01T00:00:00Z")) == 365 * 24 * HOUR


def test_boundary_in_the_spring_gap_starts_after_the_gap() -> None:
    calendar = on_sundays("Europe/Berlin", (2 * H + 30 * 60, 5 * H))
    day = (t("2026-03-28T23:00:00Z"), t("2026-03-29T22:00:00Z"))
    assert list(calendar.intervals(*day)) == [
        (t("2026-03-29T01:00:00Z"), t("2026-03-29T03:00:00Z"))
    ]
    assert calendar.next_opening(day[0]) == t("2026-03-29T01:00:00Z")
    assert not calendar.is_open(t("2026-03-29T00:59:59Z"))
    assert calendar.is_open(t("2026-03-29T01:00:00Z"))
    assert calendar.advance(day[0], 2 * HOUR) == t("2026-03-29T03:00:00Z")


def test_interval_wholly_in_the_gap_is_empty() -> None:
    calendar = on_sundays("Europe/Berlin", (2 * H, 3 * H), (4 * H, 5 * H))
    day = (t("2026-03-28T23:00:00Z"), t("2026-03-29T22:00:00Z"))
    assert list(calendar.intervals(*day)) == [
        (t("2026-03-29T02:00:00Z"), t("2026-03-29T03:00:00Z"))
    ]
    assert not calendar.is_open(t("2026-03-29T01:00:00Z"))
    assert calendar.elapsed(*day) == HOUR


def test_ambiguous_boundaries_take_the_first_occurrence() -> None:
    calendar = on_sundays("Europe/Berlin", (H, 2 * H + 30 * 60), (4 * H, 5 * H))
    day = (t("2026-10-24T22:00:00Z"), t("2026-10-25T23:00:00Z"))
    assert list(calendar.intervals(*day)) == [
        (t("2026-10-24T23:00:00Z"), t("2026-10-25T00:30:00Z")),
        (t("2026-10-25T03:00:00Z"), t("2026-10-25T04:00:00Z")),
    ]
    assert not calendar.is_open(t("2026-10-25T01:15:00Z"))
    late = on_sundays("Europe/Berlin", (2 * H + 30 * 60, 5 * H))
    assert late.elapsed(*day) == 3 * HOUR + 30 * MINUTE
    assert late.is_open(t("2026-10-25T01:15:00Z"))
    assert late.advance(day[0], 3 * HOUR + 30 * MINUTE) == t("2026-10-25T04:00:00Z")


def test_new_york_office_across_both_transitions() -> None:
    office = BusinessCalendar(
        CalendarDef("us", "America/New_York", (((9 * H, 17 * H),),) * 5 + ((),) * 2)
    )
    assert office.advance(t("2026-03-06T21:00:00Z"), 2 * HOUR) == t("2026-03-09T14:00:00Z")
    assert office.advance(t("2026-10-30T20:00:00Z"), 2 * HOUR) == t("2026-11-02T15:00:00Z")
    assert office.elapsed(t("2026-03-01T00:00:00Z"), t("2026-03-15T00:00:00Z")) == 80 * HOUR
    night = on_sundays("America/New_York", (H + 30 * 60, 3 * H))
    assert night.elapsed(t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z")) == 150 * MINUTE


def test_midnight_in_the_gap_and_24_00() -> None:
    calendar = BusinessCalendar(
        CalendarDef("cu", "America/Havana", ((),) * 5 + (((22 * H, 24 * H),), ((0, 2 * H),)))
    )
    saturday_22 = t("2026-03-08T03:00:00Z")
    assert list(calendar.intervals(saturday_22, t("2026-03-09T00:00:00Z"))) == [
        (saturday_22, t("2026-03-08T06:00:00Z"))
    ]
    assert calendar.advance(saturday_22, 2 * HOUR) == t("2026-03-08T05:00:00Z")
    assert calendar.advance(saturday_22, 3 * HOUR) == t("2026-03-08T06:00:00Z")
