"""The fold's interface as the engine uses it: repeats, timers, records, errors."""

from __future__ import annotations

import copy

import pytest

from slawatch.availability import (
    RecordError,
    ServiceState,
    apply_event,
    fire_before,
    has_open_window,
    next_due,
    state_from_record,
    state_to_record,
)
from slawatch.events import Acknowledgement
from slawatch.timeutil import HOUR, MINUTE, parse_time
from tests.availability.support import catalog, fold, objective, status

SUBJECT = "service:api"
T0 = parse_time("2026-03-02T00:00:00Z")


def test_a_repeat_only_refreshes_its_check_and_moves_the_staleness_timer() -> None:
    cat = catalog(objective(window="week", stale_after="5m", warn_at_budget=[0.5]))
    state = ServiceState()
    apply_event(state, SUBJECT, status("u1", "2026-03-02T00:00:00Z", "up"), cat)
    assert has_open_window(state)
    assert next_due(state) == T0 + 5 * MINUTE
    before = copy.deepcopy(state_to_record(state, cat))
    repeat = status("u2", "2026-03-02T00:04:00Z", "up")
    assert fire_before(state, SUBJECT, repeat.time) == []
    assert apply_event(state, SUBJECT, repeat, cat) == []
    after = state_to_record(state, cat)
    assert after["checks"] == [[None, "up", repeat.time]]
    assert {**after, "checks": before["checks"]} == before
    assert next_due(state) == T0 + 4 * MINUTE + 5 * MINUTE


def test_the_next_timer_is_the_nearest_of_projection_staleness_and_window_end() -> None:
    cat = catalog(objective(window="week", warn_at_budget=[0.5]))
    state = ServiceState()
    apply_event(state, SUBJECT, status("u1", "2026-03-02T00:00:00Z", "up"), cat)
    assert next_due(state) == parse_time("2026-03-09T00:00:00Z")
    apply_event(state, SUBJECT, status("u2", "2026-03-02T01:00:00Z", "down"), cat)
    assert next_due(state) == T0 + HOUR + 302_400_000
    assert fire_before(state, SUBJECT, T0 + HOUR + 302_400_000) == []
    [warning] = fire_before(state, SUBJECT, T0 + HOUR + 400_000_000)
    assert warning.time == T0 + HOUR + 302_400_000
    assert next_due(state) == T0 + HOUR + 604_800_000


def test_events_of_other_kinds_are_refused() -> None:
    ack = Acknowledgement("a1", T0, SUBJECT, "person:x")
    with pytest.raises(TypeError):
        apply_event(ServiceState(), SUBJECT, ack, catalog(objective()))  # type: ignore[arg-type]


def test_a_record_restores_against_the_same_versions_only() -> None:
    cat = catalog(objective(window="week"))
    run = fold(cat, [status("u1", "2026-03-02T00:00:00Z", "up")])
    record = state_to_record(run.state, cat)
    restored = state_from_record(record, cat)
    assert state_to_record(restored, cat) == record
    assert next_due(restored) == next_due(run.state)
    with pytest.raises(RecordError, match="version 7"):
        state_from_record({**record, "windows": [{**record["windows"][0], "version": 7}]}, cat)
    other = catalog(objective(window="week", id="web-uptime"))
    with pytest.raises(RecordError, match="api-uptime"):
        state_from_record(record, other)
