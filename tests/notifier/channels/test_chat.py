"""Slack, Teams and Mattermost channels against a real local HTTP server: payload shapes
per type, the notification id in each, and how HTTP failures are classified."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch_notifier.channels import Channel, ChannelError, FailureReason, build_channels
from tests.notifier.channels.making import ACK, breach_event, message, notification
from tests.notifier.channels.servers import (
    HttpRecorder,
    Reply,
    closed_port,
    http_server,
    server_context,
)

HOOK_PATH = "/services/T000/B000/SECRETxyz"


def chat_channel(settings: Settings, kind: str, url: str, **values: Any) -> Channel:
    pairs = tuple({"webhook_url": url, "timeout": 2, **values}.items())
    definition = ChannelDefinition(id="chat", type=kind, settings=pairs)
    return build_channels({"chat": definition}, {}, settings=settings)["chat"]


async def post_one(
    settings: Settings,
    kind: str,
    server: HttpRecorder,
    recipient: str = "#support-gold",
    **values: Any,
) -> tuple[dict[str, Any], Mapping[str, str]]:
    channel = chat_channel(settings, kind, server.url + HOOK_PATH, **values)
    record = notification(channel="chat", recipient=recipient)
    await channel.send(message(kind, record=record))
    await channel.close()
    request = server.requests[-1]
    assert request.method == "POST"
    assert request.path == HOOK_PATH
    assert request.headers["content-type"] == "application/json"
    return orjson.loads(request.body), request.headers


async def test_slack_payload(settings: Settings) -> None:
    async with http_server() as server:
        body, _ = await post_one(settings, "slack", server)
    record = notification(channel="chat", recipient="#support-gold")
    section, context = body["blocks"]
    assert body["text"].startswith("[slawatch] SLA breached: ticket:T-1")
    assert section["block_id"] == f"slawatch-{record['id']}"
    assert section["text"]["type"] == "mrkdwn"
    assert "Goal 8h (nl-office) missed" in section["text"]["text"]
    assert ACK in section["text"]["text"]
    assert context["elements"][0]["text"] == f"slawatch notification {record['id']}"
    assert "channel" not in body


async def test_slack_escapes_control_characters(settings: Settings) -> None:
    async with http_server() as server:
        channel = chat_channel(settings, "slack", server.url + HOOK_PATH)
        record = notification(channel="chat", recipient="#x", subject="ticket:<T&1>")
        await channel.send(message("slack", record=record))
        await channel.close()
        body = orjson.loads(server.requests[0].body)
    assert "ticket:&lt;T&amp;1&gt;" in body["text"]
    assert "<T&1>" not in body["blocks"][0]["text"]["text"]


async def test_teams_adaptive_card(settings: Settings) -> None:
    async with http_server() as server:
        server.default = Reply(202, b"")
        body, _ = await post_one(settings, "teams", server)
    record = notification(channel="chat", recipient="#support-gold")
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, text, footer = card["body"]
    assert title["text"].startswith("[slawatch] SLA breached")
    assert "missed" in text["text"]
    assert footer["id"] == f"slawatch-{record['id']}"
    assert record["id"] in footer["text"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Acknowledge", "url": ACK}]


@pytest.mark.parametrize(
    ("address", "mention"),
    [("U012AB3CD", "<@U012AB3CD>"), ("<@W0123ABC>", "<@W0123ABC>"),
     ("S0614TZR7", "<!subteam^S0614TZR7>"), ("@here", "<!here>"), ("#support", None),
     ("lead", None)],
)  # fmt: skip
async def test_slack_mentions_the_person_or_group_addressed(
    settings: Settings, address: str, mention: str | None
) -> None:
    async with http_server() as server:
        body, _ = await post_one(settings, "slack", server, recipient=address)
    section = body["blocks"][0]["text"]["text"]
    if mention is None:
        assert body["text"].startswith("[slawatch]") and section.startswith("*[slawatch]")
    else:
        assert body["text"].startswith(f"{mention} [slawatch]")
        assert section.startswith(f"{mention} *[slawatch]")


async def test_teams_mentions_a_user_addressed_by_email(settings: Settings) -> None:
    async with http_server() as server:
        server.default = Reply(202, b"")
        body, _ = await post_one(settings, "teams", server, recipient="ann@example.com")
    card = body["attachments"][0]["content"]
    assert card["body"][0]["text"].startswith("<at>ann@example.com</at> [slawatch]")
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>ann@example.com</at>",
         "mentioned": {"id": "ann@example.com", "name": "ann@example.com"}}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("address", "expected"),
    [("#town-square", "town-square"), ("@alice", "@alice"), ("leads", None)],
)
async def test_mattermost_payload(settings: Settings, address: str, expected: str | None) -> None:
    async with http_server() as server:
        body, _ = await post_one(
            settings,
            "mattermost",
            server,
            recipient=address,
            username="sla-bot",
            icon_url="https://example.com/icon.png",
        )
    record = notification(channel="chat", recipient=address)
    assert body["text"].startswith("#### [slawatch] SLA breached")
    assert body["username"] == "sla-bot"
    assert body["icon_url"] == "https://example.com/icon.png"
    assert body["props"] == {"slawatch_notification_id": record["id"]}
    assert body.get("channel") == expected


async def test_retraction_has_no_ack_button(settings: Settings) -> None:
    async with http_server() as server:
        channel = chat_channel(settings, "teams", server.url + HOOK_PATH)
        record = notification(channel="chat", recipient="#x", notice="retraction")
        await channel.send(message("teams", record=record, event=breach_event()))
        await channel.close()
        card = orjson.loads(server.requests[0].body)["attachments"][0]["content"]
    assert "actions" not in card
    assert "Withdrawn" in card["body"][1]["text"]


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (500, FailureReason.SERVER_ERROR, True),
        (503, FailureReason.SERVER_ERROR, True),
        (408, FailureReason.SERVER_ERROR, True),
        (429, FailureReason.RATE_LIMITED, True),
        (400, FailureReason.REJECTED, False),
        (403, FailureReason.REJECTED, False),
        (404, FailureReason.REJECTED, False),
        (301, FailureReason.REDIRECTED, False),
    ],
)
@pytest.mark.parametrize("kind", ["slack", "teams", "mattermost"])
async def test_http_answers_are_classified(
    settings: Settings, kind: str, status: int, reason: FailureReason, retryable: bool
) -> None:
    async with http_server() as server:
        server.default = Reply(status, b"invalid_payload")
        channel = chat_channel(settings, kind, server.url + HOOK_PATH)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message(kind))
        await channel.close()
    error = caught.value
    assert (error.reason, error.retryable) == (reason, retryable)
    assert str(status) in str(error)
    assert "SECRET" not in str(error)


async def test_rate_limit_keeps_retry_after(settings: Settings) -> None:
    async with http_server() as server:
        server.default = Reply(429, b"slow down", headers=(("Retry-After", "7"),))
        channel = chat_channel(settings, "slack", server.url + HOOK_PATH)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message("slack"))
        await channel.close()
    assert caught.value.retry_after == 7.0


async def test_a_server_that_does_not_answer_times_out(settings: Settings) -> None:
    async with http_server() as server:
        server.default = Reply(200, delay=2.0)
        channel = chat_channel(settings, "slack", server.url + HOOK_PATH, timeout=0.2)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message("slack"))
        await channel.close()
    assert caught.value.reason == FailureReason.TIMEOUT
    assert caught.value.retryable


async def test_connection_refused_is_retryable(settings: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}{HOOK_PATH}"
    channel = chat_channel(settings, "mattermost", url)
    with pytest.raises(ChannelError) as caught:
        await channel.send(message("mattermost"))
    await channel.close()
    assert caught.value.reason == FailureReason.CONNECTION
    assert caught.value.retryable
    assert "SECRET" not in str(caught.value)


async def test_https_needs_a_trusted_certificate(
    settings: Settings, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with http_server(tls=server_context(cert, key)) as server:
        untrusting = chat_channel(settings, "slack", server.url + HOOK_PATH)
        with pytest.raises(ChannelError) as caught:
            await untrusting.send(message("slack"))
        await untrusting.close()
        trusting = chat_channel(settings, "slack", server.url + HOOK_PATH, ca_file=str(cert))
        await trusting.send(message("slack"))
        await trusting.close()
    assert caught.value.reason == FailureReason.TLS
    assert not caught.value.retryable
    assert len(server.requests) == 1


async def test_one_client_serves_many_sends(settings: Settings) -> None:
    async with http_server() as server:
        channel = chat_channel(settings, "slack", server.url + HOOK_PATH)
        for _ in range(3):
            await channel.send(message("slack"))
        await channel.close()
        await channel.close()
    assert len(server.requests) == 3
