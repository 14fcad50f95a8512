"""parse_event: the examples of events.md, every rejection kind, and the ticket merge rules."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from slawatch.events import (
    DEFAULT_MAX_EVENT_BYTES,
    Acknowledgement,
    CommentInfo,
    EventType,
    InputEvent,
    MaintenanceWindow,
    Rejection,
    RejectReason,
    TicketEvent,
    UptimeStatus,
    parse_event,
)
from slawatch.timeutil import parse_time

T0 = parse_time("2026-03-02T09:00:00Z")

BASE: dict[str, dict[str, Any]] = {
    "ticket.created": {
        "id": "e-1",
        "type": "ticket.created",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1", "status": "open"},
    },
    "ticket.updated": {
        "id": "e-2",
        "type": "ticket.updated",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1", "status": "waiting_on_customer"},
    },
    "ticket.commented": {
        "id": "e-3",
        "type": "ticket.commented",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1"},
        "comment": {"author_role": "agent", "public": True},
    },
    "ticket.deleted": {
        "id": "e-4",
        "type": "ticket.deleted",
        "time": "2026-03-02T09:00:00Z",
        "ticket": {"id": "T-1"},
    },
    "uptime.status": {
        "id": "u-1",
        "type": "uptime.status",
        "time": "2026-03-02T09:00:00Z",
        "service": "api",
        "status": "down",
    },
    "maintenance.window": {
        "id": "m-1",
        "type": "maintenance.window",
        "time": "2026-03-01T12:00:00Z",
        "service": "api",
        "start": "2026-03-08T02:00:00Z",
        "end": "2026-03-08T04:00:00Z",
    },
    "escalation.acknowledged": {
        "id": "a-1",
        "type": "escalation.acknowledged",
        "time": "2026-03-02T10:05:00Z",
        "subject": "ticket:T-1",
        "by": "person:duty-manager",
    },
}

TICKET_TYPES = ("ticket.created", "ticket.updated", "ticket.commented", "ticket.deleted")

REQUIRED: list[tuple[str, str]] = [
    *((t, f) for t in BASE for f in ("id", "type", "time")),
    *((t, f) for t in TICKET_TYPES for f in ("ticket", "ticket.id")),
    ("ticket.commented", "comment"),
    ("ticket.commented", "comment.author_role"),
    ("ticket.commented", "comment.public"),
    ("uptime.status", "service"),
    ("uptime.status", "status"),
    ("maintenance.window", "service"),
    ("maintenance.window", "start"),
    ("maintenance.window", "end"),
    ("escalation.acknowledged", "subject"),
    ("escalation.acknowledged", "by"),
]


def doc(event_type: str, **changes: Any) -> dict[str, Any]:
    """A copy of the base event of a type; ``a__b=v`` sets ``a.b``, ``...=DROP`` removes."""
    result = copy.deepcopy(BASE[event_type])
    for key, value in changes.items():
        set_path(result, key.replace("__", "."), value)
    return result


DROP = object()


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj[part]
    if value is DROP:
        del obj[last]
    else:
        obj[last] = value


def parsed(value: dict[str, Any] | bytes | str) -> InputEvent:
    raw = orjson.dumps(value) if isinstance(value, dict) else value
    result = parse_event(raw)
    assert not isinstance(result, Rejection), result
    return result


def rejected(value: dict[str, Any] | bytes | str, **kwargs: Any) -> Rejection:
    raw = orjson.dumps(value) if isinstance(value, dict) else value
    result = parse_event(raw, **kwargs)
    assert isinstance(result, Rejection), result
    return result


# The examples of events.md


def test_spec_ticket_created() -> None:
    event = parsed(
        b'{"id": "e-1", "type": "ticket.created", "time": "2026-03-02T09:00:00Z",'
        b' "ticket": {"id": "T-1", "status": "open", "priority": "P2", "customer": "acme",'
        b' "customer_tier": "gold", "service": "email", "region": "eu",'
        b' "assignee": null, "assignee_group": "l1", "attributes": {"channel": "phone"}}}'
    )
    assert event == TicketEvent(
        id="e-1",
        type=EventType.TICKET_CREATED,
        time=T0,
        ticket_id="T-1",
        fields={
            "status": "open",
            "priority": "P2",
            "customer": "acme",
            "customer_tier": "gold",
            "service": "email",
            "region": "eu",
            "assignee": None,
            "assignee_group": "l1",
        },
        attributes={"channel": "phone"},
    )
    assert event.subject == "ticket:T-1"


def test_spec_ticket_updated() -> None:
    event = parsed(BASE["ticket.updated"])
    assert isinstance(event, TicketEvent)
    assert event.type is EventType.TICKET_UPDATED
    assert event.fields == {"status": "waiting_on_customer"}
    assert event.attributes == {}
    assert event.comment is None


def test_spec_ticket_commented() -> None:
    event = parsed(BASE["ticket.commented"])
    assert isinstance(event, TicketEvent)
    assert event.comment == CommentInfo(author_role="agent", public=True)
    assert event.fields == {}


def test_spec_ticket_deleted_ignores_everything_but_the_id() -> None:
    event = parsed(
        doc(
            "ticket.deleted",
            ticket={"id": "T-1", "status": "closed", "foo": 1, "attributes": "not an object"},
        )
    )
    assert isinstance(event, TicketEvent)
    assert event.type is EventType.TICKET_DELETED
    assert (event.ticket_id, event.fields, event.attributes) == ("T-1", {}, {})


def test_spec_uptime_status() -> None:
    event = parsed(doc("uptime.status", check="blackbox-eu"))
    assert event == UptimeStatus(
        id="u-1", time=T0, service="api", status="down", check="blackbox-eu"
    )
    assert event.subject == "service:api"


def test_uptime_default_check_is_none() -> None:
    event = parsed(BASE["uptime.status"])
    assert isinstance(event, UptimeStatus)
    assert event.check is None


@pytest.mark.parametrize("status", ["up", "down", "degraded"])
def test_uptime_statuses(status: str) -> None:
    event = parsed(doc("uptime.status", status=status))
    assert isinstance(event, UptimeStatus)
    assert event.status == status


def test_spec_maintenance_window() -> None:
    event = parsed(doc("maintenance.window", window_id="mw-7"))
    assert event == MaintenanceWindow(
        id="m-1",
        time=parse_time("2026-03-01T12:00:00Z"),
        service="api",
        window_id="mw-7",
        start=parse_time("2026-03-08T02:00:00Z"),
        end=parse_time("2026-03-08T04:00:00Z"),
    )


def test_maintenance_window_defaults() -> None:
    event = parsed(BASE["maintenance.window"])
    assert isinstance(event, MaintenanceWindow)
    assert event.window_id == "m-1"
    assert event.cancelled is False
    cancelled = parsed(doc("maintenance.window", cancelled=True))
    assert isinstance(cancelled, MaintenanceWindow)
    assert cancelled.cancelled is True


def test_spec_acknowledgement() -> None:
    event = parsed(
        doc(
            "escalation.acknowledged",
            sla="gold-support",
            target="time_to_resolution",
            cycle=1,
            note="on it",
        )
    )
    assert event == Acknowledgement(
        id="a-1",
        time=parse_time("2026-03-02T10:05:00Z"),
        subject="ticket:T-1",
        by="person:duty-manager",
        sla="gold-support",
        target="time_to_resolution",
        cycle=1,
        note="on it",
    )


def test_acknowledgement_optional_fields_absent() -> None:
    event = parsed(doc("escalation.acknowledged", subject="service:api"))
    assert event == Acknowledgement(
        id="a-1",
        time=parse_time("2026-03-02T10:05:00Z"),
        subject="service:api",
        by="person:duty-manager",
    )


# Common optional fields


def test_source_received_at_and_backfill() -> None:
    event = parsed(
        doc(
            "ticket.updated",
            source="jira",
            received_at="2026-03-02T09:00:01.5+00:00",
            backfill=True,
        )
    )
    assert event.source == "jira"
    assert event.received_at == T0 + 1_500_000
    assert event.backfill is True


def test_optional_fields_default() -> None:
    event = parsed(BASE["ticket.updated"])
    assert (event.source, event.received_at, event.backfill) == (None, None, False)


@pytest.mark.parametrize(
    ("event_type", "key", "attribute", "default"),
    [
        ("ticket.updated", "source", "source", None),
        ("ticket.updated", "received_at", "received_at", None),
        ("ticket.updated", "backfill", "backfill", False),
        ("uptime.status", "check", "check", None),
        ("maintenance.window", "window_id", "window_id", "m-1"),
        ("maintenance.window", "cancelled", "cancelled", False),
        ("escalation.acknowledged", "sla", "sla", None),
        ("escalation.acknowledged", "target", "target", None),
        ("escalation.acknowledged", "cycle", "cycle", None),
        ("escalation.acknowledged", "note", "note", None),
    ],
)
def test_null_optional_field_is_absent(
    event_type: str, key: str, attribute: str, default: Any
) -> None:
    event = parsed(doc(event_type, **{key: None}))
    assert getattr(event, attribute) == default


def test_unknown_extra_fields_are_ignored() -> None:
    for event_type in BASE:
        extra = doc(event_type, zzz={"anything": [1, 2]}, priority=3)
        assert parsed(extra) == parsed(BASE[event_type])
    comment = doc("ticket.commented", comment__extra="x")
    assert parsed(comment) == parsed(BASE["ticket.commented"])


def test_str_input_is_accepted() -> None:
    assert parse_event(orjson.dumps(BASE["uptime.status"]).decode()) == parsed(
        BASE["uptime.status"]
    )


def test_surrounding_whitespace_and_newline_are_accepted() -> None:
    raw = b"  " + orjson.dumps(BASE["uptime.status"]) + b"\n"
    assert parse_event(raw) == parsed(BASE["uptime.status"])


# Times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00Z", T0),
        ("2026-03-02T10:00:00+01:00", T0),
        ("2026-03-02T03:30:00-05:30", T0),
        ("2026-03-02T09:00:00+00:00", T0),
        ("2026-03-02T09:00:00-00:00", T0),
        ("2026-03-02t09:00:00z", T0),
        ("2026-03-02T09:00:00.5Z", T0 + 500_000),
        ("2026-03-02T09:00:00.000001Z", T0 + 1),
        ("2026-03-02T09:00:00.123456789Z", T0 + 123_456),
        ("2026-03-02T09:00:00.999999999Z", T0 + 999_999),
        ("2026-03-02T10:00:00.123456789+01:00", T0 + 123_456),
        ("2026-03-02T00:30:00+23:59", parse_time("2026-03-01T00:31:00Z")),
        ("2024-02-29T09:00:00Z", parse_time("2024-02-29T09:00:00Z")),
        ("0001-01-01T00:00:00Z", parse_time("0001-01-01T00:00:00Z")),
        ("9999-12-31T23:59:59.999999Z", parse_time("9999-12-31T23:59:59.999999Z")),
    ],
)
def test_good_times(text: str, expected: int) -> None:
    assert parsed(doc("ticket.updated", time=text)).time == expected


def test_fractional_digits_below_the_microsecond_are_dropped_not_rounded() -> None:
    assert parsed(doc("ticket.updated", time="2026-03-02T09:00:00.0000019Z")).time == T0 + 1


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T09:00:00",
        "2026-03-02",
        "2026-13-01",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:60:00Z",
        "2026-03-02T09:00:61Z",
        "2026-03-02T09:00:00+24:00",
        "2026-03-02T09:00:00+01:60",
        "2026-03-02T09:00:00+0100",
        "2026-03-02T09:00:00.Z",
        "2026-03-02T09:00:00.1234567890Z",
        "2026-03-02T09:00Z",
        "2026-3-2T09:00:00Z",
        "2026-03-02T09:00:00Z\n",
        " 2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00 Z",
        "\u0662\u0660\u0662\u0666-03-02T09:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "yesterday",
        "",
    ],
)
def test_bad_times(text: str) -> None:
    rejection = rejected(doc("ticket.updated", time=text))
    assert rejection.reason is RejectReason.BAD_TIME
    assert rejection.field == "time"
    assert rejection.message.startswith("time: ")


@pytest.mark.parametrize("text", ["2016-12-31T23:59:60Z", "2017-01-01T05:29:60.5+05:30"])
def test_a_leap_second_is_the_last_microsecond_of_its_minute(text: str) -> None:
    event = parsed(doc("ticket.updated", time=text))
    assert event.time == parse_time("2016-12-31T23:59:59.999999Z")


def test_bad_time_message() -> None:
    rejection = rejected(doc("ticket.updated", time="2026-13-01"))
    assert rejection.message == "time: not an RFC 3339 time with an offset: '2026-13-01'"


@pytest.mark.parametrize(
    ("event_type", "path"),
    [
        ("ticket.updated", "received_at"),
        ("maintenance.window", "start"),
        ("maintenance.window", "end"),
    ],
)
def test_bad_time_in_other_fields(event_type: str, path: str) -> None:
    rejection = rejected(doc(event_type, **{path: "2026-03-08T02:00:00"}))
    assert (rejection.reason, rejection.field) == (RejectReason.BAD_TIME, path)


# Rejected input


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"",
        b"   \n",
        b'{"id": "e-1",',
        b"{'id': 'e-1'}",
        b'{"id": NaN}',
        b"\xef\xbb\xbf{}",
        b'{"a": 1} {"b": 2}',
        b"[" * 5000,
    ],
)
def test_not_json(raw: bytes) -> None:
    rejection = rejected(raw)
    assert rejection.reason is RejectReason.NOT_JSON
    assert rejection.field is None
    assert rejection.message.startswith("not JSON")


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00",
        b'{"id": "\xff"}',
        b"\xc3(",
        orjson.dumps(BASE["uptime.status"])[:-3] + b"\xe9}",
    ],
)
def test_invalid_utf8(raw: bytes) -> None:
    rejection = rejected(raw)
    assert rejection.reason is RejectReason.NOT_JSON
    assert rejection.message.startswith("not valid UTF-8")


def test_lone_surrogate_in_str_input() -> None:
    rejection = rejected('{"id": "\ud800"}')
    assert rejection.reason is RejectReason.NOT_JSON


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[]", "an array"),
        (b'[{"id": "e-1"}]', "an array"),
        (b"42", "a number"),
        (b"-1.5", "a number"),
        (b'"ticket.created"', "a string"),
        (b"true", "a boolean"),
        (b"null", "null"),
    ],
)
def test_not_an_object(raw: bytes, kind: str) -> None:
    rejection = rejected(raw)
    assert rejection.reason is RejectReason.NOT_OBJECT
    assert rejection.message == f"not a JSON object: the event is {kind}"


def test_ten_megabyte_line_is_too_large_without_being_decoded() -> None:
    raw = b'{"id": "' + b"x" * (10 * 1024 * 1024) + b"} broken"
    rejection = rejected(raw)
    assert rejection.reason is RejectReason.TOO_LARGE
    assert str(DEFAULT_MAX_EVENT_BYTES) in rejection.message
    assert str(len(raw)) in rejection.message


def test_max_bytes_boundary() -> None:
    raw = orjson.dumps(BASE["uptime.status"])
    assert not isinstance(parse_event(raw, max_bytes=len(raw)), Rejection)
    assert rejected(raw, max_bytes=len(raw) - 1).reason is RejectReason.TOO_LARGE


def test_max_bytes_counts_utf8_bytes_of_str_input() -> None:
    text = orjson.dumps(doc("uptime.status", check="é" * 100)).decode()
    assert not isinstance(parse_event(text, max_bytes=len(text) + 100), Rejection)
    assert rejected(text, max_bytes=len(text) + 99).reason is RejectReason.TOO_LARGE
    assert rejected(text, max_bytes=len(text) - 1).reason is RejectReason.TOO_LARGE


@pytest.mark.parametrize(("event_type", "path"), REQUIRED)
def test_missing_required_field(event_type: str, path: str) -> None:
    rejection = rejected(doc(event_type, **{path.replace(".", "__"): DROP}))
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert rejection.field == path
    assert rejection.message == f"missing required field {path}"


@pytest.mark.parametrize(("event_type", "path"), REQUIRED)
def test_null_required_field(event_type: str, path: str) -> None:
    rejection = rejected(doc(event_type, **{path.replace(".", "__"): None}))
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert rejection.field == path
    assert rejection.message == f"missing required field {path} (it is null)"


def test_missing_ticket_id_message() -> None:
    rejection = rejected(doc("ticket.created", ticket={"status": "open"}))
    assert rejection.message == "missing required field ticket.id"


@pytest.mark.parametrize(
    ("event_type", "path", "value", "message"),
    [
        ("ticket.created", "id", 42, "id: expected a string, got a number (42)"),
        ("ticket.created", "id", 4.5, "id: expected a string, got a number (4.5)"),
        ("ticket.created", "id", True, "id: expected a string, got a boolean (true)"),
        ("ticket.created", "id", ["e-1"], "id: expected a string, got an array"),
        ("ticket.created", "type", 1, "type: expected a string, got a number (1)"),
        (
            "ticket.created",
            "time",
            1772442000,
            "time: expected a string, got a number (1772442000)",
        ),
        ("ticket.created", "source", 7, "source: expected a string, got a number (7)"),
        ("ticket.created", "received_at", {}, "received_at: expected a string, got an object"),
        (
            "ticket.created",
            "backfill",
            "true",
            "backfill: expected a boolean, got a string ('true')",
        ),
        ("ticket.created", "backfill", 1, "backfill: expected a boolean, got a number (1)"),
        ("ticket.created", "ticket", "T-1", "ticket: expected an object, got a string ('T-1')"),
        ("ticket.updated", "ticket", [{"id": "T-1"}], "ticket: expected an object, got an array"),
        ("ticket.deleted", "ticket", "T-1", "ticket: expected an object, got a string ('T-1')"),
        ("ticket.created", "ticket.id", 1, "ticket.id: expected a string, got a number (1)"),
        (
            "ticket.deleted",
            "ticket.id",
            False,
            "ticket.id: expected a string, got a boolean (false)",
        ),
        (
            "ticket.created",
            "ticket.attributes",
            "phone",
            "ticket.attributes: expected an object, got a string ('phone')",
        ),
        (
            "ticket.updated",
            "ticket.attributes",
            [],
            "ticket.attributes: expected an object, got an array",
        ),
        ("ticket.commented", "comment", True, "comment: expected an object, got a boolean (true)"),
        (
            "ticket.commented",
            "comment.author_role",
            1,
            "comment.author_role: expected a string, got a number (1)",
        ),
        (
            "ticket.commented",
            "comment.public",
            "true",
            "comment.public: expected a boolean, got a string ('true')",
        ),
        (
            "ticket.commented",
            "comment.public",
            1,
            "comment.public: expected a boolean, got a number (1)",
        ),
        (
            "ticket.commented",
            "comment.public",
            0,
            "comment.public: expected a boolean, got a number (0)",
        ),
        ("uptime.status", "service", 5, "service: expected a string, got a number (5)"),
        ("uptime.status", "status", False, "status: expected a string, got a boolean (false)"),
        ("uptime.status", "check", ["a"], "check: expected a string, got an array"),
        ("maintenance.window", "service", {}, "service: expected a string, got an object"),
        ("maintenance.window", "start", 0, "start: expected a string, got a number (0)"),
        ("maintenance.window", "end", True, "end: expected a string, got a boolean (true)"),
        ("maintenance.window", "window_id", 7, "window_id: expected a string, got a number (7)"),
        (
            "maintenance.window",
            "cancelled",
            "yes",
            "cancelled: expected a boolean, got a string ('yes')",
        ),
        ("maintenance.window", "cancelled", 0, "cancelled: expected a boolean, got a number (0)"),
        ("escalation.acknowledged", "subject", 1, "subject: expected a string, got a number (1)"),
        ("escalation.acknowledged", "by", [], "by: expected a string, got an array"),
        ("escalation.acknowledged", "sla", 1, "sla: expected a string, got a number (1)"),
        ("escalation.acknowledged", "target", 1, "target: expected a string, got a number (1)"),
        ("escalation.acknowledged", "note", 1, "note: expected a string, got a number (1)"),
        (
            "escalation.acknowledged",
            "cycle",
            True,
            "cycle: expected an integer, got a boolean (true)",
        ),
        ("escalation.acknowledged", "cycle", 1.5, "cycle: expected an integer, got a number (1.5)"),
        ("escalation.acknowledged", "cycle", "1", "cycle: expected an integer, got a string ('1')"),
    ],
)
def test_wrong_type(event_type: str, path: str, value: Any, message: str) -> None:
    rejection = rejected(doc(event_type, **{path.replace(".", "__"): value}))
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert rejection.field == path
    assert rejection.message == message


def test_huge_integer_id_is_a_wrong_type() -> None:
    raw = orjson.dumps(BASE["uptime.status"]).replace(b'"u-1"', b"123456789012345678901234567890")
    assert rejected(raw).reason is RejectReason.WRONG_TYPE


def test_long_values_are_shortened_in_messages() -> None:
    rejection = rejected(doc("ticket.created", type="x" * 10_000))
    assert rejection.reason is RejectReason.UNKNOWN_TYPE
    assert len(rejection.message) < 200
    assert "10000 characters" in rejection.message


@pytest.mark.parametrize(
    "name", ["ticket.exploded", "TICKET.CREATED", "ticket", "", "sla.breached"]
)
def test_unknown_type(name: str) -> None:
    rejection = rejected(doc("ticket.created", type=name))
    assert rejection.reason is RejectReason.UNKNOWN_TYPE
    assert rejection.field == "type"
    assert rejection.message == f"type: unknown event type {name!r}"


def test_unknown_type_message() -> None:
    rejection = rejected(doc("ticket.created", type="ticket.exploded"))
    assert rejection.message == "type: unknown event type 'ticket.exploded'"


@pytest.mark.parametrize(
    ("event_type", "path", "value"),
    [
        ("ticket.created", "id", ""),
        ("ticket.created", "ticket.id", ""),
        ("ticket.deleted", "ticket.id", ""),
        ("ticket.commented", "comment.author_role", "bot"),
        ("ticket.commented", "comment.author_role", "Agent"),
        ("ticket.commented", "comment.author_role", ""),
        ("uptime.status", "service", ""),
        ("uptime.status", "status", "UP"),
        ("uptime.status", "status", "unknown"),
        ("maintenance.window", "service", ""),
        ("maintenance.window", "window_id", ""),
        ("escalation.acknowledged", "subject", "T-1"),
        ("escalation.acknowledged", "subject", "ticket:"),
        ("escalation.acknowledged", "subject", "service:"),
        ("escalation.acknowledged", "subject", "user:bob"),
        ("escalation.acknowledged", "subject", "Ticket:T-1"),
        ("escalation.acknowledged", "subject", ""),
        ("escalation.acknowledged", "cycle", 0),
        ("escalation.acknowledged", "cycle", -3),
    ],
)
def test_bad_value(event_type: str, path: str, value: Any) -> None:
    rejection = rejected(doc(event_type, **{path.replace(".", "__"): value}))
    assert rejection.reason is RejectReason.BAD_VALUE
    assert rejection.field == path
    assert rejection.message.startswith(f"{path}: ")


def test_author_role_message() -> None:
    rejection = rejected(doc("ticket.commented", comment__author_role="bot"))
    assert rejection.message == "comment.author_role: 'bot' is not one of agent, customer, system"


@pytest.mark.parametrize("role", ["agent", "customer", "system"])
def test_author_roles(role: str) -> None:
    event = parsed(doc("ticket.commented", comment={"author_role": role, "public": False}))
    assert isinstance(event, TicketEvent)
    assert event.comment == CommentInfo(author_role=role, public=False)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-08T04:00:00Z", "2026-03-08T04:00:00Z"),
        ("2026-03-08T04:00:00Z", "2026-03-08T02:00:00Z"),
        ("2026-03-08T04:00:00Z", "2026-03-08T05:00:00+01:00"),
    ],
)
def test_maintenance_start_not_before_end(start: str, end: str) -> None:
    rejection = rejected(doc("maintenance.window", start=start, end=end))
    assert rejection.reason is RejectReason.BAD_VALUE
    assert rejection.field == "end"
    assert "later than start" in rejection.message


def test_maintenance_start_before_end_across_offsets() -> None:
    event = parsed(
        doc("maintenance.window", start="2026-03-08T04:00:00+01:00", end="2026-03-08T03:30:00Z")
    )
    assert isinstance(event, MaintenanceWindow)
    assert event.end - event.start == 30 * 60 * 1_000_000


def test_acknowledgement_large_cycle() -> None:
    event = parsed(doc("escalation.acknowledged", cycle=2**62))
    assert isinstance(event, Acknowledgement)
    assert event.cycle == 2**62


def test_an_acknowledgement_cycle_written_as_a_whole_float_is_that_integer() -> None:
    event = parsed(doc("escalation.acknowledged", cycle=2.0))
    assert isinstance(event, Acknowledgement)
    assert event.cycle == 2 and type(event.cycle) is int


def test_an_acknowledgement_says_who_acknowledged() -> None:
    rejection = rejected(doc("escalation.acknowledged", by=""))
    assert (rejection.reason, rejection.field) == (RejectReason.BAD_VALUE, "by")
    assert "must not be empty" in rejection.message


@pytest.mark.parametrize("subject", ["ticket::", "ticket:jira:ABC-1", "ticket:a:", "service:x"])
def test_an_acknowledged_subject_is_any_non_empty_id_after_its_prefix(subject: str) -> None:
    """Adapters prefix ticket ids (``events.md``), so an id may hold or end in a colon."""
    event = parsed(doc("escalation.acknowledged", subject=subject))
    assert isinstance(event, Acknowledgement) and event.subject == subject


# Ticket fields and attributes


@pytest.mark.parametrize("event_type", ["ticket.created", "ticket.updated", "ticket.commented"])
def test_known_fields_and_attributes_are_split(event_type: str) -> None:
    event = parsed(
        doc(
            event_type,
            ticket={
                "id": "T-1",
                "status": "open",
                "type": "incident",
                "channel": "web",
                "sentiment": -0.5,
                "attributes": {"channel": "phone", "vip": True},
            },
        )
    )
    assert isinstance(event, TicketEvent)
    assert event.fields == {"status": "open", "type": "incident"}
    assert event.attributes == {"channel": "phone", "sentiment": -0.5, "vip": True}


def test_explicit_attribute_wins_even_when_null() -> None:
    event = parsed(
        doc(
            "ticket.updated",
            ticket={"id": "T-1", "channel": "web", "attributes": {"channel": None}},
        )
    )
    assert isinstance(event, TicketEvent)
    assert event.attributes == {"channel": None}


def test_null_clears_fields_and_attributes() -> None:
    event = parsed(
        doc(
            "ticket.updated",
            ticket={"id": "T-1", "assignee": None, "region": None, "attributes": {"vip": None}},
        )
    )
    assert isinstance(event, TicketEvent)
    assert event.fields == {"assignee": None, "region": None}
    assert event.attributes == {"vip": None}


def test_null_attributes_object_is_absent() -> None:
    event = parsed(doc("ticket.updated", ticket={"id": "T-1", "extra": 1, "attributes": None}))
    assert isinstance(event, TicketEvent)
    assert event.attributes == {"extra": 1}


def test_known_field_names_inside_attributes_stay_attributes() -> None:
    event = parsed(
        doc("ticket.updated", ticket={"id": "T-1", "attributes": {"status": "x", "id": "y"}})
    )
    assert isinstance(event, TicketEvent)
    assert event.fields == {}
    assert event.attributes == {"status": "x", "id": "y"}


def test_field_values_are_kept_as_loaded() -> None:
    values = {
        "priority": 2,
        "customer": ["acme", "globex"],
        "service": {"name": "email", "tier": 1},
        "region": 1.25,
        "assignee": False,
    }
    event = parsed(
        doc("ticket.created", ticket={"id": "T-1", **values, "attributes": {"n": [1, {"a": None}]}})
    )
    assert isinstance(event, TicketEvent)
    assert event.fields == values
    assert event.attributes == {"n": [1, {"a": None}]}


def test_commented_may_carry_changed_fields() -> None:
    event = parsed(doc("ticket.commented", ticket={"id": "T-1", "status": "open", "mood": "ok"}))
    assert isinstance(event, TicketEvent)
    assert event.fields == {"status": "open"}
    assert event.attributes == {"mood": "ok"}
    assert event.comment is not None


def test_comment_on_other_ticket_types_is_ignored() -> None:
    event = parsed(doc("ticket.updated", comment="nonsense"))
    assert isinstance(event, TicketEvent)
    assert event.comment is None


def test_ticket_id_is_not_a_field_or_attribute() -> None:
    event = parsed(doc("ticket.created", ticket={"id": "T-9"}))
    assert isinstance(event, TicketEvent)
    assert (event.ticket_id, event.fields, event.attributes) == ("T-9", {}, {})
