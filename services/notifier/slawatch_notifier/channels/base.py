"""The delivery port: what a channel promises, how it fails, and how channels are built.

A :class:`Channel` delivers one :class:`~slawatch_notifier.messages.Message` to one
address. :meth:`Channel.send` returns once the remote side accepted the message (an
SMTP server queued it, a webhook answered 2xx) and raises :class:`ChannelError`
otherwise; it never retries by itself (:mod:`~slawatch_notifier.channels.retry` does).
Every send carries ids derived from the notification's id (the email ``Message-ID``,
the chat payload id, the webhook's ``X-Slawatch-Notification-Id``), so a receiver can
drop the repeat of a send that a crash made the notifier do twice (rule 30).

:func:`build_channels` turns the definitions' ``channels`` into channels, expanding
``${VAR}`` from the environment it is given. It checks every setting of every channel
before building any, and raises one :class:`ChannelSettingsError` listing every unset
variable, missing, unknown or bad setting. Building opens no connection; HTTP clients
are created on the first send, and :meth:`Channel.close` releases them.

Errors::

    ChannelError                   a send failed; ``retryable`` says whether trying
                                   again may help, ``reason`` (a :class:`FailureReason`)
                                   is short and bounded, for logs and metric labels,
                                   ``retry_after`` the wait a server asked for
    slawatch.errors.ConfigurationError
     └── ChannelSettingsError      build_channels: every problem, in ``problems``

Messages of these errors never contain a secret: a webhook URL is shown by its host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TextIO

from slawatch.definitions import unset_env_references
from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.definitions.model import Definitions
from slawatch.errors import ConfigurationError
from slawatch.settings import Settings
from slawatch_notifier.channels.config import BuildContext, SettingsReader

if TYPE_CHECKING:
    from slawatch_notifier.messages import Message

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelSettingsError",
    "ChannelType",
    "FailureReason",
    "build_channels",
]


class ChannelType(StrEnum):
    """The ``type`` of a channel in the definitions."""

    SMTP = "smtp"
    """Email through an SMTP server."""
    SLACK = "slack"
    """A Slack incoming webhook."""
    TEAMS = "teams"
    """A Microsoft Teams incoming webhook (a Workflows or connector URL)."""
    MATTERMOST = "mattermost"
    """A Mattermost incoming webhook."""
    WEBHOOK = "webhook"
    """A generic JSON webhook, signed with HMAC-SHA256."""
    CONSOLE = "console"
    """One line per message on a stream (``make run``)."""


class FailureReason(StrEnum):
    """Why a send failed: a bounded set, fit for a metric label."""

    TIMEOUT = "timeout"
    """No answer in time (connecting, or waiting for a reply)."""
    CONNECTION = "connection"
    """The connection could not be made or was lost."""
    TLS = "tls"
    """The TLS handshake or the certificate check failed."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429: the server asks to slow down."""
    SERVER_ERROR = "server_error"
    """HTTP 5xx or 408: the server failed for now."""
    REJECTED = "rejected"
    """HTTP 4xx (other than 408 and 429): the request will not be accepted as it is."""
    REDIRECTED = "redirected"
    """HTTP 3xx: redirects are not followed; fix the URL."""
    SMTP_TEMPORARY = "smtp_temporary"
    """An SMTP 4xx reply (421, 450, 451, 452): try again later."""
    SMTP_PERMANENT = "smtp_permanent"
    """An SMTP 5xx reply (550, 553, 554, ...): the message will not be accepted."""
    AUTH = "auth"
    """The SMTP server refused the credentials."""
    UNSUPPORTED = "unsupported"
    """The SMTP server lacks something the settings require (STARTTLS, AUTH)."""
    INTERNAL = "internal"
    """slawatch could not build or send the message (a template or header it could not
    encode, a bug): not retried, logged with its traceback."""


class ChannelError(Exception):
    """A send failed.

    ``reason`` is a :class:`FailureReason` value; ``retryable`` says whether the same
    message may succeed later; ``retry_after`` is the wait in seconds the server asked
    for (HTTP ``Retry-After``), if any. ``str()`` gives the reason and the detail.
    """

    def __init__(
        self,
        reason: FailureReason,
        detail: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason: str = reason.value
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


class ChannelSettingsError(ConfigurationError):
    """The channels cannot be built; ``problems`` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the notifier's channels are not usable as configured:\n{listed}")
        self.problems = list(problems)


class Channel(Protocol):
    """A delivery channel: ``name`` as in the definitions, ``type`` a :class:`ChannelType`."""

    name: str
    type: str

    async def send(self, message: Message) -> None:
        """Deliver one message; return once the remote accepted it, else raise ChannelError."""
        ...

    async def close(self) -> None:
        """Release connections; the channel is not used after this."""
        ...


Factory = Callable[[str, ChannelType, SettingsReader, BuildContext], Channel]


def _factories() -> dict[ChannelType, Factory]:
    # The channel modules import this one (for ChannelError), so they are imported late.
    from slawatch_notifier.channels.chat import build as chat
    from slawatch_notifier.channels.console import build as console
    from slawatch_notifier.channels.smtp import build as smtp
    from slawatch_notifier.channels.webhook import build as webhook

    return {
        ChannelType.SMTP: smtp,
        ChannelType.SLACK: chat,
        ChannelType.TEAMS: chat,
        ChannelType.MATTERMOST: chat,
        ChannelType.WEBHOOK: webhook,
        ChannelType.CONSOLE: console,
    }


def build_channels(
    definitions_channels: Mapping[str, ChannelDefinition],
    environ: Mapping[str, str],
    *,
    settings: Settings,
    clock: Callable[[], float] = time.time,
    stream: TextIO | None = None,
    directory: Definitions | None = None,
    unset_is_problem: bool = True,
) -> dict[str, Channel]:
    """Every channel of the definitions, by name; raises ChannelSettingsError.

    ``environ`` is where ``${VAR}`` is looked up (pass ``os.environ`` from ``main``);
    with ``directory``, the definitions whose people and teams are notified, a
    ``${VAR}`` in their addresses must be set too (the sender replaces it).
    ``clock`` (Unix seconds) stamps webhook signatures; ``stream`` is the console
    channel's output (default: standard output). ``settings`` holds the service-wide
    settings; no channel option is read from it yet. With ``unset_is_problem`` false, a
    setting whose variable is unset is left at its default instead of being a problem.
    """
    context = BuildContext(settings=settings, clock=clock, stream=stream)
    factories = _factories()
    problems: list[str] = []
    built: dict[str, Channel] = {}
    for name, definition in definitions_channels.items():
        reader = SettingsReader(name, definition.settings, environ, problems, unset_is_problem)
        try:
            kind = ChannelType(definition.type)
        except ValueError:
            known = ", ".join(t.value for t in ChannelType)
            problems.append(f"channels.{name}.type: unknown type {definition.type!r}; use {known}")
            continue
        built[name] = factories[kind](name, kind, reader, context)
        reader.finish()
    if directory is not None:
        unset = unset_env_references(directory, environ, channels=False)
        problems += [f"{p.path}: {p.message}" for p in unset]
    if problems:
        raise ChannelSettingsError(problems)
    return built
