from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from slawatch.events import parse_event
from slawatch.settings import Settings
from slawatch.timeutil import SECOND, parse_time
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.pipeline import (
    RECORD_OVERHEAD_BYTES,
    IngestReason,
    Origin,
    Result,
    Routed,
    dead_letter,
    ingest_one,
)
from tests.ingest.samples import BAD_INPUTS, NOW, ack, raw, ticket_created, uptime

SETTINGS = Settings(topic_prefix="t.")
T_NOW = parse_time(NOW)


def route(
    data: bytes,
    *,
    key: bytes | None = b"T-1",
    settings: Settings = SETTINGS,
    dedup: DuplicateFilter | None = None,
    now: int = T_NOW,
    offset: int = 41,
) -> Routed:
    return ingest_one(
        data,
        Origin("t.tickets", 2, offset, key),
        now=now,
        settings=settings,
        dedup=dedup if dedup is not None else DuplicateFilter(600 * SECOND, 100),
    )


def letter(routed: Routed) -> dict[str, Any]:
    assert routed.message is not None
    assert routed.message.topic == "t.deadletter"
    doc: dict[str, Any] = orjson.loads(routed.message.value)
    return doc


def test_ticket_event_becomes_canonical_keyed_by_subject() -> None:
    routed = route(raw(ticket_created()))
    assert routed.result is Result.ACCEPTED
    assert routed.message is not None
    assert routed.message.topic == "t.canonical"
    assert routed.message.key == b"ticket:T-1"
    event = parse_event(routed.message.value)
    assert not hasattr(event, "reason")
    assert event.id == "e-1"  # type: ignore[union-attr]
    assert routed.event_id == "e-1"
    assert routed.dedup_key == ("ticket:T-1", "jira", "e-1")


def test_uptime_event_is_keyed_by_service() -> None:
    routed = route(raw(uptime(service="db")), key=b"db")
    assert routed.message is not None
    assert routed.message.key == b"service:db"
    assert routed.message.topic == "t.canonical"


def test_acknowledgements_go_to_the_acks_topic() -> None:
    routed = route(raw(ack(subject="service:api")))
    assert routed.result is Result.ACCEPTED
    assert routed.message is not None
    assert routed.message.topic == "t.acks"
    assert routed.message.key == b"service:api"


def test_received_at_is_stamped_when_absent() -> None:
    routed = route(raw(ticket_created()))
    assert routed.message is not None
    assert orjson.loads(routed.message.value)["received_at"] == NOW


def test_received_at_is_kept_when_present() -> None:
    routed = route(raw(ticket_created(received_at="2026-03-02T11:00:00+01:00")))
    assert routed.message is not None
    assert orjson.loads(routed.message.value)["received_at"] == "2026-03-02T10:00:00Z"


