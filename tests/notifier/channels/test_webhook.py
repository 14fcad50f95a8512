"""The generic webhook against a real local HTTP server: the body, the headers, and the
HMAC-SHA256 signature recomputed here from the bytes received."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch_notifier.channels import (
    Channel,
    ChannelError,
    ChannelSettingsError,
    FailureReason,
    build_channels,
)
from slawatch_notifier.channels.webhook import signature, verify_signature
from tests.notifier.channels.making import breach_event, message, notification
from tests.notifier.channels.servers import Reply, http_server

SECRET = "whsec-test"
NOW = 1_772_470_800.75


def webhook_channel(settings: Settings, url: str, **values: Any) -> Channel:
    pairs = tuple({"url": url, "secret": "${WEBHOOK_SECRET}", **values}.items())
    definition = ChannelDefinition(id="hook", type="webhook", settings=pairs)
    channels = build_channels(
        {"hook": definition}, {"WEBHOOK_SECRET": SECRET}, settings=settings, clock=lambda: NOW
    )
    return channels["hook"]


async def test_body_headers_and_signature(settings: Settings) -> None:
    record = notification(channel="hook", recipient="ops")
    event = breach_event()
    async with http_server() as server:
        channel = webhook_channel(
            settings,
            server.url + "/hooks/sla",
            header_Authorization="Bearer t0ken",
            header_X_Team="sre",
        )
        msg = message("webhook", record=record, event=event)
        await channel.send(msg)
        await channel.close()
    (request,) = server.requests
    assert request.path == "/hooks/sla"
    body = orjson.loads(request.body)
    assert body == {
        "notification": record,
        "event": event,
        "message": {"subject": msg.subject, "text": msg.text},
    }
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-slawatch-notification-id"] == record["id"]
    assert headers["x-slawatch-timestamp"] == "1772470800"
    signed = b"1772470800." + request.body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-slawatch-signature"] == f"sha256={expected}"
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["x-team"] == "sre"


async def test_a_repeated_send_carries_the_same_id_and_body(settings: Settings) -> None:
    async with http_server() as server:
        channel = webhook_channel(settings, server.url)
        await channel.send(message("webhook"))
        await channel.send(message("webhook"))
        await channel.close()
    first, again = server.requests
    assert first.body == again.body
    assert (
        first.headers["x-slawatch-notification-id"] == again.headers["x-slawatch-notification-id"]
    )
    assert first.headers["x-slawatch-signature"] == again.headers["x-slawatch-signature"]


async def test_an_unknown_event_is_null(settings: Settings) -> None:
    async with http_server() as server:
        channel = webhook_channel(settings, server.url)
        await channel.send(message("webhook", no_event=True))
        await channel.close()
    assert orjson.loads(server.requests[0].body)["event"] is None


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (500, FailureReason.SERVER_ERROR, True),
        (429, FailureReason.RATE_LIMITED, True),
        (401, FailureReason.REJECTED, False),
        (410, FailureReason.REJECTED, False),
    ],
)
async def test_answers_are_classified(
    settings: Settings, status: int, reason: FailureReason, retryable: bool
) -> None:
    async with http_server() as server:
        server.default = Reply(status)
        channel = webhook_channel(settings, server.url)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message("webhook"))
        await channel.close()
    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)


def test_verify_signature() -> None:
    body = b'{"a":1}'
    header = signature(b"k", 100, body)
    assert verify_signature(b"k", "100", body, header, now=150)
    assert not verify_signature(b"k", "100", body + b" ", header, now=150)
    assert not verify_signature(b"k", "101", body, header, now=150)
    assert not verify_signature(b"other", "100", body, header, now=150)
    assert not verify_signature(b"k", "100", body, header, now=1000)
    assert not verify_signature(b"k", "x", body, header, now=150)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"secret": None}, "channels.hook.secret: is required"),
        ({"header_Content_Type": "text/plain"}, "channels.hook.header_Content_Type"),
        ({"header_X_Slawatch_Signature": "x"}, "cannot be replaced"),
        ({"header_Bad_Näme": "x"}, "not a valid header name"),
        ({"header_X": "a\r\nInjected: 1"}, "line break"),
        ({"header_X_Team": "équipe"}, "must be ASCII"),
        ({"url": "ftp://example.com/x"}, "http:// or https://"),
    ],
)
def test_bad_settings(settings: Settings, values: dict[str, Any], problem: str) -> None:
    pairs = tuple({"url": "https://example.com/hook", "secret": "s", **values}.items())
    definition = ChannelDefinition(id="hook", type="webhook", settings=pairs)
    with pytest.raises(ChannelSettingsError) as caught:
        build_channels({"hook": definition}, {}, settings=settings)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
