"""Subjects as plain records (JSON-ready) and back, for snapshots and the evaluator's store.

A record names definitions by version number and SLA/target ids, never by object, so
it restores against the same versions in another process. Restoring every record of
a snapshot and continuing gives byte-identical output to one uninterrupted run.

Errors: :class:`SnapshotError` when a record names a version, SLA or target the
catalog does not have, or has an unknown format.
"""

from __future__ import annotations

import functools
from typing import Any

from slawatch.clock.catalog import Catalog
from slawatch.clock.cycle import Cycle, CycleState
from slawatch.clock.ticket import NO_VALUES, TicketState, shared_applied
from slawatch.events import parse_event
from slawatch.events.model import Acknowledgement, InputEvent, Rejection

__all__ = [
    "FORMAT",
    "SnapshotError",
    "cycle_from_record",
    "cycle_to_record",
    "open_clocks",
    "state_from_record",
    "state_to_record",
    "ticket_of",
]

FORMAT = 1


class SnapshotError(ValueError):
    """A record that cannot be restored against this catalog."""


_STATE_TEXTS: dict[CycleState, str] = {state: state.value for state in CycleState}
"""Each cycle state's text: a look-up here costs a fraction of the member's ``value``
property under Python 3.11."""
_STATES: dict[str, CycleState] = {text: state for state, text in _STATE_TEXTS.items()}
"""Each state by its text: a look-up, where ``CycleState(text)`` is a call through the
enum's metaclass at ten times the cost."""


def cycle_to_record(cycle: Cycle) -> dict[str, Any]:
    """One open cycle as a record."""
    return {
        "version": cycle.version.number,
        "sla": cycle.sla.id,
        "target": cycle.target.id,
        "number": cycle.number,
        "started": cycle.started,
        "goal": cycle.target.goals.index(cycle.goal),
        "state": _STATE_TEXTS[cycle.state],
        "acc": cycle.acc,
        "since": cycle.since,
        "toggles": cycle.toggles,
        "fired": cycle.fired,
        "breach_deadline": cycle.breach_deadline,
    }


def cycle_from_record(record: dict[str, Any], catalog: Catalog) -> Cycle:
    """A cycle restored from its record."""
    try:
        version = catalog.by_number(record["version"])
    except KeyError:
        raise SnapshotError(f"unknown definitions version {record['version']}") from None
    found = version.target(record["sla"], record["target"])
    if found is None:
        raise SnapshotError(f"version {version.number} has no {record['sla']}/{record['target']}")
    sla, target = found
    order = catalog.order[(sla.id, target.id)]
    cycle = Cycle(
        version,
        sla,
        target,
        order,
        record["number"],
        record["started"],
        target.goals[record["goal"]],
    )
    cycle.state = _STATES[record["state"]]
    cycle.acc = record["acc"]
    cycle.since = record["since"]
    cycle.toggles = record["toggles"]
    cycle.fired = record["fired"]
    cycle.breach_deadline = record["breach_deadline"]
    return cycle


@functools.lru_cache(maxsize=16)
def _pair_of(catalog: Catalog) -> dict[int, str]:
    return {order: f"{sla}/{target}" for (sla, target), order in catalog.order.items()}


def state_to_record(state: TicketState, catalog: Catalog) -> dict[str, Any]:
    """A ticket's state as a record: counters and open cycles in the order of their targets.

    Every exported ticket is made into one, so it is built with plain loops: under
    Python 3.11 each comprehension is a call of its own, costing more than its few items.
    """
    names = _pair_of(catalog)
    counters: dict[str, int] = {}
    for order in sorted(state.counters):
        counters[names[order]] = state.counters[order]
    cycles: list[dict[str, Any]] = []
    for order in sorted(state.open):
        cycles.append(cycle_to_record(state.open[order]))
    return {
        "fields": state.fields,
        "attributes": state.attributes,
        "created": state.created,
        "deleted": state.deleted,
        "counters": counters,
        "open": cycles,
        "applied": sorted(state.applied),
        "events": state.events,
    }


def ticket_of(stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A stored subject's ticket fields and attributes (``Engine.export_change``'s record);
    ``None`` for a subject that is not a ticket."""
    state = stored.get("state")
    if not isinstance(state, dict) or "fields" not in state:
        return None
    return state["fields"], state["attributes"]


def open_clocks(record: dict[str, Any]) -> list[tuple[str, str, CycleState, bool]]:
    """A ticket record's open cycles as ``(sla, target, state, breached)``, without
    restoring the ticket."""
    return [
        (c["sla"], c["target"], _STATES[c["state"]], c["breach_deadline"] is not None)
        for c in record["open"]
    ]


def state_from_record(record: dict[str, Any], catalog: Catalog) -> TicketState:
    """A ticket's state restored from its record."""
    state = TicketState()
    state.fields = dict(record["fields"])
    state.attributes = dict(record["attributes"]) if record["attributes"] else NO_VALUES
    state.created = record["created"]
    state.deleted = record["deleted"]
    counters: dict[int, int] = {}
    for pair, n in record["counters"].items():
        sla, _, target = pair.partition("/")
        order = catalog.order.get((sla, target))
        if order is None:
            raise SnapshotError(f"no SLA target {pair} in any version")
        counters[order] = n
    if counters:
        state.counters = counters
    for cycle_record in record["open"]:
        cycle = cycle_from_record(cycle_record, catalog)
        state.open[cycle.order] = cycle
    state.applied = shared_applied(tuple(record["applied"]))
    state.events = record["events"]
    return state


def history_to_record(history: list[str] | None) -> list[str] | None:
    """A subject's history: the canonical JSON of its events, one per line."""
    return None if history is None else list(history)


def history_from_record(lines: list[str] | None) -> list[str] | None:
    """A subject's history restored from its record."""
    return None if lines is None else list(lines)


def decode_history(history: list[str]) -> list[InputEvent]:
    """The events of a history, decoded."""
    events: list[InputEvent] = []
    for line in history:
        event = parse_event(line)
        if isinstance(event, Rejection | Acknowledgement):
            raise SnapshotError(f"history holds a line that is not a subject's event: {line[:80]}")
        events.append(event)
    return events
