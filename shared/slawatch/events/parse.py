"""Parse and validate one input event (``events.md``, "Input events" and "Rejected input").

:func:`parse_event` turns the bytes of one Kafka record or JSONL line into an
:data:`~slawatch.events.model.InputEvent`, or a :class:`~slawatch.events.model.Rejection`
with the reason, an operator-readable message and the dotted path of the offending field.
It never raises on bad input. An optional field that is ``null`` counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, NoReturn, TypeAlias, TypeVar

import orjson

from slawatch.definitions.model import TICKET_FIELDS
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
    new_ticket_event,
)
from slawatch.timeutil import (
    MINUTE,
    SECOND,
    TimeFormatError,
    from_datetime,
    parse_time,
    remember,
)

__all__ = ["AUTHOR_ROLES", "DEFAULT_MAX_EVENT_BYTES", "UPTIME_STATUSES", "parse_event"]

DEFAULT_MAX_EVENT_BYTES: Final = 1_048_576
"""The default largest accepted event, in bytes of UTF-8."""

AUTHOR_ROLES: Final = ("agent", "customer", "system")
"""The accepted ``comment.author_role`` values."""

UPTIME_STATUSES: Final = ("up", "down", "degraded")
"""The accepted ``uptime.status`` ``status`` values."""

_SUBJECT_PREFIXES: Final = ("ticket:", "service:")

_TYPES: Final[dict[str, EventType]] = {t.value: t for t in EventType}
_TICKET_TYPES: Final = {name: t for name, t in _TYPES.items() if name.startswith("ticket.")}
_DELETED: Final = EventType.TICKET_DELETED
_COMMENTED: Final = EventType.TICKET_COMMENTED
"""Module globals for the per-event paths: reading a member off its class costs several
times as much under Python 3.11 (``EnumType.__getattr__``)."""
_ROLES: Final = frozenset(AUTHOR_ROLES)
_STATUSES: Final = frozenset(UPTIME_STATUSES)
_MIN_INSTANT: Final = from_datetime(datetime.min.replace(tzinfo=UTC))
_MAX_INSTANT: Final = from_datetime(datetime.max.replace(tzinfo=UTC))
_SHOW_LIMIT: Final = 64

_Object: TypeAlias = dict[str, Any]
_T = TypeVar("_T")


class _Invalid(Exception):
    """Carries a rejection out of the nested validators to :func:`parse_event`."""

    def __init__(self, reason: RejectReason, message: str, field: str | None) -> None:
        super().__init__(message)
        self.rejection = Rejection(reason, message, field)


def parse_canonical(raw: bytes) -> InputEvent | Rejection:
    """An event from a record ingest wrote, validated again but with no size limit.

    Ingest checked the input's size; the ``received_at`` it added makes the record
    larger than the input, so the limit applied again would drop accepted events.
    """
    return parse_event(raw, max_bytes=len(raw))


def parse_event(
    raw: bytes | str, *, max_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> InputEvent | Rejection:
    """One input event from its JSON text, or why it is rejected.

    The size is checked before decoding: a payload over ``max_bytes`` is rejected as
    ``too_large`` without being read.
    """
    size = len(raw)
    if size > max_bytes:
        return _too_large(size, max_bytes, exact=not isinstance(raw, str))
    if isinstance(raw, str) and size * 4 > max_bytes:
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            return Rejection(RejectReason.NOT_JSON, "not valid UTF-8 text (lone surrogate)")
        if size > max_bytes:
            return _too_large(size, max_bytes, exact=True)
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _not_json(raw, exc)
    if type(obj) is not dict:
        return Rejection(RejectReason.NOT_OBJECT, f"not a JSON object: the event is {_kind(obj)}")
    type_name = obj.get("type")
    if type_name == "uptime.status":
        fast: InputEvent | None = fast_uptime(obj)
    elif type(type_name) is str and type_name in _TICKET_TYPES:
        fast = fast_ticket(obj)
    else:
        fast = None
    if fast is not None:
        return fast
    try:
        return _parse_object(obj)
    except _Invalid as exc:
        return exc.rejection


def fast_uptime(obj: _Object) -> UptimeStatus | None:
    """The common, valid ``uptime.status`` built directly; ``None`` sends it the long way.

    Equal to what the full validation builds for the same object whenever it answers
    (the stream of a monitored service is mostly these, at high rates).
    """
    event_id, time_text, service, status = (
        obj.get("id"), obj.get("time"), obj.get("service"), obj.get("status")
    )  # fmt: skip
    check, source = obj.get("check"), obj.get("source")
    if (
        type(event_id) is not str
        or not event_id
        or type(time_text) is not str
        or type(service) is not str
        or not service
        or type(status) is not str
        or status not in _STATUSES
        or (check is not None and type(check) is not str)
        or (source is not None and type(source) is not str)
        or obj.get("received_at") is not None
        or obj.get("backfill") is not None
    ):
        return None
    time = _fast_instant(time_text)
    if time is None:
        return None
    return UptimeStatus(id=event_id, time=time, service=service, status=status, check=check,
                        source=source)  # fmt: skip


def fast_ticket(obj: _Object) -> TicketEvent | None:
    """The common, valid ``ticket.*`` event built directly; ``None`` sends it the long way.

    Equal to what the full validation builds for the same object whenever it answers.
    """
    type_name, event_id, time_text, ticket = (
        obj.get("type"), obj.get("id"), obj.get("time"), obj.get("ticket")
    )  # fmt: skip
    source, received, backfill = obj.get("source"), obj.get("received_at"), obj.get("backfill")
    event_type = _TICKET_TYPES.get(type_name) if type(type_name) is str else None
    if (
        event_type is None
        or type(event_id) is not str
        or not event_id
        or type(time_text) is not str
        or type(ticket) is not dict
        or (source is not None and type(source) is not str)
        or (received is not None and type(received) is not str)
        or (backfill is not None and type(backfill) is not bool)
    ):
        return None
    ticket_id = ticket.get("id")
    time = _fast_instant(time_text)
    received_at = None if received is None else _fast_instant(received)
    if (
        type(ticket_id) is not str
        or not ticket_id
        or time is None
        or (received_at is None and received is not None)
    ):
        return None
    explicit: _Object | None = None
    comment: CommentInfo | None = None
    if event_type is not _DELETED:
        explicit = ticket.get("attributes")
        if explicit is not None and type(explicit) is not dict:
            return None
        if event_type is _COMMENTED:
            found = obj.get("comment")
            if type(found) is not dict:
                return None
            role, public = found.get("author_role"), found.get("public")
            if type(role) is not str or role not in _ROLES or type(public) is not bool:
                return None
            comment = CommentInfo(author_role=role, public=public)
    return _ticket_event(
        event_type, event_id, time, ticket_id, ticket, explicit, comment,
        source, received_at, backfill or False,
    )  # fmt: skip


def _ticket_event(
    event_type: EventType,
    event_id: str,
    time: int,
    ticket_id: str,
    ticket: _Object,
    explicit: _Object | None,
    comment: CommentInfo | None,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> TicketEvent:
    """The event of a validated ``ticket`` object (see :class:`TicketEvent`)."""
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    if event_type is not _DELETED:
        for key, value in ticket.items():
            if key in TICKET_FIELDS:
                fields[key] = value
            elif key != "id" and key != "attributes":
                attributes[key] = value
        if explicit:
            attributes.update(explicit)
    return new_ticket_event(
        event_id, event_type, time, ticket_id, fields, attributes, comment,
        source, received_at, backfill,
    )  # fmt: skip


def _parse_object(obj: _Object) -> InputEvent:
    event_id = _required(obj, "id", "id", str)
    if not event_id:
        _bad_value("id", "must not be empty")
    type_name = _required(obj, "type", "type", str)
    event_type = _TYPES.get(type_name)
    if event_type is None:
        raise _Invalid(
            RejectReason.UNKNOWN_TYPE,
            f"type: unknown event type {_show_str(type_name)}",
            "type",
        )
    time = _time(_required(obj, "time", "time", str), "time")
    source = _optional(obj, "source", "source", str)
    received = _optional(obj, "received_at", "received_at", str)
    received_at = None if received is None else _time(received, "received_at")
    backfill = _optional(obj, "backfill", "backfill", bool) or False
    return _BUILDERS[event_type](obj, event_type, event_id, time, source, received_at, backfill)


def _ticket(
    obj: _Object,
    event_type: EventType,
    event_id: str,
    time: int,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> TicketEvent:
    ticket = _required(obj, "ticket", "ticket", dict)
    ticket_id = _required(ticket, "id", "ticket.id", str)
    if not ticket_id:
        _bad_value("ticket.id", "must not be empty")
    explicit: _Object | None = None
    comment: CommentInfo | None = None
    if event_type is not _DELETED:
        explicit = _optional(ticket, "attributes", "ticket.attributes", dict)
        if event_type is _COMMENTED:
            comment = _comment(obj)
    return _ticket_event(
        event_type, event_id, time, ticket_id, ticket, explicit, comment,
        source, received_at, backfill,
    )  # fmt: skip


def _comment(obj: _Object) -> CommentInfo:
    comment = _required(obj, "comment", "comment", dict)
    role = _required(comment, "author_role", "comment.author_role", str)
    if role not in _ROLES:
        _bad_value(
            "comment.author_role", f"{_show_str(role)} is not one of {', '.join(AUTHOR_ROLES)}"
        )
    public = _required(comment, "public", "comment.public", bool)
    return CommentInfo(author_role=role, public=public)


def _uptime(
    obj: _Object,
    event_type: EventType,
    event_id: str,
    time: int,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> UptimeStatus:
    service = _service(obj)
    status = _required(obj, "status", "status", str)
    if status not in _STATUSES:
        _bad_value("status", f"{_show_str(status)} is not one of {', '.join(UPTIME_STATUSES)}")
    return UptimeStatus(
        id=event_id,
        time=time,
        service=service,
        status=status,
        check=_optional(obj, "check", "check", str),
        source=source,
        received_at=received_at,
        backfill=backfill,
    )


def _maintenance(
    obj: _Object,
    event_type: EventType,
    event_id: str,
    time: int,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> MaintenanceWindow:
    service = _service(obj)
    start = _time(_required(obj, "start", "start", str), "start")
    end = _time(_required(obj, "end", "end", str), "end")
    if start >= end:
        _bad_value(
            "end",
            f"must be later than start ({_show_str(obj['start'])} to {_show_str(obj['end'])})",
        )
    window_id = _optional(obj, "window_id", "window_id", str)
    if window_id is None:
        window_id = event_id
    elif not window_id:
        _bad_value("window_id", "must not be empty")
    return MaintenanceWindow(
        id=event_id,
        time=time,
        service=service,
        window_id=window_id,
        start=start,
        end=end,
        cancelled=_optional(obj, "cancelled", "cancelled", bool) or False,
        source=source,
        received_at=received_at,
        backfill=backfill,
    )


def _acknowledgement(
    obj: _Object,
    event_type: EventType,
    event_id: str,
    time: int,
    source: str | None,
    received_at: int | None,
    backfill: bool,
) -> Acknowledgement:
    subject = _required(obj, "subject", "subject", str)
    if not any(subject.startswith(p) and len(subject) > len(p) for p in _SUBJECT_PREFIXES):
        _bad_value("subject", f"expected 'ticket:ID' or 'service:ID', got {_show_str(subject)}")
    by = _required(obj, "by", "by", str)
    if not by:
        _bad_value("by", "must not be empty: who acknowledged")
    cycle = obj.get("cycle")
    if type(cycle) is float and cycle.is_integer():
        cycle = int(cycle)  # 1.0, as some JSON writers put an integer
    if cycle is not None and type(cycle) is not int:
        raise _wrong_type(cycle, "cycle", int)
    if cycle is not None and cycle < 1:
        _bad_value("cycle", f"must be 1 or more, got {cycle}")
    return Acknowledgement(
        id=event_id,
        time=time,
        subject=subject,
        by=by,
        sla=_optional(obj, "sla", "sla", str),
        target=_optional(obj, "target", "target", str),
        cycle=cycle,
        note=_optional(obj, "note", "note", str),
        source=source,
        received_at=received_at,
        backfill=backfill,
    )


_Builder: TypeAlias = Callable[
    [_Object, EventType, str, int, str | None, int | None, bool], InputEvent
]

_BUILDERS: Final[dict[EventType, _Builder]] = {
    EventType.TICKET_CREATED: _ticket,
    EventType.TICKET_UPDATED: _ticket,
    EventType.TICKET_COMMENTED: _ticket,
    EventType.TICKET_DELETED: _ticket,
    EventType.UPTIME_STATUS: _uptime,
    EventType.MAINTENANCE_WINDOW: _maintenance,
    EventType.ESCALATION_ACKNOWLEDGED: _acknowledgement,
}


def _service(obj: _Object) -> str:
    service = _required(obj, "service", "service", str)
    if not service:
        _bad_value("service", "must not be empty")
    return service


def _required(obj: _Object, key: str, path: str, kind: type[_T]) -> _T:
    value = obj.get(key)
    if type(value) is kind:
        return value
    if value is None:
        suffix = " (it is null)" if key in obj else ""
        raise _Invalid(RejectReason.MISSING_FIELD, f"missing required field {path}{suffix}", path)
    raise _wrong_type(value, path, kind)


def _optional(obj: _Object, key: str, path: str, kind: type[_T]) -> _T | None:
    value = obj.get(key)
    if value is None or type(value) is kind:
        return value
    raise _wrong_type(value, path, kind)


def _fast_instant(text: str) -> int | None:
    """:func:`_fast_time`, when the instant is also in the accepted range.

    Each text's instant is remembered: an event's ``time`` and ``received_at`` mostly
    repeat those of the events just before it.
    """
    instant = _instants.get(text)
    if instant is not None:
        return instant
    instant = _fast_time(text)
    if instant is None or not _MIN_INSTANT <= instant <= _MAX_INSTANT:
        return None
    _remember(_instants, text, instant)
    return instant


def _time(text: str, path: str) -> int:
    instant = _fast_time(text)
    if instant is None:
        instant = _reference_time(text, path)
    if not _MIN_INSTANT <= instant <= _MAX_INSTANT:
        raise _Invalid(
            RejectReason.BAD_TIME,
            f"{path}: {_show_str(text)} is outside years 0001 to 9999 in UTC",
            path,
        )
    return instant


def _reference_time(text: str, path: str) -> int:
    # timeutil's pattern uses ``\d`` and ``$``, which also accept non-ASCII digits and a
    # trailing newline; neither is RFC 3339.
    if not text.isascii() or text.endswith("\n"):
        raise _Invalid(
            RejectReason.BAD_TIME,
            f"{path}: not an RFC 3339 time with an offset: {_show_str(text)}",
            path,
        )
    try:
        return parse_time(text)
    except TimeFormatError as exc:
        raise _Invalid(RejectReason.BAD_TIME, f"{path}: {exc}", path) from None


_COMMON_TIME: Final = re.compile(
    r"((\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d))(?:\.(\d{1,9}))?"
    r"(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))",
    re.ASCII,
)
_CACHE_LIMIT: Final = 4096
_day_start: dict[str, int] = {}
_instants: dict[str, int] = {}
_second_start: dict[str, int] = {}


def _fast_time(text: str) -> int | None:
    """The instant of a time in the usual shape, equal to ``parse_time``'s; else ``None``.

    Each calendar date is parsed once by ``parse_time`` and remembered, and so is each
    whole second's instant (events come in bursts). A time in UTC (``Z``) whose whole
    second is remembered skips the pattern: it costs a look-up and the fraction's
    conversion.
    """
    instant = _second_start.get(text[:19])
    if instant is not None:
        size = len(text)
        if size == 20 and text[19] == "Z":
            return instant
        if 21 < size < 31 and text[19] == "." and text[-1] == "Z":
            fraction = text[20:-1]
            if fraction.isascii() and fraction.isdigit():
                return instant + int(fraction[:6].ljust(6, "0"))
    m = _COMMON_TIME.fullmatch(text)
    if m is None:
        return None
    whole, fraction, sign = m.group(1, 6, 7)
    instant = _second_start.get(whole)
    if instant is None:
        date, hour, minute, second = m.group(2, 3, 4, 5)
        day = _day_start.get(date)
        if day is None:
            try:
                day = parse_time(date + "T00:00:00Z")
            except TimeFormatError:
                return None
            _remember(_day_start, date, day)
        instant = day + ((int(hour) * 60 + int(minute)) * 60 + int(second)) * SECOND
        _remember(_second_start, whole, instant)
    if fraction:
        instant += int(fraction[:6].ljust(6, "0"))
    if sign:
        offset = (int(m[8]) * 60 + int(m[9])) * MINUTE
        instant = instant - offset if sign == "+" else instant + offset
    return instant


def _remember(cache: dict[str, int], text: str, instant: int) -> None:
    remember(cache, text, instant, _CACHE_LIMIT)


def _bad_value(path: str, problem: str) -> NoReturn:
    raise _Invalid(RejectReason.BAD_VALUE, f"{path}: {problem}", path)


_EXPECTED: Final[dict[type, str]] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    dict: "an object",
}


def _wrong_type(value: object, path: str, kind: type) -> _Invalid:
    got = _kind(value)
    if isinstance(value, str):
        got += f" ({_show_str(value)})"
    elif isinstance(value, bool | int | float):
        got += f" ({orjson.dumps(value).decode()})"
    return _Invalid(RejectReason.WRONG_TYPE, f"{path}: expected {_EXPECTED[kind]}, got {got}", path)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        name = "boolean"
    elif isinstance(value, int | float):
        name = "number"
    elif isinstance(value, str):
        name = "string"
    elif isinstance(value, list):
        name = "array"
    elif isinstance(value, dict):
        name = "object"
    else:
        name = type(value).__name__
    return ("an " if name[0] in "aeiou" else "a ") + name


def _show_str(text: str) -> str:
    if len(text) > _SHOW_LIMIT:
        return repr(text[:_SHOW_LIMIT]) + f"... ({len(text)} characters)"
    return repr(text)


def _too_large(size: int, max_bytes: int, *, exact: bool) -> Rejection:
    amount = f"{size} bytes" if exact else f"at least {size} bytes"
    return Rejection(
        RejectReason.TOO_LARGE,
        f"event is {amount}, more than the maximum event size of {max_bytes} bytes",
    )


def _not_json(raw: bytes | str, exc: orjson.JSONDecodeError) -> Rejection:
    if not isinstance(raw, str):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Rejection(
                RejectReason.NOT_JSON,
                f"not valid UTF-8: {bad.reason} at byte {bad.start}",
            )
    if not raw.strip():
        return Rejection(RejectReason.NOT_JSON, "not JSON: the event is empty")
    return Rejection(RejectReason.NOT_JSON, f"not JSON: {exc}")
