"""A slow, independent model of one weekly window, for checking the fold's outputs.

It recomputes everything from the events at each instant asked about: the status of
every elementary interval from the checks' latest statuses, measured time by walking
the calendar's working intervals and subtracting maintenance as known at that instant,
and the downtime, base and budget from those tallies (rules 19-23).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from slawatch.calendar import BusinessCalendar
from slawatch.definitions.model import Availability, UnknownPolicy
from slawatch.events import MaintenanceWindow, UptimeStatus
from tests.availability.support import Event

RANK = {"up": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True)
class Figures:
    """The window's figures at an instant."""

    downtime: Fraction
    measured: int
    base: int
    budget: Fraction

    @property
    def consumed(self) -> Fraction | None:
        return self.downtime / self.budget if self.budget > 0 else None

    @property
    def availability(self) -> Fraction | None:
        return 1 - self.downtime / self.measured if self.measured > 0 else None


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


@dataclass
class Reference:
    """One objective's first window: ``[origin, end)`` with ``origin`` the first status."""

    objective: Availability
    calendar: BusinessCalendar
    events: list[Event]
    planned: list[tuple[int, int]]
    end: int

    @property
    def origin(self) -> int:
        return next(e.time for e in self.events if isinstance(e, UptimeStatus))

    def maintenance(self, t: int) -> list[tuple[int, int]]:
        current: dict[str, tuple[int, int, int]] = {}
        spans = list(self.planned)
        for e in self.events:
            if isinstance(e, MaintenanceWindow) and e.time <= t:
                if e.window_id in current:
                    s, end, since = current.pop(e.window_id)
                    spans.append((max(s, since), min(end, e.time)))
                if not e.cancelled:
                    current[e.window_id] = (e.start, e.end, e.time)
        spans += [(max(s, since), end) for s, end, since in current.values()]
        return _union(spans)

    def measured(self, a: int, b: int, holes: list[tuple[int, int]]) -> int:
        total = 0
        for lo, hi in self.calendar.intervals(max(a, self.origin), min(b, self.end)):
            total += hi - lo
            for ha, hb in holes:
                total -= max(0, min(hi, hb) - max(lo, ha))
        return total

    def status(self, x: int) -> str:
        latest: dict[str | None, UptimeStatus] = {}
        for e in self.events:
            if isinstance(e, UptimeStatus) and e.time <= x:
                latest[e.check] = e
        stale = self.objective.stale_after
        fresh = [e.status for e in latest.values() if stale is None or x < e.time + stale]
        return max(fresh, key=RANK.__getitem__) if fresh else "unknown"

    def figures(self, t: int) -> Figures:
        o = self.objective
        holes = self.maintenance(t)
        points = {self.origin, t}
        for e in self.events:
            if isinstance(e, UptimeStatus):
                points.add(e.time)
                if o.stale_after is not None:
                    points.add(e.time + o.stale_after)
        cuts = sorted(p for p in points if self.origin <= p <= t)
        by_status = dict.fromkeys(("up", "degraded", "down", "unknown"), 0)
        for a, b in pairwise(cuts):
            by_status[self.status(a)] += self.measured(a, b, holes)
        unknown = by_status["unknown"]
        policy = o.unknown_counts_as
        downtime = Fraction(by_status["down"]) + o.degraded_weight * by_status["degraded"]
        if policy is UnknownPolicy.DOWN:
            downtime += unknown
        excluded = unknown if policy is UnknownPolicy.EXCLUDED else 0
        total = sum(by_status.values())
        base = self.measured(self.origin, self.end, holes) - excluded
        return Figures(downtime, total - excluded, base, (1 - o.objective / 100) * base)
