"""A version taken up by a running evaluator gives what replay over every version gives.

``slawatch apply`` stores a version before it is in force; each evaluator reloads its
partitions from their last commit with it (``Evaluator.adopt``). Property: folding a
stream under version 1 alone, storing the changes, loading them into an engine with
every version before version 2's ``effective_from`` and going on (restarting once
more later, from the store), gives the outputs and the states of an engine that had
every version from the start. Timers also fire between events, as the evaluator's
wall clock makes them, so windows close (and objectives drop out) with no event near.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.availability.support import objective
from tests.availability.test_properties import CASES, END, START, definitions, instants, streams
from tests.clock.test_properties import BASE, DEFINITIONS, ONE_CALENDAR
from tests.clock.test_properties import SETTINGS as TICKET_CASES
from tests.clock.test_properties import streams as ticket_streams
from tests.clock.test_stored_changes import Store, parsed
from tests.support.replaying import versions

from slawatch.clock import Engine
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import MaintenanceWindow, UptimeStatus
from slawatch.events.model import InputEvent
from slawatch.timeutil import DAY, MINUTE, SECOND, format_time

Event = UptimeStatus | MaintenanceWindow
UNTIL = START + 40 * DAY


Step = tuple[int, InputEvent | None]
"""Processing time, and the event processed then (``None``: only timers fire, as the
evaluator's wall-clock timers do between events)."""


def _fold(
    steps: Sequence[Step], first: list[DefinitionsVersion], every: list[DefinitionsVersion],
    lateness: int, switch: int | None = None, restart: int | None = None,
) -> tuple[list[str], Engine]:  # fmt: skip
    """Outputs and final engine: under ``every`` version throughout (``switch`` ``None``),
    or under ``first`` before step ``switch`` and, loaded from the store, ``every``
    after it; loaded from the store again before step ``restart``."""
    engine = Engine(every if switch is None else first, lateness=lateness)
    store = Store()
    out: list[str] = []
    for n in range(len(steps) + 1):
        if n in (switch, restart):
            engine = Engine(every, lateness=lateness)
            store.load(engine)
        if n == len(steps):
            break
        now, event = steps[n]
        out += [o.to_json().decode() for o in engine.due(now)]
        if event is not None:
            out += [o.to_json().decode() for o in engine.apply(event, now).outputs]
        for key in sorted(engine.subjects):
            store.write(engine.export_change(key))
    out += [o.to_json().decode() for o in engine.due(UNTIL)]
    return out, engine


@CASES
@given(definitions(), definitions(), streams(), instants(), st.data())
def test_a_version_taken_up_before_it_is_in_force_changes_nothing(
    old: dict[str, Any], new: dict[str, Any], events: list[Event], since: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    """Version 1 measures ``api`` by ``old`` terms (or measures another service only),
    version 2 by ``new`` terms from ``since``, and a version 3 may drop ``api`` again;
    the switch to every version comes after an event processed before ``since``."""
    if data.draw(st.booleans()):  # often after every event: no status since then
        since = min(END - MINUTE, max([since, *[e.time + 2 * MINUTE for e in events]]))
    web = objective(service="web")
    first_doc = objective(**old) if data.draw(st.booleans()) else web
    new_id = data.draw(st.sampled_from(["api-uptime", "api-uptime-2"]))
    docs = [(first_doc, None), (objective(id=new_id, **new), format_time(since))]
    dropped = data.draw(st.one_of(st.none(), st.integers(since + 1, END)))
    if dropped is not None:
        docs.append((web, format_time(dropped)))
    every = versions(*docs)
    lateness = data.draw(st.sampled_from([0, 30 * SECOND]))
    _same(events, every, since, lateness, data)


def _same(
    events: Sequence[InputEvent], every: list[DefinitionsVersion], since: int, lateness: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    ticks = data.draw(st.lists(st.integers(START, UNTIL), max_size=6))
    steps = sorted(
        [(e.time + MINUTE, e) for e in events] + [(t, None) for t in ticks],
        key=lambda step: step[0],
    )
    splits = [0, *[n + 1 for n, (now, _) in enumerate(steps) if now < since]]
    latest = data.draw(st.booleans())  # often the first step after the switch is past since
    switch = splits[-1] if latest else data.draw(st.sampled_from(splits))
    restart = data.draw(st.integers(switch, len(steps)))
    plain, engine = _fold(steps, every[:1], every, lateness)
    taken_up, restored = _fold(steps, every[:1], every, lateness, switch, restart)
    assert taken_up == plain
    for key in engine.subjects:
        assert json.dumps(restored.export_subject(key)) == json.dumps(engine.export_subject(key))


@TICKET_CASES
@given(ticket_streams(), st.integers(0, 7 * 24 * 60), st.data())
def test_a_version_with_new_ticket_terms_taken_up_before_it_is_in_force_changes_nothing(
    events: list[dict[str, Any]], minutes: int, data: st.DataObject
) -> None:
    """Tickets: version 2 changes goals and calendars from ``since`` on; clocks started
    before keep version 1's terms (rule 18), later ones take version 2's."""
    since = BASE + minutes * MINUTE
    changed = data.draw(st.sampled_from([ONE_CALENDAR, DEFINITIONS.replace("4h", "2h")]))
    every = versions((DEFINITIONS, None), (changed, format_time(since)))
    lateness = data.draw(st.sampled_from([0, 30 * SECOND]))
    _same([parsed(e) for e in events], every, since, lateness, data)
