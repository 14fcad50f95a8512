"""The ingest decision for one raw record: canonical message, duplicate, or dead letter.

:func:`ingest_one` is pure apart from the duplicate filter it is given: no I/O, no
clock (``now`` is an argument, integer microseconds UTC). For the bytes of one raw
record and its :class:`Origin` it returns a :class:`Routed`:

- ``accepted``: the event is valid. ``message`` is the canonical record: value
  :func:`~slawatch.events.encode_event` of the event, with ``received_at`` set to
  ``now`` when the event has none; key the event's subject (``ticket:ID`` /
  ``service:NAME``, UTF-8); topic ``acks`` for ``escalation.acknowledged`` and
  ``canonical`` for every other type (``Settings.topic``).
- ``duplicate``: valid, but its ``(subject, source, id)`` passed within the dedup
  horizon (:mod:`~slawatch_ingest.dedup`); ``message`` is ``None``: it is dropped.
- ``rejected``: ``message`` is the dead letter for the ``deadletter`` topic, keyed like
  the raw record (``events.md``, "Rejected input")::

      {"error": "<human message>", "field": "<dotted path>" | null,
       "reason": "<RejectReason or internal_error>",
       "raw": "<the raw bytes: UTF-8 text, else base64>", "raw_encoding": "utf-8" | "base64",
       "raw_size": <bytes of the raw record>, "raw_truncated": false | true,
       "topic": "<raw topic, or http>", "partition": <int>, "offset": <int>,
       "received_at": "<now, RFC 3339 UTC>"}

  plus ``"request_id"`` for an event of ``POST /v1/events`` (its ``X-Request-Id``).

  Rejected are: everything :func:`~slawatch.events.parse_event` rejects (not JSON, not
  an object, too large, missing or wrongly typed fields, unknown type, values outside
  their list, bad times); an event more than ``max_future`` ahead of ``now``
  (``future_time``); an event whose canonical record would exceed
  ``max_record_bytes`` (``too_large``); and, should the code have a bug, any exception
  while deciding (``internal_error``: the record is kept in the dead letter, the stream
  goes on).

A raw record without a key is not rejected for that: the subject comes from the body.

The dead letter quotes at most ``deadletter_raw_max_bytes`` of the raw bytes (cut at a
UTF-8 character boundary when the bytes are text), and less if the whole dead letter
would not fit in ``max_record_bytes``; ``raw_truncated`` and ``raw_size`` say so. With
the defaults every event within ``max_event_bytes`` is quoted whole, and only
``too_large`` records are cut (the original stays in its raw topic at the offset given).
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import orjson

from slawatch.bus import Message
from slawatch.events import (
    Acknowledgement,
    InputEvent,
    Rejection,
    RejectReason,
    encode_event,
    parse_event,
)
from slawatch.observability import get_logger
from slawatch.settings import Settings, Topics
from slawatch.timeutil import format_duration, format_time
from slawatch_ingest.dedup import DedupKey, DuplicateFilter

__all__ = [
    "HTTP_TOPIC",
    "RECORD_OVERHEAD_BYTES",
    "IngestReason",
    "Origin",
    "RawEncoding",
    "Result",
    "Routed",
    "dead_letter",
    "ingest_one",
    "rejected",
]

HTTP_TOPIC: Final = "http"
"""The ``topic`` of events that came through ``POST /v1/events``."""

RECORD_OVERHEAD_BYTES: Final = 512
"""Room left in ``max_record_bytes`` for the key and Kafka's record framing."""

_log = get_logger(__name__)


class Result(StrEnum):
    """What happened to a raw record; the ``result`` label of the events metric."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class IngestReason(StrEnum):
    """Dead-letter reasons of ingest's own, besides :class:`~slawatch.events.RejectReason`."""

    INTERNAL_ERROR = "internal_error"
    """A bug: deciding raised an exception."""


