from __future__ import annotations

import pytest

from slawatch.timeutil import SECOND
from slawatch_ingest.dedup import DuplicateFilter

KEY = ("ticket:T-1", "jira", "e-1")


def test_second_sighting_within_horizon_is_a_duplicate() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=10)
    assert not dedup.seen(KEY, 0)
    assert dedup.seen(KEY, 9 * SECOND)
    assert len(dedup) == 1


def test_key_is_subject_source_and_id() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=10)
    assert not dedup.seen(KEY, 0)
    assert not dedup.seen(("ticket:T-2", "jira", "e-1"), 0)
    assert not dedup.seen(("ticket:T-1", "zendesk", "e-1"), 0)
    assert not dedup.seen(("ticket:T-1", "", "e-1"), 0)
    assert dedup.seen(KEY, 1)


def test_entries_expire_at_the_horizon_counted_from_the_first_sighting() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=10)
    assert not dedup.seen(KEY, 0)
    assert dedup.seen(KEY, 5 * SECOND)  # does not extend the horizon
    assert not dedup.seen(KEY, 10 * SECOND)
    assert dedup.seen(KEY, 15 * SECOND)


def test_old_entries_are_dropped_from_memory() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=1000)
    for i in range(100):
        dedup.seen(("service:api", "", f"u-{i}"), i * SECOND)
    assert len(dedup) == 10
    dedup.seen(("service:api", "", "late"), 1000 * SECOND)
    assert len(dedup) == 1


def test_capacity_evicts_the_oldest() -> None:
    dedup = DuplicateFilter(horizon=3600 * SECOND, capacity=3)
    keys = [("service:api", "", f"u-{i}") for i in range(4)]
    for i, key in enumerate(keys):
        assert not dedup.seen(key, i)
    assert len(dedup) == 3
    assert not dedup.seen(keys[0], 10)  # evicted, so new again
    assert dedup.seen(keys[3], 11)


def test_forget_undoes_a_sighting() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=10)
    assert not dedup.seen(KEY, 0)
    dedup.forget(KEY)
    dedup.forget(KEY)
    assert not dedup.seen(KEY, 1)


def test_zero_horizon_remembers_nothing() -> None:
    dedup = DuplicateFilter(horizon=0, capacity=10)
    assert not dedup.seen(KEY, 0)
    assert not dedup.seen(KEY, 0)
    assert len(dedup) == 0


def test_clock_stepping_back_keeps_each_key_on_its_own_instant() -> None:
    dedup = DuplicateFilter(horizon=10 * SECOND, capacity=10)
    assert not dedup.seen(("a", "", "1"), 100 * SECOND)
    assert not dedup.seen(("b", "", "2"), 50 * SECOND)
    assert dedup.seen(("b", "", "2"), 55 * SECOND)
    # "a" is in front and not expired at 105 s; "b" behind it is checked on lookup.
    assert not dedup.seen(("b", "", "2"), 105 * SECOND)
    assert dedup.seen(("a", "", "1"), 105 * SECOND)


@pytest.mark.parametrize(("horizon", "capacity"), [(-1, 10), (10, 0)])
def test_bad_arguments(horizon: int, capacity: int) -> None:
    with pytest.raises(ValueError, match=r"horizon|capacity"):
        DuplicateFilter(horizon, capacity)
