"""An event ingest accepts is applied by the evaluator, whatever its size within the limit."""

from __future__ import annotations

import orjson
import pytest

from slawatch.bus import Record
from slawatch.events import Acknowledgement, Rejection, parse_canonical
from slawatch.settings import Settings
from slawatch.store.common import Claim
from slawatch.timeutil import SECOND, parse_time
from slawatch_evaluator.partition import PartitionWorker
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.pipeline import Origin, Result, ingest_one
from tests.clock.test_time_and_order import FIRST_RESPONSE
from tests.support.replaying import versions

NOW = parse_time("2026-03-02T09:00:05Z")


def padded(doc: dict[str, object], size: int) -> bytes:
    """``doc`` with its ``ticket``'s ``description`` (an attribute the canonical record
    keeps) bringing its JSON text to exactly ``size`` bytes."""
    ticket: dict[str, object] = {**doc["ticket"], "description": ""}  # type: ignore[dict-item]
    bare = len(orjson.dumps({**doc, "ticket": ticket}))
    ticket["description"] = "x" * (size - bare)
    raw = orjson.dumps({**doc, "ticket": ticket})
    assert len(raw) == size
    return raw


def canonical_of(raw: bytes, settings: Settings) -> Record:
    routed = ingest_one(
        raw,
        Origin("slawatch.tickets", 0, 0),
        now=NOW,
        settings=settings,
        dedup=DuplicateFilter(600 * SECOND, 100),
    )
    assert routed.result is Result.ACCEPTED, routed.error
    assert routed.message is not None
    return Record(routed.message.topic, 0, 0, routed.message.key, routed.message.value)


@pytest.mark.parametrize("limit", [Settings().max_event_bytes, 3_000_000])
def test_an_event_of_the_largest_accepted_size_starts_its_clock(limit: int) -> None:
    settings = Settings(max_event_bytes=limit)
    created = {
        "id": "e-1",
        "type": "ticket.created",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1", "priority": "P2", "customer_tier": "gold"},
    }
    record = canonical_of(padded(created, limit), settings)
    assert len(record.value) > limit
    worker = PartitionWorker(
        Claim("slawatch.canonical", 0, 1, 0),
        versions((FIRST_RESPONSE, None)),
        lateness=0,
        retention=settings.retention,
    )
    batch = worker.process([record], NOW)
    assert batch.dead_letters == []
    assert [o.type.value for o in batch.outputs] == ["sla.clock.started"]


def test_an_acknowledgement_of_the_largest_accepted_size_reaches_the_notifier() -> None:
    settings = Settings()
    ack = {"id": "a-1", "type": "escalation.acknowledged", "time": "2026-03-02T09:00:00Z"}
    ack |= {"subject": "ticket:T-1", "by": "a" * 100, "note": "x" * 1000}
    bare = len(orjson.dumps(ack))
    ack["by"] = "a" * (100 + settings.max_event_bytes - bare)
    record = canonical_of(orjson.dumps(ack), settings)
    assert len(record.value) > settings.max_event_bytes
    event = parse_canonical(record.value)
    assert not isinstance(event, Rejection), event.message
    assert isinstance(event, Acknowledgement)
