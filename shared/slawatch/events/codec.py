"""Writing input events and quoting raw payloads in reports.

:func:`encode_event` writes an event as canonical JSON (sorted keys, UTC times with ``Z``,
absent optional fields omitted) that :func:`~slawatch.events.parse.parse_event` reads back
as an equal event. :func:`raw_for_report` renders a payload losslessly for the dead-letter
topic (``events.md``, "Rejected input"); :func:`preview` shortens it for a log line.
"""

from __future__ import annotations

import base64
from typing import Any, Final

import orjson

from slawatch.events.model import (
    Acknowledgement,
    EventType,
    InputEvent,
    MaintenanceWindow,
    TicketEvent,
    UptimeStatus,
)
from slawatch.timeutil import format_time

__all__ = ["encode_event", "preview", "raw_for_report"]


def encode_event(event: InputEvent) -> bytes:
    """The event as canonical JSON bytes.

    Raises ``ValueError`` for a ``ticket.commented`` without a comment, which no parse
    produces.
    """
    doc: dict[str, Any] = {"id": event.id, "time": _time_text(event.time)}
    if event.source is not None:
        doc["source"] = event.source
    if event.received_at is not None:
        doc["received_at"] = _time_text(event.received_at)
    if event.backfill:
        doc["backfill"] = True
    if isinstance(event, TicketEvent):
        _ticket(event, doc)
    elif isinstance(event, UptimeStatus):
        doc["type"] = EventType.UPTIME_STATUS.value
        doc["service"] = event.service
        doc["status"] = event.status
        if event.check is not None:
            doc["check"] = event.check
    elif isinstance(event, MaintenanceWindow):
        doc["type"] = EventType.MAINTENANCE_WINDOW.value
        doc["service"] = event.service
        doc["window_id"] = event.window_id
        doc["start"] = _time_text(event.start)
        doc["end"] = _time_text(event.end)
        if event.cancelled:
            doc["cancelled"] = True
    elif isinstance(event, Acknowledgement):
        doc["type"] = EventType.ESCALATION_ACKNOWLEDGED.value
        doc["subject"] = event.subject
        doc["by"] = event.by
        for key, value in (
            ("sla", event.sla),
            ("target", event.target),
            ("cycle", event.cycle),
            ("note", event.note),
        ):
            if value is not None:
                doc[key] = value
    else:
        raise TypeError(f"not an input event: {type(event).__name__}")
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def _time_text(instant: int) -> str:
    text = format_time(instant)
    # ``strftime("%Y")`` does not pad years before 1000 on every platform; RFC 3339 needs
    # four digits.
    year_digits = text.index("-")
    return text if year_digits == 4 else "0" * (4 - year_digits) + text


def _ticket(event: TicketEvent, doc: dict[str, Any]) -> None:
    doc["type"] = event.type.value
    if event.type is EventType.TICKET_DELETED:
        doc["ticket"] = {"id": event.ticket_id}
        return
    ticket: dict[str, Any] = {**event.fields, "id": event.ticket_id}
    if event.attributes:
        ticket["attributes"] = event.attributes
    doc["ticket"] = ticket
    if event.type is EventType.TICKET_COMMENTED:
        if event.comment is None:
            raise ValueError(f"ticket.commented event {event.id!r} has no comment")
        doc["comment"] = {"author_role": event.comment.author_role, "public": event.comment.public}


def raw_for_report(raw: bytes | str) -> str:
    """The whole payload as text: itself if it is UTF-8, else its standard base64."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii")


_CONTROL: Final = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
}


def preview(raw: bytes | str, limit: int = 200) -> str:
    """The first ``limit`` characters of the payload on one line, for logs.

    Invalid UTF-8 bytes appear as ``\\xNN`` and control characters are escaped; a cut
    payload ends with ``...`` and its full size.
    """
    if isinstance(raw, str):
        text = raw
        size = f"{len(raw)} characters"
    else:
        text = raw[: 4 * (limit + 1)].decode("utf-8", errors="backslashreplace")
        size = f"{len(raw)} bytes"
    if len(text) <= limit:
        return text.translate(_CONTROL)
    return text[:limit].translate(_CONTROL) + f"... ({size})"
