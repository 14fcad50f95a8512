"""Export of changes for the evaluator's store (history apart), and restoring from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.clock.test_properties import SETTINGS, VERSIONS, streams
from tests.support.replaying import run as replayed
from tests.support.replaying import versions

from slawatch.availability.views import objective_views
from slawatch.clock import Engine
from slawatch.clock.engine import StoredChange
from slawatch.clock.snapshot import open_clocks
from slawatch.clock.ticket import NO_COUNTS, NO_VALUES
from slawatch.clock.views import clock_views
from slawatch.events import parse_event
from slawatch.events.model import InputEvent
from slawatch.timeutil import MINUTE, parse_time


class Store:
    """What the evaluator's tables hold: a record per subject, its history lines in order."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.lines: dict[str, list[str]] = {}

    def write(self, change: StoredChange) -> None:
        lines = self.lines.setdefault(change.key, [])
        if change.rewrite:
            lines.clear()
        assert change.start == len(lines), "an append must continue the stored history"
        lines.extend(change.lines)
        self.records[change.key] = json.loads(json.dumps(change.record))

    def load(self, engine: Engine) -> None:
        for key, record in self.records.items():
            engine.import_stored(record, list(self.lines.get(key, [])))


def parsed(event: dict[str, Any]) -> InputEvent:
    result = parse_event(json.dumps(event).encode())
    assert isinstance(result, InputEvent)
    return result


def run(events: list[InputEvent], split: int | None) -> tuple[list[str], Engine]:
    """Apply events (arrival order), committing changes after each; restart at ``split``."""
    engine = Engine(VERSIONS)
    store = Store()
    out: list[str] = []
    now = 0
    for n, event in enumerate(events):
        if n == split:
            engine = Engine(VERSIONS)
            store.load(engine)
        now = max(now, event.time) + MINUTE
        touched = set()
        for o in engine.due(now):
            out.append(o.to_json().decode())
            touched.add(o.subject)
        applied = engine.apply(event, now)
        out.extend(o.to_json().decode() for o in applied.outputs)
        touched.add(event.subject)
        for key in sorted(touched):
            if key in engine.subjects:
                store.write(engine.export_change(key))
    return out, engine


