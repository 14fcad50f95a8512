"""One subject as the engine holds it: its state, history and applied ids.

A :class:`Subject` carries what rules 5, 6 and 6a need beside the kind's state (the
history kept for late events, the (source, id) pairs applied, the mark of the latest
timer fired); :class:`IdSet` holds those pairs compactly. Both are plain data with no
I/O; :class:`~slawatch.clock.engine.Engine` drives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from slawatch.clock.catalog import Catalog
from slawatch.clock.cycle import CycleState
from slawatch.clock.kinds import SubjectKind
from slawatch.clock.snapshot import decode_history, open_clocks
from slawatch.events.model import InputEvent
from slawatch.outputs import Output

__all__ = ["IdSet", "Subject"]


_Entry = str | tuple[str | None, str]
"""A pair as an :class:`IdSet` holds it: the id alone when the event has no source."""


class IdSet:
    """The (source, id) pairs applied to a subject (rule 5): a tuple while small (most
    tickets have a handful, and a tuple holds them in the least memory), then a set.
    A pair without a source is held as its id alone."""

    __slots__ = ("_items",)
    _SMALL = 8

    def __init__(self) -> None:
        self._items: tuple[_Entry, ...] | set[_Entry] = ()

    def __contains__(self, pair: object) -> bool:
        if type(pair) is tuple and pair[0] is None:
            return pair[1] in self._items
        return pair in self._items

    def add(self, pair: tuple[str | None, str]) -> None:
        """Remember a pair."""
        entry: _Entry = pair[1] if pair[0] is None else pair
        items = self._items
        if isinstance(items, set):
            items.add(entry)
        elif entry not in items:
            if len(items) >= self._SMALL:
                self._items = {*items, entry}
            else:
                self._items = (*items, entry)

    def to_record(self) -> list[list[str | None]]:
        """The pairs, sorted, as JSON-ready lists."""
        pairs = [(None, e) if type(e) is str else e for e in self._items]
        ordered = sorted(pairs, key=lambda p: (p[0] or "", p[0] is None, p[1]))
        return [list(p) for p in ordered]

    @classmethod
    def from_record(cls, record: list[list[str | None]]) -> IdSet:
        """Pairs restored from :meth:`to_record`."""
        ids = cls()
        for source, eid in record:
            assert eid is not None
            ids.add((source, eid))
        return ids


def _ids_of(lines: Iterable[str]) -> IdSet:
    ids = IdSet()
    for line in lines:
        event = orjson.loads(line)
        ids.add((event.get("source"), event["id"]))
    return ids


_UNSET: Any = object()


class Subject:
    """A subject's state plus what rules 5, 6 and 6a need: history, applied ids, timer mark.

    ``stored`` counts the leading history lines a store already holds (``None``: its
    stored history must be replaced). A subject restored from a store keeps its state
    as the record until first used (``state``), and its applied ids unbuilt until a
    duplicate check needs them (``ids``): a restart loads a partition's subjects
    without decoding any clock.
    """

    __slots__ = (
        "_catalog",
        "_frozen",
        "_ids",
        "_state",
        "base",
        "base_time",
        "closes",
        "due",
        "held",
        "history",
        "idle_since",
        "key",
        "kind",
        "last_time",
        "stored",
        "timer_mark",
    )

    def __init__(self, key: str, kind: SubjectKind, state: Any = _UNSET) -> None:
        self.key = key
        self.kind = kind
        self._state: Any = kind.new_state() if state is _UNSET else state
        self._frozen: dict[str, Any] | None = None
        self._catalog: Catalog | None = None
        self.history: list[str] | None = []
        self._ids: IdSet | None = IdSet()
        self.last_time: int | None = None
        self.timer_mark: int | None = None
        self.idle_since: int | None = None
        self.due: int | None = None
        self.base: dict[str, Any] | None = None
        self.base_time: int | None = None
        self.closes: tuple[tuple[int, int], ...] = ()
        self.stored: int | None = 0
        self.held: Sequence[Output] = ()

    @property
    def state(self) -> Any:
        """The kind's state of this subject (decoded from its record on first use)."""
        if self._frozen is not None:
            assert self._catalog is not None
            self._state = self.kind.from_record(self._frozen, self._catalog)
            self._frozen = self._catalog = None
        return self._state

    @state.setter
    def state(self, value: Any) -> None:
        self._state = value
        self._frozen = self._catalog = None

    def freeze(self, record: dict[str, Any], catalog: Catalog) -> None:
        """Hold the state as ``record`` (the kind's ``to_record``) until it is used."""
        self._frozen, self._catalog, self._state = record, catalog, None

    @property
    def frozen(self) -> dict[str, Any] | None:
        """The state's record while it has not been decoded, else ``None``."""
        return self._frozen

    def ticket_clocks(self) -> list[tuple[str, str, CycleState, bool]]:
        """A ticket subject's open clocks as ``(sla, target, state, breached)``, read from
        its record while that is not decoded."""
        if self._frozen is not None:
            return open_clocks(self._frozen)
        return [
            (c.sla.id, c.target.id, c.state, c.breach_deadline is not None)
            for c in self.state.open.values()
        ]

    @property
    def ids(self) -> IdSet | None:
        """The (source, id) pairs applied (rule 5); ``None`` once history is discarded."""
        if self._ids is _UNSET:
            self._ids = None if self.history is None else _ids_of(self.history)
        return self._ids

    @ids.setter
    def ids(self, value: IdSet | None) -> None:
        self._ids = value

    def derive_ids(self) -> None:
        """Build the applied ids from the history when they are first needed."""
        self._ids = _UNSET

    def past_events(self) -> list[InputEvent]:
        """The events of the history kept, decoded: the ticket fold's ``history()``.

        A bound method rather than a ``partial`` of :func:`decode_history`, which costs
        several times as much to make, once per event, for a call that seldom comes.
        """
        assert self.history is not None
        return decode_history(self.history)

    def is_late(self, t: int) -> bool:
        """Rule 6: earlier than an applied event, or not later than a timer that fired
        (an emitted output's, or a silent one a service's state was carried to)."""
        return (self.last_time is not None and t < self.last_time) or (
            self.timer_mark is not None and t <= self.timer_mark
        )

    def before_base(self, t: int) -> bool:
        """Whether ``t`` falls before the history kept (a service's closed windows, rule 6a)."""
        return self.base_time is not None and t < self.base_time
