"""Local wall times to instants, by ``semantics.md`` rule 13.

A local time resolves to the first instant whose wall clock reads at least that
time: an ambiguous time (fall back) gives its first occurrence, a time in a
spring-forward gap the first instant after the gap. Local times are handled as
"naive microseconds": microseconds since 1970-01-01T00:00 on the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slawatch.timeutil import EPOCH

__all__ = ["local_naive", "resolve_local", "resolve_naive", "wall_naive", "zone"]

_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)


def zone(tz: ZoneInfo | str) -> ZoneInfo:
    """A zone from an IANA name (or the zone itself)."""
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def local_naive(local: datetime) -> int:
    """A naive wall time as naive microseconds."""
    if local.tzinfo is not None:
        raise ValueError(f"expected a naive local time, got {local.isoformat()}")
    return (local - _NAIVE_EPOCH) // _MICRO


def wall_naive(tz: ZoneInfo, instant: int) -> int:
    """The wall clock reading of ``instant`` in ``tz``, as naive microseconds."""
    offset = (EPOCH + timedelta(microseconds=instant)).astimezone(tz).utcoffset()
    assert offset is not None
    return instant + offset // _MICRO


def resolve_naive(tz: ZoneInfo, naive: int) -> int:
    """The instant of a wall time given as naive microseconds (see the module docstring)."""
    local = _NAIVE_EPOCH + timedelta(microseconds=naive)
    off0 = tz.utcoffset(local)
    off1 = tz.utcoffset(local.replace(fold=1))
    assert off0 is not None and off1 is not None
    first = naive - off0 // _MICRO
    if off0 == off1:
        return first
    second = naive - off1 // _MICRO
    if first < second:
        return first
    lo, hi = second, first
    while lo < hi:
        mid = (lo + hi) // 2
        if wall_naive(tz, mid) >= naive:
            hi = mid
        else:
            lo = mid + 1
    return lo


def resolve_local(tz: ZoneInfo | str, local: datetime) -> int:
    """The instant of a naive local wall time in ``tz`` (rule 13)."""
    return resolve_naive(zone(tz), local_naive(local))
