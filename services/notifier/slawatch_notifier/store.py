"""The notifier's durable state: each partition's planner, the notification log, acks.

A batch (planner state, the next offsets of ``sla-events`` and ``acks``, new intents
in the log) commits in one transaction, fenced by the partition's epoch. Intents are
keyed by the notification id (rule 30): an intent already logged is never logged
again. Senders claim due intents with ``FOR UPDATE SKIP LOCKED``, so two replicas
never send the same one; a row marked ``sent`` is never sent again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from slawatch.clock.snapshot import ticket_of
from slawatch.store.common import Claim, OutboxEntry, fence, insert, write_outbox
from slawatch.store.schema import (
    acknowledgements,
    escalation_state,
    notification_log,
    subject_states,
)

__all__ = [
    "LOG_SOURCE",
    "Intent",
    "LoggedNotification",
    "claim_due",
    "commit",
    "current_tickets",
    "escalation_log",
    "finish",
    "load_state",
    "overdue",
    "retry_later",
    "sent_recently",
]

LOG_SOURCE = ("notification-log", 0)
"""The outbox source of notification records (relayed by every notifier replica)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A notification decided by the planner, to log before it is sent."""

    id: str
    escalation: str
    escalation_id: str
    subject: str
    step: int
    repeat: int
    notice: str
    channel: str | None
    recipient: str | None
    due_at: int
    status: str
    record: dict[str, Any]
    event: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedNotification:
    """An intent claimed for sending."""

    id: str
    escalation_id: str
    subject: str
    channel: str | None
    recipient: str | None
    attempts: int
    record: dict[str, Any]
    event: dict[str, Any] | None
    due_at: int = 0


def final_record(record: Mapping[str, Any], status: str, **extra: str) -> dict[str, Any]:
    """A logged notification's record as published with its final ``status`` (and
    ``extra`` fields such as ``reason`` or ``error``), the log's status and error left out."""
    body = {k: v for k, v in record.items() if k not in ("status", "error")}
    body["status"] = status
    body.update(extra)
    return body


