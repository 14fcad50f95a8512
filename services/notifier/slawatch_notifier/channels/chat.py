"""Chat through incoming webhooks: Slack, Microsoft Teams and Mattermost.

Settings: ``webhook_url`` (required) and the HTTP settings of
:mod:`~slawatch_notifier.channels.http` (``timeout``, ``verify``, ``ca_file``,
``proxy``); Mattermost also takes ``username`` (default ``slawatch``) and ``icon_url``.

Each message is one POST; the message's subject is its title and its text (the
``chat_text.txt`` template) its body. Every payload carries the notification id, so a
repeated send can be recognised:

- **slack**: ``text`` (the subject, for notifications and clients without blocks),
  a ``section`` block whose ``block_id`` is ``slawatch-<id>`` with the subject in bold
  and the text, and a ``context`` block ``slawatch notification <id>``. ``&``, ``<``
  and ``>`` are escaped as Slack asks. A Slack incoming webhook posts to the channel it
  was created for, so a person is reached by a mention: an address that is a member id
  (``U012AB3CD``), a user group id (``S0614TZR7``), ``@here`` or ``@channel`` starts the
  text and the section with it (:func:`slack_mention`); a channel name (``#support``)
  is informational.
- **teams**: an Adaptive Card 1.4 in the ``message``/``attachments`` envelope that
  Teams Workflows ("Post to a channel when a webhook request is received") and the
  older connectors accept; the legacy MessageCard format is being retired by
  Microsoft, so it is not used. The last TextBlock has ``id`` ``slawatch-<id>`` and
  shows the notification id; the acknowledgement link (in the text too) is also an
  ``Action.OpenUrl`` button. Lines of the text are separate paragraphs. An address
  that is an email (a user's UPN) is mentioned: ``<at>ann@example.com</at>`` before the
  title, with its ``msteams.entities`` mention, so Teams notifies that person; any
  other address is informational.
- **mattermost**: ``text`` (Markdown: the subject as a heading, then the text),
  ``username``, ``icon_url`` when set, ``props.slawatch_notification_id``, and
  ``channel`` from the address: ``#town-square`` posts to channel ``town-square``,
  ``@alice`` sends a direct message, any other address leaves the webhook's channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from slawatch_notifier.channels.base import ChannelType
from slawatch_notifier.channels.config import BuildContext, SettingsReader
from slawatch_notifier.channels.http import JsonPoster, read_target
from slawatch_notifier.messages import Message

__all__ = [
    "ChatChannel",
    "build",
    "mattermost_payload",
    "payload_id",
    "slack_mention",
    "slack_payload",
    "teams_payload",
]

_SLACK_SECTION_LIMIT = 3000


def payload_id(message: Message) -> str:
    """The id a chat payload carries: ``slawatch-<notification id>``."""
    return f"slawatch-{message.notification_id}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]{2,}")
_SLACK_SPECIAL = {"@here": "<!here>", "@channel": "<!channel>", "@everyone": "<!everyone>"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def slack_mention(address: str) -> str | None:
    """How Slack notifies an address: a member id (``U012AB3CD``) or ``<@U012AB3CD>``,
    a user group id (``S0614TZR7``), ``@here``, ``@channel``; ``None`` for a channel name
    or anything else (the webhook's own channel is posted to)."""
    address = address.strip()
    if address in _SLACK_SPECIAL:
        return _SLACK_SPECIAL[address]
    bare = address.removeprefix("<@").removesuffix(">")
    if _SLACK_USER.fullmatch(bare):
        return f"<@{bare}>"
    if _SLACK_GROUP.fullmatch(address):
        return f"<!subteam^{address}>"
    return None


def slack_payload(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook payload."""
    mention = slack_mention(message.recipient)
    lead = f"{mention} " if mention else ""
    body = f"{lead}*{_slack_escape(message.subject)}*\n{_slack_escape(message.text.strip())}"
    if len(body) > _SLACK_SECTION_LIMIT:
        body = body[: _SLACK_SECTION_LIMIT - 1] + "…"
    return {
        "text": lead + _slack_escape(message.subject),
        "blocks": [
            {
                "type": "section",
                "block_id": payload_id(message),
                "text": {"type": "mrkdwn", "text": body},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"slawatch notification {message.notification_id}"}
                ],
            },
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def teams_payload(message: Message) -> dict[str, Any]:
    """A Teams payload: one Adaptive Card in a message envelope."""
    paragraphs = "\n\n".join(line for line in message.text.strip().splitlines() if line.strip())
    actions = []
    if message.ack_url and message.record.get("notice") != "retraction":
        actions.append({"type": "Action.OpenUrl", "title": "Acknowledge", "url": message.ack_url})
    address = message.recipient.strip()
    mentioned = _EMAIL.fullmatch(address) is not None
    title = f"<at>{address}</at> {message.subject}" if mentioned else message.subject
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": paragraphs, "wrap": True},
            {
                "type": "TextBlock",
                "id": payload_id(message),
                "text": f"slawatch notification {message.notification_id}",
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            },
        ],
    }
    if actions:
        card["actions"] = actions
    if mentioned:
        card["msteams"] = {
            "entities": [
                {
                    "type": "mention",
                    "text": f"<at>{address}</at>",
                    "mentioned": {"id": address, "name": address},
                }
            ]
        }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def mattermost_payload(
    message: Message, *, username: str = "slawatch", icon_url: str | None = None
) -> dict[str, Any]:
    """A Mattermost incoming-webhook payload."""
    payload: dict[str, Any] = {
        "text": f"#### {message.subject}\n{message.text.strip()}",
        "username": username,
        "props": {"slawatch_notification_id": message.notification_id},
    }
    if icon_url:
        payload["icon_url"] = icon_url
    address = message.recipient.strip()
    if address.startswith("#") and len(address) > 1:
        payload["channel"] = address[1:]
    elif address.startswith("@") and len(address) > 1:
        payload["channel"] = address
    return payload


class ChatChannel:
    """Posts each message to a chat webhook, in the payload shape of its type."""

    def __init__(
        self,
        name: str,
        kind: ChannelType,
        poster: JsonPoster,
        payload: Callable[[Message], dict[str, Any]],
    ) -> None:
        self.name = name
        self.type = kind.value
        self._poster = poster
        self._payload = payload

    async def send(self, message: Message) -> None:
        """POST the payload; raise ChannelError (see :mod:`~slawatch_notifier.channels.http`)."""
        await self._poster.post(orjson.dumps(self._payload(message)), {})

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._poster.close()

    def __repr__(self) -> str:
        return f"ChatChannel({self.name!r}, {self.type!r}, {self._poster.target!r})"


def build(name: str, kind: ChannelType, read: SettingsReader, context: BuildContext) -> ChatChannel:
    """A Slack, Teams or Mattermost channel from its settings; problems go to the reader."""
    poster = JsonPoster(read_target(read, "webhook_url"), clock=context.clock)
    payload: Callable[[Message], dict[str, Any]]
    if kind is ChannelType.MATTERMOST:
        username = read.text("username", default="slawatch") or "slawatch"
        icon_url = read.url("icon_url", required=False) or None

        def payload(message: Message) -> dict[str, Any]:
            return mattermost_payload(message, username=username, icon_url=icon_url)

    elif kind is ChannelType.TEAMS:
        payload = teams_payload
    else:
        payload = slack_payload
    return ChatChannel(name, kind, poster, payload)
