"""The two kinds of subject the engine folds: tickets (rules 7-18) and services (rules 19-26).

A :class:`SubjectKind` adapts one fold (:mod:`slawatch.clock.ticket` or
:mod:`slawatch.availability`) to the engine, which adds what all subjects share:
duplicates, late events, retention and timers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from slawatch import availability
from slawatch.clock import ticket
from slawatch.clock.catalog import Catalog
from slawatch.clock.snapshot import state_from_record, state_to_record
from slawatch.events.model import InputEvent, MaintenanceWindow, TicketEvent, UptimeStatus
from slawatch.outputs import Output

__all__ = ["SERVICES", "TICKETS", "SubjectKind", "kind_of_event", "kind_of_key"]

History = Callable[[], Sequence[Any]] | None


class SubjectKind(Protocol):
    """One subject kind's fold, as the engine drives it."""

    name: str
    prefix: str

    def accepts(self, event: InputEvent) -> bool:
        """Whether the event belongs to a subject of this kind."""
        ...

    def new_state(self) -> Any:
        """The state of a subject never seen."""

    def apply(
        self, state: Any, key: str, event: Any, catalog: Catalog, history: History
    ) -> list[Output]:
        """Apply one event (the subject's timers due before it have fired)."""
        ...

    def fire_before(self, state: Any, key: str, limit: int) -> list[Output]:
        """Fire the timers due strictly before ``limit``."""
        ...

    def next_due(self, state: Any) -> int | None:
        """The earliest timer's due instant."""

    def soonest_deadline(self, state: Any) -> int | None:
        """The earliest deadline a "breaching soon" listing would show (tickets only)."""

    def fired(self, state: Any) -> int | None:
        """The latest instant a timer fired at, if one may fire without an output.

        An event earlier than it can no longer be applied in order (rule 6).
        """

    def is_idle(self, state: Any) -> bool:
        """Nothing open: retention (rule 6a) counts from when this became true."""
        ...

    def ignores(self, state: Any) -> bool:
        """Whether later events are ignored (a deleted ticket)."""
        ...

    def to_record(self, state: Any, catalog: Catalog) -> dict[str, Any]:
        """The state as a JSON-ready record."""
        ...

    def from_record(self, record: dict[str, Any], catalog: Catalog) -> Any:
        """A state restored from its record."""


class _Tickets:
    """The ticket fold; its functions are bound as they are, without a call in between."""

    name = "ticket"
    prefix = "ticket:"

    def accepts(self, event: InputEvent) -> bool:
        return isinstance(event, TicketEvent)

    def new_state(self) -> ticket.TicketState:
        return ticket.TicketState()

    apply = staticmethod(ticket.apply_event)
    fire_before = staticmethod(ticket.fire_before)
    next_due = staticmethod(ticket.next_due)
    soonest_deadline = staticmethod(ticket.soonest_deadline)

    def fired(self, state: Any) -> int | None:
        return None  # a ticket's timers all have an output, which marks them

    def is_idle(self, state: Any) -> bool:
        return not state.open

    def ignores(self, state: Any) -> bool:
        return bool(state.deleted)

    to_record = staticmethod(state_to_record)
    from_record = staticmethod(state_from_record)


class _Services:
    """The service fold; called through the module, which imports this one while it loads."""

    name = "service"
    prefix = "service:"

    def accepts(self, event: InputEvent) -> bool:
        return isinstance(event, UptimeStatus | MaintenanceWindow)

    def new_state(self) -> availability.ServiceState:
        return availability.ServiceState()

    def apply(
        self, state: Any, key: str, event: Any, catalog: Catalog, history: History
    ) -> list[Output]:
        return availability.apply_event(state, key, event, catalog)

    def fire_before(self, state: Any, key: str, limit: int) -> list[Output]:
        return availability.fire_before(state, key, limit)

    def next_due(self, state: Any) -> int | None:
        return availability.next_due(state)

    def soonest_deadline(self, state: Any) -> int | None:
        return None  # availability objectives are in no ticket queue

    def fired(self, state: Any) -> int | None:
        return state.fired  # type: ignore[no-any-return]

    def is_idle(self, state: Any) -> bool:
        return not availability.has_open_window(state)

    def ignores(self, state: Any) -> bool:
        return False

    def to_record(self, state: Any, catalog: Catalog) -> dict[str, Any]:
        return availability.state_to_record(state, catalog)

    def from_record(self, record: dict[str, Any], catalog: Catalog) -> availability.ServiceState:
        return availability.state_from_record(record, catalog)


TICKETS: SubjectKind = _Tickets()
SERVICES: SubjectKind = _Services()
_KINDS = (TICKETS, SERVICES)


_BY_TYPE: dict[type, SubjectKind] = {
    TicketEvent: TICKETS,
    UptimeStatus: SERVICES,
    MaintenanceWindow: SERVICES,
}


def kind_of_event(event: InputEvent) -> SubjectKind | None:
    """The kind of subject an event is about, or ``None`` (acknowledgements)."""
    return _BY_TYPE.get(type(event))


def kind_of_key(key: str) -> SubjectKind:
    """The kind of a subject key."""
    for kind in _KINDS:
        if key.startswith(kind.prefix):
            return kind
    raise ValueError(f"not a subject key: {key!r}")
