"""Read-only views of a service's availability objectives at an instant, for the API.

Every view gives the service's status at the instant under its objective's
``stale_after`` (:func:`~slawatch.availability.service.statuses_at`). A calendar
window's view gives its span, availability, budget remaining, downtime and measured
time so far, and every budget warning not reached yet and the breach with the instant
each falls due if the status holds (``None`` when it would not happen this window). A
rolling objective's view gives its trailing figures. Ids are
``SUBJECT/OBJECTIVE/availability/WINDOW_START`` (``.../rolling``).
"""

from __future__ import annotations

from typing import Any

from slawatch.availability.objective import TARGET, ObjectiveWindow
from slawatch.availability.service import ServiceState, rolling_figures, statuses_at
from slawatch.timeutil import format_seconds, format_time

__all__ = ["ROLLING", "objective_views"]

ROLLING = "rolling"
"""The last part of a rolling objective's id."""


def objective_views(subject: str, state: ServiceState, now: int) -> list[dict[str, Any]]:
    """The open windows and rolling objectives of one service at processing time ``now``."""
    statuses = statuses_at(state, now)
    views = [
        _window(subject, w, statuses[w.objective.id].value, now) for w in state.windows.values()
    ]
    figures = rolling_figures(state, now)
    for objective_id, (availability, remaining) in figures.items():
        o = state.rolling[objective_id].objective
        assert o.rolling is not None
        ident = f"{subject}/{o.id}/{TARGET}/{ROLLING}"
        views.append(
            {
                "id": ident,
                "subject": subject,
                "sla": o.id,
                "target": TARGET,
                "kind": o.kind.value,
                "window": ROLLING,
                "window_seconds": format_seconds(o.rolling),
                "status": statuses[o.id].value,
                "objective": float(o.objective),
                "availability": availability,
                "budget_remaining": remaining,
                "as_of": format_time(now),
            }
        )
    return views


def _window(subject: str, window: ObjectiveWindow, status: str, now: int) -> dict[str, Any]:
    o = window.objective
    start = format_time(window.start)
    reading = window.reading(now)
    upcoming = [
        {"type": "sla.availability.warning", "threshold": threshold, "at": _time(at)}
        if threshold is not None
        else {"type": "sla.availability.breached", "at": _time(at)}
        for threshold, at in window.upcoming()
    ]
    return {
        "id": f"{subject}/{o.id}/{TARGET}/{start}",
        "subject": subject,
        "sla": o.id,
        "target": TARGET,
        "kind": o.kind.value,
        "window": o.window.value,
        "window_start": start,
        "window_end": format_time(window.end),
        "status": status,
        "objective": float(o.objective),
        "availability": reading.availability,
        "budget_remaining": reading.remaining,
        "downtime_seconds": reading.downtime_seconds,
        "measured_seconds": reading.measured_seconds,
        "breached": window.breached,
        "upcoming": upcoming,
        "definitions_version": window.version.number,
        "as_of": format_time(now),
    }


def _time(instant: int | None) -> str | None:
    return None if instant is None else format_time(instant)
