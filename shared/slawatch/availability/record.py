"""Service states as plain JSON-ready records and back (for snapshots and the store).

A record names definitions by version number and objective id, never by object, and
holds only integers, strings, booleans, ``None``, lists and dicts (and, under
``closed``, the floating-point seconds of the latest closed windows, for metrics).
Restoring a record and continuing gives the same outputs as never having stopped:
projections are recomputed exactly from the tallies, which give the same instants. The
tallies of rolling objectives are under ``rolling`` (left out when there are none, so
records of services without rolling objectives are as before), and so are the totals
of each objective's latest closed windows under ``closed`` (a row per window, oldest
first). ``fired``, the latest instant a timer fired at, is there once one has: a
restored state schedules the objectives that versions bring in only after it, so one
that came in and was dropped again is not measured twice.

Errors: :class:`RecordError` (a ``ValueError``) when a record names a version or an
objective the catalog does not have.
"""

from __future__ import annotations

from typing import Any

from slawatch.availability.budget import Tally
from slawatch.availability.objective import TARGET, ObjectiveWindow
from slawatch.availability.rolling import RollingTally
from slawatch.availability.service import (
    ServiceState,
    freshness,
    next_due,
    schedule_activation,
)
from slawatch.availability.status import Check, Status
from slawatch.clock.catalog import Catalog, VersionView
from slawatch.definitions.model import Availability, WindowKind

__all__ = ["RecordError", "state_from_record", "state_to_record"]


class RecordError(ValueError):
    """A service record that cannot be restored against this catalog."""


def _window_to_record(window: ObjectiveWindow) -> dict[str, Any]:
    tally = window.tally
    return {
        "objective": window.objective.id,
        "version": window.version.number,
        "start": window.start,
        "end": window.end,
        "origin": window.origin,
        "planned": [list(span) for span in window.planned],
        "since": window.since,
        "total": tally.total,
        "down": tally.down,
        "degraded": tally.degraded,
        "unknown": tally.unknown,
        "status": window.status.value,
        "fired": window.fired,
        "breached": window.breached,
    }


def _rolling_to_record(rolling: RollingTally) -> dict[str, Any]:
    return {
        "objective": rolling.objective.id,
        "version": rolling.version.number,
        "origin": rolling.origin,
        "since": rolling.since,
        "buckets": [[i, t.total, t.down, t.degraded, t.unknown] for i, t in rolling.buckets],
    }


def state_to_record(state: ServiceState, catalog: Catalog) -> dict[str, Any]:
    """A service's state as a record."""
    announcements = state.announcements
    record = {
        "service": state.service,
        "started": state.started,
        "checks": [
            [name, check.status.value, check.time]
            for name, check in sorted(
                state.checks.items(), key=lambda item: (item[0] is not None, item[0] or "")
            )
        ],
        "announced": [
            [window_id, start, end, since]
            for window_id, (start, end, since) in sorted(announcements.current.items())
        ],
        "past": [list(span) for span in announcements.past],
        "windows": [_window_to_record(w) for w in state.windows.values()],
        "activation": state.activation,
    }
    if state.fired is not None:
        record["fired"] = state.fired
    if state.rolling:
        record["rolling"] = [_rolling_to_record(r) for r in state.rolling.values()]
    if state.closed:
        record["closed"] = [
            [key, *totals] for key, kept in sorted(state.closed.items()) for totals in kept
        ]
    return record


def _objective(record: dict[str, Any], catalog: Catalog) -> tuple[VersionView, Availability]:
    try:
        version = catalog.by_number(record["version"])
    except KeyError:
        raise RecordError(f"unknown definitions version {record['version']}") from None
    objective_id = record["objective"]
    found = [o for o in version.definitions.availability if o.id == objective_id]
    if not found:
        raise RecordError(f"version {version.number} has no availability objective {objective_id}")
    return version, found[0]


def _rolling_from_record(record: dict[str, Any], catalog: Catalog) -> RollingTally:
    version, objective = _objective(record, catalog)
    if objective.window is not WindowKind.ROLLING or not objective.rolling:
        raise RecordError(f"objective {objective.id} of version {version.number} is not rolling")
    rolling = RollingTally(objective, version, record["origin"])
    rolling.since = record["since"]
    rolling.buckets.extend((i, Tally(*counts)) for i, *counts in record["buckets"])
    return rolling


def _window_from_record(
    record: dict[str, Any], state: ServiceState, catalog: Catalog
) -> ObjectiveWindow:
    version, objective = _objective(record, catalog)
    window = ObjectiveWindow(
        objective,
        version,
        catalog.order[(objective.id, TARGET)],
        (record["start"], record["end"]),
        record["origin"],
        tuple((a, b) for a, b in record["planned"]),
        state.announcements.spans(),
        Status(record["status"]),
    )
    window.since = record["since"]
    tally = window.tally
    tally.total = record["total"]
    tally.down = record["down"]
    tally.degraded = record["degraded"]
    tally.unknown = record["unknown"]
    window.fired = record["fired"]
    window.breached = record["breached"]
    window.reproject()
    return window


def state_from_record(record: dict[str, Any], catalog: Catalog) -> ServiceState:
    """A service's state restored from its record."""
    state = ServiceState()
    state.catalog = catalog
    state.service = record["service"]
    state.started = record["started"]
    for name, status, time in record["checks"]:
        state.checks[name] = Check(Status(status), time)
    for window_id, start, end, since in record["announced"]:
        state.announcements.current[window_id] = (start, end, since)
    state.announcements.past = [(a, b) for a, b in record["past"]]
    windows = [_window_from_record(w, state, catalog) for w in record["windows"]]
    state.windows = {w.objective.id: w for w in sorted(windows, key=lambda w: w.order)}
    for item in record.get("rolling", []):
        rolling = _rolling_from_record(item, catalog)
        state.rolling[rolling.objective.id] = rolling
    for objective_id, kind, start, downtime, measured in record.get("closed", []):
        state.closed.setdefault(objective_id, []).append((kind, start, downtime, measured))
    state.fired = record.get("fired")
    freshness(state)
    state.activation = record["activation"]
    carried = _carried_to(state)
    if carried is not None:  # a version stored since the record was written may bring one in
        schedule_activation(state, carried)
    next_due(state)
    return state


def _carried_to(state: ServiceState) -> int | None:
    """The latest instant a restored state is known to have been carried to."""
    instants = [check.time for check in state.checks.values()]
    instants += [w.since for w in state.windows.values()]
    instants += [r.since for r in state.rolling.values()]
    instants += [t for t in (state.started, state.fired) if t is not None]
    return max(instants, default=None)
