"""The smtp channel against a real SMTP server (aiosmtpd): plain, STARTTLS, TLS, AUTH,
headers, Message-ID determinism, and which failures are retryable."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch_notifier.channels import Channel, ChannelError, FailureReason, build_channels
from tests.notifier.channels.making import ACK, message, notification
from tests.notifier.channels.servers import (
    HOST,
    SmtpSink,
    closed_port,
    server_context,
    silent_server,
    smtp_server,
)

FROM = "slawatch@alerts.example.com"


def smtp_channel(
    settings: Settings, environ: Mapping[str, str] | None = None, **values: Any
) -> Channel:
    pairs = tuple({"host": HOST, "from": FROM, "timeout": 5, **values}.items())
    definition = ChannelDefinition(id="email", type="smtp", settings=pairs)
    return build_channels({"email": definition}, environ or {}, settings=settings)["email"]


async def test_plain_delivery_with_headers_and_both_parts(settings: Settings) -> None:
    sink = SmtpSink()
    async with smtp_server(sink) as port:
        channel = smtp_channel(settings, port=port, starttls=False)
        msg = message()
        await channel.send(msg)
        await channel.close()
    (got,) = sink.received
    assert got.sender == FROM
    assert got.recipients == ["leads@example.com"]
    mail = got.mail
    assert mail["Subject"] == msg.subject
    assert mail["From"] == FROM
    assert mail["To"] == "leads@example.com"
    assert mail["Date"] == "Mon, 02 Mar 2026 17:40:00 +0000"
    assert mail["Message-ID"] == f"<{msg.notification_id}@alerts.example.com>"
    assert mail["X-Slawatch-Notification"] == msg.notification_id
    assert mail["X-Slawatch-Subject"] == "ticket:T-1"
    assert mail["X-Slawatch-Escalation"] == "gold-chain"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert ACK in text.get_content()
    assert ACK.replace("&", "&amp;") in html.get_content()
    assert "SLA breached" in text.get_content()
    assert not got.tls and not got.authenticated


async def test_message_id_is_the_same_on_a_repeated_send(settings: Settings) -> None:
    sink = SmtpSink()
    async with smtp_server(sink) as port:
        channel = smtp_channel(settings, port=port, starttls=False)
        await channel.send(message())
        await channel.send(message())
        other = notification(recipient="duty@example.com")
        await channel.send(message(record=other))
    first, again, third = (r.mail for r in sink.received)
    assert first["Message-ID"] == again["Message-ID"]
    assert sink.received[0].raw == sink.received[1].raw
    assert third["Message-ID"] != first["Message-ID"]
    assert third["Message-ID"] == f"<{other['id']}@alerts.example.com>"


async def test_retraction_replies_to_the_notification_it_withdraws(settings: Settings) -> None:
    sink = SmtpSink()
    step = notification()
    withdrawal = notification(notice="retraction")
    async with smtp_server(sink) as port:
        channel = smtp_channel(settings, port=port, starttls=False)
        await channel.send(message(record=step))
        await channel.send(message(record=withdrawal))
    first, second = (r.mail for r in sink.received)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]
    assert second["Message-ID"] != first["Message-ID"]
    body = second.get_body(("plain",))
    assert body is not None and "withdrawn" in body.get_content()


async def test_starttls_with_auth(settings: Settings, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    sink = SmtpSink()
    async with smtp_server(
        sink, starttls=server_context(cert, key), users={"notifier": "pw"}
    ) as port:
        channel = smtp_channel(
            settings,
            {"SMTP_PASSWORD": "pw"},
            port=port,
            starttls=True,
            ca_file=str(cert),
            username="notifier",
            password="${SMTP_PASSWORD}",
        )
        await channel.send(message())
    (got,) = sink.received
    assert got.tls and got.authenticated


async def test_refused_credentials_are_permanent(
    settings: Settings, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    sink = SmtpSink()
    async with smtp_server(sink, starttls=server_context(cert, key), users={"a": "b"}) as port:
        channel = smtp_channel(
            settings, port=port, ca_file=str(cert), username="a", password="wrong"
        )
        with pytest.raises(ChannelError) as caught:
            await channel.send(message())
    assert caught.value.reason == FailureReason.AUTH
    assert not caught.value.retryable
    assert sink.received == []


async def test_implicit_tls(settings: Settings, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    sink = SmtpSink()
    async with smtp_server(sink, implicit=server_context(cert, key)) as port:
        channel = smtp_channel(settings, port=port, ssl=True, ca_file=str(cert))
        await channel.send(message())
    assert sink.received[0].tls


async def test_untrusted_certificate_is_a_tls_failure(
    settings: Settings, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with smtp_server(SmtpSink(), starttls=server_context(cert, key)) as port:
        channel = smtp_channel(settings, port=port)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message())
    assert caught.value.reason == FailureReason.TLS
    assert not caught.value.retryable


async def test_starttls_required_but_not_offered(settings: Settings) -> None:
    async with smtp_server(SmtpSink()) as port:
        channel = smtp_channel(settings, port=port, starttls=True)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message())
    assert caught.value.reason == FailureReason.UNSUPPORTED
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("command", "reply", "reason", "retryable"),
    [
        ("MAIL", "421 4.3.2 Service shutting down", FailureReason.SMTP_TEMPORARY, True),
        ("RCPT", "451 4.7.1 Greylisted, try again later", FailureReason.SMTP_TEMPORARY, True),
        ("RCPT", "452 4.2.2 Mailbox full", FailureReason.SMTP_TEMPORARY, True),
        ("DATA", "451 4.3.0 Local error", FailureReason.SMTP_TEMPORARY, True),
        ("RCPT", "550 5.1.1 No such user", FailureReason.SMTP_PERMANENT, False),
        ("MAIL", "553 5.7.1 Sender rejected", FailureReason.SMTP_PERMANENT, False),
        ("DATA", "554 5.6.0 Message rejected", FailureReason.SMTP_PERMANENT, False),
    ],
)
async def test_server_replies_are_classified(
    settings: Settings, command: str, reply: str, reason: FailureReason, retryable: bool
) -> None:
    sink = SmtpSink(replies={command: reply})
    async with smtp_server(sink) as port:
        channel = smtp_channel(settings, port=port, starttls=False)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message())
    assert caught.value.reason == reason
    assert caught.value.retryable is retryable
    assert reply.split()[0] in str(caught.value)
    assert sink.received == []


async def test_connection_refused_is_retryable(settings: Settings) -> None:
    channel = smtp_channel(settings, port=closed_port(), starttls=False)
    with pytest.raises(ChannelError) as caught:
        await channel.send(message())
    assert caught.value.reason == FailureReason.CONNECTION
    assert caught.value.retryable


async def test_a_server_that_never_greets_times_out(settings: Settings) -> None:
    async with silent_server() as port:
        channel = smtp_channel(settings, port=port, starttls=False, timeout=0.3)
        with pytest.raises(ChannelError) as caught:
            await channel.send(message())
    assert caught.value.reason == FailureReason.TIMEOUT
    assert caught.value.retryable


async def test_a_recipient_that_is_not_an_address_is_rejected(settings: Settings) -> None:
    channel = smtp_channel(settings, port=closed_port(), starttls=False)
    with pytest.raises(ChannelError) as caught:
        await channel.send(message(record=notification(recipient="#support")))
    assert caught.value.reason == FailureReason.REJECTED
    assert not caught.value.retryable
