"""The fold of one service's events into its availability windows (rules 19-26).

A :class:`ServiceState` holds everything known about one ``service:NAME`` subject:
its checks' latest statuses, its announced maintenance, and one open window per
objective that names the service. :func:`apply_event` applies an ``uptime.status`` or
``maintenance.window`` at its time; :func:`fire_before` fires the timers due before an
instant (budget warnings, breaches, staleness, window closes and the next windows'
openings). Every output is a timer's, so events at an instant are always applied
before the timers due at it (rule 3). Like :mod:`slawatch.clock.ticket`, both are pure
functions of their arguments and the state they mutate.

A service is measured from its first ``uptime.status``; an objective is measured from
then, or from the instant a later definitions version brings it in. Each window uses
the version in force at the instant it starts being measured (rule 18). Objectives
with a rolling window emit no SLA events (rule 20a): they keep a bucketed tally in
``rolling`` (see :mod:`slawatch.availability.rolling`), advanced where the calendar
windows advance, and :func:`rolling_figures` reads it for the gauges; they add no timers.

Errors: :class:`RuntimeError` if a timer fails to make progress (an internal fault).
"""

from __future__ import annotations

from slawatch.availability.maintenance import Announcements, clip, planned_spans
from slawatch.availability.objective import TARGET, ObjectiveWindow
from slawatch.availability.rolling import RollingTally, advance, sync, trailing_figures
from slawatch.availability.status import Check, Status, service_status
from slawatch.availability.windows import window_at, zone
from slawatch.clock.catalog import Catalog, VersionView
from slawatch.definitions.model import Availability, WindowKind
from slawatch.events.model import MaintenanceWindow, UptimeStatus
from slawatch.outputs import Output

__all__ = [
    "CLOSED_KEPT",
    "ServiceState",
    "apply_event",
    "fire_before",
    "has_open_window",
    "next_due",
    "objectives_for",
    "rolling_figures",
    "schedule_activation",
    "statuses_at",
]


CLOSED_KEPT = 12
"""Closed windows whose final totals a service's state keeps per objective (a year of
months): the downtime counters finish them after an outage of the evaluators."""


class ServiceState:
    """What the fold knows about one service.

    ``checks`` maps a check name (``None`` for the default check) to its latest
    status; ``windows`` maps an objective id to its open window, in output order;
    ``activation`` is the next instant a definitions version brings in an objective
    that has no open window. ``floor`` is never later than the next timer and is
    ``None`` only when there is none, so most calls return without looking further.
    ``rolling`` maps the id of each rolling objective in force to its trailing tally,
    and ``rolling_version`` is the version it was last brought in line with. ``fired``
    is the latest instant a timer fired at, whether it had an output or not (a check
    going stale, an objective coming in): the state has been carried to it. ``closed``
    maps an objective id to the final totals of its latest closed windows, oldest first
    and at most :data:`CLOSED_KEPT`: kind, start, downtime seconds and measured seconds
    (what a metrics owner needs to count the windows, or the parts of them, it had not
    counted when they closed, e.g. while no evaluator ran).
    """

    __slots__ = (
        "activation",
        "announcements",
        "catalog",
        "checks",
        "closed",
        "fired",
        "floor",
        "fresh_for",
        "rolling",
        "rolling_version",
        "service",
        "started",
        "windows",
    )

    def __init__(self) -> None:
        self.service = ""
        self.catalog: Catalog | None = None
        self.started: int | None = None
        self.checks: dict[str | None, Check] = {}
        self.announcements = Announcements()
        self.windows: dict[str, ObjectiveWindow] = {}
        self.closed: dict[str, list[tuple[str, int, float, float]]] = {}
        self.activation: int | None = None
        self.fresh_for: int | None = None
        self.floor: int | None = None
        self.fired: int | None = None
        self.rolling: dict[str, RollingTally] = {}
        self.rolling_version: VersionView | None = None


def objectives_for(version: VersionView, service: str) -> list[Availability]:
    """The objectives of a version that name ``service`` and have calendar windows."""
    return [
        o
        for o in version.definitions.availability
        if o.service == service and o.window is not WindowKind.ROLLING
    ]


# --- windows ----------------------------------------------------------------------


