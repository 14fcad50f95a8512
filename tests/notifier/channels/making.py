"""Records, events and messages for the channel tests."""

from __future__ import annotations

from typing import Any

from slawatch.escalation import notification_id
from slawatch_notifier.messages import Message, compose


def breach_event(**changes: Any) -> dict[str, Any]:
    """An ``sla.breached`` body of ticket T-1 (8h on nl-office, deadline 17:00)."""
    body: dict[str, Any] = {
        "id": "0b6c8d1e-5c57-5d5e-9f0a-8d1f2a3b4c5d",
        "type": "sla.breached",
        "time": "2026-03-02T17:00:00Z",
        "sla": "gold-support",
        "target": "time_to_resolution",
        "kind": "customer",
        "subject": "ticket:T-1",
        "cycle": 1,
        "goal_seconds": 28800,
        "calendar": "nl-office",
        "elapsed_seconds": 28800,
        "deadline": "2026-03-02T17:00:00Z",
        "labels": {
            "priority": "P2",
            "customer": "acme",
            "service": None,
            "region": "eu",
            "assignee_group": None,
        },
        "definitions_version": 1,
    }
    body.update(changes)
    return body


def notification(
    *,
    channel: str = "email",
    recipient: str = "leads@example.com",
    notice: str = "step",
    step: int = 2,
    repeat: int = 0,
    cause: str = "0b6c8d1e-5c57-5d5e-9f0a-8d1f2a3b4c5d",
    **changes: Any,
) -> dict[str, Any]:
    """A notification record as the planner writes it."""
    body: dict[str, Any] = {
        "id": notification_id(cause, step, repeat, notice, channel, recipient),
        "type": "notification",
        "time": "2026-03-02T17:40:00Z",
        "escalation": "gold-chain",
        "step": step,
        "repeat": repeat,
        "notice": notice,
        "channel": channel,
        "recipient": recipient,
        "cause": cause,
        "subject": "ticket:T-1",
        "sla": "gold-support",
        "target": "time_to_resolution",
        "cycle": 1,
        "status": "sent",
    }
    body.update(changes)
    return body


ACK = "https://slawatch.example/v1/escalations/ticket:T-1/gold/ttr/1/ack?token=1.abc"
CLOCK = "https://slawatch.example/v1/clocks/ticket:T-1/gold/ttr/1"


def message(
    channel_type: str = "smtp",
    *,
    record: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    ack_url: str | None = ACK,
    no_event: bool = False,
) -> Message:
    """A composed message of a notification (default: the breach); ``no_event``: unknown."""
    return compose(
        record or notification(),
        None if no_event else event if event is not None else breach_event(),
        channel_type=channel_type,
        ack_url=ack_url,
        clock_url=CLOCK,
    )
