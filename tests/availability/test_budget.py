"""Rule 23's exact arithmetic: budgets from hand-computed figures, and how numbers are written."""

from __future__ import annotations

from fractions import Fraction

import pytest

from slawatch.availability.budget import (
    Outcome,
    Rates,
    Tally,
    allowance,
    availability_ratio,
    credit_percent,
    crossing,
    outcome,
    rates,
    ratio_number,
    seconds_number,
)
from slawatch.availability.status import Status
from slawatch.definitions.model import Credit, UnknownPolicy
from slawatch.timeutil import DAY, HOUR, SECOND
from tests.availability.support import catalog, fold, objective, status


@pytest.mark.parametrize(
    ("days", "budget_seconds"),
    [(30, Fraction(2592)), (31, Fraction(26784, 10)), (28, Fraction(24192, 10))],
)
def test_999_budgets_of_calendar_months(days: int, budget_seconds: Fraction) -> None:
    # 43m12s, 44m38.4s, 40m19.2s
    assert allowance(Fraction(999, 10)) * days * DAY == budget_seconds * SECOND


@pytest.mark.parametrize(
    ("start", "budget", "breach"),
    [
        ("2026-04-01T00:00:00Z", 2592, "2026-04-01T00:43:12Z"),
        ("2026-03-01T00:00:00Z", 2678.4, "2026-03-01T00:44:38.400000Z"),
        ("2026-02-01T00:00:00Z", 2419.2, "2026-02-01T00:40:19.200000Z"),
    ],
)
def test_a_service_down_from_the_window_start_breaches_when_the_budget_is_spent(
    start: str, budget: float, breach: str
) -> None:
    run = fold(catalog(objective()), [status("u1", start, "down")], "2026-04-02T00:00:00Z")
    [out] = [b for b in run.of("sla.availability.breached") if b["window_start"] == start]
    assert out["time"] == breach
    assert out["budget_seconds"] == budget
    assert out["downtime_seconds"] == budget


def test_march_in_berlin_is_743_hours() -> None:
    cat = catalog(objective(timezone="Europe/Berlin"))
    run = fold(cat, [status("u1", "2026-03-01T00:00:00+01:00", "up")], "2026-04-01T00:00:00Z")
    [closed] = run.of("sla.availability.window_closed")
    assert closed["measured_seconds"] == 743 * 3600
    assert (closed["window_start"], closed["window_end"]) == (
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
    )
    run = fold(cat, [status("u1", "2026-03-01T00:00:00+01:00", "down")], "2026-03-02T00:00:00Z")
    [breach] = run.of("sla.availability.breached")
    assert breach["budget_seconds"] == 2674.8
    assert breach["time"] == "2026-02-28T23:44:34.800000Z"


def test_tally_counts_by_status_and_policy() -> None:
    tally = Tally()
    for s, amount in [(Status.UP, 10), (Status.DOWN, 3), (Status.DEGRADED, 4), (Status.UNKNOWN, 5)]:
        tally.add(s, amount)
    half = Fraction(1, 2)
    assert tally.total == 22
    assert tally.downtime(half, UnknownPolicy.EXCLUDED) == 5
    assert tally.downtime(half, UnknownPolicy.DOWN) == 10
    assert tally.downtime(half, UnknownPolicy.UP) == 5
    assert tally.measured(UnknownPolicy.EXCLUDED) == 17
    assert tally.measured(UnknownPolicy.UP) == 22


def test_rates() -> None:
    half = Fraction(1, 2)
    assert rates(Status.DOWN, half, UnknownPolicy.UP) == Rates(Fraction(1), 0)
    assert rates(Status.DEGRADED, half, UnknownPolicy.UP) == Rates(half, 0)
    assert rates(Status.UP, half, UnknownPolicy.DOWN) == Rates(Fraction(0), 0)
    assert rates(Status.UNKNOWN, half, UnknownPolicy.DOWN) == Rates(Fraction(1), 0)
    assert rates(Status.UNKNOWN, half, UnknownPolicy.EXCLUDED) == Rates(Fraction(0), 1)
    assert rates(Status.UNKNOWN, half, UnknownPolicy.UP) == Rates(Fraction(0), 0)


def test_crossing_while_down_and_while_the_base_shrinks() -> None:
    share = allowance(Fraction(999, 10))
    down = Rates(Fraction(1), 0)
    # budget 604.8 s of a week: half of it after 302.4 s down
    assert crossing(Fraction(0), 7 * DAY, share, Fraction(1, 2), down) == 302_400_000
    excluded = Rates(Fraction(0), 1)
    # 500 s of downtime is 0.9 of the budget once the base is 555,555.5... s
    m = crossing(Fraction(500 * SECOND), 7 * DAY, share, Fraction(9, 10), excluded)
    assert m == 7 * DAY - Fraction(500 * SECOND) / (Fraction(9, 10) * share)
    assert crossing(Fraction(0), 7 * DAY, share, Fraction(1, 2), excluded) is None
    assert crossing(Fraction(0), 0, share, Fraction(1, 2), down) is None
    assert crossing(Fraction(0), 7 * DAY, share, Fraction(1, 2), Rates(Fraction(0), 0)) is None


def test_availability_outcome_and_credit() -> None:
    tiers = (
        Credit(Fraction(999, 10), 10),
        Credit(Fraction(99), 25),
        Credit(Fraction(95), 100),
    )
    objective_ = Fraction(999, 10)
    a = availability_ratio(Fraction(7200 * SECOND), 30 * DAY)
    assert a == 1 - Fraction(7200, 2_592_000)
    assert outcome(a, objective_) is Outcome.BREACHED
    assert credit_percent(a, tiers) == 10
    assert credit_percent(Fraction(985, 1000), tiers) == 25
    assert credit_percent(Fraction(9, 10), tiers) == 100
    exactly = Fraction(999, 1000)
    assert outcome(exactly, objective_) is Outcome.MET
    assert credit_percent(exactly, tiers) == 0
    assert availability_ratio(Fraction(0), 0) is None
    assert outcome(None, objective_) is Outcome.NO_DATA
    assert credit_percent(None, tiers) == 0


def test_ratios_round_half_to_even_at_nine_decimals() -> None:
    assert ratio_number(1 - Fraction(7200, 2_592_000)) == 0.997222222
    assert ratio_number(Fraction(1)) == 1
    assert isinstance(ratio_number(Fraction(1)), int)
    assert ratio_number(Fraction(0)) == 0
    assert ratio_number(Fraction(1, 2)) == 0.5
    assert ratio_number(Fraction(25, 10**10)) == 0.000000002
    assert ratio_number(Fraction(35, 10**10)) == 0.000000004
    assert ratio_number(Fraction(2, 3)) == 0.666666667


def test_seconds_have_at_most_six_decimals() -> None:
    assert seconds_number(2592 * SECOND) == 2592
    assert isinstance(seconds_number(Fraction(2592 * SECOND)), int)
    assert seconds_number(Fraction(26784 * SECOND, 10)) == 2678.4
    assert seconds_number(Fraction(3, 2)) == 0.000002
    assert seconds_number(Fraction(5, 2)) == 0.000002
    assert seconds_number(Fraction(HOUR) + Fraction(1, 3)) == 3600
