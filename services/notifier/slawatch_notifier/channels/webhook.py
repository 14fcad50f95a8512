"""A generic JSON webhook, signed with HMAC-SHA256.

Settings (``type: webhook``): ``url`` (required), ``secret`` (required, usually
``"${WEBHOOK_SECRET}"``), ``header_NAME: value`` for extra request headers (settings
are scalars, so each header is one key: the part after ``header_``, with ``_`` written
as ``-``; ``header_Authorization: "Bearer ${TOKEN}"`` sends ``Authorization``,
``header_X_Team: sre`` sends ``X-Team``), and the HTTP settings of
:mod:`~slawatch_notifier.channels.http`. Extra headers may not replace
``Content-Type``, ``Content-Length``, ``Host``, ``Transfer-Encoding`` or any
``X-Slawatch-*`` header.

The body is compact JSON (UTF-8)::

    {"notification": <the notification record>, "event": <the SLA event or null>,
     "message": {"subject": "...", "text": "..."}}

with these headers:

- ``X-Slawatch-Notification-Id``: the record's id (the same on a repeated send);
- ``X-Slawatch-Timestamp``: Unix seconds when the request was signed;
- ``X-Slawatch-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256, keyed with
  the secret's UTF-8 bytes, of the timestamp, a ``.``, and the exact body bytes.

A receiver verifies by recomputing the HMAC over ``<timestamp>.<raw body>``, comparing
in constant time, and rejecting a timestamp far from its clock (a replay);
:func:`verify_signature` does this.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

import orjson

from slawatch_notifier.channels.base import ChannelType
from slawatch_notifier.channels.config import BuildContext, SettingsReader
from slawatch_notifier.channels.http import JsonPoster, read_target
from slawatch_notifier.messages import Message

__all__ = [
    "NOTIFICATION_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookChannel",
    "build",
    "signature",
    "verify_signature",
    "webhook_body",
]

SIGNATURE_HEADER = "X-Slawatch-Signature"
TIMESTAMP_HEADER = "X-Slawatch-Timestamp"
NOTIFICATION_HEADER = "X-Slawatch-Notification-Id"
_RESERVED = frozenset({"content-type", "content-length", "host", "transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def webhook_body(message: Message) -> bytes:
    """The request body of one message."""
    return orjson.dumps(
        {
            "notification": message.record,
            "event": message.event,
            "message": {"subject": message.subject, "text": message.text},
        }
    )


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance: float = 300.0,
) -> bool:
    """Whether a request's signature header matches and its timestamp is recent enough."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


class WebhookChannel:
    """POSTs the record, the event and the rendered message, signed."""

    type = ChannelType.WEBHOOK.value

    def __init__(
        self,
        name: str,
        poster: JsonPoster,
        secret: bytes,
        headers: dict[str, str],
        clock: Callable[[], float],
    ) -> None:
        self.name = name
        self._poster = poster
        self._secret = secret
        self._headers = headers
        self._clock = clock

    async def send(self, message: Message) -> None:
        """POST the signed body; raise ChannelError (see the ``http`` module)."""
        body = webhook_body(message)
        stamp = int(self._clock())
        headers = {
            **self._headers,
            NOTIFICATION_HEADER: message.notification_id,
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature(self._secret, stamp, body),
        }
        await self._poster.post(body, headers)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._poster.close()

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r}, {self._poster.target!r})"


def _headers(read: SettingsReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for suffix, value in read.prefixed("header_").items():
        name = suffix.replace("_", "-")
        key = "header_" + suffix
        if not _TOKEN.fullmatch(name):
            read.problem(key, f"{name!r} is not a valid header name")
        elif name.lower() in _RESERVED or name.lower().startswith("x-slawatch-"):
            read.problem(key, f"the {name} header is set by the channel and cannot be replaced")
        elif "\r" in value or "\n" in value:
            read.problem(key, "a header value cannot contain a line break")
        elif not value.isascii():
            read.problem(key, "a header value must be ASCII (HTTP sends no other text)")
        else:
            headers[name] = value
    return headers


def build(
    name: str, kind: ChannelType, read: SettingsReader, context: BuildContext
) -> WebhookChannel:
    """A webhook channel from its settings; problems go to the reader."""
    poster = JsonPoster(read_target(read, "url"), clock=context.clock)
    secret = read.required("secret").encode()
    return WebhookChannel(name, poster, secret, _headers(read), context.clock)
