"""Input events for the ingest tests, as the bytes a producer would send."""

from __future__ import annotations

from typing import Any

import orjson

NOW = "2026-03-02T12:00:00Z"


def ticket_created(event_id: str = "e-1", ticket: str = "T-1", **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "ticket.created",
        "time": "2026-03-02T09:00:00Z",
        "source": "jira",
        "ticket": {"id": ticket, "status": "open", "priority": "P2", "customer": "acme"},
        **extra,
    }


def uptime(event_id: str = "u-1", service: str = "api", status: str = "down") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "uptime.status",
        "time": "2026-03-02T09:00:00Z",
        "service": service,
        "status": status,
    }


def ack(event_id: str = "a-1", subject: str = "ticket:T-1") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "escalation.acknowledged",
        "time": "2026-03-02T10:05:00Z",
        "subject": subject,
        "by": "person:duty-manager",
    }


def raw(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


BAD_INPUTS: dict[str, tuple[bytes, str, str | None]] = {
    "not json": (b"{not json", "not_json", None),
    "not utf-8": (b"\xff\xfe{}", "not_json", None),
    "not an object": (b"[1, 2]", "not_object", None),
    "wrong type": (
        raw({"id": 7, "type": "ticket.created", "time": "2026-03-02T09:00:00Z"}),
        "wrong_type",
        "id",
    ),
    "unknown type": (
        raw({"id": "x-1", "type": "ticket.exploded", "time": "2026-03-02T09:00:00Z"}),
        "unknown_type",
        "type",
    ),
    "bad time": (
        raw({**ticket_created("x-2"), "time": "yesterday"}),
        "bad_time",
        "time",
    ),
    "missing field": (
        raw({"id": "x-3", "type": "uptime.status", "time": "2026-03-02T09:00:00Z"}),
        "missing_field",
        "service",
    ),
    "bad value": (raw(uptime("x-4", status="sideways")), "bad_value", "status"),
}
"""Each bad input kind: its bytes, the expected reason and field."""
