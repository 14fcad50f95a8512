"""encode_event, raw_for_report and preview."""

from __future__ import annotations

import base64

import orjson
import pytest

from slawatch.events import (
    Acknowledgement,
    CommentInfo,
    EventType,
    MaintenanceWindow,
    Rejection,
    TicketEvent,
    UptimeStatus,
    encode_event,
    parse_event,
    preview,
    raw_for_report,
)
from slawatch.timeutil import parse_time

T0 = parse_time("2026-03-02T09:00:00Z")


def test_encode_ticket_event() -> None:
    event = TicketEvent(
        id="e-3",
        type=EventType.TICKET_COMMENTED,
        time=T0 + 1,
        ticket_id="T-1",
        fields={"status": "open", "assignee": None},
        attributes={"channel": "phone"},
        comment=CommentInfo(author_role="agent", public=True),
        source="jira",
        received_at=T0,
        backfill=True,
    )
    assert encode_event(event) == (
        b'{"backfill":true,"comment":{"author_role":"agent","public":true},"id":"e-3",'
        b'"received_at":"2026-03-02T09:00:00Z","source":"jira",'
        b'"ticket":{"assignee":null,"attributes":{"channel":"phone"},"id":"T-1","status":"open"},'
        b'"time":"2026-03-02T09:00:00.000001Z","type":"ticket.commented"}'
    )
    assert parse_event(encode_event(event)) == event


def test_encode_omits_absent_optional_fields() -> None:
    event = UptimeStatus(id="u-1", time=T0, service="api", status="up")
    assert orjson.loads(encode_event(event)) == {
        "id": "u-1",
        "type": "uptime.status",
        "time": "2026-03-02T09:00:00Z",
        "service": "api",
        "status": "up",
    }


def test_encode_maintenance_and_acknowledgement() -> None:
    window = MaintenanceWindow(
        id="m-1", time=T0, service="api", window_id="mw-7", start=T0, end=T0 + 1, cancelled=True
    )
    assert orjson.loads(encode_event(window)) == {
        "id": "m-1",
        "type": "maintenance.window",
        "time": "2026-03-02T09:00:00Z",
        "service": "api",
        "window_id": "mw-7",
        "start": "2026-03-02T09:00:00Z",
        "end": "2026-03-02T09:00:00.000001Z",
        "cancelled": True,
    }
    ack = Acknowledgement(id="a-1", time=T0, subject="service:api", by="bob", cycle=2)
    assert orjson.loads(encode_event(ack)) == {
        "id": "a-1",
        "type": "escalation.acknowledged",
        "time": "2026-03-02T09:00:00Z",
        "subject": "service:api",
        "by": "bob",
        "cycle": 2,
    }
    for event in (window, ack):
        assert parse_event(encode_event(event)) == event


def test_encode_deleted_writes_only_the_ticket_id() -> None:
    event = TicketEvent(
        id="e-4", type=EventType.TICKET_DELETED, time=T0, ticket_id="T-1", fields={}, attributes={}
    )
    assert orjson.loads(encode_event(event))["ticket"] == {"id": "T-1"}


def test_encoding_is_canonical() -> None:
    def make(fields: dict[str, object]) -> TicketEvent:
        return TicketEvent(
            id="e",
            type=EventType.TICKET_UPDATED,
            time=T0,
            ticket_id="T",
            fields=fields,
            attributes={},
        )

    assert encode_event(make({"status": "a", "region": "b"})) == encode_event(
        make({"region": "b", "status": "a"})
    )


def test_offsets_are_written_in_utc() -> None:
    raw = (
        b'{"id":"u","type":"uptime.status","time":"2026-03-02T10:00:00.5+01:00",'
        b'"service":"s","status":"up"}'
    )
    event = parse_event(raw)
    assert not isinstance(event, Rejection)
    assert orjson.loads(encode_event(event))["time"] == "2026-03-02T09:00:00.500000Z"


def test_years_before_1000_are_written_with_four_digits() -> None:
    event = UptimeStatus(id="u", time=parse_time("0999-12-31T23:59:59Z"), service="s", status="up")
    assert orjson.loads(encode_event(event))["time"] == "0999-12-31T23:59:59Z"
    assert parse_event(encode_event(event)) == event
    first = UptimeStatus(id="u", time=parse_time("0001-01-01T00:00:00Z"), service="s", status="up")
    assert orjson.loads(encode_event(first))["time"] == "0001-01-01T00:00:00Z"


def test_encode_commented_without_comment_raises() -> None:
    event = TicketEvent(
        id="e", type=EventType.TICKET_COMMENTED, time=T0, ticket_id="T", fields={}, attributes={}
    )
    with pytest.raises(ValueError, match="no comment"):
        encode_event(event)


def test_raw_for_report_keeps_utf8_text() -> None:
    assert raw_for_report('{"id": "é"}'.encode()) == '{"id": "é"}'
    assert raw_for_report("already text") == "already text"


def test_raw_for_report_base64_for_non_utf8() -> None:
    raw = b'{"id": "\xff"}'
    assert base64.b64decode(raw_for_report(raw)) == raw


def test_raw_for_report_does_not_truncate() -> None:
    raw = b"x" * (10 * 1024 * 1024)
    assert len(raw_for_report(raw)) == len(raw)
    bad = b"\xff" * (3 * 1024 * 1024)
    assert base64.b64decode(raw_for_report(bad)) == bad


def test_preview_short_payload_is_whole() -> None:
    assert preview(b'{"id": "e-1"}') == '{"id": "e-1"}'


def test_preview_cuts_long_payloads() -> None:
    raw = b"a" * 1000
    assert preview(raw) == "a" * 200 + "... (1000 bytes)"
    assert preview(raw, limit=10) == "a" * 10 + "... (1000 bytes)"
    assert preview("é" * 300, limit=5) == "ééééé... (300 characters)"
    assert preview("é" * 300, limit=300) == "é" * 300


def test_preview_is_one_line_and_shows_bad_bytes() -> None:
    text = preview(b'{"a":\n"\xff\tb"}\r\n\x00')
    assert text == '{"a":\\n"\\xff\\tb"}\\r\\n\\x00'
    assert "\n" not in text


def test_preview_of_multibyte_text_near_the_limit() -> None:
    raw = "é".encode() * 1000
    assert preview(raw, limit=3) == "ééé... (2000 bytes)"
