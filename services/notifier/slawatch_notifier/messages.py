"""What a notification says: the :class:`Message` a channel delivers, rendered from templates.

:func:`render` turns a notification record (``events.md``, "Notifications") and the SLA
event that caused it into a subject, a text and an HTML body, with Jinja2 templates:

============================  ======================================================
``email_subject.txt``         one line; line breaks are folded into spaces
``email_text.txt``            the plain-text part of an email, and the webhook's text
``email_html.html``           the HTML part of an email (autoescaped)
``chat_text.txt``             the text of Slack, Teams and Mattermost messages
============================  ======================================================

The defaults are packaged in :mod:`slawatch_notifier.templates`. A file of the same name
in ``templates_dir`` replaces one default (a Jinja2 ``ChoiceLoader``: the user's
directory first). Templates see the raw ``record`` and ``event`` (``{}`` when unknown)
and the fields :func:`view` derives from them (``headline``, ``late_by``, ...). A key
that is absent, or ``null``, renders as nothing, at any depth
(``{{ event.labels.priority }}`` with no event is ``""``): templates never fail on
missing data. A user template that fails
anyway (a bad filter, a division by zero) is logged and the packaged default is used,
so a notification is never lost to a template; :func:`check_templates` finds syntax
errors at start-up. Templates are read once per directory and process: restart the
notifier after changing one.

:func:`compose` builds the :class:`Message` for a channel type: chat channels get
``chat_text.txt`` as their text and no HTML.

Errors::

    slawatch.errors.ConfigurationError    check_templates: a user template does not compile
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader

from slawatch.clock.catalog import Catalog
from slawatch.errors import ConfigurationError
from slawatch.observability.logs import get_logger
from slawatch_notifier.channels.base import ChannelType
from slawatch_notifier.templates.context import FILTERS, view

__all__ = [
    "Message",
    "Style",
    "TemplateName",
    "check_templates",
    "compose",
    "local_zone",
    "render",
    "view",
]

_log = get_logger(__name__)
_CHAT_TYPES = frozenset({ChannelType.SLACK, ChannelType.TEAMS, ChannelType.MATTERMOST})
_SPACES = re.compile(r"\s+")


class TemplateName(StrEnum):
    """The templates a user may override, by file name."""

    EMAIL_SUBJECT = "email_subject.txt"
    EMAIL_TEXT = "email_text.txt"
    EMAIL_HTML = "email_html.html"
    CHAT_TEXT = "chat_text.txt"


class Style(StrEnum):
    """Which templates a channel's messages use."""

    EMAIL = "email"
    """Subject, plain text and HTML (smtp, webhook, console)."""
    CHAT = "chat"
    """Subject and the shorter chat text, no HTML (slack, teams, mattermost)."""

    @classmethod
    def of(cls, channel_type: str) -> Style:
        """The style of a channel type."""
        return cls.CHAT if channel_type in _CHAT_TYPES else cls.EMAIL


@dataclass(frozen=True)
class Message:
    """One message for one address, ready for a channel.

    ``notification_id`` is the notification record's id; the email ``Message-ID`` and
    the chat payload ids derive from it. ``channel`` is the channel's name in the
    definitions and ``recipient`` the address; ``record`` is the notification record,
    ``event`` the SLA event that caused it (its body), when known.
    """

    notification_id: str
    channel: str
    recipient: str
    subject: str
    text: str
    html: str | None
    record: dict[str, Any]
    event: dict[str, Any] | None
    ack_url: str | None


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _new_environment(templates_dir: Path | None) -> Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders.append(PackageLoader("slawatch_notifier", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default=False),
        undefined=ChainableUndefined,
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(FILTERS)
    return env


_environment = functools.lru_cache(maxsize=16)(_new_environment)


def _overridden(name: TemplateName, templates_dir: Path | None) -> bool:
    return templates_dir is not None and (templates_dir / name.value).is_file()


def _render_one(name: TemplateName, context: dict[str, Any], templates_dir: Path | None) -> str:
    try:
        return _environment(templates_dir).get_template(name.value).render(context)
    except Exception as error:
        if not _overridden(name, templates_dir):
            raise
        _log.warning(
            "user template failed; using the default",
            template=name.value,
            templates_dir=str(templates_dir),
            error=f"{type(error).__name__}: {error}",
        )
        return _environment(None).get_template(name.value).render(context)


def render(
    record: dict[str, Any],
    event: dict[str, Any] | None,
    *,
    ack_url: str | None,
    clock_url: str | None,
    templates_dir: Path | None = None,
    style: Style = Style.EMAIL,
    zone: str | None = None,
) -> tuple[str, str, str | None]:
    """Subject, text and HTML of a notification (HTML is ``None`` for :attr:`Style.CHAT`);
    instants are shown in UTC and, with ``zone``, in that zone's local time too."""
    context = view(record, event, ack_url=ack_url, clock_url=clock_url, zone=zone)
    subject = _render_one(TemplateName.EMAIL_SUBJECT, context, templates_dir)
    subject = _SPACES.sub(" ", subject).strip()
    if style is Style.CHAT:
        text = _render_one(TemplateName.CHAT_TEXT, context, templates_dir).strip() + "\n"
        return subject, text, None
    text = _render_one(TemplateName.EMAIL_TEXT, context, templates_dir).strip() + "\n"
    html = _render_one(TemplateName.EMAIL_HTML, context, templates_dir)
    return subject, text, html


def compose(
    record: dict[str, Any],
    event: dict[str, Any] | None,
    *,
    channel_type: str,
    ack_url: str | None,
    clock_url: str | None,
    templates_dir: Path | None = None,
    zone: str | None = None,
) -> Message:
    """The :class:`Message` of a notification record for a channel of ``channel_type``."""
    subject, text, html = render(
        record,
        event,
        ack_url=ack_url,
        clock_url=clock_url,
        templates_dir=templates_dir,
        style=Style.of(channel_type),
        zone=zone,
    )
    return Message(
        notification_id=str(record.get("id") or ""),
        channel=str(record.get("channel") or ""),
        recipient=str(record.get("recipient") or ""),
        subject=subject,
        text=text,
        html=html,
        record=record,
        event=event,
        ack_url=ack_url,
    )


def check_templates(templates_dir: Path | None) -> None:
    """Compile every template (the user's where given); raise ConfigurationError if one fails."""
    if templates_dir is not None and not templates_dir.is_dir():
        raise ConfigurationError(f"the templates directory {templates_dir} does not exist")
    env = _new_environment(templates_dir)
    problems = []
    for name in TemplateName:
        try:
            env.get_template(name.value)
        except jinja2.TemplateSyntaxError as error:
            problems.append(f"  - {error.filename or name.value}:{error.lineno}: {error.message}")
    if problems:
        raise ConfigurationError("templates do not compile:\n" + "\n".join(problems))


def local_zone(catalog: Catalog, event: Mapping[str, Any] | None) -> str | None:
    """The time zone people read an SLA event's times in: its calendar's (a ticket
    target), or its objective's (availability); ``None`` when unknown."""
    if not event:
        return None
    try:
        version = catalog.by_number(int(event["definitions_version"]))
    except (KeyError, TypeError, ValueError):
        return None
    definitions = version.definitions
    if event.get("target") == "availability":
        for objective in definitions.availability:
            if objective.id == event.get("sla"):
                return objective.timezone
        return None
    calendar = definitions.calendars.get(str(event.get("calendar")))
    return calendar.timezone if calendar is not None else None
