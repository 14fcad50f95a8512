"""Rule 20: calendar-aligned windows in the objective's time zone, DST boundaries by rule 13."""

from __future__ import annotations

import pytest

from slawatch.availability.windows import window_at, zone
from slawatch.definitions.model import WindowKind
from slawatch.timeutil import HOUR, format_time, parse_time


def _window(kind: WindowKind, tz: str, t: str) -> tuple[str, str]:
    start, end = window_at(kind, zone(tz), parse_time(t))
    return format_time(start), format_time(end)


def test_month_in_utc() -> None:
    assert _window(WindowKind.MONTH, "UTC", "2026-04-10T10:00:00Z") == (
        "2026-04-01T00:00:00Z",
        "2026-05-01T00:00:00Z",
    )


def test_month_starts_at_local_midnight() -> None:
    assert _window(WindowKind.MONTH, "Europe/Berlin", "2026-03-01T00:30:00+01:00") == (
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
    )


def test_an_instant_before_local_midnight_belongs_to_the_previous_month() -> None:
    assert _window(WindowKind.MONTH, "Europe/Berlin", "2026-02-28T22:59:59Z")[1] == (
        "2026-02-28T23:00:00Z"
    )


def test_march_in_berlin_has_743_hours_and_october_745() -> None:
    start, end = window_at(
        WindowKind.MONTH, zone("Europe/Berlin"), parse_time("2026-03-15T00:00:00Z")
    )
    assert end - start == 743 * HOUR
    start, end = window_at(
        WindowKind.MONTH, zone("Europe/Berlin"), parse_time("2026-10-15T00:00:00Z")
    )
    assert end - start == 745 * HOUR


def test_week_starts_on_monday() -> None:
    assert _window(WindowKind.WEEK, "UTC", "2026-03-08T23:59:59Z") == (
        "2026-03-02T00:00:00Z",
        "2026-03-09T00:00:00Z",
    )
    assert _window(WindowKind.WEEK, "America/New_York", "2026-03-09T03:00:00Z") == (
        "2026-03-02T05:00:00Z",
        "2026-03-09T04:00:00Z",
    )


@pytest.mark.parametrize(
    ("t", "start", "end"),
    [
        ("2026-02-15T00:00:00Z", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"),
        ("2026-09-30T23:59:59Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"),
        ("2026-12-31T12:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ],
)
def test_quarters(t: str, start: str, end: str) -> None:
    assert _window(WindowKind.QUARTER, "UTC", t) == (start, end)


def test_a_midnight_in_a_dst_gap_resolves_to_the_end_of_the_gap() -> None:
    # Paraguay sprang forward at 00:00 on 2023-10-01: October began at 01:00 -03 (04:00Z),
    # where September ended, 720 real hours after its own 00:00 -04 (04:00Z).
    tz = zone("America/Asuncion")
    start, _ = window_at(WindowKind.MONTH, tz, parse_time("2023-10-15T00:00:00Z"))
    assert format_time(start) == "2023-10-01T04:00:00Z"
    september = window_at(WindowKind.MONTH, tz, parse_time("2023-10-01T03:59:59Z"))
    assert september[1] == start
    assert september[1] - september[0] == 720 * HOUR


def test_rolling_has_no_calendar_window() -> None:
    with pytest.raises(ValueError, match="rolling"):
        window_at(WindowKind.ROLLING, zone("UTC"), 0)
