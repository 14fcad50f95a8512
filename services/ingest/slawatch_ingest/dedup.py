"""A bounded, time-horizon duplicate filter for ingest.

:class:`DuplicateFilter` remembers the key ``(subject, source, id)`` of each event it
lets through (``source`` is ``""`` when the event has none) with the instant it was
first seen. ``seen(key, now)`` is true when the key was first seen less than
``horizon`` before ``now``; otherwise it records the key at ``now`` and is false.

- A key's horizon runs from its first sighting: a duplicate does not extend it.
- An entry whose age reaches the horizon is forgotten; a horizon of 0 remembers nothing
  (every event passes).
- At most ``capacity`` keys are kept: past that the oldest sighting is evicted, so
  memory stays bounded whatever the input rate (about 350 bytes per entry with
  typical ids, so some 350 MB at the default capacity of a million).
- ``forget(key)`` undoes a sighting whose event was then not delivered, so a retry of
  it is not taken for a duplicate.
- Each call is O(1) amortised: entries are kept in insertion order and expired from
  the front. An instant earlier than the previous ones (a clock step back) is handled:
  such entries just expire later, and a key is checked against its own instant.

This filter is an optimisation (fewer records downstream); correctness does not rest on
it: the evaluator applies each event once (rule 5) whatever ingest lets through.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeAlias

__all__ = ["DedupKey", "DuplicateFilter"]

DedupKey: TypeAlias = tuple[str, str | None, str]
"""``(subject, source, id)``: an absent source and an empty one differ, as in the engine."""


class DuplicateFilter:
    """Which event keys were seen within the horizon (instants in microseconds)."""

    __slots__ = ("_capacity", "_entries", "_horizon")

    def __init__(self, horizon: int, capacity: int) -> None:
        if horizon < 0:
            raise ValueError("the horizon is not negative")
        if capacity < 1:
            raise ValueError("the capacity is at least 1")
        self._horizon = horizon
        self._capacity = capacity
        self._entries: OrderedDict[DedupKey, int] = OrderedDict()

    @property
    def horizon(self) -> int:
        """How long a key is remembered, in microseconds."""
        return self._horizon

    @property
    def capacity(self) -> int:
        """The most keys remembered at once."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._entries)

    def seen(self, key: DedupKey, now: int) -> bool:
        """True if ``key`` is a duplicate; else remember it at ``now`` and return False."""
        entries = self._entries
        self._expire(now)
        first = entries.get(key)
        if first is not None:
            if now - first < self._horizon:
                return True
            del entries[key]
        if self._horizon == 0:
            return False
        entries[key] = now
        if len(entries) > self._capacity:
            entries.popitem(last=False)
        return False

    def forget(self, key: DedupKey) -> None:
        """Forget ``key`` (nothing happens if it is not remembered)."""
        self._entries.pop(key, None)

    def _expire(self, now: int) -> None:
        entries = self._entries
        limit = now - self._horizon
        while entries:
            key, first = next(iter(entries.items()))
            if first > limit:
                return
            del entries[key]