@SETTINGS
@given(streams(), st.data())
def test_restoring_from_stored_changes_changes_nothing(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Restarting from the stored records and history lines gives the same outputs.

    Arrival order is shuffled, so late events rewrite histories (rule 6); duplicates
    are recognised after a restart from the stored lines alone.
    """
    arrival = data.draw(st.permutations(events))
    again = data.draw(st.sampled_from(arrival))
    stream = [parsed(e) for e in [*arrival, again]]
    split = data.draw(st.integers(0, len(stream)))
    plain, engine = run(stream, None)
    restored, engine_restored = run(stream, split)
    assert restored == plain
    for key, subject in engine.subjects.items():
        assert engine_restored.export_subject(key) == engine.export_subject(key), subject.key
    assert NO_COUNTS == {} and NO_VALUES == {}, "a state changed the shared empty dicts"


def exports(arrival: list[dict[str, Any]]) -> Iterator[tuple[Engine, int, str, StoredChange]]:
    """Apply events in arrival order, each a minute after the latest event time so far,
    exporting the subjects each one touched (its own, and those whose timers fired):
    (engine, processing time, subject, change) per export, right after it is made."""
    engine = Engine(VERSIONS)
    now = 0
    for event in (parsed(e) for e in arrival):
        now = max(now, event.time) + MINUTE
        touched = {o.subject for o in engine.due(now)}
        engine.apply(event, now)
        touched.add(event.subject)
        for key in sorted(touched & engine.subjects.keys()):
            yield engine, now, key, engine.export_change(key)


@SETTINGS
@given(streams(), st.data())
def test_an_exported_change_is_not_changed_by_what_the_engine_does_next(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """A change's record reads the same when encoded later as when exported.

    The evaluator encodes a batch's changes while the engine applies the next batch
    (commits queued behind each other), so a record may share no mutable part with
    the state the engine goes on changing.
    """
    arrival = data.draw(st.permutations(events))
    exported: list[tuple[dict[str, Any], str]] = []
    for _, _, _, change in exports(arrival):
        exported.append((change.record, json.dumps(change.record)))
    assert [json.dumps(record) for record, _ in exported] == [text for _, text in exported]


@SETTINGS
@given(streams(), st.data())
def test_a_change_carries_the_soonest_deadline_a_due_listing_shows(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Every exported change's ``deadline`` is the earliest ``deadline`` among the clock
    views of its ticket that have one (running, or breached), ``None`` when none has
    (paused, or nothing open) and for services: the store finds due tickets by it."""
    arrival = data.draw(st.permutations(events))
    for engine, now, key, change in exports(arrival):
        if not key.startswith("ticket:"):
            assert change.deadline is None
            continue
        views = clock_views(key, engine.subjects[key].state, now)
        deadlines = [v.deadline for v in views if v.deadline is not None]
        assert change.deadline == min(deadlines, default=None)


def one_ticket() -> Engine:
    """An engine that has applied the creation of ticket T-1."""
    engine = Engine(VERSIONS)
    created = {"id": "e1", "type": "ticket.created", "time": "2026-03-02T09:00:00Z",
               "ticket": {"id": "T-1", "status": "open", "priority": "P2"}}  # fmt: skip
    engine.apply(parsed(created), 0)
    return engine


def test_an_unchanged_history_is_not_written_again() -> None:
    """A second export with no new event appends nothing; records hold no history."""
    engine = one_ticket()
    first = engine.export_change("ticket:T-1")
    assert (first.rewrite, first.start, len(first.lines)) == (False, 0, 1)
    again = engine.export_change("ticket:T-1")
    assert (again.rewrite, again.start, again.lines) == (False, 1, [])
    assert "history" not in again.record and "ids" not in again.record


def test_a_restored_ticket_counts_its_clocks_before_it_is_decoded() -> None:
    """Gauges read the open clocks' states from the record of a ticket not yet used."""
    engine = one_ticket()
    change = engine.export_change("ticket:T-1")
    restored = Engine(VERSIONS)
    restored.import_stored(json.loads(json.dumps(change.record)), change.lines)
    subject = restored.subjects["ticket:T-1"]
    assert subject.frozen is not None
    cycles = engine.subjects["ticket:T-1"].state.open.values()
    want = [(c.sla.id, c.target.id, c.state, c.breach_deadline is not None) for c in cycles]
    assert want and open_clocks(subject.frozen) == want
    assert [c.state for c in subject.state.open.values()] == [w[2] for w in want]
    assert subject.frozen is None


def test_a_service_restored_under_a_newer_version_is_measured_from_its_effective_from() -> None:
    """Stored when only version 1 (no objective for ``api``) was known, then restored with
    version 2 (one from 09:05): the window opens at 09:05 with the status of then (up),
    before the 09:10 ``down`` is applied, as replay over both versions has it."""
    uptime = "availability:\n  - {id: api-uptime, service: api, objective: 99.9, window: month}\n"
    web = uptime.replace("service: api", "service: web")
    first = versions((web, None))
    both = versions((web, None), (uptime, "2026-03-02T09:05:00Z"))
    docs = [{"id": f"u{i}", "type": "uptime.status", "time": t, "service": "api", "status": s}
            for i, (t, s) in enumerate([("2026-03-02T09:00:00Z", "up"),
                                        ("2026-03-02T09:10:00Z", "down")])]  # fmt: skip
    now = parse_time("2026-03-02T09:30:00Z")
    before = Engine(first)
    before.apply(parsed(docs[0]), now)
    store = Store()
    store.write(before.export_change("service:api"))
    after = Engine(both)
    store.load(after)
    assert after.subjects["service:api"].due == parse_time("2026-03-02T09:05:00Z")
    after.due(now)
    after.apply(parsed(docs[1]), now)
    [month] = objective_views("service:api", after.subjects["service:api"].state, now)
    assert (month["downtime_seconds"], month["measured_seconds"]) == (1200, 1500)
    breach = [json.loads(o.to_json()) for o in after.due(parse_time("2026-03-03T00:00:00Z"))]
    want = replayed(both, docs, until="2026-03-03T00:00:00Z").outputs
    assert breach == want
