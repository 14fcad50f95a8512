"""The sender on a real SMTP server and a SQLite log: sent, retried, failed, rate-limited."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch.store.common import create_engine, unpack_entries
from slawatch.store.migrate import upgrade
from slawatch.store.schema import notification_log, outbox
from slawatch.timeutil import SECOND
from slawatch_notifier import store
from slawatch_notifier.channels import build_channels
from slawatch_notifier.metrics import NotifierMetrics
from slawatch_notifier.sender import Sender
from tests.notifier.channels.servers import Reply, http_server
from tests.support.receivers import SmtpServer

NOW = 1_780_000_000_000_000


def intent(n: int, recipient: str = "lead@example.com", channel: str = "email") -> store.Intent:
    record: dict[str, Any] = {
        "id": f"n-{n}", "type": "notification", "time": "2026-06-01T00:00:00Z",
        "escalation": "chain", "step": 1, "repeat": n, "notice": "step", "channel": channel,
        "recipient": recipient, "cause": "c-1", "subject": "ticket:T-1", "sla": "gold",
        "target": "first_response", "cycle": 1, "status": "pending",
    }  # fmt: skip
    return store.Intent(f"n-{n}", "chain", "ticket:T-1/gold/first_response/1", "ticket:T-1", 1, n,
                        "step", channel, recipient, NOW, "pending", record, None)  # fmt: skip


async def sender_for(tmp_path: Path, smtp_port: int, **settings: Any) -> Sender:
    url = f"sqlite+aiosqlite:///{tmp_path}/log.db"
    upgrade(url)
    config = Settings(database_url=url, notify_attempts=3, **settings)
    definitions = {
        "email": ChannelDefinition("email", "smtp", (("host", "127.0.0.1"), ("port", smtp_port),
                                                     ("starttls", False),
                                                     ("from", "slawatch@example.com")))
    }  # fmt: skip
    channels = build_channels(definitions, {}, settings=config)
    return Sender(db=create_engine(url), channels=channels, settings=config,
                  metrics=NotifierMetrics(CollectorRegistry()), clock=lambda: NOW,
                  owner="test", wake=asyncio.Event())  # fmt: skip


async def log(sender: Sender, intents: list[store.Intent]) -> None:
    async with sender.db.begin() as conn:
        await conn.execute(
            notification_log.insert(),
            [
                {"id": i.id, "escalation": i.escalation, "escalation_id": i.escalation_id,
                 "subject": i.subject, "step": i.step, "repeat": i.repeat, "notice": i.notice,
                 "channel": i.channel, "recipient": i.recipient, "due_at": i.due_at,
                 "status": "pending", "attempts": 0, "next_attempt_at": i.due_at,
                 "record": i.record}
                for i in intents
            ],
        )  # fmt: skip


async def statuses(sender: Sender) -> dict[str, tuple[str, int, str | None]]:
    async with sender.db.connect() as conn:
        rows = await conn.execute(notification_log.select())
        return {r.id: (r.status, r.attempts, r.error) for r in rows}


async def drain(sender: Sender) -> None:
    while await sender.send_one():
        pass


async def test_sent_once_with_a_deterministic_message_id(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        await log(sender, [intent(1)])
        await drain(sender)
        await drain(sender)
        assert await statuses(sender) == {"n-1": ("sent", 1, None)}
        assert smtp.box.message_ids() == ["<n-1@example.com>"]
        await sender.db.dispose()


async def test_a_variable_in_an_address_is_replaced_when_sending(tmp_path: Path) -> None:
    """The record keeps the address as the definitions write it (its id is replay's)."""
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        sender.environ = {"ONCALL_EMAIL": "oncall@example.com"}
        await log(sender, [intent(1, recipient="${ONCALL_EMAIL}")])
        await drain(sender)
        assert await statuses(sender) == {"n-1": ("sent", 1, None)}
        assert smtp.box.recipients() == ["oncall@example.com"]
        await log(sender, [intent(2, recipient="${UNSET_MAIL}@example.com")])
        await drain(sender)
        assert (await statuses(sender))["n-2"] == ("failed", 1, "rejected")
        assert smtp.box.recipients() == ["oncall@example.com"], "nothing sent to @example.com"
        await sender.db.dispose()


async def test_the_clock_link_points_at_the_subject_on_the_evaluators_api(
    tmp_path: Path,
) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        await log(sender, [intent(1)])
        await drain(sender)
        (tmp_path / "b").mkdir()
        linked = await sender_for(tmp_path / "b", smtp.port, clocks_url="https://ev.example/")
        await log(linked, [intent(2)])
        await drain(linked)
        texts = []
        for accepted in smtp.box.messages:
            parsed = email.message_from_bytes(accepted.as_bytes(), policy=email.policy.default)
            body = parsed.get_body(("plain",))
            assert body is not None
            texts.append(str(body.get_content()))
        assert "/v1/clocks" not in texts[0]
        assert "https://ev.example/v1/clocks?subject=ticket%3AT-1" in texts[1]
        await sender.db.dispose()
        await linked.db.dispose()


async def test_refused_sends_are_retried_then_fail_with_the_error(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        smtp.box.refuse = True
        sender = await sender_for(tmp_path, smtp.port)
        await log(sender, [intent(1)])
        for attempt in range(1, 4):
            sender.clock = lambda attempt=attempt: NOW + attempt * 10**9  # type: ignore[misc]
            await drain(sender)
        status, attempts, error = (await statuses(sender))["n-1"]
        assert (status, attempts) == ("failed", 3)
        assert error
        assert smtp.box.message_ids() == []
        await sender.db.dispose()


async def test_excess_notifications_to_one_recipient_are_suppressed(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port, notify_rate_limit=2)
        await log(sender, [intent(n) for n in range(4)] + [intent(9, "other@example.com")])
        await drain(sender)
        result = await statuses(sender)
        assert sorted(s for s, _, _ in result.values()) == [
            "sent", "sent", "sent", "suppressed", "suppressed"
        ]  # fmt: skip
        assert result["n-9"][0] == "sent"
        assert {e for s, _, e in result.values() if s == "suppressed"} == {"rate_limited"}
        async with sender.db.connect() as conn:
            rows = await conn.execute(outbox.select())
            records = [orjson.loads(e.payload) for r in rows for e in unpack_entries(r.body)]
        suppressed = [r for r in records if r["status"] == "suppressed"]
        assert len(suppressed) == 2 and all(r["reason"] == "rate_limited" for r in suppressed)
        counted = sender.metrics.suppressed.labels(channel="email", reason="rate_limited")
        assert counted._value.get() == 2
        await sender.db.dispose()


async def test_a_channel_missing_from_the_definitions_fails_at_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        await log(sender, [intent(1, channel="pager")])
        await drain(sender)
        status, _, error = (await statuses(sender))["n-1"]
        assert status == "failed" and error is not None and "pager" in error
        await sender.db.dispose()


class _Faulty:
    """The real SMTP channel with a fault: a bug raising for one recipient."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.type, self.name = inner, inner.type, inner.name

    async def send(self, message: Any) -> None:
        if message.recipient == "bug@example.com":
            raise RuntimeError("a bug in a channel")
        await self.inner.send(message)

    async def close(self) -> None:
        await self.inner.close()


async def test_an_unexpected_error_fails_that_notification_only_and_the_sender_goes_on(
    tmp_path: Path,
) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        sender.channels = {"email": _Faulty(sender.channels["email"])}  # type: ignore[dict-item]
        await log(sender, [intent(1, "bug@example.com"), intent(2)])
        await drain(sender)
        assert await statuses(sender) == {
            "n-1": ("failed", 1, "internal"),
            "n-2": ("sent", 1, None),
        }
        assert smtp.box.message_ids() == ["<n-2@example.com>"]
        await sender.db.dispose()


async def test_retries_wait_as_the_settings_say_and_a_long_retry_after_is_capped(
    tmp_path: Path,
) -> None:
    async with http_server() as hook:
        hook.default = Reply(429, headers=(("Retry-After", "86400"),))
        with SmtpServer() as smtp:
            smtp.box.refuse = True
            sender = await sender_for(tmp_path, smtp.port, notify_retry_first="30s",
                                      notify_retry_max="1m")  # fmt: skip
            webhook = ChannelDefinition("hook", "webhook", (("url", f"{hook.url}/h"),
                                                            ("secret", "s")))  # fmt: skip
            built = build_channels({"hook": webhook}, {}, settings=sender.settings)
            sender.channels = {**sender.channels, **built}
            await log(sender, [intent(1), intent(2, "ops", channel="hook")])
            await drain(sender)
        async with sender.db.connect() as conn:
            rows = {r.id: r for r in await conn.execute(notification_log.select())}
        assert [(r.status, r.attempts) for r in rows.values()] == [("pending", 1)] * 2
        assert 27 * SECOND <= rows["n-1"].next_attempt_at - NOW <= 33 * SECOND  # SMTP refused
        assert rows["n-2"].next_attempt_at - NOW == 60 * SECOND  # asked a day, capped
        assert len(hook.requests) == 1
        for channel in sender.channels.values():
            await channel.close()
        await sender.db.dispose()


async def test_a_webhook_receives_the_record_as_sent_not_as_pending(tmp_path: Path) -> None:
    async with http_server() as hook:
        with SmtpServer() as smtp:
            sender = await sender_for(tmp_path, smtp.port)
        webhook = ChannelDefinition("hook", "webhook", (("url", f"{hook.url}/h"), ("secret", "s")))
        sender.channels = build_channels({"hook": webhook}, {}, settings=sender.settings)
        await log(sender, [intent(1, "ops", channel="hook")])
        await drain(sender)
        (request,) = hook.requests
        assert orjson.loads(request.body)["notification"]["status"] == "sent"
        assert (await statuses(sender))["n-1"] == ("sent", 1, None)
        for channel in sender.channels.values():
            await channel.close()
        await sender.db.dispose()


async def test_how_late_a_notification_went_out_is_measured_per_channel(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        sender = await sender_for(tmp_path, smtp.port)
        sender.clock = lambda: NOW + 90 * SECOND  # type: ignore[method-assign]
        await log(sender, [intent(1)])
        await drain(sender)
        samples = {
            (s.name, s.labels.get("le")): s.value
            for metric in sender.metrics.delay.collect()
            for s in metric.samples
            if s.labels.get("channel") == "email"
        }
        assert samples[("slawatch_notification_delay_seconds_sum", None)] == 90
        assert samples[("slawatch_notification_delay_seconds_bucket", "60.0")] == 0
        assert samples[("slawatch_notification_delay_seconds_bucket", "120.0")] == 1
        await sender.db.dispose()
