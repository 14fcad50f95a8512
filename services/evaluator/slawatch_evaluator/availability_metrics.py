"""The evaluator's metrics of availability objectives, on an injected registry.

:class:`AvailabilityMetrics` sets each owned objective's gauges from the readings of a
refresh and adds what the owner saw since the previous one to the downtime and
measured-time counters, going on from what an earlier owner counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from slawatch.availability.status import Status
from slawatch.definitions.model import DefinitionsVersion, WindowKind
from slawatch.observability import counter, gauge
from slawatch.timeutil import SECOND

__all__ = ["AvailabilityMetrics", "AvailabilityReading", "Counted"]

Counted = Mapping[tuple[str, str], tuple[int, float, float]]
"""Per objective ``(sla, kind)``: a window's start and the downtime and measured seconds
counted in it."""


@dataclass(frozen=True, slots=True)
class AvailabilityReading:
    """One objective's figures at a gauge refresh. ``window`` is a calendar window's
    ``(start, downtime seconds, measured seconds)`` so far; ``None`` for a rolling one.
    ``status`` is the service's status for the objective then, ``last_status`` the event
    time of the service's latest ``uptime.status``, and ``closed`` the final totals of
    the objective's latest closed windows (oldest first), each in ``window``'s shape."""

    sla: str
    kind: str
    availability: float | None
    remaining: float | None
    window: tuple[int, float, float] | None = None
    status: Status | None = None
    last_status: int | None = None
    closed: tuple[tuple[int, float, float], ...] = ()


class AvailabilityMetrics:
    """The gauges and counters of availability objectives."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.downtime = counter(
            registry,
            "slawatch_sla_downtime_seconds_total",
            "Downtime counted against calendar-window error budgets, by the owning process.",
            ["sla", "kind"],
        )
        self.measured = counter(
            registry,
            "slawatch_sla_measured_seconds_total",
            "Measured seconds of calendar-window availability objectives (the SLI's base).",
            ["sla", "kind"],
        )
        self.objective = gauge(
            registry,
            "slawatch_sla_objective_ratio",
            "Each availability objective's target, as a ratio (99.9 is 0.999).",
            ["sla", "kind"],
        )
        self.availability = gauge(
            registry,
            "slawatch_availability_ratio",
            "Availability so far in the current window of each availability objective.",
            ["sla", "kind"],
        )
        self.budget_remaining = gauge(
            registry,
            "slawatch_error_budget_remaining_ratio",
            "Share of the current window's error budget not yet consumed (below 0: breached).",
            ["sla", "kind"],
        )
        self.status = gauge(
            registry,
            "slawatch_availability_status",
            "Each availability objective's service now: 1 for its status (up, degraded, down, "
            "or unknown: no fresh status), 0 for the other three.",
            ["sla", "kind", "status"],
        )
        self.last_status = gauge(
            registry,
            "slawatch_availability_last_status_timestamp_seconds",
            "Event time of the latest uptime.status of each availability objective's service.",
            ["sla", "kind"],
        )
        self._shown: set[tuple[Gauge, tuple[str, ...]]] = set()
        self._windows: dict[tuple[str, str], tuple[int, float, float]] = {}

    def declare(self, versions: Sequence[DefinitionsVersion]) -> None:
        """Set every objective's target ratio, and start its counters at 0."""
        for version in versions:
            for objective in version.definitions.availability:
                labels = {"sla": objective.id, "kind": objective.kind.value}
                self.objective.labels(**labels).set(float(objective.objective / 100))
                if objective.window is not WindowKind.ROLLING:
                    self.downtime.labels(**labels)
                    self.measured.labels(**labels)

    def show(
        self,
        readings: Iterable[AvailabilityReading],
        counted: Counted | None = None,
    ) -> None:
        """Set the availability gauges of the objectives this process owns now, drop the
        others', and add the downtime and measured time seen since the last refresh.

        An objective first seen here (started, or its service's partition just assigned)
        goes on from what ``counted`` says its previous owner had counted in the same
        window (``(sla, kind)``: window start, downtime and measured seconds), so the
        time between that owner's last refresh and this one's first is counted once;
        with nothing there it is a baseline and adds nothing, so processes sharing the
        work never count the same second twice. When the counted window has closed
        since (between two refreshes, or while no process owned its service), the rest
        of it, and any window that began and closed since, are counted from the
        reading's ``closed`` totals before the open window's.
        A window's totals only grow; a late event that lowers them adds nothing until
        they pass the highest seen.
        """
        windows: dict[tuple[str, str], tuple[int, float, float]] = {}
        shown: dict[tuple[Gauge, tuple[str, ...]], float] = {}
        for r in readings:
            key = (r.sla, r.kind)
            if r.availability is not None:
                shown[self.availability, key] = r.availability
            if r.remaining is not None:
                shown[self.budget_remaining, key] = r.remaining
            if r.status is not None:
                for status in Status:
                    shown[self.status, (*key, status.value)] = float(status is r.status)
            if r.last_status is not None:
                shown[self.last_status, key] = r.last_status / SECOND
            if r.window is not None or r.closed:
                before = self._windows.get(key)
                if before is None and counted is not None:
                    before = counted.get(key)
                mark = self._add_window(key, r.window, r.closed, before)
                if mark is not None:
                    windows[key] = mark
        for gauge_, labels in self._shown - shown.keys():
            gauge_.remove(*labels)
        for (gauge_, labels), value in shown.items():
            gauge_.labels(*labels).set(value)
        self._shown = set(shown)
        self._windows = windows

    @property
    def counted(self) -> dict[tuple[str, str], tuple[int, float, float]]:
        """Per objective shown at the last refresh: the window start and the downtime and
        measured seconds counted up to it (what the next owner goes on from)."""
        return dict(self._windows)

    def _add_window(
        self,
        key: tuple[str, str],
        window: tuple[int, float, float] | None,
        closed: tuple[tuple[int, float, float], ...],
        before: tuple[int, float, float] | None,
    ) -> tuple[int, float, float] | None:
        """Count what ``closed`` (the latest closed windows, oldest first) and then
        ``window`` (the open one) hold beyond ``before``, and return the new mark; with
        no ``before``, the baseline."""
        if before is None:
            return window if window is not None else closed[-1]
        mark = before
        for totals in (*closed, window):
            if totals is None or totals[0] < mark[0]:
                continue  # counted into a later window already
            start, downtime, measured = totals
            if start == mark[0]:
                added = (max(0.0, downtime - mark[1]), max(0.0, measured - mark[2]))
                mark = (start, max(downtime, mark[1]), max(measured, mark[2]))
            else:
                added = (downtime, measured)
                mark = totals
            labels = {"sla": key[0], "kind": key[1]}
            if added[0]:
                self.downtime.labels(**labels).inc(added[0])
            if added[1]:
                self.measured.labels(**labels).inc(added[1])
        return mark
