"""A service's status from its checks' latest statuses (rule 19).

The status at an instant is the worst (``down`` > ``degraded`` > ``up``) of the checks'
latest statuses that are still fresh: a status is fresh from its time until
``stale_after`` later (for ever without ``stale_after``). With no fresh status the
service is ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["Check", "Status", "next_expiry", "service_status"]


class Status(StrEnum):
    """What a service is at an instant, for one objective."""

    UP = "up"
    """Every fresh check is up."""
    DEGRADED = "degraded"
    """The worst fresh check is degraded."""
    DOWN = "down"
    """A fresh check is down."""
    UNKNOWN = "unknown"
    """No check has a fresh status."""


_RANK = {Status.UP: 0, Status.DEGRADED: 1, Status.DOWN: 2}
_BY_RANK = (Status.UP, Status.DEGRADED, Status.DOWN)


class Check:
    """One check's latest status and the instant it was reported."""

    __slots__ = ("status", "time")

    def __init__(self, status: Status, time: int) -> None:
        self.status = status
        self.time = time

    def __repr__(self) -> str:
        return f"Check({self.status.value!r}, {self.time})"


def service_status(checks: Iterable[Check], t: int, stale_after: int | None) -> Status:
    """The worst status among the checks fresh at ``t``; ``unknown`` when none is."""
    worst = -1
    for check in checks:
        if stale_after is None or t < check.time + stale_after:
            rank = _RANK[check.status]
            if rank > worst:
                worst = rank
    return _BY_RANK[worst] if worst >= 0 else Status.UNKNOWN


def next_expiry(checks: Iterable[Check], after: int, stale_after: int) -> int | None:
    """The earliest instant later than ``after`` at which a check fresh at ``after`` goes stale."""
    best: int | None = None
    for check in checks:
        expiry = check.time + stale_after
        if expiry > after and (best is None or expiry < best):
            best = expiry
    return best
