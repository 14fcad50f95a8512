"""Trailing (rolling) availability objectives, for metrics only (rule 20a).

An objective with ``window: {rolling: N}`` emits no SLA events; it feeds the
availability and error-budget-remaining gauges over the trailing ``[now - N, now]``.
A :class:`RollingTally` keeps, per objective, one :class:`~slawatch.availability.budget.Tally`
of measured time per :data:`BUCKET` of real time (epoch-aligned), in a deque pruned to
the buckets that can still touch the trailing span: at most ``N / BUCKET + 2`` entries.

Measured time is counted exactly as for calendar windows (rules 21, 22): inside the
objective's calendar, outside planned and announced maintenance, by the status in force
(the worst fresh check, ``unknown`` once every check is stale), from the instant the
objective starts being measured (the service's first status, or the ``effective_from``
of the version that brings the objective in). The tally is brought up to date lazily,
by :func:`advance` where the fold advances its calendar windows; staleness between two
such instants is worked out from the checks, so rolling objectives need no timers.

Approximation: :func:`trailing_figures` counts the bucket straddling ``now - N`` pro rata
of the real time it has inside the trailing span, so downtime and measured time are off
by at most one bucket's worth of measured time; everything else is exact.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from slawatch.availability.budget import Tally, allowance
from slawatch.availability.maintenance import Span, clip, merge, planned_spans
from slawatch.availability.measured import MeasuredTime
from slawatch.availability.status import Check, next_expiry, service_status
from slawatch.clock.catalog import VersionView
from slawatch.definitions.model import Availability, UnknownPolicy, WindowKind
from slawatch.timeutil import DAY, HOUR

__all__ = [
    "BUCKET",
    "RollingTally",
    "advance",
    "rolling_for",
    "sync",
    "trailing_figures",
]

BUCKET = HOUR
"""The real time one bucket of a rolling tally covers."""


class RollingTally:
    """Measured time of one rolling objective, by bucket, from ``origin`` up to ``since``.

    ``buckets`` holds ``(index, tally)`` pairs in increasing ``index``; bucket ``index``
    covers ``[index * BUCKET, (index + 1) * BUCKET)``.
    """

    __slots__ = ("buckets", "objective", "origin", "since", "version")

    def __init__(self, objective: Availability, version: VersionView, origin: int) -> None:
        self.objective = objective
        self.version = version
        self.origin = origin
        self.since = origin
        self.buckets: deque[tuple[int, Tally]] = deque()

    @property
    def length(self) -> int:
        """The trailing span ``N``, in microseconds."""
        assert self.objective.rolling is not None
        return self.objective.rolling


def rolling_for(version: VersionView, service: str) -> list[Availability]:
    """The objectives of a version that name ``service`` and have rolling windows."""
    return [
        o
        for o in version.definitions.availability
        if o.service == service and o.window is WindowKind.ROLLING and o.rolling
    ]


def _add(into: Tally, other: Tally) -> None:
    into.total += other.total
    into.down += other.down
    into.degraded += other.degraded
    into.unknown += other.unknown


def _measured(rolling: RollingTally, announced: list[Span], start: int, end: int) -> int:
    """Measured microseconds of the objective in ``[start, end)``."""
    o = rolling.objective
    calendar = rolling.version.calendars[o.calendar]
    total = 0
    t = start
    while t < end:
        chunk = t - t % DAY
        upto = min(end, chunk + DAY)
        holes = clip(announced, t, upto)
        if o.maintenance:
            holes += clip(planned_spans(o.maintenance, o.timezone, chunk, chunk + DAY), t, upto)
        total += MeasuredTime(calendar, merge(holes), t, upto).elapsed(t, upto)
        t = upto
    return total


def _tally(
    rolling: RollingTally, checks: list[Check], announced: list[Span], start: int, end: int
) -> Tally:
    """Measured time in ``[start, end)`` by status, the checks unchanged meanwhile."""
    tally = Tally()
    stale_after = rolling.objective.stale_after
    t = start
    while t < end:
        status = service_status(checks, t, stale_after)
        expiry = next_expiry(checks, t, stale_after) if stale_after is not None else None
        upto = end if expiry is None or expiry >= end else expiry
        amount = _measured(rolling, announced, t, upto)
        if amount:
            tally.add(status, amount)
        t = upto
    return tally


def advance(rolling: RollingTally, checks: list[Check], announced: list[Span], t: int) -> None:
    """Tally measured time up to ``t``, the checks and maintenance unchanged since ``since``.

    Only the last ``N`` plus one bucket before ``t`` is tallied, and older buckets are
    dropped, so a long silence costs no more than ``N`` and memory stays bounded.
    """
    horizon = t - rolling.length - BUCKET
    start = max(rolling.since, horizon)
    buckets = rolling.buckets
    while start < t:
        index = start // BUCKET
        upto = min(t, (index + 1) * BUCKET)
        tally = _tally(rolling, checks, announced, start, upto)
        if tally.total:
            if buckets and buckets[-1][0] == index:
                _add(buckets[-1][1], tally)
            else:
                buckets.append((index, tally))
        start = upto
    rolling.since = max(rolling.since, t)
    while buckets and (buckets[0][0] + 1) * BUCKET <= horizon:
        buckets.popleft()


def sync(
    trackers: dict[str, RollingTally],
    version: VersionView | None,
    service: str,
    started: int,
    checks: list[Check],
    announced: list[Span],
    t: int,
) -> None:
    """Bring ``trackers`` (already advanced to ``t``) in line with ``version``, in force at ``t``.

    An objective the version brings in is measured from the later of ``started`` and
    the version's ``effective_from``; one it no longer has is dropped; one it changes
    keeps its buckets and is measured under the new definition from ``t`` on.
    """
    wanted = rolling_for(version, service) if version is not None else []
    kept = {o.id for o in wanted}
    for objective_id in [i for i in trackers if i not in kept]:
        del trackers[objective_id]
    for o in wanted:
        assert version is not None
        current = trackers.get(o.id)
        if current is not None:
            current.objective = o
            current.version = version
            continue
        origin = max(started, version.effective_from or started)
        rolling = RollingTally(o, version, origin)
        advance(rolling, checks, announced, t)
        trackers[o.id] = rolling


def _ratio(buckets: deque[tuple[int, Tally]], lo: int) -> list[tuple[Fraction, Tally]]:
    weighted: list[tuple[Fraction, Tally]] = []
    for index, tally in buckets:
        start = index * BUCKET
        end = start + BUCKET
        if end <= lo:
            continue
        weight = Fraction(1) if start >= lo else Fraction(end - lo, BUCKET)
        weighted.append((weight, tally))
    return weighted


def trailing_figures(
    rolling: RollingTally, checks: list[Check], announced: list[Span], now: int
) -> tuple[float | None, float | None]:
    """Availability and error-budget remaining of ``rolling`` over ``[now - N, now]``.

    Reads the tallies without changing them, the checks assumed unchanged since the last
    :func:`advance` (as they are between events). The budget is the objective's share
    of the measured time in the span (unknown time excluded per rule 22). ``None`` while
    nothing is measured in the span (availability) or there is no budget (remaining).
    The oldest bucket counts pro rata (see the module docstring).
    """
    lo = now - rolling.length
    weighted = _ratio(rolling.buckets, lo)
    tail_start = max(rolling.since, lo)
    if now > tail_start:
        weighted.append((Fraction(1), _tally(rolling, checks, announced, tail_start, now)))
    o = rolling.objective
    total = sum((w * t.total for w, t in weighted), Fraction(0))
    down = sum((w * t.down for w, t in weighted), Fraction(0))
    degraded = sum((w * t.degraded for w, t in weighted), Fraction(0))
    unknown = sum((w * t.unknown for w, t in weighted), Fraction(0))
    policy = o.unknown_counts_as
    measured = total - unknown if policy is UnknownPolicy.EXCLUDED else total
    downtime = (down + unknown if policy is UnknownPolicy.DOWN else down) + (
        o.degraded_weight * degraded
    )
    if measured <= 0:
        return None, None
    availability = float(1 - downtime / measured)
    budget = allowance(o.objective) * measured
    remaining = None if budget <= 0 else float(1 - downtime / budget)
    return availability, remaining