def _open(state: ServiceState, objective: Availability, version: VersionView, t: int) -> None:
    """Open the window of ``objective`` containing ``t``, measured from ``t``."""
    assert state.catalog is not None
    bounds = window_at(objective.window, zone(objective.timezone), t)
    planned = (
        tuple(clip(planned_spans(objective.maintenance, objective.timezone, *bounds), t, bounds[1]))
        if objective.maintenance
        else ()
    )
    window = ObjectiveWindow(
        objective,
        version,
        state.catalog.order[(objective.id, TARGET)],
        bounds,
        t,
        planned,
        state.announcements.spans(),
        service_status(state.checks.values(), t, objective.stale_after),
    )
    state.windows[objective.id] = window
    _windows_changed(state)


def _windows_changed(state: ServiceState) -> None:
    windows = sorted(state.windows.values(), key=lambda w: w.order)
    state.windows = {w.objective.id: w for w in windows}
    freshness(state)


def freshness(state: ServiceState) -> None:
    """Set ``fresh_for``: the least ``stale_after`` of the open windows and rolling tallies."""
    objectives = [w.objective for w in state.windows.values()]
    objectives += [r.objective for r in state.rolling.values()]
    stale = [o.stale_after for o in objectives if o.stale_after is not None]
    state.fresh_for = min(stale) if stale else None


def _roll(state: ServiceState, t: int) -> None:
    """Advance the rolling tallies to ``t`` under the checks in force until now."""
    started, catalog = state.started, state.catalog
    if started is None or catalog is None:
        return
    version = catalog.at(t)
    if not state.rolling and version is state.rolling_version:
        return
    checks = list(state.checks.values())
    announced = state.announcements.spans()
    for rolling in state.rolling.values():
        advance(rolling, checks, announced, t)
    if version is not state.rolling_version:
        state.rolling_version = version
        sync(state.rolling, version, state.service, started, checks, announced, t)
        freshness(state)


def rolling_figures(state: ServiceState, now: int) -> dict[str, tuple[float | None, float | None]]:
    """Availability and error-budget remaining over the trailing span of each rolling objective.

    Keyed by objective id; reads the state without changing it. See
    :func:`slawatch.availability.rolling.trailing_figures` for the contract and the
    one-bucket approximation.
    """
    checks = list(state.checks.values())
    announced = state.announcements.spans()
    return {i: trailing_figures(r, checks, announced, now) for i, r in state.rolling.items()}


def statuses_at(state: ServiceState, now: int) -> dict[str, Status]:
    """The service's status at ``now`` for each objective measuring it (calendar windows
    and rolling tallies), by objective id: each objective's ``stale_after`` decides
    whether a check's latest status still counts (rule 19). Reads the state without
    changing it."""
    checks = list(state.checks.values())
    objectives = [w.objective for w in state.windows.values()]
    objectives += [r.objective for r in state.rolling.values()]
    return {o.id: service_status(checks, now, o.stale_after) for o in objectives}


def schedule_activation(state: ServiceState, after: int) -> None:
    """Set ``activation``: the first ``effective_from`` after ``after`` of a version that
    brings in an objective of the service with no open window."""
    catalog = state.catalog
    assert catalog is not None
    state.activation = None
    for version in catalog.versions:
        since = version.effective_from
        if since is None or since <= after:
            continue
        in_force = catalog.at(since)
        if in_force is not None and any(
            o.id not in state.windows for o in objectives_for(in_force, state.service)
        ):
            state.activation = since
            return


def _activate(state: ServiceState, t: int) -> None:
    assert state.catalog is not None
    version = state.catalog.at(t)
    if version is not None:
        for objective in objectives_for(version, state.service):
            if objective.id not in state.windows:
                _open(state, objective, version, t)
    schedule_activation(state, t)


def _next_window(state: ServiceState, closed: ObjectiveWindow) -> None:
    """Open the window after ``closed`` under the version in force at its end, if any."""
    assert state.catalog is not None
    t = closed.end
    version = state.catalog.at(t)
    objective_id = closed.objective.id
    following = (
        [o for o in objectives_for(version, state.service) if o.id == objective_id]
        if version is not None
        else []
    )
    if version is not None and following:
        _open(state, following[0], version, t)
    else:
        _windows_changed(state)
        schedule_activation(state, t)
    _prune(state, t)


def _prune(state: ServiceState, t: int) -> None:
    origins = [w.origin for w in state.windows.values()]
    origins += [r.since for r in state.rolling.values()]
    state.announcements.prune(min([t, *origins]))


def _restatus(state: ServiceState, t: int) -> None:
    checks = state.checks.values()
    for window in state.windows.values():
        status = service_status(checks, t, window.objective.stale_after)
        if status is not window.status:
            window.status = status
            window.reproject()


# --- timers -----------------------------------------------------------------------