class RawEncoding(StrEnum):
    """How a dead letter's ``raw`` is written."""

    UTF8 = "utf-8"
    BASE64 = "base64"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a raw record came from: its topic (``http`` for ``POST /v1/events``),
    partition and offset (for the API: 0 and the event's index in the request), its key,
    and the id of the API request that carried it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Routed:
    """The decision for one raw record.

    ``message`` is the record to publish (canonical, or the dead letter), ``None`` for a
    duplicate. ``event_id`` is the event's ``id`` when it could be read. ``dedup_key``
    is set when the event was recorded in the duplicate filter (accepted), so a caller
    that fails to deliver ``message`` can :meth:`~DuplicateFilter.forget` it.
    """

    result: Result
    message: Message | None
    event_id: str | None = None
    reason: RejectReason | IngestReason | None = None
    error: str | None = None
    field: str | None = None
    dedup_key: DedupKey | None = None
    event: InputEvent | None = None


def ingest_one(
    raw: bytes, origin: Origin, *, now: int, settings: Settings, dedup: DuplicateFilter
) -> Routed:
    """Decide what becomes of one raw record (see the module docstring)."""
    try:
        return _route(raw, origin, now, settings, dedup)
    except Exception as exc:
        _log.exception(
            "ingest failed on a record; dead-lettering it",
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
        )
        error = f"internal error: {type(exc).__name__}: {exc}"
        reason = IngestReason.INTERNAL_ERROR
        return Routed(
            result=Result.REJECTED,
            message=dead_letter(
                raw, origin, now=now, reason=reason, error=error, field=None, settings=settings
            ),
            reason=reason,
            error=error,
        )


def _route(
    raw: bytes, origin: Origin, now: int, settings: Settings, dedup: DuplicateFilter
) -> Routed:
    parsed = parse_event(raw, max_bytes=settings.max_event_bytes)
    if isinstance(parsed, Rejection):
        return rejected(raw, parsed, None, origin, now, settings)
    event = parsed
    if event.time - now > settings.max_future:
        rejection = Rejection(
            RejectReason.FUTURE_TIME,
            f"time: {format_time(event.time)} is {format_duration(event.time - now)} ahead "
            f"of the wall clock ({format_time(now)}), more than max_future "
            f"{format_duration(settings.max_future)}",
            "time",
        )
        return rejected(raw, rejection, event.id, origin, now, settings)
    if event.received_at is None:
        event = dataclasses.replace(event, received_at=now)
    subject = event.subject
    value = encode_event(event)
    subject_key = subject.encode("utf-8")
    limit = settings.max_record_bytes - RECORD_OVERHEAD_BYTES
    if len(value) + len(subject_key) > limit:
        rejection = Rejection(
            RejectReason.TOO_LARGE,
            f"the canonical event is {len(value)} bytes, more than the largest record "
            f"of {limit} bytes",
        )
        return rejected(raw, rejection, event.id, origin, now, settings)
    dedup_key: DedupKey = (subject, event.source, event.id)
    if dedup.seen(dedup_key, now):
        return Routed(result=Result.DUPLICATE, message=None, event_id=event.id, event=event)
    out_topic = Topics.ACKS if isinstance(event, Acknowledgement) else Topics.CANONICAL
    return Routed(
        result=Result.ACCEPTED,
        message=Message(topic=settings.topic(out_topic), key=subject_key, value=value),
        event_id=event.id,
        dedup_key=dedup_key,
        event=event,
    )


def rejected(
    raw: bytes,
    rejection: Rejection,
    event_id: str | None,
    origin: Origin,
    now: int,
    settings: Settings,
) -> Routed:
    """The decision to dead-letter ``raw``, from ``origin``, for ``rejection``."""
    if event_id is None and rejection.reason not in _UNREADABLE:
        event_id = _id_of(raw)
    return Routed(
        result=Result.REJECTED,
        message=dead_letter(
            raw,
            origin,
            now=now,
            reason=rejection.reason,
            error=rejection.message,
            field=rejection.field,
            settings=settings,
        ),
        event_id=event_id,
        reason=rejection.reason,
        error=rejection.message,
        field=rejection.field,
    )


_UNREADABLE: Final = frozenset({RejectReason.NOT_JSON, RejectReason.TOO_LARGE})


def _id_of(raw: bytes) -> str | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        value = obj.get("id")
        if isinstance(value, str):
            return value
    return None


def dead_letter(
    raw: bytes,
    origin: Origin,
    *,
    now: int,
    reason: RejectReason | IngestReason,
    error: str,
    field: str | None,
    settings: Settings,
) -> Message:
    """The dead-letter record of a rejected raw record (see the module docstring)."""
    budget = settings.max_record_bytes - RECORD_OVERHEAD_BYTES
    key = origin.key
    if key is not None and len(key) > budget // 2:
        key = None
    budget -= len(key or b"")
    doc: dict[str, Any] = {
        "error": error,
        "field": field,
        "reason": reason.value,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "received_at": format_time(now),
        "raw_size": len(raw),
    }
    if origin.request_id is not None:
        doc["request_id"] = origin.request_id
    limit = min(len(raw), settings.deadletter_raw_max_bytes)
    while True:
        text, encoding, quoted = _quote(raw, limit)
        doc["raw"] = text
        doc["raw_encoding"] = encoding.value
        doc["raw_truncated"] = quoted < len(raw)
        value = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        if len(value) <= budget or limit == 0:
            break
        limit = min(limit - 1, limit * budget // len(value) * 9 // 10)
        limit = max(limit, 0)
    return Message(topic=settings.topic(Topics.DEADLETTER), key=key, value=value)


def _quote(raw: bytes, limit: int) -> tuple[str, RawEncoding, int]:
    """The first ``limit`` bytes (or fewer, to end on a character) as text or base64,
    and how many bytes of ``raw`` that is."""
    cut = raw if limit >= len(raw) else raw[:limit]
    try:
        return cut.decode("utf-8"), RawEncoding.UTF8, len(cut)
    except UnicodeDecodeError as exc:
        if (
            len(cut) < len(raw)
            and exc.start >= len(cut) - 3
            and exc.reason == "unexpected end of data"
        ):
            return cut[: exc.start].decode("utf-8"), RawEncoding.UTF8, exc.start
    return base64.b64encode(cut).decode("ascii"), RawEncoding.BASE64, len(cut)
