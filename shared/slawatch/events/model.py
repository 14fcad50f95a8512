"""Validated input events (``events.md``, "Input events") and rejections.

Produced by :func:`slawatch.events.parse_event`; consumed by the engine. Times are
integer microseconds UTC (:mod:`slawatch.timeutil`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, TypeAlias

__all__ = [
    "Acknowledgement",
    "CommentInfo",
    "EventType",
    "InputEvent",
    "MaintenanceWindow",
    "RejectReason",
    "Rejection",
    "TicketEvent",
    "UptimeStatus",
    "new_ticket_event",
]


class EventType(StrEnum):
    """The input event types."""

    TICKET_CREATED = "ticket.created"
    """A ticket as it is when created."""
    TICKET_UPDATED = "ticket.updated"
    """Only the fields that changed."""
    TICKET_COMMENTED = "ticket.commented"
    """A comment, possibly with changed fields."""
    TICKET_DELETED = "ticket.deleted"
    """The ticket is gone; its clocks are cancelled."""
    UPTIME_STATUS = "uptime.status"
    """A check's status of a service."""
    MAINTENANCE_WINDOW = "maintenance.window"
    """An ad-hoc maintenance window announced for a service."""
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
    """Someone acknowledged a running escalation."""


class RejectReason(StrEnum):
    """Why an input event was not applied; the ``reason`` label of the rejection metric."""

    NOT_JSON = "not_json"
    """The bytes are not JSON (or not UTF-8)."""
    NOT_OBJECT = "not_object"
    """JSON, but not an object."""
    TOO_LARGE = "too_large"
    """Larger than the configured maximum event size."""
    MISSING_FIELD = "missing_field"
    """A required field is absent or null."""
    WRONG_TYPE = "wrong_type"
    """A field has the wrong JSON type."""
    UNKNOWN_TYPE = "unknown_type"
    """``type`` is not one of :class:`EventType`."""
    BAD_VALUE = "bad_value"
    """A value outside its list, or ``start`` not before ``end``."""
    BAD_TIME = "bad_time"
    """A time that is not RFC 3339 with an offset."""
    FUTURE_TIME = "future_time"
    """Live only: more than ``max_future`` ahead of the wall clock."""
    TOO_LATE = "too_late"
    """Needs history that retention discarded (rule 6a)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input that is not applied: the reason, a human message, and the offending field."""

    reason: RejectReason
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class CommentInfo:
    """The comment of a ``ticket.commented``."""

    author_role: str
    public: bool


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """A ``ticket.*`` event.

    ``fields`` holds the top-level ticket fields the event sets (``None`` clears one),
    limited to :data:`slawatch.definitions.model.TICKET_FIELDS`; ``attributes`` holds
    attribute changes: the event's ``ticket.attributes`` merged over its other, unknown
    top-level ticket fields (an explicit attribute wins). ``id`` is not among either.
    """

    id: str
    type: EventType
    time: int
    ticket_id: str
    fields: dict[str, Any]
    attributes: dict[str, Any]
    comment: CommentInfo | None = None
    source: str | None = None
    received_at: int | None = None
    backfill: bool = False

    @property
    def subject(self) -> str:
        """``ticket:ID``."""
        return "ticket:" + self.ticket_id


def _setters(cls: type, *names: str) -> tuple[Any, ...]:
    """The slot setters of a frozen dataclass, which must name all its fields in order."""
    if names != tuple(f.name for f in fields(cls)):
        raise TypeError(f"{cls.__name__} has fields {fields(cls)}, not {names}")
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
(
    _set_id, _set_type, _set_time, _set_ticket_id, _set_fields, _set_attributes,
    _set_comment, _set_source, _set_received_at, _set_backfill,
) = _setters(
    TicketEvent, "id", "type", "time", "ticket_id", "fields", "attributes",
    "comment", "source", "received_at", "backfill",
)  # fmt: skip


def new_ticket_event(
    event_id: str,
    event_type: EventType,
    time: int,
    ticket_id: str,
    fields: dict[str, Any],
    attributes: dict[str, Any],
    comment: CommentInfo | None,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> TicketEvent:
    """``TicketEvent`` of these fields, in order: equal to the constructor's, and as frozen.

    It fills the slots directly rather than through the frozen dataclass's per-field
    ``object.__setattr__``, which costs more than the rest of parsing a ticket event.
    """
    event = _new(TicketEvent)
    _set_id(event, event_id)
    _set_type(event, event_type)
    _set_time(event, time)
    _set_ticket_id(event, ticket_id)
    _set_fields(event, fields)
    _set_attributes(event, attributes)
    _set_comment(event, comment)
    _set_source(event, source)
    _set_received_at(event, received_at)
    _set_backfill(event, backfill)
    return event


@dataclass(frozen=True, slots=True)
class UptimeStatus:
    """An ``uptime.status`` event; ``check`` is ``None`` for the service's default check."""

    id: str
    time: int
    service: str
    status: str
    check: str | None = None
    source: str | None = None
    received_at: int | None = None
    backfill: bool = False

    @property
    def subject(self) -> str:
        """``service:ID``."""
        return "service:" + self.service


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A ``maintenance.window`` event; ``window_id`` defaults to the event's ``id``."""

    id: str
    time: int
    service: str
    window_id: str
    start: int
    end: int
    cancelled: bool = False
    source: str | None = None
    received_at: int | None = None
    backfill: bool = False

    @property
    def subject(self) -> str:
        """``service:ID``."""
        return "service:" + self.service


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An ``escalation.acknowledged`` event."""

    id: str
    time: int
    subject: str
    by: str
    sla: str | None = None
    target: str | None = None
    cycle: int | None = None
    note: str | None = None
    source: str | None = None
    received_at: int | None = None
    backfill: bool = False


InputEvent: TypeAlias = TicketEvent | UptimeStatus | MaintenanceWindow | Acknowledgement
