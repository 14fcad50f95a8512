"""Input events: the typed model, the parser/validator and the canonical encoding.

``parse_event(raw)`` returns an :data:`InputEvent` or a :class:`Rejection`;
``encode_event(event)`` writes JSON that parses back to an equal event.
"""

from slawatch.events.codec import encode_event, preview, raw_for_report
from slawatch.events.model import (
    Acknowledgement,
    CommentInfo,
    EventType,
    InputEvent,
    MaintenanceWindow,
    Rejection,
    RejectReason,
    TicketEvent,
    UptimeStatus,
)
from slawatch.events.parse import (
    AUTHOR_ROLES,
    DEFAULT_MAX_EVENT_BYTES,
    UPTIME_STATUSES,
    parse_canonical,
    parse_event,
)

__all__ = [
    "AUTHOR_ROLES",
    "DEFAULT_MAX_EVENT_BYTES",
    "UPTIME_STATUSES",
    "Acknowledgement",
    "CommentInfo",
    "EventType",
    "InputEvent",
    "MaintenanceWindow",
    "RejectReason",
    "Rejection",
    "TicketEvent",
    "UptimeStatus",
    "encode_event",
    "parse_canonical",
    "parse_event",
    "preview",
    "raw_for_report",
]