def next_due(state: ServiceState) -> int | None:
    """The earliest instant a timer falls due."""
    best = state.activation
    checks = state.checks.values()
    for window in state.windows.values():
        due = window.next_due(checks)
        if best is None or due < best:
            best = due
    state.floor = best
    return best


def has_open_window(state: ServiceState) -> bool:
    """Whether the service has an open window (its history is then still needed)."""
    return bool(state.windows)


def _step(
    state: ServiceState, subject: str, window: ObjectiveWindow, t: int, outs: list[Output]
) -> None:
    if state.rolling:
        _roll(state, t)
    window.advance(t)
    status = service_status(state.checks.values(), t, window.objective.stale_after)
    if status is not window.status:
        window.status = status
        window.reproject()
    if window.due is not None and window.due <= t:
        window.fire(subject, state.service, outs)
    if t >= window.end:
        window.close(subject, state.service, outs)
        final = window.reading(window.end)
        kept = state.closed.setdefault(window.objective.id, [])
        kept.append(
            (window.objective.kind.value, window.start, final.downtime_seconds,
             final.measured_seconds)
        )  # fmt: skip
        del kept[:-CLOSED_KEPT]
        del state.windows[window.objective.id]
        _next_window(state, window)


def fire_before(state: ServiceState, subject: str, limit: int) -> list[Output]:
    """Fire, in time order, every timer due strictly before ``limit``."""
    floor = state.floor
    if floor is None or floor >= limit:
        return []
    outs: list[Output] = []
    checks = state.checks.values()
    last: tuple[int, int] | None = None
    while True:
        best = state.activation
        chosen: ObjectiveWindow | None = None
        for window in state.windows.values():
            due = window.next_due(checks)
            if best is None or due < best:
                best, chosen = due, window
        if best is None or best >= limit:
            state.floor = best
            return outs
        mark = (id(chosen), best)
        if mark == last:
            raise RuntimeError(f"availability timer of {subject} at {best} made no progress")
        last = mark
        state.fired = best
        if chosen is None:
            _activate(state, best)
        else:
            _step(state, subject, chosen, best, outs)


# --- events -----------------------------------------------------------------------


def apply_event(
    state: ServiceState, subject: str, ev: UptimeStatus | MaintenanceWindow, catalog: Catalog
) -> list[Output]:
    """Apply one event at ``ev.time``; the timers due before it must have been fired.

    Returns no outputs: what an event changes shows in the timers it moves, which fire
    after every event at their instant (rule 3). The list is there for symmetry with
    :func:`slawatch.clock.ticket.apply_event`.

    Repeating a check's status before it goes stale only refreshes the check; at the very
    instant it goes stale the repeat takes the full path, as something else applied at
    that instant may already have seen the check stale.
    """
    if type(ev) is UptimeStatus:
        check = state.checks.get(ev.check)
        if check is not None and check.status == ev.status:
            fresh_for = state.fresh_for
            if fresh_for is None or ev.time < check.time + fresh_for:
                check.time = ev.time
                return []
        _status(state, ev, catalog)
    elif isinstance(ev, MaintenanceWindow):
        _maintenance(state, ev, catalog)
    else:
        raise TypeError(f"not an availability event: {type(ev).__name__}")
    next_due(state)
    return []


def _status(state: ServiceState, ev: UptimeStatus, catalog: Catalog) -> None:
    t = ev.time
    state.catalog = catalog
    state.service = ev.service
    _roll(state, t)
    for window in state.windows.values():
        window.advance(t)
    status = Status(ev.status)
    check = state.checks.get(ev.check)
    if check is None:
        state.checks[ev.check] = Check(status, t)
    else:
        check.status = status
        check.time = t
    if state.started is None:
        state.started = t
        version = catalog.at(t)
        if version is not None:
            for objective in objectives_for(version, state.service):
                _open(state, objective, version, t)
        schedule_activation(state, t)
        _roll(state, t)
        _prune(state, t)
    else:
        _restatus(state, t)


def _maintenance(state: ServiceState, ev: MaintenanceWindow, catalog: Catalog) -> None:
    t = ev.time
    state.catalog = catalog
    state.service = ev.service
    _roll(state, t)
    for window in state.windows.values():
        window.advance(t)
    _restatus(state, t)
    announcements = state.announcements
    announcements.apply(ev.window_id, ev.start, ev.end, t, ev.cancelled)
    spans = announcements.spans()
    for window in state.windows.values():
        window.set_maintenance(spans)
        window.reproject()
    _prune(state, t)
