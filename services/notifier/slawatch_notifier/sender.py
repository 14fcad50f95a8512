"""Sending logged intents: claim, rate-limit, deliver, and mark (rule 30).

A sender claims one due intent at a time (``FOR UPDATE SKIP LOCKED``), holds the row
lock while the channel delivers it, and marks it ``sent`` in the same transaction. A
crash between the channel's acceptance and the commit is the one window in which a
notification can be sent twice; the repeat carries the same message id. A channel
failure is retried with backoff (``retry_later``); after the last attempt the
intent is ``failed`` with the error. More than ``notify_rate_limit`` notifications to
one recipient within ``notify_rate_window`` are ``suppressed`` with reason
``rate_limited``. Every final status is published as a notification record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from slawatch.settings import Settings, Topics
from slawatch.store.common import DB_ERRORS, OutboxEntry
from slawatch.timeutil import SECOND
from slawatch_notifier import store
from slawatch_notifier.acklinks import ack_url
from slawatch_notifier.channels import Channel, ChannelError, FailureReason, RetryPolicy
from slawatch_notifier.channels.config import expand
from slawatch_notifier.messages import Message, compose
from slawatch_notifier.metrics import RATE_LIMITED, NotifierMetrics

__all__ = ["Sender"]

log = structlog.get_logger("slawatch.notifier")
_DB_ERRORS = DB_ERRORS


class Sender:
    """Delivers due intents through the channels; several may run, in any replica."""

    def __init__(
        self,
        *,
        db: AsyncEngine,
        channels: Mapping[str, Channel],
        settings: Settings,
        metrics: NotifierMetrics,
        clock: Callable[[], int],
        owner: str,
        wake: asyncio.Event,
        finished: Callable[[], None] = lambda: None,
        zone_of: Callable[[dict[str, Any] | None], str | None] = lambda _: None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.db, self.channels, self.settings = db, channels, settings
        self.environ: Mapping[str, str] = {} if environ is None else environ
        """Where ``${VAR}`` in a person's or team's address is looked up when sending."""
        self.metrics, self.clock, self.owner, self.wake = metrics, clock, owner, wake
        self.finished = finished
        self.zone_of = zone_of
        self.policy = RetryPolicy(
            attempts=settings.notify_attempts,
            first=min(settings.notify_retry_first, settings.notify_retry_max) / SECOND,
            maximum=settings.notify_retry_max / SECOND,
        )
        self.records_topic = settings.topic(Topics.NOTIFICATIONS)
        self.secret = settings.ack_secret.encode()

    def _record(self, row: store.LoggedNotification, status: str, **extra: str) -> OutboxEntry:
        body = store.final_record(row.record, status, **extra)
        return OutboxEntry(row.id, self.records_topic, row.subject, orjson.dumps(body).decode())

    def _message(self, row: store.LoggedNotification, channel: Channel, now: int) -> Message:
        recipient, unset = expand(row.recipient or "", self.environ)
        if unset:
            names = ", ".join(unset)
            detail = f"the address {row.recipient!r} needs {names}, which is not set"
            raise ChannelError(FailureReason.REJECTED, detail, retryable=False)
        link = None
        if self.secret:
            link = ack_url(
                self.settings.public_url,
                self.secret,
                row.escalation_id,
                now + self.settings.ack_link_ttl,
                by=recipient,
            )
        base = self.settings.clocks_url
        clock_url = None
        if base:
            clock_url = f"{base.rstrip('/')}/v1/clocks?{urlencode({'subject': row.subject})}"
        delivered = store.final_record(row.record, "sent")  # once the receiver accepts it
        message = compose(
            delivered,
            row.event,
            channel_type=channel.type,
            ack_url=link,
            clock_url=clock_url,
            templates_dir=self.settings.templates_dir,
            zone=self.zone_of(row.event),
        )
        return replace(message, channel=row.channel or "", recipient=recipient)

    async def _deliver(self, row: store.LoggedNotification, channel: Channel, now: int) -> None:
        """Compose and send; any failure but a :class:`ChannelError` is logged with its
        traceback and raised as a permanent ``internal`` one, so that it fails this
        notification only and never stops the sender."""
        try:
            await channel.send(self._message(row, channel, now))
        except ChannelError:
            raise
        except Exception as exc:
            log.exception("notification could not be sent", channel=row.channel, id=row.id)
            detail = f"{type(exc).__name__}: {exc}"
            raise ChannelError(FailureReason.INTERNAL, detail, retryable=False) from exc

    async def send_one(self) -> bool:
        """Send the oldest due intent, if any; whether there was one."""
        now = self.clock()
        async with self.db.begin() as conn:
            rows = await store.claim_due(conn, now, 1)
            if not rows:
                return False
            row = rows[0]
            channel = self.channels.get(row.channel or "")
            name = row.channel or "none"
            if channel is None:
                error = f"no channel {row.channel!r} in the newest definitions"
                await store.finish(
                    conn,
                    row.id,
                    "failed",
                    at=now,
                    by=self.owner,
                    error=error,
                    attempts=row.attempts,
                    record=self._record(row, "failed", error=error),
                )
                self.metrics.notifications.labels(channel=name, status="failed").inc()
                return True
            since = now - self.settings.notify_rate_window
            if row.recipient and await store.sent_recently(conn, row.recipient, since) >= (
                self.settings.notify_rate_limit
            ):
                await store.finish(
                    conn,
                    row.id,
                    "suppressed",
                    at=now,
                    by=self.owner,
                    error=RATE_LIMITED,
                    attempts=row.attempts,
                    record=self._record(row, "suppressed", reason=RATE_LIMITED),
                )
                self.metrics.suppressed_as([(name, RATE_LIMITED)])
                return True
            began = time.perf_counter()
            try:
                await self._deliver(row, channel, now)
            except ChannelError as exc:
                attempts = row.attempts + 1
                if exc.retryable and attempts < self.policy.attempts:
                    delay = self.policy.wait(attempts, exc.retry_after)
                    await store.retry_later(
                        conn, row.id, attempts=attempts, at=now + int(delay * 1e6), error=exc.reason
                    )
                    self.metrics.retries.labels(channel=name).inc()
                    log.warning(
                        "notification will be retried",
                        channel=name,
                        attempt=attempts,
                        error=exc.reason,
                    )
                else:
                    await store.finish(
                        conn,
                        row.id,
                        "failed",
                        at=now,
                        by=self.owner,
                        error=exc.reason,
                        attempts=attempts,
                        record=self._record(row, "failed", error=exc.reason),
                    )
                    self.metrics.notifications.labels(channel=name, status="failed").inc()
                return True
            self.metrics.send_seconds.labels(channel=name).observe(time.perf_counter() - began)
            sent_at = self.clock()
            late = max(0, sent_at - row.due_at) / SECOND
            self.metrics.delay.labels(channel=name).observe(late)
            await store.finish(
                conn,
                row.id,
                "sent",
                at=sent_at,
                by=self.owner,
                error=None,
                attempts=row.attempts + 1,
                record=self._record(row, "sent"),
            )
            self.metrics.notifications.labels(channel=name, status="sent").inc()
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop``; sleep when nothing is due."""
        backoff = 0.2
        while not stop.is_set():
            try:
                sent = 0
                while not stop.is_set() and await self.send_one():
                    sent += 1
                if sent:
                    self.finished()
                backoff = 0.2
            except _DB_ERRORS as exc:
                log.warning("sender cannot reach the database; retrying", error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=0.5)
            self.wake.clear()
