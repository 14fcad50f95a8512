"""Rules 23-26 and 18: budgets, warnings, breaches, window closes and definitions versions.

Weekly windows in UTC (Monday 2026-03-02 to 2026-03-09, 604,800 s): at 99.9% the
budget of a whole week is 604.8 s.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from slawatch.availability import fire_before, state_from_record, state_to_record
from slawatch.timeutil import SECOND, format_time, parse_time
from tests.availability.support import catalog, fold, maintenance, objective, status

WEEK_END = "2026-03-09T00:00:00Z"
OFFICE = {"office": {"timezone": "UTC", "week": {"mon-fri": ["09:00-17:00"]}}}


def week(**fields: Any) -> str:
    return objective(window="week", **fields)


def d(day: int, clock: str) -> str:
    return f"2026-03-{day:02d}T{clock}Z"


def kinds(run: Any) -> list[tuple[str, str]]:
    return [(o["type"].removeprefix("sla.availability."), o["time"]) for o in run.of()]


# --- rule 23 -----------------------------------------------------------------------


def test_instants_carry_fractional_seconds() -> None:
    run = fold(catalog(week()), [status("u1", d(2, "00:00:00"), "down")], d(3, "00:00:00"))
    [breach] = run.of("sla.availability.breached")
    assert breach["time"] == "2026-03-02T00:10:04.800000Z"
    assert (breach["budget_seconds"], breach["downtime_seconds"]) == (604.8, 604.8)


def test_instants_are_rounded_up_to_the_microsecond() -> None:
    # measured from 00:00:00.000001, the base is 1 us short of the week: the budget is
    # 604,799,999.999 us, half of it 302,399,999.9995 us
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [status("u1", "2026-03-02T00:00:00.000001Z", "down")],
        d(3, "00:00:00"),
    )
    warning, breach = run.of()
    assert warning["time"] == "2026-03-02T00:05:02.400001Z"
    assert breach["time"] == "2026-03-02T00:10:04.800001Z"
    assert breach["budget_seconds"] == 604.8


def test_announced_maintenance_shrinks_the_budget_and_moves_the_instants() -> None:
    # at 00:05 three days of maintenance leave a base of 345,600 s and a budget of 345.6 s:
    # the 300 s already down cross 0.5 and 0.75 at once, and only 0.75 is emitted
    run = fold(
        catalog(week(warn_at_budget=[0.5, 0.75, 0.9])),
        [
            status("u1", d(2, "00:00:00"), "down"),
            maintenance("m1", d(2, "00:05:00"), d(6, "00:00:00"), WEEK_END),
        ],
        d(3, "00:00:00"),
    )
    warn75, warn90, breach = run.of()
    assert (warn75["threshold"], warn75["time"], warn75["budget_consumed"]) == (
        0.75,
        d(2, "00:05:00"),
        0.868055556,
    )
    assert (warn90["threshold"], warn90["time"]) == (0.9, "2026-03-02T00:05:11.040000Z")
    assert (breach["time"], breach["budget_seconds"]) == ("2026-03-02T00:05:45.600000Z", 345.6)


def test_a_budget_shrunk_below_the_downtime_breaches_at_once_without_a_warning() -> None:
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [
            status("u1", d(2, "00:00:00"), "down"),
            maintenance("m1", d(2, "00:05:00"), d(3, "00:00:00"), WEEK_END),
            status("u2", d(2, "00:06:00"), "up"),
        ],
        WEEK_END,
    )
    assert kinds(run) == [("breached", d(2, "00:05:00")), ("window_closed", WEEK_END)]
    breach = run.of("sla.availability.breached")[0]
    assert (breach["budget_seconds"], breach["downtime_seconds"]) == (86.4, 300)


def test_excluded_unknown_time_shrinks_the_budget() -> None:
    # 500 s down; stale from 01:08:20, and the base shrinks by the unknown time: 0.9 of the
    # budget is reached when it is 555,555.5... s, the budget is exceeded below 500,000 s
    run = fold(
        catalog(week(stale_after="1h", warn_at_budget=[0.5, 0.75, 0.9])),
        [status("u1", d(2, "00:00:00"), "down"), status("u2", d(2, "00:08:20"), "up")],
        WEEK_END,
    )
    assert kinds(run) == [
        ("warning", "2026-03-02T00:05:02.400000Z"),
        ("warning", "2026-03-02T00:07:33.600000Z"),
        ("warning", "2026-03-02T14:49:04.444445Z"),
        ("breached", "2026-03-03T06:15:00Z"),
        ("window_closed", WEEK_END),
    ]
    _, _, _, breach, close = run.of()
    assert (breach["budget_seconds"], breach["downtime_seconds"]) == (500, 500)
    assert breach["availability"] == 0.87804878
    assert (close["measured_seconds"], close["availability"], close["outcome"]) == (
        4100,
        0.87804878,
        "breached",
    )


def test_availability_is_reported_over_measured_time_so_far() -> None:
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [status("u1", d(2, "00:00:00"), "up"), status("u2", d(2, "01:00:00"), "down")],
        d(3, "00:00:00"),
    )
    warning = run.of("sla.availability.warning")[0]
    assert warning["time"] == "2026-03-02T01:05:02.400000Z"
    assert warning["availability"] == round(1 - 302.4 / 3902.4, 9)
    assert warning["budget_consumed"] == 0.5


# --- rule 24 -----------------------------------------------------------------------


def test_each_warning_fires_once_per_window() -> None:
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [
            status("u1", d(2, "00:00:00"), "down"),
            status("u2", d(2, "00:06:00"), "up"),
            status("u3", d(3, "00:00:00"), "down"),
            status("u4", d(3, "00:01:00"), "up"),
            status("u5", d(9, "00:00:00"), "down"),
            status("u6", d(9, "00:06:00"), "up"),
        ],
        d(10, "00:00:00"),
    )
    assert [o["time"] for o in run.of("sla.availability.warning")] == [
        "2026-03-02T00:05:02.400000Z",
        "2026-03-09T00:05:02.400000Z",
    ]


def test_a_warning_reached_as_the_service_comes_back_up_fires() -> None:
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [status("u1", d(2, "00:00:00"), "down"), status("u2", "2026-03-02T00:05:02.4Z", "up")],
        d(3, "00:00:00"),
    )
    [warning] = run.of()
    assert (warning["time"], warning["budget_consumed"]) == ("2026-03-02T00:05:02.400000Z", 0.5)


def test_warning_output() -> None:
    run = fold(
        catalog(week(warn_at_budget=[0.5])),
        [status("u1", d(2, "00:00:00"), "down")],
        d(2, "00:06:00"),
    )
    [warning] = run.of()
    key = (
        "slawatch:sla.availability.warning|service:api|api-uptime|availability"
        "|2026-03-02T00:00:00Z|2026-03-02T00:05:02.400000Z|0.5"
    )
    assert warning == {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "type": "sla.availability.warning",
        "time": "2026-03-02T00:05:02.400000Z",
        "sla": "api-uptime",
        "target": "availability",
        "kind": "customer",
        "subject": "service:api",
        "window_start": "2026-03-02T00:00:00Z",
        "window_end": WEEK_END,
        "labels": {"service": "api"},
        "definitions_version": 1,
        "budget_consumed": 0.5,
        "threshold": 0.5,
        "availability": 0.0,
    }
    assert list(warning)[11:] == ["budget_consumed", "threshold", "availability"]
    out = run.outputs[0]
    assert (out.order, out.cycle, out.subject) == (1_000_000, 0, "service:api")


# --- rule 25 -----------------------------------------------------------------------


def test_back_up_at_exactly_the_budget_is_no_breach() -> None:
    events = [status("u1", d(2, "00:00:00"), "down"), status("u2", "2026-03-02T00:10:04.8Z", "up")]
    run = fold(catalog(week(credits=[{"below": 99.9, "percent": 10}])), events, WEEK_END)
    [close] = run.of()
    assert (close["availability"], close["outcome"], close["credit_percent"]) == (0.999, "met", 0)
    events[1] = status("u2", "2026-03-02T00:10:04.800001Z", "up")
    run = fold(catalog(week(credits=[{"below": 99.9, "percent": 10}])), events, WEEK_END)
    breach, close = run.of()
    assert breach["time"] == "2026-03-02T00:10:04.800000Z"
    assert (close["outcome"], close["credit_percent"]) == ("breached", 10)


def test_a_breach_fires_once_per_window() -> None:
    run = fold(
        catalog(week()),
        [
            status("u1", d(2, "00:00:00"), "down"),
            status("u2", d(2, "00:20:00"), "up"),
            status("u3", d(4, "00:00:00"), "down"),
            status("u4", d(4, "00:20:00"), "up"),
            status("u5", d(9, "00:00:00"), "down"),
        ],
        d(10, "00:00:00"),
    )
    assert [o["time"] for o in run.of("sla.availability.breached")] == [
        "2026-03-02T00:10:04.800000Z",
        "2026-03-09T00:10:04.800000Z",
    ]


def test_budget_used_up_as_the_calendar_closes_breaches_at_the_next_opening() -> None:
    # office hours: a 144,000 s base and a 144 s budget, used up at 17:00 on Monday
    defs = week(calendar="office", calendars=OFFICE)
    events = [status("u1", d(2, "00:00:00"), "up"), status("u2", d(2, "16:57:36"), "down")]
    run = fold(catalog(defs), events, d(4, "00:00:00"))
    [breach] = run.of()
    assert (breach["time"], breach["downtime_seconds"]) == (d(3, "09:00:00"), 144)
    run = fold(catalog(defs), [*events, status("u3", d(3, "08:00:00"), "up")], WEEK_END)
    [close] = run.of()
    assert (close["availability"], close["outcome"]) == (0.999, "met")


def test_degraded_time_breaches_at_its_weight() -> None:
    run = fold(
        catalog(week(degraded_weight=0.5)),
        [status("u1", d(2, "00:00:00"), "degraded")],
        d(3, "00:00:00"),
    )
    [breach] = run.of()
    assert (breach["time"], breach["downtime_seconds"]) == ("2026-03-02T00:20:09.600000Z", 604.8)


def test_breach_output() -> None:
    run = fold(catalog(week()), [status("u1", d(2, "00:00:00"), "down")], d(2, "01:00:00"))
    [breach] = run.of()
    key = (
        "slawatch:sla.availability.breached|service:api|api-uptime|availability"
        "|2026-03-02T00:00:00Z|2026-03-02T00:10:04.800000Z"
    )
    assert breach["id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, key))
    assert list(breach)[11:] == ["availability", "budget_seconds", "downtime_seconds"]
    assert breach["availability"] == 0


# --- rule 26 -----------------------------------------------------------------------


TIERS = [
    {"below": 99.9, "percent": 10},
    {"below": 99.0, "percent": 25},
    {"below": 95.0, "percent": 100},
]


def test_credit_is_that_of_the_smallest_tier_the_availability_is_under() -> None:
    def credit(seconds_down: int) -> tuple[Any, ...]:
        up = format_time(parse_time(d(2, "00:00:00")) + seconds_down * SECOND)
        run = fold(
            catalog(week(credits=TIERS)),
            [status("u1", d(2, "00:00:00"), "down"), status("u2", up, "up")],
            WEEK_END,
        )
        close = run.of("sla.availability.window_closed")[0]
        return close["outcome"], close["credit_percent"], close["availability"]

    assert credit(300) == ("met", 0, 0.999503968)
    assert credit(3000) == ("breached", 10, 0.995039683)
    assert credit(10000) == ("breached", 25, 0.983465608)
    assert credit(40000) == ("breached", 100, 0.933862434)


def test_no_data_when_nothing_was_measured() -> None:
    run = fold(
        catalog(week(calendar="office", calendars=OFFICE, credits=TIERS)),
        [status("u1", d(7, "10:00:00"), "down")],
        WEEK_END,
    )
    [close] = run.of()
    assert close["availability"] is None
    assert (close["outcome"], close["credit_percent"]) == ("no_data", 0)
    assert (close["downtime_seconds"], close["measured_seconds"]) == (0, 0)


def test_window_closed_output() -> None:
    run = fold(catalog(week()), [status("u1", d(2, "00:00:00"), "up")], WEEK_END)
    [close] = run.of()
    key = (
        "slawatch:sla.availability.window_closed|service:api|api-uptime|availability"
        "|2026-03-02T00:00:00Z|2026-03-09T00:00:00Z"
    )
    assert close["id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, key))
    assert list(close)[11:] == [
        "availability",
        "outcome",
        "credit_percent",
        "downtime_seconds",
        "measured_seconds",
    ]
    assert (close["availability"], close["outcome"], close["credit_percent"]) == (1, "met", 0)
    assert isinstance(close["availability"], int)


def test_a_window_closes_at_its_end_and_not_before() -> None:
    run = fold(
        catalog(week()), [status("u1", d(2, "00:00:00"), "up")], "2026-03-08T23:59:59.999999Z"
    )
    assert run.of() == []


# --- rule 18: versions -------------------------------------------------------------


def test_a_window_keeps_the_version_it_started_under() -> None:
    cat = catalog(objective(), (objective(objective=99.5), "2026-04-15T00:00:00Z"))
    run = fold(
        cat,
        [status("u1", "2026-04-01T00:00:00Z", "up"), status("u2", "2026-05-01T00:00:00Z", "down")],
        "2026-05-02T00:00:00Z",
    )
    close, breach = run.of()
    assert close["definitions_version"] == 1
    assert (breach["definitions_version"], breach["budget_seconds"]) == (2, 13392)
    assert breach["time"] == "2026-05-01T03:43:12Z"


def test_the_first_window_uses_the_version_in_force_when_measuring_starts() -> None:
    cat = catalog(objective(), (objective(objective=99.5), "2026-04-05T00:00:00Z"))
    run = fold(cat, [status("u1", "2026-04-10T00:00:00Z", "up")], "2026-05-01T00:00:00Z")
    [close] = run.of()
    assert (close["definitions_version"], close["window_start"]) == (2, "2026-04-01T00:00:00Z")


def test_an_objective_brought_in_by_a_later_version_is_measured_from_then() -> None:
    other = objective(service="web")
    cat = catalog(other, (objective(), "2026-04-15T00:00:00Z"))
    run = fold(cat, [status("u1", "2026-04-01T00:00:00Z", "up")], "2026-06-01T00:00:00Z")
    april, may = run.of()
    assert (april["measured_seconds"], april["definitions_version"]) == (16 * 86400, 2)
    assert may["measured_seconds"] == 31 * 86400


def test_a_version_stored_after_the_state_was_recorded_still_brings_its_objective_in() -> None:
    """The state was recorded when only version 1 (no objective for this service) was
    stored; restored once version 2 (an objective from April 15) is, it measures the new
    objective from April 15, as if version 2 had been known all along (a restart, or an
    evaluator taking up a version stored with ``slawatch apply``)."""
    first = objective(service="web")
    both = catalog(first, (objective(), "2026-04-15T00:00:00Z"))
    events = [status("u1", "2026-04-01T00:00:00Z", "up")]
    before = fold(catalog(first), events)
    assert before.state.activation is None and not before.state.windows
    record = json.loads(json.dumps(state_to_record(before.state, catalog(first))))
    restored = state_from_record(record, both)
    assert restored.activation == parse_time("2026-04-15T00:00:00Z")
    june = parse_time("2026-06-01T00:00:00Z")
    later = [json.loads(o.to_json()) for o in fire_before(restored, "service:api", june + 1)]
    assert later == fold(both, events, "2026-06-01T00:00:00Z").bodies


def test_an_objective_dropped_by_a_later_version_ends_with_its_window() -> None:
    cat = catalog(objective(), (objective(service="web"), "2026-04-15T00:00:00Z"))
    run = fold(cat, [status("u1", "2026-04-01T00:00:00Z", "up")], "2026-07-01T00:00:00Z")
    [april] = run.of()
    assert april["window_end"] == "2026-05-01T00:00:00Z"
    assert not run.state.windows


def test_a_restored_state_does_not_reopen_an_objective_brought_in_and_dropped_since() -> None:
    """Version 2 brings the objective in on April 15 and version 3 drops it from May 10:
    its May window, the last, closes on June 1, with no status since April 1. A state
    recorded after that close and restored measures nothing more: the timers it fired
    are part of it."""
    cat = catalog(
        objective(service="web"),
        (objective(), "2026-04-15T00:00:00Z"),
        (objective(service="web"), "2026-05-10T00:00:00Z"),
    )
    events = [status("u1", "2026-04-01T00:00:00Z", "up")]
    whole = fold(cat, events, "2026-08-01T00:00:00Z")
    assert [o["window_end"] for o in whole.of()] == [
        "2026-05-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
    ]
    closed = fold(cat, events, "2026-06-02T00:00:00Z")
    record = json.loads(json.dumps(state_to_record(closed.state, cat)))
    restored = state_from_record(record, cat)
    assert restored.activation is None and not restored.windows
    august = parse_time("2026-08-01T00:00:00Z")
    assert fire_before(restored, "service:api", august + 1) == []