async def current_tickets(
    conn: AsyncConnection, subjects: Sequence[str]
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The tickets' fields and attributes as the evaluator last committed them.

    The evaluator's state rows (``subject_states``) are newer than any SLA event the
    notifier has read, which carries the ticket only as of that event.
    """
    if not subjects:
        return {}
    rows = await conn.execute(
        sa.select(subject_states.c.key, subject_states.c.state).where(
            subject_states.c.key.in_(list(subjects))
        )
    )
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for key, state in rows:
        ticket = ticket_of(orjson.loads(state))
        if ticket is not None:
            found[key] = ticket
    return found


async def load_state(conn: AsyncConnection, topic: str, partition: int) -> dict[str, Any] | None:
    """A partition's planner record, if it has one."""
    row = (
        await conn.execute(
            sa.select(escalation_state.c.record).where(
                escalation_state.c.topic == topic, escalation_state.c.partition == partition
            )
        )
    ).first()
    return None if row is None else dict(row.record)


async def load_states(
    conn: AsyncConnection, topic: str, *, but: Iterable[int] = ()
) -> dict[int, dict[str, Any]]:
    """Every partition's planner record, by partition, except the partitions ``but``."""
    rows = await conn.execute(
        sa.select(escalation_state.c.partition, escalation_state.c.record).where(
            escalation_state.c.topic == topic, escalation_state.c.partition.not_in(list(but))
        )
    )
    return {row.partition: dict(row.record) for row in rows}


async def commit(
    conn: AsyncConnection,
    claims: Sequence[tuple[Claim, int]],
    state: dict[str, Any],
    intents: Sequence[Intent],
    acks: Sequence[dict[str, Any]],
    records: Sequence[OutboxEntry],
    stopped: Sequence[tuple[str, int, str]] = (),
    records_topic: str = "",
) -> list[tuple[str | None, str]]:
    """Write one batch while every claim is current (:class:`~slawatch.store.common.Fenced`).

    For each ``(escalation id, at, reason)`` in ``stopped``, its step notifications due
    by ``at`` that a channel already failed to take and that wait for a retry become
    ``suppressed`` with ``reason``, their records queued on ``records_topic``; returns
    their ``(channel, reason)`` pairs. One not tried yet is still sent, as replay has it
    (the step fired before the stop); a retraction notice is never withdrawn.
    """
    for claimed, next_offset in claims:
        await fence(conn, claimed, next_offset)
    owner = claims[0][0]
    stmt = insert(conn, escalation_state)
    await conn.execute(
        stmt.values(
            topic=owner.topic, partition=owner.partition, record=state
        ).on_conflict_do_update(
            index_elements=["topic", "partition"], set_={"record": stmt.excluded.record}
        )
    )
    if intents:
        rows = [
            {
                "id": i.id,
                "escalation": i.escalation,
                "escalation_id": i.escalation_id,
                "subject": i.subject,
                "step": i.step,
                "repeat": i.repeat,
                "notice": i.notice,
                "channel": i.channel,
                "recipient": i.recipient,
                "due_at": i.due_at,
                "status": i.status,
                "attempts": 0,
                "next_attempt_at": i.due_at,
                "error": i.error,
                "record": i.record,
                "event": i.event,
            }
            for i in intents
        ]
        await conn.execute(
            insert(conn, notification_log).on_conflict_do_nothing(index_elements=["id"]), rows
        )
    if acks:
        await conn.execute(
            insert(conn, acknowledgements).on_conflict_do_nothing(index_elements=["id"]), list(acks)
        )
    withdrawn: list[OutboxEntry] = []
    channels: list[tuple[str | None, str]] = []
    column = notification_log.c
    for ident, at, reason in stopped:
        found = await conn.execute(
            notification_log.update()
            .where(
                column.escalation_id == ident,
                column.status == "pending",
                column.notice == "step",
                column.attempts > 0,
                column.due_at <= at,
            )
            .values(status="suppressed", error=reason, sent_at=at)
            .returning(column.id, column.subject, column.channel, column.record)
        )
        for entry in found:
            body = final_record(entry.record, "suppressed", reason=reason)
            payload = orjson.dumps(body).decode()
            withdrawn.append(OutboxEntry(entry.id, records_topic, entry.subject, payload))
            channels.append((entry.channel, reason))
    await write_outbox(conn, LOG_SOURCE, [*records, *withdrawn])
    return channels


async def claim_due(conn: AsyncConnection, now: int, limit: int) -> list[LoggedNotification]:
    """Pending intents due by ``now``, locked for this sender (other senders skip them)."""
    query = (
        sa.select(notification_log)
        .where(notification_log.c.status == "pending", notification_log.c.next_attempt_at <= now)
        .order_by(notification_log.c.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        LoggedNotification(
            r.id,
            r.escalation_id,
            r.subject,
            r.channel,
            r.recipient,
            r.attempts,
            dict(r.record),
            None if r.event is None else dict(r.event),
            r.due_at,
        )
        for r in await conn.execute(query)
    ]


async def sent_recently(conn: AsyncConnection, recipient: str, since: int) -> int:
    """How many notifications went to ``recipient`` since an instant (for the rate limit)."""
    query = sa.select(sa.func.count()).where(
        notification_log.c.recipient == recipient,
        notification_log.c.status == "sent",
        notification_log.c.sent_at >= since,
    )
    return int((await conn.execute(query)).scalar_one())


async def finish(
    conn: AsyncConnection,
    ident: str,
    status: str,
    *,
    at: int,
    by: str,
    error: str | None,
    attempts: int,
    record: OutboxEntry,
) -> None:
    """Record a final status (sent, failed, suppressed) and queue the record for the bus."""
    await conn.execute(
        notification_log.update()
        .where(notification_log.c.id == ident)
        .values(status=status, sent_at=at, sent_by=by, error=error, attempts=attempts)
    )
    await write_outbox(conn, LOG_SOURCE, [record])


async def retry_later(
    conn: AsyncConnection, ident: str, *, attempts: int, at: int, error: str
) -> None:
    """Keep an intent pending, to be tried again at ``at``."""
    await conn.execute(
        notification_log.update()
        .where(notification_log.c.id == ident)
        .values(attempts=attempts, next_attempt_at=at, error=error)
    )


async def escalation_log(
    conn: AsyncConnection, escalation_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Every logged notification of these escalations, oldest first."""
    if not escalation_ids:
        return []
    query = (
        sa.select(
            notification_log.c.escalation_id,
            notification_log.c.id,
            notification_log.c.step,
            notification_log.c.repeat,
            notification_log.c.notice,
            notification_log.c.channel,
            notification_log.c.recipient,
            notification_log.c.due_at,
            notification_log.c.status,
            notification_log.c.attempts,
            notification_log.c.error,
            notification_log.c.sent_at,
        )
        .where(notification_log.c.escalation_id.in_(list(escalation_ids)))
        .order_by(notification_log.c.due_at, notification_log.c.id)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def overdue(conn: AsyncConnection, before: int) -> int:
    """Intents still pending that were due before an instant."""
    query = sa.select(sa.func.count()).where(
        notification_log.c.status == "pending", notification_log.c.due_at < before
    )
    return int((await conn.execute(query)).scalar_one())
