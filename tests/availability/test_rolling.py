"""Rolling (trailing) availability objectives: gauges only, no SLA events (rule 20a)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from slawatch.availability import (
    rolling_figures,
    state_from_record,
    state_to_record,
    statuses_at,
)
from slawatch.availability.rolling import BUCKET
from slawatch.availability.views import objective_views
from slawatch.timeutil import DAY, HOUR, SECOND, format_time, parse_time
from tests.availability.support import Event, catalog, fold, maintenance, objective, status

ROLLING = {"window": {"rolling": "7d"}, "objective": 90}
DAY2 = "2026-04-02T"


def figures(run_state: Any, now: str, objective_id: str = "api-uptime") -> tuple[Any, Any]:
    return rolling_figures(run_state, parse_time(now))[objective_id]


def outage() -> list[Event]:
    return [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("d1", DAY2 + "10:00:00Z", "down"),
        status("u2", DAY2 + "11:00:00Z", "up"),
    ]


def test_an_outage_counts_until_it_rolls_out() -> None:
    run = fold(catalog(objective(**ROLLING)), outage(), "2026-04-20T00:00:00Z")
    assert run.outputs == []
    availability, remaining = figures(run.state, DAY2 + "11:00:00Z")
    assert availability == pytest.approx(1 - 1 / 35)
    assert remaining == pytest.approx(1 - 1 / 3.5)
    assert figures(run.state, "2026-04-09T10:30:00Z")[0] == pytest.approx(1 - 0.5 / 168)
    assert figures(run.state, "2026-04-09T11:00:00Z") == (1.0, 1.0)
    assert figures(run.state, "2026-04-19T00:00:00Z") == (1.0, 1.0)


def test_nothing_is_measured_before_the_first_status() -> None:
    run = fold(catalog(objective(**ROLLING)), outage()[:1])
    assert figures(run.state, "2026-04-01T00:00:00Z") == (None, None)
    assert figures(run.state, "2026-04-01T01:00:00Z") == (1.0, 1.0)


def test_announced_maintenance_is_not_measured() -> None:
    events = outage()
    events.insert(1, maintenance("m1", DAY2 + "09:00:00Z", DAY2 + "10:00:00Z", DAY2 + "10:30:00Z"))
    run = fold(catalog(objective(**ROLLING)), events)
    assert figures(run.state, DAY2 + "11:00:00Z")[0] == pytest.approx(1 - 0.5 / 34.5)


def test_planned_maintenance_is_not_measured() -> None:
    planned = [{"rrule": "FREQ=DAILY;BYHOUR=10;BYMINUTE=0;BYSECOND=0", "duration": "1h"}]
    run = fold(catalog(objective(**ROLLING, maintenance=planned)), outage())
    assert figures(run.state, DAY2 + "11:00:00Z") == (1.0, 1.0)
    events = [*outage(), status("d2", DAY2 + "11:30:00Z", "down")]
    run = fold(catalog(objective(**ROLLING, maintenance=planned)), events)
    assert figures(run.state, DAY2 + "12:00:00Z")[0] == pytest.approx(1 - 0.5 / 34)


def test_a_business_hours_calendar_measures_only_its_working_time() -> None:
    office = {"office": {"timezone": "UTC", "week": {"mon-fri": ["09:00-17:00"]}}}
    cat = catalog(objective(**ROLLING, calendar="office", calendars=office))
    events = [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("d1", "2026-04-01T16:00:00Z", "down"),
        status("u2", DAY2 + "10:00:00Z", "up"),
    ]
    run = fold(cat, events)
    assert figures(run.state, DAY2 + "10:00:00Z")[0] == pytest.approx(1 - 2 / 9)
    assert figures(run.state, "2026-04-04T12:00:00Z")[0] == pytest.approx(1 - 2 / 24)


@pytest.mark.parametrize(("policy", "expected"), [("excluded", 0.5), ("down", 0.25), ("up", 0.75)])
def test_stale_checks_are_unknown(policy: str, expected: float) -> None:
    cat = catalog(objective(**ROLLING, stale_after="1h", unknown_counts_as=policy))
    events = [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("d1", "2026-04-01T03:00:00Z", "down"),
    ]
    run = fold(cat, events)
    assert figures(run.state, "2026-04-01T04:00:00Z")[0] == pytest.approx(expected)


def test_a_record_round_trip_keeps_the_figures() -> None:
    cat = catalog(objective(**ROLLING, stale_after="1h"))
    events = [*outage(), status("d2", "2026-04-05T00:00:00Z", "degraded")]
    straight = fold(cat, events)
    resumed = fold(cat, events, restore_at=2)
    record = json.loads(json.dumps(state_to_record(straight.state, cat)))
    restored = state_from_record(record, cat)
    assert state_to_record(restored, cat) == record
    for now in (DAY2 + "10:30:00Z", "2026-04-06T00:00:00Z", "2026-04-09T10:30:00Z"):
        expected = figures(straight.state, now)
        assert figures(resumed.state, now) == expected
        assert figures(restored, now) == expected


def test_memory_stays_bounded() -> None:
    cat = catalog(objective(**ROLLING))
    start = parse_time("2026-04-01T00:00:00Z")
    events = [
        status(f"e{i}", format_time(start + i * 20 * 60 * SECOND), ("up", "down")[i % 2])
        for i in range(30 * 72)
    ]
    run = fold(cat, events)
    [tally] = run.state.rolling.values()
    assert len(tally.buckets) <= 7 * DAY // BUCKET + 2
    availability, _ = figures(run.state, format_time(events[-1].time))
    assert availability == pytest.approx(0.5, abs=HOUR / (7 * DAY))


def _two_objectives(with_rolling: bool) -> str:
    common = {"service": "api", "timezone": "UTC", "calendar": "24x7", "stale_after": "5m"}
    monthly = {"id": "api-month", "objective": 99.9, "window": "month", **common}
    monthly["warn_at_budget"] = [0.5, 0.9]
    rolling = {"id": "api-trailing", "objective": 99.5, "window": {"rolling": "1d"}, **common}
    rolling.update(stale_after="1m", unknown_counts_as="down", kind="ola")
    objectives = [rolling, monthly] if with_rolling else [monthly]
    return json.dumps({"version": 1, "availability": objectives})


def test_rolling_objectives_change_no_outputs() -> None:
    start = parse_time("2026-04-29T00:00:00Z")
    events: list[Event] = []
    for i in range(3 * 2880):
        if i % 997 in range(3):
            continue
        value = "down" if i % 1200 < 40 else "degraded" if i % 1500 < 20 else "up"
        events.append(status(f"e{i}", format_time(start + i * 30 * SECOND), value))
    plain = fold(catalog(_two_objectives(False)), events, "2026-05-02T00:00:00Z")
    both = fold(catalog(_two_objectives(True)), events, "2026-05-02T00:00:00Z")
    assert both.lines() == plain.lines()
    assert {b["sla"] for b in both.bodies} == {"api-month"}
    assert {"sla.availability.window_closed", "sla.availability.breached"} <= {
        b["type"] for b in both.bodies
    }
    availability, remaining = figures(both.state, "2026-05-02T00:00:00Z", "api-trailing")
    assert availability is not None and remaining is not None
    assert 0 < availability < 1 and remaining < 1


def test_each_objective_sees_the_status_through_its_own_stale_after() -> None:
    # api-month goes stale after 5m, api-trailing after 1m; the down check is the
    # worst while fresh, then only the up one counts, then nothing
    events = [
        status("u1", "2026-05-01T00:00:00Z", "up", "a"),
        status("u2", "2026-05-01T00:02:00Z", "down", "b"),
    ]
    run = fold(catalog(_two_objectives(True)), events)

    def at(clock: str) -> dict[str, str]:
        return {k: v.value for k, v in statuses_at(run.state, parse_time(clock)).items()}

    assert at("2026-05-01T00:02:30Z") == {"api-month": "down", "api-trailing": "down"}
    assert at("2026-05-01T00:03:00Z") == {"api-month": "down", "api-trailing": "unknown"}
    assert at("2026-05-01T00:05:00Z") == {"api-month": "down", "api-trailing": "unknown"}
    assert at("2026-05-01T00:06:59Z") == {"api-month": "down", "api-trailing": "unknown"}
    assert at("2026-05-01T00:07:00Z") == {"api-month": "unknown", "api-trailing": "unknown"}
    before = run.state.checks.copy()
    assert at("2026-05-01T00:04:00Z") == {"api-month": "down", "api-trailing": "unknown"}
    assert run.state.checks == before


def test_a_service_with_no_objective_has_no_statuses() -> None:
    run = fold(catalog(_two_objectives(True)), [])
    assert statuses_at(run.state, parse_time("2026-05-01T00:00:00Z")) == {}


def test_the_api_shows_each_objective_the_status_its_stale_after_gives() -> None:
    # a monitor that stopped at 00:02: after 1m the trailing objective no longer trusts
    # it, after 5m the monthly one neither, whatever timers have fired
    events = [
        status("u1", "2026-05-01T00:00:00Z", "up"),
        status("u2", "2026-05-01T00:02:00Z", "up"),
    ]
    run = fold(catalog(_two_objectives(True)), events)

    def shown(clock: str) -> dict[str, str]:
        views = objective_views("service:api", run.state, parse_time(clock))
        return {v["sla"]: v["status"] for v in views}

    assert shown("2026-05-01T00:02:30Z") == {"api-month": "up", "api-trailing": "up"}
    assert shown("2026-05-01T00:04:00Z") == {"api-month": "up", "api-trailing": "unknown"}
    assert shown("2026-05-01T00:08:00Z") == {"api-month": "unknown", "api-trailing": "unknown"}