def test_canonical_value_is_the_canonical_encoding() -> None:
    doc = ticket_created()
    doc["ticket"]["region"] = "eu"
    doc["unknown_extra"] = {"ignored": True}
    routed = route(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    assert routed.message is not None
    value = orjson.loads(routed.message.value)
    assert list(value) == sorted(value)
    assert "unknown_extra" not in value
    assert value["ticket"]["region"] == "eu"


def test_a_record_without_a_key_is_accepted() -> None:
    routed = route(raw(ticket_created()), key=None)
    assert routed.result is Result.ACCEPTED
    assert routed.message is not None
    assert routed.message.key == b"ticket:T-1"


def test_a_key_other_than_the_subject_is_not_a_problem() -> None:
    routed = route(raw(ticket_created(ticket="T-9")), key=b"something-else")
    assert routed.message is not None
    assert routed.message.key == b"ticket:T-9"


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_becomes_a_dead_letter(kind: str) -> None:
    data, reason, field = BAD_INPUTS[kind]
    routed = route(data, key=b"T-1")
    assert routed.result is Result.REJECTED
    assert routed.reason == reason
    assert routed.field == field
    assert routed.error
    assert routed.dedup_key is None
    assert routed.message is not None
    assert routed.message.key == b"T-1"
    doc = letter(routed)
    assert doc["reason"] == reason
    assert doc["field"] == field
    assert doc["error"] == routed.error
    assert (doc["topic"], doc["partition"], doc["offset"]) == ("t.tickets", 2, 41)
    assert doc["received_at"] == NOW
    assert doc["raw_size"] == len(data)
    assert doc["raw_truncated"] is False
    if doc["raw_encoding"] == "utf-8":
        assert doc["raw"].encode() == data
    else:
        assert base64.b64decode(doc["raw"]) == data


def test_dead_letter_of_a_record_without_a_key_has_no_key() -> None:
    routed = route(b"{oops", key=None)
    assert routed.message is not None
    assert routed.message.key is None


def test_not_utf8_raw_is_base64() -> None:
    doc = letter(route(b"\xff\xfe{}"))
    assert doc["raw_encoding"] == "base64"
    assert base64.b64decode(doc["raw"]) == b"\xff\xfe{}"


def test_rejection_reports_the_id_when_it_can_be_read() -> None:
    routed = route(raw({**ticket_created("e-77"), "time": "soon"}))
    assert routed.event_id == "e-77"
    assert route(b"{nope").event_id is None


def test_future_time_is_rejected() -> None:
    settings = Settings(topic_prefix="t.", max_future=60 * SECOND)
    ahead = raw({**ticket_created("f-1"), "time": "2026-03-02T12:01:01Z"})
    routed = route(ahead, settings=settings)
    assert routed.result is Result.REJECTED
    assert routed.reason == "future_time"
    assert routed.field == "time"
    assert "ahead" in (routed.error or "")
    assert letter(routed)["reason"] == "future_time"
    within = raw({**ticket_created("f-2"), "time": "2026-03-02T12:01:00Z"})
    assert route(within, settings=settings).result is Result.ACCEPTED


def test_too_large_record_is_dead_lettered_truncated() -> None:
    settings = Settings(topic_prefix="t.", deadletter_raw_max_bytes=1000)
    data = b'{"id": "' + b"x" * 10_000_000 + b'"}'
    routed = route(data, settings=settings)
    assert routed.reason == "too_large"
    doc = letter(routed)
    assert doc["raw_size"] == len(data)
    assert doc["raw_truncated"] is True
    assert doc["raw"].encode() == data[:1000]
    assert routed.message is not None
    assert len(routed.message.value) < 2000


def test_default_settings_quote_every_event_within_max_event_bytes_whole() -> None:
    data = raw({**ticket_created("big"), "pad": "é" * 500_000, "time": "bad"})
    assert len(data) <= SETTINGS.max_event_bytes
    doc = letter(route(data))
    assert doc["raw_truncated"] is False
    assert doc["raw"].encode() == data


def test_truncation_ends_on_a_character_boundary() -> None:
    settings = Settings(topic_prefix="t.", deadletter_raw_max_bytes=4, max_event_bytes=5)
    data = "aé€😀b".encode()
    doc = letter(route(data, settings=settings))
    assert doc["raw_encoding"] == "utf-8"
    assert doc["raw"] == "aé"
    assert doc["raw_truncated"] is True


def test_dead_letter_always_fits_in_a_record() -> None:
    settings = Settings(topic_prefix="t.", max_record_bytes=100_000)
    data = b"\x01" * 90_000  # each byte is escaped to six characters in JSON
    message = dead_letter(
        data,
        Origin("t.tickets", 0, 0, b"k"),
        now=T_NOW,
        reason=IngestReason.INTERNAL_ERROR,
        error="boom",
        field=None,
        settings=settings,
    )
    assert len(message.value) <= 100_000 - RECORD_OVERHEAD_BYTES
    doc = orjson.loads(message.value)
    assert doc["raw_truncated"] is True
    assert doc["raw"] == "\x01" * len(doc["raw"])
    assert doc["raw_size"] == 90_000


def test_duplicates_within_the_horizon_are_dropped() -> None:
    dedup = DuplicateFilter(600 * SECOND, 100)
    first = route(raw(ticket_created()), dedup=dedup)
    again = route(raw(ticket_created()), dedup=dedup, now=T_NOW + 599 * SECOND)
    later = route(raw(ticket_created()), dedup=dedup, now=T_NOW + 600 * SECOND)
    assert first.result is Result.ACCEPTED
    assert again.result is Result.DUPLICATE
    assert again.message is None
    assert again.event_id == "e-1"
    assert later.result is Result.ACCEPTED


def test_same_id_from_another_source_or_subject_is_not_a_duplicate() -> None:
    dedup = DuplicateFilter(600 * SECOND, 100)
    assert route(raw(ticket_created()), dedup=dedup).result is Result.ACCEPTED
    other_source = ticket_created(source="zendesk")
    assert route(raw(other_source), dedup=dedup).result is Result.ACCEPTED
    other_ticket = ticket_created(ticket="T-2")
    assert route(raw(other_ticket), dedup=dedup).result is Result.ACCEPTED


def test_rejected_events_are_not_remembered_as_seen() -> None:
    dedup = DuplicateFilter(600 * SECOND, 100)
    settings = Settings(topic_prefix="t.", max_future=0)
    future = raw({**ticket_created(), "time": "2026-03-02T12:00:01Z"})
    assert route(future, dedup=dedup, settings=settings).result is Result.REJECTED
    assert len(dedup) == 0


def test_an_internal_error_is_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> None:
    import slawatch_ingest.pipeline as pipeline

    def broken(event: object) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr(pipeline, "encode_event", broken)
    routed = route(raw(ticket_created()))
    assert routed.result is Result.REJECTED
    assert routed.reason is IngestReason.INTERNAL_ERROR
    doc = letter(routed)
    assert doc["reason"] == "internal_error"
    assert "bug" in doc["error"]
    assert doc["raw"].encode() == raw(ticket_created())


def test_canonical_larger_than_a_record_is_rejected() -> None:
    settings = Settings(topic_prefix="t.", max_record_bytes=70_000, max_event_bytes=200_000)
    doc = ticket_created()
    doc["ticket"]["attributes"] = {"pad": "x" * 80_000}
    routed = route(raw(doc), settings=settings)
    assert routed.reason == "too_large"
    assert routed.message is not None
    assert routed.message.topic == "t.deadletter"
