"""Exact error-budget arithmetic (rules 22-26) and the written form of its numbers.

Time is integer microseconds and everything derived from it is a
:class:`~fractions.Fraction`, never a float, until an output is written. A
:class:`Tally` counts measured time by status; with an objective it gives downtime,
base, budget and availability, and :func:`crossing` solves when, under a constant
status, consumption reaches a fraction of the budget. Nothing here depends on how a
window is laid out, so trailing (rolling) windows can reuse it for metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from slawatch.availability.status import Status
from slawatch.definitions.model import Credit, UnknownPolicy
from slawatch.timeutil import format_seconds

__all__ = [
    "Outcome",
    "Rates",
    "Tally",
    "allowance",
    "availability_ratio",
    "credit_percent",
    "crossing",
    "outcome",
    "rates",
    "ratio_number",
    "seconds_number",
]

_ZERO = Fraction(0)
_ONE = Fraction(1)
_RATIO_SCALE = 10**9


class Outcome(StrEnum):
    """A closed window's ``outcome`` (rule 26)."""

    MET = "met"
    """Availability at least the objective."""
    BREACHED = "breached"
    """Availability below the objective."""
    NO_DATA = "no_data"
    """The window had no measured time."""


def allowance(objective: Fraction) -> Fraction:
    """The budget's share of the base: ``1 - objective/100``."""
    return 1 - objective / 100


@dataclass(slots=True)
class Tally:
    """Measured microseconds of a window so far: all of it, and while down, degraded, unknown."""

    total: int = 0
    down: int = 0
    degraded: int = 0
    unknown: int = 0

    def add(self, status: Status, amount: int) -> None:
        """Count ``amount`` measured microseconds spent in ``status``."""
        self.total += amount
        if status is Status.DOWN:
            self.down += amount
        elif status is Status.DEGRADED:
            self.degraded += amount
        elif status is Status.UNKNOWN:
            self.unknown += amount

    def excluded(self, policy: UnknownPolicy) -> int:
        """Unknown time removed from measured time (rule 22)."""
        return self.unknown if policy is UnknownPolicy.EXCLUDED else 0

    def measured(self, policy: UnknownPolicy) -> int:
        """Measured-so-far: measured time without the excluded unknown time."""
        return self.total - self.excluded(policy)

    def downtime(self, weight: Fraction, policy: UnknownPolicy) -> Fraction:
        """Down time, plus ``weight`` times degraded time, plus unknown time counted as down."""
        down = self.down + self.unknown if policy is UnknownPolicy.DOWN else self.down
        return down + weight * self.degraded


@dataclass(frozen=True, slots=True)
class Rates:
    """Per measured microsecond in one status: downtime added and base removed."""

    downtime: Fraction
    excluded: int


def rates(status: Status, weight: Fraction, policy: UnknownPolicy) -> Rates:
    """How a status counts (rule 22)."""
    if status is Status.DOWN:
        return Rates(_ONE, 0)
    if status is Status.DEGRADED:
        return Rates(weight, 0)
    if status is Status.UNKNOWN:
        if policy is UnknownPolicy.DOWN:
            return Rates(_ONE, 0)
        if policy is UnknownPolicy.EXCLUDED:
            return Rates(_ZERO, 1)
    return Rates(_ZERO, 0)


def crossing(
    downtime: Fraction, base: int, share: Fraction, fraction: Fraction, r: Rates
) -> Fraction | None:
    """Measured time after which ``downtime`` reaches ``fraction`` of the budget.

    The budget is ``share * base`` now; after ``m`` more measured microseconds in a
    status of rates ``r`` downtime is ``downtime + r.downtime * m`` and the base
    ``base - r.excluded * m``. Returns the least ``m >= 0`` with downtime at least
    ``fraction`` of the budget, or ``None`` when that never happens (with no budget,
    consumption is undefined). Not bounded by the window: the caller compares with the
    measured time left.
    """
    budget = share * base
    if budget <= 0:
        return None
    target = fraction * budget
    if downtime >= target:
        return _ZERO
    slope = r.downtime + fraction * share * r.excluded
    if slope == 0 or (r.downtime == 0 and downtime == 0):
        return None
    return (target - downtime) / slope


def availability_ratio(downtime: Fraction, measured: int) -> Fraction | None:
    """``1 - downtime / measured``; ``None`` with no measured time."""
    if measured <= 0:
        return None
    return 1 - downtime / measured


def outcome(availability: Fraction | None, objective: Fraction) -> Outcome:
    """``met`` at or above the objective, ``breached`` below, ``no_data`` without data."""
    if availability is None:
        return Outcome.NO_DATA
    return Outcome.MET if availability * 100 >= objective else Outcome.BREACHED


def credit_percent(availability: Fraction | None, credits: Sequence[Credit]) -> int | float:
    """The ``percent`` of the tier with the smallest ``below`` the availability is under."""
    if availability is None:
        return 0
    under = [tier for tier in credits if availability * 100 < tier.below]
    if not under:
        return 0
    return min(under, key=lambda tier: tier.below).percent


def ratio_number(value: Fraction) -> int | float:
    """A ratio as written: rounded half to even at 9 decimals, integral without a fraction."""
    scaled = round(value * _RATIO_SCALE)
    if scaled % _RATIO_SCALE == 0:
        return scaled // _RATIO_SCALE
    return float(Decimal(scaled).scaleb(-9))


def seconds_number(micros: Fraction | int) -> int | float:
    """Microseconds (possibly fractional) as written seconds: at most 6 decimals."""
    if isinstance(micros, int):
        return format_seconds(micros)
    whole = round(micros)
    return format_seconds(whole)
