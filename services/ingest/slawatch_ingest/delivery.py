"""Publishing what ingest decided, with a record the bus will never take dead-lettered.

:func:`deliver` publishes the messages of a batch of decisions in one call. When the
bus refuses that call for a record it will not take however often it is retried
(:class:`~slawatch.bus.RecordRefused`: larger than its topic accepts, say a topic
created before slawatch with Kafka's 1 MiB default), the messages the bus did not
acknowledge are published again one at a time and each refused one becomes a dead
letter, reason ``too_large``, naming the topic, so the stream goes on. A dead letter
refused in turn goes again without its quote of the raw bytes (the record stays in its
raw topic). Any other
:class:`~slawatch.bus.PublishError` propagates: the caller retries the batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from slawatch.bus import Message, Publisher, RecordRefused
from slawatch.events import Rejection, RejectReason
from slawatch.observability import get_logger
from slawatch.settings import Settings
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.pipeline import Origin, Result, Routed, dead_letter, rejected

__all__ = ["Decided", "deliver"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Decided:
    """A raw record, where it came from, and what :func:`ingest_one` made of it."""

    raw: bytes
    origin: Origin
    routed: Routed


async def deliver(
    publisher: Publisher,
    decided: Sequence[Decided],
    *,
    now: int,
    settings: Settings,
    dedup: DuplicateFilter,
) -> list[Routed]:
    """Publish every decision's message; return the decisions as delivered.

    A refused record's decision is replaced by its dead letter's, and its event is
    forgotten by ``dedup`` so that the same event sent again is not a duplicate.
    """
    messages = [d.routed.message for d in decided if d.routed.message is not None]
    try:
        await publisher.publish(messages)
    except RecordRefused as exc:
        _log.warning("the bus refused a record; retrying its batch one at a time", error=str(exc))
        again = {id(m) for m in exc.candidates}
    else:
        return [d.routed for d in decided]
    return [
        await _deliver_one(publisher, d, now, settings, dedup)
        if id(d.routed.message) in again
        else d.routed
        for d in decided
    ]


async def _deliver_one(
    publisher: Publisher, decided: Decided, now: int, settings: Settings, dedup: DuplicateFilter
) -> Routed:
    routed = decided.routed
    message = routed.message
    if message is None:
        return routed
    try:
        await publisher.publish([message])
    except RecordRefused as exc:
        refusal = exc
    else:
        return routed
    _log.error(
        "a topic refused a record; dead-lettered",
        topic=message.topic,
        size=len(message.value),
        source_topic=decided.origin.topic,
        partition=decided.origin.partition,
        offset=decided.origin.offset,
        request_id=decided.origin.request_id,
        error=str(refusal),
    )
    if routed.result is not Result.REJECTED:
        if routed.dedup_key is not None:
            dedup.forget(routed.dedup_key)
        error = (
            f"topic {message.topic} refused the {len(message.value)}-byte record of this "
            f"event ({refusal}); raise the topic's max.message.bytes"
        )
        routed = rejected(
            decided.raw,
            Rejection(RejectReason.TOO_LARGE, error),
            routed.event_id,
            decided.origin,
            now,
            settings,
        )
        try:
            await publisher.publish([_message(routed)])
        except RecordRefused:
            pass
        else:
            return routed
    assert routed.reason is not None and routed.error is not None
    letter = dead_letter(
        decided.raw,
        decided.origin,
        now=now,
        reason=routed.reason,
        error=routed.error,
        field=routed.field,
        settings=settings.model_copy(update={"deadletter_raw_max_bytes": 0}),
    )
    await publisher.publish([letter])
    return dataclasses.replace(routed, message=letter)


def _message(routed: Routed) -> Message:
    assert routed.message is not None
    return routed.message
