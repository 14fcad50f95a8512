"""A version taken up by a running evaluator gives what replay over every version gives.

``slawatch apply`` stores a version before it is in force; each evaluator reloads its
partitions from their last commit with it (``Evaluator.adopt``). Property: folding a
stream under version 1 alone, storing the changes, loading them into an engine with
every version before version 2's ``effective_from`` and going on (restarting once
more later, from the store), gives the outputs and the states of an engine that had
every version from the start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.availability.support import objective
from tests.availability.test_properties import CASES, START, definitions, instants, streams
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


def _fold(
    events: Sequence[InputEvent], first: list[DefinitionsVersion],
    every: list[DefinitionsVersion], lateness: int, switch: int | None = None,
    restart: int | None = None,
) -> tuple[list[str], Engine]:  # fmt: skip
    """Outputs and final engine: under ``every`` version throughout (``switch`` ``None``),
    or under ``first`` before event ``switch`` and, loaded from the store, ``every``
    after it; loaded from the store again before event ``restart``."""
    engine = Engine(every if switch is None else first, lateness=lateness)
    store = Store()
    out: list[str] = []
    for n in range(len(events) + 1):
        if n in (switch, restart):
            engine = Engine(every, lateness=lateness)
            store.load(engine)
        if n == len(events):
            break
        now = events[n].time + MINUTE
        out += [o.to_json().decode() for o in engine.due(now)]
        out += [o.to_json().decode() for o in engine.apply(events[n], now).outputs]
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
    web = objective(service="web")
    first_doc = objective(**old) if data.draw(st.booleans()) else web
    new_id = data.draw(st.sampled_from(["api-uptime", "api-uptime-2"]))
    docs = [(first_doc, None), (objective(id=new_id, **new), format_time(since))]
    dropped = data.draw(st.one_of(st.none(), instants().filter(lambda t: t > since)))
    if dropped is not None:
        docs.append((web, format_time(dropped)))
    every = versions(*docs)
    lateness = data.draw(st.sampled_from([0, 30 * SECOND]))
    _same(events, every, since, lateness, data)


def _same(
    events: Sequence[InputEvent], every: list[DefinitionsVersion], since: int, lateness: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    splits = [0, *[n + 1 for n, e in enumerate(events) if e.time + MINUTE < since]]
    latest = data.draw(st.booleans())  # often the first event after the switch is past since
    switch = splits[-1] if latest else data.draw(st.sampled_from(splits))
    restart = data.draw(st.integers(switch, len(events)))
    plain, engine = _fold(events, every[:1], every, lateness)
    taken_up, restored = _fold(events, every[:1], every, lateness, switch, restart)
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
