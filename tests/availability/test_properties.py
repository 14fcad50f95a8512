"""Properties of the availability fold over generated streams (hypothesis).

Streams are uptime statuses of up to three checks and announced maintenance windows
(fresh ids, never cancelled) within one week, folded until the week's window closes;
:mod:`tests.availability.reference` recomputes the figures independently.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slawatch.availability import CLOSED_KEPT
from slawatch.availability.budget import ratio_number, seconds_number
from slawatch.clock.catalog import Catalog
from slawatch.events import MaintenanceWindow, UptimeStatus
from slawatch.timeutil import DAY, HOUR, MINUTE, SECOND, format_time, parse_time
from tests.availability.reference import Reference
from tests.availability.support import Event, Run, catalog, fold, maintenance, objective, status

START = parse_time("2026-03-02T00:00:00Z")
END = START + 7 * DAY
UNTIL = END + DAY
OFFICE = {"office": {"timezone": "UTC", "week": {"mon-fri": ["09:00-17:00"]}}}
WARN = [0.5, 0.75, 0.9]
CASES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "window": "week",
        "objective": draw(st.sampled_from([99, 99.5, 99.9])),
        "unknown_counts_as": draw(st.sampled_from(["excluded", "down", "up"])),
        "degraded_weight": draw(st.sampled_from([0, 0.5, 1])),
        "warn_at_budget": WARN,
        "credits": [{"below": 99.9, "percent": 10}, {"below": 99, "percent": 25}],
    }
    stale = draw(st.sampled_from([None, "30m", "2h"]))
    if stale is not None:
        fields["stale_after"] = stale
    if draw(st.booleans()):
        fields["calendar"] = "office"
        fields["calendars"] = OFFICE
    if draw(st.booleans()):
        fields["maintenance"] = [{"rrule": "FREQ=DAILY;BYHOUR=12", "duration": "1h"}]
    return fields


@st.composite
def instants(draw: st.DrawFn) -> int:
    minutes = draw(st.integers(0, 7 * 24 * 60 - 1))
    jitter = draw(st.sampled_from([0, 0, 0, 1, 500_000, 37 * SECOND]))
    return START + minutes * MINUTE + jitter


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    count = draw(st.integers(1, 25))
    times = sorted(draw(instants()) for _ in range(count))
    events: list[Event] = []
    for n, t in enumerate(times):
        if draw(st.integers(0, 6)) == 0:
            begin = draw(instants())
            length = draw(st.integers(1, 12 * 60)) * MINUTE
            events.append(
                maintenance(
                    f"m{n}", format_time(t), format_time(begin), format_time(begin + length)
                )
            )
        else:
            check = draw(st.sampled_from([None, "a", "b"]))
            value = draw(st.sampled_from(["up", "up", "down", "degraded"]))
            events.append(status(f"u{n}", format_time(t), value, check))
    return events


def _setup(fields: dict[str, Any]) -> Catalog:
    return catalog(objective(**fields))


def _reference(cat: Catalog, fields: dict[str, Any], events: list[Event]) -> Reference:
    version = cat.latest
    o = version.definitions.availability[0]
    planned = []
    if "maintenance" in fields:
        planned = [(START + i * DAY + 12 * HOUR, START + i * DAY + 13 * HOUR) for i in range(7)]
    return Reference(o, version.calendars[o.calendar], events, planned, END)


def _close(run: Run) -> dict[str, Any] | None:
    closes = run.of("sla.availability.window_closed", window_end=format_time(END))
    return closes[0] if closes else None


@CASES
@given(definitions(), streams())
def test_outputs_agree_with_the_reference(fields: dict[str, Any], events: list[Event]) -> None:
    cat = _setup(fields)
    run = fold(cat, events, UNTIL)
    if not any(isinstance(e, UptimeStatus) for e in events):
        assert run.outputs == []
        return
    ref = _reference(cat, fields, events)
    close = _close(run)
    assert close is not None
    final = ref.figures(END)
    assert close["downtime_seconds"] == seconds_number(final.downtime)
    assert close["measured_seconds"] == seconds_number(final.base)
    assert final.downtime <= final.base
    want = (
        None if final.availability is None or final.base == 0 else ratio_number(final.availability)
    )
    assert close["availability"] == want
    breaches = run.of("sla.availability.breached", window_end=format_time(END))
    assert bool(breaches) == (close["outcome"] == "breached")
    times = {e.time for e in events}
    for out in run.of(window_end=format_time(END)):
        if out["availability"] is not None:
            assert 0 <= out["availability"] <= 1
    warnings = run.of("sla.availability.warning", window_end=format_time(END))
    for warning in warnings:
        t = parse_time(warning["time"])
        now = ref.figures(t)
        f = Fraction(str(warning["threshold"]))
        assert now.consumed is not None and now.consumed >= f
        assert warning["budget_consumed"] == ratio_number(now.consumed)
        assert now.availability is not None
        assert warning["availability"] == ratio_number(now.availability)
        if t - 1 >= ref.origin:
            before = ref.figures(t - 1)
            assert before.consumed is None or before.consumed < f
    for breach in breaches:
        t = parse_time(breach["time"])
        now = ref.figures(t)
        assert now.downtime >= now.budget
        assert breach["budget_seconds"] == seconds_number(now.budget)
        if t - 1 >= ref.origin:
            before = ref.figures(t - 1)
            assert before.downtime <= before.budget
        if not any(t < u <= t + 1 for u in times):
            after = ref.figures(t + 1)
            assert after.downtime > after.budget
    consumed = final.consumed
    if not breaches and consumed is not None and consumed >= Fraction(9, 10):
        assert warnings[-1]["threshold"] == 0.9
    thresholds = [w["threshold"] for w in warnings]
    assert thresholds == sorted(set(thresholds))


@st.composite
def with_repeats(draw: st.DrawFn) -> tuple[dict[str, Any], list[Event], list[Event]]:
    fields = draw(definitions())
    events = draw(streams())
    stale = {None: None, "30m": 30 * MINUTE, "2h": 2 * HOUR}[fields.get("stale_after")]
    extra: list[Event] = []
    for i, ev in enumerate(events):
        if not isinstance(ev, UptimeStatus):
            continue
        later = [e for e in events[i + 1 :] if isinstance(e, UptimeStatus) and e.check == ev.check]
        following = later[0].time if later else None
        if following is None and stale is not None:
            continue
        limit = following if following is not None else UNTIL
        if stale is not None and limit - ev.time > stale:
            continue
        if limit - ev.time < 2:
            continue
        for k in range(draw(st.integers(0, 3))):
            t = draw(st.integers(ev.time + 1, limit - 1))
            extra.append(UptimeStatus(f"r{i}-{k}", t, ev.service, ev.status, ev.check))
    merged = list(events)
    for rep in sorted(extra, key=lambda e: e.time):
        at = max(j + 1 for j, e in enumerate(merged) if e.time <= rep.time)
        merged.insert(at, rep)
    return fields, events, merged


@CASES
@given(with_repeats())
def test_repeating_the_status_in_force_changes_nothing(
    case: tuple[dict[str, Any], list[Event], list[Event]],
) -> None:
    fields, events, repeated = case
    cat = _setup(fields)
    assert fold(cat, events, UNTIL).lines() == fold(cat, repeated, UNTIL).lines()


@CASES
@given(definitions(), streams(), st.data())
def test_a_record_round_trip_changes_nothing(
    fields: dict[str, Any], events: list[Event], data: st.DataObject
) -> None:
    cat = _setup(fields)
    at = data.draw(st.integers(0, len(events)))
    plain = fold(cat, events, UNTIL)
    restored = fold(cat, events, UNTIL, restore_at=at)
    assert plain.lines() == restored.lines()
    assert plain.state.closed == restored.state.closed


@CASES
@given(definitions(), streams(), st.sampled_from([0, 1, 15]))
def test_the_state_keeps_the_totals_of_the_latest_closed_windows(
    fields: dict[str, Any], events: list[Event], weeks: int
) -> None:
    """What the downtime counters finish closed windows with is what they closed with:
    the latest :data:`CLOSED_KEPT` of them, oldest first."""
    run = fold(_setup(fields), events, UNTIL + weeks * 7 * DAY)
    closes = run.of("sla.availability.window_closed")
    if not closes:  # no status ever: no window opened
        assert run.state.closed == {}
        return
    kept = run.state.closed[closes[-1]["sla"]]
    assert len(kept) == min(len(closes), CLOSED_KEPT)
    for (kind, start, downtime, measured), close in zip(kept, closes[-len(kept) :], strict=True):
        assert (kind, start) == (close["kind"], parse_time(close["window_start"]))
        assert downtime == pytest.approx(close["downtime_seconds"])
        assert measured == pytest.approx(close["measured_seconds"])


def test_a_record_is_plain_json() -> None:
    from slawatch.availability import state_to_record

    cat = _setup({"window": "week", "stale_after": "1h", "warn_at_budget": WARN})
    events = [
        status("u1", "2026-03-02T00:00:00Z", "down", "a"),
        maintenance("m1", "2026-03-02T00:01:00Z", "2026-03-03T00:00:00Z", "2026-03-03T01:00:00Z"),
        maintenance(
            "m2", "2026-03-02T00:02:00Z", "2026-03-03T00:00:00Z", "2026-03-03T00:30:00Z", "m1"
        ),
    ]
    run = fold(cat, events)
    record = state_to_record(run.state, cat)
    assert json.loads(json.dumps(record)) == record
    assert record["checks"] == [["a", "down", START]]
    assert record["windows"][0]["objective"] == "api-uptime"
    assert isinstance(events[1], MaintenanceWindow)
