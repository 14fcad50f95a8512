"""The notification record (``events.md``, "Notifications") and its id (rule 30).

A :class:`Notification` is one decision of the planner: its JSON ``body`` in the
record's fixed key order, plus the keys replay sorts a step by, so that notifications
sort after every SLA output of the same instant, subject, target and cycle
(``replay.md``: "notification (by step, repeat, order in notify, channel name)").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from slawatch.outputs import OutputType, output_id
from slawatch.timeutil import format_time

__all__ = [
    "NOTIFICATION_RANK",
    "NOTIFICATION_TYPE",
    "Notice",
    "Notification",
    "NotificationError",
    "NotificationKey",
    "NotificationStatus",
    "Scope",
    "make_notification",
    "notification_id",
]

NOTIFICATION_TYPE = "notification"
NOTIFICATION_RANK = len(OutputType)
"""The type rank of a notification in a step's order: after every SLA output type."""

NotificationKey = tuple[str, int, int, str, str, str]
"""Rule 30's key: (cause, step, repeat, notice, channel, recipient), null as ``""``."""


class Notice(StrEnum):
    """What a notification tells its recipient."""

    STEP = "step"
    """A step of the chain fired."""
    RETRACTION = "retraction"
    """An SLA event they were notified of was retracted (rule 28)."""


class NotificationStatus(StrEnum):
    """The ``status`` of a notification record."""

    SIMULATED = "simulated"
    """Decided in ``slawatch replay``, where nothing is sent."""
    SENT = "sent"
    """Accepted by its channel."""
    FAILED = "failed"
    """Not delivered: after the channel's retries, or for a target with no address."""
    SUPPRESSED = "suppressed"
    """Rate-limited."""


class NotificationError(StrEnum):
    """The ``error`` of a failed notification that the planner itself decides."""

    NO_ADDRESS = "no_address"
    """The target resolves to no address (rule 29)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What an escalation instance is about: one clock cycle, or one availability window.

    ``cycle`` is set for a ticket target and ``window_start`` (as written) for a
    service; ``order`` and ``sort_cycle`` are the SLA output's sort keys.
    """

    subject: str
    sla: str
    target: str
    cycle: int | None
    window_start: str | None
    order: int
    sort_cycle: int

    @property
    def group(self) -> tuple[str, str, str, int | None, str | None]:
        """The identity of the cycle or window, without the sort keys."""
        return (self.subject, self.sla, self.target, self.cycle, self.window_start)


def notification_id(
    cause: str, step: int, repeat: int, notice: str, channel: str | None, recipient: str | None
) -> str:
    """UUIDv5 of ``slawatch:notification|cause|step|repeat|notice|channel|recipient``."""
    return output_id("notification", cause, step, repeat, notice, channel, recipient)


@dataclass(slots=True)
class Notification:
    """One notification decision: its record ``body`` and its place in a step's order.

    ``step`` counts from 1 (as in the record); ``notify_index`` is the target's index
    in the step's ``notify`` list; ``channel`` is ``None`` for a target with no address.
    """

    time: int
    subject: str
    order: int
    cycle: int
    step: int
    repeat: int
    notify_index: int
    channel: str | None
    body: dict[str, Any]

    @property
    def id(self) -> str:
        """The notification's deterministic id."""
        return str(self.body["id"])

    @property
    def notice(self) -> Notice:
        """``step`` or ``retraction``."""
        return Notice(self.body["notice"])

    @property
    def key(self) -> NotificationKey:
        """Rule 30's key, which the id is derived from."""
        b = self.body
        return (
            str(b["cause"]),
            self.step,
            self.repeat,
            str(b["notice"]),
            self.channel or "",
            b["recipient"] or "",
        )

    def sort_key(self) -> tuple[int, str, int, int, int, int, int, int, str, str, str]:
        """Replay's order within one step; compares with :meth:`Output.sort_key`."""
        return (
            self.time,
            self.subject,
            self.order,
            self.cycle,
            NOTIFICATION_RANK,
            self.step,
            self.repeat,
            self.notify_index,
            self.channel or "",
            str(self.body["notice"]),
            self.body["recipient"] or "",
        )

    def with_status(self, status: str, error: str | None = None) -> Notification:
        """A copy with another ``status`` (and ``error``, written last, when given)."""
        body = {k: v for k, v in self.body.items() if k not in ("status", "error")}
        body["status"] = status
        if error is not None:
            body["error"] = error
        return Notification(
            self.time,
            self.subject,
            self.order,
            self.cycle,
            self.step,
            self.repeat,
            self.notify_index,
            self.channel,
            body,
        )

    def to_json(self) -> bytes:
        """The record as one JSON line, without the newline."""
        return orjson.dumps(self.body)


def make_notification(
    *,
    time: int,
    escalation: str,
    scope: Scope,
    step: int,
    repeat: int,
    notice: Notice,
    notify_index: int,
    channel: str | None,
    recipient: str | None,
    cause: str,
    status: str,
    unresolved: tuple[str, ...] = (),
) -> Notification:
    """A notification record; a ``None`` channel makes it ``failed`` with ``no_address``,
    naming the ``notify`` entries that resolved to no address in ``unresolved``."""
    body: dict[str, Any] = {
        "id": notification_id(cause, step, repeat, notice.value, channel, recipient),
        "type": NOTIFICATION_TYPE,
        "time": format_time(time),
        "escalation": escalation,
        "step": step,
        "repeat": repeat,
        "notice": notice.value,
        "channel": channel,
        "recipient": recipient,
        "cause": cause,
        "subject": scope.subject,
        "sla": scope.sla,
        "target": scope.target,
    }
    if scope.cycle is not None:
        body["cycle"] = scope.cycle
    else:
        body["window_start"] = scope.window_start
    if channel is None:
        body["status"] = NotificationStatus.FAILED.value
        body["error"] = NotificationError.NO_ADDRESS.value
        body["unresolved"] = list(unresolved)
    else:
        body["status"] = status
    return Notification(
        time,
        scope.subject,
        scope.order,
        scope.sort_cycle,
        step,
        repeat,
        notify_index,
        channel,
        body,
    )
