"""Rules 19-22: status from checks, what is measured, maintenance, and how time counts.

Most tests use weekly windows in UTC (Monday 2026-03-02 to Monday 2026-03-09, 604,800 s)
and read the figures of the window's ``sla.availability.window_closed``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from slawatch.availability import ServiceState, apply_event, has_open_window, next_due
from slawatch.availability.maintenance import planned_spans
from slawatch.definitions.model import Maintenance
from slawatch.timeutil import HOUR, format_time, parse_time
from tests.availability.support import Event, catalog, fold, maintenance, objective, status
from tests.support.replaying import run as replay_run

WEEK_END = "2026-03-09T00:00:00Z"
WEEK_SECONDS = 604_800
OFFICE = {"office": {"timezone": "UTC", "week": {"mon-fri": ["09:00-17:00"]}}}


def week(**fields: Any) -> str:
    return objective(window="week", **fields)


def closed(definitions: str, events: list[Event], until: str = WEEK_END) -> dict[str, Any]:
    run = fold(catalog(definitions), events, until)
    [out] = run.of("sla.availability.window_closed", window_end=WEEK_END)
    return out


def d(day: int, clock: str) -> str:
    """2026-03-0<day> at a UTC wall time (day 2 is the Monday)."""
    return f"2026-03-{day:02d}T{clock}Z"


# --- rule 19: the worst fresh status -----------------------------------------------


def test_the_worst_status_of_the_checks_wins() -> None:
    out = closed(
        week(degraded_weight=0.5),
        [
            status("u1", d(2, "00:00:00"), "up", "a"),
            status("u2", d(2, "00:00:00"), "up", "b"),
            status("u3", d(2, "10:00:00"), "down", "a"),
            status("u4", d(2, "10:30:00"), "degraded", "b"),
            status("u5", d(2, "11:00:00"), "up", "a"),
            status("u6", d(2, "12:00:00"), "up", "b"),
        ],
    )
    assert out["downtime_seconds"] == 3600 + 1800
    assert out["measured_seconds"] == WEEK_SECONDS


def test_a_stale_check_no_longer_counts() -> None:
    events = [
        status("u1", d(2, "00:00:00"), "down", "a"),
        status("u2", d(2, "00:00:00"), "up", "b"),
        status("u3", d(2, "00:50:00"), "up", "b"),
        status("u4", d(2, "01:40:00"), "up", "b"),
        status("u5", d(2, "02:30:00"), "up", "b"),
    ]
    out = closed(week(stale_after="1h", unknown_counts_as="up"), events)
    assert out["downtime_seconds"] == 3600
    out = closed(week(stale_after="1h"), events)
    assert (out["downtime_seconds"], out["measured_seconds"]) == (3600, 12600)
    assert out["availability"] == 0.714285714


def test_no_fresh_status_is_unknown() -> None:
    out = closed(
        week(stale_after="1h", unknown_counts_as="down"), [status("u1", d(2, "00:00:00"), "up")]
    )
    assert out["downtime_seconds"] == WEEK_SECONDS - 3600


def test_the_default_check_is_a_check_of_its_own() -> None:
    out = closed(
        week(),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(2, "01:00:00"), "down", "x"),
            status("u3", d(2, "01:30:00"), "up"),
            status("u4", d(2, "02:00:00"), "up", "x"),
        ],
    )
    assert out["downtime_seconds"] == 3600


def test_a_repeated_status_refreshes_its_check() -> None:
    out = closed(
        week(stale_after="1h", unknown_counts_as="down"),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(2, "00:50:00"), "up"),
            status("u3", d(2, "01:40:00"), "up"),
        ],
    )
    assert out["downtime_seconds"] == WEEK_SECONDS - 9600


def test_a_status_at_the_instant_its_check_goes_stale_keeps_it_fresh() -> None:
    out = closed(
        week(stale_after="1h", unknown_counts_as="down"),
        [status("u1", d(2, "00:00:00"), "up"), status("u2", d(2, "01:00:00"), "up")],
    )
    assert out["downtime_seconds"] == WEEK_SECONDS - 7200


def test_a_repeat_at_the_staleness_instant_wins_over_an_event_seen_there_first() -> None:
    out = closed(
        week(stale_after="30m"),
        [
            status("u1", d(2, "00:00:00"), "up"),
            maintenance("m1", d(2, "00:30:00"), d(3, "00:00:00"), d(3, "01:00:00")),
            status("u2", d(2, "00:30:00"), "up"),
        ],
    )
    assert out["measured_seconds"] == 3600


def test_a_stale_check_coming_back_with_the_same_status_is_fresh_again() -> None:
    out = closed(
        week(stale_after="1h", unknown_counts_as="down"),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(2, "03:00:00"), "up"),
            status("u3", d(2, "03:30:00"), "up"),
        ],
    )
    assert out["downtime_seconds"] == WEEK_SECONDS - 3600 - 5400


# --- rule 20: windows and where measuring starts ------------------------------------


def test_the_first_window_counts_only_from_the_first_status() -> None:
    cat = catalog(objective())
    run = fold(cat, [status("u1", "2026-04-16T00:00:00Z", "up")], "2026-05-01T00:00:00Z")
    [out] = run.of("sla.availability.window_closed")
    assert out["window_start"] == "2026-04-01T00:00:00Z"
    assert out["measured_seconds"] == 15 * 86400
    run = fold(cat, [status("u1", "2026-04-16T00:00:00Z", "down")], "2026-04-17T00:00:00Z")
    [breach] = run.of("sla.availability.breached")
    assert (breach["time"], breach["budget_seconds"]) == ("2026-04-16T00:21:36Z", 1296)


def test_nothing_is_measured_before_the_first_status() -> None:
    state = ServiceState()
    cat = catalog(week())
    ev = maintenance("m1", d(2, "00:00:00"), d(3, "00:00:00"), d(4, "00:00:00"))
    assert apply_event(state, "service:api", ev, cat) == []
    assert not has_open_window(state)
    assert next_due(state) is None


def test_defaults() -> None:
    text = json.dumps(
        {
            "availability": [
                {"id": "api-uptime", "service": "api", "objective": 99.9, "window": "week"}
            ]
        }
    )
    run = fold(
        catalog(text),
        [status("u1", d(2, "00:00:00"), "up"), status("u2", d(2, "01:00:00"), "degraded")],
        WEEK_END,
    )
    [out] = run.of()
    assert out["type"] == "sla.availability.window_closed"
    assert (out["downtime_seconds"], out["availability"], out["outcome"]) == (0, 1, "met")
    assert out["kind"] == "customer"
    run = fold(
        catalog(text),
        [status("u1", d(2, "00:00:00"), "down"), status("u2", d(2, "00:05:00"), "up")],
        WEEK_END,
    )
    assert [o["type"] for o in run.of()] == ["sla.availability.window_closed"]


def test_the_next_window_opens_at_once_and_keeps_the_status() -> None:
    run = fold(
        catalog(week()),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(8, "23:00:00"), "down"),
            status("u3", d(9, "01:00:00"), "up"),
        ],
        "2026-03-16T00:00:00Z",
    )
    first, second = run.of("sla.availability.window_closed")
    assert (first["downtime_seconds"], second["downtime_seconds"]) == (3600, 3600)
    assert (second["window_start"], second["window_end"]) == (WEEK_END, "2026-03-16T00:00:00Z")
    assert second["measured_seconds"] == WEEK_SECONDS


def test_weeks_start_on_monday_in_the_objectives_time_zone() -> None:
    run = fold(
        catalog(week(timezone="America/New_York")),
        [status("u1", "2026-03-03T12:00:00Z", "up")],
        "2026-03-10T00:00:00Z",
    )
    [out] = run.of("sla.availability.window_closed")
    assert (out["window_start"], out["window_end"], out["time"]) == (
        "2026-03-02T05:00:00Z",
        "2026-03-09T04:00:00Z",
        "2026-03-09T04:00:00Z",
    )
    assert out["measured_seconds"] == 5 * 86400 + 16 * 3600


def test_quarter_windows() -> None:
    run = fold(
        catalog(objective(window="quarter")),
        [status("u1", "2026-01-01T00:00:00Z", "up")],
        "2026-07-01T00:00:00Z",
    )
    assert [(o["window_start"], o["measured_seconds"]) for o in run.of()] == [
        ("2026-01-01T00:00:00Z", 90 * 86400),
        ("2026-04-01T00:00:00Z", 91 * 86400),
    ]


def test_rolling_windows_emit_no_sla_events() -> None:
    cat = catalog(objective(window={"rolling": "30d"}))
    run = fold(cat, [status("u1", d(2, "00:00:00"), "down")], "2026-06-01T00:00:00Z")
    assert run.outputs == []
    assert not has_open_window(run.state)


# --- rule 21: measured time --------------------------------------------------------


def test_only_calendar_time_is_measured() -> None:
    run = fold(
        catalog(week(calendar="office", calendars=OFFICE)),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(2, "08:00:00"), "down"),
            status("u3", d(2, "10:00:00"), "up"),
            status("u4", d(7, "10:00:00"), "down"),
            status("u5", d(7, "12:00:00"), "up"),
        ],
        WEEK_END,
    )
    [out] = run.of("sla.availability.window_closed")
    assert (out["downtime_seconds"], out["measured_seconds"]) == (3600, 5 * 8 * 3600)
    [breach] = run.of("sla.availability.breached")
    assert (breach["time"], breach["budget_seconds"]) == (d(2, "09:02:24"), 144)


def test_planned_maintenance_is_not_measured() -> None:
    sunday = [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0", "duration": "2h"}]
    out = closed(
        week(maintenance=sunday),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(8, "02:30:00"), "down"),
            status("u3", d(8, "03:30:00"), "up"),
            status("u4", d(8, "04:00:00"), "down"),
            status("u5", d(8, "05:00:00"), "up"),
        ],
    )
    assert (out["downtime_seconds"], out["measured_seconds"]) == (3600, WEEK_SECONDS - 7200)


def test_planned_occurrences_resolve_like_rule_13() -> None:
    daily = (Maintenance("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", HOUR),)
    lo, hi = parse_time("2026-03-28T00:00:00Z"), parse_time("2026-03-30T00:00:00Z")
    spans = planned_spans(daily, "Europe/Berlin", lo, hi)
    # 02:30 CET is 01:30Z; on the 29th 02:30 does not exist and resolves to 03:00 CEST (01:00Z)
    assert [(format_time(a), format_time(b)) for a, b in spans] == [
        ("2026-03-28T01:30:00Z", "2026-03-28T02:30:00Z"),
        ("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"),
    ]
    run = fold(
        catalog(
            objective(
                timezone="Europe/Berlin",
                maintenance=[{"rrule": "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "duration": "1h"}],
            )
        ),
        [status("u1", "2026-03-01T00:00:00+01:00", "up")],
        "2026-04-01T00:00:00Z",
    )
    [out] = run.of("sla.availability.window_closed")
    assert out["measured_seconds"] == (743 - 31) * 3600


def test_planned_rules_may_give_their_own_start() -> None:
    rule = (Maintenance("DTSTART:20260303T220000Z\nRRULE:FREQ=DAILY;COUNT=2", HOUR),)
    lo, hi = parse_time("2026-03-02T00:00:00Z"), parse_time("2026-03-09T00:00:00Z")
    assert [
        (format_time(a), format_time(b)) for a, b in planned_spans(rule, "Asia/Tokyo", lo, hi)
    ] == [
        ("2026-03-03T22:00:00Z", "2026-03-03T23:00:00Z"),
        ("2026-03-04T22:00:00Z", "2026-03-04T23:00:00Z"),
    ]
    local = (Maintenance("DTSTART:20260304T000000\nRRULE:FREQ=WEEKLY", 2 * HOUR),)
    assert [format_time(a) for a, _ in planned_spans(local, "Asia/Tokyo", lo, hi)] == [
        "2026-03-03T15:00:00Z"
    ]


def test_an_occurrence_begun_before_the_window_counts_inside_it() -> None:
    rule = (Maintenance("FREQ=WEEKLY;BYDAY=SU;BYHOUR=23", 3 * HOUR),)
    lo, hi = parse_time("2026-03-02T00:00:00Z"), parse_time("2026-03-09T00:00:00Z")
    assert [(format_time(a), format_time(b)) for a, b in planned_spans(rule, "UTC", lo, hi)] == [
        ("2026-03-02T00:00:00Z", "2026-03-02T02:00:00Z"),
        ("2026-03-08T23:00:00Z", "2026-03-09T00:00:00Z"),
    ]


def test_an_announced_window_counts_only_from_its_time() -> None:
    out = closed(
        week(),
        [
            status("u1", d(2, "00:00:00"), "up"),
            status("u2", d(2, "02:00:00"), "down"),
            maintenance("m1", d(2, "03:00:00"), d(2, "02:00:00"), d(2, "04:00:00")),
            status("u3", d(2, "05:00:00"), "up"),
        ],
    )
    assert (out["downtime_seconds"], out["measured_seconds"]) == (7200, WEEK_SECONDS - 3600)


def test_a_window_with_the_same_id_replaces_it_from_its_time_on() -> None:
    out = closed(
        week(),
        [
            status("u1", d(2, "00:00:00"), "up"),
            maintenance("m1", d(2, "00:00:00"), d(2, "02:00:00"), d(2, "04:00:00"), "mw"),
            status("u2", d(2, "01:00:00"), "down"),
            maintenance("m2", d(2, "02:30:00"), d(2, "05:00:00"), d(2, "06:00:00"), "mw"),
            status("u3", d(2, "07:00:00"), "up"),
        ],
    )
    assert (out["downtime_seconds"], out["measured_seconds"]) == (16200, WEEK_SECONDS - 5400)


def test_a_cancelled_window_stops_counting_from_its_time() -> None:
    out = closed(
        week(),
        [
            status("u1", d(2, "00:00:00"), "up"),
            maintenance("m1", d(2, "00:00:00"), d(2, "02:00:00"), d(2, "04:00:00"), "mw"),
            status("u2", d(2, "01:00:00"), "down"),
            maintenance(
                "m2", d(2, "02:30:00"), d(2, "02:00:00"), d(2, "04:00:00"), "mw", cancelled=True
            ),
            status("u3", d(2, "07:00:00"), "up"),
        ],
    )
    assert (out["downtime_seconds"], out["measured_seconds"]) == (19800, WEEK_SECONDS - 1800)


def test_the_window_id_defaults_to_the_event_id() -> None:
    out = closed(
        week(),
        [
            maintenance("m1", d(2, "00:00:00"), d(3, "00:00:00"), d(3, "02:00:00")),
            maintenance("m2", d(2, "00:00:00"), d(4, "00:00:00"), d(4, "02:00:00")),
            maintenance("m3", d(2, "00:00:00"), d(3, "00:00:00"), d(3, "01:00:00"), "m1"),
            status("u1", d(2, "00:00:00"), "up"),
        ],
    )
    assert out["measured_seconds"] == WEEK_SECONDS - 3 * 3600


def test_announced_maintenance_applies_to_every_objective_and_may_come_first() -> None:
    two = objective(window="week").replace(
        "]}",
        ', {"id": "api-monthly", "service": "api", "objective": 99, "window": "month"}]}',
    )
    run = fold(
        catalog(two),
        [
            maintenance("m1", "2026-02-20T00:00:00Z", d(3, "00:00:00"), d(3, "06:00:00")),
            status("u1", d(2, "00:00:00"), "up"),
        ],
        "2026-04-01T00:00:00Z",
    )
    weekly = run.of("sla.availability.window_closed", sla="api-uptime")[0]
    monthly = run.of("sla.availability.window_closed", sla="api-monthly")[0]
    assert weekly["measured_seconds"] == WEEK_SECONDS - 6 * 3600
    assert monthly["measured_seconds"] == 30 * 86400 - 6 * 3600


def test_maintenance_and_outages_outside_the_calendar_count_for_nothing() -> None:
    out = closed(
        week(calendar="office", calendars=OFFICE),
        [
            status("u1", d(2, "00:00:00"), "up"),
            maintenance("m1", d(2, "00:00:00"), d(2, "16:00:00"), d(3, "10:00:00")),
        ],
    )
    assert out["measured_seconds"] == (40 - 2) * 3600


# --- rule 22: downtime and unknown time --------------------------------------------


POLICY_EVENTS = [
    status("u1", d(2, "00:00:00"), "up"),
    status("u2", d(3, "00:00:00"), "down"),
    status("u3", d(3, "00:30:00"), "up"),
]
UNKNOWN = 82_800 + 513_000


@pytest.mark.parametrize(
    ("policy", "downtime", "measured", "availability"),
    [
        ("excluded", 1800, WEEK_SECONDS - UNKNOWN, 0.8),
        ("down", 1800 + UNKNOWN, WEEK_SECONDS, 0.011904762),
        ("up", 1800, WEEK_SECONDS, 0.99702381),
    ],
)
def test_unknown_counts_as(policy: str, downtime: int, measured: int, availability: float) -> None:
    out = closed(week(stale_after="1h", unknown_counts_as=policy), POLICY_EVENTS)
    assert (out["downtime_seconds"], out["measured_seconds"]) == (downtime, measured)
    assert out["availability"] == availability


def test_degraded_time_counts_by_its_weight() -> None:
    events = [
        status("u1", d(2, "00:00:00"), "up"),
        status("u2", d(2, "01:00:00"), "degraded"),
        status("u3", d(2, "03:00:00"), "up"),
    ]
    assert closed(week(degraded_weight=0.5), events)["downtime_seconds"] == 3600
    assert closed(week(degraded_weight=1), events)["downtime_seconds"] == 7200
    assert closed(week(degraded_weight=0), events)["downtime_seconds"] == 0


# --- rule 2 and 6: a status read after its service's silent timers fired ---------------
#
# A check going stale fires a timer with no output. When processing time has passed that
# instant (another service's event, a `received_at` delay), an event of the service with
# an earlier time is applied in event-time order all the same: from its own time.

STALE = {"stale_after": "10m", "unknown_counts_as": "up"}


def replay_closed(definitions: str, events: list[dict[str, Any]], until: str) -> dict[str, Any]:
    result = replay_run(definitions, events, until=until)
    [out] = [o for o in result.outputs if o["type"] == "sla.availability.window_closed"]
    return out


def raw_status(
    eid: str, time: str, value: str, service: str = "api", **extra: Any
) -> dict[str, Any]:
    return {"id": eid, "type": "uptime.status", "time": time, "service": service,
            "status": value, **extra}  # fmt: skip


def test_a_status_read_after_the_previous_one_went_stale_counts_from_its_own_time() -> None:
    events = [
        raw_status("u1", d(2, "00:00:00"), "up"),
        raw_status("x1", d(2, "00:20:00"), "up", service="other"),
        raw_status("u2", d(2, "00:05:00"), "down"),
    ]
    out = replay_closed(week(**STALE), events, WEEK_END)
    assert out["downtime_seconds"] == 600, "down from 00:05 until it goes stale at 00:15"


def test_a_delayed_status_gives_what_the_same_status_on_time_gives() -> None:
    on_time = [
        raw_status("u1", d(2, "00:00:00"), "up"),
        raw_status("u2", d(2, "00:01:00"), "up"),
        raw_status("u3", d(2, "00:02:00"), "down"),
    ]
    delayed = [*on_time[:2], {**on_time[2], "received_at": d(2, "00:04:00")}]
    definitions = week(stale_after="90s")
    want = replay_closed(definitions, on_time, WEEK_END)
    got = replay_closed(definitions, delayed, WEEK_END)
    assert (got["downtime_seconds"], got["measured_seconds"]) == (90, 210)
    assert {k: got[k] for k in ("availability", "outcome", "downtime_seconds")} == {
        k: want[k] for k in ("availability", "outcome", "downtime_seconds")
    }


def test_maintenance_announced_after_a_check_went_stale_counts_from_its_own_time() -> None:
    events = [
        raw_status("u1", d(2, "00:00:00"), "down"),
        raw_status("x1", d(2, "00:20:00"), "up", service="other"),
        {
            "id": "m1",
            "type": "maintenance.window",
            "time": d(2, "00:05:00"),
            "service": "api",
            "start": d(2, "00:05:00"),
            "end": d(2, "01:00:00"),
        },
    ]
    out = replay_closed(week(**STALE), events, WEEK_END)
    assert (out["downtime_seconds"], out["measured_seconds"]) == (300, WEEK_SECONDS - 3300)
